package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/rolodav/rolodav/internal/duration"
	"github.com/rolodav/rolodav/internal/httplog"
	"github.com/rolodav/rolodav/internal/store"
)

// Realm is the HTTP Basic realm clients show when asking for a password.
const Realm = "rolodav"

// Basic checks a request's HTTP Basic credentials with SignIn, via ViaDAV.
// When they do not pass it
// has answered the request itself: 401 with a challenge, 429 with
// Retry-After when throttled, 503 with Retry-After when the mail server
// that checks the password cannot be reached (not 401: clients would drop
// a password that is right), 500 on a store failure.
func (a *Authenticator) Basic(w http.ResponseWriter, r *http.Request, log *slog.Logger) (*store.User, bool) {
	login, password, ok := r.BasicAuth()
	if !ok {
		challenge(w)
		return nil, false
	}
	id, err := a.SignIn(r.Context(), Attempt{
		Login: login, Password: password,
		Addr: r.RemoteAddr, Client: r.UserAgent(), Via: ViaDAV,
	})
	var te *ThrottledError
	switch {
	case err == nil:
		httplog.SetUser(r.Context(), id.User.Login)
		return id.User, true
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(te.RetryAfterSeconds()))
		http.Error(w, "too many failed sign-in attempts; try again in "+duration.Words(time.Duration(te.RetryAfterSeconds())*time.Second), http.StatusTooManyRequests)
	case errors.Is(err, ErrBadCredentials):
		challenge(w)
	case errors.Is(err, ErrUnavailable):
		log.WarnContext(r.Context(), "password check unavailable", "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetry))
		http.Error(w, "the server that checks passwords cannot be reached; try again later", http.StatusServiceUnavailable)
	case errors.Is(err, context.Canceled):
	default:
		log.ErrorContext(r.Context(), "authentication failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
	return nil, false
}

// unavailableRetry is the Retry-After, in seconds, of a 503 for a password
// that could not be checked.
const unavailableRetry = 30

func challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
	http.Error(w, "authentication required", http.StatusUnauthorized)
}
