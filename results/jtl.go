package results

import (
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fuka-load/fuka/metrics"
	"github.com/fuka-load/fuka/report"
)

// JMeter writes one sample per request: its start (timeStamp, Unix ms),
// elapsed ms, label, response code, success, bytes received and sent. A
// sample whose code is not a number ("Non HTTP response code: ...") got no
// response; its message says why.

const jtlSuccessCheck = "JMeter success (assertions)"

// jtl collects JMeter samples; success=false on a response below 400 (an
// assertion failed) is counted as a failed check, as fuka counts checks.
type jtl struct {
	s            *samples
	passes, fail int64
	target       string // the first sample's URL's scheme and host
}

func (j *jtl) url(u string) {
	if j.target != "" || u == "" {
		return
	}
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		j.target = (&url.URL{Scheme: p.Scheme, Host: p.Host}).String()
	}
}

func (j *jtl) add(ts, elapsed, label, code, msg, success, by, sby string) error {
	tsMS, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("timeStamp %q: want Unix milliseconds (jmeter.save.saveservice.timestamp_format=ms, the default)", clipStr(ts))
	}
	el, err := strconv.ParseInt(strings.TrimSpace(elapsed), 10, 64)
	if err != nil || el < 0 {
		return fmt.Errorf("elapsed %q: want milliseconds", clipStr(elapsed))
	}
	x := sample{name: label, start: time.UnixMilli(tsMS), latency: time.Duration(el) * time.Millisecond}
	x.in, _ = strconv.ParseInt(strings.TrimSpace(by), 10, 64)
	x.out, _ = strconv.ParseInt(strings.TrimSpace(sby), 10, 64)
	if c, err := strconv.Atoi(strings.TrimSpace(code)); err == nil {
		x.status = c
	} else {
		x.err = javaError(code + " " + msg)
	}
	ok := strings.EqualFold(strings.TrimSpace(success), "true")
	if x.err == metrics.ErrNone && x.status < 400 {
		if ok {
			j.passes++
		} else {
			j.fail++
		}
	}
	j.s.add(x)
	return nil
}

func (j *jtl) summary() *report.Summary {
	sum := j.s.summary(importedAs("JMeter", report.PercentilesRecomputed,
		[]string{"service_time"}, closedNote("JMeter"),
		"JMeter times in whole milliseconds: percentiles below a few milliseconds are coarse"))
	sum.Target = j.target
	if j.fail > 0 {
		sum.Checks = append(sum.Checks, report.CheckSummary{Name: jtlSuccessCheck, Passes: j.passes, Fails: j.fail})
	}
	return sum
}

// javaError maps a JMeter "Non HTTP response" code and message to fuka's
// error kinds.
func javaError(s string) metrics.ErrorKind {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "connectexception") || strings.Contains(l, "connection refused"):
		return metrics.ErrRefused
	case strings.Contains(l, "timeout") || strings.Contains(l, "timed out"):
		return metrics.ErrTimeout
	case strings.Contains(l, "unknownhost"):
		return metrics.ErrDNS
	case strings.Contains(l, "ssl") || strings.Contains(l, "certificate"):
		return metrics.ErrTLS
	case strings.Contains(l, "reset") || strings.Contains(l, "nohttpresponse") || strings.Contains(l, "socketexception"):
		return metrics.ErrReset
	}
	return metrics.ErrOther
}

func parseJTLCSV(r io.Reader) (*report.Summary, error) {
	cr := csv.NewReader(limitLines(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", csvErr(err))
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	for _, need := range []string{"timeStamp", "elapsed", "label"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%w: header has no %q column (JMeter's CSV needs its header line: jmeter.save.saveservice.print_field_names=true)", ErrFormat, need)
		}
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	j := &jtl{s: newSamples()}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		j.url(field(rec, "URL"))
		if err := j.add(field(rec, "timeStamp"), field(rec, "elapsed"), field(rec, "label"), field(rec, "responseCode"),
			field(rec, "responseMessage"), field(rec, "success"), field(rec, "bytes"), field(rec, "sentBytes")); err != nil {
			return nil, fmt.Errorf("record %d: %w", line, err)
		}
	}
	if j.s.total.Requests == 0 {
		return nil, errors.New("no samples after the header")
	}
	return j.summary(), nil
}

// csvErr keeps encoding/csv's line and column and drops its wrapping.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return err
}

// jtlSample holds the XML attributes of a sample or httpSample.
type jtlSample struct {
	T   string `xml:"t,attr"`
	TS  string `xml:"ts,attr"`
	LB  string `xml:"lb,attr"`
	RC  string `xml:"rc,attr"`
	RM  string `xml:"rm,attr"`
	S   string `xml:"s,attr"`
	BY  string `xml:"by,attr"`
	SBY string `xml:"sby,attr"`
}

// parseJTLXML reads the samples directly under testResults: a nested
// sample is a sub-result (a redirect, a transaction's request) of the one
// around it, already counted in it.
func parseJTLXML(r io.Reader) (*report.Summary, error) {
	ll := limitLines(r)
	dec := xml.NewDecoder(ll)
	dec.Strict = true
	j := &jtl{s: newSamples()}
	depth, root := 0, false
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", ll.line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Local != "testResults" {
					return nil, fmt.Errorf("%w: the root element is <%s>, not JMeter's <testResults>", ErrFormat, clipStr(t.Name.Local))
				}
				root = true
			case depth == 2 && (t.Name.Local == "httpSample" || t.Name.Local == "sample"):
				var x jtlSample
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "t":
						x.T = a.Value
					case "ts":
						x.TS = a.Value
					case "lb":
						x.LB = a.Value
					case "rc":
						x.RC = a.Value
					case "rm":
						x.RM = a.Value
					case "s":
						x.S = a.Value
					case "by":
						x.BY = a.Value
					case "sby":
						x.SBY = a.Value
					}
				}
				if err := j.add(x.TS, x.T, x.LB, x.RC, x.RM, x.S, x.BY, x.SBY); err != nil {
					return nil, fmt.Errorf("line %d: %w", ll.line, err)
				}
			}
			if depth > 64 {
				return nil, fmt.Errorf("line %d: elements nested more than 64 deep", ll.line)
			}
		case xml.EndElement:
			depth--
		}
	}
	if !root {
		return nil, fmt.Errorf("%w: no <testResults> element", ErrFormat)
	}
	if j.s.total.Requests == 0 {
		return nil, errors.New("no samples in <testResults>")
	}
	return j.summary(), nil
}

// clipStr shortens a value quoted in an error.
func clipStr(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
