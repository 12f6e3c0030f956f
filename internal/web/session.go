package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/duration"
	"github.com/rolodav/rolodav/internal/httplog"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
)

// Session lifetimes: a session unused for sessionIdle ends; its expiry is
// moved at most once per touchEvery, so that page views rarely write. A
// partial session (second factor owed) ends after partialIdle, never
// moved.
const (
	sessionIdle = 14 * 24 * time.Hour
	touchEvery  = time.Hour
	partialIdle = 10 * time.Minute
)

// sessionCookie is the cookie's name. With Secure the __Host- prefix makes
// browsers refuse it from plain HTTP or with a Domain.
func (s *Server) sessionCookie() string {
	if s.cfg.Secure {
		return "__Host-rolodav_session"
	}
	return "rolodav_session"
}

func (s *Server) sessionCookieOf(value string, expires time.Time) *http.Cookie {
	return &http.Cookie{Name: s.sessionCookie(), Value: value, Path: "/", HttpOnly: true,
		Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode, Expires: expires}
}

// preCookie carries the sign-in form's CSRF token (double submit): there is
// no session yet to hold one.
func (s *Server) preCookie() string {
	if s.cfg.Secure {
		return "__Host-rolodav_pre"
	}
	return "rolodav_pre"
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionID(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// currentSession returns the session of the request's cookie, or nil; a
// partial one opens no page, so it is nil here too. When it moves the
// session's expiry it sends the cookie again with the new one, so that
// browser and server forget the session together.
func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) (*store.Session, *store.User, error) {
	sess, u, err := s.cookieSession(r)
	if sess == nil || err != nil || sess.Partial {
		return nil, nil, err
	}
	now := s.cfg.Now()
	if now.Sub(sess.LastSeen) >= touchEvery {
		sess.Expires = now.Add(sessionIdle)
		if err := s.st.TouchSession(r.Context(), sess.ID, now, sess.Expires); err != nil {
			return nil, nil, err
		}
		ck, _ := r.Cookie(s.sessionCookie())
		http.SetCookie(w, s.sessionCookieOf(ck.Value, sess.Expires))
	}
	return sess, u, nil
}

// cookieSession returns the live session of the request's cookie, full or
// partial, and its user, or nil.
func (s *Server) cookieSession(r *http.Request) (*store.Session, *store.User, error) {
	ck, err := r.Cookie(s.sessionCookie())
	if err != nil || ck.Value == "" {
		return nil, nil, nil
	}
	sess, err := s.st.GetSession(r.Context(), sessionID(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.cfg.Now().Before(sess.Expires) {
		return nil, nil, nil
	}
	u, err := s.st.GetUser(r.Context(), sess.Owner)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return sess, u, nil
}

// signedIn wraps a page: without a session, GET goes to the sign-in page
// and anything else is refused; every other method must carry the
// session's CSRF token in the form field "csrf".
func (s *Server) signedIn(h func(w http.ResponseWriter, r *http.Request, c *call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, u, err := s.currentSession(w, r)
		if err != nil {
			s.fail(w, r, nil, http.StatusInternalServerError, "", err)
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, s.path(AccountPath+"signin")+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, http.StatusForbidden, "You are not signed in, or your session ended. Sign in and try again.", nil)
			return
		}
		httplog.SetUser(r.Context(), u.Login)
		// Where changes made by this request come from, for the security
		// mails they queue.
		r = r.WithContext(notices.WithOrigin(r.Context(), notices.Origin{Addr: r.RemoteAddr, Client: r.UserAgent()}))
		c := &call{User: u, Session: sess}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			token, err := s.readForm(w, r, c)
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.fail(w, r, c, http.StatusRequestEntityTooLarge, "That is more than this server accepts ("+humanBytes(tooBig.Limit)+").", nil)
				return
			}
			// A form that cannot be read has no token either: 403 below.
			if !s.sameOrigin(r) || !tokenEqual(token, sess.CSRF) {
				s.fail(w, r, c, http.StatusForbidden, "This form is out of date or did not come from this site. Reload the page and try again.", nil)
				return
			}
			if !plainText(r.Form) {
				s.fail(w, r, c, http.StatusBadRequest, "The form holds text that is not UTF-8, or a NUL character: nothing was changed.", nil)
				return
			}
		}
		h(w, r, c)
	})
}

