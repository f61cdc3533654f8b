package monitor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The tests here send real UDP datagrams and compare what Net reports with
// the kernel's own counters (/sys/class/net/IFACE/statistics, read
// independently of /proc/net/dev) and with sar. Net's clock is fixed so
// that its rates over one "second" are the counters' deltas.

const (
	udpPayload = 1000
	// udpFrame is one datagram as veth counts it: payload, UDP (8), IPv4
	// (20) and Ethernet (14) headers. lo counts it without the Ethernet
	// header (the bridge too, on the way up to the host).
	udpFrame   = udpPayload + 8 + 20 + 14
	udpFrameLo = udpFrame - 14
)

// netDelta samples n, runs send, samples n again one fixed second later,
// and returns the second sample's values: the counters' deltas.
func netDelta(t *testing.T, n *Net, send func()) map[string]float64 {
	t.Helper()
	at := time.Unix(1000, 0)
	n.now = func() time.Time { return at }
	if _, err := n.Sample(t.Context()); err != nil {
		t.Fatal(err)
	}
	send()
	at = at.Add(time.Second)
	vals, err := n.Sample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return values(t, vals)
}

// sendUDP sends count datagrams of udpPayload bytes on c and waits (at
// most 10 s) until ln has received them all. With c nil it only receives
// (another process sends); with ln nil it only sends.
func sendUDP(t *testing.T, c net.Conn, ln net.PacketConn, count int) {
	t.Helper()
	var got atomic.Int64
	done := make(chan struct{})
	if ln != nil {
		_ = ln.SetReadDeadline(time.Now().Add(10 * time.Second))
		go func() {
			defer close(done)
			buf := make([]byte, 2*udpPayload)
			for got.Load() < int64(count) {
				if _, _, err := ln.ReadFrom(buf); err != nil {
					return // the deadline
				}
				got.Add(1)
			}
		}()
	}
	if c != nil {
		msg := bytes.Repeat([]byte("f"), udpPayload)
		for i := range count {
			if _, err := c.Write(msg); err != nil {
				t.Fatalf("datagram %d: %v", i, err)
			}
			if i%64 == 63 {
				time.Sleep(time.Millisecond) // the receiver keeps up; none dropped
			}
		}
	}
	if ln == nil {
		return
	}
	<-done
	_ = ln.SetReadDeadline(time.Time{})
	if n := got.Load(); n != int64(count) {
		t.Fatalf("received %d of %d datagrams", n, count)
	}
}

