package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// collCard is a vCard 3.0 with uid, fn and tel.
func collCard(uid, fn, tel string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nTEL:" + tel + "\r\nEND:VCARD\r\n"
}

// collBook creates an address book of login holding cards.
func collBook(t *testing.T, ts *testServer, login, name string, cards ...string) *store.Collection {
	t.Helper()
	ctx := context.Background()
	c := &store.Collection{Owner: login, Kind: store.KindCard, Name: name, DisplayName: strings.ToUpper(name[:1]) + name[1:]}
	if err := ts.Store.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i, card := range cards {
		o := &store.Object{Collection: c.ID, Name: "c" + string(rune('a'+i)) + ".vcf", UID: "c" + string(rune('a'+i)), Data: []byte(card)}
		if _, _, err := ts.Store.PutObject(ctx, o, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func collGet(t *testing.T, ts *testServer, login string, kind store.Kind, name string) *store.Collection {
	t.Helper()
	c, err := ts.Store.GetCollection(context.Background(), login, kind, name)
	if err != nil {
		t.Fatalf("collection %s: %v", name, err)
	}
	return c
}

// collUpload posts a file to an import form.
func collUpload(t *testing.T, s *testSession, path, csrf, filename, content string, keep bool) (*http.Response, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", csrf)
	if keep {
		mw.WriteField("keep", "1")
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	return s.do(t, http.MethodPost, path, mw.FormDataContentType(), &b)
}

func TestCollectionsList(t *testing.T) {
	ts := newTestServer(t)
	collBook(t, ts, testLogin, "friends", collCard("a", "Ann", "1"), collCard("b", "Bob", "2"))
	s := ts.signedIn(t, testLogin)
	resp, body := s.get(t, "/account/collections")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"<h1>Address books and calendars</h1>", "<h2>Address books</h2>", "<h2>Calendars and task lists</h2>",
		"Friends<br><code class=\"hint\">friends</code>", "2 cards", "bytes",
		`<a href="/account/collections/addressbooks/friends">Edit</a>`,
		`<a href="/account/collections/addressbooks/friends/export" download>Export</a>`,
		`<label for="coll-name">Name</label>`, `<label for="coll-kind">Kind</label>`, `<label for="coll-colour">Colour</label>`,
		`type="color"`, `<option value="tasks">Task list</option>`, ">Create</button>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %s", want)
		}
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%d h1 elements", n)
	}
}

func TestCollectionsCreate(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	for _, tc := range []struct {
		kind, display, name string
		storeKind           store.Kind
		components          []string
	}{
		{"addressbook", "Work People", "work-people", store.KindCard, nil},
		{"addressbook", "Work people!", "work-people-2", store.KindCard, nil},
		{"calendar", "Family · Events", "family-events", store.KindCal, []string{"VEVENT"}},
		{"tasks", "Family · Events", "family-events-2", store.KindCal, []string{"VTODO"}},
	} {
		resp, body := s.post(t, "/account/collections", url.Values{"name": {tc.display}, "kind": {tc.kind}, "colour": {"#a0b1c2"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("create %s: %d\n%s", tc.display, resp.StatusCode, body)
		}
		c := collGet(t, ts, testLogin, tc.storeKind, tc.name)
		if c.DisplayName != tc.display || !slices.Equal(c.Components, tc.components) || c.Color != "#A0B1C2" {
			t.Errorf("created %+v", c)
		}
	}
	// A name with no ASCII letter or digit gets a UUID.
	if resp, _ := s.post(t, "/account/collections", url.Values{"name": {"Êê"}, "kind": {"calendar"}, "colour": {"#000000"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create Êê: %d", resp.StatusCode)
	}
	cs, _ := ts.Store.ListCollections(context.Background(), testLogin, store.KindCal)
	found := false
	for _, c := range cs {
		found = found || c.DisplayName == "Êê" && len(c.Name) == 36
	}
	if !found {
		t.Errorf("no UUID-named calendar in %+v", cs)
	}
	for _, bad := range []url.Values{
		{"name": {"x"}, "kind": {"nope"}, "colour": {"#000000"}},
		{"name": {"x"}, "kind": {"calendar"}, "colour": {"red"}},
		{"name": {" "}, "kind": {"calendar"}, "colour": {"#000000"}},
	} {
		if resp, _ := s.post(t, "/account/collections", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("create %v: %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestCollectionEdit(t *testing.T) {
	ts := newTestServer(t)
	c := collBook(t, ts, testLogin, "friends")
	// Apple stores an alpha; the input shows the first seven characters.
	ts.Store.UpdateCollection(context.Background(), c.ID, func(x *store.Collection) error { x.Color = "#FF8800FF"; return nil })
	s := ts.signedIn(t, testLogin)
	path := "/account/collections/addressbooks/friends"
	resp, body := s.get(t, path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Friends</h1>") || !strings.Contains(body, `value="#ff8800"`) ||
		!strings.Contains(body, `<label for="coll-displayname">Display name</label>`) || !strings.Contains(body, ">Delete…</a>") ||
		!strings.Contains(body, "File to import (.vcf or .ics)") || !strings.Contains(body, `enctype="multipart/form-data"`) {
		t.Fatalf("edit page: %d\n%s", resp.StatusCode, body)
	}
	// Renaming with the colour unchanged keeps the alpha.
	resp, _ = s.post(t, path, url.Values{"displayname": {"Good friends"}, "colour": {"#ff8800"}})
	if got := collGet(t, ts, testLogin, store.KindCard, "friends"); resp.StatusCode != http.StatusSeeOther || got.DisplayName != "Good friends" || got.Color != "#FF8800FF" {
		t.Fatalf("rename: %d %+v", resp.StatusCode, got)
	}
	resp, _ = s.post(t, path, url.Values{"displayname": {"Good friends"}, "colour": {"#123456"}})
	if got := collGet(t, ts, testLogin, store.KindCard, "friends"); resp.StatusCode != http.StatusSeeOther || got.Color != "#123456" {
		t.Fatalf("colour: %d %+v", resp.StatusCode, got)
	}
	if resp, _ = s.post(t, path, url.Values{"displayname": {"X"}, "colour": {"#12345"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad colour: %d", resp.StatusCode)
	}
	if resp, _ = s.post(t, path, url.Values{"displayname": {""}, "colour": {"#123456"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty name: %d", resp.StatusCode)
	}
}

func TestCollectionDelete(t *testing.T) {
	ts := newTestServer(t)
	collBook(t, ts, testLogin, "old", collCard("a", "Ann", "1"))
	s := ts.signedIn(t, testLogin)
	path := "/account/collections/addressbooks/old/delete"
	resp, body := s.get(t, path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Delete Old?</h1>") || !strings.Contains(body, ">Delete for good</button>") ||
		!strings.Contains(body, `<a href="/account/collections/addressbooks/old">Cancel</a>`) {
		t.Fatalf("confirm page: %d\n%s", resp.StatusCode, body)
	}
	collGet(t, ts, testLogin, store.KindCard, "old") // the GET changed nothing
	resp, _ = s.post(t, path, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if _, err := ts.Store.GetCollection(context.Background(), testLogin, store.KindCard, "old"); err == nil {
		t.Error("the address book is still there")
	}
}

func TestCollectionExport(t *testing.T) {
	ts := newTestServer(t)
	collBook(t, ts, testLogin, "friends", collCard("a", "Ann", "1"), collCard("b", "Bob", "2"))
	s := ts.signedIn(t, testLogin)
	resp, body := s.get(t, "/account/collections/addressbooks/friends/export")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/vcard; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=friends.vcf` {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	if strings.Count(body, "BEGIN:VCARD") != 2 || !strings.Contains(body, "FN:Bob") {
		t.Errorf("export body:\n%s", body)
	}
	ctx := context.Background()
	cal := &store.Collection{Owner: testLogin, Kind: store.KindCal, Name: "home", Components: []string{"VEVENT"}}
	ts.Store.CreateCollection(ctx, cal)
	resp, body = s.get(t, "/account/collections/calendars/home/export")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=home.ics` || !strings.Contains(body, "BEGIN:VCALENDAR") {
		t.Fatalf("calendar export: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
}

func TestCollectionImport(t *testing.T) {
	ts := newTestServer(t)
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	path := "/account/collections/addressbooks/friends/import"
	file := collCard("a", "Ann", "1") + "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN broken\r\nEND:VCARD\r\n" +
		collCard("b", "Bob", "2") + collCard("b2", "Bob", "2")
	resp, body := collUpload(t, s, path, s.CSRF, "phone.vcf", file, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{"Imported phone.vcf", "Added: 2", "Updated: 0", "Skipped (already here): 1", "Rejected: 1",
		`<th scope="row">10</th><td>—</td><td>Rejected: property without a colon</td>`, `<th scope="row">18</th><td>Bob</td><td>Skipped: same content as Bob, already in this address book</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("summary lacks %s\n%s", want, body)
		}
	}
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); c.Count != 2 {
		t.Errorf("%d cards after import, want 2", c.Count)
	}
	_, body = collUpload(t, s, path, s.CSRF, "phone.vcf", file, false)
	if !strings.Contains(body, "Added: 0") || !strings.Contains(body, "Skipped (already here): 3") {
		t.Errorf("second import:\n%s", body)
	}
	_, body = collUpload(t, s, path, s.CSRF, "phone.vcf", file, true)
	if !strings.Contains(body, "Added: 1") {
		t.Errorf("import keeping the same content:\n%s", body)
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
	if resp, body := collUpload(t, s, path, s.CSRF, "cal.ics", ics, false); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not an address book") {
		t.Errorf(".ics into an address book: %d\n%s", resp.StatusCode, body)
	}
	ctx := context.Background()
	ts.Store.CreateCollection(ctx, &store.Collection{Owner: testLogin, Kind: store.KindCal, Name: "home", Components: []string{"VEVENT"}})
	if resp, body := collUpload(t, s, "/account/collections/calendars/home/import", s.CSRF, "phone.vcf", file, false); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not a calendar") {
		t.Errorf(".vcf into a calendar: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := collUpload(t, s, path, "", "phone.vcf", file, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("import without csrf: %d", resp.StatusCode)
	}
}

func TestCollectionsOfAnotherUser(t *testing.T) {
	ts := newTestServer(t)
	ts.addUser(t, "bob@example.org")
	collBook(t, ts, "bob@example.org", "secret", collCard("a", "Ann", "1"))
	s := ts.signedIn(t, testLogin)
	base := "/account/collections/addressbooks/secret"
	for _, p := range []string{base, base + "/export", base + "/delete"} {
		if resp, body := s.get(t, p); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "FN:Ann") {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := s.post(t, base, url.Values{"displayname": {"Mine"}, "colour": {"#000000"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("rename: %d", resp.StatusCode)
	}
	if resp, _ := collUpload(t, s, base+"/import", s.CSRF, "x.vcf", collCard("z", "Zed", "9"), false); resp.StatusCode != http.StatusNotFound {
		t.Errorf("import: %d", resp.StatusCode)
	}
	if resp, _ := s.post(t, base+"/delete", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	c := collGet(t, ts, "bob@example.org", store.KindCard, "secret")
	if c.DisplayName != "Secret" || c.Count != 1 {
		t.Errorf("bob's address book changed: %+v", c)
	}
	// And the list does not show it.
	if _, body := s.get(t, "/account/collections"); strings.Contains(body, "secret") {
		t.Error("the list shows another user's address book")
	}
}

func TestCollectionsNeedCSRF(t *testing.T) {
	ts := newTestServer(t)
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	for _, p := range []string{"/account/collections", "/account/collections/addressbooks/friends", "/account/collections/addressbooks/friends/delete"} {
		if resp, _ := s.post(t, p, url.Values{"csrf": {""}, "name": {"X"}, "displayname": {"X"}, "kind": {"calendar"}, "colour": {"#000000"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without csrf: %d", p, resp.StatusCode)
		}
	}
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); c.DisplayName != "Friends" {
		t.Errorf("changed without csrf: %+v", c)
	}
}

func TestCollectionImportTooLarge(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxUpload = 4 << 10 })
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	big := strings.Repeat(collCard("a", "Ann", "1"), 200)
	resp, body := collUpload(t, s, "/account/collections/addressbooks/friends/import", s.CSRF, "big.vcf", big, false)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "4.0 KB") {
		t.Errorf("upload over the limit: %d\n%s", resp.StatusCode, body)
	}
	if c := collGet(t, ts, testLogin, store.KindCard, "friends"); c.Count != 0 {
		t.Errorf("%d cards after a refused upload", c.Count)
	}
}
