package run

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	fukapb "github.com/fuka-load/fuka/cluster/proto"
	"github.com/fuka-load/fuka/engine"
	"github.com/fuka-load/fuka/internal/testcert"
)

// TestPlanJobHTTPFiles: a distributed run ships the plan's tls and
// multipart files and the command line's certificates, and a worker builds
// the same plan from them.
func TestPlanJobHTTPFiles(t *testing.T) {
	cs := testcert.New(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "certs"), 0o755)
	for name, b := range map[string][]byte{"certs/c.pem": cs.CertPEM, "certs/k.pem": cs.KeyPEM, "certs/ca.pem": cs.CAPEM, "up.bin": []byte("data")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := writePlanFile(t, dir, "p.yaml", "https://127.0.0.1:9", `
base_url: BASE
defaults:
  http_version: "1.1"
  tls: { cert: certs/c.pem, key: certs/k.pem, ca: certs/ca.pem }
scenarios:
  s:
    steps:
      - post: /up
        multipart: { f: { path: up.bin }, v: x }
        follow_redirects: 2
load: { clients: 2, duration: 1s }
`)
	c, err := CompileFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{HTTP1: true, TLS: TLSFiles{CA: cs.CAPEM}, Version: testVersion}
	j, err := NewPlanJob(c, LoadFlags{}, o)
	if err != nil {
		t.Fatal(err)
	}
	files := slices.Sorted(mapKeys(j.GetFiles()))
	if want := []string{"certs/c.pem", "certs/ca.pem", "certs/k.pem", "up.bin"}; !slices.Equal(files, want) {
		t.Errorf("job's files %q, want %q", files, want)
	}
	if !j.GetHttp1() || string(j.GetCa()) != string(cs.CAPEM) {
		t.Errorf("job: http1 %v, ca %d bytes; want the command line's", j.GetHttp1(), len(j.GetCa()))
	}
	got := roundTrip(t, &fukapb.Job{Work: &fukapb.Job_Plan{Plan: j}}, engine.Share{Index: 0, Count: 1})
	names, _ := got.Names()
	if want := []string{"POST /up", "POST /up (redirect)"}; !slices.Equal(names, want) {
		t.Errorf("worker's names %q, want %q", names, want)
	}
}

// TestAttackJobTLS: an attack job's certificates make the request's TLS,
// and bad ones are an error before anything is sent.
func TestAttackJobTLS(t *testing.T) {
	cs := testcert.New(t)
	load := &fukapb.Load{Clients: 1, DurationNanos: 1e9}
	tests := []struct {
		name    string
		job     *fukapb.AttackJob
		tls, ok bool
	}{
		{"none", &fukapb.AttackJob{}, false, true},
		{"cert, key and CA", &fukapb.AttackJob{Cert: cs.CertPEM, Key: cs.KeyPEM, Ca: cs.CAPEM, Http1: true}, true, true},
		{"cert without key", &fukapb.AttackJob{Cert: cs.CertPEM}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Url, tt.job.Method, tt.job.TimeoutNanos, tt.job.Load = "https://127.0.0.1:9/", "GET", 1e9, load
			cfg, err := AttackConfig(tt.job)
			if (err == nil) != tt.ok {
				t.Fatalf("AttackConfig: %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				return
			}
			w := cfg.Work.(engine.Request)
			if (w.TLS != nil) != tt.tls || w.HTTP1 != tt.job.Http1 {
				t.Errorf("TLS %v, HTTP1 %v; want TLS %v, HTTP1 %v", w.TLS != nil, w.HTTP1, tt.tls, tt.job.Http1)
			}
		})
	}
}
