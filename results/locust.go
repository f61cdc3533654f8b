package results

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/report"
)

// Locust (--csv PREFIX) writes PREFIX_stats.csv, one row per request name
// and an "Aggregated" row, with the run's counts and its percentiles in
// milliseconds; and PREFIX_stats_history.csv, a row every few seconds with
// the running totals (and, with --csv-full-history, a row per name too).

const locustAggregated = "Aggregated"

// csvTable reads a CSV file with a header line into rows keyed by column.
type csvTable struct {
	r    *csv.Reader
	col  map[string]int
	line int
}

func newCSVTable(r io.Reader, need ...string) (*csvTable, error) {
	cr := csv.NewReader(limitLines(r))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", csvErr(err))
	}
	t := &csvTable{r: cr, col: map[string]int{}, line: 1}
	for i, h := range head {
		t.col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	for _, n := range need {
		if _, ok := t.col[n]; !ok {
			return nil, fmt.Errorf("%w: the header has no %q column", ErrFormat, n)
		}
	}
	return t, nil
}

// next returns the next row, or nil at the end.
func (t *csvTable) next() (map[string]string, error) {
	for {
		rec, err := t.r.Read()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, csvErr(err)
		}
		t.line++
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		row := make(map[string]string, len(t.col))
		for name, i := range t.col {
			if i < len(rec) {
				row[name] = strings.TrimSpace(rec[i])
			}
		}
		return row, nil
	}
}

// locustNum reads a number; "N/A" and "" (Locust's no value) are NaN.
func locustNum(row map[string]string, col string) (float64, error) {
	s := row[col]
	if s == "" || s == "N/A" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%s %q: not a number", col, clipStr(s))
	}
	return v, nil
}

func locustCount(row map[string]string, col string) (int64, error) {
	v, err := strconv.ParseInt(row[col], 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s %q: not a count", col, clipStr(row[col]))
	}
	return v, nil
}

// locustLatency reads a row's latency figures in given's order.
func locustLatency(row map[string]string, cols [8]string) ([8]float64, error) {
	var lat [8]float64
	for i, c := range cols {
		var err error
		if lat[i], err = locustNum(row, c); err != nil {
			return lat, err
		}
	}
	return lat, nil
}

var locustStatsCols = [8]string{"Min Response Time", "Average Response Time", "Median Response Time", "90%", "95%", "99%", "99.9%", "Max Response Time"}

func parseLocustStats(r io.Reader) (*report.Summary, error) {
	t, err := newCSVTable(r, "Name", "Request Count", "Failure Count", "Requests/s")
	if err != nil {
		return nil, err
	}
	g := newGiven()
	g.noStatus, g.noErrors, g.noBytesOut = true, true, true
	var names []report.NameSummary
	var total bool
	for {
		row, err := t.next()
		if err != nil {
			return nil, err
		}
		if row == nil {
			break
		}
		ns, lat, rps, err := locustRow(row)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", t.line, err)
		}
		if row["Name"] == locustAggregated && row["Type"] == "" {
			g.requests, g.failed, g.latency = ns.Requests, ns.Failed, lat
			if rps > 0 {
				g.durationS = float64(ns.Requests) / rps
			}
			if size, err := locustNum(row, "Average Content Size"); err == nil && !math.IsNaN(size) {
				g.bytesIn = int64(math.Round(size * float64(ns.Requests)))
			}
			total = true
			continue
		}
		if len(names) < maxNames {
			names = append(names, ns)
		}
	}
	if !total {
		return nil, errors.New(`no "Aggregated" row: not Locust's _stats.csv, or Locust did not finish`)
	}
	sum := g.summary(importedAs("Locust", report.PercentilesGiven, nil, closedNote("Locust"), givenNote("Locust")+
		"; Locust rounds response times above 100 ms to two significant digits before it counts them",
		"Locust rewrites _stats.csv once a second, not at the end: the requests of the last second may be missing (its console summary has them)",
		"Locust's run time is not in _stats.csv: it is the requests over Locust's requests per second; "+
			"bytes received count the bodies only (Average Content Size)"))
	sum.ByName = names
	return sum, nil
}

// locustRow reads one name's row of _stats.csv.
func locustRow(row map[string]string) (report.NameSummary, [8]float64, float64, error) {
	var ns report.NameSummary
	var err error
	ns.Name = row["Name"]
	if ns.Requests, err = locustCount(row, "Request Count"); err != nil {
		return ns, [8]float64{}, 0, err
	}
	if ns.Failed, err = locustCount(row, "Failure Count"); err != nil {
		return ns, [8]float64{}, 0, err
	}
	rps, err := locustNum(row, "Requests/s")
	if err != nil {
		return ns, [8]float64{}, 0, err
	}
	lat, err := locustLatency(row, locustStatsCols)
	if err != nil {
		return ns, lat, 0, err
	}
	if !math.IsNaN(rps) {
		ns.RPS = round3(rps)
	}
	v := func(f float64) float64 {
		if math.IsNaN(f) {
			return 0
		}
		return ms(f)
	}
	ns.Latency = report.Latency{MinMS: v(lat[0]), MeanMS: v(lat[1]), P50MS: v(lat[2]), P90MS: v(lat[3]), P95MS: v(lat[4]), P99MS: v(lat[5]), P999MS: v(lat[6]), MaxMS: v(lat[7])}
	ns.Status = map[string]int64{}
	return ns, lat, rps, nil
}

