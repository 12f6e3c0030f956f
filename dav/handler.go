// Package dav is rolodav's CardDAV and CalDAV protocol layer (RFC 4918,
// 4791, 5397, 5689, 6352, 6578, 6764): routing, discovery, properties, reports, conditional
// writes and streamed multistatus answers. It knows HTTP, not SQL.
package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rolodav/rolodav/auth"
	"github.com/rolodav/rolodav/calendars"
	"github.com/rolodav/rolodav/guard"
	"github.com/rolodav/rolodav/store"
)

// Config wires a Handler.
type Config struct {
	Store store.Store
	Auth  *auth.Authenticator
	// Prefix is the path under which the server is reachable (from
	// --base-url), "" or e.g. "/rolodav". Hrefs carry it; requests may
	// arrive with or without it (proxies differ in whether they strip it).
	Prefix string
	// MaxResourceSize bounds one vCard; bigger PUTs answer 413.
	MaxResourceSize int64
	// QuotaAvailable reports free disk space, nil when unknown.
	// quota-available-bytes is the smaller of it and what the user's quota
	// (store.Usage) leaves; it is left out when neither is known.
	QuotaAvailable func() int64
	Logger         *slog.Logger
}

// Handler serves the DAV tree.
type Handler struct {
	cfg   Config
	hrefs hrefs
	log   *slog.Logger
}

const (
	defaultMaxResourceSize = 10 << 20
	maxXMLBody             = 4 << 20
	davCapabilities        = "1, 3, access-control, addressbook, calendar-access, extended-mkcol"
	allowMethods           = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MKCALENDAR, MOVE"
)

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxResourceSize <= 0 {
		cfg.MaxResourceSize = defaultMaxResourceSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Prefix = strings.TrimSuffix(cfg.Prefix, "/")
	return &Handler{cfg: cfg, hrefs: hrefs{prefix: cfg.Prefix}, log: cfg.Logger}
}

// request carries what every method handler needs.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	t    target
	user string // authenticated login
	path string // escaped request path as received (for echoing hrefs)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("DAV", davCapabilities)
	p := r.URL.EscapedPath()
	if h.cfg.Prefix != "" && (p == h.cfg.Prefix || strings.HasPrefix(p, h.cfg.Prefix+"/")) {
		p = strings.TrimPrefix(p, h.cfg.Prefix)
	}
	t, err := parsePath(p)
	if err != nil {
		http.Error(w, "bad request path: encoded slashes and dot segments are not allowed", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", allowMethods)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	switch t.kind {
	case tNone:
		http.NotFound(w, r)
		return
	case tWellKnown:
		if r.Method != "PROPFIND" {
			http.Redirect(w, r, h.hrefs.root(), http.StatusMovedPermanently)
			return
		}
	case tRoot:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "rolodav: CardDAV and CalDAV server. Point your client at %s\n", h.hrefs.root())
			return
		}
	}
	u, ok := h.cfg.Auth.Basic(w, r, h.log)
	if !ok {
		return
	}
	user := u.Login
	// Another user's paths do not exist, whatever the method.
	if t.user != "" && t.user != user {
		http.NotFound(w, r)
		return
	}
	// The rules of all the calendar objects a request meets share one
	// work budget, on top of each object's own.
	ctx := calendars.WithWorkBudget(r.Context(), calendars.RequestWork)
	req := &request{w: w, r: r, ctx: ctx, t: t, user: user, path: p}
	h.dispatch(req)
}

func (h *Handler) dispatch(q *request) {
	switch q.r.Method {
	case "PROPFIND":
		h.propfind(q)
	case "PROPPATCH":
		h.proppatch(q)
	case "REPORT":
		h.report(q)
	case "MKCOL", "MKCALENDAR":
		h.mkcol(q)
	case http.MethodGet, http.MethodHead:
		h.get(q)
	case http.MethodPut:
		h.put(q)
	case http.MethodDelete:
		h.delete(q)
	case "MOVE":
		h.move(q)
	default:
		q.w.Header().Set("Allow", allowMethods)
		http.Error(q.w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// readXML reads a bounded request body; an empty body gives (nil, nil).
func readXML(q *request) (*node, error) {
	body := http.MaxBytesReader(q.w, q.r.Body, maxXMLBody)
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	return parseXML(q.ctx, bytes.NewReader(data))
}

// badXML answers a body that could not be read or parsed. There is no DAV
// precondition for malformed XML; the conditions are ours.
func badXML(q *request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(q.w, http.StatusRequestEntityTooLarge, name(nsRolodav, "max-request-size"), "",
			fmt.Sprintf("the request body may hold at most %d bytes", mbe.Limit))
	case errors.Is(err, context.Canceled):
		// The client has gone.
	case errors.Is(err, errXMLLimit):
		writeError(q.w, http.StatusBadRequest, name(nsRolodav, "xml-limits"), "", err.Error())
	case errors.Is(err, errBadXML):
		writeError(q.w, http.StatusBadRequest, name(nsRolodav, "well-formed-xml"), "", err.Error())
	case errors.Is(err, guard.ErrBodyTimeout):
		writeError(q.w, http.StatusRequestTimeout, xml.Name{}, "", err.Error())
	default:
		writeError(q.w, http.StatusBadRequest, xml.Name{}, "", "could not read the request body: "+err.Error())
	}
}

// storeError answers a store failure that has no more specific meaning.
func (h *Handler) storeError(q *request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(q.w, "not found", http.StatusNotFound)
	case errors.Is(err, store.ErrPrecondition):
		http.Error(q.w, "precondition failed", http.StatusPreconditionFailed)
	case errors.Is(err, store.ErrQuotaExceeded): // RFC 4331 §6
		writeError(q.w, http.StatusInsufficientStorage, name(nsDAV, "quota-not-exceeded"), "",
			"your storage quota is used up: delete something first")
	case errors.Is(err, context.Canceled):
	default:
		h.log.ErrorContext(q.ctx, "store failure", "method", q.r.Method, "path", q.path, "err", err)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
	}
}

func name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

// collection loads the target's collection; it answers 404 itself.
func (h *Handler) collection(q *request) (*store.Collection, bool) {
	c, err := h.cfg.Store.GetCollection(q.ctx, q.user, q.t.ckind, q.t.coll)
	if err != nil {
		h.storeError(q, err)
		return nil, false
	}
	return c, true
}
