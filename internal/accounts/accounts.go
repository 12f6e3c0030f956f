// Package accounts creates and deletes users together with what every user
// has: the default address book, calendar and task list. The command line,
// the first start of the server and the DAV layer (for users whose
// collections are all gone) share it, so that a user looks the same however
// they came to be.
//
// It is also where an account's credentials change (password, app
// passwords, two-factor), so that every way in queues the security mail
// the owner gets about it (package notices).
package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
)

// Store is what creating an account and changing its credentials need of
// the store: the user, their app passwords, second factor and default
// collections, and the queue of security mails about them.
type Store interface {
	store.Users
	store.AppPasswords
	store.SecondFactor
	store.Collections
	store.NoticeQueue
}

// MinPasswordLen is the shortest account password a person may choose.
const MinPasswordLen = 8

// CheckPassword says why a password chosen for an account is refused, or
// returns nil. Create and SetPassword apply it, so every way of setting a
// password obeys it.
func CheckPassword(password string) error {
	if len(password) < MinPasswordLen {
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLen)
	}
	return nil
}

// DefaultBook is the name of the default address book, the last segment of
// its URL.
const DefaultBook = "contacts"

// The collections every user has, so that a client always finds somewhere
// to sync to.
var defaults = []store.Collection{
	{Kind: store.KindCard, Name: DefaultBook, DisplayName: "Contacts"},
	{Kind: store.KindCal, Name: "calendar", DisplayName: "Calendar", Components: []string{calendars.VEVENT}},
	{Kind: store.KindCal, Name: "tasks", DisplayName: "Tasks", Components: []string{calendars.VTODO}},
}

// Create adds the user with the password and their default collections.
// The login must already be normalised (auth.NormalizeLogin). An existing
// login gives an error wrapping store.ErrExists.
//
// The user and the collections are two writes: a crash between them leaves
// a user without collections, which EnsureDefaults mends on their first
// PROPFIND.
func Create(ctx context.Context, st Store, login, password string) error {
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("accounts: create %s: %w", login, err)
	}
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return fmt.Errorf("accounts: create %s: %w", login, err)
	}
	if err := st.CreateUser(ctx, &store.User{Login: login, PasswordHash: hash, Created: time.Now().UTC()}); err != nil {
		return fmt.Errorf("accounts: create %s: %w", login, err)
	}
	return EnsureDefaults(ctx, st, login)
}

// CreateRemote adds a user whose password a mail server checks
// (store.BackendIMAP), with their default collections: the first sign-in
// of such a user creates them. An existing login gives an error wrapping
// store.ErrExists.
func CreateRemote(ctx context.Context, st Store, login string) (*store.User, error) {
	u := &store.User{Login: login, Backend: store.BackendIMAP, Created: time.Now().UTC()}
	if err := st.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("accounts: create %s: %w", login, err)
	}
	if err := EnsureDefaults(ctx, st, login); err != nil {
		return nil, err
	}
	return u, nil
}

// ErrRemotePassword refuses to set the password of a user whose password
// the mail server checks: it is changed there.
var ErrRemotePassword = errors.New("the password of this account is the mail password; change it at the mail provider")

// SetPassword replaces the user's password. A login unknown here gives an
// error wrapping store.ErrNotFound; a user whose password the mail server
// checks, one wrapping ErrRemotePassword.
func SetPassword(ctx context.Context, st Store, login, password string) error {
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("accounts: set password of %s: %w", login, err)
	}
	u, err := st.GetUser(ctx, login)
	if err != nil {
		return fmt.Errorf("accounts: set password of %s: %w", login, err)
	}
	if u.Backend == store.BackendIMAP {
		return fmt.Errorf("accounts: set password of %s: %w", login, ErrRemotePassword)
	}
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return fmt.Errorf("accounts: set password of %s: %w", login, err)
	}
	if err := st.SetPasswordHash(ctx, login, hash); err != nil {
		return fmt.Errorf("accounts: set password of %s: %w", login, err)
	}
	tell(ctx, st, store.Notice{Login: login, Kind: store.NoticePassword})
	return nil
}

// CreateAppPassword gives owner a new app password for the device called
// name and returns it: only its digest is kept, so the caller shows it now
// or never.
func CreateAppPassword(ctx context.Context, st Store, owner, name string) (string, error) {
	password, digest := auth.NewAppPassword()
	if err := st.CreateAppPassword(ctx, &store.AppPassword{Owner: owner, Name: name, Digest: digest}); err != nil {
		return "", fmt.Errorf("accounts: create app password of %s: %w", owner, err)
	}
	tell(ctx, st, store.Notice{Login: owner, Kind: store.NoticeAppPassword, Detail: name})
	return password, nil
}

// tell queues a security mail about a change just made to an account
// (where it came from is ctx's notices.Origin). The change stands whether
// or not the mail could be queued, so a failure is logged, not returned.
func tell(ctx context.Context, st notices.Store, n store.Notice) {
	if _, err := notices.Queue(context.WithoutCancel(ctx), st, n); err != nil {
		slog.WarnContext(ctx, "queueing a security mail", "login", n.Login, "kind", n.Kind, "err", err)
	}
}

// Delete removes the user with everything they own. A login unknown here
// gives an error wrapping store.ErrNotFound.
func Delete(ctx context.Context, st store.Users, login string) error {
	if err := st.DeleteUser(ctx, login); err != nil {
		return fmt.Errorf("accounts: delete %s: %w", login, err)
	}
	return nil
}

// EnsureDefaults creates the default collections of each kind the user has
// none of (a user who deleted some of their calendars keeps the rest).
func EnsureDefaults(ctx context.Context, st store.Collections, user string) error {
	have := map[store.Kind]bool{}
	for _, k := range []store.Kind{store.KindCard, store.KindCal} {
		cs, err := st.ListCollections(ctx, user, k)
		if err != nil {
			return fmt.Errorf("accounts: defaults of %s: %w", user, err)
		}
		have[k] = len(cs) > 0
	}
	for _, d := range defaults {
		if have[d.Kind] {
			continue
		}
		c := d
		c.Owner = user
		err := st.CreateCollection(ctx, &c)
		// Over quota, a user who deleted every collection of a kind goes
		// without one until they free space; their PROPFIND still works.
		if err != nil && !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrQuotaExceeded) {
			return fmt.Errorf("accounts: defaults of %s: create %s: %w", user, c.Name, err)
		}
	}
	return nil
}
