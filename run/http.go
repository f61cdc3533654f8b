package run

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fuka-load/fuka/client"
	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/plan"
	"github.com/fuka-load/fuka/scenario"
)

// ConnFlags are the target's TLS and HTTP-version flags: --client-cert,
// --client-key, --cacert (file paths) and --http1.
type ConnFlags struct {
	ClientCert, ClientKey, CACert string
	HTTP1                         bool
}

// Files reads the certificate files, checked; http2 is --http2, which
// --http1 contradicts.
func (f ConnFlags) Files(http2 bool) (TLSFiles, error) {
	if f.HTTP1 && http2 {
		return TLSFiles{}, errors.New("--http1 and --http2: give one")
	}
	return ReadTLSFiles(f.ClientCert, f.ClientKey, f.CACert)
}

// Options are the request flags' transport options.
func (f RequestFlags) Options(version string) (Options, error) {
	tf, err := f.Files(f.HTTP2)
	return Options{Insecure: f.Insecure, HTTP2: f.HTTP2, HTTP1: f.HTTP1, TLS: tf, Version: version}, err
}

// TLSFiles are --client-cert, --client-key and --cacert as PEM (read on the controller:
// a distributed run's workers get the bytes in the job).
type TLSFiles struct{ Cert, Key, CA []byte }

// ReadTLSFiles reads the files of --client-cert, --client-key and --cacert ("" for one
// not given), each at most plan.MaxTLSFile bytes, and checks that they make
// a certificate and a CA pool. Errors name the flag.
func ReadTLSFiles(cert, key, ca string) (TLSFiles, error) {
	var f TLSFiles
	for _, x := range []struct {
		flag, path string
		dst        *[]byte
	}{{"--client-cert", cert, &f.Cert}, {"--client-key", key, &f.Key}, {"--cacert", ca, &f.CA}} {
		if x.path == "" {
			continue
		}
		b, err := plan.ReadTLSFile(x.path)
		if err != nil {
			return f, fmt.Errorf("%s %s: %w", x.flag, x.path, err)
		}
		*x.dst = b
	}
	if _, err := f.load(); err != nil {
		return f, err
	}
	return f, nil
}

// load is what the files make; nil when none was given.
func (f TLSFiles) load() (*client.TLS, error) {
	if len(f.Cert)+len(f.Key)+len(f.CA) == 0 {
		return nil, nil
	}
	t, err := client.LoadTLS(f.Cert, f.Key, f.CA)
	if err != nil {
		return nil, fmt.Errorf("--client-cert, --client-key, --cacert: %w", err)
	}
	return t, nil
}

// scenarioOptions is the transport of a plan's clients: the command line's
// choices, else the plan's (scenario.NewRunner).
func (o Options) scenarioOptions() (scenario.Options, error) {
	t, err := o.TLS.load()
	if err != nil {
		return scenario.Options{}, err
	}
	return scenario.Options{Insecure: o.Insecure, HTTP2: o.HTTP2, HTTP1: o.HTTP1, TLS: t, UserAgent: o.userAgent(), Phases: o.Phases}, nil
}

// attackTLS is an attack job's client certificate and CA.
func attackTLS(j *fukapb.AttackJob) (*client.TLS, error) {
	return TLSFiles{Cert: j.GetCert(), Key: j.GetKey(), CA: j.GetCa()}.load()
}

// planFiles are the files a plan reads besides its data: body files,
// multipart files and its tls files, by the path the plan names them with.
// Its protos: travel compiled, in the job's gRPC schema (planSchema).
func planFiles(p *plan.Plan) []string {
	var out []string
	if t := p.Defaults.TLS; t != nil {
		out = append(out, t.Cert.Value, t.Key.Value, t.CA.Value)
	}
	for _, sc := range p.Scenarios {
		out = append(out, stepFiles(sc.Steps)...)
	}
	return out
}

// stepFiles are the body_file and multipart file paths of steps and of
// the steps inside them (groups, loops, an if's then: and else:).
func stepFiles(steps []*plan.Step) []string {
	var out []string
	plan.Walk(steps, func(s *plan.Step) {
		if s.BodyFile.Value != "" {
			out = append(out, s.BodyFile.Value)
		}
		if s.Multipart != nil {
			for _, p := range s.Multipart.Parts {
				if p.File.Value != "" {
					out = append(out, p.File.Value)
				}
			}
		}
	})
	return out
}

// h2c reports whether the plan's requests go as h2c with prior knowledge:
// HTTP/2 forced (--http2 or http_version: 2) on an http:// base_url.
func h2c(p *plan.Plan, o Options) bool {
	h2 := o.HTTP2 || !o.HTTP1 && p.Defaults.HTTPVersion == "2"
	return h2 && strings.HasPrefix(strings.ToLower(p.BaseURL.Value), "http://")
}
