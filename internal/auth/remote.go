package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// RemoteChecker checks an account password with another server (package
// imapauth asks a mail server), for a client at clientAddr (an IP address,
// which the server may throttle by instead of ours). Check returns true
// for a password the server accepts, false for one it refuses, and an
// error when it could not tell (unreachable, TLS failure, timeout): an
// error is never a refusal.
type RemoteChecker interface {
	Check(ctx context.Context, login, password, clientAddr string) (bool, error)
}

// Mail server checks run at most MaxRemoteChecks at once per process; an
// attempt waits at most remoteSlotWait for a slot, then is unavailable.
const (
	MaxRemoteChecks = 16
	remoteSlotWait  = 5 * time.Second
)

// ErrUnavailable matches any *UnavailableError with errors.Is.
var ErrUnavailable = errors.New("auth: the password cannot be checked now")

// UnavailableError is returned by SignIn when the server that checks the
// login's password (Options.Remote) did not answer. It is not a wrong
// password: clients must keep theirs, so DAV answers 503, not 401.
type UnavailableError struct {
	Err error
}

func (e *UnavailableError) Error() string {
	return "auth: the password cannot be checked now: " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// checksRemotely reports whether the account password of login (u is its
// user, nil when unknown here) is checked by Options.Remote for an
// attempt via via: users marked store.BackendIMAP, and unknown logins of
// the allowed domains. Where the account password is not accepted at all
// (DAV for a user who requires app passwords) it is not asked: the local
// path refuses it after a dummy verification.
func (a *Authenticator) checksRemotely(u *store.User, login, via string) bool {
	if a.opt.Remote == nil || login == "" {
		return false
	}
	if u == nil {
		return a.domainAllowed(login)
	}
	return u.Backend == store.BackendIMAP && acceptsPassword(u, via)
}

// domainAllowed reports whether login's domain is in Options.RemoteDomains
// (every login is, when the list is empty).
func (a *Authenticator) domainAllowed(login string) bool {
	if len(a.opt.RemoteDomains) == 0 {
		return true
	}
	at := strings.LastIndexByte(login, '@')
	if at < 0 {
		return false
	}
	// Exact: the login is lower-cased already, and Unicode case folding
	// would let "ſ" stand for "s".
	return slices.Contains(a.opt.RemoteDomains, login[at+1:])
}

// authenticateRemote checks the account password of an admitted attempt
// with Options.Remote and counts its outcome as authenticate does; u is nil
// for a login unknown here, created by Options.Provision once the remote
// server accepts the password. Verified credentials are cached for
// CacheTTL, keyed by a salted digest; an unavailable server is not a
// failure and counts neither way.
func (a *Authenticator) authenticateRemote(ctx context.Context, p *pass, at Attempt, login string, u *store.User) (*Identity, error) {
	key := a.digest("remote", login, at.Password)
	useCache := a.opt.CacheTTL > 0
	if !(useCache && a.cached(key)) {
		// Mail server checks have slots of their own: a slow or silent
		// server must not hold the argon2 slots local users need, and an
		// attempt that finds no slot soon is told to come back.
		wait := time.NewTimer(remoteSlotWait)
		select {
		case a.remoteSem <- struct{}{}:
			wait.Stop()
		case <-wait.C:
			return nil, &UnavailableError{Err: errors.New("too many passwords being checked with the mail server")}
		case <-ctx.Done():
			wait.Stop()
			return nil, ctx.Err()
		}
		ok, err := false, error(nil)
		hit := useCache && a.cached(key) // verified while this attempt waited
		if !hit {
			if err = a.reserve(ctx, p); err != nil {
				<-a.remoteSem
				return nil, err
			}
			ok, err = a.opt.Remote.Check(ctx, login, at.Password, displayAddr(at.Addr))
		}
		<-a.remoteSem
		switch {
		case hit:
		case err != nil:
			a.release(ctx, p)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &UnavailableError{Err: err}
		case !ok:
			if err := a.fail(ctx, p); err != nil {
				return nil, err
			}
			return nil, ErrBadCredentials
		default:
			if useCache {
				a.remember(key)
			}
		}
	}
	a.succeed(ctx, p)
	if u == nil {
		var err error
		if u, err = a.provision(ctx, login); err != nil {
			return nil, err
		}
	}
	return &Identity{User: u, Credential: credPassword}, nil
}

// provision creates login, whose password the remote server just accepted,
// with Options.Provision; a login created meanwhile by another attempt is
// loaded instead.
func (a *Authenticator) provision(ctx context.Context, login string) (*store.User, error) {
	if a.opt.Provision == nil {
		return nil, fmt.Errorf("auth: no way to create %s, whose password the mail server accepted", login)
	}
	u, err := a.opt.Provision(context.WithoutCancel(ctx), login)
	if errors.Is(err, store.ErrExists) {
		u, err = a.users.GetUser(ctx, login)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: creating %s: %w", login, err)
	}
	return u, nil
}
