package plan

import (
	"fmt"
	"io"
	"os"
)

// MaxBodyFile is the largest body_file (and `fuka attack --body-file`) fuka
// sends. A body is kept in memory and sent whole with every request, so a
// file larger than this (or endless, such as /dev/zero) is refused rather
// than read until memory runs out.
const MaxBodyFile = 64 << 20

// ReadBodyFile reads a body file of at most MaxBodyFile bytes. It reads at
// most MaxBodyFile+1 bytes whatever the file's reported size (a device or a
// FIFO reports 0), so an endless file costs no more than the limit.
func ReadBodyFile(path string) ([]byte, error) {
	return readLimited(path, MaxBodyFile)
}

// ErrTooLarge is the error of a file above its limit.
type ErrTooLarge struct{ Limit int64 }

func (e *ErrTooLarge) Error() string {
	return fmt.Sprintf("more than %s, the limit (fuka keeps it in memory)", FormatSize(e.Limit))
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The size is only a hint for the first buffer: it may be 0 (devices,
	// FIFOs, /proc) or change while the file is read. The buffer grows by
	// doubling, but never past limit+1 bytes, the most ever read.
	size := int64(512)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		size = fi.Size() + 1 // +1: reading to EOF needs room for one more read
	}
	b := make([]byte, 0, min(size, limit+1))
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				return nil, &ErrTooLarge{Limit: limit}
			}
			nb := make([]byte, len(b), min(2*int64(cap(b)), limit+1))
			copy(nb, b)
			b = nb
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(b)) > limit {
		return nil, &ErrTooLarge{Limit: limit}
	}
	return b, nil
}

// FormatSize is a byte count in the largest binary unit that divides it
// (64 MiB, 1 GiB, 1500 B).
func FormatSize(n int64) string {
	for _, u := range []struct {
		unit  string
		scale int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.scale && n%u.scale == 0 {
			return fmt.Sprintf("%d %s", n/u.scale, u.unit)
		}
	}
	return fmt.Sprintf("%d B", n)
}
