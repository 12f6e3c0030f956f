package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// hugeCard is a card of one person with phones phone numbers.
func hugeCard(uid string, phones int) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Hugo Huge\r\nN:Huge;Hugo;;;\r\n")
	for i := range phones {
		fmt.Fprintf(&b, "TEL;TYPE=CELL:+49 30 %07d\r\n", i)
	}
	b.WriteString("END:VCARD\r\n")
	return b.String()
}

// hugeBook is a server whose user has two cards of the same person with
// phones phone numbers each, and a session cookie for it.
func hugeBook(tb testing.TB, phones int) (*Server, store.Store, *store.Collection, string, string) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "rolodav.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.CreateUser(ctx, &store.User{Login: testLogin, PasswordHash: "x"}); err != nil {
		tb.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, testLogin); err != nil {
		tb.Fatal(err)
	}
	coll, err := st.GetCollection(ctx, testLogin, store.KindCard, accounts.DefaultBook)
	if err != nil {
		tb.Fatal(err)
	}
	for _, uid := range []string{"huge-a", "huge-b"} {
		o := &store.Object{Collection: coll.ID, Name: uid + ".vcf", UID: uid, Data: []byte(hugeCard(uid, phones))}
		if _, _, err := st.PutObject(ctx, o, store.Conditions{}); err != nil {
			tb.Fatal(err)
		}
	}
	cookie, csrf := randomToken(), randomToken()
	now := time.Now()
	if err := st.CreateSession(ctx, &store.Session{ID: sessionID(cookie), Owner: testLogin, CSRF: csrf, Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
		tb.Fatal(err)
	}
	srv := New(Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return srv, st, coll, cookie, csrf
}

// hugeGet serves a GET of path and returns the status and body.
func hugeGet(srv *Server, cookie, path string) (int, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(&http.Cookie{Name: srv.sessionCookie(), Value: cookie})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestDuplicatesHugeCards: two cards of 100 000 phones each cost the
// duplicates pages and the merge little more than two small cards. Before
// the values used in matching were capped, the list took 55 s and the
// group page 65 s for 23 MB of HTML. The budget is far above what they
// take now (a second at most), so that it holds on a loaded machine.
func TestDuplicatesHugeCards(t *testing.T) {
	const phones = 100000
	const budget = 10 * time.Second * slowdown
	const allocBudget = 1 << 30  // bytes allocated by one request, all told
	const heapBudget = 300 << 20 // growth of the live heap during one request
	srv, st, coll, cookie, csrf := hugeBook(t, phones)

	measure := func(what string, f func()) {
		t.Helper()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := heapPeak()
		start := time.Now()
		f()
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		alloc, extra := after.TotalAlloc-before.TotalAlloc, peak()-before.HeapAlloc
		t.Logf("%s: %v, %d MB allocated, heap peak %d MB above the start", what, took, alloc>>20, extra>>20)
		if took > budget {
			t.Errorf("%s took %v (budget %v)", what, took, budget)
		}
		if alloc > allocBudget {
			t.Errorf("%s allocated %d MB (budget %d MB)", what, alloc>>20, allocBudget>>20)
		}
		if extra > heapBudget {
			t.Errorf("%s grew the heap by %d MB (budget %d MB)", what, extra>>20, heapBudget>>20)
		}
	}

	var list string
	measure("the list page", func() {
		code, body := hugeGet(srv, cookie, "/account/duplicates/contacts")
		if code != http.StatusOK {
			t.Fatalf("list page: %d\n%.2000s", code, body)
		}
		list = body
	})
	group := dupGroupLink(t, list)
	var page string
	measure("the group page", func() {
		code, body := hugeGet(srv, cookie, group)
		if code != http.StatusOK {
			t.Fatalf("group page: %d\n%.2000s", code, body)
		}
		page = body
	})
	if len(page) > 1<<20 {
		t.Errorf("the group page has %d bytes", len(page))
	}
	// Each card shows its first phones and says how many more it has.
	if n := strings.Count(page, "30 0000001"); n < 2 {
		t.Errorf("the first phone is shown %d times, want once per card", n)
	}
	if !strings.Contains(page, fmt.Sprintf("and %d more", phones-dupShownPerField)) {
		t.Errorf("the group page does not say how many phones are not shown:\n%.5000s", page)
	}

	measure("the merge", func() {
		form := url.Values{"csrf": {csrf}, "reference": {dupInput(t, page, "reference")}, "version": {dupInput(t, page, "version")}}
		req := httptest.NewRequest(http.MethodPost, group+"/merge", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: srv.sessionCookie(), Value: cookie})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("merge: %d\n%.2000s", rec.Code, rec.Body.String())
		}
	})
	// Nothing is lost: the survivor has every phone.
	var cards []store.Object
	st.ListObjects(context.Background(), coll.ID, true, func(o *store.Object) error {
		cards = append(cards, *o)
		return nil
	})
	if len(cards) != 1 || strings.Count(string(cards[0].Data), "\nTEL") != phones {
		t.Errorf("after the merge: %d cards", len(cards))
	}
}

