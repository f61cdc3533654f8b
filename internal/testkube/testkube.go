// Package testkube runs a real Kubernetes API server for tests: Debian's
// etcd and a kube-apiserver built from k8s.io/kubernetes (.ci/kube-tools.sh
// builds it, and helm, into a cache folder), both on free ports of
// 127.0.0.1, in the test's temporary folder, stopped when the test ends.
// There is no controller-manager, scheduler or kubelet: objects are stored,
// validated, defaulted and admitted (Pod Security included) as on a real
// cluster, but nothing acts on them — a test plays the controllers' part by
// writing status itself.
//
// A component that is missing skips the test, naming it, unless
// FUKA_INTEGRATION=1 (as in CI), where it fails it.
package testkube

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The versions .ci/kube-tools.sh builds; the binaries are looked up by
// these names in its cache folder.
const (
	KubeVersion = "v1.37.2"
	HelmVersion = "v4.3.2"
)

// Bounds on the waits. The API server takes a few seconds to be ready on
// an idle machine and several times that on 2 busy cores.
const (
	etcdStartTimeout      = 30 * time.Second
	apiserverStartTimeout = 120 * time.Second
	stopTimeout           = 15 * time.Second
)

// CacheDir is where .ci/kube-tools.sh puts the binaries it builds:
// $FUKA_KUBE_CACHE, else $XDG_CACHE_HOME/fuka, else ~/.cache/fuka.
func CacheDir() string {
	if d := os.Getenv("FUKA_KUBE_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "fuka")
	}
	home, err := os.UserHomeDir()
	if err != nil { // no $HOME: the passwd entry, as the script's ~ does
		if u, uerr := user.Current(); uerr == nil {
			home = u.HomeDir
		}
	}
	return filepath.Join(home, ".cache", "fuka")
}

// Binary returns the path of a component — "etcd", "kube-apiserver" or
// "helm" — or skips the test (fails it under FUKA_INTEGRATION=1) naming
// what is missing and how to get it. $FUKA_ETCD, $FUKA_KUBE_APISERVER and
// $FUKA_HELM override the lookup.
func Binary(t testing.TB, name string) string {
	t.Helper()
	var env, cached, how string
	switch name {
	case "etcd":
		env, how = "FUKA_ETCD", "apt-get install etcd-server"
	case "kube-apiserver":
		env, cached, how = "FUKA_KUBE_APISERVER", "kube-apiserver-"+KubeVersion, "run .ci/kube-tools.sh"
	case "helm":
		env, cached, how = "FUKA_HELM", "helm-"+HelmVersion, "run .ci/kube-tools.sh"
	default:
		t.Fatalf("testkube: no component %q", name)
	}
	var candidates []string
	msg := fmt.Sprintf("%s not found (%s, or set $%s)", name, how, env)
	if p := os.Getenv(env); p != "" {
		// An explicit choice is never replaced by another binary.
		candidates = []string{p}
		msg = fmt.Sprintf("%s: $%s=%s is not an executable", name, env, p)
	} else {
		if cached != "" {
			candidates = append(candidates, filepath.Join(CacheDir(), cached))
		}
		candidates = append(candidates, name, "/usr/bin/"+name)
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("FUKA_INTEGRATION") == "1" {
		t.Fatal(msg + "; FUKA_INTEGRATION=1 requires it")
	}
	t.Skip(msg + "; set FUKA_INTEGRATION=1 to require it")
	return ""
}

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	// Config reaches the API server as a member of system:masters (a client
	// certificate), trusting its self-signed serving certificate.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file with the same credentials, for tools
	// such as helm.
	Kubeconfig string

	t         testing.TB
	dir       string
	apiserver string // the binary
	args      []string
	port      int

	mu  sync.Mutex
	api *proc // nil while stopped
}

// Start starts etcd and kube-apiserver and waits until the API server's
// /readyz passes. Both are stopped when the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	etcdBin, apiBin := Binary(t, "etcd"), Binary(t, "kube-apiserver")
	dir := t.TempDir()
	c := &Cluster{t: t, dir: dir, apiserver: apiBin}

	etcdURL := startEtcd(t, etcdBin, dir)
	pki := writePKI(t, dir)
	c.port = freePort(t)
	c.args = []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.port),
		"--tls-cert-file=" + pki.serverCert,
		"--tls-private-key-file=" + pki.serverKey,
		"--client-ca-file=" + pki.ca,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + pki.saPub,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		// No node runs here: the API server's own Endpoints for the
		// "kubernetes" Service would name an address nothing serves.
		"--endpoint-reconciler-type=none",
		"--advertise-address=127.0.0.1",
		// On SIGTERM, end the open watches (clients re-watch) rather than
		// wait out the 60s request timeout for them.
		"--shutdown-watch-termination-grace-period=2s",
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--profiling=false",
		"--v=1",
	}

	cfg := &rest.Config{
		Host: fmt.Sprintf("https://127.0.0.1:%d", c.port),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: pki.caPEM, CertData: pki.clientCertPEM, KeyData: pki.clientKeyPEM,
		},
		UserAgent: "fuka-test",
		QPS:       100,
		Burst:     200,
		Timeout:   30 * time.Second,
	}
	c.Config = cfg
	c.Kubeconfig = writeKubeconfig(t, dir, cfg)
	c.StartAPIServer()
	t.Cleanup(func() { c.StopAPIServer() })
	return c
}

