package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// bombardier -o json prints {"spec": {...}, "result": {...}}; with -p i,r
// a "Bombarding ..." line comes first. Latencies are microseconds, and
// their percentiles are there only with -l (--latencies).
type bombardierJSON struct {
	Spec struct {
		Connections *int   `json:"numberOfConnections"`
		Method      string `json:"method"`
		URL         string `json:"url"`
	} `json:"spec"`
	Result *struct {
		BytesRead    int64   `json:"bytesRead"`
		BytesWritten int64   `json:"bytesWritten"`
		TimeTaken    float64 `json:"timeTakenSeconds"`
		Req1xx       int64   `json:"req1xx"`
		Req2xx       int64   `json:"req2xx"`
		Req3xx       int64   `json:"req3xx"`
		Req4xx       int64   `json:"req4xx"`
		Req5xx       int64   `json:"req5xx"`
		Others       int64   `json:"others"`
		Errors       []struct {
			Description string `json:"description"`
			Count       int64  `json:"count"`
		} `json:"errors"`
		Latency struct {
			Mean        float64            `json:"mean"`
			Max         float64            `json:"max"`
			Percentiles map[string]float64 `json:"percentiles"`
		} `json:"latency"`
	} `json:"result"`
}

func parseBombardier(r io.Reader) (*report.Summary, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	if i := bytes.IndexByte(data, '{'); i > 0 {
		data = data[i:] // -p i,r: the "Bombarding ..." line
	}
	var b bombardierJSON
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("not bombardier's JSON (-o json -p r): %w", err)
	}
	res := b.Result
	if res == nil || b.Spec.Connections == nil {
		return nil, errors.New(`no "spec" and "result": not bombardier's JSON (-o json -p r)`)
	}
	g := newGiven()
	g.target, g.method, g.clients = b.Spec.URL, b.Spec.Method, *b.Spec.Connections
	g.durationS, g.bytesIn, g.bytesOut = res.TimeTaken, res.BytesRead, res.BytesWritten
	// bombardier counts responses by class, not by code: the summary
	// keeps the classes under their first code (2xx as "200"), which says
	// which class, and notes it.
	for i, n := range []int64{res.Req1xx, res.Req2xx, res.Req3xx, res.Req4xx, res.Req5xx} {
		if n < 0 {
			return nil, fmt.Errorf("req%dxx %d: not a count", i+1, n)
		}
		if n > 0 {
			g.status[fmt.Sprint((i+1)*100)] = n
		}
		g.requests += n
		if i >= 3 {
			g.failed += n
		}
	}
	if res.Others < 0 {
		return nil, fmt.Errorf("others %d: not a count", res.Others)
	}
	if res.Others > 0 {
		g.status[report.StatusKey(0)] = res.Others
		g.requests += res.Others
		g.failed += res.Others
	}
	for _, e := range res.Errors {
		if e.Count < 0 {
			return nil, fmt.Errorf("errors: %q count %d: not a count", clipStr(e.Description), e.Count)
		}
		g.errors[goError(e.Description)] += e.Count
		g.requests += e.Count
		g.failed += e.Count
	}
	us := func(v float64) float64 { return v / 1000 }
	g.latency[1], g.latency[7] = us(res.Latency.Mean), us(res.Latency.Max)
	for k, i := range map[string]int{"50": 2, "90": 3, "95": 4, "99": 5, "99.9": 6} {
		if v, ok := res.Latency.Percentiles[k]; ok {
			g.latency[i] = us(v)
		}
	}
	notes := []string{closedNote("bombardier"), givenNote("bombardier"),
		"bombardier counts responses by class: status 200, 300, 400 and 500 here stand for 2xx, 3xx, 4xx and 5xx"}
	if len(res.Latency.Percentiles) == 0 {
		notes = append(notes, "bombardier was run without -l (--latencies): it reported no latency percentiles")
	}
	if math.IsNaN(g.durationS) {
		g.durationS = 0
	}
	sum := g.summary(importedAs("bombardier", report.PercentilesGiven, nil, notes...))
	if strings.TrimSpace(sum.Method) == "" {
		sum.Method = "GET"
	}
	oneRequest(sum)
	return sum, nil
}
