package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SchedWait samples how long a process's threads waited on a run queue —
// runnable, but no CPU free to run them — from /proc/PID/task/*/schedstat
// (the kernel's run_delay). Its one series, NAME.cpu_wait_pct, is in the
// unit of cpu_pct: 100 = one thread waited the whole second. fuka samples
// itself with it: a generator that waits for a CPU sends late.
type SchedWait struct {
	dir, name string
	prev      map[string]uint64 // run_delay by thread id
	at        time.Time
	now       func() time.Time
}

// NewSchedWait samples process pid under root ("/proc" when ""); name
// prefixes its series (e.g. "proc.1234").
func NewSchedWait(root string, pid int, name string) *SchedWait {
	if root == "" {
		root = "/proc"
	}
	return &SchedWait{dir: filepath.Join(root, strconv.Itoa(pid), "task"), name: name, now: time.Now}
}

func (s *SchedWait) Name() string { return s.name + " run queue" }

// Sample returns the threads' wait over the time since the last sample;
// nothing the first time. A thread that ended since takes its wait with
// it: the sum counts the threads that are there at both samples.
func (s *SchedWait) Sample(context.Context) ([]Value, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("schedstat: %w", err)
	}
	now := s.now()
	cur := make(map[string]uint64, len(ents))
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		if d, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			cur[e.Name()] = d
		}
	}
	prev, at := s.prev, s.at
	s.prev, s.at = cur, now
	if prev == nil || !now.After(at) {
		return nil, nil
	}
	var waited uint64
	for id, d := range cur {
		if p, ok := prev[id]; ok && d >= p {
			waited += d - p
		}
	}
	return []Value{{s.name + ".cpu_wait_pct", 100 * float64(waited) / float64(now.Sub(at).Nanoseconds())}}, nil
}
