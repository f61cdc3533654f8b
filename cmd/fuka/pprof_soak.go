//go:build soakpprof

package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

// A build with -tags soakpprof serves net/http/pprof on $FUKA_PPROF_ADDR
// (loopback) so that a soak can take heap profiles of a long run.
func init() {
	if addr := os.Getenv("FUKA_PPROF_ADDR"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
