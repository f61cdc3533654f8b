package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/fuka-load/fuka/report"
)

// summary is a small but complete run: two request names, a status map,
// errors, thresholds and a timeline, as a decoded JSON summary has them.
func summary(name string, started time.Time, p95 float64) *report.Summary {
	req := func(n string, requests, failed int64, p95 float64) report.NameSummary {
		return report.NameSummary{
			Name: n, Requests: requests, Failed: failed, RPS: float64(requests) / 10,
			Latency: report.Latency{MinMS: 0.2, MeanMS: p95 / 3, P50MS: p95 / 2, P90MS: p95 * 0.9, P95MS: p95, P99MS: p95 * 2, P999MS: p95 * 3, MaxMS: p95 * 4},
			Status:  map[string]int64{"200": requests - failed, "503": failed},
		}
	}
	s := &report.Summary{
		Version: "v0.1.0", Name: name, Target: "http://127.0.0.1:8080", Model: report.ModelClosed,
		LatencyFrom: report.FromSend, Started: started, DurationS: 10, PlannedDurationS: 10, Clients: 8,
		Requests: 3000, Failed: 3, ErrorRate: 0.001, RPS: 300, BytesIn: 1 << 20, BytesOut: 1 << 16,
		ThroughputBPS: 104857.6,
		Latency:       report.Latency{MinMS: 0.2, MeanMS: 3, P50MS: 2, P90MS: 8, P95MS: p95, P99MS: p95 * 2, P999MS: 40, MaxMS: 50},
		ServiceTime:   report.Latency{MinMS: 0.2, MeanMS: 3, P50MS: 2, P90MS: 8, P95MS: p95, P99MS: p95 * 2, P999MS: 40, MaxMS: 50},
		Status:        map[string]int64{"200": 2997, "503": 3},
		ByName:        []report.NameSummary{req("list products", 2000, 2, p95), req("checkout", 1000, 1, p95*1.5)},
		Checks:        []report.CheckSummary{{Name: "status is 200", Passes: 2997, Fails: 3}},
		Thresholds:    []report.ThresholdResult{{Expr: "p99 < 300ms", Pass: true, Detail: "✓ p99 < 300ms (actual 20ms)"}},
		Timeline:      []report.Interval{{TS: 1, SpanS: 1, Requests: 300, RPS: 300, Clients: 8, P50MS: f64(2), P95MS: f64(p95), P99MS: f64(p95 * 2), MaxMS: f64(50)}},
	}
	s.Errors[1] = 3
	return s
}

func jsonOf(t *testing.T, s *report.Summary) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "history.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func TestSaveListGet(t *testing.T) {
	s, _ := openTemp(t)
	sums := []*report.Summary{
		summary("shop", t0, 10),
		summary("shop", t0.Add(time.Hour), 11),
		summary("", t0.Add(2*time.Hour), 12), // a quick attack
	}
	sums[1].Interrupted = true
	statuses := []string{StatusCompleted, StatusInterrupted, StatusFailedThresholds}
	var ids []int64
	for i, sum := range sums {
		id, err := s.Save(sum, statuses[i])
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}

	for i, id := range ids {
		got, run, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := jsonOf(t, got), jsonOf(t, sums[i]); g != w {
			t.Errorf("run %d: stored summary differs:\n got %s\nwant %s", id, g, w)
		}
		want := RunOf(sums[i], statuses[i])
		want.ID = id
		if !run.Started.Equal(want.Started) {
			t.Errorf("run %d: started %v, want %v", id, run.Started, want.Started)
		}
		run.Started = want.Started
		if run != want {
			t.Errorf("run %d:\n got %+v\nwant %+v", id, run, want)
		}
	}

	all, err := s.List(0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != ids[2] || all[2].ID != ids[0] {
		t.Fatalf("List: want newest first, got %+v", all)
	}
	if !all[1].Interrupted || all[1].Status != StatusInterrupted {
		t.Errorf("interrupted run listed as %+v", all[1])
	}
	shop, err := s.List(1, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(shop) != 1 || shop[0].ID != ids[1] {
		t.Errorf("List(1, shop) = %+v, want run %d", shop, ids[1])
	}

	tests := []struct {
		name, plan, status string
		want               int64
	}{
		{"newest", "", "", ids[2]},
		{"newest completed", "", StatusCompleted, ids[0]},
		{"newest of plan", "shop", "", ids[1]},
		{"failed thresholds", "", StatusFailedThresholds, ids[2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Latest(tt.plan, tt.status)
			if err != nil || got != tt.want {
				t.Errorf("Latest(%q, %q) = %d, %v; want %d", tt.plan, tt.status, got, err, tt.want)
			}
		})
	}
	if _, err := s.Latest("nope", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest of an unknown plan: %v, want ErrNotFound", err)
	}
	if got, err := s.LatestBefore("shop", "", ids[1]); err != nil || got != ids[0] {
		t.Errorf("LatestBefore = %d, %v; want %d", got, err, ids[0])
	}
	if _, _, err := s.Get(999); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "999") {
		t.Errorf("Get(999): %v", err)
	}
}

