package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Memory samples /proc/meminfo: mem.total_bytes, mem.available_bytes (what
// can be allocated without swapping), mem.used_bytes (total - available),
// mem.cached_bytes (buffers, page cache and reclaimable slab, free(1)'s
// buff/cache), swap.total_bytes and swap.used_bytes.
type Memory struct{ root string }

var _ Sampler = (*Memory)(nil)

// NewMemory returns a Memory sampler reading procfs at root.
func NewMemory(root string) *Memory { return &Memory{root: procRoot(root)} }

// Name implements Sampler.
func (*Memory) Name() string { return "mem" }

// Sample implements Sampler.
func (m *Memory) Sample(context.Context) ([]Value, error) {
	b, err := readProc(m.root, "meminfo")
	if err != nil {
		return nil, err
	}
	return parseMeminfo(b)
}

func parseMeminfo(b []byte) ([]Value, error) {
	kb := map[string]uint64{}
	var err error
	procLines(b, func(f [][]byte) {
		if err != nil || len(f) < 2 {
			return
		}
		key := string(bytes.TrimSuffix(f[0], []byte(":")))
		var n uint64
		if n, err = parseUint(f[1]); err != nil {
			err = fmt.Errorf("/proc/meminfo: %s: %w", key, err)
			return
		}
		if len(f) > 2 && string(f[2]) == "kB" {
			n *= 1024
		}
		kb[key] = n
	})
	if err != nil {
		return nil, err
	}
	total, ok := kb["MemTotal"]
	if !ok {
		return nil, errors.New("/proc/meminfo: no MemTotal")
	}
	avail, ok := kb["MemAvailable"]
	if !ok { // kernels before 3.14
		avail = kb["MemFree"] + kb["Buffers"] + kb["Cached"]
	}
	swapUsed := uint64(0)
	if kb["SwapTotal"] > kb["SwapFree"] {
		swapUsed = kb["SwapTotal"] - kb["SwapFree"]
	}
	used := uint64(0)
	if total > avail {
		used = total - avail
	}
	return []Value{
		{"mem.total_bytes", float64(total)},
		{"mem.used_bytes", float64(used)},
		{"mem.available_bytes", float64(avail)},
		{"mem.cached_bytes", float64(kb["Buffers"] + kb["Cached"] + kb["SReclaimable"])},
		{"swap.used_bytes", float64(swapUsed)},
		{"swap.total_bytes", float64(kb["SwapTotal"])},
	}, nil
}
