package dav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rolodav/rolodav/calendars"
	"github.com/rolodav/rolodav/contacts"
	"github.com/rolodav/rolodav/exports"
	"github.com/rolodav/rolodav/guard"
	"github.com/rolodav/rolodav/merges"
	"github.com/rolodav/rolodav/store"
)

const vcardType = "text/vcard; charset=utf-8"

// conditions reads If-Match / If-None-Match for a write.
func conditions(r *http.Request) store.Conditions {
	var c store.Conditions
	if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" {
		c.IfMatch = firstETag(im)
	}
	if strings.TrimSpace(r.Header.Get("If-None-Match")) == "*" {
		c.IfNoneMatch = true
	}
	return c
}

// firstETag returns the first entity tag of a header value, unquoted;
// "*" stays "*" (any existing representation).
func firstETag(v string) string {
	v = strings.TrimSpace(strings.SplitN(v, ",", 2)[0])
	if v == "*" {
		return v
	}
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}

func (h *Handler) get(q *request) {
	switch q.t.kind {
	case tObject:
		h.getObject(q)
	case tCollection:
		h.export(q)
	default:
		q.w.Header().Set("Allow", "OPTIONS, PROPFIND, PROPPATCH")
		http.Error(q.w, "GET is not available here; use a CardDAV client", http.StatusMethodNotAllowed)
	}
}

// acceptedVersion picks the vCard version an Accept header asks for.
func acceptedVersion(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || (mt != "text/vcard" && mt != "text/x-vcard") {
			continue
		}
		if v := params["version"]; v == "3.0" || v == "4.0" {
			return v
		}
	}
	return ""
}

