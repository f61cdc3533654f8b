//go:build linux

package monitor

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestTCPNetlinkMatchesFiles counts this host's sockets both ways, with
// connections the test opened on loopback: both see them, and (once
// nothing else changes between the two reads) they agree.
func TestTCPNetlinkMatchesFiles(t *testing.T) {
	if !isProcfs("/proc") {
		t.Skip("no procfs at /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	const established, listen = 1, 10
	var viaNetlink, viaFiles [len(tcpStates)]uint64
	for try := range 10 {
		viaNetlink, viaFiles = [len(tcpStates)]uint64{}, [len(tcpStates)]uint64{}
		if err := countTCPNetlink(&viaNetlink, make([]byte, 64<<10)); err != nil {
			t.Skipf("sock_diag unavailable here: %v", err)
		}
		files := &TCP{root: "/proc", netlink: -1}
		var err error
		if viaFiles, err = files.states(); err != nil {
			t.Fatal(err)
		}
		if viaNetlink == viaFiles {
			break
		}
		if try == 9 && !closeCounts(viaNetlink[:], viaFiles[:]) {
			// The two reads are moments apart on a host whose other
			// sockets keep changing state (tens of thousands in TIME_WAIT
			// on a busy CI machine): ten tries that never agree exactly are
			// still a pass when every state is within that churn.
			t.Errorf("netlink %v, files %v: never the same", viaNetlink, viaFiles)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if viaNetlink[established] < 6 || viaNetlink[listen] < 1 {
		t.Errorf("netlink counts %v: want ≥ 6 established and ≥ 1 listening (the test's own)", viaNetlink)
	}
	s := NewTCP("/proc")
	if _, err := s.Sample(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.netlink != 1 {
		t.Error("the TCP sampler on /proc does not use netlink")
	}
}

// closeCounts reports whether two readings of the TCP states differ in each
// state by at most 3 sockets or 0.1 % of that state, the churn between two
// reads of a busy host.
func closeCounts(a, b []uint64) bool {
	for i := range a {
		d := max(a[i], b[i]) - min(a[i], b[i])
		if d > 3 && d*1000 > max(a[i], b[i]) {
			return false
		}
	}
	return true
}
