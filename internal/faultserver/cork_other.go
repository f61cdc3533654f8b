//go:build !linux

package faultserver

import "net"

// cork is Linux-only; elsewhere the response and the FIN may leave apart.
func cork(net.Conn) {}
