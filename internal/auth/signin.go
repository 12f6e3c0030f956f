package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/store"
)

// Via says where a sign-in attempt comes from.
const (
	ViaWeb = "web" // the account pages: the account password only
	ViaDAV = "dav" // clients: app passwords, and the account password unless the user requires app passwords
)

// SignInRetention is how long sign-in activity is kept.
const SignInRetention = 90 * 24 * time.Hour

// credPassword is Identity.Credential for the account password.
const credPassword = "password"

// DAV clients authenticate every request: a success is recorded again only
// after recordEvery, per login, credential, address and client, remembered
// for at most recordedEntries of them.
const (
	recordEvery     = 10 * time.Minute
	recordedEntries = 4096
)

// maxClientLen bounds the User-Agent recorded with an attempt.
const maxClientLen = 200

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

// SignIn checks an attempt and records it in the user's sign-in activity.
//
// Via ViaWeb only the account password is accepted; for a user with
// two-factor on, the sign-in is complete only after SignInSecondFactor.
// Via ViaDAV the password is first looked up as an app password of the
// login, then checked as the account password unless the user requires
// app passwords or has two-factor on (it then fails like a wrong one,
// after as long a verification). App passwords are never
// cached: one deleted from the store is refused from the next attempt on.
//
// The login is normalised with NormalizeLogin first; Addr is the client's IP
// address (a port, if present, is ignored; IPv6 addresses are counted per
// /64 network, which one client usually holds entirely). SignIn returns
// ErrBadCredentials for an unknown or invalid login, a wrong password or a
// stored hash that cannot be verified, all indistinguishable (unknown logins
// are verified against a dummy hash of the same cost). It returns a
// *ThrottledError while the pair of login and address, the address, or
// (for an address the login never signed in from) the login is locked out,
// ctx's error if ctx ends while SignIn waits, and another error if the
// store fails.
//
// With Options.Remote, the account password of users marked
// store.BackendIMAP and of unknown logins of the allowed domains is
// checked by the remote server instead, after the same throttling, and an
// unknown login it accepts is created (Options.Provision). When that
// server cannot be reached SignIn returns an *UnavailableError, which
// counts as no failure.
//
// An app password that verifies is accepted at once, whatever the
// counters say: it is 100 random bits, so throttling protects nothing, and
// refusing it would let anyone who knows a login stop its owner's devices.
// Once the pair or the address has SlowAfter failures (the address
// AddressFactor times as many), SignIn waits before checking the account
// password, whatever the answer; a success clears the failures of the
// pair. An account password that verified within CacheTTL against the same
// stored hash is accepted without argon2; identical credentials sent in
// parallel wait for one verification.
//
// Attempts sent in parallel, to one process or to several sharing the
// store, get no more verifications than sequential ones would before the
// lock, give or take one per further process (see Options.LockAfter): an
// attempt verified while another of its process is under way counts its
// failure in the store first, and takes it back if it was none. Those
// beyond the threshold are refused with a *ThrottledError (RetryAfter 1
// s, the time for those under way to end) until a lock takes over.
//
// Every checked attempt on an existing login is recorded with RecordSignIn,
// except DAV successes already recorded within the last 10 minutes for the
// same credential, address and client, and web successes of a user with
// two-factor on, which SignInSecondFactor records. Attempts refused by the throttling
// are not: they are not checked, and recording them would let anyone fill
// the table by hammering a locked account.
func (a *Authenticator) SignIn(ctx context.Context, at Attempt) (*Identity, error) {
	if at.Via != ViaWeb && at.Via != ViaDAV {
		return nil, fmt.Errorf("auth: sign-in via unknown channel %q", at.Via)
	}
	addr := addressKey(at.Addr)
	login, lerr := NormalizeLogin(at.Login)
	if lerr != nil {
		login = "" // counted against the address only
	}

	var u *store.User
	if login != "" {
		got, err := a.users.GetUser(ctx, login)
		switch {
		case err == nil && got != nil:
			u = got
		case err == nil || errors.Is(err, store.ErrNotFound):
		default:
			return nil, fmt.Errorf("auth: loading user: %w", err)
		}
	}

	if at.Via == ViaDAV && login != "" {
		// Unknown logins are looked up too, to take as long as known ones.
		// A miss goes on to be verified (and counted) like any password.
		id, err := findAppPassword(ctx, a.users, login, u, at.Password)
		if err != nil {
			return nil, err
		}
		if id != nil {
			a.record(ctx, at, u.Login, id)
			return id, nil
		}
	}

	p, delay, err := a.admit(ctx, "", addr, login)
	if err != nil {
		return nil, err
	}
	defer a.end(ctx, p)
	if delay > 0 {
		if err := a.opt.Sleep(ctx, delay); err != nil {
			return nil, err
		}
	}

	var id *Identity
	if a.checksRemotely(u, login, at.Via) {
		id, err = a.authenticateRemote(ctx, p, at, login, u)
	} else {
		id, err = a.authenticate(ctx, at, p, login, u)
	}
	switch {
	case err == nil && at.Via == ViaWeb && id.User.TwoFactor:
		// Recorded once the second factor passes: a sign-in with the
		// password alone must not count as one (see SignedInFrom).
	case err == nil:
		a.record(ctx, at, id.User.Login, id)
	case u != nil && errors.Is(err, ErrBadCredentials):
		a.record(ctx, at, u.Login, nil)
		a.failed(ctx, at, u.Login, p, false)
	}
	return id, err
}