// BenchmarkDuplicatesHugeCards serves the pages of two cards like those of
// TestDuplicatesHugeCards, of 25 000 and 100 000 phones each: the cost
// grows with the size of the cards, no faster.
func BenchmarkDuplicatesHugeCards(b *testing.B) {
	for _, phones := range []int{25000, 100000} {
		srv, _, _, cookie, _ := hugeBook(b, phones)
		_, list := hugeGet(srv, cookie, "/account/duplicates/contacts")
		group := dupGroupLink(b, list)
		for _, p := range []struct{ name, path string }{{"list", "/account/duplicates/contacts"}, {"group", group}} {
			b.Run(fmt.Sprintf("%s/%d", p.name, phones), func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					if code, _ := hugeGet(srv, cookie, p.path); code != http.StatusOK {
						b.Fatalf("%s: %d", p.path, code)
					}
				}
				// The process's CPU time, GC included: on a shared machine
				// it says more than the time on the clock.
				b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapPeak samples the bytes of live heap objects until the returned
// function is called, which returns the highest.
func heapPeak() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		peak := read()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				peak = max(peak, read())
			case <-stop:
				done <- max(peak, read())
				return
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-done
	}
}

// TestDuplicatesGroupPageCapsLists: the plan's lists and a conflict's
// choices show at most dupShownPerField values of a property each, and
// say how many more there are.
func TestDuplicatesGroupPageCapsLists(t *testing.T) {
	ts := newTestServer(t)
	b := []string{"FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33612345678"}
	for i := range 60 {
		b = append(b, fmt.Sprintf("EMAIL:jane%d@example.org", i), fmt.Sprintf("ORG:Org %d", i))
	}
	dupPut(t, ts.Store, testLogin, map[string]string{
		"jane-a": dupCard("jane-a", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33612345678", "ORG:Reference Org"),
		"jane-b": dupCard("jane-b", b...),
	})
	s := ts.signedIn(t, testLogin)
	_, list := s.get(t, "/account/duplicates/contacts")
	resp, page := s.get(t, dupGroupLink(t, list)+"?reference=jane-a")
	dupStatus(t, resp, http.StatusOK, page)
	if n := strings.Count(page, `<li class="added"><strong>E-mail:</strong>`); n != dupShownPerField {
		t.Errorf("%d e-mails in the list of values to add, want %d", n, dupShownPerField)
	}
	if n := strings.Count(page, `name="choice.ORG"`); n != dupShownPerField+1 {
		t.Errorf("%d choices for ORG, want the reference's and %d others", n, dupShownPerField)
	}
	dupHas(t, page, "<strong>E-mail:</strong> and 10 more</li>", "and 10 more, not shown")
}
