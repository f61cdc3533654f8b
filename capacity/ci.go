package capacity

import (
	"fmt"
	"io"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// JUnit is the search as a JUnit test suite (report.JUnitSuite): a case
// per SLO term (classname "slo") as the answer step measured it, the
// lowest failing rate's value beside it, and a case for the answer
// ("capacity found", classname "capacity") that fails when no rate met
// the SLO or the search was interrupted. Without an answer, each term is
// as the lowest rate measured it, failed where it failed there.
func (rep *Report) JUnit(info RunInfo) report.JUnitSuite {
	name := "fuka capacity " + info.Target
	if info.Name != "" {
		name = "fuka capacity " + info.Name
	}
	suite := report.JUnitSuite{Name: name, TimeS: info.Duration.Seconds(), Started: info.Started,
		Properties: [][2]string{{"target", info.Target}, {"slo", strings.Join(rep.SLO, ", ")},
			{"answer_rps", FormatRate(rep.Answer)}, {"found", fmt.Sprint(rep.Found)}, {"failed_at_rps", FormatRate(rep.FailedAt)},
			{"stopped", rep.Stopped}, {"fuka_version", info.Version}}}
	at, rate := rep.step(rep.Answer), rep.Answer
	if !rep.Found {
		at, rate = rep.lowest()
	}
	var failing []string
	if rep.FailedAt > 0 {
		failing = rep.step(rep.FailedAt).Terms
	}
	for i, term := range rep.SLO {
		c := report.JUnitCase{Name: term, Classname: "slo", Type: "slo"}
		if i < len(at.Terms) {
			c.Failed = strings.HasPrefix(at.Terms[i], "✗")
			c.Message = "at " + FormatRate(rate) + "/s: " + strings.TrimSpace(strings.TrimLeft(at.Terms[i], "✓✗"))
		} else {
			c.Failed, c.Message = true, "not measured: no step ran"
		}
		if i < len(failing) && rep.Found {
			c.Message += "; at " + FormatRate(rep.FailedAt) + "/s: " + failing[i]
		}
		c.Text = c.Message
		suite.Cases = append(suite.Cases, c)
	}
	found := report.JUnitCase{Name: "capacity found", Classname: "capacity", TimeS: info.Duration.Seconds(), Type: "capacity",
		Message: rep.answerLine()}
	if !rep.Found || info.Interrupted {
		found.Failed = true
		if info.Interrupted {
			found.Type, found.Message = "interrupted", "interrupted: "+found.Message
		}
	}
	found.Text = found.Message
	suite.Cases = append(suite.Cases, found)
	return suite
}

// lowest is the lowest rate's deciding step, and its rate.
func (rep *Report) lowest() (StepResult, float64) {
	d := deciding(rep.Steps)
	if len(d) == 0 {
		return StepResult{}, 0
	}
	return d[0], d[0].Rate
}

// answerLine says the answer in one line: "1,200/s (failed at 1,300/s)".
func (rep *Report) answerLine() string {
	if !rep.Found {
		return "no rate met the SLO: even " + FormatRate(rep.Min) + "/s failed"
	}
	line := FormatRate(rep.Answer) + "/s met the SLO"
	if rep.LowerBound {
		line += " (a lower bound)"
	}
	if rep.FailedAt > 0 {
		line += "; " + FormatRate(rep.FailedAt) + "/s failed"
	}
	return line
}

// WriteMarkdown writes a short markdown summary of the search for a CI
// job's page: the answer, the SLO terms with ✓/✗ at the answer, the first
// limit hit and the advice.
func (rep *Report) WriteMarkdown(w io.Writer, info RunInfo) error {
	suite := rep.JUnit(info)
	var b strings.Builder
	icon := "✅"
	if !rep.Found || info.Interrupted {
		icon = "⚠️"
	}
	last := suite.Cases[len(suite.Cases)-1]
	fmt.Fprintf(&b, "### %s %s: %s\n\n", icon, report.MDEscape(suite.Name), report.MDEscape(last.Message))
	b.WriteString("**SLO**\n\n")
	for _, c := range suite.Cases[:len(suite.Cases)-1] {
		mark := "✓"
		if c.Failed {
			mark = "✗"
		}
		fmt.Fprintf(&b, "- %s %s: %s\n", mark, report.MDEscape(c.Name), report.MDEscape(c.Message))
	}
	b.WriteString("\n")
	if rep.Limit != "" {
		fmt.Fprintf(&b, "First limit: %s at %s/s: %s\n\n", report.MDEscape(rep.Limit), FormatRate(rep.LimitAt), report.MDEscape(strings.Join(rep.LimitWhy, "; ")))
	}
	if rep.Advice != "" {
		fmt.Fprintf(&b, "%s\n\n", report.MDEscape(rep.Advice))
	}
	fmt.Fprintf(&b, "%d steps; stopped: %s\n", len(rep.Steps), report.MDEscape(rep.stoppedText()))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("capacity: write markdown: %w", err)
	}
	return nil
}
