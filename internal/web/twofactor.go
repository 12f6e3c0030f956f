package web

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/duration"
	"github.com/rolodav/rolodav/internal/store"
)

// Two-factor sign-in: the code step of signing in, and the Security page
// that turns it on and off.

// Messages of a refused code.
const (
	msgWrongCode = "Wrong code. Type the 6-digit code your app shows now, or one of your emergency codes."
	msgCodeUsed  = "This code was already used; wait for the next one."
)

type codeData struct {
	Next, Token string
}

// codeForm shows the code step to a browser whose password was verified.
func (s *Server) codeForm(w http.ResponseWriter, r *http.Request) {
	sess, _, err := s.cookieSession(r)
	if err != nil {
		s.fail(w, r, nil, http.StatusInternalServerError, "", err)
		return
	}
	next := r.URL.Query().Get("next")
	if sess == nil || !sess.Partial {
		http.Redirect(w, r, s.path(AccountPath+"signin")+"?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	s.showCode(w, r, sess, http.StatusOK, "", next)
}

func (s *Server) showCode(w http.ResponseWriter, r *http.Request, sess *store.Session, status int, msg, next string) {
	s.render(w, r, nil, status, "signin_code", page{Title: "Two-factor sign-in", Error: msg,
		Data: codeData{Next: next, Token: sess.CSRF}})
}

// signinCode completes a sign-in with a code: a new, full session replaces
// the partial one.
func (s *Server) signinCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := r.PostFormValue("next")
	sess, _, err := s.cookieSession(r)
	if err != nil {
		s.fail(w, r, nil, http.StatusInternalServerError, "", err)
		return
	}
	if sess == nil || !sess.Partial {
		s.showSignin(w, r, http.StatusUnauthorized, "Your sign-in ended: it has to be completed within 10 minutes. Please sign in again.", signinData{Next: next})
		return
	}
	if !s.sameOrigin(r) || !tokenEqual(r.PostFormValue("csrf"), sess.CSRF) {
		s.showCode(w, r, sess, http.StatusForbidden, "This form is out of date or did not come from this site. Reload the page and try again.", next)
		return
	}
	f, err := s.cfg.Auth.SignInSecondFactor(r.Context(), auth.Attempt{
		Login: sess.Owner, Password: r.PostFormValue("code"),
		Addr: r.RemoteAddr, Client: r.UserAgent(), Via: auth.ViaWeb,
	})
	if status, msg := codeRefusal(w, err); status != 0 {
		if status == http.StatusInternalServerError {
			s.fail(w, r, nil, status, "", err)
			return
		}
		s.showCode(w, r, sess, status, msg, next)
		return
	}
	// ErrNoSecondFactor: turned off since the password step, which then
	// suffices.
	if _, err := s.startSession(w, r, sess.Owner, false); err != nil {
		s.fail(w, r, nil, http.StatusInternalServerError, "", err)
		return
	}
	if f != nil && f.Emergency {
		s.notice(w, emergencyNotice(f.CodesLeft))
	}
	http.Redirect(w, r, s.nextPath(next), http.StatusSeeOther)
}

func emergencyNotice(left int) string {
	msg := fmt.Sprintf("You used an emergency code; %d left.", left)
	if left <= 3 {
		msg += " For new ones, turn two-factor sign-in off and on again on the Security page."
	}
	return msg
}

// codeRefusal maps an error of a second-factor check to the answer's
// status and message (status 0: the check passed, or two-factor is off).
// For throttling it sets Retry-After.
func codeRefusal(w http.ResponseWriter, err error) (int, string) {
	var te *auth.ThrottledError
	switch {
	case err == nil || errors.Is(err, auth.ErrNoSecondFactor):
		return 0, ""
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds()))
		return http.StatusTooManyRequests, "Too many wrong codes. Try again in " + duration.Words(time.Duration(te.RetryAfterSeconds())*time.Second) + "."
	case errors.Is(err, auth.ErrCodeUsed):
		return http.StatusUnauthorized, msgCodeUsed
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, msgWrongCode
	default:
		return http.StatusInternalServerError, ""
	}
}

// --- the Security page ---------------------------------------------------

