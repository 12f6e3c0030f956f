package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/testcerts"
)

func httptestServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

const msOpen = `<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav">`

// multistatus answers 207 with the responses inner.
func multistatus(w http.ResponseWriter, inner string) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusMultiStatus)
	io.WriteString(w, msOpen+inner+`</d:multistatus>`)
}

// member is a response of a listing.
func member(href, etag string) string {
	return `<d:response><d:href>` + href + `</d:href><d:propstat><d:prop><d:getetag>"` + etag +
		`"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`
}

func gone(href string) string {
	return `<d:response><d:href>` + href + `</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`
}

// fakeBook is an address book at /book/ of a fake server: objects by
// path, in XML as given (raw text is escaped by the test). Its listing is
// sync, when set, else a PROPFIND; multiget and GET answer from objects.
type fakeBook struct {
	mu      sync.Mutex
	objects map[string]string
	sync    func(w http.ResponseWriter, token string)
	// asked records the hrefs of each multiget.
	asked [][]string
}

var (
	tokenRE = regexp.MustCompile(`<sync-token>([^<]*)</sync-token>`)
	hrefRE  = regexp.MustCompile(`<href>([^<]*)</href>`)
)

func (b *fakeBook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case r.Method == "REPORT" && strings.Contains(string(body), "sync-collection"):
		b.sync(w, tokenRE.FindStringSubmatch(string(body))[1])
	case r.Method == "REPORT":
		var hrefs []string
		var out strings.Builder
		for _, m := range hrefRE.FindAllStringSubmatch(string(body), -1) {
			hrefs = append(hrefs, m[1])
			if data, ok := b.objects[m[1]]; ok {
				out.WriteString(`<d:response><d:href>` + m[1] + `</d:href><d:propstat><d:prop><d:getetag>"e-` + m[1] +
					`"</d:getetag><C:address-data>` + data + `</C:address-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
			}
		}
		b.asked = append(b.asked, hrefs)
		multistatus(w, out.String())
	case r.Method == "PROPFIND":
		var out strings.Builder
		out.WriteString(`<d:response><d:href>/book/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
		for p := range b.objects {
			out.WriteString(member(p, "e-"+p))
		}
		multistatus(w, out.String())
	case r.Method == http.MethodGet:
		data, ok := b.objects[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"g-`+r.URL.Path+`"`)
		io.WriteString(w, data)
	default:
		http.Error(w, "no", http.StatusMethodNotAllowed)
	}
}

// fakeSource is a Source reading the fake at srv, with its collection
// /book/ (sync says whether it has a sync token).
func fakeSource(t testing.TB, srv *httptest.Server, sync bool, maxObject int64) (*Source, *SourceCollection) {
	t.Helper()
	opt := SourceOptions{URL: srv.URL, AllowPrivate: true, MaxObjectSize: maxObject}
	if opt.MaxObjectSize == 0 {
		opt.MaxObjectSize = 1 << 20
	}
	c := &SourceCollection{URL: srv.URL + "/book/", Kind: store.KindCard, Name: "book"}
	if sync {
		c.SyncToken = "t0"
	}
	return &Source{opt: opt, c: newClient(opt)}, c
}

// Each problem a person can meet is a *SourceError that says it in a
// sentence naming the host.
func TestSourceErrors(t *testing.T) {
	ctx := context.Background()
	openErr := func(opt SourceOptions) error {
		t.Helper()
		if opt.User == "" {
			opt.User, opt.Password = "alice", "pw"
		}
		_, err := Open(ctx, opt)
		return err
	}
	host := func(u string) string { return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://") }

	t.Run("401", func(t *testing.T) {
		srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="dav"`)
			http.Error(w, "who?", http.StatusUnauthorized)
		}))
		err := openErr(SourceOptions{URL: srv.URL, AllowPrivate: true})
		sourceErr(t, err, Unauthorized)
		want := `the server at ` + host(srv.URL) + ` refused the login "alice" (401): wrong password, or the provider needs an app password`
		if err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		err = openErr(SourceOptions{URL: "http://" + addr + "/", AllowPrivate: true})
		sourceErr(t, err, Unreachable)
		if want := "cannot reach " + addr + ": connection refused"; err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("no such host", func(t *testing.T) {
		err := openErr(SourceOptions{URL: "dav.example.invalid", AllowPrivate: true})
		sourceErr(t, err, Unreachable)
		if want := "cannot reach dav.example.invalid: no such host"; err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("self-signed", func(t *testing.T) {
		certs := testcerts.New(t)
		our := newOurServer(t, nil)
		srv := httptest.NewUnstartedServer(our.Config.Handler)
		srv.TLS = certs.ServerConfig(t)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake our client refuses
		srv.StartTLS()
		t.Cleanup(srv.Close)
		err := openErr(SourceOptions{URL: srv.URL, AllowPrivate: true})
		sourceErr(t, err, BadCertificate)
		msg := err.Error()
		if !strings.HasPrefix(msg, "the TLS certificate of "+host(srv.URL)+" is not trusted (x509: ") ||
			!strings.HasSuffix(msg, "); for a test server with a self-signed certificate use --insecure") {
			t.Errorf("got %s", msg)
		}
		// --insecure reads it.
		if err := openErr(SourceOptions{URL: srv.URL, AllowPrivate: true, Insecure: true, User: srcLogin, Password: srcPW}); err != nil {
			t.Errorf("insecure: %v", err)
		}
	})
	t.Run("not TLS", func(t *testing.T) {
		srv := httptestServer(t, http.NotFoundHandler())
		err := openErr(SourceOptions{URL: "https://" + host(srv.URL), AllowPrivate: true})
		sourceErr(t, err, BadCertificate)
		if !strings.HasPrefix(err.Error(), "the TLS handshake with "+host(srv.URL)+" failed (") {
			t.Errorf("got %s", err)
		}
	})
	t.Run("web page", func(t *testing.T) {
		srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><html><body>Welcome</body></html>")
		}))
		err := openErr(SourceOptions{URL: srv.URL + "/", AllowPrivate: true})
		sourceErr(t, err, NotDAV)
		if !strings.HasPrefix(err.Error(), srv.URL+"/ does not answer as a CardDAV or CalDAV server (") {
			t.Errorf("got %s", err)
		}
	})
	t.Run("web server without PROPFIND", func(t *testing.T) {
		srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", http.StatusMethodNotAllowed)
		}))
		err := openErr(SourceOptions{URL: srv.URL, AllowPrivate: true})
		sourceErr(t, err, NotDAV)
		if want := srv.URL + "/ does not answer as a CardDAV or CalDAV server (it answered PROPFIND with 405 Method Not Allowed)"; err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("DAV without principal", func(t *testing.T) {
		srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			multistatus(w, `<d:response><d:href>`+r.URL.Path+`</d:href><d:propstat><d:prop><d:current-user-principal/></d:prop>`+
				`<d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>`)
		}))
		err := openErr(SourceOptions{URL: srv.URL, AllowPrivate: true})
		sourceErr(t, err, NotDAV)
		if want := srv.URL + "/ does not answer as a CardDAV or CalDAV server (no current-user-principal)"; err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("private address", func(t *testing.T) {
		var conns atomic.Int32
		our := newOurServer(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conns.Add(1)
				h.ServeHTTP(w, r)
			})
		})
		port := our.URL[strings.LastIndex(our.URL, ":")+1:]
		for _, u := range []string{our.URL, "http://localhost:" + port + "/"} {
			err := openErr(SourceOptions{URL: u, User: srcLogin, Password: srcPW})
			sourceErr(t, err, Forbidden)
			want := host(strings.TrimSuffix(u, "/")) + " is at 127.0.0.1, a private address: migrations started from the pages reach only public servers"
			if strings.Contains(u, "localhost") && strings.Contains(err.Error(), "::1") {
				want = strings.Replace(want, "127.0.0.1", "::1", 1)
			}
			if err.Error() != want {
				t.Errorf("got  %s\nwant %s", err, want)
			}
		}
		if n := conns.Load(); n != 0 {
			t.Errorf("%d requests reached the private server", n)
		}
		// The command line (AllowPrivate) reads it.
		if err := openErr(SourceOptions{URL: our.URL, User: srcLogin, Password: srcPW, AllowPrivate: true}); err != nil {
			t.Error(err)
		}
	})
	t.Run("bad URL", func(t *testing.T) {
		err := openErr(SourceOptions{URL: "ftp://example.org/"})
		sourceErr(t, err, BadURL)
		if want := `"ftp://example.org/" is not the URL of a server: only http and https URLs are read`; err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
	t.Run("redirect loop", func(t *testing.T) {
		var n atomic.Int32
		srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			http.Redirect(w, r, fmt.Sprintf("/loop/%d", n.Load()), http.StatusFound)
		}))
		err := openErr(SourceOptions{URL: srv.URL, AllowPrivate: true})
		sourceErr(t, err, NotDAV)
		if !strings.Contains(err.Error(), "(more than 5 redirects)") {
			t.Errorf("got %s", err)
		}
		if n.Load() > 4*(maxRedirects+1) {
			t.Errorf("%d requests", n.Load())
		}
	})
	t.Run("forbidden home", func(t *testing.T) {
		s := seeded(t, func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "PROPFIND" && strings.HasPrefix(r.URL.Path, "/dav/calendars/") {
					http.Error(w, "not yours", http.StatusForbidden)
					return
				}
				h.ServeHTTP(w, r)
			})
		})
		src := open(t, s.URL)
		_, err := src.Collections(ctx)
		sourceErr(t, err, Unauthorized)
		want := `the server at ` + host(s.URL) + ` refused the login "` + srcLogin + `" access to the account (403): check the login, or the provider needs an app password`
		if err.Error() != want {
			t.Errorf("got  %s\nwant %s", err, want)
		}
	})
}

