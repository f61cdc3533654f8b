//go:build linux

package engine

import (
	"context"
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// preconnect opens up to n connections (as many as the loop's share of
// clients has room for) before the run's clock starts and leaves them idle
// in the loop's free pool. Nothing is written on them. It returns each
// opened connection's connect time, the failed attempts and the first
// failure. It runs before run, on the caller's goroutine.
func (l *fastLoop) preconnect(ctx context.Context, n int, deadline time.Time) (opened []time.Duration, failed int, first error) {
	n = min(n, l.maxConns-len(l.conns))
	if n <= 0 {
		return nil, 0, nil
	}
	began := make(map[int32]time.Time, n)
	fail := func(c *conn, err error) {
		failed++
		if first == nil {
			first = err
		}
		l.closeSocket(c)
		c.state = cIdle
	}
	for range n {
		c := l.newConn()
		l.free = append(l.free, c)
		fd, err := unix.Socket(l.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fail(c, err)
			continue
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if l.batch {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		}
		c.fd, c.gen, c.served = fd, c.gen+1, 0
		t0 := time.Now()
		err = unix.Connect(fd, l.sa)
		switch {
		case err == nil:
			if err := l.ctl(c, unix.EPOLL_CTL_ADD, false); err != nil {
				fail(c, err)
				continue
			}
			opened = append(opened, time.Since(t0))
		case err == unix.EINPROGRESS:
			if err := l.ctl(c, unix.EPOLL_CTL_ADD, true); err != nil {
				fail(c, err)
				continue
			}
			c.state = cConnecting
			began[c.idx] = t0
		default:
			fail(c, err)
		}
	}
	for len(began) > 0 {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			why := errors.New("connect timed out")
			if ctx.Err() != nil {
				why = ctx.Err()
			}
			for idx := range began {
				fail(l.conns[idx], why)
			}
			break
		}
		k := l.wait(min(left, maxSleep))
		for i := 0; i < k; i++ {
			ev := &l.events[i]
			c := l.conns[ev.Fd]
			if c.gen != ev.Pad || c.fd < 0 {
				continue
			}
			if c.state != cConnecting {
				l.closeSocket(c) // idle and readable: the server closed it; dispatch reconnects
				continue
			}
			if ev.Events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
				continue
			}
			t0 := began[c.idx]
			delete(began, c.idx)
			soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			switch {
			case err != nil:
				fail(c, err)
			case soerr != 0:
				fail(c, syscall.Errno(soerr))
			default:
				c.state = cIdle
				_ = l.ctl(c, unix.EPOLL_CTL_MOD, false)
				opened = append(opened, time.Since(t0))
			}
		}
	}
	return opened, failed, first
}

func (l *fastLoop) discard() { l.shutdown() }
