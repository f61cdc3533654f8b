package monitor

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Disk samples whole disks from /proc/diskstats: disk.read_bytes_per_s,
// disk.write_bytes_per_s, disk.reads_per_s and disk.writes_per_s summed over
// the disks, and disk.util_pct, the share of the interval the busiest disk
// had I/O in flight (its io_ticks; 100 means saturated, for a single-queue
// device). The first sample has no values.
//
// Partitions, loop, ram and zram devices, device-mapper (dm-*) and software
// RAID (md*) are left out: they are views of the whole disks, and counting
// them too would count the same bytes twice.
type Disk struct {
	root string
	prev procCounters
}

var _ Sampler = (*Disk)(nil)

// NewDisk returns a Disk sampler reading procfs at root.
func NewDisk(root string) *Disk { return &Disk{root: procRoot(root)} }

// Name implements Sampler.
func (*Disk) Name() string { return "disk" }

// The fields of a disk's reading, in order.
const (
	diskReads = iota
	diskReadSectors
	diskWrites
	diskWriteSectors
	diskIOTicks // milliseconds with I/O in flight
	diskFields
)

// diskstats sectors are 512 bytes whatever the device's sector size.
const sectorBytes = 512

// Sample implements Sampler.
func (d *Disk) Sample(context.Context) ([]Value, error) {
	b, err := readProc(d.root, "diskstats")
	if err != nil {
		return nil, err
	}
	disks, err := parseDiskstats(b)
	if err != nil {
		return nil, err
	}
	cur := procCounters{at: time.Now(), byID: disks}
	prev := d.prev
	d.prev = cur
	rate, ok := perSecond(prev, cur, diskFields)
	var vals []Value
	for _, s := range []struct {
		name  string
		field int
		scale float64
	}{
		{"disk.read_bytes_per_s", diskReadSectors, sectorBytes},
		{"disk.write_bytes_per_s", diskWriteSectors, sectorBytes},
		{"disk.reads_per_s", diskReads, 1},
		{"disk.writes_per_s", diskWrites, 1},
	} {
		if ok[s.field] {
			vals = append(vals, Value{s.name, rate[s.field] * s.scale})
		}
	}
	// Utilisation is of the busiest disk, not a sum: two disks each 60% busy
	// are not 120% busy, and an average would hide the one that is full.
	if ok[diskIOTicks] {
		secs := cur.at.Sub(prev.at).Seconds()
		busiest := 0.0
		for name, c := range cur.byID {
			if p, seen := prev.byID[name]; seen && c[diskIOTicks] >= p[diskIOTicks] {
				busiest = max(busiest, float64(c[diskIOTicks]-p[diskIOTicks])/1000/secs*100)
			}
		}
		vals = append(vals, Value{"disk.util_pct", min(busiest, 100)})
	}
	return vals, nil
}

// parseDiskstats returns the whole disks of /proc/diskstats. A line is
// "major minor name reads merged sectors ms writes merged sectors ms
// in_flight io_ticks weighted [discard and flush fields]".
func parseDiskstats(b []byte) (map[string][]uint64, error) {
	all := map[string][]uint64{}
	var err error
	procLines(b, func(f [][]byte) {
		if err != nil {
			return
		}
		if len(f) < 14 {
			err = fmt.Errorf("/proc/diskstats: %d fields, want at least 14", len(f))
			return
		}
		name := string(f[2])
		var n []uint64
		if n, err = parseUints("/proc/diskstats: "+name, f[3:14]); err != nil {
			return
		}
		all[name] = []uint64{n[0], n[2], n[4], n[6], n[9]}
	})
	if err != nil {
		return nil, err
	}
	for name := range all {
		if !wholeDisk(name, all) {
			delete(all, name)
		}
	}
	return all, nil
}

// wholeDisk reports whether name is a physical (or virtual machine's) disk
// rather than a partition of one or a device stacked on others.
func wholeDisk(name string, all map[string][]uint64) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	// A partition is its disk's name and a number: sda1, vdb2; when the
	// disk's name ends in a digit the kernel puts a "p" between:
	// nvme0n1p1, mmcblk0p2. So nbd10 is a disk, not a partition of nbd1.
	for disk := range all {
		rest, ok := strings.CutPrefix(name, disk)
		if !ok || rest == "" {
			continue
		}
		if last := disk[len(disk)-1]; '0' <= last && last <= '9' {
			if rest, ok = strings.CutPrefix(rest, "p"); !ok {
				continue
			}
		}
		if rest != "" && strings.Trim(rest, "0123456789") == "" {
			return false
		}
	}
	return true
}
