package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJMX(t *testing.T) {
	f, err := os.Open("testdata/jmx/shop.jmx")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := JMX(f, filepath.Join("testdata", "jmx"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "jmx", res.YAML)
	// JMeter's users.csv has no header row: the plan reads a copy with
	// one, which Output writes next to the plan.
	dir := t.TempDir()
	out := Output{Path: filepath.Join(dir, "plan.yaml")}
	var stdout, stderr strings.Builder
	if err := out.Write(res, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "users.header.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "email,password\nalice@example.com,") {
		t.Errorf("users.header.csv: %q, %v", csv, err)
	}
	prog := mustCompile(t, dir, res.YAML)
	// Login follows redirects, as in JMeter: its hops are a name of their own.
	if got := len(prog.Requests); got != 6 {
		t.Errorf("%d request names, want 6: %q", got, prog.Requests)
	}
	for _, n := range []string{
		`JSR223PostProcessor "Log cart": scripts are not imported`,
		`ResultCollector "View Results Tree": listeners`,
		`HTTPSamplerProxy "Old search": disabled`,
		`IfController "Sometimes check out"`,
		`add the line "email,password" at its top`,
		"${sessionId}",
		"Accept-Encoding",
		"CookieManager",
	} {
		if !hasNote(res.Skipped, n) {
			t.Errorf("no note says %q; notes:\n%s", n, strings.Join(res.Skipped, "\n"))
		}
	}
}

// jmxPlan wraps thread groups (and other test plan children) in a JMX file.
func jmxPlan(children string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.6.3"><hashTree>
<TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="t" enabled="true"/>
<hashTree>` + children + `</hashTree></hashTree></jmeterTestPlan>`
}

func threadGroup(name, threads, loops, kids string) string {
	return `<ThreadGroup testclass="ThreadGroup" testname="` + name + `" enabled="true">
  <elementProp name="ThreadGroup.main_controller" elementType="LoopController">
    <stringProp name="LoopController.loops">` + loops + `</stringProp>
  </elementProp>
  <stringProp name="ThreadGroup.num_threads">` + threads + `</stringProp>
  <stringProp name="ThreadGroup.ramp_time">5</stringProp>
</ThreadGroup><hashTree>` + kids + `</hashTree>`
}

func sampler(name, method, domain, path, args string) string {
	return `<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="` + name + `" enabled="true">
  <elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments">` + args + `</collectionProp></elementProp>
  <stringProp name="HTTPSampler.domain">` + domain + `</stringProp>
  <stringProp name="HTTPSampler.path">` + path + `</stringProp>
  <stringProp name="HTTPSampler.method">` + method + `</stringProp>
</HTTPSamplerProxy><hashTree/>`
}

func arg(name, value string) string {
	return `<elementProp name="` + name + `" elementType="HTTPArgument">
  <stringProp name="Argument.name">` + name + `</stringProp><stringProp name="Argument.value">` + value + `</stringProp>
</elementProp>`
}

func csvDataSet(file, names, ignoreFirst string) string {
	return `<CSVDataSet testclass="CSVDataSet" testname="data" enabled="true">
  <stringProp name="filename">` + file + `</stringProp>
  <stringProp name="variableNames">` + names + `</stringProp>
  <boolProp name="ignoreFirstLine">` + ignoreFirst + `</boolProp>
  <boolProp name="recycle">true</boolProp>
</CSVDataSet><hashTree/>`
}

func TestJMXCases(t *testing.T) {
	tests := []struct {
		name  string
		jmx   string
		files map[string]string
		want  []string // substrings of the plan
		notes []string
	}{
		{
			name: "two thread groups",
			jmx: jmxPlan(threadGroup("Browsers", "30", "5", sampler("home", "GET", "a.example.com", "/", "")) +
				threadGroup("Buyers", "10", "5", `<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="buy" enabled="true">
  <stringProp name="HTTPSampler.domain">b.example.com</stringProp><stringProp name="HTTPSampler.port">443</stringProp>
  <stringProp name="HTTPSampler.path">/buy</stringProp><stringProp name="HTTPSampler.method">POST</stringProp>
</HTTPSamplerProxy><hashTree/>`)),
			// Each thread group keeps its own threads: not one merged load.
			want: []string{"base_url: http://a.example.com\n", "Browsers:\n    load: { clients: 30, ramp_up: 5s, iterations: 5 }\n",
				"Buyers:\n    load: { clients: 10, ramp_up: 5s, iterations: 5 }\n", "- post: https://b.example.com/buy\n"},
		},
		{
			name: "a setUp thread group runs first",
			jmx: jmxPlan(strings.Replace(strings.Replace(threadGroup("init", "1", "1", sampler("reset", "POST", "a.example.com", "/reset", "")), "<ThreadGroup", "<SetupThreadGroup", 1), "</ThreadGroup>", "</SetupThreadGroup>", 1) +
				threadGroup("Users", "5", "3", sampler("home", "GET", "a.example.com", "/", ""))),
			want: []string{"  init:\n    load: { clients: 1, ramp_up: 5s, iterations: 1 }\n", "  Users:\n    load: { clients: 5, ramp_up: 5s, iterations: 3 }\n    start_after: init\n",
				"the setUp one first"},
		},
		{
			name: "csv with a header row",
			jmx: jmxPlan(threadGroup("tg", "2", "1", csvDataSet("people.csv", "user,pass", "true")+
				sampler("login", "POST", "h.example.com", "/login", arg("user", "${user}")+arg("pass", "${pass}")))),
			files: map[string]string{"people.csv": "user,pass\nann,x\n"},
			want:  []string{"people:\n    csv: people.csv\n", `user: "{{ people.user }}"`, `pass: "{{ people.pass }}"`},
		},
		{
			name: "csv whose first row differs",
			jmx: jmxPlan(threadGroup("tg", "2", "1", csvDataSet("people.csv", "user,pass", "true")+
				sampler("login", "POST", "h.example.com", "/login", arg("user", "${user}")))),
			files: map[string]string{"people.csv": "name,password\nann,x\n", "people2.csv": ""},
			notes: []string{`the first row of people.csv is "name,password" but variableNames is "user,pass"`},
			want:  []string{`user: "{{ people.user }}"`},
		},
		{
			name: "functions",
			jmx: jmxPlan(threadGroup("tg", "1", "1", `<HeaderManager testclass="HeaderManager" testname="h" enabled="true"><collectionProp name="HeaderManager.headers">
  <elementProp name="" elementType="Header"><stringProp name="Header.name">X-Token</stringProp><stringProp name="Header.value">${__P(token,dev)}</stringProp></elementProp>
</collectionProp></HeaderManager><hashTree/>`+
				sampler("f", "GET", "h.example.com", "/d/${__time(yyyy-MM-dd)}/${__RandomString(8,abc)}", arg("n", "${__counter(TRUE,)}")+arg("t", "${__time()}")+arg("j", "${__jexl3(1+1)}")))),
			want: []string{
				`X-Token: "{{ env \"token\" \"dev\" }}"`,
				`get: /d/{{ now "2006-01-02" }}/{{ randString 8 }}`,
				`"n": "{{ seq }}"`, `t: "{{ now \"unixms\" }}"`, `j: ${__jexl3(1+1)}`,
			},
			notes: []string{"${__jexl3(1+1)}: JMeter function not translated", "not only \"abc\""},
		},
		{
			name:  "loops forever",
			jmx:   jmxPlan(threadGroup("tg", "3", "-1", sampler("s", "GET", "h.example.com", "/", ""))),
			want:  []string{"duration: 30s\n"},
			notes: []string{"loops until stopped: the plan runs it for 30s"},
		},
		{
			name: "full URL in the path and repeated arguments",
			jmx: jmxPlan(threadGroup("tg", "1", "1", sampler("g", "GET", "", "https://api.example.com/v2/items?x=1", arg("a", "1")+arg("a", "2 3"))+
				sampler("p", "POST", "", "https://api.example.com/v2/items", arg("a", "1")+arg("a", "${v}")))),
			want: []string{
				"base_url: https://api.example.com\n", "- get: /v2/items?x=1&a=1&a=2%203\n",
				"Content-Type: application/x-www-form-urlencoded\n", `body: a=1&a={{ v }}`,
			},
			notes: []string{"${v}: nothing imported sets it"},
		},
		{
			name: "host from a data column",
			jmx: jmxPlan(threadGroup("tg", "1", "1", csvDataSet("hosts.csv", "", "false")+
				sampler("ping", "GET", "${host}", "/ping", ""))),
			files: map[string]string{"hosts.csv": "host\n127.0.0.1:9\n"},
			want:  []string{`get: http://{{ hosts.host }}/ping`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := JMX(strings.NewReader(tt.jmx), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(res.YAML), w) {
					t.Errorf("the plan does not say %q:\n%s", w, res.YAML)
				}
			}
			for _, n := range tt.notes {
				if !hasNote(res.Skipped, n) {
					t.Errorf("no note says %q; notes:\n%s", n, strings.Join(res.Skipped, "\n"))
				}
			}
			if tt.name == "csv whose first row differs" {
				return // validate would say so too
			}
			mustCompile(t, dir, res.YAML)
		})
	}
}

