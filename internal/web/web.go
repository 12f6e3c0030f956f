// Package web serves the account pages: sign-in, connecting devices, app
// passwords, activity, address books and calendars, and the duplicates
// manager. Pages are rendered on the server and work without JavaScript.
package web

import (
	"context"
	"crypto/cipher"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/useragent"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Store is what the pages need of the store: the account with its
// credentials, sessions and activity, the collections with their objects
// and merges (imports, exports, duplicates), and the security mails
// (package accounts queues them, the security page lists them), and the
// secret that sealed cookies' key derives from. The sign-in failure
// counters are the Authenticator's.
type Store interface {
	store.Users
	store.AppPasswords
	store.Sessions
	store.SecondFactor
	store.SignIns
	store.Collections
	store.Objects
	store.Merges
	store.NoticeQueue
	store.Migrations
	store.Secrets
	ListPushRegistrations(ctx context.Context, login string) ([]store.PushRegistration, error)
}

// Config wires the pages to the rest of the server.
type Config struct {
	Store Store
	Auth  *auth.Authenticator
	// Prefix is the URL path the server is mounted under ("" or
	// "/some/prefix", from --base-url).
	Prefix string
	// PublicURL is the server's public address (--base-url); nil means the
	// address the browser used.
	PublicURL *url.URL
	// Secure marks cookies Secure: the browser reaches us over HTTPS (our
	// own TLS or a proxy's, per --base-url).
	Secure bool
	// Region is the default phone region for the duplicates manager ("" =
	// numbers without a country code are compared as written).
	Region string
	// MaxUpload bounds an import upload, in bytes.
	MaxUpload int64
	// MaxResourceSize bounds one imported card or calendar object, in
	// bytes (--max-resource-size); 0 means imports.DefaultMaxObjectSize.
	MaxResourceSize int64
	// MailEnabled: the server has an SMTP relay, so security mails are
	// sent (the security page offers their settings, or says none are).
	MailEnabled bool
	// Push: the server sends WebDAV-Push messages (serve --push), so the
	// devices page explains how DAVx5 uses them.
	Push bool
	// MigrateAllowPrivate lets "Import from another provider" reach
	// servers on loopback, private and link-local addresses
	// (--migrate-allow-private); off, a user cannot make the server reach
	// into its own network.
	MigrateAllowPrivate bool
	// Background is what the work the pages start beyond a request (an
	// import from another provider) runs under: its end stops that work,
	// and Server.Wait waits for it. nil means it runs to its end.
	Background context.Context
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the account pages.
type Server struct {
	cfg   Config
	st    Store
	log   *slog.Logger
	pages map[string]*template.Template // parsed, never executed: see zoned
	zoned zonedTemplates                // the pages as executed, per time zone
	mux   *http.ServeMux
	// background is Config.Background; running counts the work started
	// under it.
	background context.Context
	running    sync.WaitGroup
	// sealAEAD seals cookies (sealed.go); nil until first needed.
	sealMu   sync.Mutex
	sealAEAD cipher.AEAD
	// dupCache keeps the duplicates found in the books last looked at.
	dupCache *merges.Cache
}

// AccountPath is where the pages live, under Config.Prefix.
const AccountPath = "/account/"

// New returns the pages' server. It panics if a template does not parse:
// they are embedded, so that is a programming error.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 64 << 20
	}
	s := &Server{cfg: cfg, st: cfg.Store, log: cfg.Logger, pages: map[string]*template.Template{}, background: cfg.Background}
	if s.background == nil {
		s.background = context.Background()
	}
	s.zoned.sets = map[string]map[string]*template.Template{}
	s.parseTemplates()
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// Wait waits for the work the pages started in the background (imports
// from another provider) to end: once Config.Background has ended, and the
// server no longer takes requests, before the store is closed.
func (s *Server) Wait() { s.running.Wait() }

// ServeHTTP serves everything under Prefix+AccountPath, the profile
// download and the root redirect.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	s.mux.ServeHTTP(w, r)
}

// routes registers every page. Each area registers its own in its file.
func (s *Server) routes() {
	p := s.cfg.Prefix
	s.mux.HandleFunc("GET "+p+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.path(AccountPath), http.StatusFound)
	})
	assets, _ := fs.Sub(assetFS, "assets")
	s.mux.Handle("GET "+p+AccountPath+"assets/", http.StripPrefix(p+AccountPath+"assets/", cacheAssets(http.FileServerFS(assets))))
	s.mux.HandleFunc("GET "+p+AccountPath+"{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.path(AccountPath+"devices"), http.StatusFound)
	})
	s.sessionRoutes()
	s.accountRoutes()
	s.passwordRoutes()
	s.confirmRoutes()
	s.securityRoutes()
	s.collectionRoutes()
	s.duplicateRoutes()
	s.regionRoutes()
	s.migrationRoutes()
	s.timeZoneRoutes()
}