// FailuresNoticeAt is how many failures of a login within Options.Window
// make its owner hear of them (Options.Notify).
const FailuresNoticeAt = 5

// failed tells Options.Notify of repeated failures on login, once p's
// counters hold FailuresNoticeAt of them (or as many as lock the pair, if
// fewer: a lock would stop the count short of it); the notices' own rate
// limit keeps it to one mail however many follow. Wrong second-factor
// codes (code) are told apart: whoever sent them knew the password.
func (a *Authenticator) failed(ctx context.Context, at Attempt, login string, p *pass, code bool) {
	threshold := FailuresNoticeAt
	if a.opt.LockAfter > 0 {
		threshold = min(threshold, a.opt.LockAfter)
	}
	if a.opt.Notify == nil || p.failures < threshold {
		return
	}
	detail := strconv.Itoa(p.failures)
	if code {
		detail = "code:" + detail
	}
	a.opt.Notify(context.WithoutCancel(ctx), store.Notice{Login: login, Kind: store.NoticeFailedSignIns,
		Time: a.opt.Now(), Addr: displayAddr(at.Addr), Client: at.Client, Detail: detail})
}

// noticeNewSignIn tells Options.Notify of a success e (just recorded) from
// an address or a device not seen before, but not of the login's first
// sign-in ever, and not of an app password on a new address alone.
func (a *Authenticator) noticeNewSignIn(ctx context.Context, e *store.SignIn) {
	if a.opt.Notify == nil || !e.OK || e.First {
		return
	}
	app := strings.HasPrefix(e.Credential, "app:")
	if !e.NewDevice && (app || !e.NewAddress) {
		return
	}
	a.opt.Notify(context.WithoutCancel(ctx), store.Notice{Login: e.Login, Kind: store.NoticeNewSignIn,
		Time: e.Time, Addr: e.Addr, Client: e.Client, Detail: e.Via})
}

