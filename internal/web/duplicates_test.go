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
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/dedup/gen"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

func dupCard(uid string, lines ...string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCARD\r\n"
}

// dupSeed fills login's default address book with a group of three
// duplicates of Jane Doe (shared phone, e-mail and birthday; an extra
// e-mail and address; conflicting organisations) and an unrelated card.
func dupSeed(t *testing.T, st store.Store, login string) *store.Collection {
	t.Helper()
	return dupPut(t, st, login, map[string]string{
		"jane-1": dupCard("jane-1", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL;TYPE=CELL:+33 6 12 34 56 78",
			"EMAIL:jane@example.org", "BDAY:1980-05-17", "ORG:Acme"),
		"jane-2": dupCard("jane-2", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33612345678", "EMAIL:JANE@example.org",
			"EMAIL:jane.doe@work.example", "BDAY:1980-05-17", "ORG:Globex", "NOTE:met at <script>alert(1)</script>"),
		"jane-3": dupCard("jane-3", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33612345678", "EMAIL:jane@example.org",
			"ADR;TYPE=HOME:;;12 Rue de la Paix\\, Bât A;Paris;;75002;France", "ORG:Initech"),
		"john": dupCard("john", "FN:John Smith", "N:Smith;John;;;", "TEL:+441632960000", "EMAIL:john@smith.example"),
	})
}

// dupPut stores cards (UID → vCard) in login's default address book.
func dupPut(t *testing.T, st store.Store, login string, cards map[string]string) *store.Collection {
	t.Helper()
	ctx := context.Background()
	if err := accounts.EnsureDefaults(ctx, st, login); err != nil {
		t.Fatal(err)
	}
	coll, err := st.GetCollection(ctx, login, store.KindCard, accounts.DefaultBook)
	if err != nil {
		t.Fatal(err)
	}
	for uid, data := range cards {
		if _, _, err := st.PutObject(ctx, &store.Object{Collection: coll.ID, Name: uid + ".vcf", UID: uid, Data: []byte(data)}, store.Conditions{}); err != nil {
			t.Fatalf("putting %s: %v", uid, err)
		}
	}
	return coll
}

