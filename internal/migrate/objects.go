package migrate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/rolodav/rolodav/internal/store"
)

const (
	// batchSize is how many objects one multiget asks for (as
	// Thunderbird's CalDAV client): a request per 100 objects, and an
	// answer of at most 100 objects to read through.
	batchSize = 100
	// maxListed bounds the objects of one listing, so that a source that
	// lists without end stops (twenty times the 100 000-card book).
	maxListed = 2_000_000
)

// entry is one member of a listing: an object to fetch, one the source
// deleted, or one it listed with an error status.
type entry struct {
	href    string
	etag    string
	size    int64 // getcontentlength; -1 when not given
	deleted bool
	status  int // the error status the source listed it with; 0 when none
}

// list lists c's members since token (sync-collection when c has a sync
// token, else PROPFIND), handing each to add; reset is called when the
// source refused the token and the listing starts over.
func (s *Source) list(ctx context.Context, c *SourceCollection, u *url.URL, token string, add func(*entry) error, reset func() error) (next string, full bool, err error) {
	if c.SyncToken == "" {
		return "", true, s.listPropfind(ctx, u, add)
	}
	tok, full := token, token == ""
	for {
		resp, err := s.c.request(ctx, "REPORT", u, "0", syncBody(tok))
		if err != nil {
			return "", full, err
		}
		if resp.StatusCode != http.StatusMultiStatus {
			discard(resp)
			if tok != "" {
				// The token is refused. RFC 6578 has 403 with
				// DAV:valid-sync-token; servers answer 403 (Radicale),
				// 400 (rolodav), 409, and 500 (Xandikos, for a token
				// it does not know): start over, whatever the status.
				if err := reset(); err != nil {
					return "", full, err
				}
				tok, full = "", true
				continue
			}
			// A sync token but no sync-collection that works.
			if err := reset(); err != nil {
				return "", full, err
			}
			return "", true, s.listPropfind(ctx, u, add)
		}
		next, truncated, n, err := s.readListing(ctx, "REPORT", u, resp.Body, tok != "", add)
		resp.Body.Close()
		if err != nil {
			return "", full, err
		}
		if !truncated {
			return next, full, nil
		}
		// 507 on the collection: the answer was cut (RFC 6578 §3.6), and
		// its token says where to go on from.
		if next == "" || next == tok || n == 0 {
			return "", full, &SourceError{Problem: Failed, URL: u.String(), Method: "REPORT",
				Detail: "a sync-collection answer cut short (507) that gives no new token or no member"}
		}
		tok = next
	}
}

var listBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` +
	`<propfind xmlns="DAV:"><prop><resourcetype/><getetag/><getcontentlength/></prop></propfind>`)

// listPropfind lists u's members with PROPFIND at Depth 1.
func (s *Source) listPropfind(ctx context.Context, u *url.URL, add func(*entry) error) error {
	resp, err := s.c.request(ctx, "PROPFIND", u, "1", listBody)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		discard(resp)
		return s.accountErr(&SourceError{Problem: Failed, URL: u.String(), Method: "PROPFIND", Status: resp.StatusCode})
	}
	_, _, _, err = s.readListing(ctx, "PROPFIND", u, resp.Body, false, add)
	return err
}

func syncBody(token string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token>` + xmlEscape(token) +
		`</sync-token><sync-level>1</sync-level><prop><getetag/><getcontentlength/></prop></sync-collection>`)
}

