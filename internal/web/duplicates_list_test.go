package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// dupFamilies are family names far apart, so that only a pair's own cards
// are alike.
var dupFamilies = []string{"Miller", "Stone", "Okafor", "Weiss", "Garcia", "Novak", "Tanaka", "Lindqvist", "Moreau",
	"Kowalski", "Haddad", "Oliveira", "Fitzgerald", "Yilmaz", "Petrov", "Nakamura", "Dubois", "Rossi", "Jensen",
	"Schulz", "Ivanova", "Castillo", "Bergström", "Achebe", "Papadopoulos", "Horvath", "Virtanen", "Kaur", "Mendes",
	"O'Connor", "Zhang", "Abbott", "Delgado", "Eriksen", "Farouk", "Gallagher", "Hoffmann", "Ishikawa", "Jovanovic", "Keller"}

// dupPairs are auto pairs of twin cards (same name, phone and e-mail) of
// Ann <family>, UIDs ann-<i>-a and ann-<i>-b (the b card is fuller), and
// review pairs of Bob <family>, one card with an e-mail, the other with a
// phone, UIDs bob-<i>-a and bob-<i>-b.
func dupPairs(auto, review int) map[string]string {
	cards := map[string]string{}
	for i := range auto {
		fam := dupFamilies[i]
		tel, mail := fmt.Sprintf("TEL:+49151123%05d", i), "EMAIL:ann."+fam+"@example.org"
		a, b := fmt.Sprintf("ann-%d-a", i), fmt.Sprintf("ann-%d-b", i)
		cards[a] = dupCard(a, "FN:Ann "+fam, "N:"+fam+";Ann;;;", tel, mail)
		cards[b] = dupCard(b, "FN:Ann "+fam, "N:"+fam+";Ann;;;", tel, mail, "NOTE:the fuller card")
	}
	for i := range review {
		fam := dupFamilies[len(dupFamilies)-1-i]
		a, b := fmt.Sprintf("bob-%d-a", i), fmt.Sprintf("bob-%d-b", i)
		cards[a] = dupCard(a, "FN:Bob "+fam, "N:"+fam+";Bob;;;", "EMAIL:bob."+fam+"@example.org")
		cards[b] = dupCard(b, "FN:Bob "+fam, "N:"+fam+";Bob;;;", fmt.Sprintf("TEL:+33612%06d", i))
	}
	return cards
}

// dupListServer opens a server whose user has dupPairs(auto, review), signed in.
func dupListServer(t *testing.T, auto, review int) (*testServer, *store.Collection, *testSession) {
	t.Helper()
	ts := newTestServer(t)
	coll := dupPut(t, ts.Store, testLogin, dupPairs(auto, review))
	return ts, coll, ts.signedIn(t, testLogin)
}

var dupGroupIDRE = regexp.MustCompile(`<li class="card dup-group" id="g-([0-9a-f]{32})">`)

