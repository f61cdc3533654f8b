package load

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseRate parses the CLI syntax of --rate:
//
//	"5000"              constant 5000/s for the whole d (d must be > 0 then)
//	"5000/s", "300/m"   any target may end in a unit: /s (the default) or /m (per minute)
//	"100:1m,5000:2m"    stages: ramp from 0 to 100 over 1m, then to 5000 over 2m (d ignored; total 3m)
//	"100:0s,100:30s"    a zero-duration first stage jumps straight to 100
//
// Durations use time.ParseDuration syntax; spaces around pieces are ignored.
// Errors name the offending piece, e.g. `rate "100:xx": bad duration "xx"`,
// and, when there are several stages, which one: `rate "100:1m,5:xx": stage
// 2: bad duration "xx"`.
func ParseRate(s string, d time.Duration) (Rate, error) {
	src := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Rate{}, fmt.Errorf("rate %q: empty", src)
	}
	if !strings.ContainsAny(s, ":,") {
		target, err := parseTarget(s)
		if err != nil {
			return Rate{}, fmt.Errorf("rate %q: %w", src, err)
		}
		if d <= 0 {
			return Rate{}, fmt.Errorf("rate %q: a constant rate needs a duration > 0, got %v", src, d)
		}
		r, err := NewRate(target, []Stage{{Target: target, Over: d}})
		if err != nil {
			return Rate{}, fmt.Errorf("rate %q: %w", src, err)
		}
		return r, nil
	}
	pieces := strings.Split(s, ",")
	stages := make([]Stage, len(pieces))
	for k, p := range pieces {
		st, err := parseStage(p)
		if err != nil {
			if len(pieces) > 1 {
				return Rate{}, fmt.Errorf("rate %q: stage %d: %w", src, k+1, err)
			}
			return Rate{}, fmt.Errorf("rate %q: %w", src, err)
		}
		stages[k] = st
	}
	r, err := NewRate(0, stages)
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: %w", src, err)
	}
	return r, nil
}

// parseStage parses "target:duration".
func parseStage(p string) (Stage, error) {
	p = strings.TrimSpace(p)
	target, over, ok := strings.Cut(p, ":")
	if !ok {
		return Stage{}, fmt.Errorf("bad stage %q: want target:duration", p)
	}
	t, err := parseTarget(strings.TrimSpace(target))
	if err != nil {
		return Stage{}, err
	}
	over = strings.TrimSpace(over)
	d, err := time.ParseDuration(over)
	if err != nil {
		return Stage{}, fmt.Errorf("bad duration %q", over)
	}
	if d < 0 {
		return Stage{}, fmt.Errorf("negative duration %q", over)
	}
	return Stage{Target: t, Over: d}, nil
}

// parseTarget parses a rate with an optional unit, "5000", "5000/s" or
// "300/m", and returns it in starts per second.
func parseTarget(s string) (float64, error) {
	num, unit, hasUnit := strings.Cut(s, "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("bad target %q", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("target %q is not finite", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("negative target %q", s)
	}
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			v /= 60
		default:
			return 0, fmt.Errorf("bad unit %q in target %q: want /s or /m", "/"+unit, s)
		}
	}
	return v, nil
}

// String renders the stages in the same syntax ParseRate accepts, with
// targets in starts per second; ParseRate(r.String(), 0) gives back the same
// profile. A non-zero start rate is rendered as a leading jump ("5000:0s,
// 5000:1m0s" for a constant 5000/s over 1m). The zero Rate renders as "".
func (r Rate) String() string {
	var b strings.Builder
	if r.start != 0 {
		b.WriteString(formatRate(r.start))
		b.WriteString(":0s")
	}
	for _, s := range r.stages {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(formatRate(s.Target))
		b.WriteByte(':')
		b.WriteString(s.Over.String())
	}
	return b.String()
}

// Start is the rate at offset 0, before the first stage: with StagesOnly,
// what NewRate was given: NewRate(r.Start(), r.StagesOnly()) is r.
func (r Rate) Start() float64 { return r.start }

// StagesOnly returns the stages as NewRate was given them, without the
// start rate Stages puts first.
func (r Rate) StagesOnly() []Stage { return slices.Clone(r.stages) }

// Stages returns the profile as stages from a start rate of 0, as String
// renders them: a non-zero start rate is a leading 0s jump to it.
// NewRate(0, r.Stages()) gives back the same profile.
func (r Rate) Stages() []Stage {
	var out []Stage
	if r.start != 0 {
		out = append(out, Stage{Target: r.start})
	}
	return append(out, r.stages...)
}

// formatRate renders v exactly (it parses back to the same float64), in
// plain decimals unless that would be very long.
func formatRate(v float64) string {
	if v == 0 {
		return "0" // and not "-0"
	}
	if v >= 1e-6 && v < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
