package threshold_test

import (
	"fmt"

	"github.com/fuka-load/fuka/threshold"
)

func Example() {
	// A runner supplies its own Values (here a fixed table); a finished run
	// uses threshold.SummaryValues(summary, checks) instead.
	results := map[string]map[string]float64{
		"":         {threshold.P99: 212.4, threshold.ErrorRate: 0.032, threshold.RPS: 640},
		"checkout": {threshold.P95: 480},
	}
	values := threshold.ValuesFunc(func(scope, metric string) (float64, bool) {
		v, ok := results[scope][metric]
		return v, ok
	})

	var exprs []*threshold.Expr
	for _, s := range []string{"p99 < 300ms", "error_rate < 1%", "rps > 500", "checkout.p95 < 0.5s", "cart.p95 < 500ms"} {
		e, err := threshold.Parse(s)
		if err != nil {
			fmt.Println(err)
			return
		}
		exprs = append(exprs, e)
	}
	rs, ok := threshold.EvalAll(exprs, values)
	for _, r := range rs {
		fmt.Println(r)
	}
	fmt.Println("all pass:", ok)
	// Output:
	// ✓ p99 < 300ms (actual 212.4ms)
	// ✗ error_rate < 1% (actual 3.20%)
	// ✓ rps > 500 (actual 640.0)
	// ✓ checkout.p95 < 0.5s (actual 0.480s)
	// ✗ cart.p95 < 500ms (no p95 data for cart)
	// all pass: false
}

func ExampleParse() {
	e, err := threshold.Parse(`"list products".p99.9 < 1.5s`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s | scope %q metric %s value %vms\n", e, e.Scope, e.Metric, e.Value)

	// Errors carry a byte offset, for callers that know where the text is.
	_, err = threshold.Parse("p99 < 300")
	if pe, ok := err.(*threshold.Error); ok {
		fmt.Printf("offset %d: %s\n", pe.Offset, pe.Msg)
	}
	// Output:
	// "list products".p999 < 1.5s | scope "list products" metric p999 value 1500ms
	// offset 6: give a unit, e.g. 300ms
}