// A sync answer cut short (507 on the collection, RFC 6578 §3.6) goes on
// from the token it gives until an answer is whole.
func TestTruncatedSync(t *testing.T) {
	b := &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A"), "/book/b.vcf": card("b", "B"), "/book/c.vcf": card("c", "C")}}
	var tokens []string
	b.sync = func(w http.ResponseWriter, token string) {
		tokens = append(tokens, token)
		cut := `<d:response><d:href>/book/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>`
		switch token {
		case "":
			// Radicale lists members deleted long ago as 404 in an initial
			// sync too: they are no news.
			multistatus(w, member("/book/a.vcf", "1")+gone("/book/old.vcf")+member("/book/b.vcf", "1")+cut+`<d:sync-token>t1</d:sync-token>`)
		case "t1":
			multistatus(w, `<d:sync-token>t2</d:sync-token>`+member("/book/c.vcf", "1")+gone("/book/d.vcf"))
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}
	srv := httptestServer(t, b)
	src, c := fakeSource(t, srv, true, 0)
	got, next, full := collect(t, src, c, "")
	if next != "t2" || !full || strings.Join(tokens, ",") != ",t1" {
		t.Errorf("next %q, full %v, tokens %q", next, full, tokens)
	}
	for _, p := range []string{"/book/a.vcf", "/book/b.vcf", "/book/c.vcf"} {
		if f := got[p]; f == nil || string(f.Data) != b.objects[p] || f.ETag != `"e-`+p+`"` {
			t.Errorf("%s: %+v", p, f)
		}
	}
	if f := got["/book/d.vcf"]; f == nil || !f.Deleted {
		t.Errorf("d: %+v", f)
	}
	if f := got["/book/old.vcf"]; f != nil || len(got) != 4 {
		t.Errorf("%d objects; a deletion in the initial listing: %+v", len(got), f)
	}
	// One multiget for the three.
	if len(b.asked) != 1 || len(b.asked[0]) != 3 {
		t.Errorf("multigets: %q", b.asked)
	}

	// A cut answer that gives no new token cannot go on.
	b.sync = func(w http.ResponseWriter, token string) {
		multistatus(w, member("/book/a.vcf", "1")+`<d:response><d:href>/book/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>`+
			`<d:sync-token>`+token+`</d:sync-token>`)
	}
	_, _, err := src.Objects(context.Background(), c, "t5", func(*Fetched) error { return nil })
	sourceErr(t, err, Failed)
}

// A token the source refuses, however it says so, starts the listing
// over; a refused full listing falls back to PROPFIND.
func TestRefusedToken(t *testing.T) {
	for _, answer := range []struct {
		status int
		body   string
	}{
		{http.StatusForbidden, `<d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>`}, // RFC 6578, Radicale
		{http.StatusConflict, ""},
		{http.StatusBadRequest, `<d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>`}, // rolodav
		{http.StatusInternalServerError, "Server got itself in trouble"},                   // Xandikos
	} {
		b := &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A")}}
		b.sync = func(w http.ResponseWriter, token string) {
			if token != "" {
				w.WriteHeader(answer.status)
				io.WriteString(w, answer.body)
				return
			}
			multistatus(w, member("/book/a.vcf", "1")+`<d:sync-token>new</d:sync-token>`)
		}
		src, c := fakeSource(t, httptestServer(t, b), true, 0)
		got, next, full := collect(t, src, c, "old")
		if len(got) != 1 || next != "new" || !full {
			t.Errorf("%d: %d objects, next %q, full %v", answer.status, len(got), next, full)
		}
	}
	// A sync token but a sync-collection that fails: PROPFIND lists.
	b := &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A"), "/book/b.vcf": card("b", "B")}}
	b.sync = func(w http.ResponseWriter, token string) { http.Error(w, "no", http.StatusNotImplemented) }
	src, c := fakeSource(t, httptestServer(t, b), true, 0)
	got, next, full := collect(t, src, c, "")
	if len(got) != 2 || next != "" || !full {
		t.Errorf("fallback: %d objects, next %q, full %v", len(got), next, full)
	}
}

// What a multiget leaves out, or what is too big, is reported per object
// and the rest is read; the text of XML keeps CR LF line ends.
func TestMultigetProblems(t *testing.T) {
	b := &fakeBook{objects: map[string]string{
		"/book/raw.vcf":     "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:raw\r\nFN:R &amp; &lt;R&gt;\r\nEND:VCARD\r\n", // raw CR LF: XML reads LF
		"/book/escaped.vcf": "BEGIN:VCARD&#13;\nVERSION:3.0&#13;\nUID:esc&#13;\nEND:VCARD&#13;\n",             // CR escaped: kept
		"/book/bare.vcf":    "BEGIN:VCARD\nEND:VCARD&#13;\n",                                                  // mixed: as it is
	}}
	b.sync = func(w http.ResponseWriter, token string) {
		big := `<d:response><d:href>/book/big.vcf</d:href><d:propstat><d:prop><d:getetag>"x"</d:getetag>` +
			`<d:getcontentlength>9999999</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`
		hidden := `<d:response><d:href>/book/hidden.vcf</d:href><d:status>HTTP/1.1 403 Forbidden</d:status></d:response>`
		multistatus(w, member("/book/raw.vcf", "1")+member("/book/escaped.vcf", "1")+member("/book/bare.vcf", "1")+
			member("/book/lost.vcf", "1")+big+hidden+`<d:sync-token>t1</d:sync-token>`)
	}
	src, c := fakeSource(t, httptestServer(t, b), true, 1<<20)
	got, _, _ := collect(t, src, c, "")
	want := map[string]string{
		"/book/raw.vcf":     "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:raw\r\nFN:R & <R>\r\nEND:VCARD\r\n",
		"/book/escaped.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:esc\r\nEND:VCARD\r\n",
		"/book/bare.vcf":    "BEGIN:VCARD\nEND:VCARD\r\n",
	}
	for p, w := range want {
		if f := got[p]; f == nil || string(f.Data) != w || f.Err != nil {
			t.Errorf("%s: %+v", p, f)
		}
	}
	if f := got["/book/lost.vcf"]; f == nil || f.Data != nil || !errors.Is(f.Err, errNotReturned) || f.ETag != `"1"` {
		t.Errorf("lost: %+v", f)
	}
	if f := got["/book/big.vcf"]; f == nil || f.Data != nil || !errors.Is(f.Err, ErrObjectTooLarge) {
		t.Errorf("big: %+v", f)
	}
	if f := got["/book/hidden.vcf"]; f == nil || f.Data != nil || f.Err == nil || !strings.Contains(f.Err.Error(), "403") {
		t.Errorf("hidden: %+v", f)
	}
	if len(got) != 6 {
		t.Errorf("%d objects", len(got))
	}
	for _, h := range b.asked[0] {
		if h == "/book/big.vcf" || h == "/book/hidden.vcf" {
			t.Errorf("asked for %s", h)
		}
	}
}

// endless writes head, then chunk until the client leaves, and counts the
// bytes it wrote.
func endless(head, chunk string, sent *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, head)
		c := []byte(strings.Repeat(chunk, max(1, (32<<10)/len(chunk))))
		for r.Context().Err() == nil {
			n, err := w.Write(c)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}

// allocated runs f and returns how many bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A hostile source that sends endless, deep or huge XML is stopped with
// an error after little reading and little memory.
func TestHostileListings(t *testing.T) {
	const resp = `<d:response><d:href>/book/a.vcf</d:href><d:propstat><d:prop>`
	for _, tc := range []struct{ name, head, chunk, want string }{
		{"deep", msOpen, "<d:x>", "nested deeper"},
		{"endless comments", msOpen + resp, "<!-- more -->", "XML tokens"},
		{"endless elements", msOpen + resp, "<d:x/>", "XML tokens"},
		{"endless href", msOpen + `<d:response><d:href>/book/`, "aaaaaaaa", "size limit"},
		{"endless ETag", msOpen + resp + `<d:getetag>`, "e", "size limit"},
		{"endless whitespace", msOpen, "        ", "size limit"},
		{"endless attributes", msOpen + `<d:response a="`, "x", "size limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			srv := httptestServer(t, endless(tc.head, tc.chunk, &sent))
			src, c := fakeSource(t, srv, false, 1<<20)
			var err error
			start := time.Now()
			alloc := allocated(func() {
				_, _, err = src.Objects(context.Background(), c, "", func(*Fetched) error { return nil })
			})
			se := sourceErr(t, err, Failed)
			if !strings.Contains(se.Error(), tc.want) || !strings.Contains(se.Error(), "PROPFIND") {
				t.Errorf("error: %v", err)
			}
			if alloc > 8<<20 || time.Since(start) > 20*time.Second {
				t.Errorf("%d bytes allocated in %v (the server sent %d)", alloc, time.Since(start), sent.Load())
			}
		})
	}
}

