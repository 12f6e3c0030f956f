// Package dav is rolodav's CardDAV and CalDAV protocol layer (RFC 4918,
// 4791, 5397, 5689, 6352, 6578, 6764): routing, discovery, properties, reports, conditional
// writes and streamed multistatus answers. It knows HTTP, not SQL.
package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/store"
)

// Store is what the DAV tree needs of the store: collections, their
// objects, the merges that a card uploaded under a merged-away name is
// folded through (merges.Fold), a user's usage for the quota
// properties, and push registrations.
type Store interface {
	store.Collections
	store.Objects
	store.Merges
	Usage(ctx context.Context, login string) (store.Usage, error)
	RegisterPush(ctx context.Context, r *store.PushRegistration) (created bool, err error)
	GetPushRegistration(ctx context.Context, login, token string) (*store.PushRegistration, error)
	DeletePushRegistration(ctx context.Context, login, token string) error
}

// Config wires a Handler.
type Config struct {
	Store Store
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
	// Push is WebDAV-Push; nil turns it off: nothing is advertised, POST
	// is refused as before and registration URLs do not exist.
	Push *push.Service
	// PublicURL is the address clients know the server by (from
	// --base-url), for the absolute URLs of answers (the Location of a push
	// registration); nil means the address each request came to.
	PublicURL *url.URL
	Logger    *slog.Logger
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
	q := &request{w: w, r: r, ctx: r.Context(), path: p}
	if err := h.serve(q); err != nil {
		h.writeErr(q, err)
	}
}

// serve answers what needs no user, signs the user in and hands the
// request to its method's handler.
func (h *Handler) serve(q *request) error {
	w, r := q.w, q.r
	t, err := parsePath(q.path)
	if err != nil {
		return errBadRequestPath
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", h.pushOptions(w, t))
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	switch t.kind {
	case tNone:
		return errNoSuchPath
	case tPush:
		if h.cfg.Push == nil {
			return errNoSuchPath
		}
	case tWellKnown:
		if r.Method != "PROPFIND" {
			http.Redirect(w, r, h.hrefs.root(), http.StatusMovedPermanently)
			return nil
		}
	case tRoot:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "rolodav: CardDAV and CalDAV server. Point your client at %s\n", h.hrefs.root())
			return nil
		}
	}
	u, ok := h.cfg.Auth.Basic(w, r, h.log)
	if !ok {
		return nil // answered
	}
	// Another user's paths do not exist, whatever the method.
	if t.user != "" && t.user != u.Login {
		return errNoSuchPath
	}
	q.t, q.user = t, u.Login
	q.ctx = dontNotify(q.ctx, r, h.cfg.Prefix, u.Login)
	// The rules of all the calendar objects a request meets share one
	// work budget, on top of each object's own.
	q.ctx = calendars.WithWorkBudget(q.ctx, calendars.RequestWork)
	return h.dispatch(q)
}

func (h *Handler) dispatch(q *request) error {
	if q.t.kind == tPush {
		return h.pushRegistration(q)
	}
	switch q.r.Method {
	case "PROPFIND":
		return h.propfind(q)
	case "PROPPATCH":
		return h.proppatch(q)
	case "REPORT":
		return h.report(q)
	case "MKCOL", "MKCALENDAR":
		return h.mkcol(q)
	case http.MethodGet, http.MethodHead:
		return h.get(q)
	case http.MethodPut:
		return h.put(q)
	case http.MethodDelete:
		return h.delete(q)
	case "MOVE":
		return h.move(q)
	case http.MethodPost:
		return h.post(q)
	}
	return notAllowed(allowMethods, "method not allowed")
}

// readXML reads a bounded request body; an empty body gives (nil, nil).
func readXML(q *request) (*node, error) {
	body := http.MaxBytesReader(q.w, q.r.Body, maxXMLBody)
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, &bodyError{err}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	doc, err := parseXML(q.ctx, bytes.NewReader(data))
	if err != nil {
		return nil, &bodyError{err}
	}
	return doc, nil
}

func name(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }

// collection loads the target's collection.
func (h *Handler) collection(q *request) (*store.Collection, error) {
	return h.cfg.Store.GetCollection(q.ctx, q.user, q.t.ckind, q.t.coll)
}
