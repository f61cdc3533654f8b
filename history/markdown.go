package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fuka-load/fuka/report"
)

// maxMarkdownNames bounds the request names a markdown comparison lists, so
// that a plan with many requests keeps its CI summary short.
const maxMarkdownNames = 10

// WriteMarkdown writes the comparison as a short markdown section, for a
// CI job's summary: which run B is compared with, how they differ as
// tests, and a table of the whole run and each request name, with each
// change and its verdict (▲/▼ and the word, as WriteText).
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "**Compared with %s** (noise %s): %s, %s%s\n\n",
		report.MDEscape(strings.Join(runLine(c.A, c.SourceA), ", ")), fmtNoise(c.Noise),
		plural(c.Regressions, "regression"), plural(c.Improvements, "improvement"), report.MDEscape(c.totalsNote()))
	if len(c.Differences) > 0 {
		fmt.Fprintf(&b, "Not the same test: they differ in %s, so a change may come from that, not from the service.\n\n", c.differing())
		for _, d := range c.Differences {
			fmt.Fprintf(&b, "- %s: %s → %s\n", d.What, report.MDEscape(d.value(d.A)), report.MDEscape(d.value(d.B)))
		}
		b.WriteString("\n")
	}
	b.WriteString("| request |")
	for m := range NumMetrics {
		b.WriteString(" " + m.String() + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", int(NumMetrics)))
	b.WriteString("\n")
	for i, d := range c.Rows {
		if i > maxMarkdownNames {
			fmt.Fprintf(&b, "\n%d more request names: `fuka compare %d last` lists them.\n", len(c.Rows)-i, c.A.ID)
			break
		}
		fmt.Fprintf(&b, "| %s |", report.MDEscape(clip(rowName(d.Name), maxNameWidth)))
		switch {
		case d.A == nil:
			b.WriteString(" only in this run |" + strings.Repeat(" |", int(NumMetrics)-1) + "\n")
			continue
		case d.B == nil:
			b.WriteString(" only in the previous run |" + strings.Repeat(" |", int(NumMetrics)-1) + "\n")
			continue
		}
		for m := range NumMetrics {
			v := d.Verdict[m]
			word := verdictText(d, m)
			if v == Regressed {
				word = "**" + word + "**"
			}
			fmt.Fprintf(&b, " %s → %s (%s) %s |", cell(d.A, m), cell(d.B, m), fmtChange(m, d), strings.TrimSpace(mark(d, m)+word))
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("history: write comparison: %w", err)
	}
	return nil
}

// Previous returns the baseline a new run of sum's plan is compared with:
// the newest completed run of the same plan in the history at path ("" =
// DefaultPath()), or for a quick attack (no plan) the newest completed
// quick attack of the same target. It is nil, ErrNotFound when there is
// none, and ErrNoHistory when the history does not exist yet. Reading
// never creates the history.
func Previous(path string, sum *report.Summary) (*Side, error) {
	s, err := OpenExisting(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	q, args := `SELECT id FROM runs WHERE name = ? AND status = ?`, []any{sum.Name, StatusCompleted}
	if sum.Name == "" {
		q, args = q+` AND target = ?`, append(args, sum.Target)
	}
	var id int64
	err = s.db.QueryRowContext(context.Background(), q+` ORDER BY id DESC LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		what := "of " + strconv.Quote(sum.Name)
		if sum.Name == "" {
			what = "attack on " + sum.Target
		}
		return nil, fmt.Errorf("history %s: %w: no completed %s", s.path, ErrNotFound, what)
	}
	if err != nil {
		return nil, s.wrap(err)
	}
	prev, run, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	return &Side{Sum: prev, Run: run}, nil
}
