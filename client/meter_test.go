package client

import (
	"errors"
	"net"
	"testing"
)

// shortConn writes at most max bytes of each Write, then fails.
type shortConn struct {
	net.Conn
	max  int
	seen int64 // bytes the counter showed while Write ran
	c    *countConn
}

func (s *shortConn) Write(b []byte) (int, error) {
	s.seen = s.c.out.Load()
	if len(b) > s.max {
		return s.max, errors.New("short write")
	}
	return len(b), nil
}

// TestCountConnWrite: a write is counted before it reaches the connection
// (the response, and the exchange reading the counter, may come before the
// writing goroutine runs again), and what was not written is taken back.
func TestCountConnWrite(t *testing.T) {
	tests := []struct {
		name      string
		max, size int
		want      int64
	}{
		{"whole", 100, 40, 40},
		{"short", 10, 40, 10},
		{"nothing", 0, 40, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := &shortConn{max: tt.max}
			c := &countConn{Conn: sc}
			sc.c = c
			c.Write(make([]byte, tt.size))
			if sc.seen != int64(tt.size) {
				t.Errorf("while writing, the counter showed %d, want %d", sc.seen, tt.size)
			}
			if got := c.out.Load(); got != tt.want {
				t.Errorf("after, %d counted, want %d", got, tt.want)
			}
		})
	}
}
