//go:build linux

package engine

import (
	"bytes"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// slowConnect is a listener whose accept queue is full until release: a
// connect begun before then gets no answer to its SYN, and completes only
// at the SYN's retransmission (1 s on Linux) after release. It stands for
// a worker frozen between taking a start and writing the request: the
// request's connect outlives its lease.
type slowConnect struct {
	ln       net.Listener
	dummy    net.Conn // the connection that fills the queue
	bytes    atomic.Int64
	mu       sync.Mutex
	accepted []time.Time // after release, when each connection was accepted
	wg       sync.WaitGroup
}

func newSlowConnect(t *testing.T) *slowConnect {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	if err == nil {
		err = unix.Listen(fd, 0) // one connection waiting to be accepted fills the queue
	}
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "slow-connect")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := &slowConnect{ln: ln}
	if s.dummy, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.ln.Close()
		s.dummy.Close()
		s.wg.Wait()
	})
	return s
}

func (s *slowConnect) url() string { return "http://" + s.ln.Addr().String() + "/" }

// release empties the queue and serves from then on: it counts every byte
// a connection brings and answers each request (a read that ends one).
func (s *slowConnect) release() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for first := true; ; first = false {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			if first {
				c.Close() // the dummy: its place in the queue is free now
				continue
			}
			s.mu.Lock()
			s.accepted = append(s.accepted, time.Now())
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					c.SetReadDeadline(time.Now().Add(3 * time.Second))
					n, err := c.Read(buf)
					s.bytes.Add(int64(n))
					if err != nil {
						return
					}
					if bytes.HasSuffix(buf[:n], []byte("\r\n\r\n")) {
						c.Write([]byte(okResponse))
					}
				}
			}()
		}
	}()
}

// TestLeaseAtWrite: the lease is asked when a request's first byte is
// written, not only when its start is taken. A client takes its start
// while the lease holds, its connect then outlasts the lease (the target's
// accept queue is full: the SYN goes unanswered until its retransmission),
// and the connection opens after the lease ran out: not a byte of the
// request may reach the target, and the request is no request in the
// counts (an open-model start is dropped). Checking the lease only at the
// start sends it. When the lease is extended later, a closed-model
// client's start goes then: a run of one request sends it, once.
func TestLeaseAtWrite(t *testing.T) {
	for _, tr := range transports {
		for _, tc := range []struct {
			name           string
			open, extended bool
		}{{"closed", false, false}, {"closed/extended", false, true}, {"open", true, false}} {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) { leaseAtWrite(t, tr, tc.open, tc.extended) })
		}
	}
}

func leaseAtWrite(t *testing.T, tr transport, open, extended bool) {
	srv := newSlowConnect(t)
	lease := NewLease()
	begin := time.Now()
	leaseEnd := begin.Add(300 * time.Millisecond)
	lease.Extend(leaseEnd)
	rel := time.AfterFunc(600*time.Millisecond, srv.release)
	defer rel.Stop()
	if extended {
		ext := time.AfterFunc(1500*time.Millisecond, func() { lease.Extend(time.Now().Add(time.Hour)) })
		defer ext.Stop()
	}
	var ld Load = Closed{Clients: 1, Duration: 2500 * time.Millisecond, Requests: 1}
	if open {
		// Starts at 0, 1 s and 2 s; no pre-connect (it would open the
		// connection before the clock starts).
		ld = Open{Rate: rate(t, "1", 2500*time.Millisecond), MaxClients: 1, Preconnect: -1}
	}
	res, _ := run(t, tr, Config{
		Load:  ld,
		Work:  Request{Request: newReq(t, "GET", srv.url(), nil, nil), Timeout: 2 * time.Second},
		Lease: lease,
	})
	// The target may still be reading what came at the end.
	time.Sleep(100 * time.Millisecond)
	srv.mu.Lock()
	accepted := append([]time.Time(nil), srv.accepted...)
	srv.mu.Unlock()
	if len(accepted) == 0 || accepted[0].Before(leaseEnd) {
		t.Fatalf("connections accepted at %v after the start, want one after the lease ran out at 300ms: the test tests nothing", offsets(begin, accepted))
	}
	// A client waiting for the lease does not dial the target again and
	// again meanwhile.
	if len(accepted) > 2 {
		t.Errorf("%d connections accepted at %v, want at most 2: the client kept connecting while the lease was out", len(accepted), offsets(begin, accepted))
	}
	tot := res.Run.Total
	t.Logf("connections accepted at %v; the run: %d requests, %d dropped; the target read %d bytes", offsets(begin, accepted), tot.Requests, res.Run.Dropped, srv.bytes.Load())
	if extended {
		if tot.Requests != 1 || tot.Status[200] != 1 || srv.bytes.Load() == 0 {
			t.Errorf("%d requests (%d answered, errors %v), the target read %d bytes; want the one request, sent once the lease was extended", tot.Requests, tot.Status[200], errorsOf(tot), srv.bytes.Load())
		}
		return
	}
	if n := srv.bytes.Load(); n > 0 {
		t.Errorf("the target read %d bytes on a connection opened after the lease ran out", n)
	}
	if tot.Requests != 0 {
		t.Errorf("%d requests in the counts (errors %v), want none: nothing was sent", tot.Requests, errorsOf(tot))
	}
	if open && (res.Scheduled != 3 || res.Run.Dropped != 3) {
		t.Errorf("scheduled %d, dropped %d; want the 3 starts dropped (the first refused at its write)", res.Scheduled, res.Run.Dropped)
	}
}

// offsets are times as offsets from begin, for messages.
func offsets(begin time.Time, ts []time.Time) []string {
	var out []string
	for _, t := range ts {
		out = append(out, strconv.FormatInt(t.Sub(begin).Milliseconds(), 10)+"ms")
	}
	return out
}
