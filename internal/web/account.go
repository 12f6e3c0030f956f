package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/store"
)

// maxAppPasswordName bounds a device name, in characters: it only has to
// tell devices apart in a list.
const maxAppPasswordName = 100

// signInsShown is how many sign-ins the activity page lists.
const signInsShown = 200

// accountRoutes registers the devices, app passwords and activity pages,
// and the profile download.
func (s *Server) accountRoutes() {
	s.handle("GET "+AccountPath+"devices", s.devices)
	s.handle("GET "+AccountPath+"qr.svg", s.qrCode)
	s.handle("GET "+AccountPath+"passwords", s.passwords)
	s.handle("POST "+AccountPath+"passwords", s.createPassword)
	s.handle("GET "+AccountPath+"passwords/created", s.passwordCreated)
	s.handle("GET "+AccountPath+"passwords/{id}/revoke", s.confirmRevokePassword)
	s.handle("POST "+AccountPath+"passwords/{id}/revoke", s.revokePassword)
	s.handle("POST "+AccountPath+"passwords/require", s.requireAppPasswords)
	s.handle("GET "+AccountPath+"activity", s.activity)
	s.mux.HandleFunc("GET "+s.path(ProfilePath), s.profile)
	if s.cfg.Prefix != "" {
		// Like the DAV handler, also answer a proxy that strips the prefix.
		s.mux.HandleFunc("GET "+ProfilePath, s.profile)
	}
}

// accountURL is the address clients are given: the DAV root under the
// public base URL, or under the address the browser used.
func (s *Server) accountURL(r *http.Request) string {
	if u := s.cfg.PublicURL; u != nil {
		return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/") + "/dav/"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.cfg.Prefix + "/dav/"
}

type devicesData struct {
	URL, Login string
	Push       bool         // the server sends push messages
	Pushed     []pushDevice // the user's devices registered for them
}

// pushDevice is one push subscription (one device, as far as we can
// tell) with the collections it is registered on.
type pushDevice struct {
	Client      string // the User-Agent that registered
	Collections []string
	Expires     time.Time // the latest expiry of its registrations
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request, c *call) {
	d := devicesData{URL: s.accountURL(r), Login: c.User.Login, Push: s.cfg.Push}
	if s.cfg.Push {
		var err error
		if d.Pushed, err = s.pushDevices(r.Context(), c.User.Login); err != nil {
			s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing push registrations: %w", err))
			return
		}
	}
	s.render(w, r, c, http.StatusOK, "devices", page{Title: "Connect your devices", Nav: "devices", Data: d})
}

// pushDevices groups login's push registrations by push resource, which
// is one app on one device.
func (s *Server) pushDevices(ctx context.Context, login string) ([]pushDevice, error) {
	regs, err := s.cfg.Store.ListPushRegistrations(ctx, login)
	if err != nil || len(regs) == 0 {
		return nil, err
	}
	names := map[int64]string{}
	for _, k := range []store.Kind{store.KindCard, store.KindCal} {
		cs, err := s.cfg.Store.ListCollections(ctx, login, k)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			names[c.ID] = cmp.Or(c.DisplayName, c.Name)
		}
	}
	var out []pushDevice
	at := map[string]int{}
	for _, r := range regs {
		if r.Gone != 0 {
			continue // its collection was deleted: it goes once told
		}
		i, ok := at[r.Resource]
		if !ok {
			i = len(out)
			at[r.Resource] = i
			out = append(out, pushDevice{Client: r.Client})
		}
		name := names[r.Collection]
		switch {
		case r.Collection == 0 && r.Home == store.KindCard:
			name = "the list of address books"
		case r.Collection == 0:
			name = "the list of calendars"
		case name == "":
			continue
		}
		out[i].Collections = append(out[i].Collections, name)
		if r.Expires.After(out[i].Expires) {
			out[i].Expires = r.Expires
		}
	}
	return out, nil
}

func (s *Server) qrCode(w http.ResponseWriter, r *http.Request, c *call) {
	u := s.accountURL(r)
	svg, err := qrSVG(u, "QR code with the account URL "+u)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(svg)
}

type passwordsData struct {
	Passwords []store.AppPassword
	Require   bool
	TwoFactor bool   // devices need app passwords whatever Require says
	Name      string // the device name typed, when the form is shown again
}

func (s *Server) passwords(w http.ResponseWriter, r *http.Request, c *call) {
	s.showPasswords(w, r, c, http.StatusOK, "", "")
}

// showPasswords renders the app passwords page; msg and name re-show a
// refused create form.
func (s *Server) showPasswords(w http.ResponseWriter, r *http.Request, c *call, status int, msg, name string) {
	list, err := s.st.ListAppPasswords(r.Context(), c.User.Login)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing app passwords: %w", err))
		return
	}
	s.render(w, r, c, status, "passwords", page{Title: "App passwords", Nav: "passwords", Error: msg,
		Data: passwordsData{Passwords: list, Require: c.User.RequireAppPasswords, TwoFactor: c.User.TwoFactor, Name: name}})
}

type passwordCreatedData struct {
	Password, Name, Login, URL string
}

// newPassword is what the cookie of a new app password holds, sealed.
type newPassword struct {
	Name     string `json:"n"`
	Password string `json:"p"`
}