// plainText reports whether every value is UTF-8 without NUL: what a
// browser sends, and what every store keeps as text (PostgreSQL refuses
// anything else).
func plainText(form url.Values) bool {
	for _, vs := range form {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return false
			}
		}
	}
	return true
}

// Bounds of a form's fields, an uploaded file aside: the pages' forms are
// far smaller.
const (
	maxFormBytes  = 256 << 10
	maxFormFields = 100
)

// readForm reads the fields of a POSTed form into r.PostForm and r.Form
// and returns its "csrf" field.
//
// A multipart form (the import page's) is read only up to its first file,
// which is left unread in c.upload for the handler to stream; the page
// puts every field before the file. Parsing the whole form instead
// (ParseMultipartForm) spools a file over 1 MiB to $TMPDIR, and net/http
// removes such files only for the request it made, not for the copies
// middleware hands on (r.WithContext): every upload left its file behind,
// even one refused for its token. Streaming writes no file at all, keeps
// memory to what the import holds, and checks the token before the file
// is read.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request, c *call) (string, error) {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype != "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		err := r.ParseForm()
		return r.PostFormValue("csrf"), err
	}
	// A file said to be too large is not read, but the fields before it
	// are, so that the page can say so (see importCollection).
	tooBig := r.ContentLength > s.cfg.MaxUpload
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", err
	}
	vals := url.Values{}
	room := int64(maxFormBytes)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		if part.FileName() != "" {
			c.upload = part
			if tooBig {
				c.uploadTooBig = &http.MaxBytesError{Limit: s.cfg.MaxUpload}
			}
			break
		}
		if n >= maxFormFields {
			return "", errors.New("too many form fields")
		}
		v, err := io.ReadAll(io.LimitReader(part, room+1))
		if err != nil {
			return "", err
		}
		if room -= int64(len(v)); room < 0 {
			return "", &http.MaxBytesError{Limit: maxFormBytes}
		}
		vals.Add(part.FormName(), string(v))
	}
	// As ParseForm does: the body's values first, then the query's.
	r.PostForm = vals
	r.Form = url.Values{}
	for k, vs := range vals {
		r.Form[k] = append(r.Form[k], vs...)
	}
	for k, vs := range r.URL.Query() {
		r.Form[k] = append(r.Form[k], vs...)
	}
	return vals.Get("csrf"), nil
}

func tokenEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a request whose browser says it came from another
// site (defence in depth next to the CSRF token; old browsers send
// neither header).
func (s *Server) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil {
			return false
		}
		host := r.Host
		if s.cfg.PublicURL != nil {
			host = s.cfg.PublicURL.Host
		}
		return strings.EqualFold(u.Host, host)
	}
	return true
}

func (s *Server) sessionRoutes() {
	p := s.cfg.Prefix + AccountPath
	s.mux.HandleFunc("GET "+p+"signin", s.signinForm)
	s.mux.HandleFunc("POST "+p+"signin", s.signin)
	s.mux.HandleFunc("GET "+p+"signin/code", s.codeForm)
	s.mux.HandleFunc("POST "+p+"signin/code", s.signinCode)
	s.handle("POST "+AccountPath+"signout", s.signout)
}

type signinData struct {
	Login, Next, Token string
}

