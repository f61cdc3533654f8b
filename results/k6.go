package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/fuka-load/fuka/report"
)

// k6's closed-model note differs: its arrival-rate executors are an open
// model, but a late start is dropped and counted apart, and each latency
// starts at the actual send.
const k6Note = "k6 measures each latency from the actual send: with its VU executors (a closed model) the waiting a slow " +
	"service causes is not in the latencies (coordinated omission); its arrival-rate executors count late starts as dropped_iterations instead"

// k6SummaryJSON is what k6 run --summary-export writes: every metric's
// aggregates by name, and the root group's checks (an object keyed by
// name in recent versions, an array in older ones).
type k6SummaryJSON struct {
	Metrics   map[string]map[string]json.RawMessage `json:"metrics"`
	RootGroup *struct {
		Checks json.RawMessage `json:"checks"`
	} `json:"root_group"`
}

type k6Check struct {
	Name   string `json:"name"`
	Passes int64  `json:"passes"`
	Fails  int64  `json:"fails"`
}

func parseK6Summary(r io.Reader) (*report.Summary, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	var k k6SummaryJSON
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("not k6's --summary-export JSON: %w", err)
	}
	num := func(metric, field string) (float64, bool) {
		raw, ok := k.Metrics[metric][field]
		if !ok {
			return math.NaN(), false
		}
		var v float64
		if json.Unmarshal(raw, &v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN(), false
		}
		return v, true
	}
	count, ok := num("http_reqs", "count")
	if !ok || count < 0 || count > 1e15 {
		return nil, errors.New(`no "metrics"."http_reqs"."count": not k6's --summary-export JSON`)
	}
	g := newGiven()
	g.noStatus, g.noErrors = true, true
	g.requests = int64(count)
	if rate, ok := num("http_reqs", "rate"); ok && rate > 0 {
		g.durationS = count / rate
	}
	// http_req_failed is a rate metric: its "passes" are the requests
	// for which it was true, the failed ones.
	if f, ok := num("http_req_failed", "passes"); ok && f >= 0 && f <= count {
		g.failed = int64(f)
	} else if v, ok := num("http_req_failed", "value"); ok && v >= 0 && v <= 1 {
		g.failed = int64(math.Round(v * count))
	}
	if v, ok := num("data_received", "count"); ok && v >= 0 && v < 1e18 {
		g.bytesIn = int64(v)
	} else {
		g.noBytesIn = true
	}
	if v, ok := num("data_sent", "count"); ok && v >= 0 && v < 1e18 {
		g.bytesOut = int64(v)
	} else {
		g.noBytesOut = true
	}
	if v, ok := num("vus_max", "max"); ok && v >= 0 && v < 1e9 {
		g.clients = int(v)
	} else if v, ok := num("vus_max", "value"); ok && v >= 0 && v < 1e9 {
		g.clients = int(v)
	}
	for i, field := range []string{"min", "avg", "med", "p(90)", "p(95)", "p(99)", "p(99.9)", "max"} {
		if v, ok := num("http_req_duration", field); ok {
			g.latency[i] = v
		}
	}
	sum := g.summary(importedAs("k6", report.PercentilesGiven, nil, k6Note, givenNote("k6")+
		"; which ones it exported follows its summaryTrendStats (by default no p99)"))
	if k.RootGroup != nil && len(k.RootGroup.Checks) > 0 {
		checks, err := k6Checks(k.RootGroup.Checks)
		if err != nil {
			return nil, fmt.Errorf("root_group.checks: %w", err)
		}
		sum.Checks = checks
	}
	return sum, nil
}

// k6Checks reads the root group's checks, as an object or an array.
func k6Checks(raw json.RawMessage) ([]report.CheckSummary, error) {
	var list []k6Check
	if err := json.Unmarshal(raw, &list); err != nil {
		var byName map[string]k6Check
		if err := json.Unmarshal(raw, &byName); err != nil {
			return nil, err
		}
		for name, c := range byName {
			if c.Name == "" {
				c.Name = name
			}
			list = append(list, c)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	out := make([]report.CheckSummary, 0, len(list))
	for _, c := range list {
		if c.Passes < 0 || c.Fails < 0 {
			return nil, fmt.Errorf("check %q: negative count", clipStr(c.Name))
		}
		out = append(out, report.CheckSummary{Name: c.Name, Passes: c.Passes, Fails: c.Fails})
	}
	return out, nil
}

// k6Line is one line of k6 run --out json.
type k6Line struct {
	Type   string `json:"type"`
	Metric string `json:"metric"`
	Data   struct {
		Time  time.Time         `json:"time"`
		Value float64           `json:"value"`
		Tags  map[string]string `json:"tags"`
	} `json:"data"`
}

// parseK6JSON records every http_req_duration point as a request (its time
// is when k6 collected it, at the response's end), named by its name tag;
// checks points count as fuka's checks, data_received and data_sent as
// the run's bytes.
func parseK6JSON(r io.Reader) (*report.Summary, error) {
	s := newSamples()
	checks := map[string]*report.CheckSummary{}
	var checkOrder []string
	var in, out float64
	var sawBytes bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var n int
	for n = 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l k6Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if l.Type != "Point" {
			if l.Type != "Metric" {
				return nil, fmt.Errorf("line %d: type %q: want Metric or Point (not k6's --out json)", n, clipStr(l.Type))
			}
			continue
		}
		v := l.Data.Value
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("line %d: %s value %v: not a measurement", n, clipStr(l.Metric), v)
		}
		switch l.Metric {
		case "http_req_duration":
			if l.Data.Time.IsZero() {
				return nil, fmt.Errorf("line %d: a point without a time", n)
			}
			lat := time.Duration(v * float64(time.Millisecond))
			x := sample{name: l.Data.Tags["name"], start: l.Data.Time.Add(-lat), latency: lat}
			if x.name == "" {
				x.name = l.Data.Tags["url"]
			}
			x.status, _ = strconv.Atoi(l.Data.Tags["status"])
			if x.status == 0 {
				x.err = goError(l.Data.Tags["error"])
			}
			s.add(x)
		case "checks":
			name := l.Data.Tags["check"]
			c, ok := checks[name]
			if !ok {
				if len(checks) >= maxNames {
					continue
				}
				c = &report.CheckSummary{Name: name}
				checks[name] = c
				checkOrder = append(checkOrder, name)
			}
			if v != 0 {
				c.Passes++
			} else {
				c.Fails++
			}
		case "data_received":
			in, sawBytes = in+v, true
		case "data_sent":
			out, sawBytes = out+v, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, lineErr(err)
	}
	if s.total.Requests == 0 {
		return nil, errors.New("no http_req_duration points: not k6's --out json, or no HTTP requests were made")
	}
	notMeasured := []string{"service_time"}
	if !sawBytes {
		notMeasured = append(notMeasured, "bytes_in", "bytes_out")
	}
	sum := s.summary(importedAs("k6", report.PercentilesRecomputed, notMeasured, k6Note,
		"k6's per-request bytes are not in its points: bytes are the run's data_received and data_sent, not by name or second"))
	sum.BytesIn, sum.BytesOut = int64(min(in, 1<<62)), int64(min(out, 1<<62))
	if sum.DurationS > 0 {
		sum.ThroughputBPS = round3(float64(sum.BytesIn) / sum.DurationS)
	}
	for _, name := range checkOrder {
		sum.Checks = append(sum.Checks, *checks[name])
	}
	return sum, nil
}
