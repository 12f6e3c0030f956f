package migrate

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// rewriteAnswers wraps a handler so that fn may rewrite each answer's body.
func rewriteAnswers(fn func(r *http.Request, reqBody string, body []byte) []byte) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var rb bytes.Buffer
			rb.ReadFrom(r.Body)
			r.Body = readAgain{bytes.NewReader(rb.Bytes())}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			out := fn(r, rb.String(), rec.Body.Bytes())
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			w.Write(out)
		})
	}
}

type readAgain struct{ *bytes.Reader }

func (readAgain) Close() error { return nil }

var davResponseRE = regexp.MustCompile(`(?s)<([A-Za-z0-9]+:)?response>.*?</([A-Za-z0-9]+:)?response>`)

// listingsOfContacts rewrites the listings of the address book
// "contacts" (PROPFIND at Depth 1 and sync-collection) with fn.
func listingsOfContacts(fn func([]byte) []byte) func(http.Handler) http.Handler {
	return rewriteAnswers(func(r *http.Request, reqBody string, b []byte) []byte {
		if r.Method == "PROPFIND" && r.Header.Get("Depth") == "1" && strings.Contains(r.URL.Path, "/contacts/") ||
			r.Method == "REPORT" && strings.Contains(reqBody, "sync-collection") {
			return fn(b)
		}
		return b
	})
}

// checkListedTwice runs a migration and a dry run of the address book
// "contacts" (two cards) from a source that lists each card twice.
func checkListedTwice(t *testing.T, s *ourServer) {
	t.Helper()
	st := destStore(t)
	opt := runOpts(s)
	opt.Only = OnlyContacts
	opt.DryRun = true
	if r := result(t, migrateAll(t, st, opt), store.KindCard, "contacts"); r.DryRunCount != 2 {
		t.Errorf("dry run: %d cards, want 2", r.DryRunCount)
	}
	opt.DryRun = false
	r := result(t, migrateAll(t, st, opt), store.KindCard, "contacts")
	if r.Rejected != 0 || r.Unreadable != 0 || r.Added != 2 {
		t.Errorf("an object listed twice: added %d, rejected %d, unreadable %d: %+v", r.Added, r.Rejected, r.Unreadable, r.Problems)
	}
	m, err := st.GetMigrationSource(context.Background(), destLogin, r.Source.URL)
	if err != nil || m.SyncToken == "" {
		t.Errorf("no token kept (%v): the next run lists everything again", err)
	}
}

// A source that lists each member twice in a row: each card is asked
// for once, imported once and counted once, and the token is kept.
func TestObjectListedTwiceInARow(t *testing.T) {
	checkListedTwice(t, seeded(t, listingsOfContacts(func(b []byte) []byte {
		return davResponseRE.ReplaceAllFunc(b, func(m []byte) []byte { return append(append([]byte{}, m...), m...) })
	})))
}

// A source that lists its members, then all of them again.
func TestObjectListedTwiceApart(t *testing.T) {
	checkListedTwice(t, seeded(t, listingsOfContacts(func(b []byte) []byte {
		all := davResponseRE.FindAll(b, -1)
		if len(all) == 0 {
			return b
		}
		end := davResponseRE.FindAllIndex(b, -1)[len(all)-1][1]
		out := append([]byte{}, b[:end]...)
		for _, m := range all {
			out = append(out, m...)
		}
		return append(out, b[end:]...)
	})))
}
