// Package notices queues security mails where security events happen
// (sign-ins, settings changed): it applies the user's choices (the kinds
// turned off, the language) and the rate limit, and leaves the sending to
// the mailer's worker, which reads the store's outbox. Queueing is one
// short write: it never waits for a mail server.
package notices

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Per is the rate limit: at most one mail of a kind per user per Per.
const Per = time.Hour

// Store is what queueing needs of the store.
type Store interface {
	GetUser(ctx context.Context, login string) (*store.User, error)
	QueueNotice(ctx context.Context, n *store.Notice, per time.Duration) (bool, error)
}

// Kind is a kind of security mail, with its English label for the
// settings page.
type Kind struct {
	Kind  string // a store.Notice* constant, as kept in User.MailOff
	Label string
}

// Kinds are the kinds of security mail, in the order the settings page
// lists them.
var Kinds = []Kind{
	{store.NoticeNewSignIn, "A sign-in from a new address or device"},
	{store.NoticeFailedSignIns, "Repeated wrong passwords"},
	{store.NoticeTwoFactor, "Two-factor sign-in turned on or off"},
	{store.NoticeAppPassword, "A new app password"},
	{store.NoticePassword, "A password change"},
	{store.NoticeMigration, "An import from another provider ended"},
}

// Known reports whether kind is one of Kinds.
func Known(kind string) bool {
	return slices.ContainsFunc(Kinds, func(k Kind) bool { return k.Kind == kind })
}

// Queue queues n for its user unless the user turned its kind off, the
// login is not a mail address to send it to, or a notice of the kind was
// queued within Per (migrations excepted: each run gets its mail); it
// reports whether it queued. It fills in To (the
// login), Language (the user's) and Time (now, when zero), and Addr and
// Client from ctx's Origin when the caller set neither, and wakes the
// sender (WithWake) when it queued; the caller sets
// Login, Kind, and what it knows of Addr, Client and Detail (see
// store.Notice). An unknown login is store.ErrNotFound.
func Queue(ctx context.Context, st Store, n store.Notice) (bool, error) {
	if !Known(n.Kind) {
		return false, fmt.Errorf("notices: unknown kind %q", n.Kind)
	}
	u, err := st.GetUser(ctx, n.Login)
	if err != nil {
		return false, fmt.Errorf("notices: %s notice for %s: %w", n.Kind, n.Login, err)
	}
	if slices.Contains(u.MailOff, n.Kind) || !Deliverable(u.Login) {
		return false, nil
	}
	n.To, n.Language = u.Login, u.Language
	if n.Addr == "" && n.Client == "" {
		o := OriginOf(ctx)
		n.Addr, n.Client = o.Addr, o.Client
	}
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	per := Per
	if n.Kind == store.NoticeMigration {
		// The answer to a run the user started, one at a time: each run
		// gets its mail, and a second run within the hour (contacts, then
		// calendars) must not go unconfirmed.
		per = 0
	}
	ok, err := st.QueueNotice(ctx, &n, per)
	if err != nil {
		return false, fmt.Errorf("notices: %w", err)
	}
	if wake, _ := ctx.Value(wakeKey{}).(func()); ok && wake != nil {
		wake()
	}
	return ok, nil
}

// Deliverable reports whether login is a mail address mails can go to: a
// bare address (no name, no angle brackets) whose domain has a dot.
func Deliverable(login string) bool {
	a, err := mail.ParseAddress(login)
	if err != nil || a.Name != "" || a.Address != login {
		return false
	}
	return strings.Contains(login[strings.LastIndexByte(login, '@')+1:], ".")
}

// Origin is where a change to an account comes from, as a security mail
// tells it: the client's address and User-Agent.
type Origin struct {
	Addr, Client string
}

type originKey struct{}

// WithOrigin returns ctx carrying o: the pages put the browser's there, so
// that the use cases they call (package accounts) can tell the mail where
// a change came from without passing it through every signature.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the Origin ctx carries, or the zero Origin.
func OriginOf(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

type wakeKey struct{}

// WithWake returns ctx carrying wake, which Queue calls after queueing a
// notice: the server puts its mail sender's there, so that a notice goes
// out at once rather than at the sender's next look.
func WithWake(ctx context.Context, wake func()) context.Context {
	return context.WithValue(ctx, wakeKey{}, wake)
}
