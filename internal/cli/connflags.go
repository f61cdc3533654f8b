package cli

import (
	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/run"
)

// addConnFlags registers the target's TLS and HTTP-version flags (attack,
// capacity, run and validate). --cert, --key and --ca are taken by the
// certificates between a distributed run's controller and workers
// (cluster_run.go), so the client certificate is --client-cert and
// --client-key (curl's --cert and --key), and the CA --cacert as in curl.
func addConnFlags(fl *pflag.FlagSet, f *run.ConnFlags) {
	fl.StringVar(&f.ClientCert, "client-cert", "", "client certificate `FILE` (PEM) to present to the target over TLS; needs --client-key")
	fl.StringVar(&f.ClientKey, "client-key", "", "the client certificate's private key `FILE` (PEM)")
	fl.StringVar(&f.CACert, "cacert", "", "trust the target's CA certificates in `FILE` (PEM) instead of the system's")
	fl.BoolVar(&f.HTTP1, "http1", false, "force HTTP/1.1 (https negotiates HTTP/2 by ALPN otherwise)")
}
