// Package dashboard serves a live web view of a run while it goes on: charts
// of throughput, latency percentiles, clients and errors that update once a
// second, the totals so far, and a button that stops the run (which then
// writes its complete report, as after Ctrl-C).
//
// The run publishes its summary so far once a second ([Server.Publish]); the
// server fans it out to every open page as server-sent events. A page that
// cannot keep up is dropped (its browser reconnects and starts from the
// latest state), so a slow or stalled viewer never slows the run.
//
// The server binds to loopback by default. Bound to any other address it
// requires a token, which every request must carry as ?token= or as
// "Authorization: Bearer"; [Server.URL] includes it.
package dashboard

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fuka-load/fuka/report"
)

// DefaultAddr is where the dashboard listens when no address is given.
const DefaultAddr = "127.0.0.1:5665"

const (
	// clientQueue is how many events a page may fall behind before it is
	// dropped: a few seconds of a run.
	clientQueue = 8
	// writeTimeout bounds one write to a page, so that the goroutine serving
	// a stalled page ends too.
	writeTimeout = 5 * time.Second
)

// Server is a running dashboard. Its methods are safe for concurrent use.
type Server struct {
	ln    net.Listener
	host  string // as asked for in New
	srv   *http.Server
	token string
	stop  func()
	page  []byte // the page, rendered once
	csp   string

	stopOnce sync.Once

	mu      sync.Mutex
	clients map[*client]struct{}
	latest  *report.Summary   // the last published summary, for pages that join
	tl      []report.Interval // latest's timeline, appended to by PublishNew
	sentTL  int               // timeline points of latest already sent to every page
	sentRes int               // resource timeline points likewise
	final   *finalState       // set by Finish: the run is over
	closed  bool
}

// finalState is what Finish adds to the last event: pages that join after
// it get it too.
type finalState struct {
	reportURL string
}

// client is one open event stream.
type client struct {
	events chan []byte
	gone   chan struct{} // closed when the server drops the client
}

// New starts a dashboard on addr ("" for [DefaultAddr]). stop is called
// (once) when someone presses the page's stop button; nil disables the button.
//
// A token is required when addr is not a loopback address (an error
// otherwise); with a token every request must carry it. Without one, the
// server also refuses requests whose Host is not a loopback name, so a web
// page elsewhere cannot reach it by rebinding its own name to 127.0.0.1.
func New(addr, token string, stop func()) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: address %q: %w", addr, err)
	}
	if token == "" && !loopbackHost(host) {
		return nil, fmt.Errorf("dashboard: address %q is not loopback: a token is required to serve the dashboard there", addr)
	}
	page, csp, err := renderPage(stop != nil)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	s := &Server{
		ln: ln, host: host, token: token, stop: stop, page: page, csp: csp,
		clients: make(map[*client]struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePage)
	mux.HandleFunc("GET /events", s.serveEvents)
	mux.HandleFunc("POST /stop", s.serveStop)
	s.srv = &http.Server{
		Handler:           s.guard(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	go func() { _ = s.srv.Serve(ln) }() // http.ErrServerClosed after Close
	return s, nil
}

// loopbackHost reports whether host names this machine only: "localhost" or
// a loopback IP. An empty host (all interfaces) is not loopback.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// URL is the address of the page, with the token when there is one. An
// unspecified listen address (0.0.0.0, [::]) is shown as loopback, the
// address that opens the page on this machine.
func (s *Server) URL() string {
	a := s.ln.Addr().(*net.TCPAddr)
	ip := a.IP
	if ip.IsUnspecified() {
		// Go listens dual-stack on "0.0.0.0" and ":" alike and reports "::";
		// only an IPv6 address asked for ("[::]:5665") gets the IPv6 loopback.
		ip = net.IPv4(127, 0, 0, 1)
		if strings.Contains(s.host, ":") {
			ip = net.IPv6loopback
		}
	}
	u := "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(a.Port)) + "/"
	if s.token != "" {
		u += "?token=" + url.QueryEscape(s.token)
	}
	return u
}

// Close stops serving: open pages are disconnected.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.clients {
		s.drop(c)
	}
	s.mu.Unlock()
	// Let answers in flight (a stop's 202) finish; then close whatever is
	// left, such as connections a browser opened and never used.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return s.srv.Close()
		}
		return errors.Join(err, s.srv.Close())
	}
	return nil
}

// event is what one publish sends to the pages. To keep events small over a
// long run, the timelines carry only the points the pages do not have yet:
// the summary's timeline continues the page's from TimelineFrom (and its
// resources' timeline from ResourcesFrom). A page that joins gets the whole
// summary first, with both offsets 0.
//
// The run's last event has Final set: the summary is the run's final one
// (as the report has it), no event follows, and the page stops listening
// instead of reconnecting. ReportURL is then the HTML report's file:// URL,
// when one was written.
type event struct {
	TimelineFrom  int             `json:"timeline_from"`
	ResourcesFrom int             `json:"resources_from"`
	Summary       *report.Summary `json:"summary"`
	Final         bool            `json:"final,omitempty"`
	ReportURL     string          `json:"report_url,omitempty"`
}

// Publish sends the run so far to every open page; a run calls it once a
// second with report.NewSummary of its live metrics.Run. It never blocks on
// a page: one that has fallen clientQueue events behind is dropped, and its
// browser reconnects. sum must not be changed after the call (build a new
// one each time, as report.NewSummary does).
func (s *Server) Publish(sum *report.Summary) {
	if sum == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.final != nil {
		return
	}
	s.tl = sum.Timeline[:len(sum.Timeline):len(sum.Timeline)]
	s.publish(sum)
}