// handle registers a page for signed-in users only; see signedIn.
func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request, c *call)) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.Handle(method+" "+s.cfg.Prefix+path, s.signedIn(h))
}

func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// path is p (starting with "/") under the server's prefix.
func (s *Server) path(p string) string { return s.cfg.Prefix + p }

// call is what a signed-in page gets besides the request.
type call struct {
	User    *store.User
	Session *store.Session
	// upload is the file of a multipart form, unread (see readForm); nil
	// when there is none.
	upload *multipart.Part
	// uploadTooBig is set when the request said (Content-Length) that it
	// is over the upload limit: its fields were read, its file must not be.
	uploadTooBig *http.MaxBytesError
}

// page is what every template gets as ".".
type page struct {
	Title  string
	Nav    string // the nav entry to mark current
	User   *store.User
	CSRF   string
	Prefix string
	Notice string // a one-time message from the previous action
	Error  string // what went wrong with the previous form
	// Refresh, when more than 0, reloads the page after that many
	// seconds (a progress page, without JavaScript).
	Refresh int
	Data    any
	// Zone is the time zone the user chose, which times are written in;
	// "" when they chose none (times are in UTC, and app.js shows them in
	// the browser's zone).
	Zone string
}

func (s *Server) parseTemplates() {
	funcs := template.FuncMap{
		"path": s.path,
		// when writes a time for people, in the user's zone (see
		// Server.zonedTemplate, which replaces it), with the zone named; iso is
		// the same time for <time datetime>.
		"when":  func(t time.Time) string { return formatWhen(t, time.UTC) },
		"iso":   isoTime,
		"bytes": humanBytes,
		// The readable name is what people recognise; pages offer the full
		// User-Agent on demand.
		"client": useragent.Describe,
		"noticeLabel": func(kind string) string {
			for _, k := range notices.Kinds {
				if k.Kind == kind {
					return k.Label
				}
			}
			return kind
		},
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if name == "layout.html" {
			continue
		}
		s.pages[strings.TrimSuffix(name, ".html")] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, f))
	}
}

// render writes page name (templates/<name>.html) inside the layout with
// status. It reads and clears the one-time notice.
func (s *Server) render(w http.ResponseWriter, r *http.Request, c *call, status int, name string, p page) {
	if _, ok := s.pages[name]; !ok {
		panic("web: no template " + name)
	}
	p.Prefix = s.cfg.Prefix
	if c != nil {
		p.User = c.User
		if c.Session != nil {
			p.CSRF = c.Session.CSRF
		}
	}
	loc, zone := userZone(p.User)
	p.Zone = zone
	t, err := s.zonedTemplate(name, loc, zone)
	if err != nil {
		s.log.ErrorContext(r.Context(), "rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if p.Notice == "" {
		p.Notice = s.takeNotice(w, r)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		s.log.ErrorContext(r.Context(), "rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail shows an error page: msg is for the user; err, if any, is logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *call, status int, msg string, err error) {
	if err != nil {
		if errors.Is(err, store.ErrNotFound) && status == http.StatusInternalServerError {
			status = http.StatusNotFound
		}
		if errors.Is(err, store.ErrQuotaExceeded) && status == http.StatusInternalServerError {
			status, msg = http.StatusInsufficientStorage, quotaMessage
		}
		if status >= 500 {
			s.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	s.render(w, r, c, status, "error", page{Title: http.StatusText(status), Error: msg})
}

const quotaMessage = "Your storage quota is used up, so nothing was saved. Delete cards, events or address books you no longer need, then try again."

// done redirects after a successful form (post/redirect/get), with a
// notice shown once on the next page.
func (s *Server) done(w http.ResponseWriter, r *http.Request, to, notice string) {
	if notice != "" {
		s.notice(w, notice)
	}
	http.Redirect(w, r, s.path(to), http.StatusSeeOther)
}

// notice sets a message for the next page shown.
func (s *Server) notice(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{Name: noticeCookie, Value: url.QueryEscape(msg), Path: s.path(AccountPath),
		MaxAge: 60, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode})
}

const noticeCookie = "rolodav_notice"

func (s *Server) takeNotice(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(noticeCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: noticeCookie, Path: s.path(AccountPath), MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure})
	v, _ := url.QueryUnescape(ck.Value)
	return v
}

func humanBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	default:
		return fmt.Sprintf("%.1f GB", float64(n)/(1024*1024*1024))
	}
}
