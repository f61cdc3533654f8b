package client

import (
	"net"
	"syscall"
)

// peerClosed reports whether the server closed c, or sent something on it,
// while it sat idle: a non-blocking peek finds the end of the stream or
// bytes no request asked for. It does not consume anything.
func peerClosed(c net.Conn) bool {
	// Look through wrappers (TLS, Meter's counter) to the socket.
	sc, ok := c.(syscall.Conn)
	for !ok {
		u, isWrapper := c.(interface{ NetConn() net.Conn })
		if !isWrapper {
			return false
		}
		c = u.NetConn()
		sc, ok = c.(syscall.Conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var b [1]byte
	closed := false
	// Control, not Read: the transport's reader may be blocked in a read
	// of this connection, holding its read lock.
	_ = rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (err == nil && n >= 0) || (err != nil && err != syscall.EAGAIN && err != syscall.EINTR)
	})
	return closed
}
