// Package postgres is rolodav's store driver for PostgreSQL, for several
// server processes sharing one database. It keeps the semantics of
// store/sqlite (the conformance suite in store/storetest runs on both) on
// an engine where writers run at once instead of one after another:
//
//   - Write transactions run at READ COMMITTED and first lock the rows they
//     decide on: a write to a collection's objects, changes or merges
//     begins by locking the collection's row (lockCollection), so the
//     writers of one collection take turns. Each then sees every earlier
//     writer's commit, sync sequence numbers are handed out in commit
//     order, and conditions (If-Match, If-None-Match, UID uniqueness, the
//     merged-away checks) are decided inside the write.
//   - A transaction that the server aborts to break a deadlock or a
//     serialization conflict is run again (write retries it), so callers
//     never see those.
//   - Reads that return one answer run in one REPEATABLE READ snapshot.
//     Streaming reads fetch pages in short transactions and call the
//     caller's function between pages, holding no connection: a callback
//     may call the store again without needing a second connection of the
//     pool (see store.Objects.ListObjects).
//
// pgx's own interface (pgxpool) is used rather than database/sql: it gives
// PostgreSQL's error codes, pipelined batches and binary transfer of bytea
// without a layer. The statements mirror store/sqlite's rather than share
// code with them: placeholders, types, locking and the round trips worth
// saving differ between the engines, and the conformance suite, not a
// shared implementation, keeps the two the same.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rolodav/rolodav/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements store.Store on PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	quota int64 // bytes per user; 0 = no limit
	// writers bounds the write transactions under way: one waiting for a
	// busy collection's lock holds a connection, and reads (every
	// request's sign-in) must find one free all the same.
	writers chan struct{}
}

// idleInTransaction is how long a transaction may wait for its client
// before the server ends it (idle_in_transaction_session_timeout).
const idleInTransaction = 10 * time.Second

// defaultMaxConns is the pool size unless the URL sets pool_max_conns:
// enough for the writers of a busy server, well below PostgreSQL's default
// max_connections of 100 for a few processes.
const defaultMaxConns = 16

// Open connects to the database at url (postgres://…, as libpq takes it)
// and applies pending migrations.
func Open(ctx context.Context, url string, opt store.Options) (*Store, error) {
	if opt.QuotaPerUser < 0 {
		return nil, fmt.Errorf("postgres: negative quota %d", opt.QuotaPerUser)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	// No transaction of ours waits for its client: one left open (by a
	// process frozen or cut off mid-transaction) would hold its
	// collection's lock against every other server until TCP gave up,
	// hours later. The server ends it instead. The URL may set another.
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.Itoa(int(idleInTransaction / time.Millisecond))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	reads := max(2, cfg.MaxConns/4) // connections kept for reads
	s := &Store{pool: pool, quota: opt.QuotaPerUser, writers: make(chan struct{}, max(1, cfg.MaxConns-reads))}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// migrationLock is the key of the advisory lock that makes processes
// starting at once apply the migrations one after the other.
const migrationLock = 0x726f6c6f64617601

// migrate applies the embedded migrations the database has not recorded,
// in order, in one transaction, as the SQLite driver does; a database that
// recorded a migration this build does not have was written by a newer
// rolodav, which this one must not run on.
func (s *Store) migrate(ctx context.Context) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	return s.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
			return err
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_version`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			applied[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		known := map[int]string{}
		for _, f := range files {
			base := filepath.Base(f)
			v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s: bad number", base)
			}
			known[v] = f
		}
		for v := range applied {
			if known[v] == "" {
				return fmt.Errorf("the database has schema version %d, which this rolodav does not know: it was written by a newer one", v)
			}
		}
		for _, f := range files {
			base := filepath.Base(f)
			v, _ := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if applied[v] {
				continue
			}
			body, err := migrations.ReadFile(f)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, applied) VALUES ($1, $2)`,
				v, micros(time.Now())); err != nil {
				return err
			}
		}
		return nil
	})
}

// SchemaVersion returns the newest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

// tx runs fn in one transaction with opts and commits when fn returns nil.
func (s *Store) tx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(ctx)
}

// maxAttempts bounds how often write runs a transaction the server
// aborted to resolve a conflict.
const maxAttempts = 8