func (h *Handler) getObject(q *request) {
	c, ok := h.collection(q)
	if !ok {
		return
	}
	o, err := h.cfg.Store.GetObject(q.ctx, c.ID, q.t.obj)
	if err != nil {
		h.storeError(q, err)
		return
	}
	etag := `"` + o.ETag + `"`
	hd := q.w.Header()
	hd.Set("ETag", etag)
	hd.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	hd.Set("Content-Type", contentType(c, o))
	if inm := q.r.Header.Get("If-None-Match"); inm != "" && (inm == "*" || strings.Contains(inm, etag)) {
		q.w.WriteHeader(http.StatusNotModified)
		return
	}
	data := o.Data
	if v := acceptedVersion(q.r.Header.Get("Accept")); v != "" && c.Kind == store.KindCard {
		if conv, err := contacts.Convert(data, v); err == nil {
			data = conv
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	if q.r.Method == http.MethodHead {
		return
	}
	_, _ = q.w.Write(data)
}

// export streams a whole collection as one .vcf or .ics file.
func (h *Handler) export(q *request) {
	c, ok := h.collection(q)
	if !ok {
		return
	}
	hd := q.w.Header()
	ext := ".vcf"
	hd.Set("Content-Type", vcardType)
	if c.Kind == store.KindCal {
		ext = ".ics"
		hd.Set("Content-Type", "text/calendar; charset=utf-8")
	}
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": c.Name + ext}))
	hd.Set("ETag", `"`+syncToken(c)+`"`)
	if q.r.Method == http.MethodHead {
		return
	}
	if err := exports.Write(q.ctx, h.cfg.Store, c, q.w); err != nil {
		h.log.ErrorContext(q.ctx, "export failed", "path", q.path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (h *Handler) put(q *request) {
	if q.t.kind != tObject {
		q.w.Header().Set("Allow", "OPTIONS, PROPFIND, PROPPATCH, REPORT, GET, DELETE, MKCOL")
		http.Error(q.w, "PUT is only possible on an object inside a collection", http.StatusMethodNotAllowed)
		return
	}
	if ct := q.r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !acceptedTypes[q.t.ckind][mt] {
			cond := name(nsCardDAV, "supported-address-data")
			msg := "address books accept text/vcard"
			if q.t.ckind == store.KindCal {
				cond, msg = name(nsCalDAV, "supported-calendar-data"), "calendars accept text/calendar"
			}
			writeError(q.w, http.StatusUnsupportedMediaType, cond, "", msg)
			return
		}
	}
	data, ok := h.readResource(q)
	if !ok {
		return
	}
	c, err := h.cfg.Store.GetCollection(q.ctx, q.user, q.t.ckind, q.t.coll)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(q.w, "the collection does not exist", http.StatusConflict)
		return
	}
	if err != nil {
		h.storeError(q, err)
		return
	}
	o := &store.Object{Collection: c.ID, Name: q.t.obj, Data: data}
	changed := false
	if c.Kind == store.KindCal {
		info, err := calendars.Validate(q.ctx, data, components(c), floatingZone(c))
		if err != nil {
			var ve *calendars.ValidationError
			if errors.As(err, &ve) {
				writeError(q.w, http.StatusForbidden, name(nsCalDAV, ve.Condition), "", ve.Error())
				return
			}
			h.storeError(q, err)
			return
		}
		o.UID, o.Component, o.FirstStart, o.LastEnd = info.UID, info.Component, info.Start, info.End
	} else {
		info, err := contacts.Validate(data)
		if err != nil {
			writeError(q.w, http.StatusForbidden, name(nsCardDAV, "valid-address-data"), "", err.Error())
			return
		}
		if info.UID == "" {
			// RFC 6352 wants a UID; rather than refuse an old client's card we
			// give it one, and send no ETag so the client fetches what we stored.
			info.UID = uidFromName(q.t.obj)
			o.Data = contacts.AddUID(data, info.UID)
			changed = true
		}
		o.UID = info.UID
	}
	created, etag, err := h.cfg.Store.PutObject(q.ctx, o, conditions(q.r))
	var away *store.MergedAwayError
	if errors.As(err, &away) {
		// A phone re-uploading a card that was merged away must neither
		// bring the duplicate back nor lose its edit. No ETag: the client
		// sees the name deleted and the survivor changed in its next sync.
		if _, err := merges.Fold(q.ctx, h.cfg.Store, c, away, o, merges.Uploaded, time.Now()); err != nil {
			if errors.As(err, new(*store.UIDConflictError)) { // the name is a card that is there
				h.writeFailure(q, c, err)
				return
			}
			h.storeError(q, err)
			return
		}
		q.w.WriteHeader(http.StatusCreated)
		return
	}
	if err != nil {
		h.writeFailure(q, c, err)
		return
	}
	if !changed {
		q.w.Header().Set("ETag", `"`+etag+`"`)
	}
	if created {
		q.w.Header().Set("Location", h.hrefs.object(c.Kind, q.user, c.Name, q.t.obj))
		q.w.WriteHeader(http.StatusCreated)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// acceptedTypes are the media types a PUT may declare, per kind.
var acceptedTypes = map[store.Kind]map[string]bool{
	store.KindCard: {"text/vcard": true, "text/x-vcard": true, "text/directory": true},
	store.KindCal:  {"text/calendar": true},
}

// readResource reads a PUT body up to the resource size limit.
func (h *Handler) readResource(q *request) ([]byte, bool) {
	max := h.cfg.MaxResourceSize
	cond := name(nsCardDAV, "max-resource-size")
	if q.t.ckind == store.KindCal {
		cond = name(nsCalDAV, "max-resource-size")
	}
	tooBig := func() {
		writeError(q.w, http.StatusRequestEntityTooLarge, cond, "", fmt.Sprintf("an object may hold at most %d bytes", max))
	}
	if q.r.ContentLength > max {
		tooBig()
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooBig()
			return nil, false
		}
		if errors.Is(err, guard.ErrBodyTimeout) {
			writeError(q.w, http.StatusRequestTimeout, xml.Name{}, "", err.Error())
			return nil, false
		}
		http.Error(q.w, "could not read the request body", http.StatusBadRequest)
		return nil, false
	}
	return data, true
}

// writeFailure answers a failed PUT or MOVE.
func (h *Handler) writeFailure(q *request, c *store.Collection, err error) {
	var uc *store.UIDConflictError
	if errors.As(err, &uc) {
		ns := nsCardDAV
		if c.Kind == store.KindCal {
			ns = nsCalDAV
		}
		writeError(q.w, http.StatusConflict, name(ns, "no-uid-conflict"),
			hrefXML(h.hrefs.object(c.Kind, q.user, c.Name, uc.Name)),
			fmt.Sprintf("another object in this collection already has UID %q", uc.UID))
		return
	}
	var away *store.MergedAwayError
	if errors.As(err, &away) { // a MOVE: a PUT folds instead
		http.Error(q.w, fmt.Sprintf("a card with this name or UID was merged into %s: edit that one", away.Survivor), http.StatusConflict)
		return
	}
	if errors.Is(err, store.ErrNotFound) && q.r.Method == http.MethodPut {
		http.Error(q.w, "the collection does not exist", http.StatusConflict)
		return
	}
	h.storeError(q, err)
}

// uidFromName derives a UID from a resource name like "<uid>.vcf", or
// makes a random one when the name is not a plausible UID.
func uidFromName(n string) string {
	base := strings.TrimSuffix(n, ".vcf")
	if base != "" && len(base) <= 200 && !strings.ContainsAny(base, "\r\n") {
		return base
	}
	return contacts.NewUID()
}

func (h *Handler) delete(q *request) {
	switch q.t.kind {
	case tObject:
		c, ok := h.collection(q)
		if !ok {
			return
		}
		if err := h.cfg.Store.DeleteObject(q.ctx, c.ID, q.t.obj, conditions(q.r)); err != nil {
			h.storeError(q, err)
			return
		}
	case tCollection:
		c, ok := h.collection(q)
		if !ok {
			return
		}
		if err := h.cfg.Store.DeleteCollection(q.ctx, c.ID); err != nil {
			h.storeError(q, err)
			return
		}
	default:
		http.Error(q.w, "this resource cannot be deleted", http.StatusForbidden)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) move(q *request) {
	if q.t.kind != tObject {
		http.Error(q.w, "only objects can be moved; rename a collection with PROPPATCH displayname", http.StatusForbidden)
		return
	}
	dst, err := url.Parse(q.r.Header.Get("Destination"))
	if err != nil || dst.Path == "" {
		http.Error(q.w, "MOVE needs a Destination header", http.StatusBadRequest)
		return
	}
	if dst.Host != "" && !strings.EqualFold(dst.Host, q.r.Host) {
		http.Error(q.w, "Destination is on another server", http.StatusBadGateway)
		return
	}
	p := dst.EscapedPath()
	if h.cfg.Prefix != "" {
		p = strings.TrimPrefix(p, h.cfg.Prefix)
	}
	dt, err := parsePath(p)
	if err != nil || dt.kind != tObject || dt.user != q.user || dt.ckind != q.t.ckind {
		http.Error(q.w, "Destination must be inside one of your collections of the same kind", http.StatusForbidden)
		return
	}
	if dt.coll == q.t.coll && dt.obj == q.t.obj {
		http.Error(q.w, "source and destination are the same", http.StatusForbidden)
		return
	}
	src, ok := h.collection(q)
	if !ok {
		return
	}
	to, err := h.cfg.Store.GetCollection(q.ctx, q.user, dt.ckind, dt.coll)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(q.w, "the destination collection does not exist", http.StatusConflict)
		return
	}
	if err != nil {
		h.storeError(q, err)
		return
	}
	if to.Kind == store.KindCal && to.ID != src.ID {
		o, err := h.objectFor(q, src, false)
		if err != nil {
			h.storeError(q, err)
			return
		}
		if !slices.Contains(components(to), o.Component) {
			writeError(q.w, http.StatusForbidden, name(nsCalDAV, "supported-calendar-component"), "",
				fmt.Sprintf("the destination calendar does not hold %s components", o.Component))
			return
		}
	}
	overwrite := !strings.EqualFold(strings.TrimSpace(q.r.Header.Get("Overwrite")), "F")
	created, err := h.cfg.Store.MoveObject(q.ctx, src.ID, q.t.obj, to.ID, dt.obj, overwrite, conditions(q.r))
	if err != nil {
		h.writeFailure(q, to, err)
		return
	}
	if created {
		q.w.Header().Set("Location", h.hrefs.object(to.Kind, q.user, to.Name, dt.obj))
		q.w.WriteHeader(http.StatusCreated)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}
