package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// The driver's side of WebDAV-Push: what each write queues, in its own
// transaction; claims, keys and secrets between two Stores on one
// database, as between two server processes; and what happens when a
// registration goes while a write queues for it.

// queued is a push_queue row as a test compares it.
type queued struct {
	content, property, rotation bool
	version                     int64
}

func (q queued) String() string {
	return fmt.Sprintf("{content %v property %v rotation %v version %d}", q.content, q.property, q.rotation, q.version)
}

// queue returns the queued messages by registration ID.
func queue(t *testing.T, s *Store) map[int64]queued {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT registration, content, property, rotation, version FROM push_queue`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]queued{}
	for rows.Next() {
		var id int64
		var q queued
		if err := rows.Scan(&id, &q.content, &q.property, &q.rotation, &q.version); err != nil {
			t.Fatal(err)
		}
		out[id] = q
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func emptyQueue(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.pool.Exec(context.Background(), `DELETE FROM push_queue`); err != nil {
		t.Fatal(err)
	}
}

func testKey() (store.PushKey, error) { return store.PushKey{Private: "priv", Public: "pub"}, nil }

// register registers r (Login u, expiring in an hour unless set) and fails
// the test on an error.
func register(t *testing.T, s store.Push, r *store.PushRegistration) *store.PushRegistration {
	t.Helper()
	if r.Login == "" {
		r.Login = "u"
	}
	if r.Expires.IsZero() {
		r.Expires = time.Now().Add(time.Hour)
	}
	if r.PublicKey == "" {
		r.PublicKey, r.AuthSecret = "p256dh", "auth"
	}
	if _, err := s.RegisterPush(context.Background(), r); err != nil {
		t.Fatalf("RegisterPush(%s): %v", r.Resource, err)
	}
	return r
}

func mustCollection(t *testing.T, s *Store, c *store.Collection) *store.Collection {
	t.Helper()
	if err := s.CreateCollection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func putCard(ctx context.Context, s *Store, coll int64, name string) (string, error) {
	_, etag, err := s.PutObject(ctx, &store.Object{Collection: coll, Name: name, UID: name, Data: card(name, name)}, store.Conditions{})
	return etag, err
}

// Every write that changes a collection's content, properties or the set
// of a home's collections queues its message in its transaction, once per
// registration however many objects it writes, for the registrations that
// want it, are not expired and are not skipped; and wakes the sender once,
// after the commit.
func TestPushQueuedByWrites(t *testing.T) {
	ctx := context.Background()
	s, a := bookFixture(t)
	b := mustCollection(t, s, &store.Collection{Owner: "u", Kind: store.KindCard, Name: "b"})
	if _, err := s.PushKey(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	regA := register(t, s, &store.PushRegistration{Collection: a.ID, Resource: "https://push/a", Content: true, Property: true})
	regA2 := register(t, s, &store.PushRegistration{Collection: a.ID, Resource: "https://push/a2", Content: true})
	regAProp := register(t, s, &store.PushRegistration{Collection: a.ID, Resource: "https://push/a-prop", Property: true})
	regB := register(t, s, &store.PushRegistration{Collection: b.ID, Resource: "https://push/b", Content: true})
	home := register(t, s, &store.PushRegistration{Home: store.KindCard, Resource: "https://push/home", Content: true})
	homeCal := register(t, s, &store.PushRegistration{Home: store.KindCal, Resource: "https://push/home-cal", Content: true})
	register(t, s, &store.PushRegistration{Collection: a.ID, Resource: "https://push/a-expired", Content: true,
		Expires: time.Now().Add(-time.Second)})
	_ = homeCal

	var wakes atomic.Int64
	wakeCtx := func(h store.PushHints) context.Context {
		// The sender is woken after the commit: another connection sees
		// what was queued.
		h.Wake = func() {
			var n int
			if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM push_queue`).Scan(&n); err != nil || n == 0 {
				t.Errorf("woken before the commit: %d messages visible, %v", n, err)
			}
			wakes.Add(1)
		}
		return store.WithPushHints(ctx, h)
	}
	content := queued{content: true, version: 1}

	// Cards to merge, move and delete, written before the cases.
	setup := map[string]string{}
	for _, name := range []string{"ref", "group", "gone", "moved", "deleted", "fold"} {
		etag, err := putCard(ctx, s, a.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		setup[name] = etag
	}
	var merge *store.Merge
	var foldMerge *store.Merge

	for _, tc := range []struct {
		name  string
		hints store.PushHints
		write func(ctx context.Context) error
		want  map[int64]queued
	}{
		{"put", store.PushHints{}, func(ctx context.Context) error {
			_, err := putCard(ctx, s, a.ID, "new")
			return err
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"delete", store.PushHints{}, func(ctx context.Context) error {
			return s.DeleteObject(ctx, a.ID, "deleted", store.Conditions{})
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"move", store.PushHints{}, func(ctx context.Context) error {
			_, err := s.MoveObject(ctx, a.ID, "moved", b.ID, "moved", false, store.Conditions{})
			return err
		}, map[int64]queued{regA.ID: content, regA2.ID: content, regB.ID: content}},
		{"merge", store.PushHints{}, func(ctx context.Context) error {
			var err error
			merge, err = s.ApplyMerge(ctx, &store.MergeWrite{Collection: a.ID,
				Reference: &store.Object{Name: "ref", UID: "ref", Data: card("ref", "merged")}, ReferenceETag: setup["ref"],
				Groups:  []store.Rewrite{{Object: &store.Object{Name: "group", UID: "group", Data: card("group", "g2")}, ETag: setup["group"]}},
				Removed: []store.Removed{{Name: "gone", UID: "gone", ETag: setup["gone"]}},
				Undo:    []byte("undo")})
			return err
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"undo", store.PushHints{}, func(ctx context.Context) error {
			return s.UndoMerge(ctx, a.ID, merge.ID, merge.Undo, []store.Object{
				{Name: "ref", UID: "ref", Data: card("ref", "ref")}, {Name: "group", UID: "group", Data: card("group", "group")},
				{Name: "gone", UID: "gone", Data: card("gone", "gone")}}, false)
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"fold", store.PushHints{}, func(ctx context.Context) error {
			ref, err := s.GetObject(ctx, a.ID, "ref")
			if err != nil {
				return err
			}
			fold, err := s.GetObject(ctx, a.ID, "fold")
			if err != nil {
				return err
			}
			// Without push: the merge is the fold's setup.
			foldMerge, err = s.ApplyMerge(store.WithPushHints(ctx, store.PushHints{SkipAll: true}), &store.MergeWrite{Collection: a.ID,
				Reference: &store.Object{Name: "ref", UID: "ref", Data: card("ref", "m")}, ReferenceETag: ref.ETag,
				Removed: []store.Removed{{Name: "fold", UID: "fold", ETag: fold.ETag}}, Undo: []byte("u1")})
			if err != nil {
				return err
			}
			_, err = s.FoldInto(ctx, &store.Object{Collection: a.ID, Name: "ref", UID: "ref", Data: card("ref", "m2")},
				store.Conditions{}, "folded", foldMerge.ID, foldMerge.Undo, []byte("u2"))
			return err
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"update collection", store.PushHints{}, func(ctx context.Context) error {
			return s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error {
				c.DisplayName = "A"
				return nil
			})
		}, map[int64]queued{regA.ID: {property: true, version: 1}, regAProp.ID: {property: true, version: 1}, home.ID: content}},
		{"update collection changing nothing", store.PushHints{}, func(ctx context.Context) error {
			return s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error {
				c.DisplayName = "A"
				return nil
			})
		}, map[int64]queued{}},
		{"create collection", store.PushHints{}, func(ctx context.Context) error {
			return s.CreateCollection(ctx, &store.Collection{Owner: "u", Kind: store.KindCard, Name: "c"})
		}, map[int64]queued{home.ID: content}},
		{"delete collection", store.PushHints{}, func(ctx context.Context) error {
			return s.DeleteCollection(ctx, b.ID)
		}, map[int64]queued{home.ID: content, regB.ID: content}},
		{"skip all", store.PushHints{SkipAll: true}, func(ctx context.Context) error {
			_, err := putCard(ctx, s, a.ID, "skip-all")
			return err
		}, map[int64]queued{}},
		{"skip own", store.PushHints{Login: "u", Skip: []string{regA.Token}}, func(ctx context.Context) error {
			_, err := putCard(ctx, s, a.ID, "skip-own")
			return err
		}, map[int64]queued{regA2.ID: content}},
		{"skip another's", store.PushHints{Login: "someone", Skip: []string{regA.Token}}, func(ctx context.Context) error {
			_, err := putCard(ctx, s, a.ID, "skip-other")
			return err
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"skip what no token is", store.PushHints{Login: "u\x00", Skip: []string{"\xff", "a\x00b", regA.Token}}, func(ctx context.Context) error {
			// Text PostgreSQL cannot hold, from a header, say, fails no write.
			_, err := putCard(ctx, s, a.ID, "skip-bad")
			return err
		}, map[int64]queued{regA.ID: content, regA2.ID: content}},
		{"failed write", store.PushHints{}, func(ctx context.Context) error {
			_, _, err := s.PutObject(ctx, &store.Object{Collection: a.ID, Name: "new", Data: card("x", "x")},
				store.Conditions{IfNoneMatch: true})
			if !errors.Is(err, store.ErrPrecondition) {
				return fmt.Errorf("want a precondition failure, got %v", err)
			}
			return nil
		}, map[int64]queued{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emptyQueue(t, s)
			wakes.Store(0)
			if err := tc.write(wakeCtx(tc.hints)); err != nil {
				t.Fatal(err)
			}
			if got := queue(t, s); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("queued %v, want %v", got, tc.want)
			}
			want := int64(0)
			if len(tc.want) > 0 {
				want = 1
			}
			if n := wakes.Load(); n != want {
				t.Errorf("woken %d times, want %d", n, want)
			}
		})
	}

	// A change queued while one is queued joins it.
	emptyQueue(t, s)
	for _, name := range []string{"j1", "j2"} {
		if _, err := putCard(ctx, s, a.ID, name); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error { c.Color = "#ff0000"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := queue(t, s)[regA.ID], (queued{content: true, property: true, version: 3}); got != want {
		t.Errorf("joined: %v, want %v", got, want)
	}
}

// A registration deleted while a write queues for it is passed over: the
// write waits for the deletion and succeeds, queueing nothing for it.
// (Without the lock on the registrations, the new queue row's foreign key
// failed the write.)
func TestPushRegistrationDeletedDuringWrite(t *testing.T) {
	ctx := context.Background()
	s, c := bookFixture(t)
	if _, err := s.PushKey(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	r := register(t, s, &store.PushRegistration{Collection: c.ID, Resource: "https://push/x", Content: true})
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM push_registrations WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := putCard(ctx, s, c.ID, "x")
		done <- err
	}()
	// The write waits for the deletion's lock, or it would have committed.
	waitFor(t, s, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write beside a deleted registration: %v", err)
	}
	if q := queue(t, s); len(q) != 0 {
		t.Errorf("queued %v for a deleted registration", q)
	}
}

// RegisterPush takes the collection's row before its user's, as every
// write does (lockCollection, then the usage): a write that holds the
// collection and then updates its user's usage does not wait for a
// RegisterPush beside it. (With the user's row locked first, FOR UPDATE,
// and the collection's taken by the insert's foreign key, the two
// deadlocked until PostgreSQL aborted one after deadlock_timeout, 1 s.)
func TestPushRegisterLockOrder(t *testing.T) {
	ctx := context.Background()
	s, c := bookFixture(t)
	if _, err := s.PushKey(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var pid int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := lockCollection(ctx, tx, c.ID); err != nil {
		t.Fatal(err)
	}
	registered := make(chan error, 1)
	go func() {
		_, err := s.RegisterPush(ctx, &store.PushRegistration{Login: c.Owner, Collection: c.ID, Resource: "https://push/x",
			PublicKey: "p", AuthSecret: "a", Content: true, Expires: time.Now().Add(time.Hour)})
		registered <- err
	}()
	// RegisterPush waits for the collection.
	waitFor(t, s, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)
	updated := make(chan error, 1)
	go func() {
		_, err := tx.Exec(ctx, `UPDATE users SET used_bytes = used_bytes WHERE login = $1`, c.Owner)
		updated <- err
	}()
	// The update ends without waiting for a lock.
wait:
	for {
		select {
		case err := <-updated:
			if err != nil {
				t.Fatalf("the write's update of its user's usage: %v", err)
			}
			break wait
		case <-time.After(5 * time.Millisecond):
		}
		var n int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
			pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("the write's update of its user's usage waits for the RegisterPush beside it")
			<-updated // once PostgreSQL has broken the deadlock
			break wait
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-registered; err != nil {
		t.Errorf("RegisterPush: %v", err)
	}
}

// waitFor waits until the count query returns more than 0.
func waitFor(t *testing.T, s *Store, count string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		if err := s.pool.QueryRow(context.Background(), count).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", count)
}

// Claimers in two processes at once claim each queued message once.
func TestPushClaimsDisjoint(t *testing.T) {
	ctx := context.Background()
	a, b := openPair(t)
	if err := a.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PushKey(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	const n = store.MaxPushRegistrationsPerTarget
	coll := mustCollection(t, a, &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"})
	for i := range n {
		register(t, a, &store.PushRegistration{Collection: coll.ID, Resource: fmt.Sprintf("https://push/%d", i), Content: true})
	}
	if _, err := putCard(ctx, a, coll.ID, "x"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var claimed []int64
	var wg sync.WaitGroup
	at := time.Now()
	for i := range 6 {
		st := []*Store{a, b}[i%2]
		wg.Go(func() {
			for {
				ds, _, err := st.ClaimPushes(ctx, at, time.Minute, 0, 4)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					claimed = append(claimed, d.Registration.ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(claimed)
	if len(claimed) != n || len(slices.Compact(slices.Clone(claimed))) != n {
		t.Errorf("claimed %d messages (%d distinct), want each of %d once", len(claimed), len(slices.Compact(claimed)), n)
	}
}

// Processes asking at once for a secret or the push key that is not there
// yet all get the one stored first.
func TestPushFirstCreationAgrees(t *testing.T) {
	ctx := context.Background()
	a, b := openPair(t)
	const n = 8
	secrets := make([]string, n)
	keys := make([]store.PushKey, n)
	// Every caller generates before any stores: all found none.
	var secretGen, keyGen sync.WaitGroup
	secretGen.Add(n)
	keyGen.Add(n)
	var wg sync.WaitGroup
	for i := range n {
		st := []*Store{a, b}[i%2]
		wg.Go(func() {
			var err error
			secrets[i], err = st.Secret(ctx, "topic", func() (string, error) {
				secretGen.Done()
				secretGen.Wait()
				return fmt.Sprint("s", i), nil
			})
			if err != nil {
				t.Error(err)
			}
			keys[i], err = st.PushKey(ctx, func() (store.PushKey, error) {
				keyGen.Done()
				keyGen.Wait()
				return store.PushKey{Private: fmt.Sprint("priv", i), Public: fmt.Sprint("pub", i)}, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if secrets[i] != secrets[0] || keys[i] != keys[0] {
			t.Errorf("caller %d got %q and %+v, caller 0 %q and %+v", i, secrets[i], keys[i], secrets[0], keys[0])
		}
	}
	var current int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM push_keys WHERE retired = 0`).Scan(&current); err != nil || current != 1 {
		t.Errorf("%d current keys, want 1 (%v)", current, err)
	}
}

// A registration's life: registered, registered again (same ID and token,
// bound to the current key), owned, its messages claimed, spaced, retried,
// finished while a change joins, rotated, dropped and pruned.
func TestPushLifecycle(t *testing.T) {
	ctx := context.Background()
	s, c := bookFixture(t)
	if err := s.CreateUser(ctx, &store.User{Login: "v", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	other := mustCollection(t, s, &store.Collection{Owner: "v", Kind: store.KindCard, Name: "book"})
	reg := &store.PushRegistration{Login: "u", Collection: c.ID, Resource: "https://push/1", PublicKey: "k", AuthSecret: "a",
		Content: true, Expires: time.Now().Add(time.Hour)}
	if _, err := s.RegisterPush(ctx, reg); err == nil {
		t.Fatal("registered without a key")
	}
	key, err := s.PushKey(ctx, testKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.PushRegistration{
		{Login: "u", Collection: other.ID}, // another's collection
		{Login: "u", Collection: 999},      // none
		{Login: "w", Home: store.KindCard}, // no such user
	} {
		bad.Resource, bad.PublicKey, bad.AuthSecret, bad.Expires = "r", "k", "a", time.Now().Add(time.Hour)
		if _, err := s.RegisterPush(ctx, &bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RegisterPush(%+v) = %v, want ErrNotFound", bad, err)
		}
	}
	if created, err := s.RegisterPush(ctx, reg); err != nil || !created || reg.ID == 0 || reg.Token == "" || reg.KeyID != key.ID {
		t.Fatalf("RegisterPush = %v, %v: %+v", created, err, reg)
	}
	first := *reg

	if _, err := putCard(ctx, s, c.ID, "a"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	ds, next, err := s.ClaimPushes(ctx, t0, time.Minute, time.Minute, 10)
	if err != nil || len(ds) != 1 || !next.IsZero() {
		t.Fatalf("ClaimPushes = %d, %v, %v; want 1 and no next", len(ds), next, err)
	}
	d := ds[0]
	if d.Registration.Token != reg.Token || d.Key.Private != "priv" || !d.Content || d.Property || d.SyncSeq != 1 ||
		d.Version != 1 || !d.Lease.Equal(t0.Add(time.Minute)) {
		t.Errorf("delivery %+v", d)
	}
	// Leased: not claimed again until the lease ends.
	if ds, next, err := s.ClaimPushes(ctx, t0, time.Minute, time.Minute, 10); err != nil || len(ds) != 0 || !next.Equal(d.Lease) {
		t.Errorf("claim while leased = %d, %v, %v; want none, next at the lease's end", len(ds), next, err)
	}
	// A change joins the message being delivered: after the delivery it
	// stays queued, due a spacing after it.
	if _, err := putCard(ctx, s, c.ID, "b"); err != nil {
		t.Fatal(err)
	}
	stale := d
	stale.Lease = stale.Lease.Add(-time.Microsecond)
	if err := s.FinishPush(ctx, &stale, t0); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("FinishPush of a lost claim = %v, want ErrPrecondition", err)
	}
	if err := s.RetryPush(ctx, &stale, t0, "x"); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("RetryPush of a lost claim = %v, want ErrPrecondition", err)
	}
	if err := s.FinishPush(ctx, &d, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishPush(ctx, &d, t0); !errors.Is(err, store.ErrPrecondition) {
		t.Errorf("FinishPush twice = %v, want ErrPrecondition", err)
	}
	t1 := t0.Add(time.Second)
	if ds, next, err := s.ClaimPushes(ctx, t1, time.Minute, time.Minute, 10); err != nil || len(ds) != 0 || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("claim within the spacing = %d, %v, %v; want none, next a spacing after the delivery", len(ds), next, err)
	}
	t2 := t0.Add(time.Minute)
	ds, _, err = s.ClaimPushes(ctx, t2, time.Minute, time.Minute, 10)
	if err != nil || len(ds) != 1 || ds[0].Version != 2 || ds[0].SyncSeq != 2 || !ds[0].Registration.LastSent.Equal(t0) {
		t.Fatalf("claim after the spacing = %+v, %v", ds, err)
	}
	d = ds[0]
	retry := t2.Add(10 * time.Second)
	if err := s.RetryPush(ctx, &d, retry, "503"); err != nil {
		t.Fatal(err)
	}
	if ds, next, err := s.ClaimPushes(ctx, t2.Add(time.Second), time.Minute, 0, 10); err != nil || len(ds) != 0 || !next.Equal(retry) {
		t.Errorf("claim before the retry = %d, %v, %v", len(ds), next, err)
	}
	ds, _, err = s.ClaimPushes(ctx, retry, time.Minute, 0, 10)
	if err != nil || len(ds) != 1 || ds[0].Attempts != 1 {
		t.Fatalf("claim at the retry = %+v, %v", ds, err)
	}
	d = ds[0]
	if err := s.FinishPush(ctx, &d, retry); err != nil {
		t.Fatal(err)
	}
	if q := queue(t, s); len(q) != 0 {
		t.Errorf("queued after the delivery: %v", q)
	}

	// Registered again: the same registration, rebound to the current key.
	if err := s.RotatePushKey(ctx, store.PushKey{Private: "priv2", Public: "pub2"}, t2); err != nil {
		t.Fatal(err)
	}
	ds, _, err = s.ClaimPushes(ctx, retry, time.Minute, 0, 10)
	if err != nil || len(ds) != 1 || !ds[0].Rotation || ds[0].Key.Private != "priv" {
		t.Fatalf("rotation claims %+v, %v; want one, with the retired key", ds, err)
	}
	if err := s.FinishPush(ctx, &ds[0], retry); err != nil {
		t.Fatal(err)
	}
	again := &store.PushRegistration{Login: "u", Collection: c.ID, Resource: "https://push/1", PublicKey: "k2", AuthSecret: "a2",
		Property: true, Expires: time.Now().Add(2 * time.Hour)}
	// A second registration of the resource, on the home, bound to the
	// retired key: one rotation message goes to the resource.
	home := register(t, s, &store.PushRegistration{Home: store.KindCard, Resource: "https://push/1", Content: true})
	if home.KeyID == first.KeyID {
		t.Errorf("registered on the retired key %d", home.KeyID)
	}
	if created, err := s.RegisterPush(ctx, again); err != nil || created || again.ID != first.ID || again.Token != first.Token ||
		again.KeyID == first.KeyID || !again.Created.Equal(first.Created) {
		t.Fatalf("registered again = %v, %v: %+v, first %+v", created, err, again, first)
	}
	got, err := s.GetPushRegistration(ctx, "u", first.Token)
	if err != nil || got.PublicKey != "k2" || got.Content || !got.Property || got.KeyID != again.KeyID {
		t.Errorf("GetPushRegistration = %+v, %v", got, err)
	}
	if _, err := s.GetPushRegistration(ctx, "v", first.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another's registration: %v", err)
	}
	if err := s.DeletePushRegistration(ctx, "v", first.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting another's registration: %v", err)
	}
	if list, err := s.ListPushRegistrations(ctx, "u"); err != nil || len(list) != 2 || list[0].ID != home.ID {
		t.Errorf("ListPushRegistrations = %+v, %v; want the home's, newest, first", list, err)
	}

	// Rotated again: both are bound to retired keys now, one message for
	// their resource, signed with the newest of them (both are on the
	// same: the newest registration).
	if err := s.RotatePushKey(ctx, store.PushKey{Private: "priv3", Public: "pub3"}, t2); err != nil {
		t.Fatal(err)
	}
	ds, _, err = s.ClaimPushes(ctx, retry.Add(time.Second), time.Minute, 0, 10)
	if err != nil || len(ds) != 1 || !ds[0].Rotation || ds[0].Content || ds[0].Key.Private != "priv2" || ds[0].Key.Retired.IsZero() {
		t.Fatalf("rotation claims %+v, %v", ds, err)
	}
	if err := s.DropPush(ctx, &ds[0], true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPushRegistration(ctx, "u", ds[0].Registration.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dropped registration: %v", err)
	}
	if err := s.FinishPush(ctx, &ds[0], t2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FinishPush of a dropped registration = %v, want ErrNotFound", err)
	}

	// Pruned: the expired registration, then the keys none is bound to.
	n, err := s.PrunePush(ctx, time.Now().Add(3*time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PrunePush = %d, %v; want 1", n, err)
	}
	var keys []string
	rows, err := s.pool.Query(ctx, `SELECT private FROM push_keys ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if rows.Close(); !slices.Equal(keys, []string{"priv3"}) {
		t.Errorf("keys left %q, want the current one", keys)
	}
}
