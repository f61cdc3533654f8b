package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/monitor"
)

type agentFlags struct {
	listen    string
	tokenFile string
	proc      string
}

func newAgent(stdio Stdio) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent --token-file FILE",
		Short: "Serve this host's CPU, memory, TCP, disk and network samples to a fuka controller",
		Long: `agent runs on a host under test and samples its resources every second
(CPU, load, memory, swap, TCP states, disks, network, from procfs). A fuka
run that lists the host under monitor: [{agent: HOST:PORT}] fetches the
latest sample once a second and puts it on the run's timeline.

Requests must carry the token of --token-file as "Authorization: Bearer
TOKEN"; others get 401. Keep the file private (chmod 600). The agent listens
on loopback unless --listen names another address; traffic is plain HTTP,
so across a network the token is the only protection: use a private
network or a tunnel.`,
		Example: `  head -c 32 /dev/urandom | base64 > ~/.fuka-token && chmod 600 ~/.fuka-token
  fuka agent --token-file ~/.fuka-token
  fuka agent --listen 10.0.0.5:9810 --token-file /etc/fuka/token
  fuka agent --token-file token --proc /host/proc      # in a container, the host's procfs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd.Context(), stdio, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9810", "`ADDR` to serve on (host:port)")
	fl.StringVar(&f.tokenFile, "token-file", "", "`FILE` holding the token requests must present (required)")
	fl.StringVar(&f.proc, "proc", monitor.DefaultProc, "`DIR` where procfs is mounted")
	return cmd
}

func runAgent(ctx context.Context, stdio Stdio, f agentFlags) error {
	if f.tokenFile == "" {
		return errors.New("agent: --token-file is required: the agent serves nothing without a token")
	}
	token, err := readToken(stdio, f.tokenFile)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if _, err := os.Stat(filepath.Join(f.proc, "stat")); err != nil {
		return fmt.Errorf("agent: --proc %s is not a procfs: %w", f.proc, err)
	}
	log := slog.New(slog.NewTextHandler(stdio.Err, nil))
	agent, err := monitor.NewAgent(monitor.Local(f.proc), token, time.Second, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if !loopback(f.listen) {
		fmt.Fprintf(stdio.Err, "fuka agent: warning: listening on %s, beyond this host: the token is the only protection and traffic is plain HTTP\n", ln.Addr())
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
	fmt.Fprintf(stdio.Out, "fuka agent: serving %s samples on http://%s%s\n", f.proc, ln.Addr(), monitor.AgentPath)
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
func readToken(stdio Stdio, path string) (string, error) {
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
		fmt.Fprintf(stdio.Err, "fuka agent: warning: token file %s can be read by group or others (mode %04o): chmod 600 %s\n", path, perm, path)
	}
	if len(token) < 16 {
		fmt.Fprintf(stdio.Err, "fuka agent: warning: the token is %d characters; use 16 or more random ones\n", len(token))
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
