package monitor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Net samples network interfaces from /proc/net/dev. Each interface that
// has carried traffic gets series of its own, net.IFACE.rx_bytes_per_s and
// so on (loopback is net.lo.…), and the totals net.rx_bytes_per_s,
// net.tx_bytes_per_s, net.rx_packets_per_s, net.tx_packets_per_s,
// net.rx_errors_per_s, net.tx_errors_per_s, net.rx_drops_per_s and
// net.tx_drops_per_s sum the interfaces that are not stacked on others
// (not bridges, bonds, VLANs: see countsInTotal), so that a packet crossing
// a bridge and its port is counted once. An interface with series of its
// own whose link speed sysfs states (/sys/class/net/IFACE/speed: not
// loopback, not a down link's -1, not most virtual ones) also has
// net.IFACE.speed_mbps, the limit its rx and tx bytes are read against. The
// first sample has no values.
type Net struct {
	proc, sys string
	now       func() time.Time // time.Now; tests fix it
	prev      procCounters     // every interface, counted in the total or not
	shown     map[string]bool  // interfaces with series of their own
}

var _ Sampler = (*Net)(nil)

// maxNetShown bounds the interfaces with series of their own: a host with
// hundreds of containers has hundreds of veths, and eight series a second
// for each would make the report's size grow with them. The rest still
// count in the total.
const maxNetShown = 32

// NewNet returns a Net sampler reading procfs at proc and sysfs at sys (""
// means DefaultProc and DefaultSys). Both must show the same network
// namespace: /proc/net/dev is the reader's, /sys/class/net the one sysfs
// was mounted in.
func NewNet(proc, sys string) *Net {
	if sys == "" {
		sys = DefaultSys
	}
	return &Net{proc: procRoot(proc), sys: sys, now: time.Now, shown: map[string]bool{}}
}

// Name implements Sampler.
func (*Net) Name() string { return "net" }

// netFields are the series' last parts, in the order parseNetDev keeps the
// counters.
var netFields = [...]string{
	"rx_bytes_per_s", "rx_packets_per_s", "rx_errors_per_s", "rx_drops_per_s",
	"tx_bytes_per_s", "tx_packets_per_s", "tx_errors_per_s", "tx_drops_per_s",
}

// Sample implements Sampler.
func (n *Net) Sample(context.Context) ([]Value, error) {
	b, err := readProc(n.proc, "net", "dev")
	if err != nil {
		return nil, err
	}
	ifaces, err := parseNetDev(b)
	if err != nil {
		return nil, err
	}
	cur := procCounters{at: n.now(), byID: ifaces}
	prev := n.prev
	n.prev = cur
	counted := procCounters{at: cur.at, byID: map[string][]uint64{}}
	for name, c := range ifaces {
		if countsInTotal(n.sys, name) {
			counted.byID[name] = c
		}
	}
	var vals []Value
	rate, ok := perSecond(prev, counted, len(netFields))
	for i, f := range netFields {
		if ok[i] {
			vals = append(vals, Value{"net." + f, rate[i]})
		}
	}
	for name := range n.shown {
		if _, ok := ifaces[name]; !ok {
			delete(n.shown, name) // gone: its place is free
		}
	}
	names := make([]string, 0, len(ifaces))
	for name := range ifaces {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p, seen := prev.byID[name]
		if !seen {
			continue
		}
		c := ifaces[name]
		if !n.shown[name] {
			if len(n.shown) >= maxNetShown || !moved(p, c) {
				continue
			}
			n.shown[name] = true
		}
		rate, ok := perSecond(procCounters{prev.at, map[string][]uint64{name: p}},
			procCounters{cur.at, map[string][]uint64{name: c}}, len(netFields))
		for i, f := range netFields {
			if ok[i] {
				vals = append(vals, Value{"net." + name + "." + f, rate[i]})
			}
		}
		if mbps, ok := linkSpeed(n.sys, name); ok {
			vals = append(vals, Value{"net." + name + ".speed_mbps", mbps})
		}
	}
	return vals, nil
}

// linkSpeed is an interface's link speed in Mbit/s, where sysfs states
// one: reading it fails for loopback and for a link that is down
// (EINVAL), and a driver that does not know says -1 (or 0).
func linkSpeed(sys, iface string) (float64, bool) {
	b, err := os.ReadFile(filepath.Join(sys, "class", "net", iface, "speed"))
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}

// moved reports whether any counter changed between two readings.
func moved(prev, cur []uint64) bool { return !slices.Equal(prev, cur) }

// countsInTotal reports whether an interface's counters go into the net.*
// totals: physical interfaces, veths, loopback, tun/tap and tunnels do.
// Devices stacked on other interfaces of the same namespace do not: a
// bridge (sysfs has bridge/), a bond (bonding/), and anything with a
// lower_* link (a bridge's or bond's or team's ports, the interface under a
// VLAN, macvlan or ipvlan), because every packet they carry also crosses
// the interface under them, which is counted. An ifb device (ifbN) carries
// packets tc redirected from another interface, so it does not count
// either. An interface sysfs does not show counts.
func countsInTotal(sys, iface string) bool {
	if strings.HasPrefix(iface, "ifb") {
		return false
	}
	ents, err := os.ReadDir(filepath.Join(sys, "class", "net", iface))
	if err != nil {
		return true
	}
	for _, e := range ents {
		if n := e.Name(); n == "bridge" || n == "bonding" || strings.HasPrefix(n, "lower_") {
			return false
		}
	}
	return true
}

// parseNetDev returns the counters of each interface in /proc/net/dev, in
// the order of netFields. After two header lines, a line is "name: rx bytes
// packets errs drop fifo frame compressed multicast tx bytes packets errs
// drop fifo colls carrier compressed"; old kernels print no space after the
// colon, so the name is cut at the colon, not at a space.
func parseNetDev(b []byte) (map[string][]uint64, error) {
	ifaces := map[string][]uint64{}
	for line := range bytes.Lines(b) {
		name, rest, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue // a header line
		}
		f := bytes.Fields(rest)
		iface := string(bytes.TrimSpace(name))
		if len(f) < 16 {
			return nil, fmt.Errorf("/proc/net/dev: %s: %d fields, want 16", iface, len(f))
		}
		n, err := parseUints("/proc/net/dev: "+iface, f[:16])
		if err != nil {
			return nil, err
		}
		ifaces[iface] = []uint64{n[0], n[1], n[2], n[3], n[8], n[9], n[10], n[11]}
	}
	return ifaces, nil
}
