package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// RunShared runs the tests of what several server processes sharing one
// database must agree on. open must return two stores opened, as two
// processes would, on one new empty database; RunShared closes both at the
// end of the subtest.
func RunShared(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"ClaimRun", testSharedClaimRun},
		{"Prune", testSharedPrune},
		{"FirstSignIn", testSharedFirstSignIn},
		{"TwoFactor", testSharedTwoFactor},
		{"Notices", testSharedNotices},
		{"PruneWhileWriting", testSharedPruneWhileWriting},
		{"PushKeys", testSharedPushKeys},
		{"PushClaims", testSharedPushClaims},
		{"Migrations", testSharedMigrations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() {
				for _, s := range []store.Store{a, b} {
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tc.fn(t, a, b)
		})
	}
}

// A fixed time for ClaimRun, far from the clock: the claims must follow
// the now they are given.
var runBase = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

func claimRun(t *testing.T, s store.Store, name string, now time.Time, every time.Duration) bool {
	t.Helper()
	ok, err := s.ClaimRun(ctx, name, now, every)
	if err != nil {
		t.Fatalf("ClaimRun(%s, %v, %v): %v", name, now, every, err)
	}
	return ok
}

func testClaimRun(t *testing.T, s store.Store) {
	const h = time.Hour
	steps := []struct {
		what string
		name string
		at   time.Time
		want bool
	}{
		{"never run", "prune", runBase, true},
		{"same time", "prune", runBase, false},
		{"just before the period ends", "prune", runBase.Add(h - time.Microsecond), false},
		{"another run", "other", runBase, true},
		{"the period ended", "prune", runBase.Add(h), true},
		{"within the new period", "prune", runBase.Add(h + 30*time.Minute), false},
		{"a clock behind, within a period", "prune", runBase, false},
		// The start recorded (runBase+h) is more than a period ahead.
		{"a clock far behind", "prune", runBase.Add(-time.Minute - h), true},
		{"after that", "prune", runBase.Add(-2 * time.Minute), false},
		{"the other run kept its start", "other", runBase.Add(h - time.Microsecond), false},
	}
	for _, st := range steps {
		eq(t, st.what, claimRun(t, s, st.name, st.at, h), st.want)
	}
	// The period is the caller's: a shorter one is due sooner.
	eq(t, "shorter period", claimRun(t, s, "prune", runBase, 30*time.Minute), true)

	for _, bad := range []struct {
		name  string
		every time.Duration
	}{{"", h}, {"prune", 0}, {"prune", -h}} {
		if _, err := s.ClaimRun(ctx, bad.name, runBase.Add(10*h), bad.every); err == nil {
			t.Errorf("ClaimRun(%q, %v) accepted", bad.name, bad.every)
		}
	}
	eq(t, "a refused claim records nothing", claimRun(t, s, "prune", runBase.Add(31*time.Minute), time.Minute), true)
}

// claimRounds has claimers claim one run at once, for rounds periods, and
// fails unless each period has exactly one winner.
func claimRounds(t *testing.T, claimers []store.Store, rounds, each int) {
	t.Helper()
	const every = time.Hour
	for r := range rounds {
		now := runBase.Add(time.Duration(r) * every)
		var wg sync.WaitGroup
		wins := make(chan bool, len(claimers)*each)
		errs := make(chan error, len(claimers)*each)
		for _, s := range claimers {
			for range each {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.ClaimRun(ctx, "prune", now, every)
					if err != nil {
						errs <- err
					}
					wins <- ok
				}()
			}
		}
		wg.Wait()
		close(wins)
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", r, err)
		}
		n := 0
		for ok := range wins {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d claims won, want 1", r, n)
		}
	}
}

func testClaimRunConcurrent(t *testing.T, s store.Store) {
	claimRounds(t, []store.Store{s}, 10, 8)
}

func testSharedClaimRun(t *testing.T, a, b store.Store) {
	claimRounds(t, []store.Store{a, b}, 10, 4)
}

