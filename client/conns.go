package client

import (
	"context"
	"net"
	"sync"
	"time"
)

// Conns is where a transport's TCP connections come from: first those
// opened before the run's clock started (Preconnect), then new ones, each
// counted (OnConnect). Only plain TCP is pre-opened; a TLS handshake still
// happens on a connection's first request.
type Conns struct {
	mu   sync.Mutex
	idle []net.Conn
	// OnConnect, if set, is called for each connection dialed during the
	// run (not for pre-connected ones).
	OnConnect func()
}

// preconnectParallel bounds the dials in flight while pre-connecting.
const preconnectParallel = 64

// Preconnect dials n TCP connections to addr and keeps them for the
// transport. Nothing is written on them. It returns each opened one's
// connect time, the failed dials and the first failure.
func (c *Conns) Preconnect(ctx context.Context, network, addr string, n int) (opened []time.Duration, failed int, first error) {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, preconnectParallel)
		d   net.Dialer
	)
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t0 := time.Now()
			conn, err := d.DialContext(ctx, network, addr)
			took := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if first == nil {
					first = err
				}
				return
			}
			opened = append(opened, took)
			c.mu.Lock()
			c.idle = append(c.idle, conn)
			c.mu.Unlock()
		}()
	}
	wg.Wait()
	return opened, failed, first
}

// take returns a pre-connected connection the server has not closed; nil
// when none is left.
func (c *Conns) take() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.idle) > 0 {
		conn := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if !peerClosed(conn) {
			return conn
		}
		conn.Close()
	}
	return nil
}

// dial is the transport's TCP dial: a pre-connected connection, else a new
// one, counted.
func (c *Conns) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	if c == nil {
		return d.DialContext(ctx, network, addr)
	}
	if conn := c.take(); conn != nil {
		return conn, nil
	}
	conn, err := d.DialContext(ctx, network, addr)
	if err == nil && c.OnConnect != nil {
		c.OnConnect()
	}
	return conn, err
}

// Close closes the pre-connected connections no request took.
func (c *Conns) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.idle {
		conn.Close()
	}
	c.idle = nil
}
