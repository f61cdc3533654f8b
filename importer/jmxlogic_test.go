package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func controller(kind, name, props, kids string) string {
	return `<` + kind + ` testclass="` + kind + `" testname="` + name + `" enabled="true">` + props + `</` + kind + `><hashTree>` + kids + `</hashTree>`
}

func prop(name, v string) string { return `<stringProp name="` + name + `">` + v + `</stringProp>` }

func withKids(s, kids string) string {
	return strings.TrimSuffix(s, "<hashTree/>") + "<hashTree>" + kids + "</hashTree>"
}

func TestJMXLogic(t *testing.T) {
	get := func(name string) string { return sampler(name, "GET", "h.example.com", "/"+name, "") }
	tests := []struct {
		name  string
		kids  string // thread group children
		want  []string
		notes []string
		not   []string
	}{
		{
			name: "a 5-loop and a 60-loop",
			kids: controller("LoopController", "five", prop("LoopController.loops", "5"), get("a")) +
				controller("LoopController", "sixty", prop("LoopController.loops", "60"), get("b")),
			want: []string{"- loop: { count: 5 }\n        name: five\n", "- loop: { count: 60 }\n        name: sixty\n"},
		},
		{
			name: "loop once, never, forever, by a variable",
			kids: controller("LoopController", "one", prop("LoopController.loops", "1"), get("one")) +
				controller("LoopController", "zero", prop("LoopController.loops", "0"), get("zero")) +
				controller("LoopController", "ever", prop("LoopController.loops", "-1"), get("ever")) +
				controller("LoopController", "var", prop("LoopController.loops", "${pages}"), get("var")),
			want:  []string{"      - get: /one\n", `- loop: { while: "{{ true }}", max: 100 }`, `- loop: { while: "{{ turn < int(pages) }}", max: 1000000, as: turn }`},
			not:   []string{"/zero"},
			notes: []string{`LoopController "zero": loop count 0`, `LoopController "ever" loops forever: the plan's loop stops after 100 turns`},
		},
		{
			name: "while with a condition, blank, and one that does not translate",
			kids: controller("WhileController", "w1", prop("WhileController.condition", `${__jexl3("${status}" != "done")}`), get("w1")) +
				controller("WhileController", "w2", prop("WhileController.condition", ""), get("w2")) +
				controller("WhileController", "w3", prop("WhileController.condition", `${__groovy(ctx.getPreviousResult().getResponseCode() == "200")}`), get("w3")),
			want: []string{`- loop: { while: "{{ string(status_2) != \"done\" }}", max: 100 }`, `- loop: { while: "{{ status < 400 }}", max: 100 }`, "      - get: /w3\n"},
			notes: []string{`WhileController "w1": JMeter's While has no bound; the plan's loop stops after 100 turns (max)`,
				`WhileController "w3": condition "${__groovy(ctx.getPreviousResult().getResponseCode() == \"200\")}" is not translated: its steps run once`},
		},
		{
			name: "if: javascript, expression, last sample ok, numbers, untranslated",
			kids: controller("IfController", "js", prop("IfController.condition", `"${user}" == "admin" &amp;&amp; ${count} &gt; 2`), get("js")) +
				controller("IfController", "ex", prop("IfController.condition", "${ready}")+`<boolProp name="IfController.useExpression">true</boolProp>`, get("ex")) +
				controller("IfController", "ok", prop("IfController.condition", "${JMeterThread.last_sample_ok}")+`<boolProp name="IfController.useExpression">true</boolProp>`, get("ok")) +
				controller("IfController", "eq", prop("IfController.condition", `vars.get("mode").equals("fast")`), get("eq")) +
				controller("IfController", "rand", prop("IfController.condition", `${__jexl3(${__Random(1,10)} &lt;= 3)}`), get("rand")),
			want: []string{
				`- if: "{{ string(user) == \"admin\" && float(count) > 2 }}"`,
				`- if: "{{ string(ready) == \"true\" }}"`,
				`- if: "{{ status < 400 }}"`,
				`- if: "{{ mode == (\"fast\") }}"`,
				`- if: "{{ true }}"` + "\n        name: rand\n",
			},
			notes: []string{`IfController "rand": condition "${__jexl3(${__Random(1,10)} <= 3)}" is not translated: the plan runs its steps always`},
		},
		{
			name: "foreach over an all-matches JSON extractor, once only",
			kids: withKids(get("list"), `<JSONPostProcessor testclass="JSONPostProcessor" testname="ids" enabled="true">`+prop("JSONPostProcessor.referenceNames", "ids")+prop("JSONPostProcessor.jsonPathExprs", "$.items[*].id")+prop("JSONPostProcessor.match_numbers", "-1")+`</JSONPostProcessor><hashTree/>`) +
				controller("ForeachController", "each", prop("ForeachController.inputVal", "ids")+prop("ForeachController.returnVal", "id"), sampler("item", "GET", "h.example.com", "/items/${id}", "")) +
				controller("ForeachController", "orphan", prop("ForeachController.inputVal", "nothing")+prop("ForeachController.returnVal", "x"), get("orphan")) +
				controller("OnceOnlyController", "first", "", get("first")),
			want:  []string{"ids: json:items.#.id", `- foreach: { in: "{{ ids }}", as: id }`, "get: /items/{{ id }}", `- if: "{{ iteration == 0 }}"` + "\n        name: first\n"},
			notes: []string{`ForeachController "orphan": ${nothing_1}, ${nothing_2}... come from no JSON extractor`},
		},
		{
			name: "assertions: status (an expected 404), body, JSON, duration, scope",
			kids: `<DurationAssertion testclass="DurationAssertion" testname="slow" enabled="true">` + prop("DurationAssertion.duration", "1500") + `</DurationAssertion><hashTree/>` +
				withKids(get("gone"), `<ResponseAssertion testclass="ResponseAssertion" testname="404" enabled="true"><collectionProp name="Asserion.test_strings">`+prop("1", "404")+`</collectionProp>`+prop("Assertion.test_field", "Assertion.response_code")+`<boolProp name="Assertion.assume_success">true</boolProp><intProp name="Assertion.test_type">8</intProp></ResponseAssertion><hashTree/>`) +
				withKids(get("body"), `<ResponseAssertion testclass="ResponseAssertion" testname="has" enabled="true"><collectionProp name="Asserion.test_strings">`+prop("1", "Welcome")+`</collectionProp>`+prop("Assertion.test_field", "Assertion.response_data")+`<intProp name="Assertion.test_type">16</intProp></ResponseAssertion><hashTree/>`+
					`<ResponseAssertion testclass="ResponseAssertion" testname="not" enabled="true"><collectionProp name="Asserion.test_strings">`+prop("1", "error")+`</collectionProp>`+prop("Assertion.test_field", "Assertion.response_data")+`<intProp name="Assertion.test_type">20</intProp></ResponseAssertion><hashTree/>`+
					`<JSONPathAssertion testclass="JSONPathAssertion" testname="j" enabled="true">`+prop("JSON_PATH", "$.user.id")+prop("EXPECTED_VALUE", "42")+`<boolProp name="JSONVALIDATION">true</boolProp><boolProp name="ISREGEX">true</boolProp></JSONPathAssertion><hashTree/>`),
			want: []string{"- get: /gone\n        name: gone\n        check:\n          status: 404\n          max_latency: 1.5s\n",
				"check:\n          body_contains: Welcome\n          json:\n            user.id: 42\n          max_latency: 1.5s\n", "- checks > 99%"},
			notes: []string{`ResponseAssertion "not": a NOT assertion is not imported`, "the threshold is checks > 99%"},
			not:   []string{"error_rate"},
		},
		{
			name: "flow control pause and other actions, extractor over the thread group",
			kids: `<RegexExtractor testclass="RegexExtractor" testname="csrf" enabled="true">` + prop("RegexExtractor.refname", "csrf") + prop("RegexExtractor.regex", `csrf=(\w+)`) + prop("RegexExtractor.template", "$1$") + prop("RegexExtractor.default", "NONE") + `</RegexExtractor><hashTree/>` +
				get("a") + `<TestAction testclass="TestAction" testname="wait" enabled="true"><intProp name="ActionProcessor.action">1</intProp>` + prop("ActionProcessor.duration", "1500") + `</TestAction><hashTree/>` +
				`<TestAction testclass="TestAction" testname="next" enabled="true"><intProp name="ActionProcessor.action">3</intProp></TestAction><hashTree/>` + get("b"),
			want:  []string{"- get: /a\n        name: a\n        extract:\n          csrf: { from: \"regex:csrf=(\\\\w+)\", default: \"NONE\" }\n      - think: 1.5s\n      - get: /b\n        name: b\n        extract:\n          csrf:"},
			notes: []string{`TestAction "next": action start next thread loop (stop`},
		},
		{
			name:  "transaction controller is a group",
			kids:  controller("TransactionController", "checkout", "", get("pay")+get("confirm")),
			want:  []string{"- group: checkout\n        steps:\n          - get: /pay\n"},
			notes: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := JMX(strings.NewReader(jmxPlan(threadGroup("tg", "1", "1", tt.kids))), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got := string(res.YAML)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("the plan does not say %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("the plan says %q:\n%s", w, got)
				}
			}
			for _, n := range tt.notes {
				if !hasNote(res.Skipped, n) {
					t.Errorf("no note says %q; notes:\n%s", n, strings.Join(res.Skipped, "\n"))
				}
			}
			mustCompile(t, t.TempDir(), res.YAML)
		})
	}
}

