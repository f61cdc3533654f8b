package cluster

import (
	"fmt"
	"net"
	"path/filepath"
)

// IdentityFiles are where one side's certificates are: a folder made by
// fuka certs (ca.pem, ROLE.pem, ROLE-key.pem), or each file named; a named
// file wins over the folder's.
type IdentityFiles struct {
	Dir, CA, Cert, Key string
}

// Load loads role's identity from the files.
func (f IdentityFiles) Load(role Role) (*Identity, error) {
	ca, cert, key := f.CA, f.Cert, f.Key
	if f.Dir != "" {
		ca = or(ca, filepath.Join(f.Dir, "ca.pem"))
		cert = or(cert, filepath.Join(f.Dir, string(role)+".pem"))
		key = or(key, filepath.Join(f.Dir, string(role)+"-key.pem"))
	}
	if ca == "" || cert == "" || key == "" {
		return nil, fmt.Errorf("controller and workers use mutual TLS: create certificates with `fuka certs init --dir DIR` and `fuka certs issue --dir DIR --role %s --name NAME`, then pass --certs-dir DIR (or --ca, --cert, --key); --insecure-no-tls works on loopback", role)
	}
	id, err := LoadIdentity(role, ca, cert, key)
	if err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	return id, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// CheckInsecure refuses to run without TLS on an address off loopback,
// unless allowRemote: without TLS anyone who reaches it can send load or
// read results.
func CheckInsecure(addrs []string, allowRemote bool) error {
	for _, a := range addrs {
		if !Loopback(a) && !allowRemote {
			return fmt.Errorf("--insecure-no-tls: %q is not a loopback address; without TLS anyone who reaches it can send load or read results (add --allow-insecure-remote if the network is yours alone)", a)
		}
	}
	return nil
}

// Loopback reports whether HOST:PORT (or HOST) is a loopback address. An
// empty host (":7700") listens on every interface: not loopback.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
