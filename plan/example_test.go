package plan_test

import (
	"fmt"

	"github.com/fuka-load/fuka/plan"
)

func ExampleParse() {
	src := []byte(`base_url: http://127.0.0.1:8080
scenarios:
  browse:
    steps:
      - get: /api/products?page={{ randInt 1 100 }}
        check: { status: 200, max_latency: 300ms }
      - think: 1s..3s
load: { clients: 10, ramp_up: 5s, duration: 1m }
thresholds: ["p99 < 300ms"]
`)
	p, err := plan.Parse("browse.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	st := p.Scenarios[0].Steps[0]
	fmt.Println(p.Name, st.Name)
	for _, c := range st.Checks {
		fmt.Println(" check:", c.Name)
	}
	fmt.Println(" think:", p.Scenarios[0].Steps[1].Think.Min, "to", p.Scenarios[0].Steps[1].Think.Max)
	fmt.Println(" load:", p.Load.Clients, "clients for", p.Load.Duration)
	// Output:
	// browse GET /api/products?page={{ randInt 1 100 }}
	//  check: status is 200
	//  check: max_latency 300ms
	//  think: 1s to 3s
	//  load: 10 clients for 1m0s
}

// Every problem in a plan is reported at once, each at its place in the file.
func ExampleParse_errors() {
	src := []byte(`base_url: localhost:8080
scenarios:
  browse:
    steps:
      - get: /
        hedaers: { Accept: text/html }
      - think: 3s..1s
load: { clients: 10, duration: 5 }
`)
	_, err := plan.Parse("browse.yaml", src)
	fmt.Println(err)
	// Output:
	// browse.yaml:1:11: base_url: bad URL "localhost:8080": want an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080
	// browse.yaml:6:9: unknown key "hedaers" in request step; want one of: name, headers, query, json, form, body, body_file, timeout, extract, check, abort_on_fail, retries, retry_non_idempotent, multipart, follow_redirects, on_failure
	// browse.yaml:7:16: think: bad think time "3s..1s": min 3s is more than max 1s
	// browse.yaml:8:32: duration: bad duration "5": want e.g. 500ms, 10s, 1m
}
