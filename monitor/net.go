package monitor

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// Net samples network interfaces from /proc/net/dev, summed over the
// interfaces: net.rx_bytes_per_s, net.tx_bytes_per_s, net.rx_packets_per_s,
// net.tx_packets_per_s, net.rx_errors_per_s, net.tx_errors_per_s,
// net.rx_drops_per_s and net.tx_drops_per_s. The first sample has no values.
// Which interfaces count depends on its Loopback setting.
type Net struct {
	root     string
	loopback Loopback
	prev     procCounters
}

var _ Sampler = (*Net)(nil)

// Loopback says whether Net counts the loopback interface, lo.
type Loopback int

const (
	// LoopbackAuto counts lo only when it is the only interface (a
	// container or network namespace with no other link).
	LoopbackAuto Loopback = iota
	// LoopbackInclude always counts lo: for a target on the same machine
	// as fuka, whose traffic never leaves it.
	LoopbackInclude
	// LoopbackExclude never counts lo.
	LoopbackExclude
)

// NewNet returns a Net sampler reading procfs at root.
func NewNet(root string, loopback Loopback) *Net {
	return &Net{root: procRoot(root), loopback: loopback}
}

// Name implements Sampler.
func (*Net) Name() string { return "net" }

var netSeries = [...]string{
	"net.rx_bytes_per_s", "net.rx_packets_per_s", "net.rx_errors_per_s", "net.rx_drops_per_s",
	"net.tx_bytes_per_s", "net.tx_packets_per_s", "net.tx_errors_per_s", "net.tx_drops_per_s",
}

// Sample implements Sampler.
func (n *Net) Sample(context.Context) ([]Value, error) {
	b, err := readProc(n.root, "net", "dev")
	if err != nil {
		return nil, err
	}
	ifaces, err := parseNetDev(b)
	if err != nil {
		return nil, err
	}
	if _, ok := ifaces["lo"]; ok {
		switch n.loopback {
		case LoopbackExclude:
			delete(ifaces, "lo")
		case LoopbackAuto:
			if len(ifaces) > 1 {
				delete(ifaces, "lo")
			}
		}
	}
	cur := procCounters{at: time.Now(), byID: ifaces}
	rate, ok := perSecond(n.prev, cur, len(netSeries))
	n.prev = cur
	var vals []Value
	for i, name := range netSeries {
		if ok[i] {
			vals = append(vals, Value{name, rate[i]})
		}
	}
	return vals, nil
}

// parseNetDev returns the counters of each interface in /proc/net/dev, in
// the order of netSeries. After two header lines, a line is "name: rx bytes
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
