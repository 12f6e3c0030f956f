package storetest

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- sign-in failure counters --------------------------------------------

var failBase = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	failWindow  = 15 * time.Minute
	failLockFor = 10 * time.Minute
)

func addFailure(t *testing.T, s store.Store, key string, now time.Time, lockAt int) store.FailureCount {
	t.Helper()
	c, err := s.AddSignInFailure(ctx, key, now, failWindow, lockAt, failLockFor)
	if err != nil {
		t.Fatalf("AddSignInFailure(%s): %v", key, err)
	}
	return c
}

// failures returns the live records of keys at now, by key.
func failures(t *testing.T, s store.Store, now time.Time, keys ...string) map[string]store.FailureCount {
	t.Helper()
	list, err := s.SignInFailures(ctx, keys, now)
	if err != nil {
		t.Fatalf("SignInFailures(%v): %v", keys, err)
	}
	out := map[string]store.FailureCount{}
	for _, c := range list {
		if _, dup := out[c.Key]; dup {
			t.Fatalf("SignInFailures: %s returned twice", c.Key)
		}
		out[c.Key] = c
	}
	return out
}

// sameCount compares a record, times with Equal.
func sameCount(t *testing.T, what string, got store.FailureCount, key string, n int, start, locked time.Time) {
	t.Helper()
	if got.Key != key || got.Failures != n || !got.Start.Equal(start) || !got.LockedUntil.Equal(locked) {
		t.Fatalf("%s: got %+v, want key %s, %d failures since %v, locked until %v", what, got, key, n, start, locked)
	}
}

