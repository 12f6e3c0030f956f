package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- security mails ------------------------------------------------------

var noticeBase = time.Date(2026, 12, 5, 14, 3, 0, 0, time.UTC)

const noticeLease = 2 * time.Minute

func notice(login, kind string, at time.Time) *store.Notice {
	return &store.Notice{Login: login, Kind: kind, To: login, Language: "de", Time: at,
		Addr: "192.0.2.7", Client: "DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14", Detail: "3"}
}

func queue(t *testing.T, s store.Store, n *store.Notice, per time.Duration) bool {
	t.Helper()
	ok, err := s.QueueNotice(ctx, n, per)
	if err != nil {
		t.Fatalf("QueueNotice(%s %s at %v): %v", n.Login, n.Kind, n.Time, err)
	}
	if ok && n.ID == 0 {
		t.Fatalf("QueueNotice(%s %s): queued without an ID", n.Login, n.Kind)
	}
	return ok
}

func claim(t *testing.T, s store.Store, now time.Time, limit int) []store.Notice {
	t.Helper()
	list, err := s.ClaimNotices(ctx, now, noticeLease, limit)
	if err != nil {
		t.Fatalf("ClaimNotices(%v): %v", now, err)
	}
	return list
}

func noticeIDs(list []store.Notice) []int64 {
	ids := []int64{}
	for _, n := range list {
		ids = append(ids, n.ID)
	}
	return ids
}

func listNotices(t *testing.T, s store.Store, login string) []store.Notice {
	t.Helper()
	list, err := s.ListNotices(ctx, login, 0)
	if err != nil {
		t.Fatalf("ListNotices(%s): %v", login, err)
	}
	return list
}

func getNotice(t *testing.T, s store.Store, login string, id int64) store.Notice {
	t.Helper()
	for _, n := range listNotices(t, s, login) {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("notice %d of %s not listed", id, login)
	return store.Notice{}
}

// testNotices: a notice reads back as queued; the rate limit counts every
// notice of the kind, in any state, within the period before.
func testNotices(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	mkUser(t, s, "b@example.com")
	for _, bad := range []*store.Notice{
		{Kind: store.NoticePassword, To: "x@example.com", Time: noticeBase},
		{Login: "a@example.com", To: "a@example.com", Time: noticeBase},
		{Login: "a@example.com", Kind: store.NoticePassword, Time: noticeBase},
		{Login: "a@example.com", Kind: store.NoticePassword, To: "a@example.com"},
	} {
		if ok, err := s.QueueNotice(ctx, bad, time.Hour); err == nil || ok {
			t.Fatalf("QueueNotice(%+v) = %v, %v; want an error", bad, ok, err)
		}
	}
	_, err := s.QueueNotice(ctx, notice("ghost@example.com", store.NoticePassword, noticeBase), time.Hour)
	wantErr(t, "QueueNotice for an unknown user", err, store.ErrNotFound)
	if _, err := s.QueueNotice(ctx, notice("a@example.com", store.NoticePassword, noticeBase), store.NoticeRetention+time.Second); err == nil {
		t.Fatal("QueueNotice with a period longer than the retention: no error")
	}
	eq(t, "notices after refusals", len(listNotices(t, s, "a@example.com")), 0)

	first := notice("a@example.com", store.NoticeFailedSignIns, noticeBase)
	first.Attempts, first.LastError, first.Sent = 7, "ignored", noticeBase // a new notice is pending
	if !queue(t, s, first, time.Hour) {
		t.Fatal("first notice not queued")
	}
	got := getNotice(t, s, "a@example.com", first.ID)
	want := *notice("a@example.com", store.NoticeFailedSignIns, noticeBase)
	want.ID = first.ID
	if got != want || !got.Pending() {
		t.Fatalf("notice read back:\n got %+v\nwant %+v", got, want)
	}
	eq(t, "queued notice's fields reset", []any{first.Attempts, first.LastError, first.Sent.IsZero()}, []any{0, "", true})

	// Ten more within the hour: none queued.
	for i := 1; i <= 10; i++ {
		if queue(t, s, notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(time.Duration(i)*5*time.Minute+time.Duration(i))), time.Hour) {
			t.Fatalf("notice %d within the hour queued", i)
		}
	}
	if queue(t, s, notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(time.Hour-time.Microsecond)), time.Hour) {
		t.Fatal("notice just within the hour queued")
	}
	// Out of order: a notice earlier than one kept, within the period, is
	// not queued either.
	if queue(t, s, notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(-time.Minute)), time.Hour) {
		t.Fatal("earlier notice queued")
	}
	eq(t, "rows after eleven in the hour", len(listNotices(t, s, "a@example.com")), 1)

	// Other kinds and other users have their own limits; period 0 has none.
	if !queue(t, s, notice("a@example.com", store.NoticeNewSignIn, noticeBase.Add(time.Minute)), time.Hour) {
		t.Fatal("another kind not queued")
	}
	if !queue(t, s, notice("b@example.com", store.NoticeFailedSignIns, noticeBase.Add(time.Minute)), time.Hour) {
		t.Fatal("another user not queued")
	}
	if !queue(t, s, notice("b@example.com", store.NoticeFailedSignIns, noticeBase.Add(2*time.Minute)), 0) {
		t.Fatal("period 0: not queued")
	}

	// Sent or given up, a notice still counts.
	if err := s.FinishNotice(ctx, first.ID, time.Time{}, noticeBase.Add(time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	if queue(t, s, notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(30*time.Minute)), time.Hour) {
		t.Fatal("notice queued within the hour of a sent one")
	}
	// A period after the last, the next is queued.
	next := notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(time.Hour))
	if !queue(t, s, next, time.Hour) {
		t.Fatal("notice an hour later not queued")
	}
	if err := s.FinishNotice(ctx, next.ID, time.Time{}, noticeBase.Add(time.Hour), "no relay"); err != nil {
		t.Fatal(err)
	}
	if queue(t, s, notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(90*time.Minute)), time.Hour) {
		t.Fatal("notice queued within the hour of a given-up one")
	}

	list := listNotices(t, s, "a@example.com")
	var kinds []string
	for _, n := range list {
		kinds = append(kinds, fmt.Sprintf("%s@%v", n.Kind, n.Time.Sub(noticeBase)))
	}
	eq(t, "ListNotices newest first", kinds, []string{"failed-sign-ins@1h0m0s", "new-sign-in@1m0s", "failed-sign-ins@0s"})
	limited, err := s.ListNotices(ctx, "a@example.com", 2)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListNotices limit", noticeIDs(limited), noticeIDs(list[:2]))
	eq(t, "ListNotices of another user", len(listNotices(t, s, "b@example.com")), 2)
}

