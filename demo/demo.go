// Package demo is the small shop API that `fuka demo` starts on 127.0.0.1 and
// then attacks.
//
// It exists so that a new user sees a real load test, with real numbers, in the
// first minute and with no setup: no target to find, no permission to ask, no
// risk of load-testing someone else's production by accident. To make the
// report worth reading, the app behaves like a typical backend rather than an
// echo server: some endpoints are fast static pages, some return JSON, one needs
// a login token, one is slow, one fails now and then, and one is large.
//
// The same routes are available as [Handler] for httptest servers in other
// packages' tests.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// shutdownGrace bounds how long Close waits for in-flight requests. The
// slowest endpoint answers within 250ms, so 2s is generous; past it the
// remaining connections are cut rather than holding up the CLI's exit.
const shutdownGrace = 2 * time.Second

// Server is a running demo app. Create it with [Start]; it stops when the
// context given to Start is done or when Close is called, whichever is first.
type Server struct {
	srv      *http.Server
	ln       net.Listener
	app      *app
	grpc     *GRPCServer
	served   atomic.Int64
	serveErr chan error    // receives Serve's return value exactly once
	closing  chan struct{} // closed by Close, so the context watcher exits
	once     sync.Once
	closeErr error
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves the demo app until
// ctx is done or Close is called. It returns once the listener is open, so
// URL is immediately usable.
func Start(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen on %s: %w", addr, err)
	}
	s := &Server{
		ln:       ln,
		app:      newApp(newKey()),
		grpc:     newGRPC(nil),
		serveErr: make(chan error, 1),
		closing:  make(chan struct{}),
	}
	// One port for everything, so a plan or an attack needs one address:
	// HTTP/1.1 (and WebSocket upgrades) as before, and HTTP/2 without TLS
	// (prior knowledge, as gRPC clients speak it) for the gRPC service.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.srv = &http.Server{
		Handler:   s.route(),
		Protocols: &protocols,
		// Slowloris protection costs nothing and the demo should model
		// a server configured the way we tell users to configure theirs.
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		// Under a heavy attack net/http logs accept retries and
		// client resets to stderr; in the demo that stderr is the
		// user's terminal, showing the attack's progress, and those
		// lines would only bury it.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close() // the error is kept for the caller's own Close
		case <-s.closing:
		}
	}()
	return s, nil
}

// route sends gRPC calls to the gRPC service, which counts them by code,
// and counts every other request as it arrives. Counting on entry, not on
// return, guarantees that a client which has read its response also sees
// it in Served: a large body can reach the client before the handler
// returns.
func (s *Server) route() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGRPC(r) {
			s.grpc.srv.ServeHTTP(w, r)
			return
		}
		s.served.Add(1)
		s.app.ServeHTTP(w, r)
	})
}

// URL returns the base URL of the app, "http://" followed by [Server.Addr].
func (s *Server) URL() string { return "http://" + s.Addr() }

// Addr returns the address the app listens on, with the port chosen by the
// system when addr asked for port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Served returns how many requests the app has handled so far, including ones
// answered with an error status and WebSocket handshakes, not gRPC calls
// ([Server.GRPC]). It is safe to call at any time.
func (s *Server) Served() int64 { return s.served.Load() }

// GRPC is the gRPC service, fuka.demo.Cart with server reflection, that
// the app serves on its own port: grpc:// followed by [Server.Addr]. Its
// counters count the calls.
func (s *Server) GRPC() *GRPCServer { return s.grpc }

// WebSocket returns how many WebSocket connections /ws/echo and /ws/chat
// have accepted and how many messages they have received from clients.
func (s *Server) WebSocket() (conns, received int64) {
	return s.app.wsConns.Load(), s.app.wsReceived.Load()
}

// Close stops the app: it stops accepting connections, lets in-flight
// requests finish for up to 2s, then closes whatever is left. It is safe to
// call more than once and after the context passed to Start is done; every
// call returns the result of the first.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		var err error
		if serr := s.srv.Shutdown(ctx); serr != nil {
			err = errors.Join(fmt.Errorf("demo: shutdown: %w", serr), s.srv.Close())
		}
		if serr := <-s.serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, fmt.Errorf("demo: serve: %w", serr))
		}
		// After Shutdown, which let calls in flight end: GracefulStop
		// cannot drain calls that came through ServeHTTP.
		s.grpc.Close()
		s.closeErr = err
	})
	return s.closeErr
}
