package plan

import (
	"bytes"
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
	var buf bytes.Buffer
	// The size is only a hint for the buffer: it may be 0 (devices, FIFOs,
	// /proc) or change while the file is read.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= limit {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, &ErrTooLarge{Limit: limit}
	}
	if buf.Len() == 0 {
		return []byte{}, nil // an empty body, not none
	}
	return buf.Bytes(), nil
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
