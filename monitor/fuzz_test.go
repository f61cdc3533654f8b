package monitor

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzProcParsers feeds the same bytes to every /proc parser: none may
// panic, whatever a kernel (or a broken fixture) prints.
func FuzzProcParsers(f *testing.F) {
	for _, name := range []string{"stat", "loadavg", "meminfo", "vmstat", "net/tcp", "net/netstat", "diskstats", "net/dev", "1500/stat"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc1", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("cpu 1 2\n"))
	f.Add([]byte("TcpExt: ListenOverflows\nTcpExt: x\n"))
	f.Add([]byte("1 (a) S"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseStat(b)
		_, _ = parseLoadavg(b)
		_, _ = parseMeminfo(b)
		_, _, _ = parseVMStat(b)
		var counts [len(tcpStates)]uint64
		_ = countTCPStates(b, &counts)
		_, _, _ = parseListenDrops(b)
		_, _ = parseDiskstats(b)
		_, _ = parseNetDev(b)
		_, _ = parseProcStat(b)
	})
}
