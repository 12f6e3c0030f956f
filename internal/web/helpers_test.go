package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/httplog"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/testdb"
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
	// requests has the request log's lines: one is written when the
	// pages have finished with a request.
	requests *requestLog
}

// requestLog keeps the "METHOD path status" of each logged request.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }

func (l *requestLog) Handle(_ context.Context, rec slog.Record) error {
	var method, path string
	var status int64
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		case "status":
			status = a.Value.Int64()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s %s %d", method, path, status))
	return nil
}

// waitRequest waits until the pages have finished with a request whose
// log line starts with prefix ("POST /path"), and returns the line.
func (ts *testServer) waitRequest(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ts.requests.mu.Lock()
		for _, l := range ts.requests.lines {
			if strings.HasPrefix(l, prefix) {
				ts.requests.mu.Unlock()
				return l
			}
		}
		ts.requests.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no request %q finished", prefix)
	return ""
}

// newTestServer starts the pages' server with the user testLogin; opts
// adjust the Config (Store, Auth and Logger are set already).
func newTestServer(t *testing.T, opts ...func(*Config)) *testServer {
	t.Helper()
	return newTestServerWith(t, store.Options{}, opts...)
}

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// newTestServerWith is newTestServer on a store opened with o.
func newTestServerWith(t *testing.T, o store.Options, opts ...func(*Config)) *testServer {
	t.Helper()
	st := testdb.Open(t, filepath.Join(t.TempDir(), "rolodav.db"), o)
	t.Cleanup(func() { st.Close() })
	a := auth.NewAuthenticator(st, auth.Options{})
	cfg := Config{Store: st, Auth: a, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	srv := New(cfg)
	ts := &testServer{Server: srv, Store: st, Auth: a, requests: &requestLog{}}
	// As serve mounts it: behind the request log, which hands the pages a
	// copy of each request (r.WithContext).
	hs := httptest.NewServer(httplog.Middleware(slog.New(ts.requests), srv))
	t.Cleanup(hs.Close)
	ts.URL = hs.URL
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
