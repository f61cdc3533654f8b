// Package history keeps every run's results in an embedded SQLite database
// (pure Go, no cgo, no server) and compares two runs.
//
// A [Store] holds one row per run: the canonical JSON summary exactly as
// [report.Summary] encodes it, plus a few columns copied out of it (name,
// target, started, throughput, p95, p99, error rate, status) so that listing
// and picking a baseline need no JSON decoding. [Compare] then sets a new run
// against a baseline, request name by request name, and calls a change a
// regression or an improvement only when it is beyond the noise.
package history

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fuka-load/fuka/report"
)

// The status of a stored run.
const (
	StatusCompleted        = "completed"         // ran to its end, thresholds (if any) passed
	StatusInterrupted      = "interrupted"       // stopped early (Ctrl-C, SIGTERM); the numbers cover what ran
	StatusFailedThresholds = "failed_thresholds" // ran to its end, a threshold failed
	StatusAllFailed        = "all_failed"        // no request got a successful response (nothing listening, TLS refused, all 5xx, ...)
	StatusDegraded         = "degraded"          // a distributed run lost a worker: the numbers miss its share
)

// Errors that callers branch on; the errors returned wrap them with the
// database path and what to do.
var (
	// ErrNotHistory: the file is not a SQLite database, or not fuka's.
	ErrNotHistory = errors.New("not a fuka history database")
	// ErrLocked: another process held the database past the busy timeout.
	ErrLocked = errors.New("database is locked")
	// ErrNewer: the database was written by a newer fuka.
	ErrNewer = errors.New("written by a newer fuka")
	// ErrNotFound: no run with that id, or none matching.
	ErrNotFound = errors.New("no such run")
)

// busyTimeout is how long a statement waits for another process's lock
// before it fails with ErrLocked: long enough to ride out another fuka
// saving its run, short enough that a stuck one is reported promptly.
const busyTimeout = 2000 * time.Millisecond

// applicationID marks the file as fuka's ("fuka" in ASCII), so that another
// program's SQLite file is refused rather than migrated.
const applicationID = 0x66756b61

// migrations[i] takes the schema from user_version i to i+1. Append only:
// a released migration never changes, and a database is migrated step by
// step, each step in its own transaction together with its user_version.
var migrations = [][]string{
	{ // 1: runs
		`PRAGMA application_id = ` + strconv.Itoa(applicationID),
		`CREATE TABLE runs (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			name        TEXT    NOT NULL,
			target      TEXT    NOT NULL,
			model       TEXT    NOT NULL,
			started_ms  INTEGER NOT NULL, -- Unix milliseconds
			duration_s  REAL    NOT NULL,
			requests    INTEGER NOT NULL,
			rps         REAL    NOT NULL,
			error_rate  REAL    NOT NULL, -- 0..1
			p95_ms      REAL    NOT NULL,
			p99_ms      REAL    NOT NULL,
			interrupted INTEGER NOT NULL,
			status      TEXT    NOT NULL CHECK (status IN ('completed', 'interrupted', 'failed_thresholds')),
			saved_ms    INTEGER NOT NULL,
			summary     TEXT    NOT NULL  -- the canonical JSON summary
		)`,
		`CREATE INDEX runs_by_name ON runs (name, id)`,
		`CREATE INDEX runs_by_name_status ON runs (name, status, id)`,
	},
	{ // 2: more statuses. SQLite cannot change a CHECK in place, so the
		// table is rebuilt, ids kept. 'degraded' is a distributed run that
		// lost a worker (the exit codes agree on it).
		`CREATE TABLE runs_v2 (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			name        TEXT    NOT NULL,
			target      TEXT    NOT NULL,
			model       TEXT    NOT NULL,
			started_ms  INTEGER NOT NULL, -- Unix milliseconds
			duration_s  REAL    NOT NULL,
			requests    INTEGER NOT NULL,
			rps         REAL    NOT NULL,
			error_rate  REAL    NOT NULL, -- 0..1
			p95_ms      REAL    NOT NULL,
			p99_ms      REAL    NOT NULL,
			interrupted INTEGER NOT NULL,
			status      TEXT    NOT NULL CHECK (status IN ('completed', 'interrupted', 'failed_thresholds', 'all_failed', 'degraded')),
			saved_ms    INTEGER NOT NULL,
			summary     TEXT    NOT NULL  -- the canonical JSON summary
		)`,
		`INSERT INTO runs_v2 SELECT * FROM runs`,
		`DROP TABLE runs`,
		`ALTER TABLE runs_v2 RENAME TO runs`,
		`CREATE INDEX runs_by_name ON runs (name, id)`,
		`CREATE INDEX runs_by_name_status ON runs (name, status, id)`,
	},
}

