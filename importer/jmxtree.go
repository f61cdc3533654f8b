package importer

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// xnode is any XML element, read generically: a JMX file is a tree of
// test elements whose settings are *Prop children named by a name
// attribute.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []*xnode   `xml:",any"`
}

func (n *xnode) kind() string { return n.XMLName.Local }

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// enabled: JMeter writes enabled="false" on elements the user turned off.
func (n *xnode) enabled() bool { return n.attr("enabled") != "false" }

func (n *xnode) testname() string { return strings.TrimSpace(oneLine(n.attr("testname"))) }

// prop is the child property with the given name, or nil.
func (n *xnode) prop(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.attr("name") == name && strings.HasSuffix(k.kind(), "Prop") {
			return k
		}
	}
	return nil
}

// str is the text of a property ("" when missing).
func (n *xnode) str(name string) string {
	if p := n.prop(name); p != nil && !strings.HasSuffix(p.kind(), "elementProp") {
		return p.Text
	}
	return ""
}

func (n *xnode) flag(name string) bool { return strings.TrimSpace(n.str(name)) == "true" }

// items are the elements of a collection property.
func (n *xnode) items(name string) []*xnode {
	if p := n.prop(name); p != nil {
		return p.Kids
	}
	return nil
}

// jel is a test element with its children: in a JMX file an element is
// followed by a <hashTree> sibling that holds them.
type jel struct {
	n    *xnode
	kids []jel
}

func children(ht *xnode) []jel {
	var out []jel
	for i := 0; i < len(ht.Kids); i++ {
		k := ht.Kids[i]
		if k.kind() == "hashTree" {
			continue
		}
		el := jel{n: k}
		if i+1 < len(ht.Kids) && ht.Kids[i+1].kind() == "hashTree" {
			el.kids = children(ht.Kids[i+1])
			i++
		}
		out = append(out, el)
	}
	return out
}

// parseJMX reads a JMX file down to its TestPlan element.
func parseJMX(r io.Reader) (jel, error) {
	var root xnode
	if err := xml.NewDecoder(r).Decode(&root); err != nil {
		return jel{}, fmt.Errorf("JMX: %w", err)
	}
	if root.kind() != "jmeterTestPlan" {
		return jel{}, fmt.Errorf("JMX: the root element is <%s>, want <jmeterTestPlan>", clip(root.kind()))
	}
	for _, k := range root.Kids {
		if k.kind() != "hashTree" {
			continue
		}
		for _, el := range children(k) {
			if el.n.kind() == "TestPlan" {
				return el, nil
			}
		}
	}
	return jel{}, fmt.Errorf("JMX: no <TestPlan> element")
}

// skipReason says why an element that is not imported is left out.
func skipReason(kind string) string {
	switch {
	case kind == "ResultCollector" || kind == "BackendListener" || kind == "Summariser":
		return "listeners are not imported; fuka reports results itself"
	case strings.HasSuffix(kind, "Assertion"):
		return "assertions are not imported; add a check: to the step"
	case strings.HasSuffix(kind, "Extractor") || kind == "JSONPostProcessor" || kind == "XPath2Extractor":
		return "this extractor is not imported; add an extract: to the step"
	case strings.Contains(kind, "BeanShell") || strings.Contains(kind, "JSR223") || strings.Contains(kind, "Groovy"):
		return "scripts are not imported"
	case strings.HasSuffix(kind, "PreProcessor") || strings.HasSuffix(kind, "PostProcessor"):
		return "pre- and post-processors are not imported"
	case strings.HasSuffix(kind, "Timer"):
		return "this timer is not imported (constant and uniform random timers are)"
	case strings.HasSuffix(kind, "Sampler"):
		return "only HTTP samplers are imported"
	}
	return "not supported"
}

// simpleJSONPath matches the JSONPaths gjsonPath translates.
var simpleJSONPath = regexp.MustCompile(`^\$((\.[A-Za-z_][A-Za-z0-9_-]*)|(\[[0-9]+\])|(\[\*\])|(\['[A-Za-z0-9_ -]+'\]))+$`)

