package web

import (
	"net/http"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
)

// recentSignIn is how long after signing in (or confirming) a session may
// make changes that would let whoever holds it keep the account: a new app
// password, turning two-factor on, turning security mails off. A session
// cookie stolen from a browser left open is then not enough for them.
const recentSignIn = 15 * time.Minute

type confirmData struct {
	Login, Next, Why string
}

func (s *Server) confirmRoutes() {
	s.handle("POST "+AccountPath+"confirm", s.confirm)
}

// signedInRecently reports whether c's session began within recentSignIn;
// if not, it answers with the form that asks for the password again (403:
// the change was not made), which leads back to next.
func (s *Server) signedInRecently(w http.ResponseWriter, r *http.Request, c *call, next, why string) bool {
	if s.cfg.Now().Sub(c.Session.Created) < recentSignIn {
		return true
	}
	s.showConfirm(w, r, c, http.StatusForbidden, "", confirmData{Next: next, Why: why})
	return false
}

func (s *Server) showConfirm(w http.ResponseWriter, r *http.Request, c *call, status int, msg string, d confirmData) {
	d.Login = c.User.Login
	s.render(w, r, c, status, "confirm", page{Title: "Confirm it's you", Error: msg, Data: d})
}

// confirm checks the password again as a sign-in does (throttled, in the
// activity) and starts a new session: a full one, or with two-factor on a
// partial one that the code completes.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, c *call) {
	d := confirmData{Next: r.PostFormValue("next"), Why: r.PostFormValue("why")}
	id, err := s.cfg.Auth.SignIn(r.Context(), auth.Attempt{Login: c.User.Login, Password: r.PostFormValue("password"),
		Addr: r.RemoteAddr, Client: r.UserAgent(), Via: auth.ViaWeb})
	if status, msg := s.passwordRefusal(w, r, err, "That is not your password."); status != 0 {
		if msg == "" {
			s.fail(w, r, c, status, "", err)
			return
		}
		s.showConfirm(w, r, c, status, msg, d)
		return
	}
	if err := s.afterPassword(w, r, id.User, d.Next); err != nil {
		s.fail(w, r, nil, http.StatusInternalServerError, "", err)
	}
}
