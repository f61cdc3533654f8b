package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCertFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	ca, err := InitCA(dir, "test CA", 48*time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InitCA(dir, "test CA", 48*time.Hour, false); err == nil || !strings.Contains(err.Error(), "ca-key.pem exists (use --force") {
		t.Errorf("second init without --force: %v", err)
	}
	if _, err := InitCA(dir, "test CA", 48*time.Hour, true); err != nil {
		t.Fatalf("init --force: %v", err)
	}
	// A certificate asked to outlive its CA ends with it.
	base, notAfter, err := IssueFiles(IssueRequest{Dir: dir, Role: RoleWorker, Name: "w", ValidFor: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if base != filepath.Join(dir, "worker") || notAfter.After(time.Now().Add(49*time.Hour)) || ca.Cert.NotAfter.Before(time.Now()) {
		t.Errorf("base %q, not after %v", base, notAfter)
	}
	if _, _, err := IssueFiles(IssueRequest{Dir: dir, Role: RoleController, Name: "c", ValidFor: time.Hour, Base: filepath.Join(dir, "ctl")}); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"ca-key.pem": 0o600, "ca.pem": 0o644, "worker-key.pem": 0o600, "worker.pem": 0o644, "ctl-key.pem": 0o600, "ctl.pem": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %v", name, fi, err, mode)
		}
	}
	cert, _ := CAFiles(dir)
	if _, err := LoadIdentity(RoleWorker, cert, base+".pem", base+"-key.pem"); err != nil {
		t.Errorf("the issued worker identity does not load: %v", err)
	}

	tests := []struct {
		name string
		r    IssueRequest
		want string
	}{
		{"no dir", IssueRequest{Role: "nobody"}, "--dir: required"},
		{"bad role", IssueRequest{Dir: dir, Role: "boss", Name: "w", ValidFor: time.Hour}, `--role: role "boss"`},
		{"no name", IssueRequest{Dir: dir, Role: RoleWorker, ValidFor: time.Hour}, "--name: required"},
		{"no days", IssueRequest{Dir: dir, Role: RoleWorker, Name: "w", ValidFor: -2 * 24 * time.Hour}, "--days -2: must be > 0"},
		{"no CA", IssueRequest{Dir: t.TempDir(), Role: RoleWorker, Name: "w", ValidFor: time.Hour}, "create one with `fuka certs init"},
		{"exists", IssueRequest{Dir: dir, Role: RoleWorker, Name: "w", ValidFor: time.Hour}, "worker-key.pem exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := IssueFiles(tt.r); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
}
