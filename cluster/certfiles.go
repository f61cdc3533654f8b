package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// CAFiles are the paths of the CA in dir: the certificate, and the key
// that belongs where certificates are issued, not on the load hosts.
func CAFiles(dir string) (cert, key string) {
	return filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
}

// InitCA creates a CA named name, valid for validFor from now, in dir
// (made if need be): CAFiles(dir). Existing files are kept unless force.
func InitCA(dir, name string, validFor time.Duration, force bool) (*CA, error) {
	if dir == "" {
		return nil, errors.New("--dir: required")
	}
	if validFor <= 0 {
		return nil, fmt.Errorf("--days %d: must be > 0", validFor/(24*time.Hour))
	}
	ca, err := NewCA(name, time.Now(), validFor)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := ca.PEM()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cert, key := CAFiles(dir)
	if err := writeNew(key, keyPEM, 0o600, force); err != nil {
		return nil, err
	}
	if err := writeNew(cert, certPEM, 0o644, force); err != nil {
		return nil, err
	}
	return ca, nil
}

// IssueRequest is a certificate to issue from the CA in Dir.
type IssueRequest struct {
	Dir   string
	Role  Role     // checked here: worker or controller
	Name  string   // shown in logs and refusals
	Hosts []string // SANs (fuka checks CA and role, not host names)
	// ValidFor is how long the certificate is valid, at most as long as
	// the CA.
	ValidFor time.Duration
	// Base names the files written, Base.pem and Base-key.pem; "" is
	// Dir/ROLE.
	Base  string
	Force bool // overwrite existing files
}

// IssueFiles issues r's certificate and writes it; it returns the base of
// the files written and when the certificate expires.
func IssueFiles(r IssueRequest) (base string, notAfter time.Time, err error) {
	if r.Dir == "" {
		return "", time.Time{}, errors.New("--dir: required")
	}
	if _, err := ParseRole(string(r.Role)); err != nil {
		return "", time.Time{}, fmt.Errorf("--role: %w", err)
	}
	switch {
	case r.Name == "":
		return "", time.Time{}, errors.New("--name: required")
	case r.ValidFor <= 0:
		return "", time.Time{}, fmt.Errorf("--days %d: must be > 0", r.ValidFor/(24*time.Hour))
	}
	certFile, keyFile := CAFiles(r.Dir)
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("CA: %w (create one with `fuka certs init --dir %s`)", err, r.Dir)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("CA key: %w", err)
	}
	ca, err := LoadCA(certPEM, keyPEM)
	if err != nil {
		return "", time.Time{}, err
	}
	now := time.Now()
	notAfter = now.Add(r.ValidFor)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter // a certificate cannot outlive its CA
	}
	c, k, err := ca.Issue(r.Role, r.Name, r.Hosts, now.Add(-time.Minute), notAfter)
	if err != nil {
		return "", time.Time{}, err
	}
	base = r.Base
	if base == "" {
		base = filepath.Join(r.Dir, string(r.Role))
	}
	if err := writeNew(base+"-key.pem", k, 0o600, r.Force); err != nil {
		return "", time.Time{}, err
	}
	if err := writeNew(base+".pem", c, 0o644, r.Force); err != nil {
		return "", time.Time{}, err
	}
	return base, notAfter, nil
}

// writeNew writes a file with mode (keys: 0600, owner only), refusing to
// overwrite one unless force.
func writeNew(path string, b []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists (use --force to replace it)", path)
	}
	if err != nil {
		return err
	}
	if force {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