func (s *Server) securityRoutes() {
	s.handle("GET "+AccountPath+"security", s.security)
	s.handle("POST "+AccountPath+"security/totp", s.startTOTP)
	s.handle("GET "+AccountPath+"security/totp", s.totpSetup)
	s.handle("POST "+AccountPath+"security/totp/confirm", s.confirmTOTP)
	s.handle("POST "+AccountPath+"security/totp/disable", s.disableTOTP)
	s.handle("POST "+AccountPath+"security/mails", s.saveMails)
	s.handle("POST "+AccountPath+"security/sessions/end", s.endOtherSessions)
}

type securityData struct {
	On        bool
	Since     time.Time
	CodesLeft int
	Total     int // emergency codes given when it was turned on
	Mail      mailSettings
}

func (s *Server) security(w http.ResponseWriter, r *http.Request, c *call) {
	s.showSecurity(w, r, c, http.StatusOK, "")
}

func (s *Server) showSecurity(w http.ResponseWriter, r *http.Request, c *call, status int, msg string) {
	d := securityData{On: c.User.TwoFactor, Total: auth.EmergencyCodes}
	if d.On {
		k, err := s.st.GetTOTP(r.Context(), c.User.Login)
		if err == nil {
			d.Since = k.Since
		}
		if err == nil {
			d.CodesLeft, err = s.st.EmergencyCodesLeft(r.Context(), c.User.Login)
		}
		if err != nil {
			s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading two-factor state: %w", err))
			return
		}
	}
	var err error
	if d.Mail, err = s.mailSettingsOf(r, c.User); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	s.render(w, r, c, status, "security", page{Title: "Security", Nav: "security", Error: msg, Data: d})
}

// whyTwoFactor is why turning two-factor on needs a recent sign-in.
const whyTwoFactor = "Two-factor sign-in ties your account to a phone."

// startTOTP makes a new pending secret and goes to the setup page, which
// shows it: reloading the page shows the same one.
func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request, c *call) {
	if !s.signedInRecently(w, r, c, AccountPath+"security", whyTwoFactor) {
		return
	}
	err := s.st.SetPendingTOTP(r.Context(), c.User.Login, auth.NewTOTPSecret())
	if errors.Is(err, store.ErrExists) {
		s.done(w, r, AccountPath+"security", "Two-factor sign-in is already on.")
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("setting up two-factor: %w", err))
		return
	}
	s.done(w, r, AccountPath+"security/totp", "")
}

type totpSetupData struct {
	QR     template.URL // data: URL of the QR code's SVG
	Secret string       // grouped by four for reading
	Login  string
	Issuer string
}

func (s *Server) totpSetup(w http.ResponseWriter, r *http.Request, c *call) {
	// The page shows the secret: only to a session that may turn it on.
	if !s.signedInRecently(w, r, c, AccountPath+"security", whyTwoFactor) {
		return
	}
	s.showTOTPSetup(w, r, c, http.StatusOK, "")
}

func (s *Server) showTOTPSetup(w http.ResponseWriter, r *http.Request, c *call, status int, msg string) {
	k, err := s.st.GetTOTP(r.Context(), c.User.Login)
	if errors.Is(err, store.ErrNotFound) || err == nil && !k.Pending {
		// Nothing to set up: on already, or never started.
		s.done(w, r, AccountPath+"security", "")
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading TOTP secret: %w", err))
		return
	}
	issuer := s.issuer()
	u, err := auth.TOTPURL(issuer, c.User.Login, k.Secret)
	var svg []byte
	if err == nil {
		svg, err = qrSVG(u, "QR code to scan with your authenticator app")
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	s.render(w, r, c, status, "security_setup", page{Title: "Set up two-factor sign-in", Nav: "security", Error: msg,
		Data: totpSetupData{
			QR:     template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg)),
			Secret: groupBy4(k.Secret), Login: c.User.Login, Issuer: issuer,
		}})
}

// issuer is the name authenticator apps show with the login: the public
// host when there is one, so that users of several servers tell them
// apart.
func (s *Server) issuer() string {
	if s.cfg.PublicURL != nil && s.cfg.PublicURL.Hostname() != "" {
		return s.cfg.PublicURL.Hostname()
	}
	return "rolodav"
}

func groupBy4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type codesData struct {
	Codes    []string
	Download template.URL // data: URL of the codes as a text file
	Require  bool
	// SignedOut is how many other browsers turning it on signed out; -1
	// when that failed.
	SignedOut int
}

