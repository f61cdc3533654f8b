// Package feeder serves rows of test data (CSV or JSON lines) to clients.
//
// A file is read once into one shared table; clients take rows by index, so
// a million-row file costs its size once, not once per client (k6's per-VU
// copies are a top complaint). Picking a row allocates nothing.
package feeder

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"sync/atomic"

	"github.com/fuka-load/fuka/load"
)

// Table is a data file in memory: named columns and rows of values.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Column returns the index of a column, or -1.
func (t *Table) Column(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// MaxFile is the largest data file fuka reads. The rows are kept in memory
// (once, shared by all clients), so a larger file, or an endless one such as
// a FIFO that never closes, is refused rather than read until memory runs
// out.
const MaxFile = 1 << 30

// errTooLarge is the error of a file above MaxFile.
var errTooLarge = fmt.Errorf("more than %d GiB, the limit for a data file (fuka keeps the rows in memory)", MaxFile>>30)

// limited reads at most MaxFile bytes, then fails with errTooLarge; it
// does not trust the file's size (a FIFO or a device reports 0).
type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a file of exactly MaxFile from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// ReadFile reads a data file whole, at most MaxFile bytes.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(&limited{r: f, left: MaxFile})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ReadCSV reads a CSV file whose first row names the columns.
func ReadCSV(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(&limited{r: f, left: MaxFile}))
	r.ReuseRecord = false
	head, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file: want a header row naming the columns", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := &Table{Columns: head}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t.Rows = append(t.Rows, rec)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("%s: no data rows after the header", path)
	}
	return t, nil
}

// ReadJSONL reads a file of JSON objects, one per line. The columns are the
// keys of all objects; strings are kept as is, other values as JSON text.
func ReadJSONL(path string) (*Table, error) {
	b, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []map[string]json.RawMessage
	cols := map[string]bool{}
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("%s:%d: want one JSON object per line: %v", path, i+1, err)
		}
		for k := range m {
			cols[k] = true
		}
		objs = append(objs, m)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	t := &Table{}
	for k := range cols {
		t.Columns = append(t.Columns, k)
	}
	sort.Strings(t.Columns)
	for _, m := range objs {
		row := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			raw, ok := m[c]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				row[i] = s
			} else {
				row[i] = string(raw)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// Pick is how rows are handed out.
type Pick int

// Picks.
const (
	Sequential Pick = iota // row after row, wrapping around, shared by all clients
	Random                 // any row, each time
	Unique                 // each row once across the run; then exhausted
)

// ParsePick parses "sequential", "random" or "unique".
func ParsePick(s string) (Pick, error) {
	switch s {
	case "", "sequential":
		return Sequential, nil
	case "random":
		return Random, nil
	case "unique":
		return Unique, nil
	}
	return 0, fmt.Errorf("pick %q: want sequential, random or unique", s)
}

// ErrExhausted is returned by Next when a unique feeder has no rows left.
var ErrExhausted = errors.New("data rows exhausted")

// Feeder hands out rows of one table. It is safe for concurrent use.
type Feeder struct {
	Name  string
	table *Table
	pick  Pick
	next  atomic.Int64
	deal  load.Deal // this worker's rows: the deal's items (zero: all)
}

// New returns a Feeder over t.
func New(name string, t *Table, pick Pick) *Feeder {
	return &Feeder{Name: name, table: t, pick: pick}
}

// SetShare makes f hand out only one worker's rows, dealt like its
// clients (see load.Deal), so the workers of a distributed run never use a
// unique row twice, each uses rows in proportion to its clients, and no
// row goes to a worker without clients. Call it before the first Next.
func (f *Feeder) SetShare(d load.Deal) { f.deal = d }

// Table returns the feeder's data.
func (f *Feeder) Table() *Table { return f.table }

// Next returns the next row for a client; r is the client's random source.
func (f *Feeder) Next(r *rand.Rand) ([]string, error) {
	n := int64(len(f.table.Rows))
	switch f.pick {
	case Random:
		return f.table.Rows[r.Int64N(n)], nil
	case Unique:
		i, ok := f.deal.Nth(f.next.Add(1) - 1)
		if !ok || i >= n {
			return nil, ErrExhausted
		}
		return f.table.Rows[i], nil
	}
	k := f.next.Add(1) - 1
	i, ok := f.deal.Nth(k)
	if !ok {
		i = k // a worker without clients takes no rows; this is never used
	}
	return f.table.Rows[i%n], nil
}

// Used reports how many rows were taken so far (for unique feeders, the
// number handed out).
func (f *Feeder) Used() int64 { return f.next.Load() }

// Exhausted reports whether a unique feeder was asked for a row after its
// last one (its share of them, in a distributed run).
func (f *Feeder) Exhausted() bool {
	if f.pick != Unique {
		return false
	}
	asked := f.next.Load()
	if asked == 0 {
		return false
	}
	i, ok := f.deal.Nth(asked - 1)
	return !ok || i >= int64(len(f.table.Rows))
}
