package migrate

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// The account at our own server that the tests read.
const (
	srcLogin = "alice@example.org"
	srcPW    = "alice-secret-pw"
)

// ourServer is rolodav's DAV handler on a real store, as a source.
type ourServer struct {
	*httptest.Server
	st store.Store
	t  testing.TB
}

// newOurServer serves h (nil: the DAV handler) in front of the DAV handler
// of a new store with the user srcLogin and its default collections.
func newOurServer(t testing.TB, wrap func(http.Handler) http.Handler) *ourServer {
	t.Helper()
	st := testdb.Open(t, filepath.Join(t.TempDir(), "source.db"), store.Options{})
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	hash, err := auth.HashPassword(srcPW, auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, &store.User{Login: srcLogin, PasswordHash: hash, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, srcLogin); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = dav.New(dav.Config{
		Store: st,
		Auth: auth.NewAuthenticator(st, auth.Options{
			Sleep: func(ctx context.Context, d time.Duration) error { return nil },
		}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if wrap != nil {
		h = wrap(h)
	}
	s := &ourServer{Server: httptest.NewServer(h), st: st, t: t}
	t.Cleanup(s.Close)
	return s
}

// collection makes a collection of srcLogin.
func (s *ourServer) collection(c store.Collection) *store.Collection {
	s.t.Helper()
	c.Owner = srcLogin
	if err := s.st.CreateCollection(context.Background(), &c); err != nil {
		s.t.Fatal(err)
	}
	return &c
}

// path is the URL path of a collection of srcLogin, or of an object in it.
func (s *ourServer) path(kind store.Kind, coll string, obj ...string) string {
	home := "/dav/addressbooks/"
	if kind == store.KindCal {
		home = "/dav/calendars/"
	}
	p := home + srcLogin + "/" + coll + "/"
	if len(obj) > 0 {
		p += obj[0]
	}
	return p
}

// do sends a request as srcLogin and returns the answer's status, ETag
// and body.
func (s *ourServer) do(method, path, body string) (int, string, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(srcLogin, srcPW)
	switch {
	case strings.HasSuffix(path, ".vcf"):
		req.Header.Set("Content-Type", "text/vcard")
	case strings.HasSuffix(path, ".ics"):
		req.Header.Set("Content-Type", "text/calendar")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("ETag"), b
}

// put PUTs an object and fails the test unless it is stored.
func (s *ourServer) put(path, data string) {
	s.t.Helper()
	if code, _, b := s.do(http.MethodPut, path, data); code != http.StatusCreated && code != http.StatusNoContent {
		s.t.Fatalf("PUT %s: %d %s", path, code, b)
	}
}

// open opens the account at u with the test login, private addresses
// allowed.
func open(t testing.TB, u string) *Source {
	t.Helper()
	s, err := Open(context.Background(), SourceOptions{URL: u, User: srcLogin, Password: srcPW, AllowPrivate: true})
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	return s
}

// sourceErr returns err as a *SourceError, failing the test when it is
// none or of another problem.
func sourceErr(t *testing.T, err error, p Problem) *SourceError {
	t.Helper()
	var se *SourceError
	if !errors.As(err, &se) {
		t.Fatalf("got %v (%T), want a *SourceError", err, err)
	}
	if se.Problem != p {
		t.Fatalf("problem %d (%v), want %d", se.Problem, se, p)
	}
	return se
}

// collect runs Objects and returns what it handed over, by href.
func collect(t testing.TB, s *Source, c *SourceCollection, token string) (map[string]*Fetched, string, bool) {
	t.Helper()
	got := map[string]*Fetched{}
	next, full, err := s.Objects(context.Background(), c, token, func(f *Fetched) error {
		if _, dup := got[f.Href]; dup {
			t.Errorf("%s handed over twice", f.Href)
		}
		got[f.Href] = f
		return nil
	})
	if err != nil {
		t.Fatalf("Objects(%s, %q): %v", c.URL, token, err)
	}
	return got, next, full
}
