//go:build !linux

package monitor

import "errors"

func isProcfs(string) bool { return false }

func countTCPNetlink(*[len(tcpStates)]uint64, []byte) error {
	return errors.ErrUnsupported
}
