// Package sqlite is rolodav's default store driver: one SQLite file in WAL
// mode. Reads run on a pool of connections, writes on a single connection,
// so concurrent writers queue in Go instead of failing with SQLITE_BUSY.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/rolodav/rolodav/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements store.Store on SQLite.
type Store struct {
	rdb   *sql.DB // reads: several connections, query_only
	wdb   *sql.DB // writes: exactly one connection
	quota int64   // bytes per user; 0 = no limit
	queue queueStmts
}

var _ store.Store = (*Store)(nil)

// Every connection of both pools gets these pragmas (go-sqlite3 applies DSN
// parameters on each new connection). synchronous=FULL fsyncs the WAL on
// every commit: an acknowledged write survives power loss, not only kill -9.
// _txlock=immediate takes the write lock at BEGIN, so a writer in another
// process makes us wait (busy_timeout) instead of failing mid-transaction.
const dsnParams = "_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_busy_timeout=10000"

// Open opens (creating if needed) the database at path and applies pending
// migrations. Its users have no quota.
func Open(path string) (*Store, error) {
	return OpenWith(path, store.Options{})
}

// OpenWith is Open with options.
func OpenWith(path string, opt store.Options) (*Store, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if opt.QuotaPerUser < 0 {
		return nil, fmt.Errorf("sqlite: negative quota %d", opt.QuotaPerUser)
	}
	// An absolute path never starts with "file:", so SQLite does not parse
	// it as a URI.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}

	wdb, err := sql.Open("sqlite3", abs+"?"+dsnParams+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := migrate(context.Background(), wdb); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	// No cap on read connections: a callback of a streaming read may itself
	// read, and a capped pool could then deadlock.
	queue, err := prepareQueue(wdb)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	rdb, err := sql.Open("sqlite3", abs+"?"+dsnParams+"&_query_only=1")
	if err != nil {
		queue.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	rdb.SetMaxIdleConns(8)
	if err := rdb.Ping(); err != nil {
		rdb.Close()
		queue.Close()
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return &Store{rdb: rdb, wdb: wdb, quota: opt.QuotaPerUser, queue: queue}, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.queue.Close(), s.rdb.Close(), s.wdb.Close())
}

// migrate applies the embedded migrations the database has not recorded,
// in order, all in one transaction: a failed migration leaves the schema
// untouched. It applies every missing one, not only those above the
// highest recorded: two changes developed side by side may land in either
// order. A database that recorded a migration this build does not have
// was written by a newer rolodav, which this one must not run on.
func migrate(ctx context.Context, db *sql.DB) error {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files) // numbered names: lexical order is apply order
	return inTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		known := map[int]bool{}
		for _, f := range files {
			base := filepath.Base(f)
			v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
			if err != nil {
				return fmt.Errorf("migration %s: bad number", base)
			}
			known[v] = true
		}
		for v := range applied {
			if !known[v] {
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
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", base, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied) VALUES (?, ?)`,
				v, micros(time.Now())); err != nil {
				return err
			}
		}
		return nil
	})
}

// appliedVersions reads the migrations the database recorded.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

// inTx runs fn in a transaction on db and commits when fn returns nil.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, s.wdb, fn)
}

// ledger collects what a write transaction changes for the work done at
// its end: its owners' usage, by login, and the collections and homes
// whose registrations are notified (store.Push).
type ledger struct {
	usage    map[string]int64
	content  []int64    // collections whose objects changed, each once
	property []int64    // collections whose properties changed, each once
	homes    []pushHome // homes whose collections changed, each once
	told     bool       // a deleted collection's registrations were queued its deletion (queueGone)
}

// pushHome is the home of kind of login.
type pushHome struct {
	login string
	kind  store.Kind
}

// changed records a change of coll's objects.
func (l *ledger) changed(coll int64) {
	if !slices.Contains(l.content, coll) {
		l.content = append(l.content, coll)
	}
}

// propertiesChanged records a change of coll's properties, which its
// owner's home of kind lists too.
func (l *ledger) propertiesChanged(coll int64, owner string, kind store.Kind) {
	if !slices.Contains(l.property, coll) {
		l.property = append(l.property, coll)
	}
	l.homeChanged(owner, kind)
}

// homeChanged records a change of the set of collections of a home.
func (l *ledger) homeChanged(login string, kind store.Kind) {
	h := pushHome{login, kind}
	if !slices.Contains(l.homes, h) {
		l.homes = append(l.homes, h)
	}
}

// writeCounted is write for the methods that change what users store: fn
// records the usage changes in l, and they are applied last, in the same
// transaction, which fails with store.ErrQuotaExceeded when it raised a
// user's usage above the quota. The net change of the whole transaction
// counts, so a merge that rewrites a card but deletes more is allowed.
// Then the push messages the changes recorded in l owe are queued, in the
// same transaction, and the sender is woken once it committed.
func (s *Store) writeCounted(ctx context.Context, fn func(tx *sql.Tx, l *ledger) error) error {
	hints := store.PushHintsFrom(ctx)
	queued := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		l := &ledger{usage: map[string]int64{}}
		if err := fn(tx, l); err != nil {
			return err
		}
		logins := make([]string, 0, len(l.usage))
		for login := range l.usage {
			logins = append(logins, login)
		}
		sort.Strings(logins) // a fixed order of row locks for engines that take them
		for _, login := range logins {
			d := l.usage[login]
			if d == 0 {
				continue
			}
			var used int64
			err := tx.QueryRowContext(ctx, `UPDATE users SET used_bytes = used_bytes + ? WHERE login = ?
				RETURNING used_bytes`, d, login).Scan(&used)
			if err != nil {
				return fmt.Errorf("usage of %s: %w", login, err)
			}
			if d > 0 && s.quota > 0 && used > s.quota {
				return fmt.Errorf("%s would use %d bytes, %d more than the quota of %d: %w",
					login, used, used-s.quota, s.quota, store.ErrQuotaExceeded)
			}
		}
		var err error
		queued, err = s.queuePushes(ctx, tx, l, hints)
		queued = queued || l.told
		return err
	})
	if err == nil && queued && hints.Wake != nil {
		hints.Wake()
	}
	return err
}

// Usage implements store.Store.
func (s *Store) Usage(ctx context.Context, login string) (store.Usage, error) {
	u := store.Usage{Limit: s.quota}
	err := s.rdb.QueryRowContext(ctx, `SELECT used_bytes FROM users WHERE login = ?`, login).Scan(&u.Used)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Usage{}, fmt.Errorf("sqlite: usage of %s: %w", login, err)
	}
	return u, nil
}

// read runs fn in a read transaction: one consistent snapshot of the WAL.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, s.rdb, fn)
}

// Times are stored as unix microseconds.
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
