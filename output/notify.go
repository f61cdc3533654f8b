package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fuka-load/fuka/report"
)

// Notify posts a short result message to a Slack-compatible incoming
// webhook (Slack, Mattermost, Rocket.Chat, Discord's /slack endpoint):
//
//	{"text": "fuka run shop: 12345 requests, 411.5/s, p95 12.3ms, p99 45.6ms,
//	          errors 0.12% — thresholds: PASS (0 failed)", "blocks": [...]}
//
// Each attempt has 5 s; a 5xx answer is retried once, a second later. Names
// from the plan are sent as plain text (never as markup, so "<!channel>" in
// a request name pings nobody), with control characters replaced by spaces.
func Notify(ctx context.Context, url string, sum *report.Summary) error {
	return defaultNotifier().notify(ctx, url, sum)
}

// notifier is Notify with its timings, which tests shorten.
type notifier struct {
	client  *http.Client
	timeout time.Duration // per attempt
	backoff time.Duration // before the retry
}

func defaultNotifier() notifier {
	return notifier{client: &http.Client{}, timeout: 5 * time.Second, backoff: time.Second}
}

func (n notifier) notify(ctx context.Context, target string, sum *report.Summary) error {
	if sum == nil {
		return errors.New("notify: no summary")
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("notify: want an http:// or https:// webhook URL")
	}
	body, err := json.Marshal(webhookMessage(sum))
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	retry, err := n.post(ctx, target, body)
	if retry {
		t := time.NewTimer(n.backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify: %w (retry cancelled: %w)", err, ctx.Err())
		case <-t.C:
		}
		_, err = n.post(ctx, target, body)
	}
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// post makes one attempt; retry says whether the answer was a 5xx. Errors
// never show the URL: a webhook URL is a secret.
func (n notifier) post(ctx context.Context, target string, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fuka")
	resp, err := n.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // drop the URL
		}
		return false, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	return resp.StatusCode >= 500, fmt.Errorf("webhook answered %s: %q", resp.Status, strings.TrimSpace(string(snippet)))
}

// message is the webhook body: text for notifications and clients without
// blocks, blocks for the rest. mrkdwn=false keeps the text literal.
type message struct {
	Text   string  `json:"text"`
	Mrkdwn bool    `json:"mrkdwn"`
	Blocks []block `json:"blocks"`
}

type block struct {
	Type   string       `json:"type"`
	Text   *textObject  `json:"text,omitempty"`
	Fields []textObject `json:"fields,omitempty"`
}

type textObject struct {
	Type string `json:"type"` // always plain_text
	Text string `json:"text"`
}

func plain(s string) textObject { return textObject{Type: "plain_text", Text: s} }

func webhookMessage(sum *report.Summary) message {
	name := runName(sum)
	verdict := thresholdVerdict(sum.Thresholds)
	p95, p99 := msText(sum.Latency.P95MS), msText(sum.Latency.P99MS)
	errPct := strconv.FormatFloat(sum.ErrorRate*100, 'f', 2, 64) + "%"
	rps := strconv.FormatFloat(sum.RPS, 'f', 1, 64) + "/s"
	requests := strconv.FormatInt(sum.Requests, 10)

	text := fmt.Sprintf("fuka run %s: %s requests, %s, p95 %s, p99 %s, errors %s — thresholds: %s",
		name, requests, rps, p95, p99, errPct, verdict)
	return message{
		Text: text,
		Blocks: []block{
			{Type: "section", Text: new(plain("fuka run " + name))},
			{Type: "section", Fields: []textObject{
				plain("Requests: " + requests),
				plain("Throughput: " + rps),
				plain("p95: " + p95),
				plain("p99: " + p99),
				plain("Errors: " + errPct),
				plain("Thresholds: " + verdict),
			}},
		},
	}
}

// runName is what the message calls the run: the plan's name, or in quick
// mode the method and the target without credentials or query (which may
// hold tokens).
func runName(sum *report.Summary) string {
	name := sum.Name
	if name == "" {
		target := sum.Target
		if u, err := url.Parse(target); err == nil && u.Host != "" {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			target = u.String()
		} else {
			target = ""
		}
		name = strings.TrimSpace(sum.Method + " " + target)
	}
	if name == "" {
		name = "(unnamed)"
	}
	name = clipRunes(plainText(name), 100)
	if sum.Interrupted {
		name += " (interrupted)"
	}
	return name
}

func thresholdVerdict(ts []report.ThresholdResult) string {
	if len(ts) == 0 {
		return "none"
	}
	failed := 0
	for _, t := range ts {
		if !t.Pass {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Sprintf("FAIL (%d failed)", failed)
	}
	return "PASS (0 failed)"
}

// msText renders milliseconds with three significant digits at most, down
// to the microsecond: 0ms, 0.812ms, 12.3ms, 245ms, 1200ms.
func msText(ms float64) string {
	prec := 0
	switch {
	case ms == 0:
	case ms < 1:
		prec = 3
	case ms < 10:
		prec = 2
	case ms < 100:
		prec = 1
	}
	return strconv.FormatFloat(ms, 'f', prec, 64) + "ms"
}

// plainText replaces control characters (newlines included) with spaces, so
// the message stays on one line.
func plainText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
