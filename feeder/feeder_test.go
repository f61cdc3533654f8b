package feeder

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/fuka-load/fuka/load"
)

func write(t *testing.T, name, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		body    string
		cols    []string
		rows    int
		wantErr bool
	}{
		{"csv", "u.csv", "name,pass\nann,a1\nbob,b2\n", []string{"name", "pass"}, 2, false},
		{"csv quoted", "u.csv", "name,note\n\"x,y\",\"say \"\"hi\"\"\"\n", []string{"name", "note"}, 1, false},
		{"csv empty", "u.csv", "", nil, 0, true},
		{"csv header only", "u.csv", "a,b\n", nil, 0, true},
		{"csv ragged", "u.csv", "a,b\n1\n", nil, 0, true},
		{"jsonl", "u.jsonl", "{\"name\":\"ann\",\"id\":1}\n\n{\"name\":\"bob\"}\n", []string{"id", "name"}, 2, false},
		{"jsonl bad", "u.jsonl", "{\"name\":\n", nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, tt.file, tt.body)
			var tb *Table
			var err error
			if filepath.Ext(p) == ".csv" {
				tb, err = ReadCSV(p)
			} else {
				tb, err = ReadJSONL(p)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(tb.Rows) != tt.rows || len(tb.Columns) != len(tt.cols) {
				t.Fatalf("got %v rows %d", tb.Columns, len(tb.Rows))
			}
			for i, c := range tt.cols {
				if tb.Columns[i] != c {
					t.Errorf("column %d = %q, want %q", i, tb.Columns[i], c)
				}
			}
		})
	}
}

func TestPicks(t *testing.T) {
	tb := &Table{Columns: []string{"n"}, Rows: [][]string{{"0"}, {"1"}, {"2"}}}
	r := rand.New(rand.NewPCG(1, 2))
	t.Run("sequential wraps", func(t *testing.T) {
		f := New("d", tb, Sequential)
		var got []string
		for range 5 {
			row, err := f.Next(r)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, row[0])
		}
		if want := "01201"; join(got) != want {
			t.Errorf("got %s, want %s", join(got), want)
		}
	})
	t.Run("unique then exhausted", func(t *testing.T) {
		f := New("d", tb, Unique)
		for i := range 3 {
			if _, err := f.Next(r); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
		}
		if _, err := f.Next(r); !errors.Is(err, ErrExhausted) {
			t.Fatalf("err = %v, want ErrExhausted", err)
		}
	})
	t.Run("random stays in range", func(t *testing.T) {
		f := New("d", tb, Random)
		seen := map[string]bool{}
		for range 200 {
			row, _ := f.Next(r)
			seen[row[0]] = true
		}
		if len(seen) != 3 {
			t.Errorf("saw %v", seen)
		}
	})
	t.Run("unique concurrent: each row once", func(t *testing.T) {
		big := &Table{Columns: []string{"n"}}
		for i := range 1000 {
			big.Rows = append(big.Rows, []string{string(rune('a' + i%26))})
		}
		f := New("d", big, Unique)
		var mu sync.Mutex
		got := 0
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(g), 0))
				for {
					if _, err := f.Next(r); err != nil {
						return
					}
					mu.Lock()
					got++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if got != 1000 {
			t.Errorf("handed out %d rows, want 1000", got)
		}
	})
}

// TestShareUniqueRows: the workers of a distributed run together use
// every unique row exactly once, each in proportion to its clients, and a
// worker without clients gets none.
func TestShareUniqueRows(t *testing.T) {
	tb := &Table{Columns: []string{"n"}}
	for i := range 10 {
		tb.Rows = append(tb.Rows, []string{string(rune('a' + i))})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		clients int
		want    []int // rows per worker
	}{
		{3, []int{4, 3, 3}},
		{2, []int{5, 5, 0}},
		{5, []int{4, 4, 2}}, // clients 2, 2, 1
	} {
		t.Run(fmt.Sprintf("%d clients", tc.clients), func(t *testing.T) {
			seen := map[string]int{}
			for j := range 3 {
				f := New("d", tb, Unique)
				f.SetShare(load.Deal{Slots: tc.clients, N: 3, W: j})
				got := 0
				for {
					row, err := f.Next(r)
					if err != nil {
						break
					}
					seen[row[0]]++
					got++
				}
				if got != tc.want[j] {
					t.Errorf("worker %d used %d rows, want %d", j, got, tc.want[j])
				}
			}
			if len(seen) != 10 {
				t.Fatalf("workers used %d distinct rows, want 10", len(seen))
			}
			for v, n := range seen {
				if n != 1 {
					t.Errorf("row %s used %d times", v, n)
				}
			}
		})
	}
}

func TestNextAllocs(t *testing.T) {
	tb := &Table{Columns: []string{"n"}, Rows: [][]string{{"0"}, {"1"}}}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range []Pick{Sequential, Random, Unique} {
		f := New("d", tb, p)
		if n := testing.AllocsPerRun(100, func() { f.Next(r) }); n != 0 {
			t.Errorf("pick %d: %v allocs per row", p, n)
		}
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}

// TestLimited: the reader behind every data file passes exactly its limit
// and fails with errTooLarge on one byte more.
func TestLimited(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		limit int64
		fail  bool
	}{
		{"under", "abc", 4, false},
		{"exactly", "abcd", 4, false},
		{"one over", "abcde", 4, true},
		{"far over", strings.Repeat("x", 10000), 4, true},
		{"empty", "", 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := io.ReadAll(&limited{r: iotest.OneByteReader(strings.NewReader(tt.data)), left: tt.limit})
			if tt.fail {
				if !errors.Is(err, errTooLarge) {
					t.Fatalf("err %v, want errTooLarge", err)
				}
				return
			}
			if err != nil || string(b) != tt.data {
				t.Fatalf("read %q, %v; want %q", b, err, tt.data)
			}
		})
	}
}

// TestExhausted: a unique feeder is exhausted once a row was asked for
// after its last one (of its share), never before; the others never are.
func TestExhausted(t *testing.T) {
	tb := &Table{Columns: []string{"n"}, Rows: [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}}}
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name      string
		pick      Pick
		share     [2]int // j, n
		rowsUntil int    // rows handed out before ErrExhausted (-1: never)
	}{
		{"unique", Unique, [2]int{0, 1}, 5},
		{"unique, share 1 of 2", Unique, [2]int{1, 2}, 2},
		{"unique, share 0 of 2", Unique, [2]int{0, 2}, 3},
		{"sequential", Sequential, [2]int{0, 1}, -1},
		{"random", Random, [2]int{0, 1}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New("d", tb, tt.pick)
			f.SetShare(load.Deal{Slots: tt.share[1], N: tt.share[1], W: tt.share[0]})
			for i := range 12 {
				_, err := f.Next(r)
				wantErr := tt.rowsUntil >= 0 && i >= tt.rowsUntil
				if (err != nil) != wantErr {
					t.Fatalf("row %d: err %v, want exhausted %v", i, err, wantErr)
				}
				if f.Exhausted() != wantErr {
					t.Fatalf("after row %d: Exhausted() = %v, want %v", i, f.Exhausted(), wantErr)
				}
			}
		})
	}
}
