package output

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuka-load/fuka/report"
)

// webhook is a Slack-style incoming webhook that answers with the given
// statuses in turn (200 once they run out) and keeps what it was sent.
type webhook struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	delay    time.Duration
}

func newWebhook(t *testing.T, delay time.Duration, statuses ...int) *webhook {
	w := &webhook{statuses: statuses, delay: delay}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(rw, "want a JSON POST", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.bodies = append(w.bodies, b)
		status := http.StatusOK
		if len(w.statuses) > 0 {
			status, w.statuses = w.statuses[0], w.statuses[1:]
		}
		w.mu.Unlock()
		if w.delay > 0 {
			select {
			case <-time.After(w.delay):
			case <-r.Context().Done():
			}
		}
		rw.WriteHeader(status)
		rw.Write([]byte("ok"))
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) received() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bodies
}

// slackMessage is what a Slack-compatible receiver decodes.
type slackMessage struct {
	Text   string `json:"text"`
	Mrkdwn *bool  `json:"mrkdwn"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"fields"`
	} `json:"blocks"`
}

// testNotifier is Notify with timings short enough for tests.
func testNotifier() notifier {
	return notifier{client: &http.Client{}, timeout: 300 * time.Millisecond, backoff: 10 * time.Millisecond}
}

func TestNotifyMessage(t *testing.T) {
	shop := shopSummary(feed(shopNames, shopTicks, nil))
	pass := shopSummary(feed(shopNames, shopTicks, nil))
	pass.Thresholds = pass.Thresholds[1:]
	none := shopSummary(feed(shopNames, shopTicks, nil))
	none.Thresholds, none.Interrupted = nil, true
	evil := shopSummary(feed(shopNames, shopTicks, nil))
	evil.Name = `"><img src=x onerror=alert(1)> <!channel> *bold* <https://evil.example|click> \u2028`
	multiline := shopSummary(feed(shopNames, shopTicks, nil))
	multiline.Name = "line one\nline two\r\tend"
	quick := report.NewSummary(report.Meta{Method: "GET", Target: "https://user:pw@127.0.0.1:8443/api?token=secret#frag"}, nil)

	tests := []struct {
		name string
		sum  *report.Summary
		text string
	}{
		{"thresholds fail", shop, "fuka run shop: 257 requests, 102.8/s, p95 300ms, p99 300ms, errors 2.72% — thresholds: FAIL (1 failed)"},
		{"thresholds pass", pass, "fuka run shop: 257 requests, 102.8/s, p95 300ms, p99 300ms, errors 2.72% — thresholds: PASS (0 failed)"},
		{"no thresholds, interrupted", none, "fuka run shop (interrupted): 257 requests, 102.8/s, p95 300ms, p99 300ms, errors 2.72% — thresholds: none"},
		{"hostile name", evil, "fuka run " + evil.Name + ": 257 requests"},
		{"control characters", multiline, "fuka run line one line two  end: 257 requests"},
		{"quick mode hides credentials and query", quick, "fuka run GET https://127.0.0.1:8443/api: 0 requests, 0.0/s, p95 0ms, p99 0ms, errors 0.00% — thresholds: none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := newWebhook(t, 0)
			if err := testNotifier().notify(context.Background(), hook.URL, tt.sum); err != nil {
				t.Fatal(err)
			}
			bodies := hook.received()
			if len(bodies) != 1 {
				t.Fatalf("%d posts, want 1", len(bodies))
			}
			body := bodies[0]
			var m slackMessage
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if !strings.HasPrefix(m.Text, tt.text) {
				t.Errorf("text\n %q\nwant prefix\n %q", m.Text, tt.text)
			}
			if strings.ContainsAny(m.Text, "\n\r\t") {
				t.Errorf("text %q is not one line", m.Text)
			}
			if m.Mrkdwn == nil || *m.Mrkdwn {
				t.Error(`want "mrkdwn": false, so the text is not read as markup`)
			}
			// Hostile characters travel JSON-escaped, never raw.
			if bytes.ContainsAny(body, "<>&") {
				t.Errorf("body has raw <, > or &: %s", body)
			}
			if len(m.Blocks) != 2 || m.Blocks[0].Text == nil || len(m.Blocks[1].Fields) != 6 {
				t.Fatalf("blocks = %+v, want a title section and a section of 6 fields", m.Blocks)
			}
			if got, want := m.Blocks[0].Text.Text, "fuka run "+runName(tt.sum); got != want {
				t.Errorf("title %q, want %q", got, want)
			}
			for _, f := range append(m.Blocks[1].Fields, *m.Blocks[0].Text) {
				if f.Type != "plain_text" {
					t.Errorf("field %q is %s, want plain_text", f.Text, f.Type)
				}
			}
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "pw@") {
				t.Errorf("body leaks credentials: %s", body)
			}
		})
	}
}

func TestNotifyDelivery(t *testing.T) {
	sum := shopSummary(feed(shopNames, shopTicks, nil))
	tests := []struct {
		name     string
		delay    time.Duration
		statuses []int
		posts    int
		wantErr  string // "" = success
	}{
		{"ok", 0, nil, 1, ""},
		{"accepted", 0, []int{http.StatusNoContent}, 1, ""},
		{"5xx then ok", 0, []int{http.StatusServiceUnavailable}, 2, ""},
		{"5xx twice", 0, []int{http.StatusInternalServerError, http.StatusBadGateway}, 2, "502"},
		{"4xx is not retried", 0, []int{http.StatusNotFound}, 1, "404"},
		{"timeout", time.Second, nil, 1, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := newWebhook(t, tt.delay, tt.statuses...)
			err := testNotifier().notify(context.Background(), hook.URL+"/services/T0/B0/SECRET", sum)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("notify: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("notify = %v, want an error with %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "SECRET"):
				t.Errorf("error %q shows the webhook URL, which is a secret", err)
			}
			if got := len(hook.received()); got != tt.posts {
				t.Errorf("%d posts, want %d", got, tt.posts)
			}
		})
	}
}

func TestNotifyRefuses(t *testing.T) {
	sum := report.NewSummary(report.Meta{Name: "x"}, nil)
	tests := []struct {
		name string
		url  string
		sum  *report.Summary
	}{
		{"no scheme", "hooks.example/T0", sum},
		{"ftp", "ftp://127.0.0.1/x", sum},
		{"empty", "", sum},
		{"no summary", "http://127.0.0.1:1/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Notify(context.Background(), tt.url, tt.sum); err == nil {
				t.Error("Notify succeeded, want an error")
			}
		})
	}
}

func TestNotifyCancelledDuringBackoff(t *testing.T) {
	hook := newWebhook(t, 0, http.StatusServiceUnavailable)
	n := testNotifier()
	n.backoff = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := n.notify(ctx, hook.URL, report.NewSummary(report.Meta{Name: "x"}, nil))
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("notify = %v, want the retry cancelled", err)
	}
}

func TestMsText(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0ms"}, {0.812, "0.812ms"}, {1.234, "1.23ms"}, {12.34, "12.3ms"}, {245.6, "246ms"}, {1200, "1200ms"},
	}
	for _, tt := range tests {
		if got := msText(tt.ms); got != tt.want {
			t.Errorf("msText(%v) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}
