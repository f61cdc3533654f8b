package importer

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHAR(t *testing.T) {
	f, err := os.Open("testdata/shop.har")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := HAR(f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "har", res.YAML)
	prog := mustCompile(t, t.TempDir(), res.YAML)
	// The ads pixel the browser blocked (status 0) is in the flow too.
	if got := len(prog.Requests); got != 11 {
		t.Errorf("%d request names, want 11: %q", got, prog.Requests)
	}
	for _, n := range []string{"5 static asset(s)", "1 request(s) that are not http(s)", "status 0", "Cookie headers left out", "Referer headers left out"} {
		if !hasNote(res.Skipped, n) {
			t.Errorf("no note says %q; notes:\n%s", n, strings.Join(res.Skipped, "\n"))
		}
	}
}

// harOf builds a HAR with one page-less entry per request line
// "METHOD URL STATUS MIME START_MS DURATION_MS".
func harOf(t testing.TB, entries ...string) string {
	t.Helper()
	var out []string
	for _, e := range entries {
		var method, u, mime string
		var status, start, dur int
		if _, err := fmt.Sscan(e, &method, &u, &status, &mime, &start, &dur); err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(start) * time.Millisecond).Format(time.RFC3339Nano)
		out = append(out, fmt.Sprintf(`{"startedDateTime": %q, "time": %d, "request": {"method": %q, "url": %q, "headers": [{"name": "User-Agent", "value": "ua-%d"}]},
			"response": {"status": %d, "content": {"mimeType": %q}}}`, at, dur, method, u, start, status, mime))
	}
	return `{"log": {"version": "1.2", "entries": [` + strings.Join(out, ",") + `]}}`
}

func TestHARCases(t *testing.T) {
	t.Run("one page, no groups, think times", func(t *testing.T) {
		res, err := HAR(strings.NewReader(harOf(t,
			"GET http://127.0.0.1:8080/ 200 text/html 0 100",
			"GET http://127.0.0.1:8080/a.js 200 text/plain 150 10",
			"GET http://127.0.0.1:8080/api/x?id=1 200 application/json 449 10",
			"DELETE http://127.0.0.1:8080/api/x/1 204 - 1010 10",
			"GET http://127.0.0.1:8080/bye 200 text/html 3601000 10",
		)))
		if err != nil {
			t.Fatal(err)
		}
		got := string(res.YAML)
		for _, w := range []string{"base_url: http://127.0.0.1:8080\n", "      - get: /api/x?id=1\n        name: GET /api/x\n",
			"      - think: 600ms\n      - delete: /api/x/1\n", "User-Agent: ua-0\n", "      - think: 1m\n      - get: /bye\n"} {
			if !strings.Contains(got, w) {
				t.Errorf("the plan does not say %q:\n%s", w, got)
			}
		}
		if !hasNote(res.Skipped, "a pause of 1h before GET http://127.0.0.1:8080/bye: cut to 1m") {
			t.Errorf("notes: %q", res.Skipped)
		}
		if strings.Contains(got, "group:") || strings.Contains(got, "think: 300ms") || strings.Contains(got, "defaults:") {
			t.Errorf("no groups, no pause under 500ms, no defaults (the User-Agent varies):\n%s", got)
		}
		mustCompile(t, t.TempDir(), res.YAML)
	})
	t.Run("only static assets", func(t *testing.T) {
		_, err := HAR(strings.NewReader(harOf(t, "GET http://h/a.png 200 image/png 0 1", "GET http://h/b 200 font/woff2 2 1")))
		if err == nil || !strings.Contains(err.Error(), "nothing to import: of 2 entries, 2 static asset(s)") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("byte order mark", func(t *testing.T) {
		res, err := HAR(strings.NewReader("\uFEFF" + harOf(t, "GET http://h/a 200 text/html 0 1")))
		if err != nil {
			t.Fatal(err)
		}
		mustCompile(t, t.TempDir(), res.YAML)
	})
	t.Run("entries without a response", func(t *testing.T) {
		// Chrome writes "response": {"status": 0, ...} for a cancelled
		// request; other tools leave the response out or write null.
		har := `{"log": {"entries": [
  {"startedDateTime": "2024-05-01T10:00:00.000Z", "time": 1, "request": {"method": "GET", "url": "http://h/a", "headers": []}},
  {"startedDateTime": "2024-05-01T10:00:00.100Z", "time": 1, "request": {"method": "POST", "url": "http://h/b", "headers": [], "postData": {"mimeType": "text/plain", "text": "x"}}, "response": null},
  {"startedDateTime": "2024-05-01T10:00:00.200Z", "time": 1, "request": {"method": "GET", "url": "http://h/c", "headers": []}, "response": {"status": 0}},
  {"startedDateTime": "2024-05-01T10:00:00.300Z", "time": 1, "request": {"method": "GET", "url": "http://h/d", "headers": []}, "response": {"status": 404}}
]}}`
		res, err := HAR(strings.NewReader(har))
		if err != nil {
			t.Fatal(err)
		}
		got := string(res.YAML)
		for _, w := range []string{"- get: /a\n", "- post: /b\n", "- get: /c\n", "- get: /d\n        check:\n          status: 404\n"} {
			if !strings.Contains(got, w) {
				t.Errorf("the plan does not say %q:\n%s", w, got)
			}
		}
		if strings.Count(got, "status:") != 1 {
			t.Errorf("a status check on a request without a response:\n%s", got)
		}
		if !hasNote(res.Skipped, "3 request(s) recorded without a response") {
			t.Errorf("notes: %q", res.Skipped)
		}
		prog := mustCompile(t, t.TempDir(), res.YAML)
		if len(prog.Requests) != 4 {
			t.Errorf("requests %q, want 4", prog.Requests)
		}
	})
	for _, bad := range []struct{ name, har, want string }{
		{"not JSON", "<html>", "HAR: invalid character"},
		{"no entries", `{"log": {}}`, "HAR: no entries"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := HAR(strings.NewReader(bad.har)); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("error %v, want one that says %q", err, bad.want)
			}
		})
	}
}

func FuzzHAR(f *testing.F) {
	src, err := os.ReadFile("testdata/shop.har")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(src))
	f.Add(harOf(f, "POST http://h/{{x}}?a=%zz 200 - 0 1", "GET http://h//x 0 - 5 1"))
	f.Add("\uFEFF" + harOf(f, "GET http://h/a 200 text/html 0 1"))
	f.Add(`{"log":{"entries":[{"request":{"method":"GET","url":"http://h/a"},"response":null}]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		res, err := HAR(strings.NewReader(s))
		if err != nil {
			return
		}
		if _, err := compile(t.TempDir(), res.YAML); err != nil {
			t.Fatalf("HAR made a plan that does not validate: %v\n%s", err, res.YAML)
		}
	})
}
