package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/fuka-load/fuka/load"
)

// DefaultMaxClients caps the clients of an open-model load that does not
// set one: a plan's without max_clients, fuka run --rate on a closed plan,
// fuka attack --rate and fuka capacity without --max-clients (run.MaxClients
// applies it, the one place). It is a ceiling the load should seldom reach,
// not a need: a start that finds every client busy is dropped, so a low cap
// turns a slow target into drops (1,000 clients at 5,000/s are used up by
// 200 ms of latency). 10,000 connections fit the open-file limit Go raises
// to on most machines, and about 320 MiB at the least with plans; where
// they do not, a default (never a number the user wrote) is lowered to what
// the machine allows, with a note (run.CapDefault).
const DefaultMaxClients = 10000

var (
	closedKeys = []string{"clients", "ramp_up", "iterations", "max_rps"}
	openKeys   = []string{"rate", "max_clients"}
	loadKeys   = []string{"clients", "ramp_up", "duration", "iterations", "max_rps", "rate", "max_clients"}
	stageKeys  = []string{"target", "over"}
)

// load reads a load shape. It returns a Load whenever the key is there,
// even a broken one, so that a bad load is not also reported as missing.
//
// A constant rate (`rate: 50` with `duration: 1m`) becomes the stages
// {50, 0s} {50, 1m}: a jump to 50/s, then 50/s for a minute. In the open
// model the stages alone set the length, so Load.Duration stays 0.
func (ps *parser) load(key string, n *yaml.Node) *Load {
	l := &Load{Pos: ps.pos(n)}
	es, ok := ps.mapping(n, key)
	if !ok {
		return l
	}
	var closed, open *entry // the first key of each model
	var duration, rate *entry
	var badIterations, badDuration bool
	for i, e := range es {
		switch {
		case closed == nil && slices.Contains(closedKeys, e.Key):
			closed = &es[i]
		case open == nil && slices.Contains(openKeys, e.Key):
			open = &es[i]
		}
		switch e.Key {
		case "clients":
			if c, ok := ps.integer("clients", e.V); ok {
				if c < 1 {
					ps.errorf(e.V, "clients: must be at least 1, got %d", c)
				}
				l.Clients = c
			}
		case "ramp_up":
			l.RampUp, _ = ps.duration("ramp_up", e.V)
		case "duration":
			duration = &es[i]
			l.Duration, ok = ps.positive("duration", e.V)
			badDuration = !ok
		case "iterations":
			it, ok := ps.integer("iterations", e.V)
			if ok && it < 0 {
				ps.errorf(e.V, "iterations: must not be negative, got %d", it)
				ok = false
			}
			l.Iterations, badIterations = it, !ok
		case "max_rps":
			if r, ok := ps.number("max_rps", e.V); ok {
				if r <= 0 {
					ps.errorf(e.V, "max_rps: must be more than 0, got %v", r)
				}
				l.MaxRPS = r
			}
		case "rate":
			rate = &es[i]
		case "max_clients":
			if c, ok := ps.integer("max_clients", e.V); ok {
				if c < 1 {
					ps.errorf(e.V, "max_clients: must be at least 1, got %d", c)
				}
				l.MaxClients = c
			}
		default:
			ps.unknown(e, key, loadKeys)
		}
	}
	switch {
	case closed != nil && open != nil:
		first, second := closed, open
		if open.K.Line < closed.K.Line || open.K.Line == closed.K.Line && open.K.Column < closed.K.Column {
			first, second = open, closed
		}
		ps.errorf(second.K, "%s: %q and %q are both set; a load is closed (clients, ramp_up, duration, iterations, max_rps) or open (rate, duration, max_clients), not both",
			key, first.Key, second.Key)
	case open != nil:
		if rate == nil {
			ps.errorf(n, "%s: max_clients needs rate (the open model)", key)
			break
		}
		l.Rate = ps.rate(rate.V, duration, badDuration)
		l.Duration = 0
	case closed != nil:
		if l.Clients == 0 && !slices.ContainsFunc(es, func(e entry) bool { return e.Key == "clients" }) {
			ps.errorf(n, "%s: %s needs clients (the closed model)", key, closed.Key)
		}
		if l.Duration == 0 && l.Iterations == 0 && !badDuration && !badIterations {
			ps.errorf(n, "%s: the closed model needs duration or iterations (per client) to end", key)
		}
		if l.Duration > 0 && l.RampUp > l.Duration {
			i := slices.IndexFunc(es, func(e entry) bool { return e.Key == "ramp_up" })
			ps.errorf(es[i].V, "ramp_up: %s is longer than duration %s", es[i].V.Value, duration.V.Value)
		}
	default:
		ps.errorf(n, "%s: want clients (closed model) or rate (open model)", key)
	}
	return l
}

