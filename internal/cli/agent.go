package cli

import (
	"github.com/spf13/cobra"

	"github.com/fuka-load/fuka/monitor"
)

func newAgent(stdio Stdio) *cobra.Command {
	var s monitor.AgentServer
	cmd := &cobra.Command{
		Use:   "agent --token-file FILE",
		Short: "Serve this host's CPU, memory, TCP, disk and network samples to a fuka controller",
		Long: `agent runs on a host under test and samples its resources (CPU, per CPU
too, load, memory, swap, TCP states, disks, network, from procfs). A fuka
run that lists the host under monitor: [{agent: HOST:PORT}] asks it for a
sample on each second of the run and puts it on the run's timeline; the
two hosts' clocks need not agree.

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
			return s.Serve(cmd.Context(), stdio.Out, stdio.Err)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&s.Listen, "listen", "127.0.0.1:9810", "`ADDR` to serve on (host:port)")
	fl.StringVar(&s.TokenFile, "token-file", "", "`FILE` holding the token requests must present (required)")
	fl.StringVar(&s.Proc, "proc", monitor.DefaultProc, "`DIR` where procfs is mounted")
	return cmd
}