// tombstoneFixture makes a book with a.vcf, b.vcf and c.vcf (seq 1-3),
// deletes b.vcf (seq 4), returns a time after that, and then deletes
// c.vcf (seq 5) and writes d.vcf (seq 6).
func tombstoneFixture(t *testing.T, s store.Store, login string) (*store.Collection, time.Time) {
	t.Helper()
	c := book(t, s, login, "book")
	for _, n := range []string{"a", "b", "c"} {
		put(t, s, c.ID, n+".vcf", n, n)
	}
	if err := s.DeleteObject(ctx, c.ID, "b.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	// Change times come from the driver's clock.
	time.Sleep(5 * time.Millisecond)
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	if err := s.DeleteObject(ctx, c.ID, "c.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	put(t, s, c.ID, "d.vcf", "d", "d")
	return c, cut
}

func testPruneTombstones(t *testing.T, s store.Store) {
	c, cut := tombstoneFixture(t, s, "u")
	// Another collection with an old deletion and one without any.
	o := mkColl(t, s, "u", store.KindCard, "other")
	put(t, s, o.ID, "x.vcf", "x", "x")
	if err := s.DeleteObject(ctx, o.ID, "x.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	quiet := mkColl(t, s, "u", store.KindCard, "quiet")
	put(t, s, quiet.ID, "q.vcf", "q", "q")
	put(t, s, quiet.ID, "r.vcf", "r", "r")

	n, err := s.PruneTombstones(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pruned before the cut", n, 1) // b.vcf; x.vcf is newer
	noop := func(*store.Change) error { return nil }
	for seq := int64(1); seq <= 3; seq++ {
		_, _, err := s.ChangesSince(ctx, c.ID, seq, 0, false, noop)
		wantErr(t, fmt.Sprintf("token %d, before the pruned deletion", seq), err, store.ErrInvalidSyncToken)
	}
	got, next, _ := changes(t, s, c.ID, 4, 0, false)
	eq(t, "since the pruned deletion", summary(got), "c.vcf@5- d.vcf@6")
	eq(t, "next", next, int64(6))
	got, _, _ = changes(t, s, c.ID, 0, 0, false)
	eq(t, "initial sync", summary(got), "a.vcf@1 d.vcf@6")
	got, _, _ = changes(t, s, o.ID, 1, 0, false)
	eq(t, "other collection, deletion newer than the cut", summary(got), "x.vcf@2-")
	got, _, _ = changes(t, s, quiet.ID, 1, 0, false)
	eq(t, "collection without deletions", summary(got), "r.vcf@2")

	n, err = s.PruneTombstones(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pruned again", n, 0)
	_, _, err = s.ChangesSince(ctx, c.ID, 3, 0, false, noop)
	wantErr(t, "token 3 after pruning again", err, store.ErrInvalidSyncToken)

	// Everything: tokens before the newest deletion of each collection go.
	n, err = s.PruneTombstones(ctx, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pruned all", n, 2)
	_, _, err = s.ChangesSince(ctx, c.ID, 4, 0, false, noop)
	wantErr(t, "token 4 after pruning all", err, store.ErrInvalidSyncToken)
	got, _, _ = changes(t, s, c.ID, 5, 0, false)
	eq(t, "since the last deletion", summary(got), "d.vcf@6")
	_, _, err = s.ChangesSince(ctx, o.ID, 1, 0, false, noop)
	wantErr(t, "other collection, token before its deletion", err, store.ErrInvalidSyncToken)
	got, _, _ = changes(t, s, quiet.ID, 1, 0, false)
	eq(t, "collection without deletions, after pruning all", summary(got), "r.vcf@2")
}

// session creates a session of owner expiring at exp.
func session(t *testing.T, s store.Store, id, owner string, exp time.Time, partial bool) {
	t.Helper()
	if err := s.CreateSession(ctx, &store.Session{ID: id, Owner: owner, CSRF: "c", Expires: exp, Partial: partial}); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
}

func testPruneSessions(t *testing.T, s store.Store) {
	for _, u := range []string{"alice", "bob", "carol"} {
		mkUser(t, s, u)
	}
	// Sessions live now; PruneSessions is told a later time.
	base := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
	session(t, s, "a1", "alice", base, false)
	session(t, s, "b1", "bob", base.Add(time.Hour), false)
	session(t, s, "b2", "bob", base.Add(3*time.Hour), false)
	session(t, s, "c1", "carol", base.Add(time.Minute), true)

	n, err := s.PruneSessions(ctx, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pruned", n, 3) // a1, b1 (expiring exactly then) and c1
	for _, id := range []string{"a1", "b1", "c1"} {
		_, err := s.GetSession(ctx, id)
		wantErr(t, "pruned session "+id, err, store.ErrNotFound)
	}
	if _, err := s.GetSession(ctx, "b2"); err != nil {
		t.Fatalf("live session: %v", err)
	}
	n, err = s.PruneSessions(ctx, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pruned again", n, 0)
}

// What one process prunes or claims, the other sees.
func testSharedPrune(t *testing.T, a, b store.Store) {
	c, cut := tombstoneFixture(t, a, "u")
	exp := time.Now().Add(time.Hour)
	session(t, a, "s1", "u", exp, false)
	if n, err := b.PruneTombstones(ctx, cut); err != nil || n != 1 {
		t.Fatalf("PruneTombstones through b: %d, %v", n, err)
	}
	_, _, err := a.ChangesSince(ctx, c.ID, 3, 0, false, func(*store.Change) error { return nil })
	wantErr(t, "a's old token after b pruned", err, store.ErrInvalidSyncToken)
	if n, err := b.PruneSessions(ctx, exp); err != nil || n != 1 {
		t.Fatalf("PruneSessions through b: %d, %v", n, err)
	}
	_, err = a.GetSession(ctx, "s1")
	wantErr(t, "session pruned through b", err, store.ErrNotFound)
	eq(t, "claim through a", claimRun(t, a, "prune", runBase, time.Hour), true)
	eq(t, "claim through b", claimRun(t, b, "prune", runBase.Add(time.Minute), time.Hour), false)
}
