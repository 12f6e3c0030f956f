package web

import (
	"cmp"
	"context"
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

// createPassword makes an app password and shows it on the answer itself
// rather than after a redirect: only its digest is kept, so this page is
// the one chance to see it.
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
	password, err := accounts.CreateAppPassword(r.Context(), s.st, c.User.Login, name)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	s.render(w, r, c, http.StatusOK, "password_created", page{Title: "App password created", Nav: "passwords",
		Data: passwordCreatedData{Password: password, Name: name, Login: c.User.Login, URL: s.accountURL(r)}})
}

func (s *Server) revokePassword(w http.ResponseWriter, r *http.Request, c *call) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = s.st.DeleteAppPassword(r.Context(), c.User.Login, id)
	} else {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, c, http.StatusNotFound, "There is no such app password.", nil)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("revoking app password: %w", err))
		return
	}
	s.done(w, r, AccountPath+"passwords", "App password revoked: the device using it can no longer connect.")
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
