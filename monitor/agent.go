package monitor

import (
	"context"
	"crypto/rand"
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

// The agent protocol: the controller asks an agent on a target host for a
// sample, once a second, over plain HTTP.
//
//	GET /v1/sample?session=<id>
//	Authorization: Bearer <token>
//
//	200 {"at": "2025-01-02T15:04:05.123456789Z", "values": {"cpu.user_pct": 12.5, …}}
//	400 when the session id is not 1 to 64 letters, digits, '-' or '_'
//	401 (no body) when the token is missing or wrong
//	503 when every sampler failed (the body says why), or, without a
//	    session, when the agent's own loop has no recent sample
//
// With a session (a random id a controller picks for its run), the agent
// samples when asked: the controller asks on each tick of its run, so a
// sample is filed under the second it measured, whatever the two hosts'
// clocks say (they are never compared) and whatever the phase of the
// agent's own ticks. Rates are over the agent's monotonic time since the
// session's previous request, as a local sampler's are between two ticks.
// Each session keeps its own samplers (their previous readings); an agent
// keeps at most maxSessions, dropping the least recently used.
//
// Without a session (a controller older than sessions), the agent serves
// the latest sample of its own once-a-second loop, taken up to a second
// before the request. "at" is when the sample was taken, on the agent's
// clock.

// AgentPath is where an agent serves its samples.
const AgentPath = "/v1/sample"

// agentSample is the JSON body of a 200 from AgentPath.
type agentSample struct {
	At     time.Time          `json:"at"`
	Values map[string]float64 `json:"values"`
}

const (
	// maxSessions bounds the controllers an agent samples for at once:
	// each costs its samplers' previous readings.
	maxSessions = 16
	// sessionDeadline bounds a session's sample, so the answer reaches the
	// controller within its AgentTimeout.
	sessionDeadline = 600 * time.Millisecond
)

// Agent samples this host for whoever holds the token: on request, for a
// controller's session, and every interval on its own for requests
// without one. It is an http.Handler; run Run alongside the server.
type Agent struct {
	mon         *Monitor // the agent's own loop
	newSamplers func() []Sampler
	interval    time.Duration
	token       [sha256.Size]byte // hashed, so the comparison takes the same time whatever the lengths
	log         *slog.Logger
	now         func() time.Time // the agent's clock, for "at": time.Now but in tests

	mu       sync.Mutex
	start    time.Time // zero until Run starts
	sessions map[string]*agentSession
}

// agentSession is one controller's samplers, sampled when it asks.
type agentSession struct {
	mu    sync.Mutex // one sample at a time
	mon   *Monitor
	start time.Time
	used  time.Time // last request, for dropping the least recently used
}

var _ http.Handler = (*Agent)(nil)

// NewAgent returns an agent serving the values of samplers made by
// newSamplers (a set for its own loop, sampled every interval, and one
// per session) to requests bearing token, which must not be empty.
func NewAgent(newSamplers func() []Sampler, token string, interval time.Duration, log *slog.Logger) (*Agent, error) {
	if token == "" {
		return nil, errors.New("agent: empty token")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := New(newSamplers(), interval, log)
	m.history = false // it runs for days: keep only the latest point
	return &Agent{
		mon: m, newSamplers: newSamplers, interval: m.interval, log: log, now: time.Now,
		token: sha256.Sum256([]byte(token)), sessions: map[string]*agentSession{},
	}, nil
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
	var as agentSample
	if q := r.URL.Query(); q.Has("session") {
		id := q.Get("session")
		if !validSession(id) {
			http.Error(w, "bad session: want 1 to 64 letters, digits, '-' or '_'", http.StatusBadRequest)
			return
		}
		var err error
		if as, err = a.sessionSample(r.Context(), id); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
	} else {
		var ok bool
		if as, ok = a.latest(); !ok {
			http.Error(w, "no recent sample", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(as)
}

// latest is the agent's own loop's latest sample, if it is recent.
func (a *Agent) latest() (agentSample, bool) {
	a.mu.Lock()
	start := a.start
	a.mu.Unlock()
	p := a.mon.Latest()
	at := start.Add(p.At)
	// A sample older than a few intervals means the sampling loop is stuck:
	// say so rather than serve old numbers as new.
	if start.IsZero() || p.Values == nil || time.Since(at) > 3*a.interval {
		return agentSample{}, false
	}
	// at is on the monotonic clock Run started on; "at" is on the agent's.
	return agentSample{At: a.now().Add(-time.Since(at)).UTC(), Values: p.Values}, true
}

// sessionSample samples the session's samplers now. The first sample of a
// session has no rates (as a local sampler's first tick). A sampler that
// fails leaves its series out; when every one fails, the error says why.
func (a *Agent) sessionSample(ctx context.Context, id string) (agentSample, error) {
	s := a.session(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, fails := s.mon.tick(ctx, time.Since(s.start), time.Now().Add(sessionDeadline))
	s.mon.record(p, fails) // logs a sampler's failures and recoveries
	if len(fails) > 0 && len(fails) == len(s.mon.samplers) {
		msgs := make([]string, len(fails))
		for i, f := range fails {
			msgs[i] = f.Sampler + ": " + f.Err
		}
		return agentSample{}, errors.New("every sampler failed: " + strings.Join(msgs, "; "))
	}
	return agentSample{At: a.now().UTC(), Values: p.Values}, nil
}

// session returns the session id, made on its first request.
func (a *Agent) session(id string) *agentSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if s, ok := a.sessions[id]; ok {
		s.used = now
		return s
	}
	if len(a.sessions) >= maxSessions {
		oldest := ""
		for k, s := range a.sessions {
			if oldest == "" || s.used.Before(a.sessions[oldest].used) {
				oldest = k
			}
		}
		a.log.Info("agent: dropping the least recently used session", "session", oldest, "idle", now.Sub(a.sessions[oldest].used).Round(time.Second))
		closeSamplers(a.sessions[oldest].mon.samplers)
		delete(a.sessions, oldest)
	}
	m := New(a.newSamplers(), a.interval, a.log.With("session", id))
	m.history = false
	s := &agentSession{mon: m, start: now, used: now}
	a.sessions[id] = s
	return s
}

// closeSamplers closes the samplers that hold something (a connection).
func closeSamplers(ss []Sampler) {
	for _, s := range ss {
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
	}
}

// validSession reports whether id is 1 to 64 letters, digits, '-' or '_'.
func validSession(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
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
// agent at one address for a sample taken then, in a session of its own,
// and prefixes the series with "agent.<address>.", e.g.
// agent.10.0.0.5:9810.cpu.user_pct.
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
		url:    "http://" + addr + AgentPath + "?session=" + rand.Text(),
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
