package auth

import (
	"context"

	"github.com/rolodav/rolodav/store"
)

// Via says where a sign-in attempt comes from.
const (
	ViaWeb = "web" // the account pages: the account password only
	ViaDAV = "dav" // clients: app passwords, and the account password unless the user requires app passwords
)

// Attempt is one presented credential.
type Attempt struct {
	Login, Password string
	Addr            string // client IP address (port ignored)
	Client          string // User-Agent
	Via             string // ViaWeb or ViaDAV
}

// Identity is who an attempt proved to be, and with what.
type Identity struct {
	User        *store.User
	Credential  string // "password" or "app:<name>", as in store.SignIn
	AppPassword int64  // the app password's ID; 0 for the account password
}

// SignIn checks an attempt. It is a placeholder with the final signature:
// the account password only, no activity yet.
func (a *Authenticator) SignIn(ctx context.Context, at Attempt) (*Identity, error) {
	u, err := a.Check(ctx, at.Login, at.Password, at.Addr)
	if err != nil {
		return nil, err
	}
	return &Identity{User: u, Credential: "password"}, nil
}
