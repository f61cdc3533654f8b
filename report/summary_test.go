package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuka-load/fuka/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// decode writes s as JSON and reads it back as generic values, the way a
// consumer in another language would see it.
func decode(t *testing.T, s *Summary) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) {
		t.Errorf("JSON does not end with a newline: %q", buf.String()[max(0, buf.Len()-10):])
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
	}
	return m
}

// at returns the value at a dotted path ("latency.p50_ms",
// "requests_by_name.0.name"), failing the test if it is missing.
func at(t *testing.T, m map[string]any, path string) any {
	t.Helper()
	var v any = m
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Fatalf("%s: no key %q", path, k)
			}
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				t.Fatalf("%s: index %d of %d", path, i, len(x))
			}
			v = x[i]
		default:
			t.Fatalf("%s: %q is not in a container (%T)", path, k, v)
		}
	}
	return v
}

// hdrClose accepts got within the 3-significant-digit precision of the
// histograms (an HDR value is reported as the top, bottom or middle of its
// bucket), plus the microsecond rounding of the JSON.
func hdrClose(got, want float64) bool {
	return math.Abs(got-want) <= want*0.001+0.001
}

func TestSummaryJSON(t *testing.T) {
	capped := closedMeta()
	capped.MaxRPS = 200
	interrupted := closedMeta()
	interrupted.Interrupted, interrupted.Elapsed = true, 1500*time.Millisecond
	zeroOpen := Meta{Model: ModelOpen}

	allKinds := map[string]any{
		"timeout": 1.0, "refused": 0.0, "reset": 0.0, "dns": 0.0,
		"tls": 0.0, "body_read": 0.0, "other": 0.0, "invalid": 0.0,
	}
	noErrors := map[string]any{
		"timeout": 0.0, "refused": 0.0, "reset": 0.0, "dns": 0.0,
		"tls": 0.0, "body_read": 0.0, "other": 0.0, "invalid": 0.0,
	}

	tests := []struct {
		name string
		meta Meta
		run  *metrics.Run
		want map[string]any // path -> exact value (nil means JSON null)
		near map[string]float64
	}{
		{
			name: "closed uncapped",
			meta: closedMeta(),
			run:  simpleRun(),
			want: map[string]any{
				"fuka_version": "v0.1.0", "model": "closed", "latency_from": "send",
				"target":  "http://127.0.0.1:8080/?a=1&b=2",
				"started": "2025-01-02T03:04:05Z", "duration_s": 2.0, "planned_duration_s": 2.0,
				"interrupted": false, "clients": 4.0, "max_clients": 0.0,
				"requests": 200.0, "failed": 2.0, "error_rate": 0.01, "rps": 100.0,
				"requested_rps": nil, "achieved_rps_ratio": nil, "dropped": 0.0,
				"starts_due": nil, "starts": nil, "requested_start_rate": nil, "achieved_start_ratio": nil,
				"bytes_in": 198.0*1000 + 500, "bytes_out": 200.0 * 100,
				"throughput_bytes_per_s":      (198.0*1000 + 500) / 2,
				"status":                      map[string]any{"200": 198.0, "503": 1.0},
				"errors":                      allKinds,
				"latency.min_ms":              1.0,
				"latency.p50_ms":              1.0,
				"latency.p90_ms":              1.0,
				"latency.p95_ms":              2.0,
				"requests_by_name.0.name":     "GET /",
				"requests_by_name.0.requests": 200.0,
				"requests_by_name.0.rps":      100.0,
				"requests_by_name.0.status":   map[string]any{"200": 198.0, "503": 1.0},
				"requests_by_name.0.errors":   allKinds,
				"timeline.0.t_s":              1.0,
				"timeline.0.requests":         100.0,
				"timeline.0.rps":              100.0,
				"timeline.0.failed":           1.0,
				"timeline.0.clients":          4.0,
				"timeline.0.bytes_in":         99.0*1000 + 500,
				"timeline.0.p50_ms":           1.0,
				"timeline.0.errors":           map[string]any{},
				"timeline.1.t_s":              2.0,
				"timeline.1.errors":           map[string]any{"timeout": 1.0},
			},
			near: map[string]float64{
				"latency.p99_ms": 5, "latency.p999_ms": 5000, "latency.max_ms": 5000,
				"service_time.p99_ms": 5, "timeline.1.max_ms": 5000,
				// (189*1 + 2 + 9*5 + 5000) / 200
				"latency.mean_ms": 26.18,
			},
		},
		{
			name: "closed capped",
			meta: capped,
			run:  simpleRun(),
			want: map[string]any{"requested_rps": 200.0, "achieved_rps_ratio": 0.5},
		},
		{
			name: "open",
			meta: openMeta(),
			run:  simpleRun(),
			want: map[string]any{
				"model": "open", "latency_from": "intended", "max_clients": 100.0,
				// 210 starts due over 2 s, none dropped: the rate is of
				// starts, not of the 100 requests/s.
				"requested_rps": nil, "achieved_rps_ratio": nil,
				"starts_due": 210.0, "starts": 210.0, "requested_start_rate": 105.0, "achieved_start_ratio": 1.0,
			},
		},
		{
			name: "open with drops and invalid status",
			meta: shopMeta(),
			run:  shopRun(),
			want: map[string]any{
				"name": "shop", "interrupted": true, "duration_s": 2.5, "planned_duration_s": 10.0,
				"requests": 250.0, "failed": 5.0, "error_rate": 0.02, "rps": 100.0, "dropped": 15.0,
				// 265 due over the 2.5 s the schedule ran, 15 dropped.
				"requested_rps": nil, "achieved_rps_ratio": nil,
				"starts_due": 265.0, "starts": 250.0, "requested_start_rate": 106.0, "achieved_start_ratio": 0.943396,
				"status": map[string]any{"200": 245.0, "500": 1.0, "invalid": 1.0},
				"errors": map[string]any{
					"timeout": 2.0, "refused": 0.0, "reset": 1.0, "dns": 0.0,
					"tls": 0.0, "body_read": 0.0, "other": 0.0, "invalid": 0.0,
				},
				"requests_by_name.1.name":           "checkout",
				"requests_by_name.1.failed":         5.0,
				"requests_by_name.1.rps":            20.0,
				"requests_by_name.0.failed":         0.0,
				"timeline.1.dropped":                12.0,
				"timeline.2.t_s":                    2.5,
				"timeline.2.requests":               50.0,
				"timeline.2.rps":                    100.0,
				"timeline.2.clients":                20.0,
				"timeline.0.errors":                 map[string]any{"reset": 1.0},
				"timeline.1.errors":                 map[string]any{"timeout": 2.0},
				"service_time.min_ms":               0.7,
				"requests_by_name.0.latency.p50_ms": 0.9,
			},
		},
		{
			name: "interrupted",
			meta: interrupted,
			run:  simpleRun(),
			want: map[string]any{"interrupted": true, "duration_s": 1.5, "planned_duration_s": 2.0},
		},
		{
			name: "zero requests closed",
			meta: Meta{Model: ModelClosed},
			run:  buildRun([]string{"GET /"}, tick{at: time.Second}),
			want: map[string]any{
				"requests": 0.0, "error_rate": 0.0, "rps": 0.0, "throughput_bytes_per_s": 0.0,
				"requested_rps": nil, "achieved_rps_ratio": nil,
				"latency.p50_ms": 0.0, "latency.mean_ms": 0.0, "latency.max_ms": 0.0,
				"status": map[string]any{}, "errors": noErrors,
				"requests_by_name.0.rps": 0.0, "timeline.0.rps": 0.0, "timeline.0.p95_ms": nil,
				"started": "0001-01-01T00:00:00Z",
			},
		},
		{
			name: "zero requests open, no time elapsed",
			meta: zeroOpen,
			run:  buildRun(nil),
			want: map[string]any{
				"requested_rps": nil, "achieved_rps_ratio": nil, "rps": 0.0,
				"starts_due": 0.0, "starts": 0.0, "requested_start_rate": 0.0, "achieved_start_ratio": nil,
				"latency_from": "intended", "requests_by_name": []any{}, "timeline": []any{},
			},
		},
		{
			name: "nil run",
			meta: Meta{Model: ModelClosed, Elapsed: time.Second},
			run:  nil,
			want: map[string]any{"requests": 0.0, "status": map[string]any{}, "errors": noErrors},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decode(t, NewSummary(tt.meta, tt.run))
			for path, want := range tt.want {
				got := at(t, m, path)
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(want)
				if !bytes.Equal(gj, wj) {
					t.Errorf("%s = %s, want %s", path, gj, wj)
				}
			}
			for path, want := range tt.near {
				got, ok := at(t, m, path).(float64)
				if !ok || !hdrClose(got, want) {
					t.Errorf("%s = %v, want %v within HDR precision", path, at(t, m, path), want)
				}
			}
		})
	}
}

