// Package guard holds the HTTP middleware that comes before every handler:
// it bounds how long a request body may take to arrive, so that a client
// that declares a body and never sends it holds a connection for seconds,
// not for ever, and it sets the headers every response carries. It also
// makes the User-Agent valid UTF-8 (invalid bytes become U+FFFD): handlers
// store it in sign-in activity and sessions, and PostgreSQL stores no
// other text.
//
// http.Server.ReadTimeout would bound bodies too, but with one figure for
// every request: either it cuts off a phone uploading a large import on a
// slow link, or it lets thousands of silent clients sit for minutes. Here
// the deadline grows with what has arrived, at a minimum average rate.
package guard

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/duration"
)

// Options tune Handler. The zero value of a field selects its default.
type Options struct {
	// Grace is how long a body may take beyond what MinRate allows: the
	// time for the first bytes, and slack for a slow start. Default 20 s.
	Grace time.Duration
	// MinRate is the slowest average rate, in bytes per second, at which a
	// body must arrive. Default 8 KiB/s (a 64 MiB upload may take 2 h 16 m).
	MinRate int64
	// HSTS adds Strict-Transport-Security to every response: set it when
	// the server is reached over HTTPS only (its own TLS, or an https
	// public URL).
	HSTS bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultGrace   = 20 * time.Second
	DefaultMinRate = 8 << 10
	// hstsValue asks browsers to use HTTPS for a year. Not for subdomains:
	// they may be other servers, which this one cannot speak for.
	hstsValue = "max-age=31536000"
)

// drainTime is how long net/http may drain an unread body after the answer.
const drainTime = time.Second

// ErrBodyTimeout is returned by a request body's Read when the body did
// not arrive in time. Handlers answer it with 408 Request Timeout.
var ErrBodyTimeout = errors.New("request body did not arrive in time")

// Handler returns next behind the guard: security headers on every
// response, a read deadline on every request body, and no waiting for an
// unread body after the answer (the connection is closed instead).
func Handler(opt Options, next http.Handler) http.Handler {
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.MinRate <= 0 {
		opt.MinRate = DefaultMinRate
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); !utf8.ValidString(ua) {
			r.Header.Set("User-Agent", strings.ToValidUTF8(ua, "\uFFFD"))
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if opt.HSTS {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		b := &body{rc: r.Body, ctl: http.NewResponseController(w), opt: opt, length: r.ContentLength}
		// A deadline from the start: a handler that answers without reading
		// (a 401) leaves net/http to drain the body, which must end too.
		b.arm()
		// net/http looks at its own body after the handler (to close the
		// connection gently when it was left unread): give it back.
		orig := r.Body
		r.Body = b
		defer func() { r.Body = orig }()
		next.ServeHTTP(&writer{ResponseWriter: w, body: b, proto1: r.ProtoMajor == 1}, r)
	})
}

// body is a request body read under a deadline: Grace plus the time
// MinRate allows for what has arrived, less the time the client already
// kept the server waiting. Only time spent waiting for the client counts:
// a handler that reads slowly (storing each card of an import as it
// comes) is not the client's fault, nor is the time before the first read
// (authentication, or a client waiting for 100 Continue).
type body struct {
	rc     io.ReadCloser
	ctl    *http.ResponseController
	opt    Options
	length int64 // as declared; -1 if unknown

	mu     sync.Mutex
	read   int64
	waited time.Duration // blocked in Read
	done   bool          // all read: the deadline is lifted
}

// arm sets the connection's read deadline for the next read.
func (b *body) arm() {
	allowed := b.opt.Grace + time.Duration(float64(b.read)/float64(b.opt.MinRate)*float64(time.Second)) - b.waited
	// Not every writer supports deadlines (tests' recorders): then the
	// server's own timeouts are all there is.
	_ = b.ctl.SetReadDeadline(b.opt.Now().Add(allowed))
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	if !b.done {
		b.arm()
	}
	b.mu.Unlock()
	start := b.opt.Now()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waited += b.opt.Now().Sub(start)
	b.read += int64(n)
	if !b.done && (err == io.EOF || b.length >= 0 && b.read >= b.length) {
		// The handler may work long after this; net/http then watches the
		// connection for the client going away, which a deadline would
		// fake.
		b.done = true
		_ = b.ctl.SetReadDeadline(time.Time{})
	}
	if err != nil && isTimeout(err) {
		return n, fmt.Errorf("%w: %d bytes in %s of waiting (at least %d bytes/s are needed)",
			ErrBodyTimeout, b.read, duration.Words(b.waited), b.opt.MinRate)
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// unread reports whether the body may still hold bytes the handler did
// not read.
func (b *body) unread() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.done
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// writer closes the connection after an answer given before the body was
// read to its end: net/http would otherwise read the rest of a small body
// before sending the answer, so that a client that never sends its body
// would not get the 401 it deserves at once, and would hold the
// connection.
type writer struct {
	http.ResponseWriter
	body        *body
	proto1      bool
	wroteHeader bool
}

func (w *writer) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		// HTTP/2 has no such drain (and takes "close" as a shutdown of
		// every stream of the connection).
		if code >= 200 && w.proto1 && w.body.unread() {
			w.Header().Set("Connection", "close")
			// Nor may net/http's drain after the answer hold the
			// connection long (HTTP/1 handlers cannot read the body once
			// they answer): a second lets a client that is sending finish
			// a small rest, so that it reads the answer rather than a
			// reset.
			_ = w.body.ctl.SetReadDeadline(w.body.opt.Now().Add(drainTime))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
