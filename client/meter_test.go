package client

import (
	"context"
	"errors"
	"net"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuka-load/fuka/internal/wiretest"
)

// shortConn writes at most max bytes of each Write, then fails.
type shortConn struct {
	net.Conn
	max  int
	seen int64 // bytes the counter showed while Write ran
	e    *Exchange
}

func (s *shortConn) Write(b []byte) (int, error) {
	s.seen = s.e.out.Load()
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
			e := NewExchange()
			defer e.Release()
			sc := &shortConn{max: tt.max, e: e}
			c := &countConn{Conn: sc}
			e.gotConn(httptrace.GotConnInfo{Conn: c})
			c.Write(make([]byte, tt.size))
			if sc.seen != int64(tt.size) {
				t.Errorf("while writing, the counter showed %d, want %d", sc.seen, tt.size)
			}
			if got := e.out.Load(); got != tt.want {
				t.Errorf("after, %d counted, want %d", got, tt.want)
			}
		})
	}
}

// TestExchangeHandOff: net/http hands a connection to the next request as
// soon as the last byte of a body is read — before the reader of that body
// sees its end — so counting by connection would give one request's bytes
// to another. Many clients sharing few connections must add up to exactly
// what the server read and wrote, and each request to its own size.
func TestExchangeHandOff(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	srv := wiretest.New(t, resp, nil)
	r, err := NewRequest("GET", "http://"+srv.Addr+"/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStd(r, Options{Timeout: 5 * time.Second, MaxConns: 2, UserAgent: "fuka/test"})
	defer s.CloseIdle()
	const clients, each = 8, 150
	var in, out atomic.Int64
	var odd atomic.Int64 // requests whose own counts were not one request's
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				status, i, o, _ := s.Do(context.Background())
				in.Add(i)
				out.Add(o)
				if status != 200 || i != int64(len(resp)) || o != int64(len(r.Wire("fuka/test"))) {
					odd.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if srv.Requests.Load() != clients*each {
		t.Fatalf("the server answered %d requests, want %d", srv.Requests.Load(), clients*each)
	}
	if in.Load() != srv.Written.Load() || out.Load() != srv.Read.Load() || odd.Load() != 0 {
		t.Errorf("bytes in %d out %d, the server wrote %d and read %d; %d requests had another's bytes",
			in.Load(), out.Load(), srv.Written.Load(), srv.Read.Load(), odd.Load())
	}
}