// Store is a history database. Its methods are safe for concurrent use, and
// several processes may use the same file at once.
type Store struct {
	db   *sql.DB
	path string
	busy time.Duration // how long a statement waits for a lock
}

// Run is one stored run, as listed: the columns copied out of its summary.
type Run struct {
	ID          int64
	Name        string // plan name; "" for a quick attack
	Target      string
	Model       string
	Started     time.Time
	DurationS   float64
	Requests    int64
	RPS         float64
	ErrorRate   float64 // 0..1
	P95MS       float64
	P99MS       float64
	Interrupted bool
	Status      string // one of the Status constants
	// Tool is the other tool an imported run was made with ("" for
	// fuka's own runs), and NoP95/NoP99 say that it did not report them.
	Tool         string
	NoP95, NoP99 bool
}

// Open opens the history database at path, creating it and its directory if
// needed, and migrates its schema to this version of fuka's.
func Open(path string) (*Store, error) {
	return open(path, busyTimeout)
}

func open(path string, busy time.Duration) (*Store, error) {
	if path == "" {
		return nil, errors.New("history: no database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	// A file: URI, so that a path holding '?', '#' or '%' is still a path.
	// Every connection waits busy for locks, and BEGIN takes the write lock
	// at once (IMMEDIATE), so two writers queue instead of deadlocking on a
	// read lock each wants to upgrade.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() +
		"?_pragma=busy_timeout(" + strconv.FormatInt(busy.Milliseconds(), 10) + ")" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	conn, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	s := &Store{db: sql.OpenDB(conn), path: path, busy: busy}
	// One connection: fuka is a CLI that saves or reads a run at a time;
	// other processes are what the locks are for.
	s.db.SetMaxOpenConns(1)
	if err := s.migrate(); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// migrate checks that the file is fuka's and brings its schema to
// len(migrations).
func (s *Store) migrate() error {
	ctx := context.Background()
	for {
		// One statement, so one snapshot: read separately, another process
		// migrating in between would make its new tables look foreign.
		var version, appID, tables int
		err := s.db.QueryRowContext(ctx, `SELECT
			(SELECT user_version FROM pragma_user_version),
			(SELECT application_id FROM pragma_application_id),
			(SELECT count(*) FROM sqlite_schema)`).Scan(&version, &appID, &tables)
		if err != nil {
			return s.wrap(err)
		}
		if appID != 0 && appID != applicationID {
			return s.notHistory("another program's SQLite database")
		}
		if version > len(migrations) {
			return fmt.Errorf("history %s: %w (schema version %d, this fuka knows %d); upgrade fuka or pass --history FILE",
				s.path, ErrNewer, version, len(migrations))
		}
		if version == 0 && tables > 0 {
			return s.notHistory("a SQLite database with other tables")
		}
		if err := s.wal(ctx); err != nil {
			return err
		}
		if version == len(migrations) {
			return nil
		}
		if err := s.step(ctx, version); err != nil {
			return err
		}
	}
}

// wal switches the database to write-ahead logging, where readers never
// wait for a writer. The mode is stored in the file, so this writes once;
// it is done only after the file is known to be fuka's (a foreign database
// is left exactly as it was).
func (s *Store) wal(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return s.wrap(err)
	}
	if strings.EqualFold(mode, "wal") {
		return nil
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return s.wrap(err)
	}
	return nil
}

// step runs migration from → from+1 in one transaction. Another process may
// have migrated meanwhile; then the version read under the write lock
// differs and the step is skipped.
func (s *Store) step(ctx context.Context, from int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	var now int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&now); err != nil {
		return s.wrap(err)
	}
	if now != from {
		return nil
	}
	for _, stmt := range migrations[from] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return s.wrap(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA user_version = `+strconv.Itoa(from+1)); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

// Path is the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.wrap(s.db.Close()) }

// StatusOf is the status a summary reports by itself: interrupted, every
// request failed, degraded (a distributed run lost a worker), failed
// thresholds, or completed.
func StatusOf(sum *report.Summary) string {
	if sum.Interrupted {
		return StatusInterrupted
	}
	if sum.AllFailed() != "" {
		return StatusAllFailed
	}
	if sum.Degraded {
		return StatusDegraded
	}
	for _, t := range sum.Thresholds {
		if !t.Pass {
			return StatusFailedThresholds
		}
	}
	return StatusCompleted
}

// RunOf is the listing row of sum with the given status ("" = StatusOf(sum));
// its ID is 0 until it is saved.
func RunOf(sum *report.Summary, status string) Run {
	if status == "" {
		status = StatusOf(sum)
	}
	r := Run{
		Name:        sum.Name,
		Target:      sum.Target,
		Model:       sum.Model,
		Started:     sum.Started,
		DurationS:   sum.DurationS,
		Requests:    sum.Requests,
		RPS:         sum.RPS,
		ErrorRate:   sum.ErrorRate,
		P95MS:       sum.Latency.P95MS,
		P99MS:       sum.Latency.P99MS,
		Interrupted: sum.Interrupted,
		Status:      status,
	}
	if im := sum.Imported; im != nil {
		r.Tool, r.NoP95, r.NoP99 = im.Tool, im.Missing("latency.p95_ms"), im.Missing("latency.p99_ms")
	}
	return r
}

// Save stores sum with its status (one of the Status constants; "" takes
// StatusOf(sum)) and returns the new run's id.
func (s *Store) Save(sum *report.Summary, status string) (int64, error) {
	if sum == nil {
		return 0, fmt.Errorf("history %s: save: no summary", s.path)
	}
	r := RunOf(sum, status)
	switch r.Status {
	case StatusCompleted, StatusInterrupted, StatusFailedThresholds, StatusAllFailed, StatusDegraded:
	default:
		return 0, fmt.Errorf("history %s: save: unknown status %q", s.path, r.Status)
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sum); err != nil {
		return 0, fmt.Errorf("history %s: save: %w", s.path, err)
	}
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO runs
		(name, target, model, started_ms, duration_s, requests, rps, error_rate, p95_ms, p99_ms, interrupted, status, saved_ms, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Name, r.Target, r.Model, r.Started.UnixMilli(), r.DurationS, r.Requests, r.RPS, r.ErrorRate,
		r.P95MS, r.P99MS, r.Interrupted, r.Status, time.Now().UnixMilli(), bytes.TrimSpace(js.Bytes()))
	if err != nil {
		return 0, s.wrap(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, s.wrap(err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(err)
	}
	return id, nil
}

// runColumns are a Run's columns; the last two come from an imported
// run's summary, read by SQLite's JSON functions (” and '[]' for fuka's
// own runs).
const runColumns = `id, name, target, model, started_ms, duration_s, requests, rps, error_rate, p95_ms, p99_ms, interrupted, status,
	coalesce(json_extract(summary, '$.imported.tool'), ''), coalesce(json_extract(summary, '$.imported.not_measured'), '[]')`

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner, extra ...any) (Run, error) {
	var r Run
	var started int64
	var notMeasured string
	dest := append([]any{&r.ID, &r.Name, &r.Target, &r.Model, &started, &r.DurationS, &r.Requests,
		&r.RPS, &r.ErrorRate, &r.P95MS, &r.P99MS, &r.Interrupted, &r.Status, &r.Tool, &notMeasured}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Run{}, err
	}
	r.Started = time.UnixMilli(started)
	if r.Tool != "" {
		var keys []string
		if json.Unmarshal([]byte(notMeasured), &keys) == nil {
			im := report.Imported{NotMeasured: keys}
			r.NoP95, r.NoP99 = im.Missing("latency.p95_ms"), im.Missing("latency.p99_ms")
		}
	}
	return r, nil
}

// List returns up to limit runs (all when limit ≤ 0), newest first, of the
// plan called name ("" = every run).
func (s *Store) List(limit int, name string) ([]Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs`
	var args []any
	if name != "" {
		q += ` WHERE name = ?`
		args = append(args, name)
	}
	q += ` ORDER BY id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(context.Background(), q, args...)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, s.wrap(err)
		}
		runs = append(runs, r)
	}
	return runs, s.wrap(rows.Err())
}

// Get returns the stored summary of run id and its listing row.
func (s *Store) Get(id int64) (*report.Summary, Run, error) {
	var js string
	row := s.db.QueryRowContext(context.Background(), `SELECT `+runColumns+`, summary FROM runs WHERE id = ?`, id)
	r, err := scanRun(row, &js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Run{}, fmt.Errorf("history %s: %w %d (fuka runs lists them)", s.path, ErrNotFound, id)
	}
	if err != nil {
		return nil, Run{}, s.wrap(err)
	}
	var sum report.Summary
	if err := json.Unmarshal([]byte(js), &sum); err != nil {
		return nil, Run{}, fmt.Errorf("history %s: run %d: stored summary: %w", s.path, id, err)
	}
	return &sum, r, nil
}

// Latest returns the id of the newest run of the plan called name ("" = any
// run) with the given status ("" = any status): for example the last
// completed run of a plan, as the baseline a CI job compares against.
func (s *Store) Latest(name, status string) (int64, error) {
	return s.LatestBefore(name, status, 0)
}

// LatestBefore is Latest among the runs older than run before (0 = all):
// the baseline for a run that is itself the newest.
func (s *Store) LatestBefore(name, status string, before int64) (int64, error) {
	q := `SELECT id FROM runs`
	var where []string
	var args []any
	if name != "" {
		where, args = append(where, `name = ?`), append(args, name)
	}
	if status != "" {
		where, args = append(where, `status = ?`), append(args, status)
	}
	if before > 0 {
		where, args = append(where, `id < ?`), append(args, before)
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id DESC LIMIT 1`
	var id int64
	err := s.db.QueryRowContext(context.Background(), q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var what []string
		if status != "" {
			what = append(what, status)
		}
		what = append(what, "run")
		if name != "" {
			what = append(what, "of "+strconv.Quote(name))
		}
		if before > 0 {
			what = append(what, "before run "+strconv.FormatInt(before, 10))
		}
		return 0, fmt.Errorf("history %s: %w: no %s", s.path, ErrNotFound, strings.Join(what, " "))
	}
	if err != nil {
		return 0, s.wrap(err)
	}
	return id, nil
}

// wrap turns SQLite's errors into ones that name the file and say what to
// do; nil stays nil.
func (s *Store) wrap(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return s.notHistory(sqliteMessage(se))
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("history %s: %w by another process (waited %v); try again when it has finished, or pass --history FILE",
			s.path, ErrLocked, s.busy)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY:
		return fmt.Errorf("history %s: cannot open or write it (%s); check its permissions or pass --history FILE",
			s.path, sqliteMessage(se))
	}
	return fmt.Errorf("history %s: %s", s.path, sqliteMessage(se))
}

func (s *Store) notHistory(why string) error {
	return fmt.Errorf("history %s: %w (%s); move it away or pass --history FILE", s.path, ErrNotHistory, why)
}

// sqliteMessage is SQLite's message without the numeric code the driver
// appends: "file is not a database (26)" → "file is not a database".
func sqliteMessage(e *sqlite.Error) string {
	msg := e.Error()
	if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
		if _, err := strconv.Atoi(msg[i+2 : len(msg)-1]); err == nil {
			msg = msg[:i]
		}
	}
	return msg
}