// gjsonPath turns a simple JSONPath ($.a.b[0].c, $['a']) into a gjson path
// (a.b.0.c), [*] as # (every element: a list); ok is false for anything
// richer (filters, .., wildcards on objects).
func gjsonPath(p string) (string, bool) {
	p = strings.TrimSpace(p)
	if !simpleJSONPath.MatchString(p) {
		return "", false
	}
	var parts []string
	for s := p[1:]; s != ""; {
		switch {
		case s[0] == '.':
			end := strings.IndexAny(s[1:], ".[")
			if end < 0 {
				end = len(s) - 1
			}
			parts = append(parts, s[1:1+end])
			s = s[1+end:]
		case strings.HasPrefix(s, "['"):
			end := strings.Index(s, "']")
			parts = append(parts, strings.ReplaceAll(s[2:end], " ", `\ `))
			s = s[end+2:]
		case strings.HasPrefix(s, "[*]"):
			parts = append(parts, "#")
			s = s[3:]
		default:
			end := strings.IndexByte(s, ']')
			parts = append(parts, s[1:end])
			s = s[end+1:]
		}
	}
	// A trailing # would be the list's length in gjson: the list is the
	// path before it.
	if len(parts) > 0 && parts[len(parts)-1] == "#" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 {
		return "@this", true
	}
	return strings.Join(parts, "."), true
}

// extraction is an extractor fuka can express.
type extraction struct {
	name, source string
	def          *string // the value when nothing matches, when JMeter sets one
	all          bool    // every match, as one JSON array (match number -1)
}

// extractOf maps the extractors fuka can express: a regular expression
// extractor on the body with template $1$ (or $0$ without groups) and the
// first match, and a JSON extractor with one simple path and the first
// match, or all matches (-1: a list for a ForEach). ok is false for the
// rest.
func extractOf(n *xnode) (x extraction, ok bool) {
	switch n.kind() {
	case "RegexExtractor":
		x.name = strings.TrimSpace(n.str("RegexExtractor.refname"))
		re := n.str("RegexExtractor.regex")
		tmplt := strings.TrimSpace(n.str("RegexExtractor.template"))
		match := strings.TrimSpace(n.str("RegexExtractor.match_number"))
		useHeaders := strings.TrimSpace(n.str("RegexExtractor.useHeaders"))
		c, err := regexp.Compile(re)
		if x.name == "" || re == "" || err != nil || strings.Contains(re, "${") ||
			(useHeaders != "" && useHeaders != "false") || (match != "" && match != "1") {
			return x, false
		}
		if def := n.str("RegexExtractor.default"); def != "" || n.flag("RegexExtractor.default_empty_value") {
			x.def = &def
		}
		x.source = "regex:" + re
		return x, tmplt == "$1$" && c.NumSubexp() >= 1 || tmplt == "$0$" && c.NumSubexp() == 0
	case "JSONPostProcessor":
		x.name = strings.TrimSpace(n.str("JSONPostProcessor.referenceNames"))
		path, isSimple := gjsonPath(n.str("JSONPostProcessor.jsonPathExprs"))
		match := strings.TrimSpace(n.str("JSONPostProcessor.match_numbers"))
		x.all = match == "-1"
		if x.name == "" || strings.Contains(x.name, ";") || !isSimple || (match != "" && match != "1" && !x.all) {
			return x, false
		}
		if strings.Contains(path, "#") && !x.all {
			return x, false // a list where JMeter takes one match
		}
		if def, set := n.str("JSONPostProcessor.defaultValues"), n.prop("JSONPostProcessor.defaultValues") != nil; set && !x.all {
			x.def = &def
		}
		x.source = "json:" + path
		return x, true
	}
	return x, false
}

// javaLayout turns a Java SimpleDateFormat pattern into a Go time layout
// for the common letters; ok is false for the rest.
func javaLayout(p string) (string, bool) {
	repl := []struct{ java, goLayout string }{
		{"yyyy", "2006"}, {"yy", "06"}, {"MM", "01"}, {"dd", "02"}, {"HH", "15"},
		{"mm", "04"}, {"ss", "05"}, {"SSS", "000"}, {"'T'", "T"},
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		matched := false
		for _, r := range repl {
			if strings.HasPrefix(p[i:], r.java) {
				b.WriteString(r.goLayout)
				i += len(r.java)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '\'' || c == '"' || c == '\\' {
			return "", false
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), b.Len() > 0
}

// csvHeader reads the first row of a CSV file.
func csvHeader(path string, delim rune) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = delim
	r.FieldsPerRecord = -1
	row, err := r.Read()
	if err != nil {
		return nil, err
	}
	if len(row) > 0 {
		row[0] = strings.TrimPrefix(row[0], "\uFEFF")
	}
	for i := range row {
		row[i] = strings.TrimSpace(row[i])
	}
	return row, nil
}

// parseNum reads a whole number from a property; ok is false when it is
// not one.
func parseNum(s string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v, err == nil
}

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }

func resolveCSV(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}