// parseLocustHistory reads _stats_history.csv: the timeline from the
// Aggregated rows (requests and failures are the differences of the
// running totals), the run's totals from the last one. Its percentiles
// are of the last seconds with --csv-full-history (then they go on the
// timeline), of the whole run so far without it (then the last row's are
// the run's).
func parseLocustHistory(r io.Reader) (*report.Summary, error) {
	t, err := newCSVTable(r, "Timestamp", "Name", "Total Request Count", "Total Failure Count")
	if err != nil {
		return nil, err
	}
	var pts []locustPoint
	fullHistory := false
	for {
		row, err := t.next()
		if err != nil {
			return nil, err
		}
		if row == nil {
			break
		}
		if row["Name"] != locustAggregated {
			fullHistory = true
			continue
		}
		p, err := locustHistoryRow(row)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", t.line, err)
		}
		if len(pts) > 0 && p.ts.Before(pts[len(pts)-1].ts) {
			return nil, fmt.Errorf("line %d: Timestamp goes back in time", t.line)
		}
		if len(pts) >= maxSeconds {
			return nil, fmt.Errorf("line %d: more than %d rows", t.line, maxSeconds)
		}
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return nil, errors.New(`no "Aggregated" rows: not Locust's _stats_history.csv`)
	}
	last := pts[len(pts)-1]
	g := newGiven()
	g.noStatus, g.noErrors, g.noBytesIn, g.noBytesOut = true, true, true, true
	g.requests, g.failed, g.started = last.requests, last.failed, pts[0].ts
	g.durationS = last.ts.Sub(pts[0].ts).Seconds()
	g.clients = 0
	g.latency = last.totalLat // min, mean, median, max of the whole run
	if !fullHistory {
		g.latency[3], g.latency[4], g.latency[5], g.latency[6] = last.lat[3], last.lat[4], last.lat[5], last.lat[6]
	}
	for _, p := range pts {
		g.clients = max(g.clients, p.users)
	}
	im := importedAs("Locust", report.PercentilesGiven, nil, closedNote("Locust"), givenNote("Locust"),
		"Locust's history has a row every few seconds, not a request each: the timeline's points are its rows")
	sum := g.summary(im)
	im.NotMeasured = deleteKey(im.NotMeasured, "timeline")
	prev := pts[0]
	for _, p := range pts[1:] {
		span := p.ts.Sub(prev.ts).Seconds()
		iv := report.Interval{TS: p.ts.Sub(pts[0].ts).Seconds(), SpanS: span, Clients: p.users,
			Requests: max(p.requests-prev.requests, 0), Failed: max(p.failed-prev.failed, 0)}
		iv.RPS = round3(ratio(float64(iv.Requests), span))
		if fullHistory && iv.Requests > 0 {
			iv.P50MS, iv.P90MS, iv.P95MS, iv.P99MS, iv.MaxMS = ptr(p.lat[2]), ptr(p.lat[3]), ptr(p.lat[4]), ptr(p.lat[5]), ptr(p.lat[7])
		}
		sum.Timeline = append(sum.Timeline, iv)
		prev = p
	}
	return sum, nil
}

type locustPoint struct {
	ts               time.Time
	requests, failed int64
	lat              [8]float64
	users            int
	totalLat         [8]float64
}

// The history's percentile columns (min and mean are not among them).
var locustHistoryCols = [8]string{"", "", "50%", "90%", "95%", "99%", "99.9%", "100%"}
var locustHistoryTotalCols = [8]string{"Total Min Response Time", "Total Average Response Time", "Total Median Response Time", "", "", "", "", "Total Max Response Time"}

func locustHistoryRow(row map[string]string) (locustPoint, error) {
	var p locustPoint
	sec, err := strconv.ParseInt(row["Timestamp"], 10, 64)
	if err != nil || sec < 0 || sec > 1<<40 {
		return p, fmt.Errorf("column Timestamp %q: want Unix seconds", clipStr(row["Timestamp"]))
	}
	p.ts = time.Unix(sec, 0)
	if p.requests, err = locustCount(row, "Total Request Count"); err != nil {
		return p, err
	}
	if p.failed, err = locustCount(row, "Total Failure Count"); err != nil {
		return p, err
	}
	if u, err := strconv.Atoi(row["User Count"]); err == nil && u >= 0 {
		p.users = u
	}
	if p.lat, err = locustLatency(row, locustHistoryCols); err != nil {
		return p, err
	}
	if p.totalLat, err = locustLatency(row, locustHistoryTotalCols); err != nil {
		return p, err
	}
	return p, nil
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	m := ms(v)
	return &m
}

func deleteKey(keys []string, key string) []string {
	out := keys[:0]
	for _, k := range keys {
		if k != key {
			out = append(out, k)
		}
	}
	return out
}
