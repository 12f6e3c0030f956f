package dav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/guard"
	"github.com/rolodav/rolodav/internal/store"
)

// xmlErrorBody is a DAV:error body with cond (as sent) and the escaped msg.
func xmlErrorBody(cond, msg string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` + "\n<D:error" + nsDecls + ">" + cond + "<R:message>" + msg + "</R:message></D:error>\n"
}

// errRecorder serves writeErr for err to a PUT of path by alice and returns
// what it wrote, what it logged and what it panicked with.
func errRecorder(t *testing.T, err error) (rec *httptest.ResponseRecorder, logged string, panicked any) {
	t.Helper()
	var log bytes.Buffer
	h := New(Config{Logger: slog.New(slog.NewTextHandler(&log, nil)), Prefix: "/base"})
	rec = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPut, "/base/dav/addressbooks/alice/contacts/x.vcf", nil)
	q := &request{w: rec, r: r, ctx: r.Context(), user: "alice", path: "/dav/addressbooks/alice/contacts/x.vcf",
		t: target{kind: tObject, ckind: store.KindCard, user: "alice", coll: "contacts", obj: "x.vcf"}}
	func() {
		defer func() { panicked = recover() }()
		h.writeErr(q, err)
	}()
	return rec, log.String(), panicked
}

// writeErr is where every error becomes an answer: each kind of error gets
// its status, precondition element and message, and only internal errors
// are logged, without their details in the answer.
func TestWriteErr(t *testing.T) {
	book := &store.Collection{ID: 1, Kind: store.KindCard, Name: "contacts"}
	work := &store.Collection{ID: 2, Kind: store.KindCal, Name: "work"}
	plain := func(msg string) string { return msg + "\n" }
	const (
		textType = "text/plain; charset=utf-8"
		xmlType  = "application/xml; charset=utf-8"
	)
	cases := []struct {
		what   string
		err    error
		status int
		ctype  string
		body   string
		allow  string
		logged string // "" when nothing may be logged
	}{
		{"plain refusal", plainError(http.StatusForbidden, "no <way>"), 403, textType, plain("no <way>"), "", ""},
		{"precondition", davError(http.StatusForbidden, name(nsCalDAV, "valid-filter"), `a "filter" & more`), 403, xmlType,
			xmlErrorBody("<CAL:valid-filter/>", "a &#34;filter&#34; &amp; more"), "", ""},
		{"DAV:error without a precondition", davError(http.StatusBadRequest, name("", ""), "REPORT needs a body"), 400, xmlType,
			xmlErrorBody("", "REPORT needs a body"), "", ""},
		{"precondition of an unknown namespace", davError(http.StatusForbidden, name("urn:x", "y"), "m"), 403, xmlType,
			xmlErrorBody(`<X:y xmlns:X="urn:x"/>`, "m"), "", ""},
		{"method not allowed", notAllowed("OPTIONS, PROPFIND", "not here"), 405, textType, plain("not here"), "OPTIONS, PROPFIND", ""},
		{"body over the limit", &bodyError{&http.MaxBytesError{Limit: 4096}}, 413, xmlType,
			xmlErrorBody("<R:max-request-size/>", "the request body may hold at most 4096 bytes"), "", ""},
		{"XML over limits", &bodyError{fmt.Errorf("%w: too deep", errXMLLimit)}, 400, xmlType,
			xmlErrorBody("<R:xml-limits/>", "XML document over limits: too deep"), "", ""},
		{"malformed XML", &bodyError{fmt.Errorf("%w: <bad>", errBadXML)}, 400, xmlType,
			xmlErrorBody("<R:well-formed-xml/>", "malformed XML: &lt;bad&gt;"), "", ""},
		{"XML body too slow", &bodyError{fmt.Errorf("%w: 3 bytes", guard.ErrBodyTimeout)}, 408, xmlType,
			xmlErrorBody("", "request body did not arrive in time: 3 bytes"), "", ""},
		{"PUT body too slow", fmt.Errorf("%w: 3 bytes", guard.ErrBodyTimeout), 408, xmlType,
			xmlErrorBody("", "request body did not arrive in time: 3 bytes"), "", ""},
		{"body unreadable", &bodyError{io.ErrUnexpectedEOF}, 400, xmlType,
			xmlErrorBody("", "could not read the request body: unexpected EOF"), "", ""},
		{"body XML read past its deadline", &bodyError{fmt.Errorf("reading XML: %w", context.DeadlineExceeded)}, 400, xmlType,
			xmlErrorBody("", "could not read the request body: reading XML: context deadline exceeded"), "", ""},
		{"calendar data invalid", &calendars.ValidationError{Line: 3, Condition: "valid-calendar-object-resource", Msg: "no UID"}, 403, xmlType,
			xmlErrorBody("<CAL:valid-calendar-object-resource/>", "valid-calendar-object-resource: line 3: no UID"), "", ""},
		{"UID conflict in a book", &writeIntoError{book, &store.UIDConflictError{UID: `u"1`, Name: "a b.vcf"}}, 409, xmlType,
			xmlErrorBody("<C:no-uid-conflict><D:href>/base/dav/addressbooks/alice/contacts/a%20b.vcf</D:href></C:no-uid-conflict>",
				"another object in this collection already has UID &#34;u\\&#34;1&#34;"), "", ""},
		{"UID conflict in a calendar", &writeIntoError{work, fmt.Errorf("move: %w", &store.UIDConflictError{UID: "e", Name: "e.ics"})}, 409, xmlType,
			xmlErrorBody("<CAL:no-uid-conflict><D:href>/base/dav/calendars/alice/work/e.ics</D:href></CAL:no-uid-conflict>",
				"another object in this collection already has UID &#34;e&#34;"), "", ""},
		{"UID conflict in no known collection", &store.UIDConflictError{UID: "u", Name: "a.vcf"}, 500, textType,
			plain("internal error"), "", `msg="store failure" method=PUT path=/dav/addressbooks/alice/contacts/x.vcf err="uid \"u\" already used by \"a.vcf\""`},
		{"merged away", &writeIntoError{book, &store.MergedAwayError{Name: "a.vcf", UID: "a", Survivor: "s.vcf", Merge: 7}}, 409, textType,
			plain("a card with this name or UID was merged into s.vcf: edit that one"), "", ""},
		{"not found", fmt.Errorf("sqlite: get: %w", store.ErrNotFound), 404, textType, plain("not found"), "", ""},
		{"precondition failed", &writeIntoError{book, fmt.Errorf("etag: %w", store.ErrPrecondition)}, 412, textType,
			plain("precondition failed"), "", ""},
		{"over quota", fmt.Errorf("put: %w", store.ErrQuotaExceeded), 507, xmlType,
			xmlErrorBody("<D:quota-not-exceeded/>", "your storage quota is used up: delete something first"), "", ""},
		{"sync token too old", fmt.Errorf("changes: %w", store.ErrInvalidSyncToken), 400, xmlType,
			xmlErrorBody("<D:valid-sync-token/>", "the sync token is unknown or too old; sync again from scratch"), "", ""},
		{"internal", errors.New("sqlite: disk I/O error at /var/lib/secret.db"), 500, textType, plain("internal error"), "",
			`msg="store failure" method=PUT path=/dav/addressbooks/alice/contacts/x.vcf err="sqlite: disk I/O error at /var/lib/secret.db"`},
		{"store past its deadline", fmt.Errorf("sqlite: %w", context.DeadlineExceeded), 500, textType, plain("internal error"), "",
			`err="sqlite: context deadline exceeded"`},
	}
	for _, c := range cases {
		rec, logged, panicked := errRecorder(t, c.err)
		if panicked != nil {
			t.Errorf("%s: panicked with %v", c.what, panicked)
			continue
		}
		h := rec.Header()
		if rec.Code != c.status || h.Get("Content-Type") != c.ctype || rec.Body.String() != c.body || h.Get("Allow") != c.allow {
			t.Errorf("%s:\n got %d %q Allow %q\n%s\nwant %d %q Allow %q\n%s", c.what, rec.Code, h.Get("Content-Type"), h.Get("Allow"),
				rec.Body, c.status, c.ctype, c.allow, c.body)
		}
		if nosniff := h.Get("X-Content-Type-Options") == "nosniff"; nosniff != (c.ctype == textType) {
			t.Errorf("%s: X-Content-Type-Options %q for %s", c.what, h.Get("X-Content-Type-Options"), c.ctype)
		}
		if c.logged == "" && logged != "" || !strings.Contains(logged, c.logged) {
			t.Errorf("%s: logged %q, want %q", c.what, logged, c.logged)
		}
		if c.status == http.StatusInternalServerError && (!strings.Contains(logged, "level=ERROR") || strings.Contains(rec.Body.String(), "sqlite")) {
			t.Errorf("%s: an internal error must be logged as an error and its details kept from the client: %q", c.what, rec.Body)
		}
	}
}

