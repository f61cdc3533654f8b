package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
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

// JUnitSuite is a JUnit test suite, for a run or a capacity search.
type JUnitSuite struct {
	Name       string
	TimeS      float64   // seconds
	Started    time.Time // the suite's timestamp
	Properties [][2]string
	Cases      []JUnitCase
}

// JUnitCase is one test case; Failed gives it a <failure> with Message,
// Type and Text, else Message is its <system-out>.
type JUnitCase struct {
	Name, Classname string
	TimeS           float64
	Failed          bool
	Message, Type   string
	Text            string
}

// Write writes s as a JUnit XML document: testsuites > testsuite >
// testcase, with the tests and failures counted from the cases.
func (s JUnitSuite) Write(w io.Writer) error {
	suite := junitSuite{Name: s.Name, Time: secondsAttr(s.TimeS), Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05")}
	for _, p := range s.Properties {
		suite.Properties = append(suite.Properties, junitProperty{p[0], p[1]})
	}
	for _, c := range s.Cases {
		jc := junitCase{Name: c.Name, Classname: c.Classname, Time: secondsAttr(c.TimeS)}
		suite.Tests++
		if c.Failed {
			suite.Failures++
			jc.Failure = &junitFailure{Message: c.Message, Type: c.Type, Text: c.Text}
		} else {
			jc.SystemOut = c.Message
		}
		suite.Cases = append(suite.Cases, jc)
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
	f := strconv.FormatFloat
	suite := JUnitSuite{
		Name: ciName(s), TimeS: s.DurationS, Started: s.Started,
		Properties: [][2]string{
			{"target", s.Target}, {"model", s.Model}, {"status", v.Status}, {"exit_code", strconv.Itoa(v.Code)},
			{"requests", strconv.FormatInt(s.Requests, 10)}, {"failed", strconv.FormatInt(s.Failed, 10)},
			{"rps", f(s.RPS, 'f', -1, 64)}, {"p50_ms", f(s.Latency.P50MS, 'f', -1, 64)},
			{"p95_ms", f(s.Latency.P95MS, 'f', -1, 64)}, {"p99_ms", f(s.Latency.P99MS, 'f', -1, 64)},
			{"fuka_version", s.Version},
		},
	}
	if s.ReportFile != "" {
		suite.Properties = append(suite.Properties, [2]string{"report_file", s.ReportFile})
	}
	for _, t := range s.Thresholds {
		suite.Cases = append(suite.Cases, JUnitCase{Name: t.Expr, Classname: "thresholds", Failed: !t.Pass,
			Message: unmark(t.Detail), Type: "threshold", Text: t.Detail})
	}
	for _, ch := range s.Checks {
		msg := FormatInt(ch.Fails) + " of " + FormatInt(ch.Passes+ch.Fails) + " failed"
		suite.Cases = append(suite.Cases, JUnitCase{Name: ch.Name, Classname: "checks", Failed: ch.Fails > 0,
			Message: msg, Type: "check", Text: FormatInt(ch.Passes) + " passed, " + msg})
	}
	run := JUnitCase{Name: "requests completed", Classname: "run", TimeS: s.DurationS, Message: keyNumbers(s)}
	if !v.ranThrough() {
		run.Failed, run.Message, run.Type, run.Text = true, v.Why, v.Status, keyNumbers(s)
	}
	suite.Cases = append(suite.Cases, run)
	return suite.Write(w)
}

// unmark is a threshold's detail without its ✓ or ✗.
func unmark(detail string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(detail, "✓"), "✗"))
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
