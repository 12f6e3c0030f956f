// Package web serves the account pages. For now it has the Apple
// configuration profile download; the pages come with the web issue.
package web

import (
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rolodav/rolodav/auth"
	"github.com/rolodav/rolodav/mobileconfig"
)

// ProfilePath is where a signed-in user downloads their profile.
const ProfilePath = "/profile.mobileconfig"

// ProfileHandler serves the signed-in user an Apple configuration profile
// for this server. The server's public address comes from publicURL (from
// --base-url) when set, else from the request. No password goes in it: the
// device asks for one, which keeps the file harmless to leave lying around.
func ProfileHandler(a *auth.Authenticator, publicURL *url.URL, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		u, ok := a.Basic(w, r, log)
		if !ok {
			return
		}
		o := mobileconfig.Options{Login: u.Login, UseSSL: r.TLS != nil, Host: r.Host}
		if publicURL != nil {
			o.Host, o.UseSSL = publicURL.Host, publicURL.Scheme == "https"
		}
		if host, port, err := net.SplitHostPort(o.Host); err == nil {
			o.Host = host
			o.Port, _ = strconv.Atoi(port)
		}
		profile, err := mobileconfig.Build(o)
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
	})
}