func (s *Server) signinForm(w http.ResponseWriter, r *http.Request) {
	if sess, _, err := s.currentSession(w, r); err == nil && sess != nil {
		http.Redirect(w, r, s.nextPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.showSignin(w, r, http.StatusOK, "", signinData{Next: r.URL.Query().Get("next")})
}

func (s *Server) showSignin(w http.ResponseWriter, r *http.Request, status int, msg string, d signinData) {
	d.Token = randomToken()
	http.SetCookie(w, &http.Cookie{Name: s.preCookie(), Value: d.Token, Path: "/", HttpOnly: true,
		Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, r, nil, status, "signin", page{Title: "Sign in", Error: msg, Data: d})
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d := signinData{Login: r.PostFormValue("login"), Next: r.PostFormValue("next")}
	pre, err := r.Cookie(s.preCookie())
	if err != nil || !s.sameOrigin(r) || !tokenEqual(r.PostFormValue("csrf"), pre.Value) {
		s.showSignin(w, r, http.StatusForbidden, "This form is out of date or did not come from this site. Please sign in again.", d)
		return
	}
	id, err := s.cfg.Auth.SignIn(r.Context(), auth.Attempt{
		Login: d.Login, Password: r.PostFormValue("password"),
		Addr: r.RemoteAddr, Client: r.UserAgent(), Via: auth.ViaWeb,
	})
	if status, msg := s.passwordRefusal(w, r, err, "Wrong login or password."); status != 0 {
		if msg == "" {
			s.fail(w, r, nil, status, "", err)
			return
		}
		s.showSignin(w, r, status, msg, d)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.preCookie(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure})
	if err := s.afterPassword(w, r, id.User, d.Next); err != nil {
		s.fail(w, r, nil, http.StatusInternalServerError, "", err)
	}
}

// afterPassword starts the session a verified password opens for u and
// sends the browser on: with two-factor on, a partial session and the
// code form. u was read before the password was checked, which takes a
// while; two-factor turned on meanwhile ends the other sessions before
// this one exists, so the user is read again once it does, and a full
// session that should not be is made partial.
func (s *Server) afterPassword(w http.ResponseWriter, r *http.Request, u *store.User, next string) error {
	partial := u.TwoFactor
	id, err := s.startSession(w, r, u.Login, partial)
	if err != nil {
		return err
	}
	if !partial {
		now, err := s.st.GetUser(r.Context(), u.Login)
		if err != nil {
			return fmt.Errorf("reading %s again: %w", u.Login, err)
		}
		if now.TwoFactor {
			if err := s.st.DeleteSession(r.Context(), id); err != nil {
				return fmt.Errorf("ending a session opened without a code: %w", err)
			}
			if _, err := s.startSession(w, r, u.Login, true); err != nil {
				return err
			}
			partial = true
		}
	}
	if partial {
		http.Redirect(w, r, s.path(AccountPath+"signin/code")+"?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, s.nextPath(next), http.StatusSeeOther)
	return nil
}

// passwordRefusal maps an error of a password check (auth.SignIn) to the
// answer's status and message, wrong being the message for a wrong
// password: status 0 when the check passed, and an empty message for an
// error of the server's own (500). For throttling it sets Retry-After.
func (s *Server) passwordRefusal(w http.ResponseWriter, r *http.Request, err error, wrong string) (int, string) {
	var te *auth.ThrottledError
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds()))
		return http.StatusTooManyRequests, "Too many failed sign-ins. Try again in " + duration.Words(time.Duration(te.RetryAfterSeconds())*time.Second) + "."
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, wrong
	case errors.Is(err, auth.ErrUnavailable):
		s.log.WarnContext(r.Context(), "password check unavailable", "err", err)
		return http.StatusServiceUnavailable, "Your password could not be checked: the mail server that knows it cannot be reached right now. Nothing is wrong with your password; try again in a few minutes."
	default:
		return http.StatusInternalServerError, ""
	}
}

// startSession signs the browser in as login: a full session, or a
// partial one that only leads to the code form. The session ID is new at
// every step (never the one the browser had, which is deleted), so that
// a planted cookie cannot ride along into the signed-in state. It
// returns the new session's ID.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, login string, partial bool) (string, error) {
	if old, err := r.Cookie(s.sessionCookie()); err == nil {
		if err := s.st.DeleteSession(r.Context(), sessionID(old.Value)); err != nil {
			return "", fmt.Errorf("ending the previous session: %w", err)
		}
	}
	value := randomToken()
	now := s.cfg.Now()
	idle := sessionIdle
	if partial {
		idle = partialIdle
	}
	sess := &store.Session{ID: sessionID(value), Owner: login, CSRF: randomToken(), Partial: partial,
		Created: now, LastSeen: now, Expires: now.Add(idle), Addr: r.RemoteAddr, Client: r.UserAgent()}
	if err := s.st.CreateSession(r.Context(), sess); err != nil {
		return "", fmt.Errorf("starting session of %s: %w", login, err)
	}
	http.SetCookie(w, s.sessionCookieOf(value, sess.Expires))
	if !partial {
		s.learnLanguage(r, login)
	}
	return sess.ID, nil
}

// nextPath is where to go after signing in: a path of ours, never another
// site.
func (s *Server) nextPath(next string) string {
	home := s.path(AccountPath)
	if next == "" || !strings.HasPrefix(next, s.path(AccountPath)) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.Contains(next, "/..") {
		return home
	}
	return next
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request, c *call) {
	if err := s.st.DeleteSession(r.Context(), c.Session.ID); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure})
	http.Redirect(w, r, s.path(AccountPath+"signin"), http.StatusSeeOther)
}
