package monitor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres samples a PostgreSQL server's connections and transactions into
// the series
//
//	postgres.connections.active                client backends by pg_stat_activity.state
//	postgres.connections.idle
//	postgres.connections.idle_in_transaction   including "idle in transaction (aborted)"
//	postgres.connections.other                 any other or no state (fastpath, disabled)
//	postgres.connections.total                 the sum of the four
//	postgres.max_connections                   the server's setting
//	postgres.lock_waits                        locks waited for (pg_locks not granted): sessions blocked by another's lock
//	postgres.commits_per_s                     over all databases, since the previous sample
//	postgres.rollbacks_per_s
//
// Connections are those pg_stat_activity shows with a database, so the
// server's background processes (checkpointer, WAL writer, autovacuum
// launcher…) are left out and total is comparable with max_connections.
//
// The sampler holds one connection of its own, opened at the first sample
// and kept: it is one of the connections it reports (one active: the
// sampling query itself), and its query is one of the commits, one per
// sample. Each sample is one round trip of four statements, under a 700 ms
// statement_timeout so a struggling server leaves a gap rather than a pile
// of monitoring queries. The connection is named application_name
// "fuka-monitor" unless the DSN names it.
type postgresSampler struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	rates counterRates
}

var _ Sampler = (*postgresSampler)(nil)

// postgresStatementTimeout bounds each sample's queries on the server.
const postgresStatementTimeout = 700 * time.Millisecond

// NewPostgres returns a Sampler of the PostgreSQL server at dsn, a libpq
// connection string ("host=127.0.0.1 port=5432 user=app dbname=app") or URL
// ("postgres://app:secret@127.0.0.1:5432/app"); the PG* environment
// variables and ~/.pgpass fill in what it leaves out, as with psql. It does
// not connect until the first sample, so a server that is not up yet is a
// gap, not an error here.
func NewPostgres(dsn string) (Sampler, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("postgres: empty DSN: want e.g. postgres://user:password@host:5432/dbname")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgconn's error hides the password
	}
	cfg.MaxConns, cfg.MinConns = 1, 0
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 || cc.ConnectTimeout > 5*time.Second {
		cc.ConnectTimeout = 5 * time.Second
	}
	cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(postgresStatementTimeout.Milliseconds(), 10)
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "fuka-monitor"
	}
	// The simple protocol sends the four statements as one query string:
	// one round trip, no prepared statements (so it works through pgbouncer
	// in transaction mode), one implicit transaction.
	cc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &postgresSampler{pool: pool, now: time.Now}, nil
}

func (p *postgresSampler) Name() string { return "postgres" }

// Close closes the sampler's connection.
func (p *postgresSampler) Close() error {
	p.pool.Close()
	return nil
}

const (
	postgresConnectionsSQL = `SELECT state, count(*) FROM pg_stat_activity WHERE datname IS NOT NULL GROUP BY state`
	postgresXactSQL        = `SELECT sum(xact_commit), sum(xact_rollback) FROM pg_stat_database`
	postgresMaxConnsSQL    = `SHOW max_connections`
	postgresLockWaitsSQL   = `SELECT count(*) FROM pg_locks WHERE NOT granted`
)

func (p *postgresSampler) Sample(ctx context.Context) ([]Value, error) {
	var b pgx.Batch
	var active, idle, idleInTx, other float64
	b.Queue(postgresConnectionsSQL).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var state *string
			var n int64
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			switch {
			case state == nil:
				other += float64(n)
			case *state == "active":
				active += float64(n)
			case *state == "idle":
				idle += float64(n)
			case strings.HasPrefix(*state, "idle in transaction"):
				idleInTx += float64(n)
			default:
				other += float64(n)
			}
		}
		return rows.Err()
	})
	var commits, rollbacks *float64
	b.Queue(postgresXactSQL).QueryRow(func(row pgx.Row) error {
		return row.Scan(&commits, &rollbacks)
	})
	var maxConns string
	b.Queue(postgresMaxConnsSQL).QueryRow(func(row pgx.Row) error {
		return row.Scan(&maxConns)
	})
	var lockWaits *int64
	b.Queue(postgresLockWaitsSQL).QueryRow(func(row pgx.Row) error {
		return row.Scan(&lockWaits)
	})
	if err := p.pool.SendBatch(ctx, &b).Close(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	at := p.now()
	vs := []Value{
		{"postgres.connections.active", active},
		{"postgres.connections.idle", idle},
		{"postgres.connections.idle_in_transaction", idleInTx},
		{"postgres.connections.other", other},
		{"postgres.connections.total", active + idle + idleInTx + other},
	}
	if n, err := strconv.ParseFloat(maxConns, 64); err == nil {
		vs = append(vs, Value{"postgres.max_connections", n})
	}
	if lockWaits != nil {
		vs = append(vs, Value{"postgres.lock_waits", float64(*lockWaits)})
	}
	counters := map[string]float64{}
	if commits != nil {
		counters["postgres.commits_per_s"] = *commits
	}
	if rollbacks != nil {
		counters["postgres.rollbacks_per_s"] = *rollbacks
	}
	return appendByName(vs, p.rates.next(at, counters)), nil
}
