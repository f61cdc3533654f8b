package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// VMStat samples swapping from /proc/vmstat: swap.in_pages_per_s and
// swap.out_pages_per_s (pswpin, pswpout). Swapping under load is the sign
// that memory, not CPU, is the limit. The first sample has no values.
type VMStat struct {
	root string
	prev procCounters
}

var _ Sampler = (*VMStat)(nil)

// NewVMStat returns a VMStat sampler reading procfs at root.
func NewVMStat(root string) *VMStat { return &VMStat{root: procRoot(root)} }

// Name implements Sampler.
func (*VMStat) Name() string { return "vmstat" }

// Sample implements Sampler.
func (v *VMStat) Sample(context.Context) ([]Value, error) {
	b, err := readProc(v.root, "vmstat")
	if err != nil {
		return nil, err
	}
	in, out, err := parseVMStat(b)
	if err != nil {
		return nil, err
	}
	cur := procCounters{at: time.Now(), byID: map[string][]uint64{"": {in, out}}}
	rate, ok := perSecond(v.prev, cur, 2)
	v.prev = cur
	var vals []Value
	for i, name := range []string{"swap.in_pages_per_s", "swap.out_pages_per_s"} {
		if ok[i] {
			vals = append(vals, Value{name, rate[i]})
		}
	}
	return vals, nil
}

func parseVMStat(b []byte) (in, out uint64, err error) {
	var seen int
	procLines(b, func(f [][]byte) {
		if err != nil || len(f) < 2 {
			return
		}
		var dst *uint64
		switch string(f[0]) {
		case "pswpin":
			dst = &in
		case "pswpout":
			dst = &out
		default:
			return
		}
		if *dst, err = parseUint(f[1]); err != nil {
			err = fmt.Errorf("/proc/vmstat: %s: %w", f[0], err)
		}
		seen++
	})
	if err == nil && seen < 2 {
		err = errors.New("/proc/vmstat: no pswpin/pswpout")
	}
	return in, out, err
}
