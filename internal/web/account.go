package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
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
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request, c *call) {
	s.render(w, r, c, http.StatusOK, "devices", page{Title: "Connect your devices", Nav: "devices",
		Data: devicesData{URL: s.accountURL(r), Login: c.User.Login}})
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

// activityRow is one sign-in worded for the activity page.
type activityRow struct {
	store.SignIn
	What, Where, Credential string
}

func (s *Server) activity(w http.ResponseWriter, r *http.Request, c *call) {
	list, err := s.st.ListSignIns(r.Context(), c.User.Login, signInsShown)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing sign-ins: %w", err))
		return
	}
	rows := make([]activityRow, len(list))
	for i, e := range list {
		row := activityRow{SignIn: e, What: "Failed sign-in", Where: e.Via, Credential: "—"}
		if e.OK {
			row.What = "Signed in"
		}
		switch e.Via {
		case auth.ViaWeb:
			row.Where = "web page"
		case auth.ViaDAV:
			row.Where = "device (DAV)"
		}
		if e.Credential == "password" {
			row.Credential = "account password"
		} else if e.Credential == "code" {
			row.Credential = "right password, wrong two-factor code"
		} else if name, ok := strings.CutPrefix(e.Credential, "app:"); ok {
			row.Credential = "app password: " + name
		}
		rows[i] = row
	}
	s.render(w, r, c, http.StatusOK, "activity", page{Title: "Activity", Nav: "activity", Data: rows})
}
