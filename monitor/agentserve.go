package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// AgentServer is `fuka agent`: an Agent sampling this host's procfs,
// served over HTTP to the controllers that present its token.
type AgentServer struct {
	Listen    string // host:port; loopback unless told otherwise
	TokenFile string // the token requests must present (required)
	Proc      string // where procfs is mounted
	// Now is the agent's clock, for the time of each sample it serves:
	// nil means time.Now (tests set a clock that is off). Where a sample
	// lands on a run's timeline never depends on it.
	Now func() time.Time
}

// Serve samples and serves until ctx ends (nil error) or serving fails.
// Warnings (a token file others can read, a short token, listening beyond
// this host) and where it serves are written on stderr and stdout.
func (s AgentServer) Serve(ctx context.Context, stdout, stderr io.Writer) error {
	if s.TokenFile == "" {
		return errors.New("agent: --token-file is required: the agent serves nothing without a token")
	}
	token, err := readToken(stderr, s.TokenFile)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if _, err := os.Stat(filepath.Join(s.Proc, "stat")); err != nil {
		return fmt.Errorf("agent: --proc %s is not a procfs: %w", s.Proc, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	agent, err := NewAgent(func() []Sampler { return Local(s.Proc) }, token, time.Second, log)
	if err != nil {
		return err
	}
	if s.Now != nil {
		agent.now = s.Now
	}
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if !loopback(s.Listen) {
		fmt.Fprintf(stderr, "fuka agent: warning: listening on %s, beyond this host: the token is the only protection and traffic is plain HTTP\n", ln.Addr())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		agent.Run(ctx)
	}()
	srv := &http.Server{
		Handler:           agent,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		<-ctx.Done()
		shutdown, stop := context.WithTimeout(context.Background(), 2*time.Second)
		defer stop()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(stdout, "fuka agent: serving %s samples on http://%s%s\n", s.Proc, ln.Addr(), AgentPath)
	err = srv.Serve(ln)
	cancel()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("agent: %w", err)
}

// readToken reads the token file: its content without surrounding space,
// which must not be empty. A file others can read is served anyway, with a
// warning, as ssh would not.
func readToken(stderr io.Writer, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("--token-file %s is empty", path)
	}
	if perm := fi.Mode().Perm(); perm&0o044 != 0 {
		fmt.Fprintf(stderr, "fuka agent: warning: token file %s can be read by group or others (mode %04o): chmod 600 %s\n", path, perm, path)
	}
	if len(token) < 16 {
		fmt.Fprintf(stderr, "fuka agent: warning: the token is %d characters; use 16 or more random ones\n", len(token))
	}
	return token, nil
}

// loopback reports whether listen (host:port) binds only to this host.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