// Finish sends the run's final summary (the one its report has) to every
// open page, and to pages that open later: they show it as the run's end,
// with a link to the HTML report named in sum.ReportFile, and stop
// listening. Publish and PublishNew do nothing after it.
func (s *Server) Finish(sum *report.Summary) {
	if sum == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.final != nil {
		return
	}
	s.final = &finalState{}
	if sum.ReportFile != "" {
		if abs, err := filepath.Abs(sum.ReportFile); err == nil {
			s.final.reportURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
		}
	}
	s.tl = sum.Timeline[:len(sum.Timeline):len(sum.Timeline)]
	s.publish(sum)
}

// PublishNew is Publish for a run that grows a second at a time, without
// rebuilding its whole timeline every second (a day-long run has 86,400
// points): sum's timeline holds only the points since the previous call —
// report.NewSummary of the run with its Timeline cut at the points already
// published. The server appends them to the timeline it keeps for pages
// that join.
func (s *Server) PublishNew(sum *report.Summary) {
	if sum == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.final != nil {
		return
	}
	s.tl = append(s.tl, sum.Timeline...)
	full := *sum
	// Capped, so that a later append never writes into what a joining
	// page is encoding.
	full.Timeline = s.tl[:len(s.tl):len(s.tl)]
	s.publish(&full)
}

// publish sends sum, which has the run's whole timeline; s.mu is held.
func (s *Server) publish(sum *report.Summary) {
	// A timeline shorter than what was sent is a new run: start over.
	if len(sum.Timeline) < s.sentTL {
		s.sentTL = 0
	}
	delta := *sum
	delta.Timeline = sum.Timeline[s.sentTL:]
	ev := event{TimelineFrom: s.sentTL, Summary: &delta}
	if s.final != nil {
		ev.Final, ev.ReportURL = true, s.final.reportURL
	}
	if sum.Resources != nil {
		if len(sum.Resources.Timeline) < s.sentRes {
			s.sentRes = 0
		}
		res := *sum.Resources
		res.Timeline = res.Timeline[s.sentRes:]
		delta.Resources = &res
		ev.ResourcesFrom = s.sentRes
		s.sentRes = len(sum.Resources.Timeline)
	} else {
		s.sentRes = 0
	}
	s.sentTL = len(sum.Timeline)
	s.latest = sum

	if len(s.clients) == 0 {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return // a summary that does not encode has nothing to show
	}
	for c := range s.clients {
		select {
		case c.events <- b:
		default:
			s.drop(c)
		}
	}
}

// drop ends a client's stream; s.mu is held.
func (s *Server) drop(c *client) {
	delete(s.clients, c)
	close(c.gone)
}

// guard checks the token, or without one that the request came to a
// loopback name.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token != "" {
			if !s.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="fuka dashboard"`)
				http.Error(w, "a valid token is required (?token= or Authorization: Bearer)", http.StatusUnauthorized)
				return
			}
		} else {
			host := r.Host
			if h, _, err := net.SplitHostPort(r.Host); err == nil {
				host = h
			}
			if !loopbackHost(host) {
				http.Error(w, "the dashboard answers on loopback names only", http.StatusForbidden)
				return
			}
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer") // the URL may hold the token
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	got := r.URL.Query().Get("token")
	if a := r.Header.Get("Authorization"); got == "" && len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		got = strings.TrimSpace(a[7:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The header can say what the meta tag cannot: no framing.
	w.Header().Set("Content-Security-Policy", s.csp+"; frame-ancestors 'none'")
	_, _ = w.Write(s.page) // an error is a browser that went away
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	c := &client{events: make(chan []byte, clientQueue), gone: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "the dashboard is closing", http.StatusServiceUnavailable)
		return
	}
	s.clients[c] = struct{}{}
	join := event{Summary: s.latest}
	if s.final != nil {
		join.Final, join.ReportURL = true, s.final.reportURL
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if _, ok := s.clients[c]; ok {
			s.drop(c)
		}
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every writer has deadlines
		if _, err := fmt.Fprintf(w, "event: summary\ndata: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// retry: how soon the browser reconnects after a drop, in ms.
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	if join.Summary != nil {
		// Events published after this one are already queued for the client
		// and continue this timeline.
		b, err := json.Marshal(join)
		if err != nil || !send(b) {
			return
		}
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.gone:
			// Closed: what was published before still goes out (the run's
			// final summary is published just before the close). A page
			// dropped for falling behind gets nothing more.
			s.mu.Lock()
			closing := s.closed
			s.mu.Unlock()
			for closing {
				select {
				case b := <-c.events:
					if !send(b) {
						return
					}
				default:
					return
				}
			}
			return
		case b := <-c.events:
			if !send(b) {
				return
			}
		}
	}
}

// serveStop stops the run, once. It takes a POST from the page itself only:
// a browser sends Origin with a cross-site POST, and Sec-Fetch-Site.
func (s *Server) serveStop(w http.ResponseWriter, r *http.Request) {
	if s.stop == nil {
		http.Error(w, "this run cannot be stopped from the dashboard", http.StatusNotImplemented)
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	s.stopOnce.Do(s.stop)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, `{"stopping":true}`)
}
