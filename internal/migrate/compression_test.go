package migrate

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// gzipped answers 207 with head then chunk n times, gzipped whatever the
// request asked for (a 1000:1 ratio), counting the bytes on the wire.
func gzipped(head, chunk string, n int, wire *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusMultiStatus)
		gz, _ := gzip.NewWriterLevel(countingWriter{w, wire}, gzip.BestCompression)
		io.WriteString(gz, head)
		for i := 0; i < n && r.Context().Err() == nil; i++ {
			if _, err := io.WriteString(gz, chunk); err != nil {
				return
			}
		}
		gz.Close()
	}
}

// Answers are asked for uncompressed, so that what is read from a source
// is what came over the wire: a few MB of gzip inflate to gigabytes. A
// source that compresses all the same is refused.
func TestNoCompression(t *testing.T) {
	t.Run("asked", func(t *testing.T) {
		var (
			mu  sync.Mutex
			got = map[string]bool{}
			on  atomic.Bool // not while the test seeds the server
		)
		srv := seeded(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if on.Load() {
					mu.Lock()
					got[r.Header.Get("Accept-Encoding")] = true
					mu.Unlock()
				}
				h.ServeHTTP(w, r)
			})
		})
		on.Store(true)
		src := open(t, srv.URL)
		cs, err := src.Collections(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		collect(t, src, find(t, cs, store.KindCard, "friends"), "")
		if len(got) != 1 || !got["identity"] {
			t.Errorf("Accept-Encoding sent: %v", got)
		}
	})
	const limit = 1 << 20
	for name, h := range map[string]func(*atomic.Int64) http.Handler{
		"listing": func(wire *atomic.Int64) http.Handler {
			self := `<d:response><d:href>/book/</d:href><d:status>HTTP/1.1 200 OK</d:status></d:response>`
			return gzipped(msOpen, strings.Repeat(self, 400), 1<<17, wire)
		},
		"multiget": func(wire *atomic.Int64) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/", &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A")}})
			data := `<C:address-data>` + strings.Repeat("N", limit-100) + `</C:address-data>`
			mux.Handle("REPORT /book/", gzipped(msOpen+`<d:response><d:href>/book/a.vcf</d:href><d:propstat><d:prop>`, data, 300, wire))
			return mux
		},
	} {
		t.Run(name, func(t *testing.T) {
			var wire atomic.Int64
			src, c := fakeSource(t, httptestServer(t, h(&wire)), false, limit)
			peak := peakHeap()
			_, _, err := src.Objects(context.Background(), c, "", func(*Fetched) error { return nil })
			p := peak()
			se := sourceErr(t, err, Failed)
			if !strings.Contains(se.Error(), "a compressed answer (Content-Encoding: gzip), which was not asked for") {
				t.Errorf("error: %v", err)
			}
			if p > 16*limit {
				t.Errorf("a peak of %d MiB on the heap for %d KiB on the wire", p>>20, wire.Load()>>10)
			}
			t.Logf("peak heap %d KiB for %d KiB on the wire", p>>10, wire.Load()>>10)
		})
	}
}
