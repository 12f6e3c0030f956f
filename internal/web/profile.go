package web

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"strconv"

	"github.com/rolodav/rolodav/internal/httplog"
	"github.com/rolodav/rolodav/internal/mobileconfig"
	"github.com/rolodav/rolodav/internal/store"
)

// ProfilePath is where a signed-in user downloads their profile, under
// Config.Prefix.
const ProfilePath = "/profile.mobileconfig"

// profile serves the user an Apple configuration profile for this server.
// A browser's session is enough (the one-click link on the devices page);
// without one, HTTP Basic, for downloads from a script or a device. No
// password goes in it: the device asks for one, which keeps the file
// harmless to leave lying around.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	sess, u, err := s.currentSession(w, r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "profile download", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if sess != nil {
		httplog.SetUser(r.Context(), u.Login)
	} else {
		var ok bool
		if u, ok = s.cfg.Auth.Basic(w, r, s.log); !ok {
			return
		}
	}
	profile, err := s.buildProfile(r, u)
	if err != nil {
		http.Error(w, "cannot make a profile for this server address: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", mobileconfig.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": u.Login + ".mobileconfig"}))
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodGet {
		_, _ = w.Write(profile)
	}
}

// buildProfile makes u's profile for the public address (Config.PublicURL)
// when set, else for the address the request came to.
func (s *Server) buildProfile(r *http.Request, u *store.User) ([]byte, error) {
	o := mobileconfig.Options{Login: u.Login, UseSSL: r.TLS != nil, Host: r.Host}
	if pu := s.cfg.PublicURL; pu != nil {
		o.Host, o.UseSSL = pu.Host, pu.Scheme == "https"
	}
	if host, port, err := net.SplitHostPort(o.Host); err == nil {
		o.Host = host
		o.Port, _ = strconv.Atoi(port)
	}
	profile, err := mobileconfig.Build(o)
	if err != nil {
		return nil, fmt.Errorf("building profile: %w", err)
	}
	return profile, nil
}
