package migrate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listErr runs Objects on c with a deadline far above what the test
// takes, and returns its error.
func listErr(t *testing.T, src *Source, c *SourceCollection, token string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _, err := src.Objects(ctx, c, token, func(*Fetched) error { return nil })
	return err
}

// A sync-collection answer cut short (507) with a new token each time is
// followed only so far: a bound on the answers cut short, and on the
// hrefs of them all together.
func TestEndlessSyncRounds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members int
		limits  listSize
		want    string
		answers int64
	}{
		{"answers", 1, listSize{hrefs: 1 << 20, bytes: 1 << 30, rounds: 50}, "more than 50 sync-collection answers cut short (507)", 51},
		{"hrefs", 100, listSize{hrefs: 1000, bytes: 1 << 30, rounds: 1000}, "a listing of more than 1000 hrefs", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var answers atomic.Int64
			srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				n := answers.Add(1)
				var b strings.Builder
				for i := 0; i < tc.members; i++ {
					b.WriteString(member(fmt.Sprintf("/book/%d-%d.vcf", n, i), "1"))
				}
				multistatus(w, b.String()+`<d:response><d:href>/book/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>`+
					fmt.Sprintf(`<d:sync-token>t%d</d:sync-token>`, n))
			}))
			src, c := fakeSource(t, srv, true, 0)
			src.c.list = tc.limits
			err := listErr(t, src, c, "")
			se := sourceErr(t, err, Failed)
			if !strings.Contains(se.Error(), tc.want) {
				t.Errorf("error: %v", err)
			}
			if answers.Load() != tc.answers {
				t.Errorf("%d answers read, want %d", answers.Load(), tc.answers)
			}
		})
	}
}

// Every response of a listing counts, not only those of objects: the
// collection's own, those of member collections, and deleted members
// (left out of a full listing). A listing of big responses stops at a
// bound on its bytes.
func TestEndlessUncountedResponses(t *testing.T) {
	for _, tc := range []struct{ name, chunk, want string }{
		{"self", `<d:response><d:href>/book/</d:href><d:status>HTTP/1.1 200 OK</d:status></d:response>`, "a listing of more than 10000 hrefs"},
		{"collections", `<d:response><d:href>/book/x/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop>` +
			`<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, "a listing of more than 10000 hrefs"},
		{"deleted", gone("/book/x.vcf"), "a listing of more than 10000 hrefs"},
		{"bytes", `<d:response><d:href>/book/</d:href><d:propstat><d:prop><d:x>` + strings.Repeat("x", 10<<10) + `</d:x></d:prop>` +
			`<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, "a listing of more than 4 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			src, c := fakeSource(t, httptestServer(t, endless(msOpen, tc.chunk, &sent)), false, 0)
			src.c.list = listSize{hrefs: 10_000, bytes: 4 << 20, rounds: 1000}
			err := listErr(t, src, c, "")
			se := sourceErr(t, err, Failed)
			if !strings.Contains(se.Error(), tc.want) || !strings.Contains(se.Error(), "PROPFIND") {
				t.Errorf("error: %v", err)
			}
			// What the source could write: what was read, and what the
			// connection's buffers hold.
			if sent.Load() > 32<<20 {
				t.Errorf("the source sent %d MiB", sent.Load()>>20)
			}
		})
	}
}
