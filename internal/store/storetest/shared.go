package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- accounts written at once through two processes ----------------------

// atOnce runs fn(i, s) for i in [0, n), each in a goroutine, alternately
// through a and b, all released at the same moment, and waits for them.
func atOnce(n int, a, b store.Store, fn func(i int, s store.Store)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i, s)
		}()
	}
	close(start)
	wg.Wait()
}

// The first sign-ins of a user, from one new address and device, made at
// once through both processes: one of them is the first, and one is new.
func testSharedFirstSignIn(t *testing.T, a, b store.Store) {
	const rounds, n = 10, 8
	for r := range rounds {
		login := fmt.Sprint("user", r)
		mkUser(t, a, login)
		got := make([]*store.SignIn, n)
		errs := make([]error, n)
		atOnce(n, a, b, func(i int, s store.Store) {
			e := &store.SignIn{Login: login, OK: true, Via: "web", Credential: "password",
				Addr: "192.0.2.1", Network: "net", Client: "Firefox"}
			errs[i], got[i] = s.RecordSignIn(ctx, e, 0, 0), e
		})
		first, newAddr, newDev := 0, 0, 0
		for i, e := range got {
			if errs[i] != nil {
				t.Fatalf("round %d: RecordSignIn: %v", r, errs[i])
			}
			first += count(e.First)
			newAddr += count(e.NewAddress)
			newDev += count(e.NewDevice)
		}
		if first != 1 || newAddr != 1 || newDev != 1 {
			t.Fatalf("round %d: %d first sign-ins, %d new addresses, %d new devices; want 1 each", r, first, newAddr, newDev)
		}
	}
}

// A confirmation of the pending secret and its replacement, at once
// through both processes: one of them wins, as if they ran one after the
// other, and User.TwoFactor is on exactly when a confirmed secret is kept.
func testSharedTwoFactor(t *testing.T, a, b store.Store) {
	const rounds = 50
	for r := range rounds {
		login := fmt.Sprint("user", r)
		mkUser(t, a, login)
		if err := a.SetPendingTOTP(ctx, login, "FIRST"); err != nil {
			t.Fatal(err)
		}
		var enableErr, replaceErr error
		atOnce(2, a, b, func(i int, s store.Store) {
			if i == 0 {
				enableErr = s.EnableTwoFactor(ctx, login, "FIRST", 1, digests(login, 2))
			} else {
				replaceErr = s.SetPendingTOTP(ctx, login, "SECOND")
			}
		})
		switch {
		case enableErr == nil && errors.Is(replaceErr, store.ErrExists):
		case replaceErr == nil && errors.Is(enableErr, store.ErrPrecondition):
		default:
			t.Fatalf("round %d: enable: %v, replace: %v; want one of them refused", r, enableErr, replaceErr)
		}
		u, err := b.GetUser(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		k, err := b.GetTOTP(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if u.TwoFactor != !k.Pending || u.TwoFactor != (enableErr == nil) {
			t.Fatalf("round %d: two-factor %v with a secret pending %v (enable: %v)", r, u.TwoFactor, k.Pending, enableErr)
		}
	}
}

// Notices of one kind queued at once through both processes, within the
// rate-limit period: one is queued.
func testSharedNotices(t *testing.T, a, b store.Store) {
	const rounds, n = 10, 8
	mkUser(t, a, "a@example.com")
	for r := range rounds {
		kind := fmt.Sprint("kind-", r)
		queued := make([]bool, n)
		errs := make([]error, n)
		atOnce(n, a, b, func(i int, s store.Store) {
			queued[i], errs[i] = s.QueueNotice(ctx, notice("a@example.com", kind, noticeBase.Add(time.Duration(i)*time.Second)), time.Hour)
		})
		k := 0
		for i, ok := range queued {
			if errs[i] != nil {
				t.Fatalf("round %d: QueueNotice: %v", r, errs[i])
			}
			k += count(ok)
		}
		eq(t, fmt.Sprintf("round %d: queued at once", r), k, 1)
	}
	eq(t, "rows", len(listNotices(t, a, "a@example.com")), rounds)
}

// Writes and deletions through one process while the other prunes every
// tombstone over and over and a client syncs incrementally through it:
// the client, restarting from scratch whenever its token is refused, ends
// up with exactly the objects there are.
func testSharedPruneWhileWriting(t *testing.T, a, b store.Store) {
	c := book(t, a, "u", "book")
	const writers, each = 2, 100
	future := time.Now().Add(time.Hour) // every tombstone is old enough
	token, view := int64(0), map[string]string{}
	resync := func() error {
		for {
			next, _, err := b.ChangesSince(ctx, c.ID, token, 0, false, func(ch *store.Change) error {
				if ch.Deleted {
					delete(view, ch.Name)
				} else {
					view[ch.Name] = ch.Object.ETag
				}
				return nil
			})
			if errors.Is(err, store.ErrInvalidSyncToken) {
				token, view = 0, map[string]string{}
				continue
			}
			if err == nil {
				token = next
			}
			return err
		}
	}
	done := make(chan struct{})
	errs := make(chan error, writers+2)
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { // pruning
		defer bg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := b.PruneTombstones(ctx, future); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // the client
		defer bg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := resync(); err != nil {
				errs <- err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Each name once: a deletion missed stays missed.
				uid := fmt.Sprintf("w%d-%d", w, i)
				name := uid + ".vcf"
				_, _, err := a.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: uid, Data: vcard(uid, uid)}, store.Conditions{})
				if err == nil && i%2 == 1 {
					err = a.DeleteObject(ctx, c.ID, name, store.Conditions{})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	bg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := resync(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	got, _, _ := changes(t, a, c.ID, 0, 0, false)
	for _, ch := range got {
		want[ch.Name] = ch.Object.ETag
	}
	eq(t, "the client's objects", view, want)
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
