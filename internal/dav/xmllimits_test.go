package dav_test

import (
	"context"
	"encoding/xml"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repeatedBody is a PROPFIND of about size bytes whose display name is
// unit repeated: text split by comments, entities and the like.
func repeatedBody(unit string, size int) string {
	const head = `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>`
	const tail = `</D:displayname></D:prop></D:propfind>`
	n := (size - len(head) - len(tail)) / len(unit)
	return head + strings.Repeat(unit, n) + tail
}

// Issue 10, finding 3: text split by comments was appended to the tree by
// string concatenation, so 4 MB of 'xxxxxxx<!---->' took 193 s of CPU and
// gigabytes of garbage. It must now cost about what its size suggests.
func TestXMLCommentSplitTextIsCheap(t *testing.T) {
	s := newServer(t)
	body := repeatedBody("xxxxxxx<!---->", 4<<20-1024)
	const budget = 10 * time.Second // about 0.1 s when linear, minutes before
	const maxAlloc = 64 << 20       // about 20 MB, half of it to read the body

	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", s.URL+book, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(alice, alicePW)
	req.Header.Set("Depth", "0")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer within %v: %v", budget, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if resp.StatusCode != http.StatusMultiStatus && resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 207 or 400:\n%s", resp.StatusCode, b)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
		t.Errorf("the request allocated %d MB, want at most %d MB", alloc>>20, maxAlloc>>20)
	}
	t.Logf("%d bytes → %d in %v, %d MB allocated", len(body), resp.StatusCode, elapsed, (after.TotalAlloc-before.TotalAlloc)>>20)
}

// cancelAtEOF ends a request's context once its body has been read, as
// when a client gives up while the server is still working on it.
type cancelAtEOF struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

// Parsing stops when the client leaves: the body below is over the token
// budget, so a parser that ignored the context would answer 400; one that
// checks it gives up at once and answers nothing to a client that is gone.
func TestXMLParsingStopsWhenClientLeaves(t *testing.T) {
	s := newServer(t)
	body := repeatedBody("x<!---->", 4<<20-1024)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "PROPFIND", book, &cancelAtEOF{r: strings.NewReader(body), cancel: cancel})
	req.SetBasicAuth(alice, alicePW)
	req.Header.Set("Depth", "0")
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Config.Handler.ServeHTTP(rec, req)
	}()
	const budget = 10 * time.Second
	select {
	case <-done:
	case <-time.After(budget):
		t.Fatalf("the handler was still working %v after the client left", budget)
	}
	if ctx.Err() == nil {
		t.Fatal("the body was not read to the end")
	}
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("answered %d to a client that had gone:\n%s", rec.Code, rec.Body)
	}
}

// davError is a DAV:error body as rolodav writes it.
type davError struct {
	XMLName xml.Name
	Conds   []xml.Name `xml:"-"`
	Message string     `xml:"https://rolodav.org/ns/ message"`
}

func parseDAVError(t *testing.T, r reply) davError {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/xml" {
		t.Fatalf("Content-Type %q, want application/xml; body:\n%s", r.header.Get("Content-Type"), r.body)
	}
	var e davError
	if err := xml.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body is not XML: %v\n%s", err, r.body)
	}
	if e.XMLName != (xml.Name{Space: "DAV:", Local: "error"}) {
		t.Fatalf("root {%s}%s, want DAV:error\n%s", e.XMLName.Space, e.XMLName.Local, r.body)
	}
	d := xml.NewDecoder(strings.NewReader(r.body))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if depth == 1 && tk.Name.Local != "message" {
				e.Conds = append(e.Conds, tk.Name)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Fatalf("error body has no message:\n%s", r.body)
	}
	return e
}

// Bodies that cannot be read answer with a DAV:error that says why, in
// XML like every other DAV error, whatever the method.
func TestMalformedXMLAnswersDAVError(t *testing.T) {
	s := newServer(t)
	deep := `<D:propfind xmlns:D="DAV:">` + strings.Repeat("<D:x>", 100) + strings.Repeat("</D:x>", 100) + `</D:propfind>`
	cases := []struct {
		name   string
		body   string
		status int
		cond   string
	}{
		{"unclosed", `<D:propfind xmlns:D="DAV:"><D:prop>`, http.StatusBadRequest, "well-formed-xml"},
		{"not XML", "not xml at all", http.StatusBadRequest, "well-formed-xml"},
		{"undefined entity", `<D:propfind xmlns:D="DAV:">&lol;</D:propfind>`, http.StatusBadRequest, "well-formed-xml"},
		{"too deep", deep, http.StatusBadRequest, "xml-limits"},
		{"too much text", repeatedBody("x", 2<<20), http.StatusBadRequest, "xml-limits"},
		{"too many comments", repeatedBody("x<!---->", 3<<20), http.StatusBadRequest, "xml-limits"},
		{"too many attributes", `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat(`<D:x a="" b="" c="" d="" e="" f="" g=""/>`, 40000) + `</D:prop></D:propfind>`, http.StatusBadRequest, "xml-limits"},
		{"too long a tag", `<D:propfind xmlns:D="DAV:" ` + strings.Repeat(`a="" `, 300000) + `/>`, http.StatusBadRequest, "xml-limits"},
		{"too large", repeatedBody("x", 4<<20+1024), http.StatusRequestEntityTooLarge, "max-request-size"},
	}
	targets := []struct{ method, path string }{
		{"PROPFIND", book},
		{"PROPPATCH", book},
		{"REPORT", book},
		{"MKCOL", home + "new/"},
	}
	for _, c := range cases {
		for _, tg := range targets {
			r := s.do(tg.method, tg.path, alice, c.body, "Depth: 0")
			if r.status != c.status {
				t.Errorf("%s %s: status %d, want %d\n%s", tg.method, c.name, r.status, c.status, r.body)
				continue
			}
			e := parseDAVError(t, r)
			want := xml.Name{Space: "https://rolodav.org/ns/", Local: c.cond}
			if len(e.Conds) != 1 || e.Conds[0] != want {
				t.Errorf("%s %s: conditions %v, want %v\n%s", tg.method, c.name, e.Conds, want, r.body)
			}
		}
	}
}

// A well-formed document of the wrong kind, or none where one is needed,
// is answered in XML too.
func TestWrongXMLDocumentAnswersDAVError(t *testing.T) {
	s := newServer(t)
	other := `<D:other xmlns:D="DAV:"/>`
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"PROPFIND", book, other, http.StatusBadRequest},
		{"PROPPATCH", book, other, http.StatusBadRequest},
		{"PROPPATCH", book, "", http.StatusBadRequest},
		{"REPORT", book, "", http.StatusBadRequest},
		{"MKCOL", home + "new/", other, http.StatusUnsupportedMediaType},
	} {
		r := s.do(c.method, c.path, alice, c.body, "Depth: 0")
		if r.status != c.status {
			t.Errorf("%s %q: status %d, want %d\n%s", c.method, c.body, r.status, c.status, r.body)
			continue
		}
		parseDAVError(t, r)
	}
}