// dupShownGroups are the IDs of the groups a list page shows, in order.
func dupShownGroups(body string) []string {
	var ids []string
	for _, m := range dupGroupIDRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var (
	dupFormRE  = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>`)
	dupInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// dupForm returns the hidden fields of the page's form that posts to
// action, csrf left out (the session adds it).
func dupForm(t *testing.T, body, action string) url.Values {
	t.Helper()
	for _, f := range dupFormRE.FindAllStringSubmatch(body, -1) {
		if html.UnescapeString(f[1]) != action {
			continue
		}
		v := url.Values{}
		for _, in := range dupInputRE.FindAllStringSubmatch(f[2], -1) {
			if in[1] != "csrf" {
				v.Add(in[1], html.UnescapeString(in[2]))
			}
		}
		return v
	}
	t.Fatalf("no form posting to %s in:\n%s", action, body)
	return nil
}

func dupCards(t *testing.T, st store.Store, coll *store.Collection) int {
	t.Helper()
	c, err := st.GetCollection(context.Background(), coll.Owner, store.KindCard, coll.Name)
	if err != nil {
		t.Fatal(err)
	}
	return int(c.Count)
}

// dupSearches is how often the server ran the matcher.
func dupSearches(ts *testServer) int {
	_, n := ts.Server.dupCache.Stats()
	return n
}

// Pages of 25 groups, strongest (the likely ones) first; the band filter
// and the pages keep each other; out of range and unknown values give a
// page, not an error. The matcher runs once for all of it.
func TestDuplicatesListPaging(t *testing.T) {
	ts, _, s := dupListServer(t, 30, 10)
	const list = "/account/duplicates/contacts"
	resp, first := s.get(t, list)
	dupStatus(t, resp, http.StatusOK, first)
	dupHas(t, first, "Groups 1–25 of 40,", "Page 1 of 2", `href="/account/duplicates/contacts?page=2" rel="next">Next</a>`,
		">Merge all likely duplicates (30)</button>", `aria-current="page">All (40)</a>`,
		`href="/account/duplicates/contacts?band=likely">Likely the same (30)</a>`,
		`href="/account/duplicates/contacts?band=maybe">Maybe the same (10)</a>`)
	if strings.Contains(first, `rel="prev"`) {
		t.Error("the first page links to a previous one")
	}
	page1 := dupShownGroups(first)
	if len(page1) != 25 || strings.Count(first, ">likely the same</span>") != 25 {
		t.Fatalf("page 1 shows %d groups, %d of them likely", len(page1), strings.Count(first, ">likely the same</span>"))
	}
	// Each card with its e-mail and phone.
	keys := regexp.MustCompile(`<li><span class="dup-name">Ann [^<]+</span> <span class="dup-key">ann\.[^@<]+@example\.org</span> <span class="dup-key">&#43;49151123\d{5}</span></li>`)
	if n := len(keys.FindAllString(first, -1)); n != 50 {
		t.Errorf("%d cards shown with their e-mail and phone, want 50:\n%s", n, first)
	}

	_, second := s.get(t, list+"?page=2")
	dupHas(t, second, "Groups 26–40 of 40,", `href="/account/duplicates/contacts" rel="prev">Previous</a>`)
	page2 := dupShownGroups(second)
	if len(page2) != 15 || strings.Count(second, ">likely the same</span>") != 5 || slices.ContainsFunc(page2, func(id string) bool { return slices.Contains(page1, id) }) {
		t.Errorf("page 2 shows %d groups, %d likely, or groups of page 1", len(page2), strings.Count(second, ">likely the same</span>"))
	}
	if strings.Contains(second, `rel="next"`) {
		t.Error("the last page links to a next one")
	}

	_, maybe := s.get(t, list+"?band=maybe")
	dupHas(t, maybe, "Groups 1–10 of 10,", `aria-current="page">Maybe the same (10)</a>`, `name="back" value="band=maybe"`)
	if strings.Contains(maybe, ">likely the same</span>") {
		t.Error("the maybe band shows likely groups")
	}
	_, likely := s.get(t, list+"?band=likely&page=2")
	dupHas(t, likely, "Groups 26–30 of 30,", `href="/account/duplicates/contacts?band=likely" rel="prev">Previous</a>`,
		`name="back" value="band=likely&amp;page=2"`)
	// The review page is told where the list was, to come back there.
	if n := strings.Count(likely, `?back=band%3dlikely%26page%3d2">Review</a>`); n != 5 {
		t.Errorf("%d Review links carry the list's query, want 5:\n%s", n, likely)
	}
	if strings.Contains(first, "?back=") {
		t.Error("the first page's Review links carry an empty query")
	}

	for _, tc := range []struct{ query, want string }{
		{"?page=0", "Groups 1–25 of 40,"},
		{"?page=-3", "Groups 1–25 of 40,"},
		{"?page=abc", "Groups 1–25 of 40,"},
		{"?page=99999999999999999999", "Groups 1–25 of 40,"},
		{"?page=7", "Groups 26–40 of 40,"},
		{"?band=likely&page=9", "Groups 26–30 of 30,"},
		{"?band=bogus", "Groups 1–25 of 40,"},
		{"?band=maybe&page=2", "Groups 1–10 of 10,"},
	} {
		resp, body := s.get(t, list+tc.query)
		dupStatus(t, resp, http.StatusOK, body)
		dupHas(t, body, tc.want)
	}
	if n := dupSearches(ts); n != 1 {
		t.Errorf("the matcher ran %d times for the pages of one unchanged book", n)
	}
}

// Merge from the list: back to the same page and band, the message with
// its Undo just before the group that followed; no matcher run; Undo
// from the message returns there too.
func TestDuplicatesListMergeLandsOnTheNextGroup(t *testing.T) {
	ts, coll, s := dupListServer(t, 30, 10)
	const list = "/account/duplicates/contacts"
	_, body := s.get(t, list+"?band=likely&page=2")
	ids := dupShownGroups(body)
	if len(ids) != 5 {
		t.Fatalf("%d groups on page 2 of the likely ones", len(ids))
	}
	form := dupForm(t, body, list+"/groups/"+ids[1]+"/merge")
	if form.Get("next") != ids[2] || form.Get("back") != "band=likely&page=2" || form.Get("version") == "" || !strings.HasSuffix(form.Get("reference"), "-b") {
		t.Errorf("the merge form of group 2: %v", form)
	}
	before := dupCards(t, ts.Store, coll)
	resp, _ := s.post(t, list+"/groups/"+ids[1]+"/merge", form)
	dupStatus(t, resp, http.StatusSeeOther, "")
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/account/duplicates/contacts\?at=` + ids[2] + `&band=likely&merged=(\d+)&page=2#done$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("the merge redirects to %q", loc)
	}
	if n := dupCards(t, ts.Store, coll); n != before-1 {
		t.Errorf("%d cards after merging a pair of %d", n, before)
	}
	resp, body = s.get(t, loc)
	dupStatus(t, resp, http.StatusOK, body)
	after := dupShownGroups(body)
	if len(after) != 4 || after[1] != ids[2] {
		t.Errorf("after the merge page 2 shows %v, want %v without %s", after, ids, ids[1])
	}
	// The message, with its Undo, stands just before the next group.
	note := strings.Index(body, `role="status" id="done"`)
	if note < 0 || note > strings.Index(body, `id="g-`+ids[2]+`"`) || note < strings.Index(body, `id="g-`+ids[0]+`"`) {
		t.Errorf("the message is not between the group before and the one after:\n%s", body)
	}
	var fam string
	for _, name := range dupFamilies {
		if strings.Contains(body, "Merged 2 cards into Ann "+name+".") {
			fam = name
		}
	}
	if fam == "" {
		t.Fatalf("no merged message:\n%s", body)
	}
	if n := dupSearches(ts); n != 1 {
		t.Errorf("the matcher ran %d times: the list after a merge ran it again", n)
	}
	undo := list + "/merges/" + m[1] + "/undo"
	uform := dupForm(t, body, undo)
	if uform.Get("back") != "band=likely&page=2" {
		t.Errorf("the Undo form returns to %q", uform.Get("back"))
	}
	resp, _ = s.post(t, undo, uform)
	dupStatus(t, resp, http.StatusSeeOther, "")
	if loc := resp.Header.Get("Location"); loc != list+"?band=likely&page=2" {
		t.Errorf("undo from the list redirects to %q", loc)
	}
	if n := dupCards(t, ts.Store, coll); n != before {
		t.Errorf("%d cards after undo, want %d", n, before)
	}
	_, body = s.get(t, resp.Header.Get("Location"))
	dupHas(t, body, "Merge undone: the original cards are back.")
	if got := dupShownGroups(body); !slices.Equal(got, ids) {
		t.Errorf("after undo page 2 shows %v, want %v", got, ids)
	}
	// Reloading the merged URL after the undo: no message, no Undo.
	_, body = s.get(t, loc)
	if strings.Contains(body, "Merged 2 cards") {
		t.Error("the message of an undone merge is shown")
	}
}