// Discovery reads answers whole (go-webdav decodes them in memory): an
// endless one stops at maxDiscoveryAnswer, and one of countless or deeply
// nested elements is not handed to go-webdav, which would take some
// hundred times its size to decode it.
func TestHostileDiscovery(t *testing.T) {
	for name, chunk := range map[string]string{"elements": `<d:x>a</d:x>`, "deep": "<d:x>", "text": "aaaa"} {
		t.Run(name, func(t *testing.T) {
			var sent atomic.Int64
			head := msOpen + `<d:response><d:href>/</d:href><d:propstat><d:prop><d:current-user-principal>`
			srv := httptestServer(t, endless(head, chunk, &sent))
			start := time.Now()
			peak := peakHeap()
			_, err := Open(context.Background(), SourceOptions{URL: srv.URL, AllowPrivate: true})
			p := peak()
			sourceErr(t, err, NotDAV)
			if p > 32<<20 || time.Since(start) > 20*time.Second {
				t.Errorf("a peak of %d bytes on the heap, in %v (the server sent %d)", p, time.Since(start), sent.Load())
			}
		})
	}
}

// An object far over MaxObjectSize is reported without being held: the
// multiget answer that holds it is dropped where it grows too big, and
// its objects are read one by one with GET, the big one no further than
// the limit.
func TestHugeObject(t *testing.T) {
	const limit = 1 << 20
	huge := strings.Repeat("NOTE:x\r\n", 16<<20/8) // 16 MiB each way
	var gets atomic.Int32
	b := &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A"), "/book/c.vcf": card("c", "C")}}
	b.sync = func(w http.ResponseWriter, token string) {
		multistatus(w, member("/book/a.vcf", "1")+member("/book/huge.vcf", "1")+member("/book/c.vcf", "1")+`<d:sync-token>t1</d:sync-token>`)
	}
	mux := http.NewServeMux()
	mux.Handle("/", b)
	mux.HandleFunc("REPORT /book/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "sync-collection") {
			b.sync(w, "")
			return
		}
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, msOpen+`<d:response><d:href>/book/a.vcf</d:href><d:propstat><d:prop><C:address-data>`+card("a", "A")+
			`</C:address-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`+
			`<d:response><d:href>/book/huge.vcf</d:href><d:propstat><d:prop><C:address-data>`)
		io.WriteString(w, huge)
		io.WriteString(w, `</C:address-data></d:prop></d:propstat></d:response></d:multistatus>`)
	})
	mux.HandleFunc("GET /book/huge.vcf", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		io.WriteString(w, huge)
	})
	mux.HandleFunc("GET /book/c.vcf", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		io.WriteString(w, card("c", "C"))
	})
	src, c := fakeSource(t, httptestServer(t, mux), true, limit)
	var got map[string]*Fetched
	alloc := allocated(func() { got, _, _ = collect(t, src, c, "") })
	if f := got["/book/huge.vcf"]; f == nil || f.Data != nil || !errors.Is(f.Err, ErrObjectTooLarge) {
		t.Errorf("huge: %+v", f)
	}
	for _, p := range []string{"/book/a.vcf", "/book/c.vcf"} {
		if f := got[p]; f == nil || string(f.Data) != b.objects[p] {
			t.Errorf("%s: %+v", p, f)
		}
	}
	if gets.Load() != 2 {
		t.Errorf("%d GETs, want 2 (the huge one and the one after it)", gets.Load())
	}
	if alloc > 12*limit {
		t.Errorf("%d bytes allocated for a %d-byte limit and 2×%d bytes sent", alloc, limit, len(huge))
	}
}

// Cancelling the context stops a listing, a multiget and a discovery
// that the source keeps waiting.
func TestCancel(t *testing.T) {
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, msOpen+member("/book/a.vcf", "1"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptestServer(t, hang)
	src, c := fakeSource(t, srv, false, 0)
	for name, f := range map[string]func(ctx context.Context) error{
		"Objects": func(ctx context.Context) error {
			_, _, err := src.Objects(ctx, c, "", func(*Fetched) error { return nil })
			return err
		},
		"Open": func(ctx context.Context) error {
			_, err := Open(ctx, SourceOptions{URL: srv.URL, AllowPrivate: true})
			return err
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := f(ctx)
		if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %v after %v", name, err, time.Since(start))
		}
	}
}

// A source that stops sending in the middle of an answer fails the
// migration once it has sent nothing for a while.
func TestStalledSource(t *testing.T) {
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, msOpen+member("/book/a.vcf", "1"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	src, c := fakeSource(t, httptestServer(t, hang), false, 0)
	src.c.idle = 200 * time.Millisecond
	start := time.Now()
	_, _, err := src.Objects(context.Background(), c, "", func(*Fetched) error { return nil })
	se := sourceErr(t, err, Failed)
	if !strings.Contains(se.Error(), "sent nothing more for 200ms") || time.Since(start) > 10*time.Second {
		t.Errorf("%v after %v", err, time.Since(start))
	}
}

// An error from fn stops Objects and is returned as it is.
func TestObjectsStopsOnFnError(t *testing.T) {
	b := &fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A"), "/book/b.vcf": card("b", "B")}}
	src, c := fakeSource(t, httptestServer(t, b), false, 0)
	stop := errors.New("stop")
	n := 0
	_, _, err := src.Objects(context.Background(), c, "", func(*Fetched) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("%v after %d objects", err, n)
	}
}
