package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
)

// DeleteUser while the user's phone writes: the writers lock collection
// then users; DeleteUser, whose cascade would lock users then the
// collections, locks the collections first as they do.
func TestDeleteUserWhileWriting(t *testing.T) {
	ctx := context.Background()
	a, b := openPair(t)
	deadlocks := 0
	const rounds = 10
	for r := range rounds {
		login := fmt.Sprint("u", r)
		if err := a.CreateUser(ctx, &store.User{Login: login, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
		c := &store.Collection{Owner: login, Kind: store.KindCard, Name: "book"}
		if err := a.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var putErrs atomic.Int64
		var maxPut atomic.Int64
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("w%d-%d.vcf", w, i%10)
					t0 := time.Now()
					_, _, err := a.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name,
						Data: fmt.Appendf(nil, "BEGIN:VCARD\r\nUID:%s\r\nFN:%d\r\nEND:VCARD\r\n", name, i)}, store.Conditions{})
					if d := time.Since(t0); int64(d) > maxPut.Load() {
						maxPut.Store(int64(d))
					}
					if err != nil {
						if !errors.Is(err, store.ErrNotFound) {
							putErrs.Add(1)
							t.Logf("put: %v", err)
						}
						return
					}
				}
			})
		}
		time.Sleep(50 * time.Millisecond)
		t0 := time.Now()
		err := b.DeleteUser(ctx, login)
		d := time.Since(t0)
		close(stop)
		wg.Wait()
		if err != nil {
			deadlocks++
			t.Logf("round %d: DeleteUser after %v: %v", r, d, err)
		}
		t.Logf("round %d: DeleteUser %v, slowest PUT %v", r, d.Round(time.Millisecond), time.Duration(maxPut.Load()).Round(time.Millisecond))
	}
	if deadlocks > 0 {
		t.Errorf("%d of %d DeleteUser failed", deadlocks, rounds)
	}
}

// Pool exhaustion: writers queued on one collection's lock hold every
// connection of the pool; another user's read waits for them.
func TestReadsBesideWaitingWriters(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, u := range []string{"busy", "other"} {
		if err := s.CreateUser(ctx, &store.User{Login: u, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	c := &store.Collection{Owner: "busy", Kind: store.KindCard, Name: "book"}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A long write of the busy collection (a DeleteCollection of a large
	// one, a merge, a prune batch): here a transaction holding its lock 2 s.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM collections WHERE id = $1 FOR UPDATE`, c.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 { // 20 PUTs of one phone/import to the busy book
		wg.Go(func() {
			name := fmt.Sprintf("%d.vcf", i)
			s.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name, Data: []byte("x")}, store.Conditions{})
		})
	}
	time.Sleep(200 * time.Millisecond)
	committed := make(chan struct{})
	go func() { time.Sleep(2 * time.Second); tx.Commit(ctx); close(committed) }()
	defer func() { <-committed }() // before conn.Close, deferred earlier
	t0 := time.Now()
	_, err = s.GetUser(ctx, "other") // what authenticating any request does
	d := time.Since(t0)
	wg.Wait()
	t.Logf("GetUser of another user took %v (err %v); pool stats: max %d", d.Round(time.Millisecond), err, s.pool.Stat().MaxConns())
	if d > time.Second {
		t.Errorf("another user's read waited %v behind writers of one collection", d.Round(time.Millisecond))
	}
}

// The trap of a batched PutObject: the lock and the read of the object in
// one statement. After waiting for the lock, READ COMMITTED re-reads only
// the locked row; the joined object is the one of the statement's
// snapshot, taken before the wait.
func TestLockJoinIsStale(t *testing.T) {
	ctx := context.Background()
	s, c := bookFixture(t)
	_, e1, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: "a.vcf", UID: "a", Data: []byte("v1")}, store.Conditions{})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `SELECT 1 FROM collections WHERE id = $1 FOR UPDATE`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `UPDATE objects SET etag = 'v2-etag' WHERE collection = $1 AND name = 'a.vcf'`, c.ID); err != nil {
		t.Fatal(err)
	}
	got := make(chan [2]string, 1)
	go func() {
		tx, _ := s.pool.Begin(ctx)
		defer tx.Rollback(ctx)
		var joined, separate string
		tx.QueryRow(ctx, `SELECT o.etag FROM collections c LEFT JOIN objects o ON o.collection = c.id AND o.name = 'a.vcf'
			WHERE c.id = $1 FOR UPDATE OF c`, c.ID).Scan(&joined)
		tx.QueryRow(ctx, `SELECT etag FROM objects WHERE collection = $1 AND name = 'a.vcf'`, c.ID).Scan(&separate)
		got <- [2]string{joined, separate}
	}()
	time.Sleep(200 * time.Millisecond)
	holder.Commit(ctx)
	r := <-got
	// Why putState locks in a statement of its own: this is what a
	// lock joined to the reads would decide on.
	if r[0] != e1 || r[1] != "v2-etag" {
		t.Fatalf("after the wait: joined to the lock %q (the snapshot's was %s), next statement %q", r[0], e1, r[1])
	}
}

// ReadRows (store copy from a running PostgreSQL) locks the tables in
// SHARE mode one after the other, users first; a writer holds collections
// and objects and locks users last.
func TestReadRowsWhileWriting(t *testing.T) {
	ctx := context.Background()
	a, b := openPair(t)
	if err := a.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := a.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErrs atomic.Int64
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d.vcf", w, i%50)
				if _, _, err := a.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: name,
					Data: fmt.Appendf(nil, "card %d %d", w, i)}, store.Conditions{}); err != nil {
					writeErrs.Add(1)
					t.Logf("put: %v", err)
				}
			}
		})
	}
	failed := 0
	const rounds = 40
	for r := range rounds {
		time.Sleep(50 * time.Millisecond)
		t0 := time.Now()
		err := b.ReadRows(ctx, func(rr store.RowReader) error {
			_, err := rr.Count(ctx, &store.Tables[3])
			return err
		})
		if err != nil {
			failed++
		}
		t.Logf("round %d: ReadRows %v: %v", r, time.Since(t0).Round(time.Millisecond), err)
	}
	close(stop)
	wg.Wait()
	if failed > 0 || writeErrs.Load() > 0 {
		t.Errorf("%d of %d ReadRows failed, %d writes failed", failed, rounds, writeErrs.Load())
	}
}

// A transaction a frozen process left open would hold its collection's
// lock against every other server: the store's connections have the
// server end it.
func TestIdleTransactionsEnd(t *testing.T) {
	ctx := context.Background()
	s, _ := bookFixture(t)
	var v string
	if err := s.pool.QueryRow(ctx, `SHOW idle_in_transaction_session_timeout`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "10s" {
		t.Fatalf("idle_in_transaction_session_timeout %q, want 10s", v)
	}
}
