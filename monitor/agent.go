package monitor

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The agent protocol: the controller asks an agent on a target host for its
// latest sample, once a second, over plain HTTP.
//
//	GET /v1/sample
//	Authorization: Bearer <token>
//
//	200 {"at": "2025-01-02T15:04:05.123456789Z", "values": {"cpu.user_pct": 12.5, …}}
//	401 (no body) when the token is missing or wrong
//	503 when the agent has no recent sample
//
// The agent samples on its own clock, so its rates span whole intervals
// however irregularly it is asked, and a slow /proc read never holds up a
// request.

// AgentPath is where an agent serves its latest sample.
const AgentPath = "/v1/sample"

// agentSample is the JSON body of a 200 from AgentPath.
type agentSample struct {
	At     time.Time          `json:"at"`
	Values map[string]float64 `json:"values"`
}

// Agent samples this host every interval and serves the latest sample to
// whoever holds the token. It is an http.Handler; run Run alongside the
// server.
type Agent struct {
	mon      *Monitor
	interval time.Duration
	token    [sha256.Size]byte // hashed, so the comparison takes the same time whatever the lengths

	mu    sync.Mutex
	start time.Time // zero until Run starts
}

var _ http.Handler = (*Agent)(nil)

// NewAgent returns an agent serving samplers' values, sampled every
// interval, to requests bearing token, which must not be empty.
func NewAgent(samplers []Sampler, token string, interval time.Duration, log *slog.Logger) (*Agent, error) {
	if token == "" {
		return nil, errors.New("agent: empty token")
	}
	m := New(samplers, interval, log)
	m.history = false // it runs for days: keep only the latest point
	return &Agent{mon: m, interval: m.interval, token: sha256.Sum256([]byte(token))}, nil
}

// Run samples until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	start := time.Now()
	a.mu.Lock()
	a.start = start
	a.mu.Unlock()
	a.mon.Run(ctx, start)
}

// ServeHTTP implements http.Handler. Everything, even a wrong path, needs
// the token first, so nothing is learnt without it.
func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fuka agent"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path != AgentPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a.mu.Lock()
	start := a.start
	a.mu.Unlock()
	p := a.mon.Latest()
	at := start.Add(p.At)
	// A sample older than a few intervals means the sampling loop is stuck:
	// say so rather than serve old numbers as new.
	if start.IsZero() || p.Values == nil || time.Since(at) > 3*a.interval {
		http.Error(w, "no recent sample", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(agentSample{At: at.UTC(), Values: p.Values})
}

func (a *Agent) authorized(header string) bool {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1
}

// AgentSampler is the controller's side of an agent: each Sample asks the
// agent at one address for its latest sample and prefixes the series with
// "agent.<address>.", e.g. agent.10.0.0.5:9810.cpu.user_pct.
type AgentSampler struct {
	addr, url, prefix, token string
	client                   *http.Client
}

var _ Sampler = (*AgentSampler)(nil)

// AgentTimeout bounds one request to an agent, within a 1-second tick.
const AgentTimeout = 800 * time.Millisecond

// NewAgentSampler returns a sampler of the agent at addr (host:port, plain
// HTTP) that presents token.
func NewAgentSampler(addr, token string) Sampler {
	return &AgentSampler{
		addr:   addr,
		url:    "http://" + addr + AgentPath,
		prefix: "agent." + addr + ".",
		token:  token,
		client: &http.Client{
			// Never follow a redirect: it could carry the token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy:               nil, // an agent is reached directly
				MaxIdleConnsPerHost: 1,
				IdleConnTimeout:     30 * time.Second,
			},
		},
	}
}

// Name implements Sampler.
func (s *AgentSampler) Name() string { return "agent " + s.addr }

// Sample implements Sampler.
func (s *AgentSampler) Sample(ctx context.Context) ([]Value, error) {
	ctx, cancel := context.WithTimeout(ctx, AgentTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", s.addr, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", s.addr, err)
	}
	body := io.LimitReader(resp.Body, 1<<20)
	defer func() {
		_, _ = io.Copy(io.Discard, body) // so the connection is reused
		resp.Body.Close()
	}()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("agent %s: the agent refused the token (401)", s.addr)
	default:
		msg, _ := io.ReadAll(io.LimitReader(body, 200))
		return nil, fmt.Errorf("agent %s: %s: %s", s.addr, resp.Status, strings.TrimSpace(string(msg)))
	}
	var as agentSample
	if err := json.NewDecoder(body).Decode(&as); err != nil {
		return nil, fmt.Errorf("agent %s: bad sample: %w", s.addr, err)
	}
	vals := make([]Value, 0, len(as.Values))
	for name, v := range as.Values {
		vals = append(vals, Value{s.prefix + name, v})
	}
	return vals, nil
}