// StartAPIServer starts kube-apiserver (again, after StopAPIServer) on the
// same port and etcd, and waits until it is ready.
func (c *Cluster) StartAPIServer() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api != nil {
		c.t.Fatal("testkube: kube-apiserver is running already")
	}
	log := filepath.Join(c.dir, "kube-apiserver.log")
	c.api = startProc(c.t, "kube-apiserver", log, c.apiserver, c.args...)
	c.api.waitReady(c.t, apiserverStartTimeout, func(ctx context.Context) error { return readyz(ctx, c.Config) })
}

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after a
// bound) and waits until it has exited; etcd keeps running.
func (c *Cluster) StopAPIServer() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api != nil {
		c.api.stop(c.t)
		c.api = nil
		if os.Getenv("FUKA_TESTKUBE_DEBUG") != "" {
			c.t.Logf("kube-apiserver log:\n%s", tail(filepath.Join(c.dir, "kube-apiserver.log")))
		}
	}
}

// readyz asks the API server whether it is ready to serve.
func readyz(ctx context.Context, cfg *rest.Config) error {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// startEtcd starts a single-member etcd with its data in dir and returns
// its client URL once it reports healthy.
func startEtcd(t testing.TB, bin, dir string) string {
	t.Helper()
	client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	p := startProc(t, "etcd", filepath.Join(dir, "etcd.log"), bin,
		"--name=fuka-test",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+client,
		"--advertise-client-urls="+client,
		"--listen-peer-urls="+peer,
		"--initial-advertise-peer-urls="+peer,
		"--initial-cluster=fuka-test="+peer,
		"--log-level=warn",
	)
	t.Cleanup(func() { p.stop(t) })
	p.waitReady(t, etcdStartTimeout, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, client+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"true"`)) {
			return fmt.Errorf("/health: %s: %s", resp.Status, body)
		}
		return nil
	})
	return client
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a started child process whose output goes to a log file.
type proc struct {
	name, log string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when the process has exited
}

func startProc(t testing.TB, name, log, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Never outlive a crashed test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, log: log, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	return p
}

// stop sends SIGTERM and waits, killing the process if it has not gone
// within stopTimeout.
func (p *proc) stop(t testing.TB) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.exited
		t.Logf("%s did not stop within %v; killed", p.name, stopTimeout)
	}
}

// waitReady calls ready until it succeeds, the process exits, or timeout
// passes; the last two fail the test with the end of the process's log.
func (p *proc) waitReady(t testing.TB, timeout time.Duration, ready func(context.Context) error) {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = ready(ctx)
		cancel()
		if last == nil {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited while starting (%v); log:\n%s", p.name, p.cmd.ProcessState, tail(p.log))
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready within %v: %v; log:\n%s", p.name, timeout, last, tail(p.log))
}

// tail returns the end of a log file, for a failure message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	const n = 6000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// pki holds the files and PEM of a throwaway CA, the API server's serving
// certificate, an admin client certificate and the service-account keys.
type pki struct {
	ca, serverCert, serverKey, saPub, saKey string
	caPEM, clientCertPEM, clientKeyPEM      []byte
}

func writePKI(t testing.TB, dir string) pki {
	t.Helper()
	dir = filepath.Join(dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caKey := ecKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuka test cluster CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, err)
	ca, err := x509.ParseCertificate(caDER)
	must(t, err)
	issue := func(serial int64, subject pkix.Name, usage x509.ExtKeyUsage, ips []net.IP, dns []string) (certPEM, keyPEM []byte) {
		k := ecKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: subject,
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		must(t, err)
		kder, err := x509.MarshalECPrivateKey(k)
		must(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	p := pki{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	srvCert, srvKey := issue(2, pkix.Name{CommonName: "kube-apiserver"}, x509.ExtKeyUsageServerAuth,
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)}, []string{"localhost", "kubernetes", "kubernetes.default.svc"})
	// The API server maps the certificate's organisation to groups:
	// system:masters may do anything.
	p.clientCertPEM, p.clientKeyPEM = issue(3, pkix.Name{CommonName: "fuka-test", Organization: []string{"system:masters"}},
		x509.ExtKeyUsageClientAuth, nil, nil)

	// Service-account tokens are signed with an RSA key.
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	must(t, err)

	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, b, 0o600))
		return path
	}
	p.ca = write("ca.pem", p.caPEM)
	p.serverCert = write("apiserver.pem", srvCert)
	p.serverKey = write("apiserver-key.pem", srvKey)
	p.saPub = write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}))
	p.saKey = write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}))
	return p
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	return k
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeKubeconfig writes cfg as a kubeconfig file and returns its path.
func writeKubeconfig(t testing.TB, dir string, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "test"
	path := filepath.Join(dir, "kubeconfig")
	must(t, clientcmd.WriteToFile(*kc, path))
	return path
}

// Helm runs helm (see [Binary]) with args against the cluster, with helm's
// cache, config and data in the test's temporary folder, and returns its
// combined output. A failure to run, or a non-zero exit, is err.
func (c *Cluster) Helm(ctx context.Context, args ...string) (string, error) {
	c.t.Helper()
	home := filepath.Join(c.dir, "helm")
	cmd := exec.CommandContext(ctx, Binary(c.t, "helm"), append(args, "--kubeconfig", c.Kubeconfig)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+c.Kubeconfig,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("helm %s: %v", strings.Join(args, " "), exit.ProcessState)
		}
	}
	return string(out), err
}