func testSignInFailures(t *testing.T, s store.Store) {
	if got := failures(t, s, failBase, "addr:a", "login:x"); len(got) != 0 {
		t.Fatalf("empty store: %v", got)
	}
	if got := failures(t, s, failBase); len(got) != 0 {
		t.Fatalf("no keys: %v", got)
	}
	sameCount(t, "first", addFailure(t, s, "addr:a", failBase, 0), "addr:a", 1, failBase, time.Time{})
	sameCount(t, "second", addFailure(t, s, "addr:a", failBase.Add(time.Minute), 0), "addr:a", 2, failBase, time.Time{})
	addFailure(t, s, "login:x", failBase.Add(2*time.Minute), 0)

	got := failures(t, s, failBase.Add(3*time.Minute), "addr:a", "login:x", "addr:other")
	eq(t, "records read", len(got), 2)
	sameCount(t, "addr:a read", got["addr:a"], "addr:a", 2, failBase, time.Time{})
	sameCount(t, "login:x read", got["login:x"], "login:x", 1, failBase.Add(2*time.Minute), time.Time{})
	eq(t, "one key", len(failures(t, s, failBase, "login:x")), 1)

	if err := s.ClearSignInFailures(ctx, []string{"addr:a", "addr:unknown"}); err != nil {
		t.Fatal(err)
	}
	got = failures(t, s, failBase.Add(3*time.Minute), "addr:a", "login:x")
	eq(t, "after clear", len(got), 1)
	sameCount(t, "other key kept", got["login:x"], "login:x", 1, failBase.Add(2*time.Minute), time.Time{})
	if err := s.ClearSignInFailures(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A cleared counter starts afresh.
	sameCount(t, "after clear", addFailure(t, s, "addr:a", failBase.Add(4*time.Minute), 0), "addr:a", 1, failBase.Add(4*time.Minute), time.Time{})
}

func testSignInFailureWindow(t *testing.T, s store.Store) {
	for i := range 3 {
		addFailure(t, s, "k", failBase.Add(time.Duration(i)*time.Minute), 5)
	}
	// The window runs from the first failure, not the last.
	end := failBase.Add(failWindow)
	sameCount(t, "just before the end", failures(t, s, end.Add(-time.Microsecond), "k")["k"], "k", 3, failBase, time.Time{})
	eq(t, "at the end", len(failures(t, s, end, "k")), 0)
	// A failure after the window starts a new one: the old ones are gone.
	sameCount(t, "new window", addFailure(t, s, "k", end, 5), "k", 1, end, time.Time{})
	sameCount(t, "read", failures(t, s, end.Add(time.Minute), "k")["k"], "k", 1, end, time.Time{})
}

func testSignInFailureLock(t *testing.T, s store.Store) {
	var c store.FailureCount
	for i := range 3 {
		c = addFailure(t, s, "k", failBase.Add(time.Duration(i)*time.Minute), 3)
	}
	lockedAt := failBase.Add(2 * time.Minute)
	until := lockedAt.Add(failLockFor)
	sameCount(t, "locked at lockAt", c, "k", 3, failBase, until)
	// Further failures count but do not extend the lock.
	sameCount(t, "while locked", addFailure(t, s, "k", lockedAt.Add(time.Minute), 3), "k", 4, failBase, until)
	sameCount(t, "read while locked", failures(t, s, until.Add(-time.Microsecond), "k")["k"], "k", 4, failBase, until)

	// A lock outlasting the window keeps the record live until it ends.
	long := func(key string, now time.Time) store.FailureCount {
		t.Helper()
		c, err := s.AddSignInFailure(ctx, key, now, time.Minute, 1, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sameCount(t, "locked at once", long("long", failBase), "long", 1, failBase, failBase.Add(time.Hour))
	eq(t, "live after the window", len(failures(t, s, failBase.Add(59*time.Minute), "long")), 1)

	// When the lock ends, the record goes, failures and all.
	eq(t, "lock over", len(failures(t, s, until, "k")), 0)
	sameCount(t, "after the lock", addFailure(t, s, "k", until, 3), "k", 1, until, time.Time{})

	// lockAt 0 never locks.
	for i := range 20 {
		c = addFailure(t, s, "never", failBase.Add(time.Duration(i)*time.Second), 0)
	}
	sameCount(t, "lockAt 0", c, "never", 20, failBase, time.Time{})

	// Clearing lifts a lock.
	long("cleared", failBase)
	if err := s.ClearSignInFailures(ctx, []string{"cleared"}); err != nil {
		t.Fatal(err)
	}
	eq(t, "lock cleared", len(failures(t, s, failBase, "cleared")), 0)
}

// testSignInFailurePrune checks that expired records neither count nor
// pile up: adding failures for fresh keys, long after older ones expired,
// leaves the old ones unreadable and the new ones intact.
func testSignInFailurePrune(t *testing.T, s store.Store) {
	var old []string
	for i := range 50 {
		k := fmt.Sprint("old", i)
		old = append(old, k)
		addFailure(t, s, k, failBase, 0)
	}
	later := failBase.Add(failWindow + time.Hour)
	var fresh []string
	for i := range 50 {
		k := fmt.Sprint("new", i)
		fresh = append(fresh, k)
		addFailure(t, s, k, later, 0)
	}
	// The reads are at failBase, when the old records were live: only
	// those not pruned remain. Each write may prune a few, so 50 writes
	// pruned some; every record is either gone or intact.
	got := failures(t, s, failBase, old...)
	if len(got) == len(old) {
		t.Errorf("no expired record pruned by 50 writes")
	}
	for k, c := range got {
		sameCount(t, "unpruned "+k, c, k, 1, failBase, time.Time{})
	}
	eq(t, "fresh records", len(failures(t, s, later, fresh...)), 50)
	eq(t, "expired at later", len(failures(t, s, later, old...)), 0)
}

func testSignInFailuresConcurrent(t *testing.T, s store.Store) {
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	seen := make(chan int, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// The lock is set once, by whichever increment reaches 50.
				c, err := s.AddSignInFailure(ctx, "shared", failBase.Add(time.Duration(w*each+i)*time.Millisecond), failWindow, 50, failLockFor)
				if err != nil {
					errs <- err
					return
				}
				seen <- c.Failures
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(seen)
	for err := range errs {
		t.Fatalf("AddSignInFailure: %v", err)
	}
	// Every increment saw a distinct count: none was lost or doubled.
	var counts []int
	for n := range seen {
		counts = append(counts, n)
	}
	sort.Ints(counts)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts returned %v, want 1..%d", counts, workers*each)
		}
	}
	c := failures(t, s, failBase.Add(time.Second), "shared")["shared"]
	eq(t, "total", c.Failures, workers*each)
	if c.LockedUntil.IsZero() {
		t.Fatal("not locked after 80 failures with lockAt 50")
	}
}

func takeBack(t *testing.T, s store.Store, key string, start time.Time, lockAt int) {
	t.Helper()
	if err := s.TakeBackSignInFailure(ctx, key, start, failWindow, lockAt); err != nil {
		t.Fatalf("TakeBackSignInFailure(%s): %v", key, err)
	}
}

func testSignInFailureTakeBack(t *testing.T, s store.Store) {
	for i := range 3 {
		addFailure(t, s, "k", failBase.Add(time.Duration(i)*time.Minute), 3)
	}
	// The third failure locked the counter; taking it back lifts the
	// lock, and the record expires with its window again.
	takeBack(t, s, "k", failBase, 3)
	end := failBase.Add(failWindow)
	sameCount(t, "taken back", failures(t, s, failBase.Add(3*time.Minute), "k")["k"], "k", 2, failBase, time.Time{})
	eq(t, "at the end of the window", len(failures(t, s, end, "k")), 0)
	// Another record's start leaves it as it is.
	takeBack(t, s, "k", failBase.Add(time.Minute), 3)
	sameCount(t, "other start", failures(t, s, failBase.Add(3*time.Minute), "k")["k"], "k", 2, failBase, time.Time{})
	// Without failures left the record is gone; more taking back does
	// nothing, and the next failure starts afresh.
	takeBack(t, s, "k", failBase, 3)
	takeBack(t, s, "k", failBase, 3)
	eq(t, "all taken back", len(failures(t, s, failBase.Add(3*time.Minute), "k")), 0)
	takeBack(t, s, "k", failBase, 3)
	sameCount(t, "afresh", addFailure(t, s, "k", failBase.Add(4*time.Minute), 3), "k", 1, failBase.Add(4*time.Minute), time.Time{})
	takeBack(t, s, "none", failBase, 3)
	eq(t, "no record", len(failures(t, s, failBase, "none")), 0)

	// A lock that lockAt failures still hold stays.
	var c store.FailureCount
	for i := range 4 {
		c = addFailure(t, s, "held", failBase.Add(time.Duration(i)*time.Minute), 3)
	}
	takeBack(t, s, "held", failBase, 3)
	sameCount(t, "still locked", failures(t, s, failBase.Add(4*time.Minute), "held")["held"], "held", 3, failBase, c.LockedUntil)

	// A record cleared and counted afresh is not the one taken back from.
	addFailure(t, s, "cleared", failBase, 3)
	if err := s.ClearSignInFailures(ctx, []string{"cleared"}); err != nil {
		t.Fatal(err)
	}
	addFailure(t, s, "cleared", failBase.Add(time.Minute), 3)
	takeBack(t, s, "cleared", failBase, 3)
	sameCount(t, "new record kept", failures(t, s, failBase.Add(2*time.Minute), "cleared")["cleared"], "cleared", 1, failBase.Add(time.Minute), time.Time{})
}

// testSignInFailureTakeBackConcurrent counts and takes back failures at
// once from many workers around a lock threshold: none is lost, so the
// record ends as it began, its lock lifted.
func testSignInFailureTakeBackConcurrent(t *testing.T, s store.Store) {
	const workers, each, lockAt = 8, 10, 5
	for i := range 3 {
		addFailure(t, s, "shared", failBase.Add(time.Duration(i)*time.Millisecond), lockAt)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				now := failBase.Add(time.Second + time.Duration(w*each+i)*time.Millisecond)
				c, err := s.AddSignInFailure(ctx, "shared", now, failWindow, lockAt, failLockFor)
				if err == nil {
					err = s.TakeBackSignInFailure(ctx, "shared", c.Start, failWindow, lockAt)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("counting and taking back: %v", err)
	}
	sameCount(t, "after", failures(t, s, failBase.Add(2*time.Second), "shared")["shared"], "shared", 3, failBase, time.Time{})
	eq(t, "at the end of the window", len(failures(t, s, failBase.Add(failWindow), "shared")), 0)
}
