package dav_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/testdb"
)

// Test accounts; cheap hashing keeps the suite fast.
const (
	alice   = "alice@example.org"
	bob     = "bob@example.org"
	alicePW = "alice-secret-pw"
	bobPW   = "bob-secret-pw"
)

type server struct {
	*httptest.Server
	st store.Store
	t  *testing.T
}

type serverOpt func(*dav.Config)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newServer(t *testing.T, opts ...serverOpt) *server {
	t.Helper()
	return newServerAt(t, filepath.Join(t.TempDir(), "test.db"), store.Options{}, opts...)
}

// newServerAt serves the database at path opened with o, creating the test
// accounts unless they are there.
func newServerAt(t *testing.T, path string, o store.Options, opts ...serverOpt) *server {
	t.Helper()
	st := testdb.Open(t, path, o)
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for login, pw := range map[string]string{alice: alicePW, bob: bobPW} {
		hash, err := auth.HashPassword(pw, auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		err = st.CreateUser(ctx, &store.User{Login: login, PasswordHash: hash, Created: time.Now()})
		if err != nil && !errors.Is(err, store.ErrExists) {
			t.Fatal(err)
		}
		if err := accounts.EnsureDefaults(ctx, st, login); err != nil {
			t.Fatal(err)
		}
	}
	cfg := dav.Config{
		Store: st,
		Auth: auth.NewAuthenticator(st, auth.Options{
			Sleep: func(ctx context.Context, d time.Duration) error { return nil },
		}),
		QuotaAvailable: func() int64 { return 1 << 30 },
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &server{Server: httptest.NewServer(dav.New(cfg)), st: st, t: t}
	t.Cleanup(s.Close)
	return s
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends one request as user (empty = anonymous); hdr is "Name: value" pairs.
func (s *server) do(method, path, user, body string, hdr ...string) reply {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	switch user {
	case alice:
		req.SetBasicAuth(alice, alicePW)
	case bob:
		req.SetBasicAuth(bob, bobPW)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (r reply) expect(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	return r
}

// Parsed multistatus, for assertions.
type msDoc struct {
	Responses []msResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

type msResponse struct {
	Hrefs     []string     `xml:"DAV: href"`
	Status    string       `xml:"DAV: status"`
	Propstats []msPropstat `xml:"DAV: propstat"`
	Error     *rawXML      `xml:"DAV: error"`
}

type msPropstat struct {
	Prop struct {
		Props []rawXML `xml:",any"`
	} `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

type rawXML struct {
	XMLName xml.Name
	Inner   string `xml:",innerxml"`
	Text    string `xml:",chardata"`
}

func parseMS(t *testing.T, r reply) *msDoc {
	t.Helper()
	if r.status != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body:\n%s", r.status, r.body)
	}
	var d msDoc
	if err := xml.Unmarshal([]byte(r.body), &d); err != nil {
		t.Fatalf("bad multistatus: %v\n%s", err, r.body)
	}
	return &d
}

func (d *msDoc) response(t *testing.T, href string) *msResponse {
	t.Helper()
	for i := range d.Responses {
		for _, h := range d.Responses[i].Hrefs {
			if h == href {
				return &d.Responses[i]
			}
		}
	}
	var hs []string
	for _, r := range d.Responses {
		hs = append(hs, r.Hrefs...)
	}
	t.Fatalf("no response for %s; have %v", href, hs)
	return nil
}

func (d *msDoc) hrefs() []string {
	var hs []string
	for _, r := range d.Responses {
		hs = append(hs, r.Hrefs...)
	}
	return hs
}

// prop returns a property's value and the status line of its propstat.
func (r *msResponse) prop(space, local string) (rawXML, string, bool) {
	for _, ps := range r.Propstats {
		for _, p := range ps.Prop.Props {
			if p.XMLName.Space == space && p.XMLName.Local == local {
				return p, ps.Status, true
			}
		}
	}
	return rawXML{}, "", false
}

// ok returns a property that must be there with status 200.
func (r *msResponse) ok(t *testing.T, space, local string) rawXML {
	t.Helper()
	p, st, found := r.prop(space, local)
	if !found || st != "HTTP/1.1 200 OK" {
		t.Fatalf("%s: property {%s}%s: found=%v status=%q", r.Hrefs, space, local, found, st)
	}
	return p
}

func card(uid, fn string, extra ...string) string {
	lines := []string{"BEGIN:VCARD", "VERSION:3.0", "UID:" + uid, "FN:" + fn, "N:" + fn + ";;;;"}
	lines = append(lines, extra...)
	lines = append(lines, "END:VCARD")
	return strings.Join(lines, "\r\n") + "\r\n"
}

const (
	home = "/dav/addressbooks/alice@example.org/"
	book = "/dav/addressbooks/alice@example.org/contacts/"
)

func (s *server) put(user, path, data string, hdr ...string) reply {
	s.t.Helper()
	return s.do("PUT", path, user, data, append([]string{"Content-Type: text/vcard; charset=utf-8"}, hdr...)...)
}

func propfindBody(props ...string) string {
	return `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"` +
		` xmlns:CS="http://calendarserver.org/ns/" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/"><D:prop>` +
		strings.Join(props, "") + `</D:prop></D:propfind>`
}

func syncBody(token string, limit int, props ...string) string {
	l := ""
	if limit > 0 {
		l = fmt.Sprintf("<D:limit><D:nresults>%d</D:nresults></D:limit>", limit)
	}
	return `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">` +
		`<D:sync-token>` + token + `</D:sync-token><D:sync-level>1</D:sync-level>` + l +
		`<D:prop>` + strings.Join(props, "") + `</D:prop></D:sync-collection>`
}

type davConfig = dav.Config
