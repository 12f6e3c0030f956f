package web

import (
	"fmt"
	"net/http"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

// passwordRoutes registers the change of the account password.
func (s *Server) passwordRoutes() {
	s.handle("GET "+AccountPath+"password", s.passwordForm)
	s.handle("POST "+AccountPath+"password", s.changePassword)
}

type passwordData struct {
	Remote    bool // the mail server checks the password: it is changed there
	MinLength int
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request, c *call) {
	s.showPasswordForm(w, r, c, http.StatusOK, "")
}

func (s *Server) showPasswordForm(w http.ResponseWriter, r *http.Request, c *call, status int, msg string) {
	s.render(w, r, c, status, "password_change", page{Title: "Change password", Nav: "security", Error: msg,
		Data: passwordData{Remote: c.User.Backend == store.BackendIMAP, MinLength: accounts.MinPasswordLen}})
}

// changePassword checks the current password as a sign-in does (so that
// guesses through this form are throttled and shown in the activity),
// stores the new one, which ends every session of the account, and signs
// this browser in again.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *call) {
	if c.User.Backend == store.BackendIMAP {
		s.showPasswordForm(w, r, c, http.StatusConflict, "Your password is your mail password: change it with your mail provider.")
		return
	}
	current, next := r.PostFormValue("current"), r.PostFormValue("new")
	if next != r.PostFormValue("repeat") {
		s.showPasswordForm(w, r, c, http.StatusBadRequest, "The new password and its repetition differ.")
		return
	}
	if err := accounts.CheckPassword(next); err != nil {
		s.showPasswordForm(w, r, c, http.StatusBadRequest, "The new password is too short: "+err.Error()+".")
		return
	}
	_, err := s.cfg.Auth.SignIn(r.Context(), auth.Attempt{Login: c.User.Login, Password: current,
		Addr: r.RemoteAddr, Client: r.UserAgent(), Via: auth.ViaWeb})
	if status, msg := s.passwordRefusal(w, r, err, "Your current password is not right."); status != 0 {
		if msg == "" {
			s.fail(w, r, c, status, "", err)
			return
		}
		s.showPasswordForm(w, r, c, status, msg)
		return
	}
	if err := accounts.SetPassword(r.Context(), s.st, c.User.Login, next); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("changing password: %w", err))
		return
	}
	// Setting the password ended every session, this one too.
	if _, err := s.startSession(w, r, c.User.Login, false); err != nil {
		s.fail(w, r, nil, http.StatusInternalServerError, "", err)
		return
	}
	s.done(w, r, AccountPath+"password",
		"Password changed. Other browsers were signed out; devices that use your account password need the new one.")
}
