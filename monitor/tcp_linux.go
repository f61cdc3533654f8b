//go:build linux

package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// On a live kernel the TCP sampler counts states with sock_diag netlink
// dumps, as ss(8) does, instead of reading /proc/net/tcp and tcp6. Both walk
// the kernel's connection hash table, which is sized by memory (262144
// buckets on a 24 GB host) and walked in full for each file, but the text
// tables cost ~4 ms of kernel time each per read, where a dump of both
// families costs well under 1 ms: most of the agent's budget of 10 ms a
// second. The counts are of the same network namespace either way (procfs's
// net/ is the reader's), so the files remain the fallback and what fixture
// tests read.

// isProcfs reports whether root is a mounted procfs (not a fixture).
func isProcfs(root string) bool {
	var st unix.Statfs_t
	return unix.Statfs(root, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

// sizeofInetDiagReqV2 is struct inet_diag_req_v2: family, protocol, ext,
// pad (u8 each), states (u32) and a 48-byte inet_diag_sockid.
const sizeofInetDiagReqV2 = 56

// countTCPNetlink adds every TCP socket's state, IPv4 and IPv6, to counts.
// buf is reused between calls.
func countTCPNetlink(counts *[len(tcpStates)]uint64, buf []byte) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	// A dump takes milliseconds; never hang a sampler on a silent kernel.
	tv := unix.Timeval{Usec: 500_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	for seq, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := dumpTCP(fd, uint32(seq+1), family, counts, buf); err != nil {
			return err
		}
	}
	return nil
}

func dumpTCP(fd int, seq uint32, family uint8, counts *[len(tcpStates)]uint64, buf []byte) error {
	var req [unix.NLMSG_HDRLEN + sizeofInetDiagReqV2]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	p := req[unix.NLMSG_HDRLEN:]
	p[0], p[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(p[4:], ^uint32(0)) // every state
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: send: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sock_diag: receive: %w", err)
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(ne.Uint32(b[0:]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return errors.New("sock_diag: malformed message")
			}
			typ, msg := ne.Uint16(b[4:]), b[unix.NLMSG_HDRLEN:l]
			switch {
			case ne.Uint32(b[8:]) != seq:
				// Not ours (cannot happen on a fresh socket): skip.
			case typ == unix.NLMSG_DONE:
				return nil
			case typ == unix.NLMSG_ERROR:
				if len(msg) >= 4 {
					if errno := int32(ne.Uint32(msg)); errno != 0 {
						return fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
					}
				}
				return errors.New("sock_diag: error")
			case typ == unix.SOCK_DIAG_BY_FAMILY && len(msg) >= 2:
				// struct inet_diag_msg starts with family and state.
				countTCPState(int(msg[1]), counts)
			}
			// Messages are 4-byte aligned.
			l = (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
			if l > len(b) {
				break
			}
			b = b[l:]
		}
	}
}