// confirmTOTP turns two-factor on once a first code matches the pending
// secret, and shows the emergency codes on the answer itself: only their
// digests are kept, so this is the one chance to see them. Posting the
// form again (a reload) finds no pending secret and shows nothing more.
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, c *call) {
	// Setting up may have begun in another, recent session: the one that
	// confirms must be recent too.
	if !s.signedInRecently(w, r, c, AccountPath+"security", whyTwoFactor) {
		return
	}
	k, err := s.st.GetTOTP(r.Context(), c.User.Login)
	if errors.Is(err, store.ErrNotFound) || err == nil && !k.Pending {
		s.confirmedAlready(w, r, c)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading TOTP secret: %w", err))
		return
	}
	step, ok := auth.MatchTOTP(k.Secret, r.FormValue("code"), s.cfg.Now())
	if !ok {
		s.showTOTPSetup(w, r, c, http.StatusBadRequest,
			"That code does not match. Type the 6-digit code the app shows now for this account; check that the phone's clock is right.")
		return
	}
	codes, err := accounts.EnableTwoFactor(r.Context(), s.st, c.User.Login, k.Secret, step)
	if errors.Is(err, store.ErrPrecondition) {
		s.confirmedAlready(w, r, c)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	// Whoever else was signed in (with a stolen password, say) must now
	// come back through the code.
	ended, err := s.st.EndOtherSessions(r.Context(), c.User.Login, c.Session.ID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "ending other sessions after turning on two-factor", "err", err)
		ended = -1 // the page says to do it by hand
	}
	text := "Emergency codes for " + c.User.Login + " on " + s.issuer() + ", made " + s.cfg.Now().UTC().Format("2006-01-02 15:04 UTC") +
		".\nEach works once, instead of a code from your app.\n\n" + strings.Join(codes, "\n") + "\n"
	s.render(w, r, c, http.StatusOK, "security_codes", page{Title: "Your emergency codes", Nav: "security",
		Data: codesData{Codes: codes, Require: c.User.RequireAppPasswords, SignedOut: ended,
			Download: template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))}})
}

// confirmedAlready answers a confirmation without a pending secret.
func (s *Server) confirmedAlready(w http.ResponseWriter, r *http.Request, c *call) {
	u, err := s.st.GetUser(r.Context(), c.User.Login)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	if u.TwoFactor {
		s.done(w, r, AccountPath+"security", "Two-factor sign-in is already on. Its emergency codes were shown once, when it was turned on, and are not shown again.")
		return
	}
	s.done(w, r, AccountPath+"security", "This setup was replaced or cancelled. Turn two-factor sign-in on to start again.")
}

// disableTOTP turns two-factor off, given a code: a stolen session alone
// must not be able to.
func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request, c *call) {
	_, err := s.cfg.Auth.CheckSecondFactor(r.Context(), auth.Attempt{
		Login: c.User.Login, Password: r.FormValue("code"),
		Addr: r.RemoteAddr, Client: r.UserAgent(), Via: auth.ViaWeb,
	})
	if errors.Is(err, auth.ErrNoSecondFactor) {
		s.done(w, r, AccountPath+"security", "Two-factor sign-in is off.")
		return
	}
	if status, msg := codeRefusal(w, err); status != 0 {
		if status == http.StatusInternalServerError {
			s.fail(w, r, c, status, "", err)
			return
		}
		s.showSecurity(w, r, c, status, msg)
		return
	}
	if err := accounts.DisableTwoFactor(r.Context(), s.st, c.User.Login); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	notice := "Two-factor sign-in is off: your password alone signs you in, and your emergency codes no longer work."
	if c.User.RequireAppPasswords {
		notice += " Devices still need app passwords, as you require them."
	} else {
		notice += " Devices may use your account password again."
	}
	s.done(w, r, AccountPath+"security", notice)
}

// endOtherSessions signs out every other browser of the account: after a
// lost laptop, or a password changed at the mail provider (which ends
// nothing here).
func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request, c *call) {
	n, err := s.st.EndOtherSessions(r.Context(), c.User.Login, c.Session.ID)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	msg := fmt.Sprintf("Signed out %d other browsers.", n)
	if n == 1 {
		msg = "Signed out 1 other browser."
	}
	s.done(w, r, AccountPath+"security", msg)
}
