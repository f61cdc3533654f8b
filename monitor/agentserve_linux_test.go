package monitor

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAgentServerBurstMatchesLocal runs `fuka agent` on this host with its
// clock 0.62 s ahead and its own loop at another phase of the second, and
// burns one CPU during the run's third second and holds 400 connections
// around its end. The agent's series must match the local sampler's,
// second by second: both read this host's /proc at the controller's ticks,
// so a sample filed late would show the burst split over two seconds, or
// miss the connections. FUKA_INTEGRATION=1 only: it takes 5 s and a CPU.
func TestAgentServerBurstMatchesLocal(t *testing.T) {
	if os.Getenv("FUKA_INTEGRATION") != "1" {
		t.Skip("set FUKA_INTEGRATION=1: burns a CPU for a second of a 5 s run")
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	core := -1
	for i := range 1024 {
		if set.IsSet(i) {
			core = i
		}
	}
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{line: make(chan string, 1)}
	done := make(chan error, 1)
	s := AgentServer{Listen: "127.0.0.1:0", TokenFile: tok, Proc: "/proc", Now: func() time.Time { return time.Now().Add(620 * time.Millisecond) }}
	go func() { done <- s.Serve(ctx, out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	var addr string
	select {
	case line := <-out.line:
		_, after, _ := strings.Cut(line, "http://")
		addr, _, _ = strings.Cut(after, "/")
	case <-time.After(5 * time.Second):
		t.Fatal("the agent did not say where it serves")
	}
	time.Sleep(380 * time.Millisecond) // the agent's own loop ticks 0.38 s before the run's

	m := New([]Sampler{NewCPU("/proc"), NewTCP("/proc"), NewAgentSampler(addr, testToken)}, time.Second, nil)
	start := time.Now()
	burnt := make(chan error, 1)
	go func() {
		time.Sleep(time.Until(start.Add(2 * time.Second)))
		burnt <- burnCore(core, start.Add(3*time.Second))
	}()
	held := make(chan error, 1)
	go func() { held <- holdConns(400, start.Add(2750*time.Millisecond), start.Add(3250*time.Millisecond)) }()
	mdone := make(chan struct{})
	mctx, mcancel := context.WithCancel(context.Background())
	defer mcancel()
	go func() { defer close(mdone); m.Run(mctx, start) }()
	time.Sleep(time.Until(start.Add(4*time.Second + 300*time.Millisecond)))
	m.Finish(time.Now())
	<-mdone
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-burnt; err != nil {
		t.Skip("cannot pin a thread to a CPU:", err)
	}

	// 400 loopback connections (800 established sockets) held from 2.75 s
	// to 3.25 s: the sample of second 3 has them, on both sides; the
	// agent's own loop, sampling at .62 (before the change of samplers on
	// request, what the controller got), never saw them.
	t.Log("second  local tcp.established  agent")
	for _, p := range m.Points() {
		l, a := p.Values["tcp.established"], p.Values["agent."+addr+".tcp.established"]
		t.Logf("%6v  %8.0f  %8.0f", p.At, l, a)
		if math.Abs(l-a) > 40 {
			t.Errorf("second %v: agent %v established, local %v: want the same instant's", p.At, a, l)
		}
		// Other tests' connections come and go; ours are in second 3.
		if p.At == 3*time.Second && l < 800 {
			t.Errorf("second 3: %v established: want our 800 and more", l)
		}
	}

	local := fmt.Sprintf("cpu.core.%d_busy_pct", core)
	if _, ok := m.Latest().Values["cpu.max_core_busy_pct"]; !ok {
		t.Fatalf("no CPU values: %v", m.Latest().Values)
	}
	remote := "agent." + addr + "." + local
	if core >= MaxCoreSeries {
		local, remote = "cpu.max_core_busy_pct", "agent."+addr+".cpu.max_core_busy_pct"
	}
	t.Logf("second  local %s  agent  (CPU %d burnt during second 3)", local, core)
	for _, p := range m.Points() {
		if p.At == 0 {
			continue
		}
		l, lok := p.Values[local]
		a, aok := p.Values[remote]
		t.Logf("%6v  %8.2f  %8.2f", p.At, l, a)
		if !lok || !aok {
			t.Errorf("second %v: local %v (%v), agent %v (%v): want both", p.At, l, lok, a, aok)
			continue
		}
		if math.Abs(l-a) > 10 {
			t.Errorf("second %v: agent %.2f%%, local %.2f%%: want the same second's share", p.At, a, l)
		}
		if p.At == 3*time.Second && (l < 90 || a < 90) {
			t.Errorf("second 3: local %.2f%%, agent %.2f%%: want the burn (over 90)", l, a)
		}
	}
	if n := len(m.Points()); n != 5 {
		t.Errorf("%d points (failures %+v), want 5 (0 to 4 s)", n, m.Failures())
	}
}

// holdConns opens n loopback TCP connections at from and closes them at until.
func holdConns(n int, from, until time.Time) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, n)
	go func() {
		for range n {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	time.Sleep(time.Until(from))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	for range n {
		select {
		case c := <-accepted:
			conns = append(conns, c)
		case <-time.After(time.Second):
			return fmt.Errorf("%d of %d connections accepted", len(conns)-n, n)
		}
	}
	time.Sleep(time.Until(until))
	return nil
}
