package monitor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The local samplers read Linux's procfs through a root directory passed in:
// "/proc" normally, the host's /proc mounted elsewhere in a container, or a
// fixture under testdata/ in tests. Nothing here reads a package global.

// DefaultProc is where procfs is mounted on a normal Linux host.
const DefaultProc = "/proc"

// DefaultSys is where sysfs is mounted on a normal Linux host.
const DefaultSys = "/sys"

// Local returns one sampler per local resource (CPU, load and processes,
// memory and swap, swapping, TCP, disks, network), reading procfs at root
// ("" means DefaultProc). Series names carry no host prefix: cpu.user_pct,
// mem.used_bytes, ….
//
// The network sampler also reads sysfs, to tell bridges and bonds from
// the interfaces under them: DefaultSys for DefaultProc, else "sys" next
// to root (the host's /proc mounted at /host/proc goes with /host/sys).
func Local(root string) []Sampler {
	return []Sampler{
		NewCPU(root),
		NewLoad(root),
		NewMemory(root),
		NewVMStat(root),
		NewTCP(root),
		NewDisk(root),
		NewNet(root, sysRoot(root)),
	}
}

// sysRoot is the sysfs that goes with the procfs at root.
func sysRoot(root string) string {
	root = filepath.Clean(procRoot(root))
	if root == DefaultProc {
		return DefaultSys
	}
	return filepath.Join(filepath.Dir(root), "sys")
}

func procRoot(root string) string {
	if root == "" {
		return DefaultProc
	}
	return root
}

// readProc reads root/elem... whole: procfs files are generated on read and
// are small, except net/tcp under heavy load (a few MB).
func readProc(root string, elem ...string) ([]byte, error) {
	return os.ReadFile(filepath.Join(append([]string{root}, elem...)...))
}

// procLines calls fn with the fields of each line of b.
func procLines(b []byte, fn func(fields [][]byte)) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if f := bytes.Fields(line); len(f) > 0 {
			fn(f)
		}
	}
}

func parseUint(b []byte) (uint64, error) {
	return strconv.ParseUint(string(b), 10, 64)
}

// parseUints parses fields as unsigned integers, naming what in errors.
func parseUints(what string, fields [][]byte) ([]uint64, error) {
	out := make([]uint64, len(fields))
	for i, f := range fields {
		n, err := parseUint(f)
		if err != nil {
			return nil, fmt.Errorf("%s: field %d: %w", what, i+1, err)
		}
		out[i] = n
	}
	return out, nil
}

// procCounters is one reading of monotonic counters, keyed by device (or PID)
// and then by field, taken at one time.
type procCounters struct {
	at   time.Time
	byID map[string][]uint64
}

// perSecond sums the increase of each field over the ids present in both
// readings and divides by the seconds between them. A field that went
// backwards on any id (a reboot, a wrapped 32-bit counter, a device that was
// replaced) has ok false: no value that tick rather than a huge or negative
// one. An id seen for the first time counts from the next reading; with no
// id in both readings (the first one, or a restarted process) there is no
// rate at all.
func perSecond(prev, cur procCounters, nfields int) (rate []float64, ok []bool) {
	secs := cur.at.Sub(prev.at).Seconds()
	rate, ok = make([]float64, nfields), make([]bool, nfields)
	if secs <= 0 {
		return rate, ok
	}
	sum := make([]uint64, nfields)
	back := make([]bool, nfields)
	overlap := false
	for id, c := range cur.byID {
		p, seen := prev.byID[id]
		if !seen {
			continue
		}
		overlap = true
		for i := range nfields {
			if c[i] < p[i] {
				back[i] = true
			}
			sum[i] += c[i] - p[i]
		}
	}
	for i := range rate {
		ok[i] = overlap && !back[i]
		if ok[i] {
			rate[i] = float64(sum[i]) / secs
		}
	}
	return rate, ok
}
