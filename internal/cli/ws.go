package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/report"
	"github.com/fuka-load/fuka/run"
	"github.com/fuka-load/fuka/ws"
)

// wsFlags are quick mode's WebSocket options (a ws:// or wss:// URL).
type wsFlags struct {
	send, expect, expectRe string
	protos                 []string
	binary                 bool
}

func addWSFlags(fl *pflag.FlagSet, f *wsFlags) {
	fl.StringVar(&f.send, "ws-send", "", "ws:// URL: the message each start sends (a template: {{ seq }}, {{ client_id }}, ...)")
	fl.StringVar(&f.expect, "ws-expect", "", "ws:// URL: the round trip ends at the first message containing this text")
	fl.StringVar(&f.expectRe, "ws-expect-regex", "", "ws:// URL: ... or matching this regular expression")
	fl.StringSliceVar(&f.protos, "ws-subprotocol", nil, "ws:// URL: subprotocols offered in the handshake")
	fl.BoolVar(&f.binary, "ws-binary", false, "ws:// URL: send binary messages (default text)")
}

// isWS says whether rawURL is a WebSocket URL.
func isWS(rawURL string) bool {
	s := strings.ToLower(rawURL)
	return strings.HasPrefix(s, "ws://") || strings.HasPrefix(s, "wss://")
}

// wsConfig is `fuka attack ws://...`: the load flags as for HTTP (the
// same checks and meta), the work a ws.Quick. It runs on the net/http
// pool, one goroutine per client.
func (f *attackFlags) wsConfig(rawURL string, fl *pflag.FlagSet) (engine.Config, report.Meta, error) {
	var zero engine.Config
	for _, name := range []string{"method", "body", "body-file", "http2", "http1"} {
		if fl.Changed(name) {
			return zero, report.Meta{}, fmt.Errorf("--%s is for HTTP; a WebSocket URL sends --ws-send", name)
		}
	}
	if fl.Changed("phases") {
		return zero, report.Meta{}, errors.New("--phases breaks down HTTP requests; a WebSocket attack has no phases")
	}
	if f.cluster.distributed() {
		return zero, report.Meta{}, errors.New("a WebSocket attack runs on one machine for now (no --workers)")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return zero, report.Meta{}, err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if f.ws.send == "" {
		return zero, report.Meta{}, errors.New("a WebSocket URL needs --ws-send: the message each start sends")
	}
	q := &ws.Quick{URL: u, Send: f.ws.send, Binary: f.ws.binary, Protos: f.ws.protos,
		Expect: ws.Match{Contains: f.ws.expect}, Timeout: f.Timeout, Name: f.Name, Insecure: f.Insecure,
		PerStart: f.Rate != "", Header: http.Header{}}
	if f.ws.expectRe != "" {
		if q.Expect.Regexp, err = regexp.Compile(f.ws.expectRe); err != nil {
			return zero, report.Meta{}, fmt.Errorf("--ws-expect-regex: %w", err)
		}
	}
	if err := q.Validate(); err != nil {
		return zero, report.Meta{}, err
	}
	// The load and its meta are HTTP quick mode's, for the same URL over
	// http(s): one place checks the load flags.
	hu := *u
	hu.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	cfg, meta, job, err := f.Config(hu.String(), fl.Changed("duration"), version())
	if err != nil {
		return zero, meta, err
	}
	for _, h := range job.GetHeaders() {
		q.Header.Add(h.GetKey(), h.GetValue())
	}
	if q.Header.Get("User-Agent") == "" {
		q.Header.Set("User-Agent", "fuka/"+version())
	}
	cfg.Work = engine.Plan{Scenario: q}
	meta.Target, meta.Method = u.String(), "WS"
	return cfg, meta, nil
}

// runWS runs a WebSocket attack: the same run pipeline as HTTP's.
func (f *attackFlags) runWS(cmd *cobra.Command, stdio Stdio, rawURL string) error {
	cfg, meta, err := f.wsConfig(rawURL, cmd.Flags())
	if err != nil {
		return err
	}
	note, err := run.AttackPreflight(&cfg, &meta, cmd.Flags().Changed("max-clients"))
	if note != "" {
		fmt.Fprintf(stdio.Err, "fuka: note: %s\n", note)
	}
	if err != nil {
		return err
	}
	return execute(cmd.Context(), f.out.spec(stdio, cfg, meta, nil))
}

// wsFlagsWithoutWS refuses --ws-* flags with a URL that is not ws://.
func wsFlagsWithoutWS(fl *pflag.FlagSet) error {
	for _, name := range []string{"ws-send", "ws-expect", "ws-expect-regex", "ws-subprotocol", "ws-binary"} {
		if fl.Changed(name) {
			return fmt.Errorf("--%s is for a WebSocket URL (ws:// or wss://)", name)
		}
	}
	return nil
}
