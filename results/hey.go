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

// parseHey reads hey's default text report: the "Summary:" block (total,
// slowest, fastest, average in seconds, total data), the "Latency
// distribution:" (10% … 99%; some hey builds print "10%%"), "Status code
// distribution:" and "Error distribution:". Requests are the responses by
// status plus the errors.
func parseHey(r io.Reader) (*report.Summary, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	g := newGiven()
	g.noBytesOut = true
	section := ""
	var sawTotal bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxLine)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(raw, " ") && strings.HasSuffix(line, ":") {
			section = line
			continue
		}
		key, val, _ := strings.Cut(line, ":")
		switch section {
		case "Summary:":
			secs := func() (float64, error) {
				v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " secs"), 64)
				if err != nil || v < 0 || math.IsInf(v, 0) {
					return 0, fmt.Errorf("line %d: %s %q: want seconds", n, key, clipStr(strings.TrimSpace(val)))
				}
				return v, nil
			}
			switch key {
			case "Total":
				if g.durationS, err = secs(); err != nil {
					return nil, err
				}
				sawTotal = true
			case "Slowest", "Fastest", "Average":
				v, err := secs()
				if err != nil {
					return nil, err
				}
				g.latency[map[string]int{"Fastest": 0, "Average": 1, "Slowest": 7}[key]] = v * 1000
			case "Total data":
				if g.bytesIn, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " bytes"), 10, 64); err != nil {
					return nil, fmt.Errorf("line %d: total data: not a byte count", n)
				}
			}
		case "Latency distribution:":
			// "50% in 0.0004 secs" (or "50%% in ...")
			f := strings.Fields(line)
			if len(f) != 4 || f[1] != "in" {
				continue
			}
			v, err := strconv.ParseFloat(f[2], 64)
			if err != nil || v < 0 || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d: %q: want seconds", n, clipStr(f[2]))
			}
			switch strings.TrimRight(f[0], "%") {
			case "50":
				g.latency[2] = v * 1000
			case "90":
				g.latency[3] = v * 1000
			case "95":
				g.latency[4] = v * 1000
			case "99":
				g.latency[5] = v * 1000
			}
		case "Status code distribution:":
			// "[200]	360 responses"
			f := strings.Fields(line)
			if len(f) < 2 || !strings.HasPrefix(f[0], "[") || !strings.HasSuffix(f[0], "]") {
				continue
			}
			code, err1 := strconv.Atoi(strings.Trim(f[0], "[]"))
			cnt, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil || cnt < 0 {
				return nil, fmt.Errorf("line %d: status line %q: want [CODE] COUNT responses", n, clipStr(line))
			}
			if code < 100 || code >= metrics.MaxStatus {
				code = 0
			}
			g.status[report.StatusKey(code)] += cnt
			g.requests += cnt
			if code >= 400 || code == 0 {
				g.failed += cnt
			}
		case "Error distribution:":
			// "[5]	Get "...": dial tcp ...: connection refused"
			cntS, msg, ok := strings.Cut(strings.TrimPrefix(line, "["), "]")
			cnt, err := strconv.ParseInt(cntS, 10, 64)
			if !ok || err != nil || cnt < 0 {
				return nil, fmt.Errorf("line %d: error line %q: want [COUNT] message", n, clipStr(line))
			}
			g.errors[goError(msg)] += cnt
			g.requests += cnt
			g.failed += cnt
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !sawTotal {
		return nil, errors.New(`no "Total:" line in a "Summary:" block: not hey's output`)
	}
	return g.summary(importedAs("hey", report.PercentilesGiven, nil, closedNote("hey"), givenNote("hey"))), nil
}

// goError maps a Go net/http error message to fuka's error kinds.
func goError(msg string) metrics.ErrorKind {
	l := strings.ToLower(msg)
	switch {
	case strings.Contains(l, "connection refused"):
		return metrics.ErrRefused
	case strings.Contains(l, "timeout") || strings.Contains(l, "deadline exceeded"):
		return metrics.ErrTimeout
	case strings.Contains(l, "no such host") || strings.Contains(l, "lookup "):
		return metrics.ErrDNS
	case strings.Contains(l, "tls") || strings.Contains(l, "x509") || strings.Contains(l, "certificate"):
		return metrics.ErrTLS
	case strings.Contains(l, "reset") || strings.Contains(l, "eof") || strings.Contains(l, "broken pipe"):
		return metrics.ErrReset
	}
	return metrics.ErrOther
}