// A merge, a batch or a hidden group named in the URL is looked up in the
// user's own book: another user's, an unknown one or nonsense shows no
// message (and no Undo).
func TestDuplicatesListNoteIsTheUsersOwn(t *testing.T) {
	ts, coll, alice := dupListServer(t, 3, 0)
	ctx := context.Background()
	b, err := merges.Load(ctx, ts.Store, coll, "")
	if err != nil {
		t.Fatal(err)
	}
	o, err := b.Merge(ctx, merges.Request{Group: b.Groups()[0].ID}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hiddenID := b.Groups()[0].ID
	if err := b.Hide(ctx, hiddenID); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(o.Merge.ID, 10)
	_, body := alice.get(t, "/account/duplicates/contacts?merged="+id)
	dupHas(t, body, "Merged 2 cards into Ann ")
	_, body = alice.get(t, "/account/duplicates/contacts?hidden="+hiddenID)
	dupHas(t, body, "<p>Hidden: Ann ")

	ts.addUser(t, "bob@example.org")
	dupPut(t, ts.Store, "bob@example.org", dupPairs(1, 0))
	bob := ts.signedIn(t, "bob@example.org")
	for _, q := range []string{"merged=" + id, "merged=0", "merged=-1", "merged=x", "merged=99999999999999999999",
		"batch=" + merges.NewBatch(), "batch=", "hidden=" + hiddenID, "hidden=../x"} {
		resp, body := bob.get(t, "/account/duplicates/contacts?"+q)
		dupStatus(t, resp, http.StatusOK, body)
		if strings.Contains(body, `id="done"`) || strings.Contains(body, "Merged") || strings.Contains(body, "Hidden:") {
			t.Errorf("?%s shows bob a message:\n%s", q, body)
		}
	}
}

// "Merge all likely duplicates": one batch of every likely group of the
// book (not only the page's), one message with one Undo all; past merges
// show it as one entry; Undo all brings every card back.
func TestDuplicatesMergeAllAndUndoAll(t *testing.T) {
	ts, coll, s := dupListServer(t, 30, 10)
	const list = "/account/duplicates/contacts"
	before := dupCards(t, ts.Store, coll)
	_, body := s.get(t, list+"?band=maybe")
	form := dupForm(t, body, list+"/merge-all")
	resp, _ := s.post(t, list+"/merge-all", url.Values{"csrf": {""}})
	dupStatus(t, resp, http.StatusForbidden, "")
	resp, _ = s.post(t, list+"/merge-all", form)
	dupStatus(t, resp, http.StatusSeeOther, "")
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/account/duplicates/contacts\?band=maybe&batch=([0-9a-f]{32})&skipped=0#done$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("merge all redirects to %q", loc)
	}
	if n := dupCards(t, ts.Store, coll); n != before-30 {
		t.Errorf("%d cards after merging 30 pairs of %d", n, before)
	}
	_, body = s.get(t, loc)
	dupHas(t, body, "<p>Merged 30 groups (60 cards).</p>", ">Undo all</button>", "Groups 1–10 of 10,")
	if strings.Contains(body, "Merge all likely duplicates") {
		t.Error("merge all is still offered with no likely group left")
	}
	batchUndo := list + "/batches/" + m[1] + "/undo"
	uform := dupForm(t, body, batchUndo)

	_, merged := s.get(t, list+"/merges")
	dupHas(t, merged, `<th scope="row">Merge all: 30 groups</th>`, "60 cards", ">Undo all</button>", "<strong>Ann Miller</strong>: Ann Miller, Ann Miller")
	if n := strings.Count(merged, ">Undo</button>"); n != 0 {
		t.Errorf("past merges offer %d single undos inside the batch", n)
	}

	// Another user cannot undo it.
	ts.addUser(t, "bob@example.org")
	dupPut(t, ts.Store, "bob@example.org", nil)
	resp, _ = ts.signedIn(t, "bob@example.org").post(t, batchUndo, nil)
	dupStatus(t, resp, http.StatusNotFound, "")

	resp, _ = s.post(t, batchUndo, uform)
	dupStatus(t, resp, http.StatusSeeOther, "")
	if loc := resp.Header.Get("Location"); loc != list+"?band=maybe" {
		t.Errorf("undo all redirects to %q", loc)
	}
	if n := dupCards(t, ts.Store, coll); n != before {
		t.Errorf("%d cards after undo all, want %d", n, before)
	}
	_, body = s.get(t, list)
	dupHas(t, body, "Undid 30 merges: the original cards are back.", ">Merge all likely duplicates (30)</button>")
	_, merged = s.get(t, list+"/merges")
	dupHas(t, merged, `<th scope="row">Merge all: 30 groups</th>`, "undone ")
	if strings.Contains(merged, ">Undo all</button>") {
		t.Error("an undone batch still offers Undo all")
	}
	resp, body = s.post(t, batchUndo, nil)
	dupStatus(t, resp, http.StatusConflict, body)
	dupHas(t, body, "undone already")
	resp, _ = s.post(t, list+"/batches/nosuchbatch/undo", nil)
	dupStatus(t, resp, http.StatusNotFound, "")
}

