package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/migrate"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/testdb"
)

// The account at the provider migrated from.
const (
	migLogin    = "ann@old.example"
	migPassword = "ann's password at the old provider"
)

// migSource is the provider migrated from: a second rolodav's DAV server
// on its own store, with migLogin.
type migSource struct {
	URL   string // its root, with a trailing slash
	Store store.Store
}

// newMigSource serves a DAV server whose migLogin has cards cards in
// "contacts" (one of them, "big", of more than 8 KiB when big) and events
// events in "calendar"; wrap, when set, goes around its handler.
func newMigSource(t *testing.T, cards, events int, big bool, wrap func(http.Handler) http.Handler) *migSource {
	t.Helper()
	ctx := context.Background()
	st := testdb.Open(t, filepath.Join(t.TempDir(), "source.db"), store.Options{})
	t.Cleanup(func() { st.Close() })
	hash, err := auth.HashPassword(migPassword, cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{Login: migLogin, PasswordHash: hash, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, migLogin); err != nil {
		t.Fatal(err)
	}
	var vcf strings.Builder
	for i := range cards {
		fmt.Fprintf(&vcf, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:src-%d\r\nFN:Person %d\r\nN:%d;Person;;;\r\nEMAIL:p%d@old.example\r\nEND:VCARD\r\n", i, i, i, i)
	}
	if big {
		fmt.Fprintf(&vcf, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nFN:Big Card\r\nNOTE:%s\r\nEND:VCARD\r\n", strings.Repeat("x", 9000))
	}
	migImport(t, st, store.KindCard, "contacts", vcf.String())
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n")
	for i := range events {
		fmt.Fprintf(&ics, "BEGIN:VEVENT\r\nUID:ev-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:202601%02dT090000Z\r\nDURATION:PT1H\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\n", i, i%28+1, i)
	}
	ics.WriteString("END:VCALENDAR\r\n")
	if events > 0 {
		migImport(t, st, store.KindCal, "calendar", ics.String())
	}
	var h http.Handler = dav.New(dav.Config{Store: st, Auth: auth.NewAuthenticator(st, auth.Options{
		Sleep: func(context.Context, time.Duration) error { return nil },
	})})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &migSource{URL: srv.URL + "/", Store: st}
}

func migImport(t *testing.T, st store.Store, kind store.Kind, name, data string) {
	t.Helper()
	c, err := st.GetCollection(context.Background(), migLogin, kind, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Run(context.Background(), st, c, strings.NewReader(data), imports.Options{}); err != nil {
		t.Fatal(err)
	}
}

// migSlow delays every request to the source by d, or until the request
// is given up.
func migSlow(d time.Duration) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// migLog keeps every log line of the pages' server.
type migLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *migLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *migLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// migServer is the pages' server with imports from private addresses
// allowed (the sources are on loopback), cards up to 8 KiB, its log kept,
// and a background that ends (and is waited for) before its store closes.
func migServer(t *testing.T, opts ...func(*Config)) (*testServer, *migLog, context.CancelFunc) {
	t.Helper()
	log := &migLog{}
	bg, stop := context.WithCancel(context.Background())
	ts := newTestServer(t, append([]func(*Config){func(c *Config) {
		c.MigrateAllowPrivate = true
		c.MaxResourceSize = 8 << 10
		c.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Background = bg
	}}, opts...)...)
	t.Cleanup(func() {
		stop()
		ts.Server.Wait()
	})
	return ts, log, stop
}

var migRefresh = regexp.MustCompile(`<meta http-equiv="refresh" content="(\d+)">`)

// migStart submits the form and returns the progress page's path it
// redirects to.
func migStart(t *testing.T, s *testSession, form url.Values) string {
	t.Helper()
	resp, body := s.post(t, "/account/migrations", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d, want 303\n%s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !regexp.MustCompile(`^/account/migrations/\d+$`).MatchString(loc) {
		t.Fatalf("start redirects to %q", loc)
	}
	return loc
}

func migForm(src *migSource, password string) url.Values {
	return url.Values{"url": {src.URL}, "user": {migLogin}, "password": {password}}
}

// migWait reloads the progress page, as its meta refresh does, until it
// stops refreshing, and returns it.
func migWait(t *testing.T, s *testSession, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, body := s.get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		m := migRefresh.FindStringSubmatch(body)
		if m == nil {
			return body
		}
		if m[1] != "2" {
			t.Fatalf("refresh every %s s, want 2", m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("the migration did not end:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func migID(t *testing.T, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(path[strings.LastIndexByte(path, '/')+1:], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func migHas(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, body)
		}
	}
}

// migRows returns every value of every row of the store, as text: what
// "stored" means.
func migRows(t *testing.T, st store.Store) string {
	t.Helper()
	rs, ok := st.(store.Rows)
	if !ok {
		t.Fatal("the store has no raw rows")
	}
	var b strings.Builder
	err := rs.ReadRows(context.Background(), func(r store.RowReader) error {
		for i := range store.Tables {
			for row, err := range r.Scan(context.Background(), &store.Tables[i]) {
				if err != nil {
					return err
				}
				for _, v := range row {
					fmt.Fprintf(&b, "%s\x00", v)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The whole flow: the form, the redirect, the progress page to its end,
// the summary with the duplicates offer and the reasons, the activity
// page, the mail, the objects here; and the password nowhere.
func TestMigrationFlow(t *testing.T) {
	src := newMigSource(t, 25, 2, true, nil)
	ts, log, _ := migServer(t)
	ctx := context.Background()
	if err := accounts.EnsureDefaults(ctx, ts.Store, testLogin); err != nil {
		t.Fatal(err)
	}
	contacts := collGet(t, ts, testLogin, store.KindCard, "contacts")
	if _, err := imports.Run(ctx, ts.Store, contacts, strings.NewReader(collCard("mine", "Mine", "+1 555 0100")), imports.Options{}); err != nil {
		t.Fatal(err)
	}
	s := ts.signedIn(t, testLogin)

	resp, body := s.get(t, "/account/collections")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("collections: %d", resp.StatusCode)
	}
	migHas(t, "collections page", body, `<h2 id="migrate">Import from another provider</h2>`,
		`action="/account/migrations"`, `<label for="mig-url">Server address</label>`, `<label for="mig-user">Login there</label>`,
		`<label for="mig-password">Password there</label>`, `type="password"`, `autocomplete="new-password"`,
		`<legend>What to bring</legend>`, `value="contacts"`, `value="calendars"`, ">Start the import</button>")

	path := migStart(t, s, migForm(src, migPassword))
	body = migWait(t, s, path)
	ts.Server.Wait()
	m, err := ts.Store.GetMigration(ctx, testLogin, migID(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.MigrationDone || m.Finished.IsZero() || m.Error != "" || m.Source != src.URL || m.SourceUser != migLogin {
		t.Fatalf("migration %s", migDesc(m))
	}
	migHas(t, "summary", body, "<h1>Import from another provider</h1>", ">Done<", "<code>"+src.URL+"</code>",
		"In all: 27 added, 0 updated, 0 already here, 1 not imported.",
		// The book had a card: the duplicates page is offered.
		`<a href="/account/duplicates/contacts">Look for duplicates in Contacts</a>`,
		`<a href="/account/collections/addressbooks/contacts">Contacts</a>`,
		`<a href="/account/collections/calendars/calendar">Calendar</a>`,
		// The card over --max-resource-size, with its reason.
		"rejected: ")
	if strings.Contains(body, `/account/duplicates/calendar`) {
		t.Error("the duplicates page is offered for a calendar")
	}
	if n := collGet(t, ts, testLogin, store.KindCard, "contacts").Count; n != 26 {
		t.Errorf("contacts has %d cards, want 26", n)
	}
	if n := collGet(t, ts, testLogin, store.KindCal, "calendar").Count; n != 2 {
		t.Errorf("calendar has %d events, want 2", n)
	}

	_, body = s.get(t, "/account/activity")
	migHas(t, "activity", body, `<h2 id="imports">Imports from another provider</h2>`, "<code>"+src.URL+"</code>",
		"as "+html.EscapeString(migLogin), ">Done<", "27 added, 0 updated, 0 already here, 1 not imported", `<a href="`+path+`">Report`)

	list, err := ts.Store.ListNotices(ctx, testLogin, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Kind != store.NoticeMigration || list[0].Detail != "done 27 0 0 1 127.0.0.1" || list[0].Client != "Go-http-client/1.1" {
		t.Errorf("notices %+v", list)
	}

	// A second run adds nothing.
	path2 := migStart(t, s, migForm(src, migPassword))
	if path2 == path {
		t.Fatal("the second run is the first")
	}
	body = migWait(t, s, path2)
	migHas(t, "second run", body, "In all: 0 added")
	if strings.Contains(body, "Look for duplicates") {
		t.Error("a run that added nothing offers the duplicates page")
	}

	ts.waitRequest(t, "GET "+path2)
	ts.requests.mu.Lock()
	requests := strings.Join(ts.requests.lines, "\n")
	ts.requests.mu.Unlock()
	for what, text := range map[string]string{"store": migRows(t, ts.Store), "pages' log": log.String(), "request log": requests} {
		if strings.Contains(text, migPassword) {
			t.Errorf("the password is in the %s", what)
		}
	}
	if !strings.Contains(requests, "POST /account/migrations 303") {
		t.Errorf("the request log has no start:\n%s", requests)
	}
}

// Only contacts: the calendars stay at the source.
func TestMigrationOnlyContacts(t *testing.T) {
	src := newMigSource(t, 3, 2, false, nil)
	ts, _, _ := migServer(t)
	s := ts.signedIn(t, testLogin)
	form := migForm(src, migPassword)
	form.Set("only", migrate.OnlyContacts)
	body := migWait(t, s, migStart(t, s, form))
	migHas(t, "summary", body, "Only contacts", "In all: 3 added")
	if _, err := ts.Store.GetCollection(context.Background(), testLogin, store.KindCal, "calendar"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("only contacts made a calendar: %v", err)
	}
}

// The progress page of a running migration reloads itself every 2 s
// without JavaScript, shows each collection's progress, offers to stop
// reloading, and stops once the migration ended. The migration keeps
// running when the browser goes.
func TestMigrationProgress(t *testing.T) {
	// The source answers no REPORT until the test saw the run going: a
	// source that is merely slow races with a loaded machine.
	release := make(chan struct{})
	held := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "REPORT" {
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
	src := newMigSource(t, 40, 0, false, held)
	ts, _, _ := migServer(t)
	s := ts.signedIn(t, testLogin)
	path := migStart(t, s, migForm(src, migPassword))
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	var body string
	for {
		_, body = s.get(t, path)
		if strings.Contains(body, ">Contacts<") && migRefresh.MatchString(body) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no collection shown while running:\n%s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	migHas(t, "running", body, ">Running<", "This page reloads every 2 seconds.", `<a href="`+path+`?refresh=off">Stop reloading</a>`,
		"you can close this page")
	_, still := s.get(t, path+"?refresh=off")
	if migRefresh.MatchString(still) {
		t.Error("?refresh=off still reloads")
	}
	migHas(t, "not reloading", still, "This page does not reload.", `<a href="`+path+`">Reload it every 2 seconds</a>`)
	_, coll := s.get(t, "/account/collections")
	migHas(t, "collections while running", coll, `An import is running. <a href="`+path+`">See its progress</a>`)

	// Nobody looks: it ends all the same.
	close(release)
	ts.Server.Wait()
	m, err := ts.Store.GetMigration(context.Background(), testLogin, migID(t, path))
	if err != nil || m.State != store.MigrationDone {
		t.Fatalf("after the page went: %+v, %v", m, err)
	}
	body = migWait(t, s, path)
	migHas(t, "ended", body, "In all: 40 added")
	if strings.Contains(body, "Stop reloading") {
		t.Error("an ended migration offers to stop reloading")
	}
}

// A source that refuses the password, one that is not there, and one on
// a private address while they are not allowed: the page says why, in the
// source error's words.
func TestMigrationSourceErrors(t *testing.T) {
	src := newMigSource(t, 1, 0, false, nil)
	ts, _, _ := migServer(t)
	s := ts.signedIn(t, testLogin)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()

	strict, _, _ := migServer(t, func(c *Config) { c.MigrateAllowPrivate = false })
	strict.addUser(t, migLogin)
	ss := strict.signedIn(t, migLogin)

	sentences := map[string]bool{}
	for _, tc := range []struct {
		name  string
		s     *testSession
		ts    *testServer
		login string
		form  url.Values
	}{
		{"wrong password", s, ts, testLogin, migForm(src, "not the password")},
		{"unreachable", s, ts, testLogin, url.Values{"url": {closed}, "user": {migLogin}, "password": {migPassword}}},
		{"private address", ss, strict, migLogin, migForm(src, migPassword)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := migStart(t, tc.s, tc.form)
			body := migWait(t, tc.s, path)
			m, err := tc.ts.Store.GetMigration(context.Background(), tc.login, migID(t, path))
			if err != nil {
				t.Fatal(err)
			}
			if m.State != store.MigrationFailed || m.Error == "" || sentences[m.Error] {
				t.Fatalf("migration %s", migDesc(m))
			}
			sentences[m.Error] = true
			migHas(t, tc.name, body, ">Failed<", `<p class="error">`+html.EscapeString(m.Error)+"</p>")
		})
	}
	if c, err := strict.Store.GetCollection(context.Background(), migLogin, store.KindCard, "contacts"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused source made a book: %+v, %v", c, err)
	}
}

// The form refuses what cannot be a source, and shows the values again
// (never the password).
func TestMigrationFormRefused(t *testing.T) {
	ts, _, _ := migServer(t)
	s := ts.signedIn(t, testLogin)
	ok := url.Values{"url": {"https://dav.example.com/"}, "user": {"ann"}, "password": {"secret password"}}
	for _, tc := range []struct {
		name, key, value, msg string
	}{
		{"no address", "url", "", "Give the address of the other provider&#39;s server."},
		{"not http", "url", "ftp://dav.example.com/", "must start with https://"},
		{"credentials in the address", "url", "https://ann:pw@dav.example.com/", "in their own fields"},
		{"no host", "url", "https:///dav", "That is not a server address"},
		{"no login", "user", "", "Give your login and password"},
		{"no password", "password", "", "Give your login and password"},
		{"what to bring", "only", "everything", "Choose what to bring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range ok {
				form[k] = v
			}
			form.Set(tc.key, tc.value)
			resp, body := s.post(t, "/account/migrations", form)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%d, want 400", resp.StatusCode)
			}
			migHas(t, tc.name, body, tc.msg, `<h2 id="migrate">`)
			if tc.key != "user" {
				migHas(t, tc.name, body, `value="ann"`)
			}
			if strings.Contains(body, "secret password") {
				t.Error("the password is shown again")
			}
		})
	}
	if list, _ := ts.Store.ListMigrations(context.Background(), testLogin, 0); len(list) != 0 {
		t.Fatalf("refused forms recorded %d migrations", len(list))
	}
	// A bare host name is https.
	if got, msg := sourceURL("dav.example.com/remote.php/dav"); got != "https://dav.example.com/remote.php/dav" || msg != "" {
		t.Errorf("sourceURL of a bare host: %q %q", got, msg)
	}
}

// Another user's migration is not found, nor is one that does not exist;
// the form needs the session's CSRF token.
func TestMigrationAccess(t *testing.T) {
	ts, _, _ := migServer(t)
	ts.addUser(t, "bob@example.org")
	ctx := context.Background()
	m := &store.Migration{Owner: testLogin, Source: "https://dav.example.com/", SourceUser: "ann", Started: time.Now()}
	if err := ts.Store.StartMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	bob := ts.signedIn(t, "bob@example.org")
	for _, p := range []string{migrationPath(m.ID), "/account/migrations/999999", "/account/migrations/x"} {
		if resp, body := bob.get(t, p); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "dav.example.com") {
			t.Errorf("bob GET %s: %d\n%s", p, resp.StatusCode, body)
		}
	}
	ann := ts.signedIn(t, testLogin)
	if resp, _ := ann.get(t, migrationPath(m.ID)); resp.StatusCode != http.StatusOK {
		t.Errorf("ann GET her migration: %d", resp.StatusCode)
	}
	form := url.Values{"url": {"https://dav.example.com/"}, "user": {"ann"}, "password": {"pw"}, "csrf": {""}}
	if resp, _ := ann.post(t, "/account/migrations", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: %d, want 403", resp.StatusCode)
	}
	form.Set("csrf", "wrong")
	if resp, _ := ann.post(t, "/account/migrations", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	if list, _ := ts.Store.ListMigrations(ctx, testLogin, 0); len(list) != 1 {
		t.Errorf("%d migrations, want the one made here", len(list))
	}
}

// A second start while one runs (here one the command line or another
// server process runs: only its record is here) shows the running one.
func TestMigrationSecondStart(t *testing.T) {
	ts, _, _ := migServer(t)
	ctx := context.Background()
	m := &store.Migration{Owner: testLogin, Source: "https://dav.example.com/", SourceUser: "ann", Started: time.Now()}
	if err := ts.Store.StartMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	s := ts.signedIn(t, testLogin)
	resp, body := s.post(t, "/account/migrations", url.Values{"url": {"https://other.example.com/"}, "user": {"ann"}, "password": {"pw"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != migrationPath(m.ID) {
		t.Fatalf("second start: %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = s.get(t, migrationPath(m.ID))
	migHas(t, "the running one", body, "An import is already running: here it is.", "dav.example.com", ">Running<")
	if list, _ := ts.Store.ListMigrations(ctx, testLogin, 0); len(list) != 1 {
		t.Errorf("%d migrations, want 1", len(list))
	}
}

// The pages show what the record says, whoever runs the migration (the
// command line, another process): its progress, its summary with the
// reasons, and a run whose process died as interrupted.
func TestMigrationRecord(t *testing.T) {
	now := time.Now()
	ts, _, _ := migServer(t, func(c *Config) { c.Now = func() time.Time { return now } })
	ctx := context.Background()
	m := &store.Migration{Owner: testLogin, Source: "https://dav.example.com/", SourceUser: "ann", Started: now.Add(-time.Minute)}
	if err := ts.Store.StartMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	rep := migrate.Report{Collections: []migrate.ReportCollection{
		{Source: "https://dav.example.com/ann/work/", SourceName: "Work", Kind: store.KindCard, Dest: "work", DestName: "Work",
			Created: true, Status: migrate.StatusRunning, Read: 1234, Rejected: 1,
			Problems: []migrate.ReportProblem{{Ref: "/ann/work/bad.vcf", Msg: "the card has no FN <b>"}}},
		{Source: "https://dav.example.com/ann/cal/", SourceName: "Home", Kind: store.KindCal, Dest: "home", DestName: "Home",
			Created: true, Status: migrate.StatusWaiting},
	}}
	m.Heartbeat, m.Report = now, migJSON(t, &rep)
	if err := ts.Store.UpdateMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	s := ts.signedIn(t, testLogin)
	_, body := s.get(t, migrationPath(m.ID))
	if got := migRefresh.FindStringSubmatch(body); got == nil || got[1] != "2" {
		t.Fatalf("a running migration's page does not reload every 2 s:\n%s", body)
	}
	migHas(t, "running", body, ">Running<", ">Work<", ">Reading<", ">1234<", ">Waiting<",
		// Being made: its page is linked; not yet made: not.
		`<a href="/account/collections/addressbooks/work">Work</a>`,
		"rejected: the card has no FN &lt;b&gt;", "<code>/ann/work/bad.vcf</code>")
	if strings.Contains(body, `href="/account/collections/calendars/home"`) {
		t.Error("a calendar not made yet is linked")
	}

	rep.Ended = true
	rep.Collections[0].Status, rep.Collections[0].Added, rep.Collections[0].Before, rep.Collections[0].Created = migrate.StatusDone, 1233, 10, false
	rep.Collections[0].OfferDuplicates = true
	rep.Collections[1].Status = migrate.StatusNotReached
	m.State, m.Finished, m.Error, m.Report = store.MigrationFailed, now, "The other server answered 500.", migJSON(t, &rep)
	if err := ts.Store.UpdateMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, migrationPath(m.ID))
	if migRefresh.MatchString(body) {
		t.Error("an ended migration's page reloads")
	}
	migHas(t, "ended", body, ">Failed<", `<p class="error">The other server answered 500.</p>`, "In all: 1233 added, 0 updated, 0 already here, 1 not imported.",
		"Work had 10 cards before this import and got new ones.", `<a href="/account/duplicates/work">Look for duplicates in Work</a>`, ">Not reached<")

	// A running record whose heartbeat stopped: its process died midway.
	m2 := &store.Migration{Owner: testLogin, Source: "https://dead.example.com/", SourceUser: "ann", Started: now.Add(-time.Hour)}
	if err := ts.Store.StartMigration(ctx, m2); err != nil {
		t.Fatal(err)
	}
	rep.Ended = false
	rep.Collections[0].Status, rep.Collections[1].Status = migrate.StatusRunning, migrate.StatusWaiting
	m2.Heartbeat, m2.Report = now.Add(-time.Hour+time.Minute), migJSON(t, &rep)
	if err := ts.Store.UpdateMigration(ctx, m2); err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, migrationPath(m2.ID))
	if migRefresh.MatchString(body) {
		t.Error("an interrupted migration's page reloads")
	}
	migHas(t, "interrupted", body, ">Interrupted<", "The server running it stopped before the end.", ">Stopped<", ">Not reached<")
	if strings.Contains(body, ">Reading<") || strings.Contains(body, ">Waiting<") {
		t.Errorf("a dead migration's collections are still being read:\n%s", body)
	}
	_, body = s.get(t, "/account/activity")
	migHas(t, "activity", body, "dead.example.com", ">Interrupted<", ">Failed<", "1233 added")
}

func migJSON(t *testing.T, r *migrate.Report) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The server's shutdown (its Background ending) stops a running import,
// which records that it was interrupted; Wait returns once it has.
func TestMigrationShutdown(t *testing.T) {
	src := newMigSource(t, 200, 0, false, migSlow(200*time.Millisecond))
	ts, _, stop := migServer(t)
	s := ts.signedIn(t, testLogin)
	path := migStart(t, s, migForm(src, migPassword))
	time.Sleep(300 * time.Millisecond)
	stop()
	done := make(chan struct{})
	go func() {
		ts.Server.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return after the background ended")
	}
	m, err := ts.Store.GetMigration(context.Background(), testLogin, migID(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.MigrationInterrupted || m.Error != migrate.StoppedError || m.Finished.IsZero() {
		t.Fatalf("after shutdown: %s", migDesc(m))
	}
	_, body := s.get(t, path)
	migHas(t, "interrupted", body, ">Interrupted<", "Stopped before the end")
}

// migDesc shows a migration with its report as text.
func migDesc(m *store.Migration) string {
	c := *m
	c.Report = nil
	return fmt.Sprintf("%+v, report %s", c, m.Report)
}