// testNoticeClaims: a claim takes due notices, oldest first, and leases
// them; Finish and Retry end the lease.
func testNoticeClaims(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	var ids []int64
	for i, k := range []string{store.NoticeNewSignIn, store.NoticeFailedSignIns, store.NoticePassword, store.NoticeTwoFactor} {
		n := notice("a@example.com", k, noticeBase.Add(time.Duration(i)*time.Second))
		n.NotBefore = noticeBase.Add(time.Duration(3-i) * time.Second) // due in the reverse order
		queue(t, s, n, time.Hour)
		ids = append(ids, n.ID)
	}
	later := notice("a@example.com", store.NoticeAppPassword, noticeBase)
	later.NotBefore = noticeBase.Add(time.Hour)
	queue(t, s, later, time.Hour)

	if _, err := s.ClaimNotices(ctx, noticeBase, noticeLease, 0); err == nil {
		t.Fatal("ClaimNotices with limit 0: no error")
	}
	now := noticeBase.Add(10 * time.Second)
	c1 := claim(t, s, now, 2)
	eq(t, "first claim: due first", noticeIDs(c1), []int64{ids[3], ids[2]})
	eq(t, "claimed notice", c1[0].Kind, store.NoticeTwoFactor)
	if !c1[0].NotBefore.Equal(noticeBase) {
		t.Fatalf("claimed notice's NotBefore %v, want %v", c1[0].NotBefore, noticeBase)
	}
	lease := now.Add(noticeLease) // every claim's at now
	for _, n := range c1 {
		if !n.Lease.Equal(lease) {
			t.Fatalf("claimed notice's Lease %v, want %v", n.Lease, lease)
		}
	}
	eq(t, "second claim: the rest due", noticeIDs(claim(t, s, now, 10)), []int64{ids[1], ids[0]})
	eq(t, "third claim: all leased", noticeIDs(claim(t, s, now.Add(noticeLease-time.Microsecond), 10)), []int64{})

	// A retried notice is due again at its new time, unleased.
	if err := s.RetryNotice(ctx, ids[3], lease, now.Add(time.Minute), "451 try later"); err != nil {
		t.Fatal(err)
	}
	r := getNotice(t, s, "a@example.com", ids[3])
	if r.Attempts != 1 || r.LastError != "451 try later" || !r.NotBefore.Equal(now.Add(time.Minute)) || !r.Pending() {
		t.Fatalf("after RetryNotice: %+v", r)
	}
	eq(t, "claim before the retry is due", noticeIDs(claim(t, s, now.Add(time.Minute-time.Microsecond), 10)), []int64{})
	again := claim(t, s, now.Add(time.Minute), 10)
	eq(t, "claim when the retry is due", noticeIDs(again), []int64{ids[3]})
	if err := s.RetryNotice(ctx, ids[3], again[0].Lease, time.Time{}, "452 again"); err != nil {
		t.Fatal(err)
	}
	eq(t, "attempts counted", getNotice(t, s, "a@example.com", ids[3]).Attempts, 2)

	// Finished notices are never claimed again; the others come back when
	// their lease runs out (their claimer died).
	if err := s.FinishNotice(ctx, ids[2], lease, now, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishNotice(ctx, ids[1], lease, now, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	rest := claim(t, s, now.Add(noticeLease), 10)
	eq(t, "claim after the leases ran out", noticeIDs(rest), []int64{ids[3], ids[0]})
	for _, n := range rest {
		if err := s.FinishNotice(ctx, n.ID, n.Lease, now, ""); err != nil {
			t.Fatal(err)
		}
	}
	eq(t, "claim of the later one", noticeIDs(claim(t, s, noticeBase.Add(time.Hour), 10)), []int64{later.ID})
}

// testNoticeLease: once a lease ran out and another caller claimed the
// notice, the first claimer's outcome is refused (ErrPrecondition) and
// changes nothing: a stalled sender neither counts an attempt twice nor
// ends the other's claim.
func testNoticeLease(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	n := notice("a@example.com", store.NoticePassword, noticeBase)
	queue(t, s, n, 0)
	first := claim(t, s, noticeBase, 1)
	eq(t, "first claim", noticeIDs(first), []int64{n.ID})
	second := claim(t, s, noticeBase.Add(noticeLease), 1)
	eq(t, "claim after the lease ran out", noticeIDs(second), []int64{n.ID})
	if !second[0].Lease.After(first[0].Lease) {
		t.Fatalf("second lease %v not after the first %v", second[0].Lease, first[0].Lease)
	}

	stale := first[0].Lease
	for what, err := range map[string]error{
		"RetryNotice with the lost lease":  s.RetryNotice(ctx, n.ID, stale, noticeBase.Add(time.Hour), "timeout"),
		"FinishNotice with the lost lease": s.FinishNotice(ctx, n.ID, stale, noticeBase.Add(time.Minute), "550 given up"),
		"FinishNotice with no lease":       s.FinishNotice(ctx, n.ID, time.Time{}, noticeBase.Add(time.Minute), ""),
		"RetryNotice with no lease":        s.RetryNotice(ctx, n.ID, time.Time{}, noticeBase.Add(time.Hour), "timeout"),
	} {
		wantErr(t, what, err, store.ErrPrecondition)
	}
	got := getNotice(t, s, "a@example.com", n.ID)
	if !got.Pending() || got.Attempts != 0 || got.LastError != "" || !got.Lease.Equal(second[0].Lease) {
		t.Fatalf("after the lost claim's outcomes: %+v", got)
	}
	eq(t, "claim while the second lease holds", noticeIDs(claim(t, s, noticeBase.Add(noticeLease+time.Second), 1)), []int64{})

	// The holder's outcome counts, once; the lost claim's then changes
	// nothing and is no error (the notice is finished).
	if err := s.FinishNotice(ctx, n.ID, second[0].Lease, noticeBase.Add(noticeLease+time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryNotice(ctx, n.ID, stale, noticeBase.Add(time.Hour), "timeout"); err != nil {
		t.Fatalf("RetryNotice of a finished notice with a lost lease: %v", err)
	}
	got = getNotice(t, s, "a@example.com", n.ID)
	if got.Pending() || !got.Sent.Equal(noticeBase.Add(noticeLease+time.Second)) || got.Attempts != 0 || !got.Lease.IsZero() {
		t.Fatalf("after the holder finished it: %+v", got)
	}
}

// testNoticeFinish: the first outcome stays; unknown IDs are ErrNotFound.
func testNoticeFinish(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	sent := notice("a@example.com", store.NoticePassword, noticeBase)
	queue(t, s, sent, 0)
	failed := notice("a@example.com", store.NoticeTwoFactor, noticeBase)
	queue(t, s, failed, 0)
	if err := s.RetryNotice(ctx, sent.ID, time.Time{}, noticeBase.Add(time.Minute), "451 greylisted"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishNotice(ctx, sent.ID, time.Time{}, noticeBase.Add(2*time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishNotice(ctx, failed.ID, time.Time{}, noticeBase.Add(3*time.Minute), "550 no such user"); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		n := getNotice(t, s, "a@example.com", sent.ID)
		if !n.Sent.Equal(noticeBase.Add(2*time.Minute)) || !n.GaveUp.IsZero() || n.LastError != "451 greylisted" || n.Attempts != 1 || n.Pending() {
			t.Fatalf("%s: sent notice %+v", what, n)
		}
		n = getNotice(t, s, "a@example.com", failed.ID)
		if !n.GaveUp.Equal(noticeBase.Add(3*time.Minute)) || !n.Sent.IsZero() || n.LastError != "550 no such user" || n.Pending() {
			t.Fatalf("%s: given-up notice %+v", what, n)
		}
	}
	check("finished")
	// Finishing or retrying again changes nothing.
	for _, id := range []int64{sent.ID, failed.ID} {
		if err := s.FinishNotice(ctx, id, time.Time{}, noticeBase.Add(time.Hour), "late failure"); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishNotice(ctx, id, noticeBase, noticeBase.Add(time.Hour), ""); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryNotice(ctx, id, time.Time{}, noticeBase.Add(time.Hour), "late retry"); err != nil {
			t.Fatal(err)
		}
	}
	check("finished twice")
	eq(t, "claim of finished notices", noticeIDs(claim(t, s, noticeBase.Add(time.Hour), 10)), []int64{})

	wantErr(t, "FinishNotice unknown", s.FinishNotice(ctx, failed.ID+100, time.Time{}, noticeBase, ""), store.ErrNotFound)
	wantErr(t, "RetryNotice unknown", s.RetryNotice(ctx, failed.ID+100, time.Time{}, noticeBase, "x"), store.ErrNotFound)

	// The notices go with their user.
	if err := s.DeleteUser(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	eq(t, "notices of a deleted user", len(listNotices(t, s, "a@example.com")), 0)
	wantErr(t, "FinishNotice of a deleted user's notice", s.FinishNotice(ctx, sent.ID, time.Time{}, noticeBase, ""), store.ErrNotFound)
}

// testNoticePrune: a claim deletes finished notices older than the
// retention, and only those.
func testNoticePrune(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	var old, oldPending, recent store.Notice
	for _, n := range []struct {
		p      *store.Notice
		kind   string
		at     time.Time
		finish bool
	}{
		{&old, store.NoticePassword, noticeBase, true},
		{&oldPending, store.NoticeTwoFactor, noticeBase, false},
		{&recent, store.NoticeAppPassword, noticeBase.Add(time.Hour), true},
	} {
		*n.p = *notice("a@example.com", n.kind, n.at)
		queue(t, s, n.p, time.Hour)
		if n.finish {
			if err := s.FinishNotice(ctx, n.p.ID, time.Time{}, n.at, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := noticeBase.Add(store.NoticeRetention)
	eq(t, "claim at the retention's end", noticeIDs(claim(t, s, now, 10)), []int64{oldPending.ID})
	eq(t, "kept at the retention's end", len(listNotices(t, s, "a@example.com")), 3)
	if err := s.RetryNotice(ctx, oldPending.ID, now.Add(noticeLease), time.Time{}, "451"); err != nil {
		t.Fatal(err)
	}
	eq(t, "claim after the retention", noticeIDs(claim(t, s, now.Add(time.Microsecond), 10)), []int64{oldPending.ID})
	eq(t, "kept after the retention", noticeIDs(listNotices(t, s, "a@example.com")), []int64{recent.ID, oldPending.ID})
	// With the old one gone, the rate limit no longer sees it.
	if !queue(t, s, notice("a@example.com", store.NoticePassword, noticeBase.Add(time.Minute)), time.Hour) {
		t.Fatal("the deleted notice still counts")
	}
}

// testNoticesConcurrent: notices queued at once make one row; claims at
// once take each notice once.
func testNoticesConcurrent(t *testing.T, s store.Store) {
	mkUser(t, s, "a@example.com")
	const workers = 8
	var wg sync.WaitGroup
	results := make(chan bool, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.QueueNotice(ctx, notice("a@example.com", store.NoticeFailedSignIns, noticeBase.Add(time.Duration(i)*time.Second)), time.Hour)
			if err != nil {
				t.Error(err)
			}
			results <- ok
		}()
	}
	wg.Wait()
	close(results)
	queued := 0
	for ok := range results {
		if ok {
			queued++
		}
	}
	eq(t, "queued at once", queued, 1)
	eq(t, "rows queued at once", len(listNotices(t, s, "a@example.com")), 1)

	const total = 40
	for i := range total {
		queue(t, s, notice("a@example.com", fmt.Sprintf("kind-%d", i), noticeBase), time.Hour)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range total { // bounded: a store that never leases would loop
				list, err := s.ClaimNotices(ctx, noticeBase.Add(time.Minute), noticeLease, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(list) == 0 {
					return
				}
				mu.Lock()
				for _, n := range list {
					seen[n.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	eq(t, "notices claimed", len(seen), total+1)
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("notice %d claimed %d times", id, n)
		}
	}
}