// authenticate verifies the account password of an admitted attempt on
// login (u is nil for an unknown login) and counts its outcome.
func (a *Authenticator) authenticate(ctx context.Context, at Attempt, p *pass, login string, u *store.User) (*Identity, error) {
	// Where the account password is not accepted it is verified against
	// the dummy hash, never matching, so that the time does not tell.
	account := acceptsPassword(u, at.Via)
	hash := a.dummyHash
	if account {
		hash = u.PasswordHash
	}
	passwordID := &Identity{User: u, Credential: credPassword}

	var key [32]byte
	useCache := account && a.opt.CacheTTL > 0
	release := func() {}
	if useCache {
		key = a.cacheKey(login, at.Password, hash)
		// Identical credentials sent in parallel (a client opening several
		// connections) wait while the first is verified, then hit the
		// cache: one argon2, and no failure counted ahead for the others.
		r, err := a.claim(ctx, key)
		if err != nil {
			return nil, err
		}
		if r == nil {
			a.succeed(ctx, p)
			return passwordID, nil
		}
		release = r
		defer release()
	}

	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := a.reserve(ctx, p); err != nil {
		<-a.sem
		return nil, err
	}
	ok, verr := a.verify(hash, at.Password)
	if verr != nil && hash != a.dummyHash {
		// The stored hash is unusable (e.g. an account without password):
		// spend the time of a verification anyway.
		_, _ = a.verify(a.dummyHash, at.Password)
	}
	ok = ok && verr == nil && account
	if ok && useCache {
		// Before the attempts waiting for this verification look.
		a.remember(key)
	}
	<-a.sem
	release()

	if !ok {
		if err := a.fail(ctx, p); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	a.succeed(ctx, p)
	return passwordID, nil
}

// AppPasswordFinder looks up app passwords; store.AppPasswords satisfies it.
// FindAppPassword returns an error wrapping store.ErrNotFound (or a nil
// result) for an unknown one.
type AppPasswordFinder interface {
	FindAppPassword(ctx context.Context, owner, digest string) (*store.AppPassword, error)
}

// CheckDevicePassword checks password as SignIn via ViaDAV does, without
// throttling or recording, for tools checking what a device is given: an
// app password of u, or else u's account password unless u requires app
// passwords or has two-factor on. It returns ErrBadCredentials if it is neither, and an error of
// VerifyPassword if u's stored hash is unusable (which SignIn answers with
// ErrBadCredentials).
func CheckDevicePassword(ctx context.Context, src AppPasswordFinder, u *store.User, password string) (*Identity, error) {
	id, err := findAppPassword(ctx, src, u.Login, u, password)
	if id != nil || err != nil {
		return id, err
	}
	if !acceptsPassword(u, ViaDAV) {
		return nil, ErrBadCredentials
	}
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return &Identity{User: u, Credential: credPassword}, nil
}

// findAppPassword returns the identity password proves as an app password
// of login, or nil if it is none; u is login's user, nil if unknown.
func findAppPassword(ctx context.Context, src AppPasswordFinder, login string, u *store.User, password string) (*Identity, error) {
	app, err := src.FindAppPassword(ctx, login, AppPasswordDigest(password))
	switch {
	case err == nil && app != nil && u != nil:
		return &Identity{User: u, Credential: "app:" + app.Name, AppPassword: app.ID}, nil
	case err == nil || errors.Is(err, store.ErrNotFound):
		return nil, nil
	default:
		return nil, fmt.Errorf("auth: looking up app password: %w", err)
	}
}

// acceptsPassword reports whether u (nil for an unknown login) may sign in
// via via with its account password. With two-factor on, devices need app
// passwords: DAV cannot ask for a code.
func acceptsPassword(u *store.User, via string) bool {
	return u != nil && (via == ViaWeb || !u.RequireAppPasswords && !u.TwoFactor)
}

// record stores an attempt on login in its activity; id is nil for a
// failure. A store failure goes to Options.OnRecordError, not to the caller.
func (a *Authenticator) record(ctx context.Context, at Attempt, login string, id *Identity) {
	e := a.entry(at, login)
	var appPassword int64
	if id != nil {
		e.OK, e.Credential, appPassword = true, id.Credential, id.AppPassword
	}
	var key [32]byte
	coalesce := e.OK && e.Via == ViaDAV
	if coalesce {
		key = a.digest("recorded", login, e.Credential, e.Addr, e.Client)
		if !a.firstSince(key, e.Time) {
			return
		}
	}
	// The attempt happened even if the client hung up since.
	err := a.users.RecordSignIn(context.WithoutCancel(ctx), e, appPassword, SignInRetention)
	if err == nil {
		a.noticeNewSignIn(ctx, e)
		return
	}
	if coalesce {
		a.mu.Lock()
		a.recorded.remove(key) // try again next time
		a.mu.Unlock()
	}
	if a.opt.OnRecordError != nil {
		a.opt.OnRecordError(fmt.Errorf("auth: recording sign-in of %s: %w", login, err))
	}
}

// recordFailure stores a failed attempt on login, recorded with
// credential (what was wrong), in its activity.
func (a *Authenticator) recordFailure(ctx context.Context, at Attempt, login, credential string) {
	e := a.entry(at, login)
	e.Credential = credential
	if err := a.users.RecordSignIn(context.WithoutCancel(ctx), e, 0, SignInRetention); err != nil && a.opt.OnRecordError != nil {
		a.opt.OnRecordError(fmt.Errorf("auth: recording sign-in of %s: %w", login, err))
	}
}

// entry is the activity entry of an attempt on login, now.
func (a *Authenticator) entry(at Attempt, login string) *store.SignIn {
	return &store.SignIn{
		Login:   login,
		Time:    a.opt.Now(),
		Via:     at.Via,
		Addr:    displayAddr(at.Addr),
		Network: addressKey(at.Addr),
		Client:  truncateUTF8(at.Client, maxClientLen),
	}
}

// firstSince reports whether key was not marked within recordEvery before
// now, marking it if so.
func (a *Authenticator) firstSince(key [32]byte, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if last, ok := a.recorded.get(key); ok && now.Sub(last) < recordEvery {
		return false
	}
	a.recorded.put(key, now)
	return true
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
