package plan

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestDocsNameEveryKey: docs/plan.md names every key a plan may have, in
// code (`key`, or `key: ...` in an example), the WebSocket and gRPC ones in
// their own sections: a key the parser takes and the reference does not
// mention is one no user finds.
func TestDocsNameEveryKey(t *testing.T) {
	b, err := os.ReadFile("../docs/plan.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	// section returns the text from the heading that starts with title to
	// the next heading of its level or above.
	section := func(title string) string {
		m := regexp.MustCompile(`(?m)^(#+) ` + regexp.QuoteMeta(title)).FindStringSubmatchIndex(doc)
		if m == nil {
			t.Fatalf("docs/plan.md has no section %q", title)
		}
		level := doc[m[2]:m[3]]
		rest := doc[m[1]:]
		if end := regexp.MustCompile(`(?m)^#{1,` + strconv.Itoa(len(level)) + `} `).FindStringIndex(rest); end != nil {
			rest = rest[:end[0]]
		}
		return rest
	}
	for _, tc := range []struct {
		section string
		keys    [][]string
	}{
		{"gRPC calls", [][]string{grpcKeys, grpcStepKeys, {"protos"}}},
		{"WebSocket", [][]string{{"ws", "send", "expect", "close"}, wsKeys, sendKeys, expectKeys, closeKeys, messageCheck, {"period"}}},
		{"Checks", [][]string{checkKeys}},
	} {
		text := section(tc.section)
		for _, keys := range tc.keys {
			for _, k := range keys {
				if !names(text, k) {
					t.Errorf("docs/plan.md, section %q, does not name the key %q", tc.section, k)
				}
			}
		}
	}
	for _, keys := range [][]string{planKeys, defaultsKeys, feederKeys, scenarioKeys, abortKeys, profileKeys, loadKeys, stageKeys,
		requestKeys, groupKeys, ifKeys, loopKeys, foreachKeys, setKeys, loopOpts, foreachOpts, extractKeys, tlsKeys, multipartFileKeys} {
		for _, k := range keys {
			if !names(doc, k) {
				t.Errorf("docs/plan.md does not name the key %q", k)
			}
		}
	}
}

// names reports whether text has key in code: `key`, `key: ...`, or
// "key:" in YAML (at a line's indent, after "{", "," or "- ").
func names(text, key string) bool {
	k := regexp.QuoteMeta(key)
	return regexp.MustCompile("`" + k + "[`: ]|(?m)(^\\s*|[{,] ?|- )" + k + ":").MatchString(text)
}