// TestNetLoopbackHost: datagrams to 127.0.0.1 on this host show in net.lo.*
// and in the totals, even with other interfaces up. Other processes may
// use lo meanwhile, so Net's delta must lie between what this test sent
// and the delta of /proc/net/dev read before and after Net's two samples.
func TestNetLoopbackHost(t *testing.T) {
	if _, err := os.Stat("/proc/net/dev"); err != nil {
		t.Skip("no /proc/net/dev")
	}
	const count = 500
	ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("udp4", ln.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readDev := func() map[string][]uint64 {
		b, err := os.ReadFile("/proc/net/dev")
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseNetDev(b)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := readDev()
	got := netDelta(t, NewNet("/proc", "/sys"), func() { sendUDP(t, c, ln, count) })
	after := readDev()
	for _, f := range []struct {
		name  string
		field int // in parseNetDev's order
		sent  float64
	}{
		{"rx_packets_per_s", 1, count}, {"tx_packets_per_s", 5, count},
		{"rx_bytes_per_s", 0, count * udpFrameLo}, {"tx_bytes_per_s", 4, count * udpFrameLo},
	} {
		for _, total := range []bool{false, true} {
			name, outer := "net.lo."+f.name, 0.0
			if total {
				name = "net." + f.name
			}
			for iface, a := range after {
				if b, ok := before[iface]; ok && (iface == "lo" || total && countsInTotal("/sys", iface)) {
					outer += float64(a[f.field] - b[f.field])
				}
			}
			if v, ok := got[name]; !ok || v < f.sent || v > outer {
				t.Errorf("%s = %v (present %v); want at least the %v sent and at most /proc/net/dev's %v", name, v, ok, f.sent, outer)
			}
		}
	}
}

// netnsSpec is what TestNetNamespaces asks of its child, which runs in a
// network namespace (under `ip netns exec`, so that /proc/net and /sys are
// the namespace's) and writes netnsResult to Out.
type netnsSpec struct {
	SenderNS string // the namespace to send from; "" sends from the child's
	Dst      string // the receiver's address in the child's namespace
	Count    int    // datagrams
	Sar      string // sar's path, or "" not to run it
	Out      string
	Send     string // set, the child only sends Count datagrams to this UDP address
}

type netnsResult struct {
	Fuka   map[string]float64            // Net's values over its fixed second
	Kernel map[string]map[string]float64 // iface -> statistics file -> delta
	Sar    map[string]map[string]float64 // iface -> rxpck txpck rxkB txkB over sar's run
}

// TestNetNamespaces builds network namespaces with `ip`, runs this test
// binary's TestNetNamespaceChild in one of them, and checks its numbers:
// each datagram counted once in the totals, on the veth and not again on
// the bridge it is a port of, or on lo next to another interface; Net's
// numbers equal the kernel's and agree with sar's.
func TestNetNamespaces(t *testing.T) {
	if os.Getenv("FUKA_INTEGRATION") != "1" {
		t.Skip("creates network namespaces: set FUKA_INTEGRATION=1 (needs root and iproute2's ip)")
	}
	if os.Geteuid() != 0 {
		t.Skip("creating network namespaces needs root")
	}
	ipPath, _ := exec.LookPath("ip")
	requireInstalled(t, "ip", ipPath, "iproute2")
	sarPath, _ := exec.LookPath("sar")
	requireInstalled(t, "sar", sarPath, "sysstat")
	const count = 2000
	const slack = 4 // packets the kernel may add: ARP, or a late ACK
	tests := []struct {
		name string
		// setup makes the namespaces (with ns(…)) and returns the child's
		// namespace and spec.
		setup func(ns func(string) string) (string, netnsSpec)
		// counted are the interfaces the totals must sum; carriers those
		// that carried every datagram (each once, within slack).
		counted, carriers []string
		frame             int // bytes of a datagram on the carriers
	}{
		{
			name: "veth under a bridge",
			setup: func(ns func(string) string) (string, netnsSpec) {
				a, b := ns("a"), ns("b")
				ip(t, "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
				ip(t, "-n", b, "link", "add", "name", "br0", "type", "bridge", "forward_delay", "0")
				ip(t, "-n", b, "link", "set", "vb", "master", "br0")
				ip(t, "-n", a, "addr", "add", "10.201.0.1/24", "dev", "va")
				ip(t, "-n", b, "addr", "add", "10.201.0.2/24", "dev", "br0")
				for _, l := range [][]string{{a, "va"}, {a, "lo"}, {b, "vb"}, {b, "br0"}, {b, "lo"}} {
					ip(t, "-n", l[0], "link", "set", l[1], "up")
				}
				return b, netnsSpec{SenderNS: a, Dst: "10.201.0.2"}
			},
			counted:  []string{"lo", "vb"},
			carriers: []string{"vb", "br0"},
			frame:    udpFrame,
		},
		{
			// lo next to another interface (a veth pair, up, idle).
			name: "loopback",
			setup: func(ns func(string) string) (string, netnsSpec) {
				c := ns("c")
				ip(t, "-n", c, "link", "add", "vx", "type", "veth", "peer", "name", "vy")
				for _, l := range []string{"lo", "vx", "vy"} {
					ip(t, "-n", c, "link", "set", l, "up")
				}
				return c, netnsSpec{Dst: "127.0.0.1"}
			},
			counted:  []string{"lo", "vx", "vy"},
			carriers: []string{"lo"},
			frame:    udpFrameLo,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := func(s string) string {
				name := fmt.Sprintf("fuka-t%d-%d-%s", os.Getpid(), i, s)
				ip(t, "netns", "add", name)
				t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
				// No IPv6: its neighbour discovery would add packets.
				ip(t, "netns", "exec", name, "sh", "-c",
					"for f in all default; do echo 1 >/proc/sys/net/ipv6/conf/$f/disable_ipv6; done 2>/dev/null; true")
				return name
			}
			child, spec := tt.setup(ns)
			spec.Count, spec.Sar, spec.Out = count, sarPath, filepath.Join(t.TempDir(), "result.json")
			r := runNetnsChild(t, child, spec)
			t.Logf("fuka: %v", r.Fuka)
			t.Logf("kernel: %v", r.Kernel)
			t.Logf("sar: %v", r.Sar)
			// tol is what the kernel may add between two readings of the
			// same counters (an ARP exchange): packets, or bytes.
			tol := func(f string) float64 {
				if strings.HasSuffix(f, "bytes") {
					return slack * 100
				}
				return slack
			}
			for _, f := range []string{"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"} {
				kernel := 0.0
				for _, iface := range tt.counted {
					kernel += r.Kernel[iface][f]
				}
				name := "net." + f + "_per_s"
				if v, ok := r.Fuka[name]; !ok || math.Abs(v-kernel) > tol(f) {
					t.Errorf("%s = %v (present %v), want the kernel's %v on %v", name, v, ok, kernel, tt.counted)
				}
			}
			// Each datagram once in the totals, whatever the bridge carried too.
			for f, sent := range map[string]float64{"rx_packets": count, "rx_bytes": float64(count * tt.frame)} {
				if v := r.Fuka["net."+f+"_per_s"]; v < sent || v > sent+tol(f) {
					t.Errorf("net.%s_per_s = %v, want the %v sent, once (+%v)", f, v, sent, tol(f))
				}
			}
			for _, iface := range tt.carriers {
				for f, least := range map[string]float64{"rx_packets": count, "rx_bytes": count * udpPayload} {
					name := "net." + iface + "." + f + "_per_s"
					if v, k := r.Fuka[name], r.Kernel[iface][f]; math.Abs(v-k) > tol(f) || v < least {
						t.Errorf("%s = %v, want the kernel's %v (≥ %v)", name, v, k, least)
					}
				}
			}
			var sar map[string]float64
			for _, iface := range tt.counted {
				for f, v := range r.Sar[iface] {
					if sar == nil {
						sar = map[string]float64{}
					}
					sar[f] += v
				}
			}
			// sar prints rates to 0.01 over its 3 s: a few packets of rounding.
			if v := sar["rxpck"]; math.Abs(v-r.Fuka["net.rx_packets_per_s"]) > slack+0.02*count {
				t.Errorf("sar: %v packets received on %v, fuka %v", v, tt.counted, r.Fuka["net.rx_packets_per_s"])
			}
			if v := sar["rxkB"] * 1024; math.Abs(v-r.Fuka["net.rx_bytes_per_s"]) > 0.02*count*udpPayload {
				t.Errorf("sar: %v bytes received on %v, fuka %v", v, tt.counted, r.Fuka["net.rx_bytes_per_s"])
			}
		})
	}
}

// ip runs `ip args…` (bounded), failing the test on an error.
func ip(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
		if len(args) == 3 && args[0] == "netns" && args[1] == "add" {
			t.Skipf("ip netns add: %v: %s (network namespaces not allowed here)", err, out)
		}
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// runNetnsChild runs TestNetNamespaceChild under `ip netns exec ns` (at
// most 60 s) and returns what it wrote.
func runNetnsChild(t *testing.T, ns string, spec netnsSpec) netnsResult {
	t.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := netnsChild(ctx, ns, js)
	if err != nil {
		t.Fatalf("child in %s: %v\n%s", ns, err, out)
	}
	b, err := os.ReadFile(spec.Out)
	if err != nil {
		t.Fatalf("child in %s wrote no result: %v\n%s", ns, err, out)
	}
	var r netnsResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// netnsChild runs this test binary's TestNetNamespaceChild in the network
// namespace ns. A separate process, because a thread that joined another
// namespace may be the process's first one, whose namespace /proc/self/net
// shows: the sampler would read the wrong one.
func netnsChild(ctx context.Context, ns string, spec []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestNetNamespaceChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "FUKA_NETNS_CHILD="+string(spec))
	return cmd.CombinedOutput()
}

// TestNetNamespaceChild is TestNetNamespaces' child: it does nothing unless
// run by it, inside a network namespace.
func TestNetNamespaceChild(t *testing.T) {
	js := os.Getenv("FUKA_NETNS_CHILD")
	if js == "" {
		t.Skip("run by TestNetNamespaces in a network namespace")
	}
	var spec netnsSpec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Send != "" {
		c, err := net.Dial("udp4", spec.Send)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sendUDP(t, c, nil, spec.Count)
		return
	}
	ln, err := net.ListenPacket("udp4", net.JoinHostPort(spec.Dst, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var c net.Conn
	if spec.SenderNS == "" {
		if c, err = net.Dial("udp4", ln.LocalAddr().String()); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	send := func(count int) {
		if c != nil {
			sendUDP(t, c, ln, count)
			return
		}
		js, err := json.Marshal(netnsSpec{Send: ln.LocalAddr().String(), Count: count})
		if err != nil {
			t.Fatal(err)
		}
		sent := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			out, err := netnsChild(ctx, spec.SenderNS, js)
			if err != nil {
				err = fmt.Errorf("sender in %s: %w\n%s", spec.SenderNS, err, out)
			}
			sent <- err
		}()
		sendUDP(t, nil, ln, count)
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
	}
	send(1) // resolves ARP before the counting starts
	time.Sleep(200 * time.Millisecond)

	var sarOut bytes.Buffer
	var sar *exec.Cmd
	if spec.Sar != "" {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		sar = exec.CommandContext(ctx, spec.Sar, "-n", "DEV", "1", "3")
		sar.Env = append(os.Environ(), "LC_ALL=C")
		sar.Stdout = &sarOut
		if err := sar.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // sar's first reading
	}
	before := sysNetStats(t)
	fuka := netDelta(t, NewNet("/proc", "/sys"), func() {
		send(spec.Count)
		time.Sleep(100 * time.Millisecond)
	})
	after := sysNetStats(t)
	r := netnsResult{Fuka: fuka, Kernel: map[string]map[string]float64{}}
	for iface, a := range after {
		r.Kernel[iface] = map[string]float64{}
		for f, v := range a {
			r.Kernel[iface][f] = float64(v - before[iface][f])
		}
	}
	if sar != nil {
		if err := sar.Wait(); err != nil {
			t.Fatalf("sar: %v\n%s", err, sarOut.Bytes())
		}
		r.Sar = parseSarAverage(t, sarOut.Bytes(), 3)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec.Out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sysNetStats reads each interface's rx and tx bytes and packets from
// /sys/class/net/IFACE/statistics: the kernel's counters, not through
// /proc/net/dev.
func sysNetStats(t *testing.T) map[string]map[string]uint64 {
	t.Helper()
	dirs, err := filepath.Glob("/sys/class/net/*/statistics")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no /sys/class/net/*/statistics: %v", err)
	}
	out := map[string]map[string]uint64{}
	for _, d := range dirs {
		iface := filepath.Base(filepath.Dir(d))
		out[iface] = map[string]uint64{}
		for _, f := range []string{"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"} {
			b, err := os.ReadFile(filepath.Join(d, f))
			if err != nil {
				t.Fatal(err)
			}
			if out[iface][f], err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// parseSarAverage turns the "Average:" lines of `sar -n DEV 1 secs` (C
// locale) into each interface's packets and kB over the run.
func parseSarAverage(t *testing.T, out []byte, secs float64) map[string]map[string]float64 {
	t.Helper()
	m := map[string]map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] != "Average:" || f[1] == "IFACE" {
			continue
		}
		m[f[1]] = map[string]float64{}
		for i, name := range []string{"rxpck", "txpck", "rxkB", "txkB"} {
			v, err := strconv.ParseFloat(f[2+i], 64)
			if err != nil {
				t.Fatalf("sar: %q: %v", sc.Text(), err)
			}
			m[f[1]][name] = v * secs
		}
	}
	if len(m) == 0 {
		t.Fatalf("sar printed no averages:\n%s", out)
	}
	return m
}

// TestLocalLoopbackHTTP: an HTTP load against 127.0.0.1, as a quick attack
// on a local target makes, shows in the totals of `--monitor local`
// (net.rx_bytes_per_s, net.tx_bytes_per_s), not only in net.lo.*: the
// target's traffic crosses lo only.
func TestLocalLoopbackHTTP(t *testing.T) {
	if _, err := os.Stat("/proc/net/dev"); err != nil {
		t.Skip("no /proc/net/dev")
	}
	const requests, body = 200, 16 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("f"), body))
	}))
	defer srv.Close()
	var n *Net
	for _, s := range Local("/proc") {
		if s, ok := s.(*Net); ok {
			n = s
		}
	}
	if n == nil {
		t.Fatal("Local has no network sampler")
	}
	got := netDelta(t, n, func() {
		for i := range requests {
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	// Each byte of the bodies is sent once and received once on lo.
	for _, name := range []string{"net.rx_bytes_per_s", "net.tx_bytes_per_s", "net.lo.rx_bytes_per_s"} {
		if got[name] < requests*body {
			t.Errorf("%s = %v over the run's second; want at least the %d bytes of the responses", name, got[name], requests*body)
		}
	}
}