// newPasswordShown is how long after its creation an app password can be
// shown: the redirect to the page that shows it takes a moment.
const newPasswordShown = time.Minute

// newPasswordPurpose is what the sealed cookie of a new app password is
// for; it is bound to the session as well.
const newPasswordPurpose = "new app password"

// newPasswordCookieName is the cookie that holds a new app password from
// its creation to the page that shows it; Secure under the __Secure-
// prefix when the server's cookies are.
func (s *Server) newPasswordCookieName() string {
	if s.cfg.Secure {
		return "__Secure-rolodav_new_password"
	}
	return "rolodav_new_password"
}

// createPassword makes an app password and sends the browser to the page
// that shows it (post/redirect/get: a reload creates no other). Only its
// digest is stored; the password itself rides to that page in a cookie,
// encrypted and bound to this session, which lives a minute, goes only to
// that page and is read once.
func (s *Server) createPassword(w http.ResponseWriter, r *http.Request, c *call) {
	if !s.signedInRecently(w, r, c, AccountPath+"passwords", "An app password opens your account to a device.") {
		return
	}
	name := strings.TrimSpace(r.FormValue("name"))
	switch {
	case name == "":
		s.showPasswords(w, r, c, http.StatusBadRequest, "Give the device a name, so you can tell its password apart later.", name)
		return
	case utf8.RuneCountInString(name) > maxAppPasswordName:
		s.showPasswords(w, r, c, http.StatusBadRequest, fmt.Sprintf("The device name is too long: at most %d characters.", maxAppPasswordName), name)
		return
	}
	// The key first: a password made that cannot be shown is of no use.
	if _, err := s.sealKey(r.Context()); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	password, err := accounts.CreateAppPassword(r.Context(), s.st, c.User.Login, name)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	plain, _ := json.Marshal(newPassword{Name: name, Password: password})
	value, err := s.seal(r.Context(), newPasswordPurpose, c.Session.ID, plain, s.cfg.Now().Add(newPasswordShown))
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.newPasswordCookieName(), Value: value, Path: s.path(AccountPath + "passwords/created"),
		MaxAge: int(newPasswordShown.Seconds()), HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, s.path(AccountPath+"passwords/created"), http.StatusSeeOther)
}

// passwordCreated shows the app password just created, once: it clears
// the cookie that holds it, so that a reload leads to the list.
func (s *Server) passwordCreated(w http.ResponseWriter, r *http.Request, c *call) {
	ck, err := r.Cookie(s.newPasswordCookieName())
	if err == nil {
		http.SetCookie(w, &http.Cookie{Name: s.newPasswordCookieName(), Path: s.path(AccountPath + "passwords/created"),
			MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
		var p newPassword
		if plain, ok := s.unseal(r.Context(), newPasswordPurpose, c.Session.ID, ck.Value); ok && json.Unmarshal(plain, &p) == nil {
			s.render(w, r, c, http.StatusOK, "password_created", page{Title: "App password created", Nav: "passwords",
				Data: passwordCreatedData{Password: p.Password, Name: p.Name, Login: c.User.Login, URL: s.accountURL(r)}})
			return
		}
	}
	s.done(w, r, AccountPath+"passwords", "The new app password was shown once and is not kept: if you did not copy it, revoke it and create another.")
}

// ownAppPassword returns the signed-in user's app password of the URL's
// {id}, or answers 404 (another user's is not found either).
func (s *Server) ownAppPassword(w http.ResponseWriter, r *http.Request, c *call) *store.AppPassword {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, c, http.StatusNotFound, "There is no such app password.", nil)
		return nil
	}
	list, err := s.st.ListAppPasswords(r.Context(), c.User.Login)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing app passwords: %w", err))
		return nil
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
	}
	s.fail(w, r, c, http.StatusNotFound, "There is no such app password.", nil)
	return nil
}

// quoted is a name as the pages quote it: “Anna's phone”.
func quoted(name string) string { return "“" + name + "”" }

// confirmRevokePassword asks before revoking, naming the device.
func (s *Server) confirmRevokePassword(w http.ResponseWriter, r *http.Request, c *call) {
	if p := s.ownAppPassword(w, r, c); p != nil {
		s.render(w, r, c, http.StatusOK, "password_revoke", page{Title: "Revoke the app password of " + quoted(p.Name) + "?",
			Nav: "passwords", Data: p})
	}
}

func (s *Server) revokePassword(w http.ResponseWriter, r *http.Request, c *call) {
	p := s.ownAppPassword(w, r, c)
	if p == nil {
		return
	}
	err := s.st.DeleteAppPassword(r.Context(), c.User.Login, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, c, http.StatusNotFound, "There is no such app password.", nil)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("revoking app password: %w", err))
		return
	}
	s.done(w, r, AccountPath+"passwords", "Revoked the app password of "+quoted(p.Name)+".")
}

func (s *Server) requireAppPasswords(w http.ResponseWriter, r *http.Request, c *call) {
	on := r.FormValue("require") != ""
	if err := s.st.SetRequireAppPasswords(r.Context(), c.User.Login, on); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("setting require app passwords: %w", err))
		return
	}
	notice := "Devices may use your account password or an app password."
	if on {
		notice = "Devices must now use an app password."
	}
	s.done(w, r, AccountPath+"passwords", notice)
}
