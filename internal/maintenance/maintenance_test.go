package maintenance_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/maintenance"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

var ctx = context.Background()

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// counting is a real store that counts the claims and the runs made
// through it.
type counting struct {
	store.Store
	claims atomic.Int64
	runs   atomic.Int64
}

func (c *counting) ClaimRun(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	ok, err := c.Store.ClaimRun(ctx, name, now, every)
	c.claims.Add(1)
	return ok, err
}

func (c *counting) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	c.runs.Add(1)
	return c.Store.PruneSessions(ctx, now)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// moreClaims waits until each store was asked n more times.
func moreClaims(t *testing.T, n int64, stores ...*counting) {
	t.Helper()
	for _, s := range stores {
		from := s.claims.Load()
		waitFor(t, "claims", func() bool { return s.claims.Load() >= from+n })
	}
}

func runs(stores ...*counting) int64 {
	var n int64
	for _, s := range stores {
		n += s.runs.Load()
	}
	return n
}

const (
	every     = time.Hour
	retention = 90 * 24 * time.Hour
)

func open(t *testing.T, path string) *counting {
	t.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &counting{Store: s}
}

// fixture gives user u a book with a.vcf and a deletion of b.vcf (seq 1-3),
// and a session. Both happen now, by the store's clock.
func fixture(t *testing.T, s store.Store) *store.Collection {
	t.Helper()
	if err := s.CreateUser(ctx, &store.User{Login: "u", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "u", Kind: store.KindCard, Name: "book"}
	if err := s.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + n + "\r\nFN:" + n + "\r\nEND:VCARD\r\n"
		if _, _, err := s.PutObject(ctx, &store.Object{Collection: c.ID, Name: n + ".vcf", UID: n, Data: []byte(card)}, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, &store.Session{ID: "s", Owner: "u", CSRF: "c", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return c
}

// pruned reports whether the fixture's deletion and session are gone.
func pruned(t *testing.T, s store.Store, c *store.Collection) (tombstone, session bool) {
	t.Helper()
	_, _, err := s.ChangesSince(ctx, c.ID, 2, 0, false, func(*store.Change) error { return nil })
	if err != nil && !errors.Is(err, store.ErrInvalidSyncToken) {
		t.Fatal(err)
	}
	tombstone = err != nil
	_, err = s.GetSession(ctx, "s")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return tombstone, err != nil
}

// start runs the loop until the test ends.
func start(t *testing.T, s maintenance.Store, cfg maintenance.Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		maintenance.Run(ctx, s, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not stop with its context")
		}
	})
}

// The loop prunes at once, then once per period however often it asks.
func TestRunOncePerPeriod(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "rolodav.db"))
	c := fixture(t, s)
	// The fixture's deletion is older than the retention and its session
	// expired at this time.
	clk := &clock{t: time.Now().Add(retention + 2*time.Hour)}
	var logs syncBuffer
	start(t, s, maintenance.Config{Retention: retention, Every: every, Check: time.Millisecond, Now: clk.Now,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})

	waitFor(t, "the first run", func() bool { return runs(s) >= 1 })
	waitFor(t, "its log", func() bool { return strings.Contains(logs.String(), "tombstones=1 sessions=1") })
	if tomb, sess := pruned(t, s, c); !tomb || !sess {
		t.Fatalf("after the first run: tombstone pruned %v, session pruned %v", tomb, sess)
	}
	moreClaims(t, 50, s)
	if n := runs(s); n != 1 {
		t.Fatalf("%d runs at one time", n)
	}
	clk.Add(every - time.Second)
	moreClaims(t, 50, s)
	if n := runs(s); n != 1 {
		t.Fatalf("%d runs within the first period", n)
	}
	clk.Add(time.Second)
	waitFor(t, "the second run", func() bool { return runs(s) >= 2 })
	moreClaims(t, 50, s)
	if n := runs(s); n != 2 {
		t.Fatalf("%d runs in two periods", n)
	}
}

// Two server processes on one database prune once per period between them.
func TestRunTwoStoresOneDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rolodav.db")
	a, b := open(t, path), open(t, path)
	c := fixture(t, a)
	clk := &clock{t: time.Now().Add(retention + 2*time.Hour)}
	for _, s := range []*counting{a, b} {
		start(t, s, maintenance.Config{Retention: retention, Every: every, Check: time.Millisecond, Now: clk.Now})
	}
	for period := int64(1); period <= 3; period++ {
		waitFor(t, "a run", func() bool { return runs(a, b) >= period })
		moreClaims(t, 30, a, b)
		if n := runs(a, b); n != period {
			t.Fatalf("period %d: %d runs in all (a %d, b %d)", period, n, a.runs.Load(), b.runs.Load())
		}
		clk.Add(every)
	}
	if tomb, sess := pruned(t, b, c); !tomb || !sess {
		t.Fatalf("tombstone pruned %v, session pruned %v", tomb, sess)
	}
}

// Retention 0 keeps deletions for ever; sessions go all the same. Data
// younger than the retention stays.
func TestOnceRetention(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention time.Duration
		after     time.Duration // from now to the run
		tombstone bool
	}{
		{"never", 0, 1000 * 24 * time.Hour, false},
		{"younger than the retention", retention, retention - time.Minute, false},
		{"older than the retention", retention, retention + time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "rolodav.db"))
			c := fixture(t, s)
			now := time.Now().Add(tc.after)
			r, ran, err := maintenance.Once(ctx, s, maintenance.Config{Retention: tc.retention, Now: func() time.Time { return now }})
			if err != nil || !ran {
				t.Fatalf("Once: ran %v, %v", ran, err)
			}
			want := maintenance.Result{Sessions: 1}
			if tc.tombstone {
				want.Tombstones = 1
			}
			if r != want {
				t.Fatalf("result %+v, want %+v", r, want)
			}
			if tomb, sess := pruned(t, s, c); tomb != tc.tombstone || !sess {
				t.Fatalf("tombstone pruned %v, session pruned %v", tomb, sess)
			}
			if _, ran, err := maintenance.Once(ctx, s, maintenance.Config{Retention: tc.retention, Now: func() time.Time { return now }}); err != nil || ran {
				t.Fatalf("Once again in the period: ran %v, %v", ran, err)
			}
		})
	}
}

// syncBuffer is a log written by the loop while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