func TestJMXErrors(t *testing.T) {
	tests := []struct{ name, jmx, want string }{
		{"not XML", "hello", "JMX: EOF"},
		{"other root", "<project/>", "the root element is <project>"},
		{"no test plan", "<jmeterTestPlan><hashTree/></jmeterTestPlan>", "no <TestPlan> element"},
		{"no thread group", jmxPlan(""), "no enabled Thread Group"},
		{"no samplers", jmxPlan(threadGroup("tg", "1", "1", "")), "no HTTP requests to import"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := JMX(strings.NewReader(tt.jmx), ".")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one that says %q", err, tt.want)
			}
		})
	}
}

func TestGJSONPath(t *testing.T) {
	for in, want := range map[string]string{"$.token": "token", "$.data.items[0].id": "data.items.0.id", "$['a b'].c": `a\ b.c`, "$..id": "", "$.items[*]": "items", "$.items[*].id": "items.#.id", "$[*]": "@this", "$.a[*].b[*]": "a.#.b"} {
		got, ok := gjsonPath(in)
		if got != want || ok != (want != "") {
			t.Errorf("gjsonPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func FuzzJMX(f *testing.F) {
	files, _ := filepath.Glob("testdata/jmx/*.jmx")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	f.Add(jmxPlan(threadGroup("tg", "1", "1", sampler("s", "GET", "${h}", "${p}/x?${q}", arg("${a}", "{{")))))
	f.Fuzz(func(t *testing.T, s string) {
		res, err := JMX(strings.NewReader(s), t.TempDir())
		if err != nil || strings.Contains(string(res.YAML), "\ndata:") {
			return // data files are not there
		}
		if _, err := compile(t.TempDir(), res.YAML); err != nil {
			t.Fatalf("JMX made a plan that does not validate: %v\n%s", err, res.YAML)
		}
	})
}