// TestSummaryJSONKeys pins the contract: every key, in order.
func TestSummaryJSONKeys(t *testing.T) {
	var buf bytes.Buffer
	if err := NewSummary(closedMeta(), simpleRun()).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	latency := []string{"min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"}
	tests := []struct {
		name string
		path []string // object keys / array indexes leading to the object
		want []string
	}{
		{"top level", nil, []string{
			"fuka_version", "name", "target", "method", "model", "latency_from", "started",
			"duration_s", "planned_duration_s", "interrupted", "end_reason", "end_detail", "clients", "max_clients",
			"ramp_up_s", "rate_profile", "transport", "requests", "failed", "retried", "error_rate", "rps", "requested_rps", "achieved_rps_ratio",
			"starts_due", "starts", "requested_start_rate", "achieved_start_ratio", "dropped", "connects", "bytes_in", "bytes_out", "throughput_bytes_per_s", "latency",
			"service_time", "status", "errors", "requests_by_name", "timeline",
		}},
		{"latency", []string{"latency"}, latency},
		{"service_time", []string{"service_time"}, latency},
		{"errors in kind order", []string{"errors"}, []string{
			"timeout", "refused", "reset", "dns", "tls", "body_read", "other", "invalid",
		}},
		{"requests_by_name", []string{"requests_by_name", "0"}, []string{
			"name", "requests", "failed", "retried", "rps", "latency", "status", "errors",
		}},
		{"timeline", []string{"timeline", "0"}, []string{
			"t_s", "span_s", "requests", "rps", "failed", "dropped", "connects", "clients", "bytes_in",
			"p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "errors",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := json.RawMessage(buf.Bytes())
			for _, p := range tt.path {
				if p[0] >= '0' && p[0] <= '9' {
					var a []json.RawMessage
					if err := json.Unmarshal(raw, &a); err != nil || len(a) == 0 {
						t.Fatalf("%s: not a non-empty array: %v", p, err)
					}
					raw = a[0]
					continue
				}
				var o map[string]json.RawMessage
				if err := json.Unmarshal(raw, &o); err != nil {
					t.Fatal(err)
				}
				raw = o[p]
			}
			if got := objectKeys(t, raw); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("keys\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// objectKeys returns the keys of a JSON object in the order they appear.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestSummaryJSONRoundTrip: a stored summary decodes into a Summary that
// encodes to the same bytes (history and compare read these files back).
func TestSummaryJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
		run  *metrics.Run
	}{
		{"closed", closedMeta(), simpleRun()},
		{"open shop", shopMeta(), shopRun()},
		{"websocket", wsMeta(), wsRun(false)},
		{"empty", Meta{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first, second bytes.Buffer
			if err := NewSummary(tt.meta, tt.run).WriteJSON(&first); err != nil {
				t.Fatal(err)
			}
			var s Summary
			if err := json.Unmarshal(first.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteJSON(&second); err != nil {
				t.Fatal(err)
			}
			if first.String() != second.String() {
				t.Errorf("round trip changed the JSON:\n%s\n---\n%s", first.String(), second.String())
			}
		})
	}
}

func TestErrorCountsUnknownKind(t *testing.T) {
	var c ErrorCounts
	if err := json.Unmarshal([]byte(`{"timeout":2,"quic":3,"other":1}`), &c); err != nil {
		t.Fatal(err)
	}
	if c[metrics.ErrTimeout] != 2 || c[metrics.ErrOther] != 4 || c.Total() != 6 {
		t.Errorf("got %v, want timeout 2, other 4 (1 + unknown 3)", c)
	}
}

// TestSummaryNoNaN feeds degenerate inputs; the JSON must stay valid.
func TestSummaryNoNaN(t *testing.T) {
	tests := []struct {
		name string
		meta Meta
	}{
		{"zero elapsed", Meta{Model: ModelClosed}},
		{"negative elapsed", Meta{Model: ModelOpen, Elapsed: -time.Second, Scheduled: 10}},
		{"infinite cap", Meta{Model: ModelClosed, Elapsed: time.Second, MaxRPS: math.Inf(1)}},
		{"NaN cap", Meta{Model: ModelClosed, Elapsed: time.Second, MaxRPS: math.NaN()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewSummary(tt.meta, simpleRun()).WriteJSON(&buf); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			if !json.Valid(buf.Bytes()) {
				t.Fatalf("invalid JSON:\n%s", buf.String())
			}
			if err := NewSummary(tt.meta, simpleRun()).WriteText(&bytes.Buffer{}); err != nil {
				t.Fatalf("WriteText: %v", err)
			}
		})
	}
}

// TestGolden compares the text and JSON forms with testdata/; refresh them
// with `go test ./report/ -update` and review the diff.
func TestGolden(t *testing.T) {
	capped := closedMeta()
	capped.MaxRPS, capped.RampUp, capped.Clients = 200, 30*time.Second, 1200
	tests := []struct {
		name, file string
		meta       Meta
		run        *metrics.Run
		json       bool
	}{
		{"open interrupted", "summary.golden", shopMeta(), shopRun(), false},
		{"open interrupted json", "summary.json.golden", shopMeta(), shopRun(), true},
		{"closed", "summary_closed.golden", closedMeta(), simpleRun(), false},
		{"closed capped", "summary_capped.golden", capped, simpleRun(), false},
		{"no responses", "summary_empty.golden", Meta{Target: "http://[::1]:9/", Model: ModelClosed}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := NewSummary(tt.meta, tt.run)
			write := s.WriteText
			if tt.json {
				write = s.WriteJSON
			}
			if err := write(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("%s differs (run with -update to accept)\n got:\n%s\nwant:\n%s", path, buf.String(), want)
			}
		})
	}
}

// TestWriteTextLines checks the parts that come and go with the run.
func TestWriteTextLines(t *testing.T) {
	capped := closedMeta()
	capped.MaxRPS = 200
	tests := []struct {
		name    string
		meta    Meta
		run     *metrics.Run
		want    []string
		notWant []string
	}{
		{
			name: "closed uncapped",
			meta: closedMeta(),
			run:  simpleRun(),
			want: []string{
				"fuka attack  GET http://127.0.0.1:8080/?a=1&b=2   closed model, 4 clients, 2s\n",
				"  requests     200   100.0/s\n",
				"  failed       2 (1.00%): 1 HTTP ≥ 400, 1 transport error\n",
				"  data in      193.8 KiB  96.9 KiB/s     out 19.5 KiB\n",
				"  latency      min 1.00ms  mean 26.2ms  p50 1.00ms  p90 1.00ms  p95 2.00ms  p99 5.00ms  p99.9 5.00s   max 5.00s\n",
				"               (measured from the send: closed model)\n",
				"  status       200: 198   503: 1\n",
				"  errors       transport errors: timeout 1\n",
			},
			notWant: []string{"requested", "dropped", "service time", "by request", "interrupted"},
		},
		{
			name: "closed capped",
			meta: capped,
			run:  simpleRun(),
			want: []string{"max 200/s, 2s\n", "  requests     200   100.0/s   (cap 200/s, achieved 50.0%)\n"},
		},
		{
			name: "open interrupted",
			meta: shopMeta(),
			run:  shopRun(),
			want: []string{
				"fuka run  shop  http://127.0.0.1:8080   open model, rate 100:10s, 20 clients (max 50), 10s\n",
				"  starts       250 of 265 due   (requested 106/s, achieved 94.3%)   dropped 15 (5.66%)\n",
				"  requests     250   100.0/s\n",
				"  failed       5 (2.00%): 1 HTTP ≥ 400, 1 invalid status, 3 transport errors\n",
				"(measured from the intended start: open model, no coordinated omission)\n",
				"  service time min 700µs",
				"  status       200: 245   500: 1   invalid: 1\n",
				"  errors       transport errors: timeout 2  reset 1\n",
				"  by request   name           requests   rps",
				"  ended        early, after 2.50s of 10s: interrupted\n",
			},
		},
		{
			name:    "no responses",
			meta:    Meta{Model: ModelClosed},
			run:     nil,
			want:    []string{"  latency      no responses\n", "  status       none\n", "  errors       transport errors: none\n"},
			notWant: []string{"NaN", "Inf", "measured from"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewSummary(tt.meta, tt.run).WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("unexpected %q in\n%s", w, out)
				}
			}
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrors(t *testing.T) {
	s := NewSummary(closedMeta(), simpleRun())
	tests := []struct {
		name  string
		write func() error
	}{
		{"text", func() error { return s.WriteText(failWriter{}) }},
		{"json", func() error { return s.WriteJSON(failWriter{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); err == nil {
				t.Fatal("no error from a failing writer")
			}
		})
	}
}

// TestWriteFormat: Write is WriteText or WriteJSON by -o's value, and
// refuses any other format.
func TestWriteFormat(t *testing.T) {
	s := NewSummary(closedMeta(), simpleRun())
	var text, js bytes.Buffer
	s.WriteText(&text)
	s.WriteJSON(&js)
	for format, want := range map[string]string{"text": text.String(), "json": js.String()} {
		t.Run(format, func(t *testing.T) {
			var got bytes.Buffer
			if err := s.Write(&got, format); err != nil || got.String() != want {
				t.Errorf("Write(%s) = %v:\n%s", format, err, got.String())
			}
		})
	}
	var got bytes.Buffer
	if err := s.Write(&got, "yaml"); err == nil || err.Error() != `-o "yaml": want text or json` || got.Len() != 0 {
		t.Errorf("yaml: %v, wrote %q", err, got.String())
	}
}

func TestCheckMark(t *testing.T) {
	tests := []struct {
		name          string
		passes, fails int64
		want          string
	}{
		{"passed", 10, 0, "✓"},
		{"failed once", 10, 1, "✗"},
		{"only failed", 0, 3, "✗"},
		{"never evaluated", 0, 0, "–"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (CheckSummary{Passes: tt.passes, Fails: tt.fails}).Mark(); got != tt.want {
				t.Errorf("Mark() = %q, want %q", got, tt.want)
			}
		})
	}
}