func TestSaveStatus(t *testing.T) {
	s, _ := openTemp(t)
	sum := summary("shop", t0, 10)
	if _, err := s.Save(sum, "done"); err == nil || !strings.Contains(err.Error(), `unknown status "done"`) {
		t.Errorf("unknown status: %v", err)
	}
	// "" derives the status from the summary itself.
	sum.Thresholds[0].Pass = false
	id, err := s.Save(sum, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, r, _ := s.Get(id); r.Status != StatusFailedThresholds {
		t.Errorf("derived status %q, want %q", r.Status, StatusFailedThresholds)
	}
	sum.Degraded = true
	if StatusOf(sum) != StatusDegraded {
		t.Errorf("StatusOf(degraded) = %q", StatusOf(sum))
	}
	sum.Interrupted = true
	if StatusOf(sum) != StatusInterrupted {
		t.Errorf("StatusOf(interrupted) = %q", StatusOf(sum))
	}
}

func TestInterruptedRun(t *testing.T) {
	// An interrupted run keeps what it measured: its partial numbers are
	// stored, listed as interrupted, and never picked as a completed baseline.
	s, _ := openTemp(t)
	sum := summary("shop", t0, 10)
	sum.Interrupted, sum.DurationS = true, 3.2
	id, err := s.Save(sum, StatusInterrupted)
	if err != nil {
		t.Fatal(err)
	}
	got, r, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Interrupted || !r.Interrupted || r.Status != StatusInterrupted || r.DurationS != 3.2 || r.Requests != 3000 {
		t.Errorf("interrupted run read back as %+v", r)
	}
	if _, err := s.Latest("shop", StatusCompleted); !errors.Is(err, ErrNotFound) {
		t.Errorf("an interrupted run was picked as the last completed one: %v", err)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	s, path := openTemp(t)
	if _, err := s.Save(summary("shop", t0, 10), StatusCompleted); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 {
		s2, err := Open(path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		runs, err := s2.List(0, "")
		if err != nil || len(runs) != 1 {
			t.Fatalf("after reopen: %d runs, %v", len(runs), err)
		}
		var version, mode string
		s2.db.QueryRow(`PRAGMA user_version`).Scan(&version)
		s2.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		if version != fmt.Sprint(len(migrations)) || mode != "wal" {
			t.Errorf("user_version %s, journal_mode %s; want %d, wal", version, mode, len(migrations))
		}
		s2.Close()
	}
}

func TestNewerSchema(t *testing.T) {
	s, path := openTemp(t)
	if _, err := s.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(path)
	if !errors.Is(err, ErrNewer) || !strings.Contains(err.Error(), path) {
		t.Errorf("newer schema: %v", err)
	}
}

func TestNotHistory(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database, just some text\n"), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	// Another program's SQLite database, with its own tables.
	other := filepath.Join(dir, "other.db")
	conn, err := sqlite.NewConnector(other)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, path := range []string{garbage, other} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			before, _ := os.ReadFile(path)
			s, err := Open(path)
			if err == nil {
				s.Close()
				t.Fatal("opened a file that is not a fuka history")
			}
			msg := err.Error()
			if !errors.Is(err, ErrNotHistory) || !strings.Contains(msg, "history "+path+": not a fuka history database") ||
				!strings.Contains(msg, "move it away or pass --history FILE") || strings.Contains(msg, "\n") {
				t.Errorf("unclear error: %v", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("the file was changed")
			}
		})
	}
	_, err = Open(garbage)
	if want := "(file is not a database)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("garbage: %v, want it to say %s", err, want)
	}
}

func TestLocked(t *testing.T) {
	s, path := openTemp(t)

	// Another connection (SQLite's locks work across connections in one
	// process as across processes) takes the write lock and keeps it.
	conn, err := sqlite.NewConnector(path)
	if err != nil {
		t.Fatal(err)
	}
	other := sql.OpenDB(conn)
	defer other.Close()
	ctx := context.Background()
	c, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	defer c.ExecContext(ctx, `ROLLBACK`)

	start := time.Now()
	_, err = s.Save(summary("shop", t0, 10), StatusCompleted)
	took := time.Since(start)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "history "+path+": database is locked by another process") ||
		!strings.Contains(err.Error(), "--history FILE") {
		t.Errorf("locked: %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("locked error took %v, want about the busy timeout (%v)", took, busyTimeout)
	}
	t.Logf("locked: %v (after %v)", err, took.Round(time.Millisecond))
}

func TestLockedShortTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := open(path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s2, err := open(path, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	tx, err := s2.db.Begin() // IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := s.Save(summary("shop", t0, 10), ""); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "waited 50ms") {
		t.Errorf("locked: %v", err)
	}
	// Readers are not blocked by a writer in WAL mode.
	if _, err := s.List(0, ""); err != nil {
		t.Errorf("list while another process writes: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	config := func() (string, error) { return "/Users/u/Library/Application Support", nil }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name, goos string
		env        map[string]string
		want       string
	}{
		{"linux", "linux", nil, "/home/u/.local/share/fuka/history.db"},
		{"xdg", "linux", map[string]string{"XDG_DATA_HOME": "/data"}, "/data/fuka/history.db"},
		{"relative xdg ignored", "linux", map[string]string{"XDG_DATA_HOME": "data"}, "/home/u/.local/share/fuka/history.db"},
		{"macos", "darwin", nil, "/Users/u/Library/Application Support/fuka/history.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultPath(tt.goos, env(tt.env), home, config)
			if err != nil || got != filepath.FromSlash(tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	noHome := func() (string, error) { return "", errors.New("$HOME is not defined") }
	if _, err := defaultPath("linux", env(nil), noHome, config); err == nil || !strings.Contains(err.Error(), "--history FILE") {
		t.Errorf("no home: %v", err)
	}
	if p, err := DefaultPath(); err == nil && !strings.HasSuffix(p, filepath.Join("fuka", "history.db")) {
		t.Errorf("DefaultPath() = %q", p)
	}
}

func TestPathWithQuestionMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd?name#1%.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Save(summary("shop", t0, 10), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

func TestJSONIsCanonical(t *testing.T) {
	// The stored text is the summary's JSON (compact), so tools reading the
	// database directly get the documented keys.
	s, _ := openTemp(t)
	id, err := s.Save(summary("shop <&>", t0, 10), "")
	if err != nil {
		t.Fatal(err)
	}
	var js string
	if err := s.db.QueryRow(`SELECT summary FROM runs WHERE id = ?`, id).Scan(&js); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil || m["name"] != "shop <&>" || !strings.Contains(js, `"name":"shop <&>"`) {
		t.Errorf("stored JSON %.80s…: %v", js, err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	// Two processes saving at once queue on the write lock; neither fails.
	_, path := openTemp(t)
	const each = 15
	errs := make(chan error, 2*each)
	for range 2 {
		go func() {
			s, err := Open(path)
			if err != nil {
				for range each {
					errs <- err
				}
				return
			}
			defer s.Close()
			for range each {
				_, err := s.Save(summary("shop", t0, 10), "")
				errs <- err
			}
		}()
	}
	for range 2 * each {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if runs, err := s.List(0, ""); err != nil || len(runs) != 2*each {
		t.Errorf("%d runs stored, %v; want %d", len(runs), err, 2*each)
	}
}

func TestConcurrentCreate(t *testing.T) {
	// Several fukas finishing at once on a machine without a history yet:
	// one creates the schema, the others see it as theirs.
	path := filepath.Join(t.TempDir(), "history.db")
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			s, err := Open(path)
			if err == nil {
				_, err = s.Save(summary("shop", t0, 10), "")
				s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func f64(v float64) *float64 { return &v }

// TestMigrateToAllFailed: a history written by a fuka that knew schema 1
// opens with its runs and ids intact, and then takes the all_failed status
// (and degraded) that schema 1's CHECK refused; new runs get new ids.
func TestMigrateToAllFailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	conn, err := sqlite.NewConnector(path)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	for _, stmt := range append(migrations[0], `PRAGMA user_version = 1`,
		`INSERT INTO runs VALUES (7, 'shop', 'http://t', 'closed', 1, 2.5, 10, 4, 0, 1, 2, 0, 'failed_thresholds', 3, '{"name":"shop"}')`) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO runs VALUES (8, 'x', 't', 'closed', 1, 1, 1, 1, 1, 1, 1, 0, 'all_failed', 1, '{}')`); err == nil {
		t.Fatal("schema 1 took status all_failed; the test does not start from schema 1")
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.List(0, "")
	if err != nil || len(runs) != 1 || runs[0].ID != 7 || runs[0].Status != StatusFailedThresholds || runs[0].Requests != 10 {
		t.Fatalf("after the migration: %+v, %v; want run 7 as it was", runs, err)
	}
	sum := summary("shop", t0, 10)
	sum.Requests, sum.Failed = 5, 5
	id, err := s.Save(sum, "")
	if err != nil || id <= 7 {
		t.Fatalf("save: id %d, %v; want a new id after 7", id, err)
	}
	if _, r, err := s.Get(id); err != nil || r.Status != StatusAllFailed {
		t.Errorf("stored status %q (%v), want %q", r.Status, err, StatusAllFailed)
	}
	if _, err := s.db.Exec(`UPDATE runs SET status = 'degraded' WHERE id = 7`); err != nil {
		t.Errorf("schema 2 refuses status degraded: %v", err)
	}
	if _, err := s.db.Exec(`UPDATE runs SET status = 'bogus' WHERE id = 7`); err == nil {
		t.Error("schema 2 takes any status")
	}
}
