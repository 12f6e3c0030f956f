package dav

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/guard"
	"github.com/rolodav/rolodav/internal/store"
)

// httpError is a refusal whose answer is fixed where the request was
// refused. Handlers return errors rather than answer failures themselves;
// writeErr is the one place that turns an error into an answer.
type httpError struct {
	status int
	cond   xml.Name // the failed precondition in the DAV:error body; none when Local is ""
	inner  string   // cond's content, already-escaped XML
	msg    string
	// plain answers with msg as text/plain, as http.Error does, rather
	// than with a DAV:error body: for refusals that clients have always
	// had as plain text.
	plain bool
	allow string // the Allow header of a 405
}

func (e *httpError) Error() string { return e.msg }

// plainError is a refusal answered as text/plain.
func plainError(status int, msg string) *httpError {
	return &httpError{status: status, msg: msg, plain: true}
}

// davError is a refusal answered with a DAV:error body naming cond (none
// when cond is zero) and msg in R:message.
func davError(status int, cond xml.Name, msg string) *httpError {
	return &httpError{status: status, cond: cond, msg: msg}
}

// notAllowed is a 405 that lists the methods allowed instead.
func notAllowed(allow, msg string) *httpError {
	return &httpError{status: http.StatusMethodNotAllowed, msg: msg, plain: true, allow: allow}
}

// write answers with e.
func (e *httpError) write(w http.ResponseWriter) {
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	if e.plain {
		http.Error(w, e.msg, e.status)
		return
	}
	var sb strings.Builder
	bw := bufio.NewWriter(&sb)
	bw.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<D:error" + nsDecls + ">")
	if e.cond.Local != "" {
		openTag(bw, e.cond, e.inner == "")
		if e.inner != "" {
			bw.WriteString(e.inner)
			closeTag(bw, e.cond)
		}
	}
	if e.msg != "" {
		bw.WriteString("<R:message>")
		xml.EscapeText(bw, []byte(e.msg))
		bw.WriteString("</R:message>")
	}
	bw.WriteString("</D:error>\n")
	bw.Flush()
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(sb.String()))
}

// bodyError is a request body that could not be read or parsed as XML.
// There is no DAV precondition for malformed XML; the conditions are ours.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// writeIntoError is a failed write of an object into collection c (a
// PUT's, or a MOVE's destination): a UID conflict is answered with the
// href, in c, of the object that holds the UID.
type writeIntoError struct {
	c   *store.Collection
	err error
}

func (e *writeIntoError) Error() string { return e.err.Error() }
func (e *writeIntoError) Unwrap() error { return e.err }

// cutError ends an answer that has begun: its status line is sent, so the
// connection is cut and the client retries rather than keep a short
// answer. msg is logged with err, unless it is "".
type cutError struct {
	msg string
	err error
}

func (e *cutError) Error() string { return e.err.Error() }
func (e *cutError) Unwrap() error { return e.err }

var (
	errBadRequestPath = plainError(http.StatusBadRequest, "bad request path: encoded slashes, dot segments and text that is not UTF-8 are not allowed")
	// errNoSuchPath is the answer to a path outside the DAV tree, and to
	// one of another user's, whatever the method.
	errNoSuchPath   = plainError(http.StatusNotFound, "404 page not found")
	errNoCollection = plainError(http.StatusConflict, "the collection does not exist")
	errInvalidToken = &httpError{
		// DAVx5 needs the element, Thunderbird CardDAV re-syncs only on 400.
		status: http.StatusBadRequest,
		cond:   name(nsDAV, "valid-sync-token"),
		msg:    "the sync token is unknown or too old; sync again from scratch",
	}
)

// writeErr answers a request that failed with err. Errors of the body, of
// the store and of the calendar data have their answer here; any other
// is logged and answered 500 without its details. A canceled request gets
// no answer: the client has gone.
func (h *Handler) writeErr(q *request, err error) {
	var (
		he   *httpError
		cut  *cutError
		mbe  *http.MaxBytesError
		ve   *calendars.ValidationError
		uc   *store.UIDConflictError
		away *store.MergedAwayError
		into *writeIntoError
		body *bodyError
	)
	switch {
	// First: once an answer has started, nothing more may be written.
	case errors.As(err, &cut):
		if cut.msg != "" {
			h.log.ErrorContext(q.ctx, cut.msg, "path", q.path, "err", cut.err)
		}
		panic(http.ErrAbortHandler)
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = davError(http.StatusRequestEntityTooLarge, name(nsRolodav, "max-request-size"),
			fmt.Sprintf("the request body may hold at most %d bytes", mbe.Limit))
	case errors.Is(err, errXMLLimit):
		he = davError(http.StatusBadRequest, name(nsRolodav, "xml-limits"), err.Error())
	case errors.Is(err, errBadXML):
		he = davError(http.StatusBadRequest, name(nsRolodav, "well-formed-xml"), err.Error())
	case errors.Is(err, guard.ErrBodyTimeout):
		he = davError(http.StatusRequestTimeout, xml.Name{}, err.Error())
	case errors.As(err, &ve):
		he = davError(http.StatusForbidden, name(nsCalDAV, ve.Condition), ve.Error())
	case errors.As(err, &uc) && errors.As(err, &into):
		he = h.uidConflict(q, into.c, uc)
	case errors.As(err, &away): // a MOVE: a PUT folds instead
		he = plainError(http.StatusConflict, fmt.Sprintf("a card with this name or UID was merged into %s: edit that one", away.Survivor))
	case errors.Is(err, store.ErrInvalidSyncToken):
		he = errInvalidToken
	case errors.Is(err, store.ErrNotFound):
		he = plainError(http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrPrecondition):
		he = plainError(http.StatusPreconditionFailed, "precondition failed")
	case errors.Is(err, store.ErrQuotaExceeded): // RFC 4331 §6
		he = davError(http.StatusInsufficientStorage, name(nsDAV, "quota-not-exceeded"),
			"your storage quota is used up: delete something first")
	case errors.Is(err, context.Canceled):
		return
	case errors.As(err, &body):
		he = davError(http.StatusBadRequest, xml.Name{}, "could not read the request body: "+err.Error())
	default:
		h.log.ErrorContext(q.ctx, "store failure", "method", q.r.Method, "path", q.path, "err", err)
		he = plainError(http.StatusInternalServerError, "internal error")
	}
	he.write(q.w)
}

// uidConflict answers a write that would give a second object of c the
// UID of uc.Name.
func (h *Handler) uidConflict(q *request, c *store.Collection, uc *store.UIDConflictError) *httpError {
	ns := nsCardDAV
	if c.Kind == store.KindCal {
		ns = nsCalDAV
	}
	return &httpError{status: http.StatusConflict, cond: name(ns, "no-uid-conflict"),
		inner: hrefXML(h.hrefs.object(c.Kind, q.user, c.Name, uc.Name)),
		msg:   fmt.Sprintf("another object in this collection already has UID %q", uc.UID)}
}