// A request whose client has gone gets no answer and no log.
func TestWriteErrCanceled(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("sqlite: %w", context.Canceled),
		&bodyError{fmt.Errorf("reading XML: %w", context.Canceled)},
	} {
		rec, logged, panicked := errRecorder(t, err)
		if panicked != nil || len(rec.Header()) != 0 || rec.Body.Len() != 0 || logged != "" {
			t.Errorf("%v: header %v, body %q, logged %q, panicked %v", err, rec.Header(), rec.Body, logged, panicked)
		}
	}
}

// An answer that has begun is cut, logged unless there is nothing to say.
func TestWriteErrCut(t *testing.T) {
	cases := []struct {
		err    error
		logged string
	}{
		{&cutError{"sync failed", errors.New("sqlite: busy")}, `level=ERROR msg="sync failed" path=/dav/addressbooks/alice/contacts/x.vcf err="sqlite: busy"`},
		{&cutError{"", context.Canceled}, ""},
		// A refusal found while the 207 streams cannot be answered any more.
		{&cutError{"query failed", plainError(http.StatusBadRequest, "bad filter")}, `level=ERROR msg="query failed"`},
	}
	for _, c := range cases {
		rec, logged, panicked := errRecorder(t, c.err)
		if panicked != http.ErrAbortHandler || len(rec.Header()) != 0 || rec.Body.Len() != 0 {
			t.Errorf("%v: panicked %v, header %v, body %q", c.err, panicked, rec.Header(), rec.Body)
		}
		if c.logged == "" && logged != "" || !strings.Contains(logged, c.logged) {
			t.Errorf("%v: logged %q, want %q", c.err, logged, c.logged)
		}
	}
}
