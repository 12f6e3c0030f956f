package dav

import (
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

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/exports"
	"github.com/rolodav/rolodav/internal/guard"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
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

func (h *Handler) get(q *request) error {
	switch q.t.kind {
	case tObject:
		return h.getObject(q)
	case tCollection:
		return h.export(q)
	}
	return notAllowed("OPTIONS, PROPFIND, PROPPATCH", "GET is not available here; use a CardDAV client")
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

func (h *Handler) getObject(q *request) error {
	c, err := h.collection(q)
	if err != nil {
		return err
	}
	o, err := h.cfg.Store.GetObject(q.ctx, c.ID, q.t.obj)
	if err != nil {
		return err
	}
	etag := `"` + o.ETag + `"`
	hd := q.w.Header()
	hd.Set("ETag", etag)
	hd.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	hd.Set("Content-Type", contentType(c, o))
	if inm := q.r.Header.Get("If-None-Match"); inm != "" && (inm == "*" || strings.Contains(inm, etag)) {
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	data := o.Data
	if v := acceptedVersion(q.r.Header.Get("Accept")); v != "" && c.Kind == store.KindCard {
		if conv, err := contacts.Convert(data, v); err == nil {
			data = conv
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	if q.r.Method == http.MethodHead {
		return nil
	}
	_, _ = q.w.Write(data)
	return nil
}

// export streams a whole collection as one .vcf or .ics file.
func (h *Handler) export(q *request) error {
	c, err := h.collection(q)
	if err != nil {
		return err
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
		return nil
	}
	if err := exports.Write(q.ctx, h.cfg.Store, c, q.w); err != nil {
		return &cutError{"export failed", err}
	}
	return nil
}

func (h *Handler) put(q *request) error {
	if q.t.kind != tObject {
		return notAllowed("OPTIONS, PROPFIND, PROPPATCH, REPORT, GET, DELETE, MKCOL", "PUT is only possible on an object inside a collection")
	}
	if ct := q.r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !acceptedTypes[q.t.ckind][mt] {
			cond := name(nsCardDAV, "supported-address-data")
			msg := "address books accept text/vcard"
			if q.t.ckind == store.KindCal {
				cond, msg = name(nsCalDAV, "supported-calendar-data"), "calendars accept text/calendar"
			}
			return davError(http.StatusUnsupportedMediaType, cond, msg)
		}
	}
	data, err := h.readResource(q)
	if err != nil {
		return err
	}
	c, err := h.collection(q)
	if errors.Is(err, store.ErrNotFound) {
		return errNoCollection
	}
	if err != nil {
		return err
	}
	o := &store.Object{Collection: c.ID, Name: q.t.obj, Data: data}
	changed := false
	if c.Kind == store.KindCal {
		info, err := calendars.Validate(q.ctx, data, components(c), floatingZone(c))
		if err != nil {
			return err
		}
		o.UID, o.Component, o.FirstStart, o.LastEnd = info.UID, info.Component, info.Start, info.End
	} else {
		info, err := contacts.Validate(data)
		if err != nil {
			return davError(http.StatusForbidden, name(nsCardDAV, "valid-address-data"), err.Error())
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
			return &writeIntoError{c, err} // a UID conflict when the name is a card that is there
		}
		q.w.WriteHeader(http.StatusCreated)
		return nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNoCollection
	}
	if err != nil {
		return &writeIntoError{c, err}
	}
	if !changed {
		q.w.Header().Set("ETag", `"`+etag+`"`)
	}
	if created {
		q.w.Header().Set("Location", h.hrefs.object(c.Kind, q.user, c.Name, q.t.obj))
		q.w.WriteHeader(http.StatusCreated)
		return nil
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// acceptedTypes are the media types a PUT may declare, per kind.
var acceptedTypes = map[store.Kind]map[string]bool{
	store.KindCard: {"text/vcard": true, "text/x-vcard": true, "text/directory": true},
	store.KindCal:  {"text/calendar": true},
}

// readResource reads a PUT body up to the resource size limit.
func (h *Handler) readResource(q *request) ([]byte, error) {
	max := h.cfg.MaxResourceSize
	cond := name(nsCardDAV, "max-resource-size")
	if q.t.ckind == store.KindCal {
		cond = name(nsCalDAV, "max-resource-size")
	}
	tooBig := func() error {
		return davError(http.StatusRequestEntityTooLarge, cond, fmt.Sprintf("an object may hold at most %d bytes", max))
	}
	if q.r.ContentLength > max {
		return nil, tooBig()
	}
	data, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, tooBig()
		case errors.Is(err, guard.ErrBodyTimeout):
			return nil, err
		}
		return nil, plainError(http.StatusBadRequest, "could not read the request body")
	}
	return data, nil
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

func (h *Handler) delete(q *request) error {
	if q.t.kind != tObject && q.t.kind != tCollection {
		return plainError(http.StatusForbidden, "this resource cannot be deleted")
	}
	c, err := h.collection(q)
	if err != nil {
		return err
	}
	if q.t.kind == tObject {
		err = h.cfg.Store.DeleteObject(q.ctx, c.ID, q.t.obj, conditions(q.r))
	} else {
		err = h.cfg.Store.DeleteCollection(q.ctx, c.ID)
	}
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) move(q *request) error {
	if q.t.kind != tObject {
		return plainError(http.StatusForbidden, "only objects can be moved; rename a collection with PROPPATCH displayname")
	}
	dst, err := url.Parse(q.r.Header.Get("Destination"))
	if err != nil || dst.Path == "" {
		return plainError(http.StatusBadRequest, "MOVE needs a Destination header")
	}
	if dst.Host != "" && !strings.EqualFold(dst.Host, q.r.Host) {
		return plainError(http.StatusBadGateway, "Destination is on another server")
	}
	p := dst.EscapedPath()
	if h.cfg.Prefix != "" {
		p = strings.TrimPrefix(p, h.cfg.Prefix)
	}
	dt, err := parsePath(p)
	if err != nil || dt.kind != tObject || dt.user != q.user || dt.ckind != q.t.ckind {
		return plainError(http.StatusForbidden, "Destination must be inside one of your collections of the same kind")
	}
	if dt.coll == q.t.coll && dt.obj == q.t.obj {
		return plainError(http.StatusForbidden, "source and destination are the same")
	}
	src, err := h.collection(q)
	if err != nil {
		return err
	}
	to, err := h.cfg.Store.GetCollection(q.ctx, q.user, dt.ckind, dt.coll)
	if errors.Is(err, store.ErrNotFound) {
		return plainError(http.StatusConflict, "the destination collection does not exist")
	}
	if err != nil {
		return err
	}
	if to.Kind == store.KindCal && to.ID != src.ID {
		o, err := h.objectFor(q, src, false)
		if err != nil {
			return err
		}
		if !slices.Contains(components(to), o.Component) {
			return davError(http.StatusForbidden, name(nsCalDAV, "supported-calendar-component"),
				fmt.Sprintf("the destination calendar does not hold %s components", o.Component))
		}
	}
	overwrite := !strings.EqualFold(strings.TrimSpace(q.r.Header.Get("Overwrite")), "F")
	created, err := h.cfg.Store.MoveObject(q.ctx, src.ID, q.t.obj, to.ID, dt.obj, overwrite, conditions(q.r))
	if err != nil {
		return &writeIntoError{to, err}
	}
	if created {
		q.w.Header().Set("Location", h.hrefs.object(to.Kind, q.user, to.Name, dt.obj))
		q.w.WriteHeader(http.StatusCreated)
		return nil
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