// readListing reads a listing's multistatus (PROPFIND or
// sync-collection): it returns its sync token, whether the collection
// itself was answered 507 (the answer is cut short), and how many members
// it listed. Deleted members (404) are news only since a token:
// deletions false leaves them out (Radicale lists members deleted long
// ago in an initial sync).
func (s *Source) readListing(ctx context.Context, method string, u *url.URL, body io.Reader, deletions bool, add func(*entry) error) (token string, truncated bool, n int, err error) {
	m := newMSReader(body, 0, maxSmallText)
	self := pathKey(u, u.String())
	var r davResponse
	for {
		if err := m.next(&r); err != nil {
			if err == io.EOF {
				return m.syncToken, truncated, n, nil
			}
			return "", false, n, wrapErr(ctx, method, u, err)
		}
		if pathKey(u, r.hrefs[0]) == self {
			truncated = truncated || r.status == http.StatusInsufficientStorage
			continue
		}
		if rt := r.prop(nsDAV, "resourcetype"); rt != nil && rt.child(nsDAV, "collection") != nil {
			continue // not an object
		}
		for i, h := range r.hrefs {
			e := entry{href: h, size: -1}
			switch {
			case r.status == http.StatusNotFound && !deletions:
				continue
			case r.status == http.StatusNotFound:
				e.deleted = true
			case r.status != 0 && r.status/100 != 2:
				e.status = r.status
			case i > 0:
				continue // only a status answers for several hrefs
			default:
				e.etag = r.prop(nsDAV, "getetag").str()
				if cl, err := strconv.ParseInt(r.prop(nsDAV, "getcontentlength").str(), 10, 64); err == nil && cl >= 0 {
					e.size = cl
				}
			}
			if n++; n > maxListed {
				return "", false, n, &SourceError{Problem: Failed, URL: u.String(), Method: method,
					Detail: fmt.Sprintf("a listing of more than %d objects", maxListed)}
			}
			if err := add(&e); err != nil {
				return "", false, n, err
			}
		}
	}
}

// fetch hands the members spooled in sp to fn: the deleted ones and
// those that cannot be read as they come, the others read with multiget
// in batches. A member the source lists twice within a window is handed
// over once.
func (s *Source) fetch(ctx context.Context, c *SourceCollection, u *url.URL, sp *spool, fn func(*Fetched) error) error {
	batch := make([]entry, 0, batchSize)
	win := newWindow(u)
	flush := func() error {
		win.clear()
		if len(batch) == 0 {
			return nil
		}
		err := s.multiget(ctx, c.Kind, u, batch, fn)
		batch = batch[:0]
		return err
	}
	err := sp.each(func(e *entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if win.repeat(e, s.batched(e)) {
			return nil
		}
		var err error
		switch {
		case e.deleted:
			err = fn(&Fetched{Href: hrefPath(u, e.href), Deleted: true})
		case e.status != 0:
			err = fn(&Fetched{Href: hrefPath(u, e.href), ETag: e.etag, Err: statusErr("lists", e.status)})
		case e.size > s.opt.MaxObjectSize:
			err = fn(&Fetched{Href: hrefPath(u, e.href), ETag: e.etag, Err: s.tooLarge(e.size)})
		default:
			batch = append(batch, *e)
		}
		if err == nil && win.full() {
			err = flush()
		}
		return err
	})
	if err != nil {
		return err
	}
	return flush()
}

// batched reports whether fetch reads e with multiget.
func (s *Source) batched(e *entry) bool {
	return !e.deleted && e.status == 0 && e.size <= s.opt.MaxObjectSize
}

// maxWindow bounds the members a window remembers.
const maxWindow = 4 * batchSize

// window remembers the members of a listing handed over since the last
// multiget, so that a member the source lists twice among them is
// fetched, handed over and counted once: a multiget answers for an href
// once, and the other would be reported as not returned. It holds at
// most one batch and maxWindow members, not the whole listing (up to
// maxListed): a member listed again further on is fetched and handed
// over again, which imports the same object again and does no harm.
type window struct {
	u       *url.URL
	seen    map[windowKey]struct{}
	batched int // members in the window that go in the batch
}

// windowKey tells members apart: the same href listed deleted and not,
// or with another status, is not a repeat.
type windowKey struct {
	path    string
	deleted bool
	status  int
}

func newWindow(u *url.URL) *window {
	return &window{u: u, seen: make(map[windowKey]struct{}, batchSize)}
}

// repeat reports whether e is in the window, and adds it when not;
// batched says whether it goes in the batch.
func (w *window) repeat(e *entry, batched bool) bool {
	k := windowKey{path: pathKey(w.u, e.href), deleted: e.deleted, status: e.status}
	if _, ok := w.seen[k]; ok {
		return true
	}
	w.seen[k] = struct{}{}
	if batched {
		w.batched++
	}
	return false
}

// full reports whether the window holds a batch or maxWindow members:
// the batch is to be fetched and the window cleared.
func (w *window) full() bool {
	return w.batched == batchSize || len(w.seen) >= maxWindow
}

func (w *window) clear() {
	clear(w.seen)
	w.batched = 0
}

