package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Verdict is how a run ended, as the CI files (JUnit, the markdown
// summary) say it: the exit code, the history status and one line of why.
type Verdict struct {
	Code   int    // the run's exit code: 0 ok, 1 thresholds, 3 all failed, 4 degraded, 130 interrupted
	Status string // the history status: completed, failed_thresholds, all_failed, degraded, interrupted
	Why    string // e.g. "2 of 3 thresholds failed"; "" for a run that passed
}

// Passed reports whether the run exits 0.
func (v Verdict) Passed() bool { return v.Code == 0 }

// ranThrough reports whether the run itself measured what it was asked to:
// it was neither interrupted, nor all failures, nor missing a worker's
// share. A run whose thresholds failed (exit 1) ran through; its
// thresholds say what failed.
func (v Verdict) ranThrough() bool { return v.Code == 0 || v.Code == 1 }

// The JUnit XML schema CI viewers read (GitHub's test reporters, GitLab's
// junit artifact, Jenkins): testsuites > testsuite > testcase, a failed
// case carrying a <failure>; times in seconds.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the run as a JUnit XML test report, one suite with a
// test case per threshold (classname "thresholds"), per check ("checks")
// and one for the run itself ("run"):
//
//   - a threshold fails as it failed, its message the limit and the
//     measured value: "p99 < 300ms (actual 412.0ms)";
//   - a check fails when it failed on any response, as the text summary
//     marks it ✗: "12 of 1,000 failed";
//   - the run case ("requests completed") fails when the run did not
//     measure what it was asked to: interrupted, every request failed, or a
//     distributed run lost a worker; its message has the key numbers.
//
// A quick attack has no thresholds or checks: its report is the run case.
func WriteJUnit(w io.Writer, s *Summary, v Verdict) error {
	suite := junitSuite{
		Name:      ciName(s),
		Time:      secondsAttr(s.DurationS),
		Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"target", s.Target},
			{"model", s.Model},
			{"status", v.Status},
			{"exit_code", strconv.Itoa(v.Code)},
			{"requests", strconv.FormatInt(s.Requests, 10)},
			{"failed", strconv.FormatInt(s.Failed, 10)},
			{"rps", strconv.FormatFloat(s.RPS, 'f', -1, 64)},
			{"p50_ms", strconv.FormatFloat(s.Latency.P50MS, 'f', -1, 64)},
			{"p95_ms", strconv.FormatFloat(s.Latency.P95MS, 'f', -1, 64)},
			{"p99_ms", strconv.FormatFloat(s.Latency.P99MS, 'f', -1, 64)},
			{"fuka_version", s.Version},
		},
	}
	if s.ReportFile != "" {
		suite.Properties = append(suite.Properties, junitProperty{"report_file", s.ReportFile})
	}
	for _, t := range s.Thresholds {
		c := junitCase{Name: t.Expr, Classname: "thresholds", Time: "0"}
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(t.Detail, "✓"), "✗"))
		if t.Pass {
			c.SystemOut = msg
		} else {
			c.Failure = &junitFailure{Message: msg, Type: "threshold", Text: t.Detail}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, ch := range s.Checks {
		c := junitCase{Name: ch.Name, Classname: "checks", Time: "0"}
		msg := FormatInt(ch.Fails) + " of " + FormatInt(ch.Passes+ch.Fails) + " failed"
		if ch.Fails > 0 {
			c.Failure = &junitFailure{Message: msg, Type: "check", Text: FormatInt(ch.Passes) + " passed, " + msg}
		} else {
			c.SystemOut = FormatInt(ch.Passes) + " passed, " + msg
		}
		suite.Cases = append(suite.Cases, c)
	}
	runCase := junitCase{Name: "requests completed", Classname: "run", Time: suite.Time, SystemOut: keyNumbers(s)}
	if !v.ranThrough() {
		runCase.Failure = &junitFailure{Message: v.Why, Type: v.Status, Text: keyNumbers(s)}
	}
	suite.Cases = append(suite.Cases, runCase)
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
	}
	doc := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: write junit: %w", err)
	}
	return nil
}

// ciName names the run in CI files: "fuka run shop", or for a quick
// attack "fuka attack GET http://127.0.0.1:8080/".
func ciName(s *Summary) string {
	if s.Name != "" {
		return "fuka run " + s.Name
	}
	return strings.TrimSpace("fuka attack " + s.Method + " " + s.Target)
}

// keyNumbers is the run's numbers on one line: "1,234 requests, 0 failed
// (0.00%), 411.5/s, p50 1.2ms, p95 3.4ms, p99 8.8ms".
func keyNumbers(s *Summary) string {
	line := FormatInt(s.Requests) + " requests, " + FormatInt(s.Failed) + " failed (" +
		FormatPercent(float64(s.Failed), float64(s.Requests), 2) + "), " + FormatRate(s.RPS) + "/s"
	if s.Requests > s.Failed {
		line += ", p50 " + FormatMS(s.Latency.P50MS) + ", p95 " + FormatMS(s.Latency.P95MS) + ", p99 " + FormatMS(s.Latency.P99MS)
	}
	return line
}

// secondsAttr is a JUnit time attribute: seconds, to the millisecond.
func secondsAttr(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }
