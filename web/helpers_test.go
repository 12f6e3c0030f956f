package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/auth"
	"github.com/rolodav/rolodav/store"
	"github.com/rolodav/rolodav/store/sqlite"
)

// Every test server has testLogin with testPassword.
const (
	testLogin    = "ann@example.org"
	testPassword = "ann's long password"
)

// cheapParams keeps password hashing fast in tests.
var cheapParams = auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1}

// testServer is the pages' server over HTTP, on a real SQLite store.
type testServer struct {
	Server *Server
	URL    string // the httptest server's address, without a trailing slash
	Store  store.Store
	Auth   *auth.Authenticator
}

// newTestServer starts the pages' server with the user testLogin; opts
// adjust the Config (Store, Auth and Logger are set already).
func newTestServer(t *testing.T, opts ...func(*Config)) *testServer {
	t.Helper()
	return newTestServerWith(t, store.Options{}, opts...)
}

// newTestServerWith is newTestServer on a store opened with o.
func newTestServerWith(t *testing.T, o store.Options, opts ...func(*Config)) *testServer {
	t.Helper()
	st, err := sqlite.OpenWith(filepath.Join(t.TempDir(), "rolodav.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := auth.NewAuthenticator(st, auth.Options{})
	cfg := Config{Store: st, Auth: a, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	srv := New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts := &testServer{Server: srv, URL: hs.URL, Store: st, Auth: a}
	ts.addUser(t, testLogin)
	return ts
}

// addUser creates login with testPassword.
func (ts *testServer) addUser(t *testing.T, login string) {
	t.Helper()
	hash, err := auth.HashPassword(testPassword, cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Store.CreateUser(context.Background(), &store.User{Login: login, PasswordHash: hash, Created: time.Now()}); err != nil {
		t.Fatalf("creating user %s: %v", login, err)
	}
}

// testSession is a browser signed in as one user. Its client keeps
// cookies (the session's and notices) and does not follow redirects, so
// that tests see them.
type testSession struct {
	Client *http.Client
	Cookie *http.Cookie // the session cookie
	CSRF   string       // the session's form token
	base   string
}

// signedIn makes a session for login directly in the store, as signing in
// would.
func (ts *testServer) signedIn(t *testing.T, login string) *testSession {
	t.Helper()
	value := randomToken()
	now := time.Now()
	sess := &store.Session{ID: sessionID(value), Owner: login, CSRF: randomToken(),
		Created: now, LastSeen: now, Expires: now.Add(time.Hour), Addr: "127.0.0.1", Client: "test"}
	if err := ts.Store.CreateSession(context.Background(), sess); err != nil {
		t.Fatalf("creating session for %s: %v", login, err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(ts.URL)
	ck := &http.Cookie{Name: ts.Server.sessionCookie(), Value: value, Path: "/"}
	jar.SetCookies(u, []*http.Cookie{ck})
	return &testSession{
		Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Cookie: ck, CSRF: sess.CSRF, base: ts.URL,
	}
}

// get fetches path (from the server's root, prefix included) and returns
// the response with its body read.
func (s *testSession) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return s.do(t, http.MethodGet, path, "", nil)
}

// post submits form to path, with the session's CSRF token unless form
// has a "csrf" field already (even an empty one).
func (s *testSession) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", s.CSRF)
	}
	return s.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func (s *testSession) do(t *testing.T, method, path, contentType string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(b)
}