// ErrObjectTooLarge is the Fetched.Err of an object over MaxObjectSize.
var ErrObjectTooLarge = errors.New("the object is larger than the largest accepted")

func (s *Source) tooLarge(size int64) error {
	if size < 0 {
		return fmt.Errorf("%w (%d bytes)", ErrObjectTooLarge, s.opt.MaxObjectSize)
	}
	return fmt.Errorf("%w: %d bytes, over %d", ErrObjectTooLarge, size, s.opt.MaxObjectSize)
}

func statusErr(what string, status int) error {
	return fmt.Errorf("the source %s it with status %d %s", what, status, http.StatusText(status))
}

// errNotReturned is the Fetched.Err of an object that a multiget left out.
var errNotReturned = errors.New("the source listed it but did not return it when asked for it")

// dataName is the property that holds an object of kind k.
func dataName(k store.Kind) xml.Name {
	if k == store.KindCard {
		return xml.Name{Space: nsCardDAV, Local: "address-data"}
	}
	return xml.Name{Space: nsCalDAV, Local: "calendar-data"}
}

func multigetBody(k store.Kind, batch []entry) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	if k == store.KindCard {
		b.WriteString(`<C:addressbook-multiget xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><getetag/><C:address-data/></prop>`)
	} else {
		b.WriteString(`<C:calendar-multiget xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><prop><getetag/><C:calendar-data/></prop>`)
	}
	for _, e := range batch {
		b.WriteString("<href>")
		xml.EscapeText(&b, []byte(e.href))
		b.WriteString("</href>")
	}
	if k == store.KindCard {
		b.WriteString(`</C:addressbook-multiget>`)
	} else {
		b.WriteString(`</C:calendar-multiget>`)
	}
	return b.Bytes()
}

// multiget reads batch's objects with one addressbook-multiget or
// calendar-multiget, reading the answer as it comes. When the source does
// not answer it, or the answer breaks off (an object over the size limit,
// XML that does not parse), the objects it did not give are read one by
// one with GET.
func (s *Source) multiget(ctx context.Context, k store.Kind, u *url.URL, batch []entry, fn func(*Fetched) error) error {
	resp, err := s.c.request(ctx, "REPORT", u, "1", multigetBody(k, batch))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusMultiStatus {
		discard(resp)
		return s.getEach(ctx, u, batch, fn)
	}
	idx := make(map[string]int, len(batch))
	for i := range batch {
		idx[pathKey(u, batch[i].href)] = i
	}
	done := make([]bool, len(batch))
	m := newMSReader(resp.Body, 0, s.opt.MaxObjectSize, dataName(k))
	var (
		r      davResponse
		broken error
		other  int
	)
	for broken == nil {
		if err := m.next(&r); err != nil {
			if err != io.EOF {
				broken = err
			}
			break
		}
		for _, h := range r.hrefs {
			i, ok := idx[pathKey(u, h)]
			if !ok || done[i] {
				if other++; other > len(batch) {
					broken = errors.New("answers for objects not asked for")
				}
				continue
			}
			done[i] = true
			if err := fn(s.fetched(k, u, &batch[i], &r)); err != nil {
				resp.Body.Close()
				return err
			}
		}
	}
	resp.Body.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var rest []entry
	for i := range batch {
		switch {
		case done[i]:
		case broken != nil:
			rest = append(rest, batch[i])
		default:
			e := &batch[i]
			if err := fn(&Fetched{Href: hrefPath(u, e.href), ETag: e.etag, Err: errNotReturned}); err != nil {
				return err
			}
		}
	}
	return s.getEach(ctx, u, rest, fn)
}

// fetched is what the multiget answer r says of e.
func (s *Source) fetched(k store.Kind, u *url.URL, e *entry, r *davResponse) *Fetched {
	f := &Fetched{Href: hrefPath(u, e.href), ETag: e.etag}
	if r.status != 0 && r.status/100 != 2 {
		f.Err = statusErr("answers", r.status)
		return f
	}
	if etag := r.prop(nsDAV, "getetag").str(); etag != "" {
		f.ETag = etag
	}
	n := dataName(k)
	d := r.prop(n.Space, n.Local)
	if d == nil || len(bytes.TrimSpace(d.text)) == 0 {
		f.Err = fmt.Errorf("the source gave no %s for it", n.Local)
		return f
	}
	// Each response's text is a new slice: f may keep it.
	f.Data = restoreCRLF(d.text)
	return f
}

// getEach reads the objects of batch one by one with GET.
func (s *Source) getEach(ctx context.Context, u *url.URL, batch []entry, fn func(*Fetched) error) error {
	for i := range batch {
		f, err := s.get(ctx, u, &batch[i])
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) get(ctx context.Context, u *url.URL, e *entry) (*Fetched, error) {
	f := &Fetched{Href: hrefPath(u, e.href), ETag: e.etag}
	target, err := u.Parse(e.href)
	if err != nil {
		f.Err = fmt.Errorf("its href does not read as a URL: %w", err)
		return f, nil
	}
	resp, err := s.c.request(ctx, http.MethodGet, target, "", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		discard(resp)
		f.Err = statusErr("answers", resp.StatusCode)
		return f, nil
	}
	if resp.ContentLength > s.opt.MaxObjectSize {
		f.Err = s.tooLarge(resp.ContentLength)
		return f, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.opt.MaxObjectSize+1))
	if err != nil {
		return nil, wrapErr(ctx, http.MethodGet, target, err)
	}
	if int64(len(data)) > s.opt.MaxObjectSize {
		f.Err = s.tooLarge(-1)
		return f, nil
	}
	if etag := resp.Header.Get("ETag"); etag != "" {
		f.ETag = etag
	}
	f.Data = data
	return f, nil
}

// hrefPath is href's path at the source, as it spells it.
func hrefPath(base *url.URL, href string) string {
	u, err := base.Parse(href)
	if err != nil {
		return href
	}
	return u.EscapedPath()
}

// restoreCRLF puts back the CRLF line ends that XML took out of an
// object's text: an XML parser reads a CR LF in text as LF (XML 1.0
// §2.11), and vCard and iCalendar lines end in CR LF. Radicale and
// Xandikos send them raw; a source that escapes them (&#13;, rolodav)
// gives text with its CRs, which is kept as it is.
func restoreCRLF(b []byte) []byte {
	if bytes.IndexByte(b, '\r') >= 0 {
		return b
	}
	n := bytes.Count(b, []byte{'\n'})
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		out = append(out, '\r', '\n')
		b = b[i+1:]
	}
}

// spool keeps a listing in a temporary file, so that the listing's
// request ends before the objects are fetched (a server's answer is not
// held open while the migration imports) and memory does not grow with
// the collection.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "rolodav-migrate-*")
	if err != nil {
		return nil, fmt.Errorf("migrate: a temporary file for the listing: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriter(f)}, nil
}

func (sp *spool) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// add writes e: flags, status, size, href, etag.
func (sp *spool) add(e *entry) error {
	var flags byte
	if e.deleted {
		flags = 1
	}
	var b [3 * binary.MaxVarintLen64]byte
	k := binary.PutUvarint(b[:], uint64(flags))
	k += binary.PutUvarint(b[k:], uint64(e.status))
	k += binary.PutVarint(b[k:], e.size)
	sp.w.Write(b[:k])
	for _, s := range []string{e.href, e.etag} {
		k = binary.PutUvarint(b[:], uint64(len(s)))
		sp.w.Write(b[:k])
		sp.w.WriteString(s)
	}
	sp.n++
	return nil
}

// reset drops what was added.
func (sp *spool) reset() error {
	sp.w.Reset(sp.f)
	sp.n = 0
	if err := sp.f.Truncate(0); err != nil {
		return err
	}
	_, err := sp.f.Seek(0, io.SeekStart)
	return err
}

// each reads back what was added, in order.
func (sp *spool) each(fn func(*entry) error) error {
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("migrate: writing the listing: %w", err)
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReader(sp.f)
	str := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return "", err
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err
	}
	for i := 0; i < sp.n; i++ {
		var e entry
		flags, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("migrate: reading the listing: %w", err)
		}
		status, err := binary.ReadUvarint(r)
		if err == nil {
			e.size, err = binary.ReadVarint(r)
		}
		if err == nil {
			e.href, err = str()
		}
		if err == nil {
			e.etag, err = str()
		}
		if err != nil {
			return fmt.Errorf("migrate: reading the listing: %w", err)
		}
		e.deleted, e.status = flags == 1, int(status)
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}
