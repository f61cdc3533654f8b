package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// parseWrk reads wrk's text report:
//
//	Running 3s test @ http://127.0.0.1:8080/
//	  2 threads and 8 connections
//	  Thread Stats   Avg      Stdev     Max   +/- Stdev
//	    Latency     5.12ms   14.88ms 124.53ms   94.59%
//	  Latency Distribution            (with --latency)
//	     50%    1.31ms
//	  14474 requests in 3.09s, 1.92MB read
//	  Socket errors: connect 0, read 0, write 0, timeout 0
//	  Non-2xx or 3xx responses: 5
//
// wrk counts a request once its response is complete; connect, read and
// write errors are counted apart, and are added here to the requests as
// failures, as fuka counts them. wrk's timeouts are different: it counts
// one when a response completes later than --timeout (its latency is then
// left out of the percentiles), so they are among its requests already and
// only fail them. wrk2 counts a timeout for each connection still waiting
// at each 2 s check instead: not requests at all, added as before.
func parseWrk(r io.Reader) (*report.Summary, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	g := newGiven()
	g.noStatus, g.noBytesOut = true, true
	var sawRequests bool
	var non2xx int64
	var perSec float64 // wrk's Requests/sec, from its unrounded run time
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Running ") && strings.Contains(line, " test @ "):
			_, g.target, _ = strings.Cut(line, " test @ ")
			g.target = strings.TrimSpace(g.target)
		case len(f) == 5 && f[1] == "threads" && f[4] == "connections":
			g.clients, _ = strconv.Atoi(f[3])
		case len(f) >= 4 && f[0] == "Latency" && f[1] != "Distribution":
			if g.latency[1], err = wrkDuration(f[1]); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			if g.latency[7], err = wrkDuration(f[3]); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			v, err := wrkDuration(f[1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			switch f[0] {
			case "50%", "50.000%":
				g.latency[2] = v
			case "90%", "90.000%":
				g.latency[3] = v
			case "99%", "99.000%":
				g.latency[5] = v
			case "99.900%":
				g.latency[6] = v
			}
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			if g.requests, err = strconv.ParseInt(f[0], 10, 64); err != nil || g.requests < 0 {
				return nil, fmt.Errorf("line %d: requests %q: not a count", n, clipStr(f[0]))
			}
			d, err := wrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			g.durationS = d / 1000
			if g.bytesIn, err = wrkBytes(f[4]); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			sawRequests = true
		case len(f) == 2 && f[0] == "Requests/sec:":
			if perSec, err = strconv.ParseFloat(f[1], 64); err != nil || perSec < 0 || math.IsInf(perSec, 0) {
				return nil, fmt.Errorf("line %d: requests/sec %q: not a rate", n, clipStr(f[1]))
			}
		case strings.HasPrefix(line, "Socket errors:"):
			for _, kv := range strings.Split(strings.TrimPrefix(line, "Socket errors:"), ",") {
				kf := strings.Fields(kv)
				if len(kf) != 2 {
					continue
				}
				v, err := strconv.ParseInt(kf[1], 10, 64)
				if err != nil || v < 0 {
					return nil, fmt.Errorf("line %d: socket errors %q: not a count", n, clipStr(kv))
				}
				kind := map[string]metrics.ErrorKind{"connect": metrics.ErrRefused, "read": metrics.ErrReset, "write": metrics.ErrReset, "timeout": metrics.ErrTimeout}[kf[0]]
				if kind == metrics.ErrNone {
					kind = metrics.ErrOther
				}
				g.errors[kind] += v
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			non2xx, err = strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "Non-2xx or 3xx responses:")), 10, 64)
			if err != nil || non2xx < 0 {
				return nil, fmt.Errorf("line %d: non-2xx responses: not a count", n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !sawRequests {
		return nil, errors.New(`no "N requests in T" line: not wrk's output, or wrk did not finish`)
	}
	// "in 3.08s" is rounded (to 0.00s for a short run); wrk's
	// Requests/sec is its requests over the run time unrounded.
	if perSec > 0 && g.requests > 0 {
		g.durationS = float64(g.requests) / perSec
	}
	g.requests += g.errors.Total()
	wrk2 := !math.IsNaN(g.latency[6])
	if !wrk2 {
		g.requests -= g.errors[metrics.ErrTimeout]
	}
	g.failed = min(non2xx+g.errors.Total(), g.requests)
	notes := []string{closedNote("wrk"), givenNote("wrk") + "; bytes read are rounded as wrk prints them",
		"wrk's non-2xx/3xx responses count as failed without their status codes"}
	if wrk2 {
		notes[0] = "wrk2 (-R) corrects for coordinated omission: its latencies are measured from each request's intended start"
	}
	g.method = "GET"
	notes = append(notes, "wrk's method is taken as GET (a Lua script may send others)")
	sum := g.summary(importedAs("wrk", report.PercentilesGiven, nil, notes...))
	oneRequest(sum)
	return sum, nil
}

// wrkDuration reads wrk's "340.44us", "5.12ms", "1.00s", "2.00m" into ms.
func wrkDuration(s string) (float64, error) {
	units := []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 || math.IsInf(v, 0) {
				break
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("duration %q: want a number with us, ms, s, m or h", clipStr(s))
}

// wrkBytes reads wrk's "1.92MB" (binary units, as wrk prints them).
func wrkBytes(s string) (int64, error) {
	s = strings.TrimSuffix(s, ",")
	for i, u := range []string{"TB", "GB", "MB", "KB", "B"} {
		if num, ok := strings.CutSuffix(s, u); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 || v > 1e15 {
				break
			}
			return int64(math.Round(v * math.Pow(1024, float64(4-i)))), nil
		}
	}
	return 0, fmt.Errorf("size %q: want a number with B, KB, MB, GB or TB", clipStr(s))
}