// rate reads `rate: N` (constant; needs duration) or a list of stages.
func (ps *parser) rate(n *yaml.Node, duration *entry, badDuration bool) []RateStage {
	if n.Kind == yaml.ScalarNode {
		r, ok := ps.number("rate", n)
		switch {
		case !ok:
			return nil
		case r <= 0:
			ps.errorf(n, "rate: must be more than 0, got %v", r)
			return nil
		case duration == nil:
			ps.errorf(n, "rate: a constant rate needs duration (or give stages: [{target: %v, over: 1m}])", r)
			return nil
		case badDuration:
			return nil
		}
		d, _ := parseDuration(duration.V.Value)
		stages := []RateStage{{Target: r, Over: 0}, {Target: r, Over: d}}
		if err := checkRate(stages); err != nil {
			ps.errorf(n, "rate: %v", err)
		}
		return stages
	}
	if duration != nil {
		ps.errorf(duration.K, "duration: not used with rate stages; the stages' over durations set the length")
	}
	items, ok := ps.list(n, "rate")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		ps.errorf(n, "rate: want a number or at least one stage {target: N, over: DURATION}")
		return nil
	}
	stages := make([]RateStage, 0, len(items))
	var total time.Duration
	good := true
	for _, it := range items {
		es, ok := ps.mapping(it, "rate stage")
		if !ok {
			good = false
			continue
		}
		var st RateStage
		var sawTarget, sawOver bool
		for _, e := range es {
			switch e.Key {
			case "target":
				sawTarget = true
				t, ok := ps.number("target", e.V)
				if ok && t < 0 {
					ps.errorf(e.V, "target: must not be negative, got %v", t)
					ok = false
				}
				st.Target, good = t, good && ok
			case "over":
				sawOver = true
				d, ok := ps.duration("over", e.V)
				st.Over, good = d, good && ok
			default:
				ps.unknown(e, "rate stage", stageKeys)
			}
		}
		switch {
		case !sawTarget:
			ps.errorf(it, "rate stage: missing target (starts per second)")
			good = false
		case !sawOver:
			ps.errorf(it, "rate stage: missing over (how long the ramp to target takes)")
			good = false
		}
		if st.Over > math.MaxInt64-total {
			ps.errorf(it, "rate: the stages last too long in total")
			return stages
		}
		total += st.Over
		stages = append(stages, st)
	}
	if good && total == 0 {
		ps.errorf(n, "rate: the stages last 0s in total; want some over > 0")
		return stages
	}
	if good {
		if err := checkRate(stages); err != nil {
			ps.errorf(n, "rate: %v", err)
		}
	}
	return stages
}

// checkRate applies the rules a rate must pass to run (those of
// load.NewRate), so that what validates also runs, and refuses a load that
// starts nothing: every target 0 would run for its length, send nothing
// and pass, which in CI reads as a good result. It assumes stages that
// parsed: targets finite and not negative, durations not negative.
func checkRate(stages []RateStage) error {
	var total time.Duration
	prev, n := 0.0, 0.0
	for _, s := range stages {
		total += s.Over
		n += (prev + s.Target) / 2 * s.Over.Seconds()
		prev = s.Target
	}
	if !(n <= 1<<53) { // +Inf included
		return errors.New("the stages start more iterations than fuka can count (2^53, about 9e15); want a lower rate or a shorter load")
	}
	r, err := NewRate(stages)
	switch {
	case err != nil:
		return err
	case r.Total() == 0:
		return fmt.Errorf("the stages start no iteration in their %v (the rate is 0 throughout); want a target above 0 over some time", total)
	}
	return nil
}

// NewRate is the rate of the stages, from 0: the one conversion of a plan's
// rate stages to the load's.
func NewRate(stages []RateStage) (load.Rate, error) {
	ls := make([]load.Stage, len(stages))
	for i, s := range stages {
		ls[i] = load.Stage{Target: s.Target, Over: s.Over}
	}
	return load.NewRate(0, ls)
}