// Undo all stops at a merge whose kept card was edited since, and says
// how many it undid; that one can then be undone on its own, anyway.
func TestDuplicatesUndoAllRefused(t *testing.T) {
	ts, coll, s := dupListServer(t, 3, 0)
	const list = "/account/duplicates/contacts"
	_, body := s.get(t, list)
	resp, _ := s.post(t, list+"/merge-all", dupForm(t, body, list+"/merge-all"))
	dupStatus(t, resp, http.StatusSeeOther, "")
	batch := regexp.MustCompile(`batch=([0-9a-f]+)`).FindStringSubmatch(resp.Header.Get("Location"))[1]
	ms, err := ts.Store.ListMerges(context.Background(), coll.ID)
	if err != nil || len(ms) != 3 {
		t.Fatalf("merges %v %v", ms, err)
	}
	oldest := dupObject(t, ts.Store, coll, ms[2].Reference)
	edited := strings.Replace(string(oldest.Data), "NOTE:the fuller card", "NOTE:edited on the phone", 1)
	if _, _, err := ts.Store.PutObject(context.Background(), &store.Object{Collection: coll.ID, Name: oldest.Name, UID: oldest.UID, Data: []byte(edited)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	resp, body = s.post(t, list+"/batches/"+batch+"/undo", nil)
	dupStatus(t, resp, http.StatusConflict, body)
	dupHas(t, body, "Undid 2 merges of this “merge all”, then one could not be undone. The card kept by this merge was edited or deleted since.",
		`action="/account/duplicates/contacts/merges/`+strconv.FormatInt(ms[2].ID, 10)+`/undo"`, ">Undo anyway</button>")
	resp, _ = s.post(t, list+"/merges/"+strconv.FormatInt(ms[2].ID, 10)+"/undo", url.Values{"force": {"1"}})
	dupStatus(t, resp, http.StatusSeeOther, "")
	if n := dupCards(t, ts.Store, coll); n != 6 {
		t.Errorf("%d cards after undoing all three, want 6", n)
	}
}

// Hide from the list, with Unhide in its message; the hidden groups page
// names the cards (one deleted since), and Unhide there proposes the
// group again.
func TestDuplicatesHideAndUnhide(t *testing.T) {
	ts, coll, s := dupListServer(t, 3, 0)
	const list = "/account/duplicates/contacts"
	_, body := s.get(t, list)
	ids := dupShownGroups(body)
	form := dupForm(t, body, list+"/groups/"+ids[0]+"/hide")
	resp, _ := s.post(t, list+"/groups/"+ids[0]+"/hide", form)
	dupStatus(t, resp, http.StatusSeeOther, "")
	loc := resp.Header.Get("Location")
	if loc != list+"?at="+ids[1]+"&hidden="+ids[0]+"#done" {
		t.Errorf("hide redirects to %q", loc)
	}
	_, body = s.get(t, loc)
	if got := dupShownGroups(body); !slices.Equal(got, ids[1:]) {
		t.Errorf("after hiding the list shows %v", got)
	}
	dupHas(t, body, " will not be proposed as duplicates again.</p>", ">Unhide</button>", ">Hidden groups (1)</a>")
	name := regexp.MustCompile(`<p>Hidden: (Ann \S+) and Ann \S+ will not`).FindStringSubmatch(body)
	if name == nil {
		t.Fatalf("the message does not name the cards:\n%s", body)
	}

	// Unhide from the message: back to the list, the group is back.
	resp, _ = s.post(t, list+"/hidden/"+ids[0]+"/unhide", dupForm(t, body, list+"/hidden/"+ids[0]+"/unhide"))
	dupStatus(t, resp, http.StatusSeeOther, "")
	if loc := resp.Header.Get("Location"); loc != list {
		t.Errorf("unhide from the list redirects to %q", loc)
	}
	_, body = s.get(t, list)
	dupHas(t, body, "Unhidden: these cards can be proposed as duplicates again.", ">Hidden groups (0)</a>")
	if got := dupShownGroups(body); !slices.Equal(got, ids) {
		t.Errorf("after unhiding the list shows %v, want %v", got, ids)
	}

	// Hide again, delete one of its cards: the hidden page says so.
	resp, _ = s.post(t, list+"/groups/"+ids[0]+"/hide", nil)
	dupStatus(t, resp, http.StatusSeeOther, "")
	hidden, err := ts.Store.HiddenGroups(context.Background(), coll.ID)
	if err != nil || len(hidden) != 1 {
		t.Fatalf("hidden %v %v", hidden, err)
	}
	if err := ts.Store.DeleteObject(context.Background(), coll.ID, hidden[0][0]+".vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	resp, body = s.get(t, list+"/hidden")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "<h1>Hidden groups</h1>", "<li>a card no longer in this book</li><li>"+name[1]+"</li>", ">Unhide</button>")
	resp, _ = s.post(t, list+"/hidden/"+ids[0]+"/unhide", nil)
	dupStatus(t, resp, http.StatusSeeOther, "")
	if loc := resp.Header.Get("Location"); loc != list+"/hidden" {
		t.Errorf("unhide from the hidden page redirects to %q", loc)
	}
	_, body = s.get(t, list+"/hidden")
	dupHas(t, body, "No hidden groups in this address book.")
	resp, _ = s.post(t, list+"/hidden/"+ids[0]+"/unhide", nil)
	dupStatus(t, resp, http.StatusNotFound, "")

	// Another user's hidden group is not found.
	resp, _ = s.post(t, list+"/groups/"+ids[1]+"/hide", nil)
	dupStatus(t, resp, http.StatusSeeOther, "")
	ts.addUser(t, "bob@example.org")
	dupPut(t, ts.Store, "bob@example.org", nil)
	bob := ts.signedIn(t, "bob@example.org")
	resp, _ = bob.post(t, list+"/hidden/"+ids[1]+"/unhide", nil)
	dupStatus(t, resp, http.StatusNotFound, "")
	_, body = bob.get(t, list+"/hidden")
	if strings.Contains(body, "Ann ") {
		t.Error("bob sees alice's hidden cards")
	}
}

// Past merges name the merged cards, also once a merge is undone (from
// the cards back in the book).
func TestDuplicatesPastMergesNames(t *testing.T) {
	ts, coll, s, _ := dupOpen(t)
	const list = "/account/duplicates/contacts"
	_, body := s.get(t, list)
	ids := dupShownGroups(body)
	resp, _ := s.post(t, list+"/groups/"+ids[0]+"/merge", dupForm(t, body, list+"/groups/"+ids[0]+"/merge"))
	dupStatus(t, resp, http.StatusSeeOther, "")
	ms, _ := ts.Store.ListMerges(context.Background(), coll.ID)
	resp, _ = s.post(t, list+"/merges/"+strconv.FormatInt(ms[0].ID, 10)+"/undo", nil)
	dupStatus(t, resp, http.StatusSeeOther, "")
	_, body = s.get(t, list+"/merges")
	dupHas(t, body, `<td>3 cards: <ul class="dup-merged"><li>Jane Doe</li><li>Jane Doe</li><li>Jane Doe</li></ul></td>`, "undone ")
}

// A merge from the review page lands on the list where the person came
// from, at the group after the merged one, as a merge from the list does.
func TestReviewMergeLandsOnTheNextGroup(t *testing.T) {
	_, _, s := dupListServer(t, 30, 10)
	const list = "/account/duplicates/contacts"
	_, body := s.get(t, list+"?band=likely&page=2")
	ids := dupShownGroups(body)
	if len(ids) < 3 {
		t.Fatalf("%d groups on page 2 of the likely ones", len(ids))
	}
	review := list + "/groups/" + ids[1]
	resp, body := s.get(t, review+"?back="+url.QueryEscape("band=likely&page=2"))
	dupStatus(t, resp, http.StatusOK, body)
	form := dupForm(t, body, review+"/merge")
	if form.Get("next") != ids[2] || form.Get("back") != "band=likely&page=2" {
		t.Fatalf("the review page's merge form: %v", form)
	}
	resp, _ = s.post(t, review+"/merge", form)
	dupStatus(t, resp, http.StatusSeeOther, "")
	loc := resp.Header.Get("Location")
	if !regexp.MustCompile(`^/account/duplicates/contacts\?at=` + ids[2] + `&band=likely&merged=\d+&page=2#done$`).MatchString(loc) {
		t.Errorf("the merge from the review page redirects to %q", loc)
	}
}
