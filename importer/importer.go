// Package importer turns what users already have into a fuka plan: a
// browser's "Copy as cURL" command line (Curl), a devtools recording (HAR)
// and the common subset of a JMeter test plan (JMX).
//
// Each importer returns the plan as commented YAML in the schema of
// docs/plan.md, ready for `fuka validate`, and a list of notes saying what it
// could not carry over and why. Importers never fail on something they do
// not understand: they skip it and say so. They fail only when there is
// nothing to import (no URL, no requests, input that does not parse).
//
// Everything the plan sends is a template, so literal text from the input
// is escaped ("{{" becomes {{ "{{" }}); the only templates in the output are
// the ones an importer puts there on purpose (shell variables in a curl
// command, ${...} references in a JMeter plan).
package importer

import (
	"fmt"
	"strings"
	"time"
)

// Result is an imported plan and what could not be imported.
type Result struct {
	YAML    []byte   // the plan, commented
	Skipped []string // human-readable notes: what was dropped and why
	// CSVHeaders are data files the plan needs next to it: a JMeter CSV
	// file without a header row, copied with the row of its variableNames
	// on top (fuka reads column names from the first row). Output.Write
	// writes them when the plan goes to a file.
	CSVHeaders []csvHeaderFile
}

// csvHeaderFile is the file Name (next to the plan) made of the line Header
// and then the content of the file Src.
type csvHeaderFile struct {
	Name, Header, Src string
}

// notes collects Skipped notes once each, in the order they were first made.
type notes struct {
	list []string
	seen map[string]bool
}

func (n *notes) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	if !n.seen[s] {
		n.seen[s] = true
		n.list = append(n.list, s)
	}
}

// Template expressions travel through an importer inside ordinary strings,
// between two private-use runes, so that literal text and expressions can be
// told apart when the text finally becomes template source (tpl). Input
// never brings these runes in: scrub replaces them first.
const (
	markOpen  = '\uE000'
	markClose = '\uE001'
)

// ref marks expr (e.g. `users.name`, `randInt 1 10`) as a template
// expression inside literal text.
func ref(expr string) string { return string(markOpen) + expr + string(markClose) }

// scrub replaces the mark runes in input text, so that only ref makes them.
func scrub(s string) string {
	if !strings.ContainsAny(s, string([]rune{markOpen, markClose})) {
		return s
	}
	return strings.NewReplacer(string(markOpen), "\uFFFD", string(markClose), "\uFFFD").Replace(s)
}

// hasRef reports whether s holds a template expression.
func hasRef(s string) bool { return strings.ContainsRune(s, markOpen) }

// tpl turns text with marked expressions into template source: literal
// "{{" is escaped as {{ "{{" }} and each marked expression becomes
// {{ expr }}.
func tpl(s string) string {
	if !strings.Contains(s, "{{") && !hasRef(s) {
		return s
	}
	var b strings.Builder
	for s != "" {
		i := strings.IndexRune(s, markOpen)
		if i < 0 {
			b.WriteString(escapeLit(s))
			break
		}
		b.WriteString(escapeLit(s[:i]))
		rest := s[i+len(string(markOpen)):]
		j := strings.IndexRune(rest, markClose)
		if j < 0 { // cannot happen after scrub; keep the text
			b.WriteString(escapeLit(rest))
			break
		}
		b.WriteString("{{ " + rest[:j] + " }}")
		s = rest[j+len(string(markClose)):]
	}
	return b.String()
}

func escapeLit(s string) string { return strings.ReplaceAll(s, "{{", `{{ "{{" }}`) }

// fmtDur formats a duration for a plan: 1m30s, 2m, 1.5s, 250ms.
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// roundThink rounds a pause to 100ms, the precision a recording deserves.
func roundThink(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

// ident turns s into a name templates can refer to ([A-Za-z_][A-Za-z0-9_]*):
// other characters become _, and a leading digit gets a _ in front.
func ident(s string) string {
	var b strings.Builder
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			b.WriteRune(c)
		case '0' <= c && c <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
