package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/report"
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

// wsConfig is `fuka attack ws://...`: the attack job with its ws
// message (run.AttackFlags.WS), so that the load flags have the same
// checks and meta as HTTP's and a distributed run's workers build the
// same ws.Quick. It runs on the net/http pool, one goroutine per client.
func (f *attackFlags) wsConfig(rawURL string, fl *pflag.FlagSet) (engine.Config, report.Meta, *fukapb.AttackJob, error) {
	for _, name := range []string{"method", "body", "body-file", "http2", "http1"} {
		if fl.Changed(name) {
			return engine.Config{}, report.Meta{}, nil, fmt.Errorf("--%s is for HTTP; a WebSocket URL sends --ws-send", name)
		}
	}
	if fl.Changed("phases") {
		return engine.Config{}, report.Meta{}, nil, errors.New("--phases breaks down HTTP requests; a WebSocket attack has no phases")
	}
	f.WS = &fukapb.WebSocket{Send: f.ws.send, Expect: f.ws.expect, ExpectRegex: f.ws.expectRe,
		Subprotocols: f.ws.protos, Binary: f.ws.binary}
	return f.Config(rawURL, fl.Changed("duration"), version())
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
