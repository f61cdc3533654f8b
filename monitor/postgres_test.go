package monitor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestNewPostgresRejects(t *testing.T) {
	for _, dsn := range []string{"", "   ", "postgres://127.0.0.1:notaport/db", "host=127.0.0.1 port=abc", "postgres://u:pw@127.0.0.1/db?sslmode=sometimes"} {
		t.Run(dsn, func(t *testing.T) {
			_, err := NewPostgres(dsn)
			if err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
				t.Fatalf("NewPostgres(%q) err = %v, want a postgres: error", dsn, err)
			}
			if strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestPostgresConnectionsOfARealServer(t *testing.T) {
	dsn := startPostgres(t)
	s, err := NewPostgres(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := s.(*postgresSampler)
	t.Cleanup(func() { p.Close() })
	p.now = fakeClock(time.Second)

	// The sampler's own connection, running the sampling query, is the
	// only one once the start-up check's has gone.
	before := sampleUntil(t, s, "1 connection", func(m map[string]float64) bool {
		return m["postgres.connections.total"] == 1
	})
	if before["postgres.connections.active"] != 1 {
		t.Errorf("postgres.connections.active = %v, want 1 (the sampler)", before["postgres.connections.active"])
	}
	if got, ok := before["postgres.lock_waits"]; !ok || got != 0 {
		t.Errorf("postgres.lock_waits = %v (present %v), want 0", got, ok)
	}
	if got := before["postgres.max_connections"]; got != 40 {
		t.Errorf("postgres.max_connections = %v, want 40 (as started)", got)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conns := make([]*pgx.Conn, 3)
	for i := range conns {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	// The first holds a transaction open: idle in transaction.
	tx, err := conns[0].Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	// The second commits one and rolls one back.
	for _, sql := range []string{"BEGIN; SELECT 1; COMMIT", "BEGIN; SELECT 1; ROLLBACK"} {
		if _, err := conns[1].Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}

	after := mustSample(t, s)
	t.Logf("with 3 more connections: %v", after)
	if d := after["postgres.connections.total"] - before["postgres.connections.total"]; d != 3 {
		t.Errorf("postgres.connections.total rose by %v, want 3: %v", d, after)
	}
	if got := after["postgres.connections.idle_in_transaction"]; got < 1 {
		t.Errorf("postgres.connections.idle_in_transaction = %v, want >= 1", got)
	}
	if got := after["postgres.connections.idle"]; got != 2 {
		t.Errorf("postgres.connections.idle = %v, want 2", got)
	}
	// pg_stat_database is updated when backends flush their statistics (at
	// most once a second), so only the rates' presence is certain here.
	for _, name := range []string{"postgres.commits_per_s", "postgres.rollbacks_per_s"} {
		if got, ok := after[name]; !ok || got < 0 {
			t.Errorf("%s = %v (present %v), want a rate >= 0", name, got, ok)
		}
	}

	// The open transaction locks a row; the third connection's UPDATE of
	// it waits: one lock wait, until the transaction ends.
	if _, err := conns[1].Exec(ctx, "CREATE TABLE fuka_lock (id int PRIMARY KEY, v int); INSERT INTO fuka_lock VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT v FROM fuka_lock WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	updated := make(chan error, 1)
	go func() {
		_, err := conns[2].Exec(ctx, "UPDATE fuka_lock SET v = v + 1 WHERE id = 1")
		updated <- err
	}()
	waiting := sampleUntil(t, s, "a lock wait", func(m map[string]float64) bool { return m["postgres.lock_waits"] >= 1 })
	if got := waiting["postgres.lock_waits"]; got != 1 {
		t.Errorf("postgres.lock_waits = %v, want 1 (one UPDATE waiting on the row lock)", got)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("the waiting UPDATE: %v", err)
	}
	sampleUntil(t, s, "no transaction idle, no lock wait", func(m map[string]float64) bool {
		return m["postgres.connections.idle_in_transaction"] == 0 && m["postgres.lock_waits"] == 0
	})
	for _, c := range conns {
		c.Close(ctx)
	}
	sampleUntil(t, s, "back to 1 connection", func(m map[string]float64) bool {
		return m["postgres.connections.total"] == 1
	})
}

func TestPostgresUnreachableIsAnError(t *testing.T) {
	s, err := NewPostgres("postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer s.(*postgresSampler).Close()
	ctx, cancel := contextFor(t)
	defer cancel()
	if _, err := s.Sample(ctx); err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Fatalf("err = %v, want a postgres: error", err)
	}
}