// dupGroupLink returns the path of the first "Review" link of a groups page.
func dupGroupLink(t testing.TB, body string) string {
	t.Helper()
	m := regexp.MustCompile(`href="(/account/duplicates/contacts/groups/[^"?]+)">Review<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no Review link in:\n%s", body)
	}
	return m[1]
}

func dupStatus(t *testing.T, resp *http.Response, want int, body string) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
}

func dupHas(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q; body:\n%s", w, body)
		}
	}
}

// dupInput returns the value of the hidden input called name.
func dupInput(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no input %s in:\n%s", name, body)
	}
	return m[1]
}

func dupObject(t *testing.T, st store.Store, coll *store.Collection, name string) *store.Object {
	t.Helper()
	o, err := st.GetObject(context.Background(), coll.ID, name)
	if err != nil {
		return nil
	}
	return o
}

func TestDuplicatesFlow(t *testing.T) {
	ts := newTestServer(t)
	coll := dupSeed(t, ts.Store, testLogin)
	s := ts.signedIn(t, testLogin)
	ctx := context.Background()

	resp, body := s.get(t, "/account/duplicates")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "<h1>Duplicates</h1>", `href="/account/duplicates/contacts"`)

	resp, body = s.get(t, "/account/duplicates/contacts")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "<h1>Duplicates in ", `<span class="dup-name">Jane Doe</span>`, "the same</span>", "Past merges")
	if strings.Contains(body, "John Smith") {
		t.Errorf("the unrelated card is listed in a group:\n%s", body)
	}
	group := dupGroupLink(t, body)

	resp, body = s.get(t, group+"?reference=jane-1")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "<h1>Review duplicates</h1>",
		`<a class="dup-pick" href="?reference=jane-2#cards">Keep card 2 as the reference<span class="visually-hidden"> (Jane Doe)</span></a>`,
		`<span class="badge ok">Reference</span>`,
		`<li class="identical"><strong>Phone:</strong> &#43;33 6 12 34 56 78</li>`,
		`<li class="added"><strong>E-mail:</strong> jane.doe@work.example`,
		`<li class="added"><strong>Address:</strong> 12 Rue de la Paix, Bât A, Paris, 75002, France`,
		`<legend>Organisation</legend>`,
		`name="choice.ORG" value="-1" checked> Acme`,
		`name="choice.ORG" value="0"> Globex`,
		`name="choice.ORG" value="1"> Initech`,
		`met at &lt;script&gt;alert(1)&lt;/script&gt;`,
		`<div class="identical"><dt>Phone`,
	)
	if !strings.Contains(strings.ToLower(body), `<li class="identical"><strong>e-mail:</strong> jane@example.org</li>`) {
		t.Error("the shared e-mail is not listed as identical")
	}
	// Two of the three cards have the birthday: it is not on all cards.
	if n := strings.Count(body, `<li class="identical"><strong>Birthday:`); n != 0 {
		t.Errorf("the birthday of two cards is listed %d times as on all cards", n)
	}
	if n := strings.Count(body, `<dd class="dup-shared">on 2 of 3 cards</dd>`); n != 2 {
		t.Errorf("the birthday is highlighted as on 2 of 3 cards %d times, want 2", n)
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("a card's value is rendered as HTML")
	}
	if n := strings.Count(body, `class="dup-pick"`); n != 2 {
		t.Errorf("%d cards offer to be the reference, want 2", n)
	}

	// Merge into jane-1, taking jane-3's organisation.
	form := url.Values{"reference": {"jane-1"}, "version": {dupInput(t, body, "version")}, "choice.ORG": {"1"}}
	resp, body = s.post(t, group+"/merge", form)
	dupStatus(t, resp, http.StatusSeeOther, body)
	merged := resp.Header.Get("Location")
	if !regexp.MustCompile(`^/account/duplicates/contacts\?merged=\d+#done$`).MatchString(merged) {
		t.Errorf("merge redirects to %q", merged)
	}
	survivor := dupObject(t, ts.Store, coll, "jane-1.vcf")
	if survivor == nil || !strings.Contains(string(survivor.Data), "ORG:Initech") || !strings.Contains(string(survivor.Data), "jane.doe@work.example") {
		t.Fatalf("survivor after merge: %+v", survivor)
	}
	for _, gone := range []string{"jane-2.vcf", "jane-3.vcf"} {
		if dupObject(t, ts.Store, coll, gone) != nil {
			t.Errorf("%s still there after the merge", gone)
		}
	}
	resp, body = s.get(t, merged)
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, `role="status" id="done">`, `<p>Merged 3 cards into Jane Doe.</p>`, ">Undo</button>", "No duplicates found")

	resp, body = s.get(t, "/account/duplicates/contacts/merges")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "<h1>Past merges</h1>", `<th scope="row">Jane Doe</th>`, `<td>3 cards: <ul class="dup-merged"><li>Jane Doe</li><li>Jane Doe</li><li>Jane Doe</li></ul></td>`, "in effect", ">Undo</button>")
	ms, err := ts.Store.ListMerges(ctx, coll.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("merges: %v %v", ms, err)
	}
	undo := "/account/duplicates/contacts/merges/" + strconv.FormatInt(ms[0].ID, 10) + "/undo"

	resp, body = s.post(t, undo, nil)
	dupStatus(t, resp, http.StatusSeeOther, body)
	for _, uid := range []string{"jane-1", "jane-2", "jane-3"} {
		o := dupObject(t, ts.Store, coll, uid+".vcf")
		if o == nil {
			t.Fatalf("%s not restored by undo", uid)
		}
	}
	if o := dupObject(t, ts.Store, coll, "jane-1.vcf"); !strings.Contains(string(o.Data), "ORG:Acme") || strings.Contains(string(o.Data), "Initech") {
		t.Errorf("jane-1 not restored as it was:\n%s", o.Data)
	}
	_, body = s.get(t, "/account/duplicates/contacts/merges")
	dupHas(t, body, "Merge undone", "undone ")

	// Merge again, edit the survivor, and undo: refused, then forced.
	_, body = s.get(t, "/account/duplicates/contacts")
	if dupGroupLink(t, body) != group {
		t.Fatalf("the group's ID changed after undo")
	}
	_, body = s.get(t, group+"?reference=jane-2")
	resp, body = s.post(t, group+"/merge", url.Values{"reference": {"jane-2"}, "version": {dupInput(t, body, "version")}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	o := dupObject(t, ts.Store, coll, "jane-2.vcf")
	if !strings.Contains(string(o.Data), "ORG:Globex") {
		t.Errorf("the reference's value was not kept by default:\n%s", o.Data)
	}
	edited := strings.Replace(string(o.Data), "FN:Jane Doe", "FN:Jane Q. Doe", 1)
	if _, _, err := ts.Store.PutObject(ctx, &store.Object{Collection: coll.ID, Name: "jane-2.vcf", UID: "jane-2", Data: []byte(edited)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	ms, _ = ts.Store.ListMerges(ctx, coll.ID)
	undo = "/account/duplicates/contacts/merges/" + strconv.FormatInt(ms[0].ID, 10) + "/undo"
	resp, body = s.post(t, undo, nil)
	dupStatus(t, resp, http.StatusConflict, body)
	dupHas(t, body, `role="alert">The card kept by this merge was edited or deleted since`, ">Undo anyway</button>", `<th scope="row">Jane Q. Doe</th>`)
	if dupObject(t, ts.Store, coll, "jane-1.vcf") != nil {
		t.Fatal("a refused undo restored cards")
	}
	resp, body = s.post(t, undo, url.Values{"force": {"1"}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	if dupObject(t, ts.Store, coll, "jane-1.vcf") == nil || dupObject(t, ts.Store, coll, "jane-3.vcf") == nil {
		t.Fatal("forced undo did not restore the cards")
	}

	// Hide: the group is not proposed again.
	resp, body = s.post(t, group+"/hide", nil)
	dupStatus(t, resp, http.StatusSeeOther, body)
	_, body = s.get(t, resp.Header.Get("Location"))
	dupHas(t, body, "<p>Hidden: Jane Doe, Jane Doe and Jane Doe will not be proposed as duplicates again.</p>", ">Unhide</button>", "No duplicates found")
	resp, body = s.get(t, group)
	dupStatus(t, resp, http.StatusNotFound, body)
	dupHas(t, body, "<h1>These duplicates changed</h1>", `href="/account/duplicates/contacts">Back to the duplicates`)
}

// TestDuplicatesIdenticalAgreesWithPlan checks that a card's value is
// highlighted as shared exactly when the merge plan treats it as the same,
// for values written differently on the cards.
func TestDuplicatesIdenticalAgreesWithPlan(t *testing.T) {
	ts := newTestServer(t)
	dupPut(t, ts.Store, testLogin, map[string]string{
		"ann-1": dupCard("ann-1", "FN:Ann Lee", "N:Lee;Ann;;;", "TEL:+1 202 555 0142", "EMAIL:ann@example.org"),
		"ann-2": dupCard("ann-2", "FN:Ann Lee", "N:Lee;Ann;;;", "TEL:(202) 555-0142", "TEL:+1 202 555 0199", "EMAIL:Ann@Example.ORG"),
	})
	s := ts.signedIn(t, testLogin)
	_, body := s.get(t, "/account/duplicates/contacts")
	resp, body := s.get(t, dupGroupLink(t, body)+"?reference=ann-1")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body,
		`<div class="identical"><dt>Phone</dt><dd>&#43;1 202 555 0142</dd>`,
		`<div class="identical"><dt>Phone</dt><dd>(202) 555-0142</dd>`,
		`<div><dt>Phone</dt><dd>&#43;1 202 555 0199</dd>`,
		`<div class="identical"><dt>E-mail</dt><dd>ann@example.org</dd>`,
		`<div class="identical"><dt>E-mail</dt><dd>Ann@Example.ORG</dd>`,
		`<li class="identical"><strong>Phone:</strong> &#43;1 202 555 0142</li>`,
		`<li class="identical"><strong>E-mail:</strong> ann@example.org</li>`,
		`<li class="added"><strong>Phone:</strong> &#43;1 202 555 0199`,
	)
}

// dupOpen returns a seeded server, alice's session and the group's path.
func dupOpen(t *testing.T) (*testServer, *store.Collection, *testSession, string) {
	t.Helper()
	ts := newTestServer(t)
	coll := dupSeed(t, ts.Store, testLogin)
	s := ts.signedIn(t, testLogin)
	_, body := s.get(t, "/account/duplicates/contacts")
	return ts, coll, s, dupGroupLink(t, body)
}

func TestDuplicatesMergeRefusals(t *testing.T) {
	ts, coll, s, group := dupOpen(t)
	_, body := s.get(t, group+"?reference=jane-1")
	version := dupInput(t, body, "version")
	for _, tc := range []struct {
		name string
		form url.Values
		want int
	}{
		{"unknown property", url.Values{"reference": {"jane-1"}, "version": {version}, "choice.TITLE": {"0"}}, http.StatusBadRequest},
		{"index out of range", url.Values{"reference": {"jane-1"}, "version": {version}, "choice.ORG": {"2"}}, http.StatusBadRequest},
		{"index below -1", url.Values{"reference": {"jane-1"}, "version": {version}, "choice.ORG": {"-2"}}, http.StatusBadRequest},
		{"not a number", url.Values{"reference": {"jane-1"}, "version": {version}, "choice.ORG": {"x"}}, http.StatusBadRequest},
		{"reference not in group", url.Values{"reference": {"john"}, "version": {version}}, http.StatusBadRequest},
		{"no csrf", url.Values{"csrf": {""}, "reference": {"jane-1"}, "version": {version}}, http.StatusForbidden},
		{"stale page", url.Values{"reference": {"jane-1"}, "version": {"0123"}}, http.StatusConflict},
	} {
		resp, body := s.post(t, group+"/merge", tc.form)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d\n%s", tc.name, resp.StatusCode, tc.want, body)
		}
	}
	resp, body := s.post(t, group+"/hide", url.Values{"csrf": {""}})
	dupStatus(t, resp, http.StatusForbidden, body)
	resp, body = s.get(t, group+"?reference=john")
	dupStatus(t, resp, http.StatusBadRequest, body)
	resp, body = s.get(t, "/account/duplicates/contacts/groups/nosuchgroup")
	dupStatus(t, resp, http.StatusNotFound, body)
	dupHas(t, body, "These duplicates changed")

	// A card edited after the page was shown: the form is stale.
	o := dupObject(t, ts.Store, coll, "jane-2.vcf")
	edited := strings.Replace(string(o.Data), "ORG:Globex", "ORG:Globex Corp", 1)
	if _, _, err := ts.Store.PutObject(context.Background(), &store.Object{Collection: coll.ID, Name: "jane-2.vcf", UID: "jane-2", Data: []byte(edited)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	resp, body = s.post(t, group+"/merge", url.Values{"reference": {"jane-1"}, "version": {version}, "choice.ORG": {"0"}})
	dupStatus(t, resp, http.StatusConflict, body)
	dupHas(t, body, "changed since the page was shown")
	for _, name := range []string{"jane-1.vcf", "jane-2.vcf", "jane-3.vcf"} {
		if dupObject(t, ts.Store, coll, name) == nil {
			t.Errorf("%s removed by a refused merge", name)
		}
	}
	if ms, _ := ts.Store.ListMerges(context.Background(), coll.ID); len(ms) != 0 {
		t.Errorf("refused merges recorded: %v", ms)
	}
}

func TestDuplicatesOtherUser(t *testing.T) {
	ts, coll, alice, group := dupOpen(t)
	ctx := context.Background()
	_, body := alice.get(t, group+"?reference=jane-1")
	version := dupInput(t, body, "version")
	// A merge of alice's, for bob to try to undo.
	resp, body := alice.post(t, group+"/merge", url.Values{"reference": {"jane-1"}, "version": {version}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	ms, _ := ts.Store.ListMerges(ctx, coll.ID)
	if len(ms) != 1 {
		t.Fatalf("merges: %v", ms)
	}
	undo := "/account/duplicates/contacts/merges/" + strconv.FormatInt(ms[0].ID, 10) + "/undo"
	// Alice also has a book bob has no namesake of.
	if err := ts.Store.CreateCollection(ctx, &store.Collection{Owner: testLogin, Kind: store.KindCard, Name: "work", DisplayName: "Work"}); err != nil {
		t.Fatal(err)
	}
	ts.addUser(t, "bob@example.org")
	if err := accounts.EnsureDefaults(ctx, ts.Store, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	bob := ts.signedIn(t, "bob@example.org")

	_, body = bob.get(t, "/account/duplicates")
	if strings.Contains(body, "/account/duplicates/work") {
		t.Error("bob sees alice's book")
	}
	for _, p := range []string{"/account/duplicates/work", "/account/duplicates/work/merges", group, "/account/duplicates/work/groups/x"} {
		resp, body := bob.get(t, p)
		dupStatus(t, resp, http.StatusNotFound, body)
	}
	for _, p := range []string{undo, group + "/merge", group + "/hide", "/account/duplicates/work/merges/1/undo"} {
		resp, body := bob.post(t, p, url.Values{"reference": {"jane-1"}, "version": {version}, "force": {"1"}})
		dupStatus(t, resp, http.StatusNotFound, body)
	}
	_, body = bob.get(t, "/account/duplicates/contacts/merges")
	if strings.Contains(body, "Jane") {
		t.Error("bob sees alice's merges")
	}
	m, err := ts.Store.GetMerge(ctx, coll.ID, ms[0].ID)
	if err != nil || !m.Undone.IsZero() {
		t.Errorf("alice's merge touched by bob: %+v %v", m, err)
	}
	if dupObject(t, ts.Store, coll, "jane-2.vcf") != nil {
		t.Error("alice's merged-away card is back")
	}
}

// dupRacingStore edits a card just before a merge is applied, as a phone
// syncing at that moment would.
type dupRacingStore struct {
	Store
	race func()
}

func (s *dupRacingStore) ApplyMerge(ctx context.Context, w *store.MergeWrite) (*store.Merge, error) {
	if s.race != nil {
		s.race()
	}
	return s.Store.ApplyMerge(ctx, w)
}

func TestDuplicatesMergeRace(t *testing.T) {
	var racing *dupRacingStore
	ts := newTestServer(t, func(c *Config) {
		racing = &dupRacingStore{Store: c.Store}
		c.Store = racing
	})
	coll := dupSeed(t, ts.Store, testLogin)
	s := ts.signedIn(t, testLogin)
	_, body := s.get(t, "/account/duplicates/contacts")
	group := dupGroupLink(t, body)
	_, body = s.get(t, group+"?reference=jane-1")
	racing.race = func() {
		o := dupObject(t, ts.Store, coll, "jane-3.vcf")
		data := strings.Replace(string(o.Data), "ORG:Initech", "ORG:Initrode", 1)
		if _, _, err := ts.Store.PutObject(context.Background(), &store.Object{Collection: coll.ID, Name: o.Name, UID: o.UID, Data: []byte(data)}, store.Conditions{}); err != nil {
			t.Error(err)
		}
	}
	resp, body := s.post(t, group+"/merge", url.Values{"reference": {"jane-1"}, "version": {dupInput(t, body, "version")}})
	dupStatus(t, resp, http.StatusConflict, body)
	dupHas(t, body, "was changed (by a device, perhaps) while merging; nothing was merged")
	if dupObject(t, ts.Store, coll, "jane-2.vcf") == nil {
		t.Error("a card was removed by a merge that failed")
	}
}

// BenchmarkDuplicatesGroupsPage serves the first page of the groups of a
// generated book of 5 000 and 10 000 cards: "first" on a server that has
// not seen the book (the matcher runs), "next" the second page after the
// first (from the cache). The target: the first page well under a second.
func BenchmarkDuplicatesGroupsPage(b *testing.B) {
	for _, cards := range []int{5000, 10000} {
		st, cookie, region := dupBenchBook(b, cards)
		serve := func(srv *Server, path string) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.AddCookie(&http.Cookie{Name: srv.sessionCookie(), Value: cookie})
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), ">Review<") {
				b.Fatalf("%s: status %d", path, rec.Code)
			}
		}
		newServer := func() *Server {
			return New(Config{Store: st, Region: region, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		}
		b.Run(fmt.Sprintf("first/%d", cards), func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				srv := newServer()
				runtime.GC()
				b.StartTimer()
				start := cpuTime()
				serve(srv, "/account/duplicates/contacts")
				cpu += cpuTime() - start
			}
			// The process's CPU time, GC included: on a shared machine
			// it says more than the time on the clock.
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
		b.Run(fmt.Sprintf("next/%d", cards), func(b *testing.B) {
			srv := newServer()
			serve(srv, "/account/duplicates/contacts")
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				serve(srv, "/account/duplicates/contacts?page=2")
			}
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// dupBenchBook is a store whose user has a generated book of n cards
// (internal/dedup/gen), with a session cookie, and the book's region.
func dupBenchBook(b *testing.B, n int) (store.Store, string, string) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "rolodav.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.CreateUser(ctx, &store.User{Login: testLogin, PasswordHash: "x"}); err != nil {
		b.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, testLogin); err != nil {
		b.Fatal(err)
	}
	coll, err := st.GetCollection(ctx, testLogin, store.KindCard, accounts.DefaultBook)
	if err != nil {
		b.Fatal(err)
	}
	book := gen.Generate(gen.Options{Cards: n, Seed: 1})
	for _, c := range book.Cards {
		if _, _, err := st.PutObject(ctx, &store.Object{Collection: coll.ID, Name: c.UID + ".vcf", UID: c.UID, Data: c.Data}, store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	cookie := randomToken()
	now := time.Now()
	if err := st.CreateSession(ctx, &store.Session{ID: sessionID(cookie), Owner: testLogin, CSRF: randomToken(), Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	return st, cookie, book.Region
}

// A merge whose kept card a later merge took away is undone after that
// one only: the page says so, and in that order both undo.
func TestDuplicatesUndoBeforeALaterMerge(t *testing.T) {
	ts := newTestServer(t)
	coll := dupSeed(t, ts.Store, testLogin)
	s := ts.signedIn(t, testLogin)
	merge := func(ref string) int64 {
		t.Helper()
		_, body := s.get(t, "/account/duplicates/contacts")
		group := dupGroupLink(t, body)
		_, body = s.get(t, group+"?reference="+ref)
		resp, body := s.post(t, group+"/merge", url.Values{"reference": {ref}, "version": {dupInput(t, body, "version")}})
		dupStatus(t, resp, http.StatusSeeOther, body)
		ms, err := ts.Store.ListMerges(context.Background(), coll.ID)
		if err != nil || len(ms) == 0 {
			t.Fatalf("merges: %v %v", ms, err)
		}
		return ms[0].ID
	}
	first := merge("jane-1")
	dupPut(t, ts.Store, testLogin, map[string]string{"jane-4": dupCard("jane-4", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33612345678",
		"EMAIL:jane@example.org", "BDAY:1980-05-17", "ORG:Acme")})
	second := merge("jane-4")
	undo := func(id int64) (*http.Response, string) {
		return s.post(t, "/account/duplicates/contacts/merges/"+strconv.FormatInt(id, 10)+"/undo", url.Values{"force": {"1"}})
	}
	resp, body := undo(first)
	dupStatus(t, resp, http.StatusConflict, body)
	dupHas(t, body, "was merged into another card by a later merge. Undo the later merge first")
	if dupObject(t, ts.Store, coll, "jane-2.vcf") != nil {
		t.Fatal("a refused undo brought a card back")
	}
	for _, id := range []int64{second, first} {
		resp, body := undo(id)
		dupStatus(t, resp, http.StatusSeeOther, body)
	}
	for _, name := range []string{"jane-1.vcf", "jane-2.vcf", "jane-3.vcf", "jane-4.vcf"} {
		if dupObject(t, ts.Store, coll, name) == nil {
			t.Errorf("%s is not back", name)
		}
	}
}