// write runs fn in a READ COMMITTED transaction and commits it. A
// transaction aborted for a deadlock or a serialization failure is run
// again from the start; fn must therefore not keep state across calls
// (what it sets in the caller's variables is set again).
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	select {
	case s.writers <- struct{}{}:
		defer func() { <-s.writers }()
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = s.tx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
		if !retryable(err) || attempt == maxAttempts {
			return err
		}
		// A short, growing pause lets the other transaction finish.
		select {
		case <-time.After(time.Duration(attempt*attempt) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// exec runs one statement that writes, as write runs a transaction: under
// the bound of writers, and again when the server aborts it to resolve a
// conflict (a statement that deletes several rows can deadlock too).
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		tag, err = tx.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

// retryable reports whether err is PostgreSQL resolving a conflict between
// transactions by aborting this one.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
}

// notFound maps what a lookup of a key finds nothing for to
// store.ErrNotFound: no row, or text PostgreSQL cannot hold (not UTF-8,
// or NUL; SQLite would have found no row either).
func notFound(err error) error {
	var pe *pgconn.PgError
	if errors.Is(err, pgx.ErrNoRows) || (errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05")) {
		return store.ErrNotFound
	}
	return err
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// lockCollection locks collection id's row until the transaction ends and
// returns its owner; store.ErrNotFound when there is no such collection.
// Every write of a collection's objects, changes or merges calls it first.
func lockCollection(ctx context.Context, tx pgx.Tx, id int64) (owner string, err error) {
	err = tx.QueryRow(ctx, `SELECT owner FROM collections WHERE id = $1 FOR UPDATE`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("collection %d: %w", id, store.ErrNotFound)
	}
	return owner, err
}

// ledger collects how a write transaction changes its owners' usage, by
// login. The writes of objects apply their change in the statement that
// writes the object (applied), which saves a round trip while the
// collection is locked; the others are applied last (add). It also holds
// what the transaction queues for WebDAV-Push (push), which those
// statements queue too.
type ledger struct {
	pending map[string]int64 // to apply at the end
	net     map[string]int64 // every change, applied or not
	used    map[string]int64 // used_bytes after the latest change applied
	push    pushes
}

func newLedger(ctx context.Context) *ledger {
	return &ledger{pending: map[string]int64{}, net: map[string]int64{}, used: map[string]int64{},
		push: newPushes(ctx)}
}

// add records a change of login's usage, to apply at the end.
func (l *ledger) add(login string, d int64) {
	l.pending[login] += d
	l.net[login] += d
}

// applied records a change of login's usage made already, after which
// the usage is used.
func (l *ledger) applied(login string, d, used int64) {
	l.net[login] += d
	l.used[login] = used
}

// writeCounted is write for the methods that change what users store: fn
// records the usage changes in l; those not applied yet are applied last,
// in the same transaction, which fails with store.ErrQuotaExceeded when
// it raised a user's usage above the quota. The net change of the whole
// transaction counts. When the transaction that commits queued push
// messages, the sender is woken after the commit.
func (s *Store) writeCounted(ctx context.Context, fn func(tx pgx.Tx, l *ledger) error) error {
	var last *ledger // of the run that committed, if one did
	err := s.write(ctx, func(tx pgx.Tx) error {
		l := newLedger(ctx)
		last = l
		if err := fn(tx, l); err != nil {
			return err
		}
		logins := make([]string, 0, len(l.net))
		for login := range l.net {
			logins = append(logins, login)
		}
		sort.Strings(logins) // one order of row locks: no deadlock between two writers
		for _, login := range logins {
			if d := l.pending[login]; d != 0 {
				var used int64
				err := tx.QueryRow(ctx, `UPDATE users SET used_bytes = used_bytes + $1 WHERE login = $2
					RETURNING used_bytes`, d, login).Scan(&used)
				if err != nil {
					return fmt.Errorf("usage of %s: %w", login, err)
				}
				l.used[login] = used
			}
			if used := l.used[login]; l.net[login] > 0 && s.quota > 0 && used > s.quota {
				return fmt.Errorf("%s would use %d bytes, %d more than the quota of %d: %w",
					login, used, used-s.quota, s.quota, store.ErrQuotaExceeded)
			}
		}
		return nil
	})
	if err == nil {
		wake(ctx, last.push.queued)
	}
	return err
}

// Usage implements store.Store.
func (s *Store) Usage(ctx context.Context, login string) (store.Usage, error) {
	u := store.Usage{Limit: s.quota}
	err := s.pool.QueryRow(ctx, `SELECT used_bytes FROM users WHERE login = $1`, login).Scan(&u.Used)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Usage{}, fmt.Errorf("postgres: usage of %s: %w", login, err)
	}
	return u, nil
}

// Times are stored as unix microseconds, as in SQLite.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Unbounded span ends are stored as the extreme int64 values, so that a
// time-range query needs no NULL handling.
const (
	spanMin = math.MinInt64
	spanMax = math.MaxInt64
)

func spanStart(t time.Time) int64 {
	if t.IsZero() {
		return spanMin
	}
	return micros(t)
}

func spanEnd(t time.Time) int64 {
	if t.IsZero() {
		return spanMax
	}
	return micros(t)
}

func spanTime(us int64) time.Time {
	if us == spanMin || us == spanMax {
		return time.Time{}
	}
	return fromMicros(us)
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

var _ store.Store = (*Store)(nil)
