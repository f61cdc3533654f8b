package run

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/ws"
)

// A WebSocket attack travels as an attack job like an HTTP one: its URL is
// ws:// or wss://, its round trip in the job's ws message, and name,
// headers, timeout, insecure and user agent in the job's own fields, so
// that a distributed run's workers build the same ws.Quick as the
// controller (wsAttackConfig).

// IsWSURL says whether rawURL is a WebSocket URL.
func IsWSURL(rawURL string) bool {
	s := strings.ToLower(rawURL)
	return strings.HasPrefix(s, "ws://") || strings.HasPrefix(s, "wss://")
}

// wsJob fills j's WebSocket fields from the flags; a URL that is not a
// WebSocket one leaves j alone.
func (f *AttackFlags) wsJob(j *fukapb.AttackJob, rawURL string) error {
	if !IsWSURL(rawURL) {
		return nil
	}
	if f.WS == nil || f.WS.GetSend() == "" {
		return errors.New("a WebSocket URL needs --ws-send: the message each start sends")
	}
	j.Ws = f.WS // checked with the load, by AttackConfig (wsQuick)
	return nil
}

// wsQuick is the ws.Quick of a WebSocket attack job, checked.
func wsQuick(j *fukapb.AttackJob) (*ws.Quick, error) {
	u, err := url.Parse(j.GetUrl())
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	m := j.GetWs()
	q := &ws.Quick{URL: u, Send: m.GetSend(), Binary: m.GetBinary(), Protos: m.GetSubprotocols(),
		Expect: ws.Match{Contains: m.GetExpect()}, Timeout: time.Duration(j.GetTimeoutNanos()), Name: j.GetName(),
		Insecure: j.GetInsecure(), PerStart: j.GetLoad().GetRate() != nil, Header: http.Header{}}
	if re := m.GetExpectRegex(); re != "" {
		if q.Expect.Regexp, err = regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("--ws-expect-regex: %w", err)
		}
	}
	for _, h := range j.GetHeaders() {
		q.Header.Add(h.GetKey(), h.GetValue())
	}
	if q.Header.Get("User-Agent") == "" && j.GetUserAgent() != "" {
		q.Header.Set("User-Agent", j.GetUserAgent())
	}
	return q, q.Validate()
}

// wsAttackConfig is a WebSocket attack job's configuration: on the
// net/http pool, one goroutine per client.
func wsAttackConfig(j *fukapb.AttackJob) (engine.Config, error) {
	q, err := wsQuick(j)
	if err != nil {
		return engine.Config{}, err
	}
	load, err := attackLoad(j.GetLoad())
	if err != nil {
		return engine.Config{}, err
	}
	return engine.Config{Load: load, Work: engine.Plan{Scenario: q}}, nil
}
