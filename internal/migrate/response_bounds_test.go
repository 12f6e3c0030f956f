package migrate

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// repeatedData answers a multiget for /book/a.vcf with one response that
// holds its data n times, and counts the bytes it could write.
func repeatedData(data string, n int, sent *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		write := func(s string) bool {
			k, err := io.WriteString(w, s)
			sent.Add(int64(k))
			return err == nil
		}
		if !write(msOpen + `<d:response><d:href>/book/a.vcf</d:href><d:propstat><d:prop>`) {
			return
		}
		for i := 0; i < n; i++ {
			if !write(`<C:address-data>` + data + `</C:address-data>`) {
				return
			}
		}
		write(`</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`)
	}
}

// A multiget response that repeats its object's data (each copy under
// MaxObjectSize) is not held whole: reading stops a little past one
// object, and the object is then read with GET.
func TestRepeatedObjectData(t *testing.T) {
	const limit = 1 << 20
	var sent atomic.Int64
	b := &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A")}}
	mux := http.NewServeMux()
	mux.Handle("/", b)
	mux.Handle("REPORT /book/", repeatedData(strings.Repeat("N", limit-100), 300, &sent))
	src, c := fakeSource(t, httptestServer(t, mux), false, limit)
	peak := peakHeap()
	got, _, _ := collect(t, src, c, "")
	p := peak()
	if f := got["/book/a.vcf"]; f == nil || string(f.Data) != b.objects["/book/a.vcf"] || f.Err != nil {
		t.Errorf("a.vcf: not the card it is (%v)", f != nil && f.Err != nil)
	}
	// 300 MiB sent at most; before, all of it was held.
	if p > 16*limit || sent.Load() > 64*limit {
		t.Errorf("a peak of %d MiB on the heap for a %d MiB object limit; the source sent %d MiB", p>>20, limit>>20, sent.Load()>>20)
	}
	t.Logf("peak heap %d KiB, %d KiB sent", p>>10, sent.Load()>>10)
}

// A listing response of countless big attributes (which are not kept)
// and elements stops a little past a megabyte.
func TestOneHugeListingResponse(t *testing.T) {
	for name, chunk := range map[string]string{
		"attributes": `<d:x a="` + strings.Repeat("x", 60<<10) + `"/>`,
		"text":       `<d:x>` + strings.Repeat("x", 15<<10) + `</d:x>`,
	} {
		t.Run(name, func(t *testing.T) {
			var sent atomic.Int64
			srv := httptestServer(t, endless(msOpen+`<d:response><d:href>/book/a.vcf</d:href><d:propstat><d:prop>`, chunk, &sent))
			src, c := fakeSource(t, srv, false, 1<<20)
			peak := peakHeap()
			_, _, err := src.Objects(context.Background(), c, "", func(*Fetched) error { return nil })
			p := peak()
			se := sourceErr(t, err, Failed)
			if want := fmt.Sprintf("a response longer than %d bytes", maxSmallText+dataSlack+responseSlack); !strings.Contains(se.Error(), want) {
				t.Errorf("error: %v", err)
			}
			if p > 32<<20 {
				t.Errorf("a peak of %d MiB on the heap for one listing response; the source sent %d MiB", p>>20, sent.Load()>>20)
			}
			t.Logf("peak heap %d KiB, %d KiB sent", p>>10, sent.Load()>>10)
		})
	}
}

// A response may name a few hrefs with one status, not thousands.
func TestManyHrefsInOneResponse(t *testing.T) {
	var hrefs strings.Builder
	for i := 0; i <= maxResponseHrefs; i++ {
		fmt.Fprintf(&hrefs, "<d:href>/book/%d.vcf</d:href>", i)
	}
	b := &fakeBook{sync: func(w http.ResponseWriter, token string) {
		multistatus(w, `<d:response>`+hrefs.String()+`<d:status>HTTP/1.1 404 Not Found</d:status></d:response><d:sync-token>t2</d:sync-token>`)
	}}
	src, c := fakeSource(t, httptestServer(t, b), true, 0)
	_, _, err := src.Objects(context.Background(), c, "t1", func(*Fetched) error { return nil })
	se := sourceErr(t, err, Failed)
	if want := fmt.Sprintf("more than %d hrefs in one response", maxResponseHrefs); !strings.Contains(se.Error(), want) {
		t.Errorf("error: %v", err)
	}
}
