package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// TCP samples connection counts by state from /proc/net/tcp and tcp6
// (tcp.established, tcp.syn_sent, tcp.syn_recv, tcp.fin_wait1,
// tcp.fin_wait2, tcp.time_wait, tcp.close, tcp.close_wait, tcp.last_ack,
// tcp.listen, tcp.closing) and accept-queue trouble from /proc/net/netstat
// (tcp.listen_overflows_per_s, tcp.listen_drops_per_s: connections a
// listener could not take because its backlog was full). The rates need two
// readings, so the first sample has only the counts.
//
// Counts are of the network namespace the process is in. On a live procfs
// they come from sock_diag netlink dumps (see tcp_linux.go), which cost a
// tenth of reading the text tables.
type TCP struct {
	root    string
	prev    procCounters
	netlink int8   // 0: not tried yet; 1: use sock_diag; -1: read the files
	buf     []byte // netlink receive buffer, reused
}

var _ Sampler = (*TCP)(nil)

// NewTCP returns a TCP sampler reading procfs at root.
func NewTCP(root string) *TCP { return &TCP{root: procRoot(root)} }

// Name implements Sampler.
func (*TCP) Name() string { return "tcp" }

// tcpStates are the series of the kernel's TCP states, indexed by the state
// number in /proc/net/tcp (include/net/tcp_states.h).
var tcpStates = [...]string{
	1:  "tcp.established",
	2:  "tcp.syn_sent",
	3:  "tcp.syn_recv",
	4:  "tcp.fin_wait1",
	5:  "tcp.fin_wait2",
	6:  "tcp.time_wait",
	7:  "tcp.close",
	8:  "tcp.close_wait",
	9:  "tcp.last_ack",
	10: "tcp.listen",
	11: "tcp.closing",
}

// tcpNewSynRecv is a request socket: a half-open connection, counted as SYN_RECV.
const tcpNewSynRecv = 12

// Sample implements Sampler.
func (t *TCP) Sample(context.Context) ([]Value, error) {
	counts, err := t.states()
	if err != nil {
		return nil, err
	}
	vals := make([]Value, 0, 13)
	for state, name := range tcpStates {
		if name != "" {
			vals = append(vals, Value{name, float64(counts[state])})
		}
	}

	// Listen overflows are optional: some kernels and namespaces hide netstat.
	b, err := readProc(t.root, "net", "netstat")
	if errors.Is(err, fs.ErrNotExist) {
		return vals, nil
	}
	if err != nil {
		return nil, err
	}
	overflows, drops, err := parseListenDrops(b)
	if err != nil {
		return nil, err
	}
	cur := procCounters{at: time.Now(), byID: map[string][]uint64{"": {overflows, drops}}}
	rate, ok := perSecond(t.prev, cur, 2)
	t.prev = cur
	for i, name := range []string{"tcp.listen_overflows_per_s", "tcp.listen_drops_per_s"} {
		if ok[i] {
			vals = append(vals, Value{name, rate[i]})
		}
	}
	return vals, nil
}

// states counts the sockets by state: by netlink on a live procfs, else
// (or when netlink is blocked, by seccomp or an old kernel) from the files.
func (t *TCP) states() ([len(tcpStates)]uint64, error) {
	var counts [len(tcpStates)]uint64
	if t.netlink == 0 {
		t.netlink = -1
		if isProcfs(t.root) {
			t.netlink = 1
			t.buf = make([]byte, 64<<10) // the kernel sends at most 32 KiB at a time
		}
	}
	if t.netlink == 1 {
		err := countTCPNetlink(&counts, t.buf)
		if err == nil {
			return counts, nil
		}
		t.netlink, t.buf, counts = -1, nil, [len(tcpStates)]uint64{}
	}
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := readProc(t.root, "net", name)
		if errors.Is(err, fs.ErrNotExist) && name == "tcp6" {
			continue // IPv6 disabled
		}
		if err != nil {
			return counts, err
		}
		if err := countTCPStates(b, &counts); err != nil {
			return counts, fmt.Errorf("/proc/net/%s: %w", name, err)
		}
	}
	return counts, nil
}

// countTCPStates adds the sockets of one /proc/net/tcp table to counts by
// state. A line is "sl local rem st ...": the state is the 4th field, in hex.
func countTCPStates(b []byte, counts *[len(tcpStates)]uint64) error {
	first := true
	var err error
	procLines(b, func(f [][]byte) {
		if first || err != nil { // the header
			first = false
			return
		}
		if len(f) < 4 || len(f[3]) != 2 {
			err = fmt.Errorf("line %q: no state", bytes.Join(f, []byte(" ")))
			return
		}
		countTCPState(unhex(f[3][0])<<4|unhex(f[3][1]), counts)
	})
	return err
}

// countTCPState counts one socket in state st.
func countTCPState(st int, counts *[len(tcpStates)]uint64) {
	if st == tcpNewSynRecv {
		st = 3
	}
	if st >= 0 && st < len(counts) {
		counts[st]++
	}
}

// unhex returns the value of a hex digit, or -256 (so any sum is negative).
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -256
}

// parseListenDrops finds TcpExt ListenOverflows and ListenDrops in
// /proc/net/netstat, where each group is a line of names followed by a line
// of values, both starting with "TcpExt:".
func parseListenDrops(b []byte) (overflows, drops uint64, err error) {
	var names [][]byte
	found := 0
	procLines(b, func(f [][]byte) {
		if err != nil || string(f[0]) != "TcpExt:" {
			return
		}
		if names == nil {
			names = f
			return
		}
		if len(f) != len(names) {
			err = errors.New("/proc/net/netstat: TcpExt names and values differ in number")
			return
		}
		for i, n := range names {
			var dst *uint64
			switch string(n) {
			case "ListenOverflows":
				dst = &overflows
			case "ListenDrops":
				dst = &drops
			default:
				continue
			}
			if *dst, err = parseUint(f[i]); err != nil {
				err = fmt.Errorf("/proc/net/netstat: %s: %w", n, err)
				return
			}
			found++
		}
	})
	if err == nil && found < 2 {
		err = errors.New("/proc/net/netstat: no TcpExt ListenOverflows and ListenDrops")
	}
	return overflows, drops, err
}
