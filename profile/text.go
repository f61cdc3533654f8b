package profile

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/report"
)

// TopText renders profiles' top functions (at most n each; all when n ≤ 0)
// as a small text table for the summary, one block per profile: the
// program's own functions by cum value first, then the rest by flat value
// (see textOrder):
//
//	cpu http://127.0.0.1:6060 at 1m25s, total 9.81s: runs/cpu-127.0.0.1_6060-1.pb.gz
//	       flat  flat%        cum   cum%  function
//	      4.10s  41.8%      6.20s  63.2%  main.handleCheckout
//
// A failed capture is one line ending in its error.
func TopText(ps []Profile, n int) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s %s at %s", p.Kind, p.URL, p.Started.Round(time.Millisecond))
		if p.Err != "" {
			fmt.Fprintf(&b, ": error: %s\n", p.Err)
			continue
		}
		fmt.Fprintf(&b, ", total %s", value(p.Total, p.Unit))
		if p.File != "" {
			fmt.Fprintf(&b, ": %s", p.File)
		}
		b.WriteByte('\n')
		if len(p.Top) == 0 {
			b.WriteString("  (no samples)\n")
			continue
		}
		fmt.Fprintf(&b, "  %10s %6s %10s %6s  %s\n", "flat", "flat%", "cum", "cum%", "function")
		for _, f := range textOrder(p.Top, n) {
			fmt.Fprintf(&b, "  %10s %5.1f%% %10s %5.1f%%  %s\n",
				value(f.Flat, p.Unit), f.FlatPct, value(f.Cum, p.Unit), f.CumPct, f.Name)
		}
	}
	return b.String()
}

// textUser is how many of the program's own functions TopText shows first.
const textUser = 3

// textOrder picks the functions TopText shows (at most n; all when n ≤ 0):
// the program's own functions (report.UserCode) by cum value first, at most
// textUser of them, then the others by flat value, as the run's text
// summary does. top is in Top's order.
func textOrder(top []Func, n int) []Func {
	if n <= 0 || n > len(top) {
		n = len(top)
	}
	var user, rest []Func
	for _, f := range top {
		if report.UserCode(f.Name) {
			user = append(user, f)
		} else {
			rest = append(rest, f)
		}
	}
	slices.SortStableFunc(user, func(a, b Func) int { return cmp.Compare(b.Cum, a.Cum) })
	slices.SortStableFunc(rest, func(a, b Func) int { return cmp.Compare(b.Flat, a.Flat) })
	k := min(len(user), textUser, n)
	out := append(user[:k:k], rest[:min(len(rest), n-k)]...)
	// Fewer others than places: the rest of the program's own.
	return append(out, user[k:min(len(user), k+n-len(out))]...)
}

// value formats an amount in a profile's unit: "1.23s", "512ms", "64.0 MiB", "25".
func value(v float64, unit string) string {
	switch unit {
	case "seconds":
		return report.FormatMS(v * 1000) // as the HTML report shows it
	case "bytes":
		return report.FormatBytes(v)
	case "count", "":
		if v == math.Trunc(v) {
			return strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}
