package cli

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/fuka-load/fuka/run"
)

// connFlags are the TLS and HTTP-version flags attack, capacity, run and
// validate share: a client certificate, a CA, and forcing HTTP/1.1. They
// are the target's; --cert, --key and --ca are taken by the certificates
// between a distributed run's controller and workers (cluster_run.go), so
// the client certificate is --client-cert and --client-key (curl's --cert
// and --key), and the CA --cacert as in curl.
type connFlags struct {
	cert, key, ca string
	http1         bool
}

// addConnFlags registers f's flags.
func addConnFlags(fl *pflag.FlagSet, f *connFlags) {
	fl.StringVar(&f.cert, "client-cert", "", "client certificate `FILE` (PEM) to present to the target over TLS; needs --client-key")
	fl.StringVar(&f.key, "client-key", "", "the client certificate's private key `FILE` (PEM)")
	fl.StringVar(&f.ca, "cacert", "", "trust the target's CA certificates in `FILE` (PEM) instead of the system's")
	fl.BoolVar(&f.http1, "http1", false, "force HTTP/1.1 (https negotiates HTTP/2 by ALPN otherwise)")
}

// files reads the certificate files, checked; http2 is --http2, which
// --http1 contradicts.
func (f connFlags) files(http2 bool) (run.TLSFiles, error) {
	if f.http1 && http2 {
		return run.TLSFiles{}, errors.New("--http1 and --http2: give one")
	}
	return run.ReadTLSFiles(f.cert, f.key, f.ca)
}
