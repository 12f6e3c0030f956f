package migrate

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

func card(uid, fn string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n"
}

func event(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240301T100000Z\r\nDURATION:PT1H\r\nSUMMARY:" + summary +
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func todo(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:" + uid +
		"\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:" + summary + "\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
}

// seeded is our server with an account of two address books, a calendar
// and a task list, colours, descriptions and components, and objects
// whose text holds what XML escapes.
func seeded(t *testing.T, wrap func(http.Handler) http.Handler) *ourServer {
	s := newOurServer(t, wrap)
	s.collection(store.Collection{Kind: store.KindCard, Name: "friends", DisplayName: "Friends & Family",
		Description: "people <I> know", Color: "#ff000080"})
	s.collection(store.Collection{Kind: store.KindCal, Name: "work", DisplayName: "Work", Description: "the office",
		Color: "#00FF00", Components: []string{"VEVENT"}})
	s.collection(store.Collection{Kind: store.KindCal, Name: "todo", DisplayName: "To do", Components: []string{"VTODO"}})
	s.put(s.path(store.KindCard, "contacts", "ann.vcf"), card("ann", "Ann <Smith> & Co"))
	s.put(s.path(store.KindCard, "contacts", "bob.vcf"), card("bob", "Bøb \"the\" Builder"))
	s.put(s.path(store.KindCard, "friends", "c%20d.vcf"), card("c d", "Cee Dee"))
	s.put(s.path(store.KindCal, "work", "e1.ics"), event("e1", "Meeting ]]> & more"))
	s.put(s.path(store.KindCal, "todo", "t1.ics"), todo("t1", "Buy milk"))
	return s
}

// Discovery from the host's root URL (and from every other URL of the
// account) finds every collection with its name, display name,
// description, colour, components and sync token.
func TestCollectionsOfOurServer(t *testing.T) {
	s := seeded(t, nil)
	src := open(t, s.URL)
	if want := s.URL + "/dav/principals/" + srcLogin + "/"; src.Principal() != want {
		t.Errorf("principal %s, want %s", src.Principal(), want)
	}
	cs, err := src.Collections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]SourceCollection{}
	for _, c := range cs {
		if c.SyncToken == "" {
			t.Errorf("%s: no sync token", c.Name)
		}
		c.SyncToken = ""
		byName[string(c.Kind)+"/"+c.Name] = c
	}
	want := map[string]SourceCollection{
		"card/contacts": {URL: s.URL + s.path(store.KindCard, "contacts"), Kind: store.KindCard, Name: "contacts", DisplayName: "Contacts"},
		"card/friends": {URL: s.URL + s.path(store.KindCard, "friends"), Kind: store.KindCard, Name: "friends",
			DisplayName: "Friends & Family", Description: "people <I> know", Color: "#FF000080"},
		"cal/work": {URL: s.URL + s.path(store.KindCal, "work"), Kind: store.KindCal, Name: "work",
			DisplayName: "Work", Description: "the office", Color: "#00FF00", Components: []string{"VEVENT"}},
		"cal/todo": {URL: s.URL + s.path(store.KindCal, "todo"), Kind: store.KindCal, Name: "todo",
			DisplayName: "To do", Components: []string{"VTODO"}},
	}
	for k, w := range want {
		g, ok := byName[k]
		if !ok {
			t.Errorf("%s not listed", k)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %+v\nwant %+v", k, g, w)
		}
	}
	// The defaults are there too (a calendar made by EnsureDefaults).
	if len(cs) < len(want)+1 {
		t.Errorf("%d collections: %+v", len(cs), cs)
	}
	for _, u := range []string{s.URL + "/.well-known/carddav", s.URL + "/.well-known/caldav", src.Principal(),
		s.URL + "/dav/addressbooks/" + srcLogin + "/", s.URL + s.path(store.KindCal, "work"),
		strings.TrimPrefix(s.URL, "http://") + "/dav/"} {
		if !strings.Contains(u, "://") {
			// Without a scheme the URL means https: our test server
			// speaks http, so this one must fail to connect with TLS.
			_, err := Open(context.Background(), SourceOptions{URL: u, User: srcLogin, Password: srcPW, AllowPrivate: true})
			sourceErr(t, err, BadCertificate)
			continue
		}
		other := open(t, u)
		ocs, err := other.Collections(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if len(ocs) != len(cs) {
			t.Errorf("from %s: %d collections, want %d", u, len(ocs), len(cs))
		}
	}
}

// find returns the collection of cs with kind k and name.
func find(t testing.TB, cs []SourceCollection, k store.Kind, name string) *SourceCollection {
	t.Helper()
	for i := range cs {
		if cs[i].Kind == k && cs[i].Name == name {
			return &cs[i]
		}
	}
	t.Fatalf("no %s %s in %+v", k, name, cs)
	return nil
}

// Objects gives every object byte for byte with the ETag a GET gives;
// with the token it returned, only what changed since (deletions too);
// with a token the source refuses, every object again, and says so.
func TestObjectsOfOurServer(t *testing.T) {
	s := seeded(t, nil)
	for i := range 250 { // more than two multigets
		uid := fmt.Sprintf("many-%03d", i)
		s.put(s.path(store.KindCard, "contacts", uid+".vcf"), card(uid, "Many "+uid))
	}
	src := open(t, s.URL)
	ctx := context.Background()
	cs, err := src.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	book := find(t, cs, store.KindCard, "contacts")
	// exact checks that got holds exactly the objects at the paths, as a
	// GET gives them.
	exact := func(got map[string]*Fetched, paths ...string) {
		t.Helper()
		if len(got) != len(paths) {
			t.Errorf("%d objects, want %d", len(got), len(paths))
		}
		for _, p := range paths {
			f := got[p]
			if f == nil {
				t.Errorf("%s missing", p)
				continue
			}
			code, etag, body := s.do(http.MethodGet, p, "")
			if code != http.StatusOK || f.Err != nil || f.Deleted || !bytes.Equal(f.Data, body) || f.ETag != etag {
				t.Errorf("%s: got %q %q %v %v, GET gives %d %q %q", p, f.ETag, f.Data, f.Err, f.Deleted, code, etag, body)
			}
		}
	}
	got, token, full := collect(t, src, book, "")
	if !full || token == "" {
		t.Errorf("full %v, token %q", full, token)
	}
	paths := []string{s.path(store.KindCard, "contacts", "ann.vcf"), s.path(store.KindCard, "contacts", "bob.vcf")}
	for i := range 250 {
		paths = append(paths, s.path(store.KindCard, "contacts", fmt.Sprintf("many-%03d.vcf", i)))
	}
	exact(got, paths...)
	if n, err := src.Count(ctx, book); err != nil || n != 252 {
		t.Errorf("Count: %d, %v", n, err)
	}

	friends := find(t, cs, store.KindCard, "friends")
	got, _, _ = collect(t, src, friends, "")
	exact(got, s.path(store.KindCard, "friends", "c%20d.vcf"))
	work := find(t, cs, store.KindCal, "work")
	got, _, _ = collect(t, src, work, "")
	exact(got, s.path(store.KindCal, "work", "e1.ics"))

	// Changes at the source: one card changed, one deleted, one added.
	s.put(s.path(store.KindCard, "contacts", "ann.vcf"), card("ann", "Ann Changed"))
	if code, _, _ := s.do(http.MethodDelete, s.path(store.KindCard, "contacts", "bob.vcf"), ""); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	s.put(s.path(store.KindCard, "contacts", "dan.vcf"), card("dan", "Dan New"))
	got, token2, full := collect(t, src, book, token)
	if full || token2 == "" || token2 == token {
		t.Errorf("after changes: full %v, token %q (was %q)", full, token2, token)
	}
	del := got[s.path(store.KindCard, "contacts", "bob.vcf")]
	if del == nil || !del.Deleted || del.Data != nil {
		t.Errorf("the deleted card: %+v", del)
	}
	delete(got, s.path(store.KindCard, "contacts", "bob.vcf"))
	exact(got, s.path(store.KindCard, "contacts", "ann.vcf"), s.path(store.KindCard, "contacts", "dan.vcf"))

	// Nothing changed since: nothing.
	got, token3, full := collect(t, src, book, token2)
	if len(got) != 0 || full || token3 != token2 {
		t.Errorf("no change: %d objects, full %v, token %q (was %q)", len(got), full, token3, token2)
	}

	// A token the source does not know (ours answers 400 with
	// DAV:valid-sync-token): every object, full.
	bad := strings.Replace(token2, "-", "-9", 1) + "9"
	got, token4, full := collect(t, src, book, bad)
	if !full || token4 == "" || len(got) != 252 {
		t.Errorf("refused token: full %v, token %q, %d objects", full, token4, len(got))
	}
	for _, f := range got {
		if f.Deleted || f.Err != nil || f.Data == nil {
			t.Errorf("after a refused token: %+v", f)
		}
	}
}

// Without a sync token the listing is a PROPFIND; the objects are the
// same.
func TestObjectsWithoutSyncToken(t *testing.T) {
	s := seeded(t, nil)
	src := open(t, s.URL)
	cs, err := src.Collections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	book := *find(t, cs, store.KindCard, "contacts")
	book.SyncToken = ""
	got, next, full := collect(t, src, &book, "")
	if next != "" || !full || len(got) != 2 {
		t.Fatalf("next %q, full %v, %d objects", next, full, len(got))
	}
	for p, f := range got {
		_, etag, body := s.do(http.MethodGet, p, "")
		if !bytes.Equal(f.Data, body) || f.ETag != etag {
			t.Errorf("%s: %q %q", p, f.ETag, f.Data)
		}
	}
	if n, err := src.Count(context.Background(), &book); err != nil || n != 2 {
		t.Errorf("Count: %d, %v", n, err)
	}
}

// Well-known URLs that redirect (with 301, as Radicale and Nextcloud do,
// or 302, as Xandikos) are followed with the PROPFIND kept, when the URL
// given answers nothing useful.
func TestDiscoveryFollowsRedirects(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusPermanentRedirect} {
		s := seeded(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasPrefix(r.URL.Path, "/.well-known/"):
					http.Redirect(w, r, "/dav/", code)
				case r.URL.Path == "/":
					http.Error(w, "a web site", http.StatusMethodNotAllowed)
				default:
					h.ServeHTTP(w, r)
				}
			})
		})
		src := open(t, s.URL)
		if want := s.URL + "/dav/principals/" + srcLogin + "/"; src.Principal() != want {
			t.Errorf("%d: principal %s", code, src.Principal())
		}
		cs, err := src.Collections(context.Background())
		if err != nil || len(cs) < 4 {
			t.Errorf("%d: %d collections, %v", code, len(cs), err)
		}
	}
}