// TestJMXNothingImported: when no request can be imported, the error
// lists why each element was left out (not only "no HTTP requests").
func TestJMXNothingImported(t *testing.T) {
	kids := `<JSR223Sampler testclass="JSR223Sampler" testname="groovy" enabled="true"/><hashTree/>` +
		`<JDBCSampler testclass="JDBCSampler" testname="db" enabled="true"/><hashTree/>` +
		`<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="off" enabled="false"/><hashTree/>` +
		`<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="nohost" enabled="true">` + prop("HTTPSampler.path", "/x") + `</HTTPSamplerProxy><hashTree/>`
	_, err := JMX(strings.NewReader(jmxPlan(threadGroup("tg", "1", "1", kids))), ".")
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"no HTTP requests to import", `JSR223Sampler "groovy": scripts are not imported`, `JDBCSampler "db": only HTTP samplers`,
		`HTTPSamplerProxy "off": disabled`, `HTTPSamplerProxy "nohost": no server name`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q:\n%v", w, err)
		}
	}
}

// TestJMXTestdata imports every .jmx in testdata/jmx: each plan validates.
func TestJMXTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/jmx/*.jmx")
	if len(files) < 3 {
		t.Fatalf("only %d files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := JMX(strings.NewReader(string(src)), "testdata/jmx")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := (Output{Path: filepath.Join(dir, "plan.yaml")}).Write(res, &strings.Builder{}, &strings.Builder{}); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{"users.csv", "products.csv", "search_terms.csv"} {
				if b, err := os.ReadFile(filepath.Join("testdata/jmx", d)); err == nil {
					if err := os.WriteFile(filepath.Join(dir, d), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			mustCompile(t, dir, res.YAML)
		})
	}
}
