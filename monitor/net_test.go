package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fxIface is one interface of a generated /proc and /sys tree: its sysfs
// entries that matter ("bridge/" a directory, "lower_eth0" a link, …) and
// its rx and tx bytes and packets at the two readings (nil: not there).
type fxIface struct {
	name          string
	sys           []string
	speed         string   // the contents of sysfs's speed ("": none, as for loopback)
	before, after []uint64 // rx bytes, rx packets, tx bytes, tx packets
}

// writeNetTree writes proc/net/dev and sys/class/net/IFACE/ under dir for
// the interfaces' counters at one reading (after or before), like the
// kernel's: the sysfs entries are those a bridge, its ports, a bond, a VLAN
// have (see `ls /sys/class/net/br0`).
func writeNetTree(t *testing.T, dir string, ifaces []fxIface, after bool) {
	t.Helper()
	var dev strings.Builder
	dev.WriteString("Inter-|   Receive                                                |  Transmit\n")
	dev.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for _, fi := range ifaces {
		c := fi.before
		if after {
			c = fi.after
		}
		if c == nil {
			continue
		}
		fmt.Fprintf(&dev, "%6s: %d %d 0 0 0 0 0 0 %d %d 0 0 0 0 0 0\n", fi.name, c[0], c[1], c[2], c[3])
		ifDir := filepath.Join(dir, "sys", "class", "net", fi.name)
		if err := os.MkdirAll(filepath.Join(ifDir, "statistics"), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.speed != "" {
			if err := os.WriteFile(filepath.Join(ifDir, "speed"), []byte(fi.speed+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range fi.sys {
			p := filepath.Join(ifDir, strings.TrimSuffix(e, "/"))
			var err error
			switch {
			case strings.HasSuffix(e, "/"):
				err = os.MkdirAll(p, 0o755)
			case strings.HasPrefix(e, "lower_"), strings.HasPrefix(e, "upper_"):
				err = os.Symlink("../"+e[len("lower_"):], p)
			case e == "master":
				err = os.Symlink("../br0", p)
			default:
				t.Fatalf("fixture entry %q", e)
			}
			if err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "proc", "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proc", "net", "dev"), []byte(dev.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ctr(rxBytes, rxPackets, txBytes, txPackets uint64) []uint64 {
	return []uint64{rxBytes, rxPackets, txBytes, txPackets}
}

// TestNetInterfaces: which interfaces the totals count, and which get
// series of their own, on trees shaped like the kernel's. Each case reads
// "before", then "after" one second later; want is the totals' rx and tx
// bytes and packets that second, shown the interfaces with series of their
// own.
func TestNetInterfaces(t *testing.T) {
	idle := ctr(100, 1, 100, 1)
	tests := []struct {
		name   string
		ifaces []fxIface
		noSys  bool // no sysfs tree at all
		want   []uint64
		shown  []string
		speed  map[string]float64 // the interfaces' speed_mbps
	}{
		{
			// A load test against 127.0.0.1 on a host with eth0.
			name: "loopback next to eth0",
			ifaces: []fxIface{
				{name: "lo", before: ctr(0, 0, 0, 0), after: ctr(5000, 50, 5000, 50)},
				{name: "eth0", before: ctr(0, 0, 0, 0), after: ctr(300, 3, 200, 2)},
			},
			want:  ctr(5300, 53, 5200, 52),
			shown: []string{"eth0", "lo"},
		},
		{
			// eth0 states its link speed; a down link's -1, an unknown 0
			// and a junk value are no speed, and loopback has none.
			name: "link speeds",
			ifaces: []fxIface{
				{name: "lo", before: ctr(0, 0, 0, 0), after: ctr(5000, 50, 5000, 50)},
				{name: "eth0", speed: "1000", before: ctr(0, 0, 0, 0), after: ctr(300, 3, 200, 2)},
				{name: "eth1", speed: "-1", before: ctr(0, 0, 0, 0), after: ctr(10, 1, 0, 0)},
				{name: "eth2", speed: "fast", before: ctr(0, 0, 0, 0), after: ctr(10, 1, 0, 0)},
				{name: "eth3", speed: "0", before: ctr(0, 0, 0, 0), after: ctr(10, 1, 0, 0)},
			},
			want:  ctr(5330, 56, 5200, 52),
			shown: []string{"eth0", "eth1", "eth2", "eth3", "lo"},
			speed: map[string]float64{"eth0": 1000},
		},
		{
			// 2000 packets from a container reach the host's stack through
			// vb and the bridge: counted once, on vb.
			name: "veth under a bridge",
			ifaces: []fxIface{
				{name: "lo", before: idle, after: idle},
				{name: "br0", sys: []string{"bridge/", "lower_vb"}, before: ctr(0, 0, 0, 0), after: ctr(2000*1028, 2000, 0, 0)},
				{name: "vb", sys: []string{"brport/", "master", "upper_br0"}, before: ctr(0, 0, 0, 0), after: ctr(2000*1042, 2000, 0, 0)},
			},
			want:  ctr(2000*1042, 2000, 0, 0),
			shown: []string{"br0", "vb"},
		},
		{
			name: "bond and its two slaves",
			ifaces: []fxIface{
				{name: "bond0", sys: []string{"bonding/", "lower_eth0", "lower_eth1"}, before: ctr(0, 0, 0, 0), after: ctr(3000, 30, 1000, 10)},
				{name: "eth0", sys: []string{"master", "upper_bond0"}, before: ctr(0, 0, 0, 0), after: ctr(2000, 20, 0, 0)},
				{name: "eth1", sys: []string{"master", "upper_bond0"}, before: ctr(0, 0, 0, 0), after: ctr(1000, 10, 1000, 10)},
			},
			want:  ctr(3000, 30, 1000, 10),
			shown: []string{"bond0", "eth0", "eth1"},
		},
		{
			name: "VLAN and macvlan on eth0",
			ifaces: []fxIface{
				{name: "eth0", sys: []string{"upper_eth0.100", "upper_mv0"}, before: ctr(0, 0, 0, 0), after: ctr(4000, 40, 4000, 40)},
				{name: "eth0.100", sys: []string{"lower_eth0"}, before: ctr(0, 0, 0, 0), after: ctr(1000, 10, 1000, 10)},
				{name: "mv0", sys: []string{"lower_eth0"}, before: ctr(0, 0, 0, 0), after: ctr(2000, 20, 2000, 20)},
			},
			want:  ctr(4000, 40, 4000, 40),
			shown: []string{"eth0", "eth0.100", "mv0"},
		},
		{
			// A bridge with no port yet: still a bridge.
			name: "bridge without ports",
			ifaces: []fxIface{
				{name: "eth0", before: ctr(0, 0, 0, 0), after: ctr(10, 1, 10, 1)},
				{name: "docker0", sys: []string{"bridge/"}, before: ctr(0, 0, 0, 0), after: ctr(0, 0, 70, 1)},
			},
			want:  ctr(10, 1, 10, 1),
			shown: []string{"docker0", "eth0"},
		},
		{
			// tc redirects eth0's ingress to ifb0 (to shape it): the same
			// packets twice.
			name: "ifb",
			ifaces: []fxIface{
				{name: "eth0", before: ctr(0, 0, 0, 0), after: ctr(500, 5, 0, 0)},
				{name: "ifb0", before: ctr(0, 0, 0, 0), after: ctr(500, 5, 500, 5)},
			},
			want:  ctr(500, 5, 0, 0),
			shown: []string{"eth0", "ifb0"},
		},
		{
			// Without sysfs nothing tells a bridge: every interface counts.
			name:  "no sysfs",
			noSys: true,
			ifaces: []fxIface{
				{name: "br0", before: ctr(0, 0, 0, 0), after: ctr(1000, 10, 0, 0)},
				{name: "vb", before: ctr(0, 0, 0, 0), after: ctr(1000, 10, 0, 0)},
			},
			want:  ctr(2000, 20, 0, 0),
			shown: []string{"br0", "vb"},
		},
		{
			// eth1 carried nothing: no series of its own (yet). veth9 is
			// new: it counts from the next reading.
			name: "idle and new interfaces",
			ifaces: []fxIface{
				{name: "eth0", before: ctr(0, 0, 0, 0), after: ctr(10, 1, 20, 2)},
				{name: "eth1", before: idle, after: idle},
				{name: "veth9", after: ctr(99999, 999, 99999, 999)},
			},
			want:  ctr(10, 1, 20, 2),
			shown: []string{"eth0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sys := filepath.Join(dir, "sys")
			if tt.noSys {
				sys = filepath.Join(dir, "nosys")
			}
			at := time.Unix(1000, 0)
			n := NewNet(filepath.Join(dir, "proc"), sys)
			n.now = func() time.Time { return at }
			writeNetTree(t, dir, tt.ifaces, false)
			if vals, err := n.Sample(t.Context()); err != nil || len(vals) > 0 {
				t.Fatalf("first sample: %v, %v; want no values", vals, err)
			}
			at = at.Add(time.Second)
			writeNetTree(t, dir, tt.ifaces, true)
			vals, err := n.Sample(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := values(t, vals)
			want := map[string]float64{}
			for i, f := range []string{"rx_bytes_per_s", "rx_packets_per_s", "tx_bytes_per_s", "tx_packets_per_s"} {
				want["net."+f] = float64(tt.want[i])
			}
			for _, f := range []string{"rx_errors_per_s", "rx_drops_per_s", "tx_errors_per_s", "tx_drops_per_s"} {
				want["net."+f] = 0
			}
			for _, name := range tt.shown {
				for _, fi := range tt.ifaces {
					if fi.name != name {
						continue
					}
					for i, f := range []string{"rx_bytes_per_s", "rx_packets_per_s", "tx_bytes_per_s", "tx_packets_per_s"} {
						want["net."+name+"."+f] = float64(fi.after[i] - fi.before[i])
					}
					for _, f := range []string{"rx_errors_per_s", "rx_drops_per_s", "tx_errors_per_s", "tx_drops_per_s"} {
						want["net."+name+"."+f] = 0
					}
				}
			}
			for name, v := range tt.speed {
				want["net."+name+".speed_mbps"] = v
			}
			sameValues(t, "after", got, want)
		})
	}
}

// TestNetShownBound: at most maxNetShown interfaces get series of their
// own, the first to carry traffic; all count in the total, and one that
// goes away frees its place.
func TestNetShownBound(t *testing.T) {
	dir := t.TempDir()
	at := time.Unix(1000, 0)
	n := NewNet(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
	n.now = func() time.Time { return at }
	var ifaces []fxIface
	for i := range maxNetShown + 8 {
		ifaces = append(ifaces, fxIface{name: fmt.Sprintf("veth%02d", i), before: ctr(0, 0, 0, 0), after: ctr(10, 1, 0, 0)})
	}
	writeNetTree(t, dir, ifaces, false)
	if _, err := n.Sample(t.Context()); err != nil {
		t.Fatal(err)
	}
	shown := func() (names map[string]bool, total float64) {
		t.Helper()
		at = at.Add(time.Second)
		vals, err := n.Sample(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		names = map[string]bool{}
		for name, v := range values(t, vals) {
			if iface, ok := strings.CutSuffix(strings.TrimPrefix(name, "net."), ".rx_bytes_per_s"); ok {
				names[iface] = true
			}
			if name == "net.rx_bytes_per_s" {
				total = v
			}
		}
		return names, total
	}
	writeNetTree(t, dir, ifaces, true)
	names, total := shown()
	if len(names) != maxNetShown || total != 10*float64(len(ifaces)) {
		t.Fatalf("%d interfaces shown, total %v B/s; want %d shown and a total of %d", len(names), total, maxNetShown, 10*len(ifaces))
	}
	if names[fmt.Sprintf("veth%02d", maxNetShown)] {
		t.Errorf("veth%02d shown: the places go in name order when all start together", maxNetShown)
	}
	// veth00 goes away; the next one that moves takes its place.
	ifaces = ifaces[1:]
	for i := range ifaces {
		ifaces[i].before, ifaces[i].after = ifaces[i].after, ctr(20, 2, 0, 0)
	}
	if err := os.RemoveAll(filepath.Join(dir, "sys")); err != nil {
		t.Fatal(err)
	}
	writeNetTree(t, dir, ifaces, true)
	names, _ = shown()
	if len(names) != maxNetShown || names["veth00"] || !names[fmt.Sprintf("veth%02d", maxNetShown)] {
		t.Errorf("after veth00 went: shown %v; want veth01..veth%02d", names, maxNetShown)
	}
}

func TestSysRoot(t *testing.T) {
	for _, tt := range []struct{ proc, want string }{
		{"", "/sys"}, {"/proc", "/sys"}, {"/proc/", "/sys"}, {"/host/proc", "/host/sys"}, {"testdata/proc1", "testdata/sys"},
	} {
		if got := sysRoot(tt.proc); got != tt.want {
			t.Errorf("sysRoot(%q) = %q, want %q", tt.proc, got, tt.want)
		}
	}
}