// A principal whose home sets are on another host (iCloud's principals
// at caldav.icloud.com name homes at p42-caldav.icloud.com): the
// collections are read at the homes' host. go-webdav's own home-set
// lookup keeps only the path and would ask the principal's host.
func TestHomesOnAnotherHost(t *testing.T) {
	homes := seeded(t, nil)
	front := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PROPFIND" {
			http.Error(w, "no", http.StatusMethodNotAllowed)
			return
		}
		body := `<d:current-user-principal><d:href>/1234/principal/</d:href></d:current-user-principal>`
		if r.URL.Path == "/1234/principal/" {
			body = `<C:addressbook-home-set><d:href>` + homes.URL + `/dav/addressbooks/` + srcLogin + `/</d:href></C:addressbook-home-set>` +
				`<CAL:calendar-home-set><d:href>` + homes.URL + `/dav/calendars/` + srcLogin + `/</d:href></CAL:calendar-home-set>`
		}
		multistatus(w, `<d:response><d:href>`+r.URL.Path+`</d:href><d:propstat><d:prop>`+body+
			`</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
	}))
	src := open(t, front.URL)
	if src.Principal() != front.URL+"/1234/principal/" {
		t.Errorf("principal %s", src.Principal())
	}
	cs, err := src.Collections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	book := find(t, cs, store.KindCard, "friends")
	if u, _ := url.Parse(book.URL); "http://"+u.Host != homes.URL || book.Color != "#FF000080" {
		t.Errorf("friends: %+v", book)
	}
	got, _, _ := collect(t, src, find(t, cs, store.KindCal, "work"), "")
	if len(got) != 1 {
		t.Errorf("%d objects", len(got))
	}
}

func TestNormColor(t *testing.T) {
	for in, want := range map[string]string{
		"#ff2968": "#FF2968", "#FF2968FF": "#FF2968FF", " #abc ": "#AABBCC", "0a0B0c": "#0A0B0C",
		"": "", "red": "", "#12345": "", "#1234567890": "", "rgb(1,2,3)": "", "#GG0000": "",
	} {
		if got := normColor(in); got != want {
			t.Errorf("normColor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestComponents(t *testing.T) {
	got := components([]string{"VEVENT", "vtodo", "VFREEBUSY", "VEVENT", "VJOURNAL"})
	if !slices.Equal(got, []string{"VEVENT", "VTODO", "VJOURNAL"}) {
		t.Errorf("%v", got)
	}
}
