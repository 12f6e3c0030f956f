// Package store defines rolodav's persistence contract. Drivers (store/sqlite,
// later store/postgres) implement Store with identical semantics, checked by
// the conformance suite in store/storetest.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind says what a collection holds.
type Kind string

const (
	KindCard Kind = "card" // address book
	KindCal  Kind = "cal"  // calendar or task list
)

// Sentinel errors; drivers wrap them with context, callers test with errors.Is.
var (
	ErrNotFound         = errors.New("not found")
	ErrExists           = errors.New("already exists")
	ErrPrecondition     = errors.New("precondition failed")
	ErrInvalidSyncToken = errors.New("invalid sync token")
	// ErrQuotaExceeded refuses a write that would raise its owner's usage
	// above the quota (see Usage).
	ErrQuotaExceeded = errors.New("storage quota exceeded")
	// ErrTooManyRegistrations refuses a new push registration beyond a
	// cap: MaxPushRegistrations of its user, or
	// MaxPushRegistrationsPerTarget on its collection or home. Drivers
	// return it as a *TooManyRegistrationsError, which names the cap.
	ErrTooManyRegistrations = errors.New("too many push registrations")
	// ErrTooLarge refuses a value over its documented bound.
	ErrTooLarge = errors.New("too large")
)

// Caps of push registrations that have not expired (RegisterPush). A phone
// registers each synced collection and the homes once, so both are dozens
// of devices; a client that registers without end fills nothing.
const (
	// MaxPushRegistrations bounds the registrations of one user.
	MaxPushRegistrations = 500
	// MaxPushRegistrationsPerTarget bounds the registrations on one
	// collection or one home: every write of it sends one message, a POST
	// to a push service, to each.
	MaxPushRegistrationsPerTarget = 50
)

// TooManyRegistrationsError is ErrTooManyRegistrations (errors.Is) with the
// cap that refused the registration.
type TooManyRegistrationsError struct {
	Limit  int  // MaxPushRegistrations or MaxPushRegistrationsPerTarget
	Target bool // the cap of the collection or home; else the user's
}

func (e *TooManyRegistrationsError) Error() string {
	if e.Target {
		return fmt.Sprintf("%d push registrations on the collection or home, the most it may have", e.Limit)
	}
	return fmt.Sprintf("%d push registrations of the user, the most they may have", e.Limit)
}

func (e *TooManyRegistrationsError) Unwrap() error { return ErrTooManyRegistrations }

// Options are what a driver is opened with.
type Options struct {
	// QuotaPerUser bounds every user's Usage.Used, in bytes; 0 means no
	// limit.
	QuotaPerUser int64
}

// Usage is how much storage a user takes, and the limit.
//
// What counts: each object its data, its name and ObjectOverhead (see
// ObjectUsage); each collection its name, display name, description,
// colour, components, time zone, dead properties (names and values) and
// CollectionOverhead (see CollectionUsage); each merge record its undo
// data, the names it lists and MergeOverhead (see MergeUsage). Sync
// history and account records (passwords, sessions, sign-ins) do not
// count.
//
// Every write keeps Used in the same transaction as the data. A write
// whose transaction, taken as a whole, raises its owner's usage to more
// than the limit fails with ErrQuotaExceeded and changes nothing. A write
// that lowers the usage or leaves it equal always succeeds, even over the
// limit (a limit lowered below what a user holds, say): a user over quota
// can still delete and replace a card by a smaller one.
//
// Merges follow the same rule, with no exception. The undo record that
// ApplyMerge stores keeps the originals, so a merge frees nothing in
// truth: it raises the usage by about the reference's original, plus what
// the undo encoding adds. It therefore needs room for its record less what
// the cards it removes gave back, and at the limit it is refused until
// something is deleted. Any allowance beyond the limit would let "import
// duplicates, merge, import again" store without bound, or need a second,
// arbitrary limit. UndoMerge gives the undo data back as it restores the
// originals, so it needs room only for what they take beyond that; the
// undone merge stays listed and counts the rest of its record. FoldInto
// counts the change of the undo record with the survivor's.
type Usage struct {
	Used  int64
	Limit int64 // Options.QuotaPerUser; 0 = no limit
}

// Overheads count, roughly, what the database keeps of an object or a
// collection besides its data: row, indexes, the change log. They also
// make a million empty objects cost something.
const (
	ObjectOverhead     = 256
	CollectionOverhead = 512
)

// ObjectUsage is what an object named name, with size bytes of data,
// counts against its owner's quota.
func ObjectUsage(name string, size int64) int64 {
	return size + int64(len(name)) + ObjectOverhead
}

// MergeOverhead counts, roughly, what the database keeps of a merge
// record besides its undo data and names: the row, the reference's ETag,
// timestamps, the encoding of the name lists and the index entries. The
// record that each removed card lives on in the reference (its name, UID
// and survivor, while the merge is in effect) is not counted apart: the
// undo data holds the same card.
const MergeOverhead = 256

// MergeUsage is what merge record m counts against its collection owner's
// quota while it is stored (until its collection is deleted): its undo
// data, the names of its reference, removed cards and rewritten group
// cards, and MergeOverhead. An undone merge stays listed, without undo
// data (see UndoMerge), and counts the rest.
func MergeUsage(m *Merge) int64 {
	n := int64(len(m.Undo)+len(m.Reference)) + MergeOverhead
	for _, r := range m.Removed {
		n += int64(len(r))
	}
	for _, g := range m.Groups {
		n += int64(len(g))
	}
	return n
}

// CollectionUsage is what a collection itself (not its objects) counts
// against its owner's quota.
func CollectionUsage(c *Collection) int64 {
	n := int64(len(c.Name) + len(c.DisplayName) + len(c.Description) + len(c.Color) + len(c.Timezone) +
		len(strings.Join(c.Components, ",")))
	for k, v := range c.Props {
		n += int64(len(k) + len(v))
	}
	return n + CollectionOverhead
}

// UIDConflictError reports that another object in the collection already has
// the UID being written (CARDDAV:no-uid-conflict / CALDAV:no-uid-conflict).
type UIDConflictError struct {
	UID  string
	Name string // the name of the object that holds the UID
}

func (e *UIDConflictError) Error() string {
	return fmt.Sprintf("uid %q already used by %q", e.UID, e.Name)
}

// MergedAwayError refuses a write that would bring back a card merged into
// another: its name or its UID was merged away (see MergedInto) and lives
// on in Survivor. Callers fold the card into the survivor instead (package
// merges); test with errors.As.
type MergedAwayError struct {
	Name     string // the name written
	UID      string // the UID written
	Survivor string // name of the card that absorbed it
	Merge    int64  // the merge that removed the name or UID (MergedInto's)
}

func (e *MergedAwayError) Error() string {
	return fmt.Sprintf("%s (UID %q) was merged into %s by merge %d", e.Name, e.UID, e.Survivor, e.Merge)
}

// User is an account. Login is usually an e-mail address.
type User struct {
	Login        string
	PasswordHash string // PHC-formatted argon2id hash, see package auth
	Created      time.Time
	// RequireAppPasswords: DAV accepts only app passwords; the account
	// password then opens the web pages only.
	RequireAppPasswords bool
	// Backend says who checks the account password: BackendLocal (its
	// PasswordHash) or BackendIMAP (the mail server; PasswordHash is empty).
	// Set when the user is created.
	Backend string
	// TwoFactor: the account pages ask for a second factor after the
	// password, and DAV accepts only app passwords. Kept by the
	// second-factor methods; ignored by CreateUser.
	TwoFactor bool

	// Settings the user changes on the pages (UpdateUserSettings).
	Language string   // for mails: "en", "fr", "de", "it"; "" = not known
	MailOff  []string // kinds of security mail the user turned off
	// Region is the country of phone numbers written without a country
	// code in the user's books (ISO 3166 alpha-2, "DE"), for the duplicate
	// matcher; "" = the server's --region.
	Region string
	// TimeZone is the IANA zone the pages show times in ("Europe/Berlin");
	// "" = the browser's zone where known, else UTC.
	TimeZone string
}

// Backends of User.Backend.
const (
	BackendLocal = ""
	BackendIMAP  = "imap"
)

// AppPassword is a password for one device. Only a digest of it is kept
// (see package auth): it is shown once, when created.
type AppPassword struct {
	ID         int64
	Owner      string
	Name       string // what the user called the device
	Digest     string // hex SHA-256 of the password; unique
	Created    time.Time
	LastUsed   time.Time // zero when never used
	LastAddr   string    // client address of the last use
	LastClient string    // User-Agent of the last use
}

// Session is a signed-in browser. ID is a digest of the cookie value, so
// that a copy of the database opens no session.
type Session struct {
	ID       string
	Owner    string
	CSRF     string // the token every form of this session must carry
	Created  time.Time
	Expires  time.Time
	LastSeen time.Time
	Addr     string
	Client   string
	// Partial: the password was verified but the second factor is still
	// owed. Such a session opens no page; it only carries the sign-in to
	// the code form.
	Partial bool
}

// TOTP is a user's secret for time-based one-time codes (RFC 6238), as the
// methods of SecondFactor keep it.
type TOTP struct {
	Secret string // base32, as authenticator apps take it
	// Pending: set up but not confirmed with a first code yet; it does not
	// count for sign-in, and User.TwoFactor is off.
	Pending bool
	// LastStep is the newest time step a code was accepted for (0 before
	// any): codes of this step or older are refused.
	LastStep int64
	Since    time.Time // when it was set up, then when it was confirmed
}

// SignIn is one sign-in or failed attempt, shown to the account's owner.
type SignIn struct {
	ID    int64
	Login string
	Time  time.Time
	OK    bool
	Via   string // "web" or "dav"
	// Credential says what was presented: "password" (the account's),
	// "app:<name>" (an app password), or "" for a failure ("code" for a
	// wrong second factor after the right password).
	Credential string
	Addr       string
	// Network is the network Addr is counted in by sign-in throttling
	// (package auth: the IPv4 address, or the /64 of an IPv6 address).
	Network string
	Client  string
	// Set by RecordSignIn for a success: no earlier success of this login
	// came from this address (NewAddress) or this client (NewDevice).
	NewAddress bool
	NewDevice  bool
	// First is set by RecordSignIn for the first success of the login
	// ever kept (NewAddress and NewDevice are set too). Not stored.
	First bool
}

// FailureCount is the record of a sign-in failure counter (see
// FailureCounters.AddSignInFailure).
type FailureCount struct {
	Key         string
	Failures    int       // within the window that began at Start
	Start       time.Time // first failure of the window
	LockedUntil time.Time // zero when not locked
}

// Collection is an address book or a calendar.
type Collection struct {
	ID          int64
	Owner       string
	Kind        Kind
	Name        string // last URL segment, unique per owner and kind
	DisplayName string
	Description string
	Color       string   // "#RRGGBB" or "#RRGGBBAA", "" when unset
	Order       int      // calendar-order; 0 when unset
	Components  []string // calendars: "VEVENT", "VTODO", "VJOURNAL"
	Timezone    string   // calendars: a VCALENDAR holding one VTIMEZONE
	// Props holds dead properties set by clients, keyed by "{namespace}local",
	// valued by the property element's inner XML exactly as sent.
	Props    map[string]string
	Created  time.Time
	Modified time.Time

	// Filled in by the store on reads; ignored on writes.
	SyncSeq int64 // sequence number of the latest change
	Count   int64 // number of objects
	Bytes   int64 // total size of objects
}

// Object is one resource in a collection: a vCard or an iCalendar object.
type Object struct {
	Collection int64
	Name       string // last URL segment as the client sent it, e.g. "<uid>.vcf"
	UID        string
	ETag       string // unquoted; computed by the store from Data
	Data       []byte // nil when a listing asked for metadata only
	Size       int64
	Modified   time.Time
	// Calendars only: main component and the span of all occurrences.
	// A zero FirstStart means unbounded start, a zero LastEnd unbounded end.
	Component  string
	FirstStart time.Time
	LastEnd    time.Time
}

// Conditions are the HTTP preconditions of a write, checked inside the
// write's transaction so that two clients cannot both win.
type Conditions struct {
	IfMatch     string // unquoted ETag the current object must have; "*" = it must exist; "" = no condition
	IfNoneMatch bool   // "If-None-Match: *": the name must not exist
}

// Change is the latest state of one name after a sync point.
type Change struct {
	Seq     int64
	Name    string
	Deleted bool
	Object  *Object // nil when Deleted; Data set only when asked for
}

// syncTokenBase makes sync tokens URIs, as RFC 6578 wants; only the
// "<collection-id>:<seq>" part means anything to us.
const syncTokenBase = "https://rolodav.org/ns/sync/"

// SyncToken is the sync token of collection id at sequence number seq, as
// sync-collection (dav) and push messages (push) carry it.
func SyncToken(id, seq int64) string {
	return syncTokenBase + strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(seq, 10)
}

// ParseSyncToken returns the sequence number in a sync token of
// collection id.
func ParseSyncToken(tok string, id int64) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(tok), syncTokenBase)
	if !ok {
		return 0, false
	}
	cid, seq, ok := strings.Cut(rest, ":")
	if !ok || cid != strconv.FormatInt(id, 10) {
		return 0, false
	}
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Store is the persistence contract: every role below, which a driver
// implements. Every method that writes runs in one transaction and has
// committed (durably) when it returns nil. The methods that write
// collections or objects (CreateCollection, UpdateCollection, PutObject,
// MoveObject, ApplyMerge, UndoMerge, FoldInto) fail with ErrQuotaExceeded
// as Usage describes; deleting never does.
//
// Packages that use the store ask for the roles they call (or a few of
// their methods), not for Store.
type Store interface {
	Users
	AppPasswords
	Sessions
	SecondFactor
	SignIns
	FailureCounters
	Collections
	Objects
	Merges
	NoticeQueue // security mails: see the block "Security mails" below
	Maintenance // pruning and scheduled runs: see the block "Maintenance" below
	Secrets     // keys the server makes once: see the block "WebDAV-Push" below
	Push        // WebDAV-Push registrations and their queue: see the block "WebDAV-Push" below
	Migrations  // moving from another provider: see the block "Moving from another provider" below

	Close() error
}

// Users are the accounts, their settings and their storage usage.
type Users interface {
	CreateUser(ctx context.Context, u *User) error // ErrExists
	GetUser(ctx context.Context, login string) (*User, error)
	ListUsers(ctx context.Context) ([]User, error)
	// SetPasswordHash also ends the user's web sessions: whoever signed in
	// with the old password must not stay signed in.
	SetPasswordHash(ctx context.Context, login, hash string) error
	SetRequireAppPasswords(ctx context.Context, login string, on bool) error
	// UpdateUserSettings loads the user, lets fn change Language,
	// MailOff, Region and TimeZone, and saves them, in one transaction. An error from fn aborts
	// the update; an unknown login is ErrNotFound. fn may run more than
	// once, on a freshly loaded user each time (a driver runs a transaction
	// again that the database aborted to resolve a conflict), and must not
	// call the store.
	UpdateUserSettings(ctx context.Context, login string, fn func(u *User) error) error
	// DeleteUser removes the user and everything they own.
	DeleteUser(ctx context.Context, login string) error
	// Usage returns the user's storage usage and the quota (ErrNotFound
	// for an unknown login). Every write of collections and objects
	// (Collections, Objects, Merges) obeys the quota as Usage describes.
	Usage(ctx context.Context, login string) (Usage, error)
}

// AppPasswords are the passwords of devices. Every method is scoped to its
// owner: another user's ID is ErrNotFound.
type AppPasswords interface {
	CreateAppPassword(ctx context.Context, p *AppPassword) error               // sets p.ID, p.Created when zero
	ListAppPasswords(ctx context.Context, owner string) ([]AppPassword, error) // newest first
	// FindAppPassword returns owner's app password with this digest.
	FindAppPassword(ctx context.Context, owner, digest string) (*AppPassword, error)
	DeleteAppPassword(ctx context.Context, owner string, id int64) error
}

// Sessions are the signed-in browsers of the web pages. GetSession returns
// ErrNotFound for an unknown or expired session, and a Partial one like any
// other.
type Sessions interface {
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, id string) (*Session, error)
	// TouchSession moves a session's expiry and records its last use.
	TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// EndOtherSessions deletes owner's sessions except the one with ID
	// keep ("" keeps none) and returns how many it deleted.
	EndOtherSessions(ctx context.Context, owner, keep string) (int, error)
}

// SecondFactor keeps a TOTP secret and single-use emergency codes. Every
// method runs in one transaction, so that several server processes sharing
// the store agree; the rows go with the user (DeleteUser). User.TwoFactor
// is true exactly while a confirmed secret is kept.
type SecondFactor interface {
	// SetPendingTOTP stores secret as login's unconfirmed secret,
	// replacing a pending one. ErrExists when two-factor is on already,
	// ErrNotFound for an unknown login.
	SetPendingTOTP(ctx context.Context, login, secret string) error
	// GetTOTP returns login's secret, pending or confirmed; ErrNotFound
	// when there is none.
	GetTOTP(ctx context.Context, login string) (*TOTP, error)
	// EnableTwoFactor confirms login's pending secret, records step as the
	// last step used, replaces the emergency codes by codeDigests and sets
	// User.TwoFactor. ErrPrecondition, changing nothing, unless the
	// pending secret is still secret (it was replaced, or confirmed by an
	// earlier request): the caller checked a code against secret.
	EnableTwoFactor(ctx context.Context, login, secret string, step int64, codeDigests []string) error
	// UseTOTPStep records that a code of step was accepted, if step is
	// newer than the last step used: one atomic step, so that a code is
	// accepted once, whichever process sees it. ErrPrecondition when step
	// is not newer (a replay), ErrNotFound when two-factor is off.
	UseTOTPStep(ctx context.Context, login string, step int64) error
	// UseEmergencyCode deletes login's emergency code with this digest and
	// returns how many are left; ErrNotFound when there is no such code
	// (never was, or used already).
	UseEmergencyCode(ctx context.Context, login, digest string) (left int, err error)
	// EmergencyCodesLeft returns how many emergency codes login has.
	EmergencyCodesLeft(ctx context.Context, login string) (int, error)
	// DisableTwoFactor drops login's secret (pending or confirmed) and
	// emergency codes and clears User.TwoFactor. ErrNotFound for an
	// unknown login; a user without two-factor is no error.
	DisableTwoFactor(ctx context.Context, login string) error
}

// SignIns is the sign-in activity shown to users. RecordSignIn stores e
// (setting e.ID, and for a success e.NewAddress and e.NewDevice), records
// the use on app password appPassword when it is not 0, and drops the
// login's entries older than keep, in one transaction. ListSignIns is
// newest first.
type SignIns interface {
	RecordSignIn(ctx context.Context, e *SignIn, appPassword int64, keep time.Duration) error
	ListSignIns(ctx context.Context, login string, limit int) ([]SignIn, error)
	// SignedInFrom reports whether the activity kept holds a success of
	// login with its account password (Credential "password") from
	// network (compared with SignIn.Network).
	SignedInFrom(ctx context.Context, login, network string) (bool, error)
}

// FailureCounters count sign-in failures, shared by every server process
// so that several processes give an attacker no more guesses than one. A
// counter is named by an opaque key (package auth uses "addr:<address>"
// and "login:<login>"). Its record is live until it expires: at
// LockedUntil when locked, else at the end of the window that began at its
// first failure; an expired record counts as absent.
type FailureCounters interface {
	// SignInFailures returns the live records of keys at now, in no
	// particular order; keys without one are left out.
	SignInFailures(ctx context.Context, keys []string, now time.Time) ([]FailureCount, error)
	// AddSignInFailure counts one failure for key at now and returns the
	// record: a new one (Failures 1, Start now) when there was no live one,
	// else the live one incremented. When Failures reaches lockAt (> 0;
	// otherwise the counter never locks) and the record is not locked yet,
	// LockedUntil becomes now+lockFor. One atomic step: failures added at
	// once, by any processes, are all counted. It may also delete a few
	// expired records of other keys, so that the table stays small.
	AddSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration, lockAt int, lockFor time.Duration) (FailureCount, error)
	// ClearSignInFailures deletes the records of keys, locks included.
	ClearSignInFailures(ctx context.Context, keys []string) error

	// Provisional failures. Package auth counts a guess with
	// AddSignInFailure before verifying it when another is under way, so
	// that processes sharing the store verify no more between them than
	// the lock allows, and takes it back when it was no failure.
	//
	// TakeBackSignInFailure takes back one failure of key that
	// AddSignInFailure counted, with the same window and lockAt, in the
	// record it returned starting at start: as though it had not been
	// counted. A record left without failures expires at once; a lock is
	// lifted when fewer than lockAt failures are left (the record then
	// expires at the end of its window again). A record that no longer
	// starts at start (cleared, or expired and counted afresh, since) is
	// left as it is, and no record is no error. One atomic step, like
	// AddSignInFailure.
	TakeBackSignInFailure(ctx context.Context, key string, start time.Time, window time.Duration, lockAt int) error
}

// Collections are the address books and calendars.
type Collections interface {
	CreateCollection(ctx context.Context, c *Collection) error // sets c.ID; ErrExists
	GetCollection(ctx context.Context, owner string, kind Kind, name string) (*Collection, error)
	ListCollections(ctx context.Context, owner string, kind Kind) ([]Collection, error)
	// UpdateCollection loads the collection, lets fn change its mutable fields
	// (DisplayName, Description, Color, Order, Components, Timezone, Props) and
	// saves them, all in one transaction. An error from fn aborts the update.
	// fn may run more than once, on a freshly loaded collection each time,
	// and must not call the store.
	UpdateCollection(ctx context.Context, id int64, fn func(c *Collection) error) error
	DeleteCollection(ctx context.Context, id int64) error
}

// Objects are the cards and calendar objects of collections, and their
// change log (sync-collection).
//
// A callback of a streaming read (ListObjects, ListObjectsInRange,
// ChangesSince) may call the store again, reads and writes, on any
// collection, without deadlock, in every driver: a driver must not hold,
// while it calls fn, a resource that the callback's call needs. (SQLite
// reads on a pool of connections without a cap and writes on another
// connection; PostgreSQL fetches pages in short transactions and calls fn
// holding no connection.) A write that the callback makes to the collection
// being streamed may or may not be seen by the stream. An error from fn
// stops the stream, and the method returns it (maybe wrapped: test
// with errors.Is).
type Objects interface {
	GetObject(ctx context.Context, coll int64, name string) (*Object, error)
	// GetObjects returns the named objects that exist, in no particular order.
	GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]Object, error)
	// ListObjects streams the collection's objects ordered by name. fn
	// may call the store again (see Objects).
	ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *Object) error) error
	// ListObjectsInRange streams calendar objects whose span overlaps
	// [start, end); a zero bound is unbounded. Used for time-range queries.
	ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time, withData bool, fn func(o *Object) error) error
	// PutObject creates or replaces o.Name in o.Collection, appends a change
	// and returns whether it was created and the new ETag. It fails with
	// ErrPrecondition, or *UIDConflictError when another name holds o.UID.
	//
	// A write may not bring back what a merge took away: creating o.Name
	// when that name was merged away, or giving o a merged-away UID (on
	// creation, or as a change of its UID), fails with *MergedAwayError,
	// which names the survivor as MergedInto does, and writes nothing. It
	// is checked in the write's transaction, before cond: the conditions
	// were about a card that is gone. An object that exists under such a
	// name with such a UID (an undo out of order put it back) is replaced
	// as usual. A merge undone frees its names and UIDs.
	PutObject(ctx context.Context, o *Object, cond Conditions) (created bool, etag string, err error)
	DeleteObject(ctx context.Context, coll int64, name string, cond Conditions) error
	// MoveObject moves an object to another (or the same) collection of the
	// same owner under newName. With overwrite false an existing target is
	// ErrPrecondition. Both collections get a change. Returns whether the
	// target was created (as opposed to replaced). Like PutObject, it fails
	// with *MergedAwayError when it would create a merged-away name in to,
	// or bring a merged-away UID of to into it from another collection.
	MoveObject(ctx context.Context, from int64, name string, to int64, newName string, overwrite bool, cond Conditions) (created bool, err error)

	// ChangesSince streams, in ascending Seq order, the latest change of each
	// name changed after seq, at most limit names (0 = no limit). It returns
	// the sequence number to use as the next sync point: the collection's
	// current one, or that of the last change streamed when truncated.
	// A seq older than the retained log or newer than the collection's
	// current one is ErrInvalidSyncToken. Seq 0 means an initial sync: every
	// existing object is streamed, deletions are not.
	ChangesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool, fn func(c *Change) error) (next int64, truncated bool, err error)
}

// Merges of duplicate cards (see ../shared/docs/dedup.md, "Sync safety"),
// their undo, and the groups of cards hidden as not duplicates.
type Merges interface {
	// ApplyMerge replaces the reference with the merged card, rewrites the
	// listed group cards and deletes the merged-away cards, each only if it
	// still has the ETag it had when the merge was planned (else
	// ErrPrecondition and nothing changes); it records the merge and that
	// each removed name and UID now lives on in the reference. One
	// transaction; every touched name gets a change, so clients see the
	// merge through sync-collection.
	ApplyMerge(ctx context.Context, w *MergeWrite) (*Merge, error)
	// ListMerges returns a collection's merges, newest first.
	ListMerges(ctx context.Context, coll int64) ([]Merge, error)
	GetMerge(ctx context.Context, coll, id int64) (*Merge, error)
	// UndoMerge restores the originals (decoded by the caller from undo,
	// the Merge.Undo it read: the reference's and the removed cards'
	// names, UIDs and data), drops the merged-away records, marks the merge
	// undone and empties its Undo (an undone merge cannot be undone again),
	// in one transaction. ErrPrecondition when it is undone already, its
	// undo record is no longer undo (a FoldInto replaced it since it was
	// read: the originals would lose what a client re-uploaded), a removed
	// name or UID is in use again, or (unless force) the reference's ETag
	// is no longer Merge.ReferenceETag: someone edited it since, and undo
	// would drop that edit.
	UndoMerge(ctx context.Context, coll, id int64, undo []byte, originals []Object, force bool) error
	// MergedInto returns the name of the card that absorbed a merged-away
	// name or UID ("" when neither was merged away) and the merge that
	// removed it. A survivor merged away in turn is followed to the card
	// that holds it now. A name or UID is merged away from ApplyMerge
	// until UndoMerge of that merge, and only while that last survivor is
	// there under its name with the UID it had as the merge's reference:
	// once it is deleted, renamed or replaced by a card with another UID,
	// what was merged into it is free again (until a card with that name
	// and UID is back). While merged away, PutObject and MoveObject refuse
	// to bring it back (*MergedAwayError).
	MergedInto(ctx context.Context, coll int64, name, uid string) (survivor string, merge int64, err error)
	// FoldInto stores survivor (an updated merge target, If-Match cond),
	// records a deletion change for foldedName (none when it is "": an
	// import made nothing under a name), replaces the undo record of
	// merge (which now holds the re-uploaded card) and sets ReferenceETag of
	// every merge in effect into the survivor to its new ETag, all in one
	// transaction: the uploader's next sync drops the name it re-uploaded,
	// and an undo later restores the card as the phone last had it. The
	// undo record is replaced only if it is still prevUndo, the record the
	// caller changed (ErrPrecondition otherwise): two folds into one
	// survivor that leave it as it was both pass If-Match, and the second
	// must not drop what the first wrote.
	FoldInto(ctx context.Context, survivor *Object, cond Conditions, foldedName string, merge int64, prevUndo, undo []byte) (etag string, err error)
	// HideGroup records that the cards with these UIDs are not duplicates
	// of each other; HiddenGroups lists what was hidden in a collection.
	HideGroup(ctx context.Context, coll int64, uids []string) error
	HiddenGroups(ctx context.Context, coll int64) ([][]string, error)
	// UnhideGroup forgets a hidden group: the UID set as HiddenGroups
	// lists it (in any order). ErrNotFound when it is not hidden.
	UnhideGroup(ctx context.Context, coll int64, uids []string) error
}

// MergeWrite is what applying a merge changes.
type MergeWrite struct {
	Collection    int64
	Reference     *Object // the merged card, under the reference's name and UID
	ReferenceETag string
	Groups        []Rewrite // group cards whose members now point at the reference
	Removed       []Removed // cards merged away
	Undo          []byte    // opaque to the store; kept for UndoMerge's caller
	// Batch ties the merges of one "merge all" together, so that one undo
	// undoes them all (an unguessable token); "" for a merge on its own.
	Batch string
}

// Rewrite is a card replaced as part of a merge, if it still has ETag.
type Rewrite struct {
	Object *Object
	ETag   string
}

// Removed is a card merged away, deleted if it still has ETag.
type Removed struct {
	Name, UID, ETag string
}

// Merge is one merge of duplicate cards, kept so it can be undone.
type Merge struct {
	ID         int64
	Collection int64
	Reference  string   // name of the card that absorbed the others
	Removed    []string // names of the cards merged away
	Groups     []string // names of the group cards rewritten
	// ReferenceETag is the reference's ETag right after the merge (or the
	// server's latest fold into it); undo checks it to protect later edits.
	ReferenceETag string
	Undo          []byte // empty once undone
	Batch         string // MergeWrite.Batch
	Created       time.Time
	Undone        time.Time // zero while the merge is in effect
}

// ETag is the entity tag of an object's data: the hex of the first 16 bytes
// of its SHA-256. Every driver uses it, so equal content has equal ETags
// whichever engine stores it.
func ETag(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// --- Security mails ------------------------------------------------------
//
// A durable outbox: the server queues a notice where a security event
// happens (a sign-in from a new place, wrong passwords, a changed
// setting), and a sender (package mailer) claims it and mails it. Rows
// outlive their sending for a while, because the rate limit counts them.

// Kinds of notice (Notice.Kind, User.MailOff).
const (
	NoticeNewSignIn     = "new-sign-in"     // a success from an address or device not seen before
	NoticeFailedSignIns = "failed-sign-ins" // repeated wrong passwords, or wrong two-factor codes after the right password
	NoticeTwoFactor     = "two-factor"      // two-factor sign-in turned on or off
	NoticeAppPassword   = "app-password"    // an app password was created
	NoticePassword      = "password"        // the account password was changed
	NoticeMigration     = "migration"       // a migration from another provider ended
)

// NoticeRetention is how long a finished notice is kept after its Time:
// ClaimNotices deletes older ones. A rate-limit period (QueueNotice's per)
// longer than this would not be enforced.
const NoticeRetention = 48 * time.Hour

// Notice is one security mail to send, or sent, or given up.
type Notice struct {
	ID       int64
	Login    string    // the user it is about; the notice goes with the user
	Kind     string    // one of the Notice* kinds
	To       string    // recipient address
	Language string    // "en", "fr", "de", "it", or "" (the sender's default)
	Time     time.Time // when it happened
	Addr     string    // client address of the event; "" when unknown
	Client   string    // User-Agent of the event; "" when unknown
	// Detail depends on Kind: NoticeNewSignIn "web" or "dav" (how the
	// user signed in; "" when unknown); NoticeFailedSignIns "<n>" for n
	// wrong passwords, or "code:<n>" for the right password followed by n
	// wrong two-factor codes (n in decimal: the failures counted when the
	// notice was queued); NoticeTwoFactor "on" or "off"; NoticeAppPassword
	// the new password's name; NoticePassword ""; NoticeMigration
	// "<state> <added> <updated> <skipped> <not imported> <host>" (the
	// Migration's final state, its counts in decimal, the source's host).
	Detail string

	// Kept by the store and the sender.
	Attempts  int       // failed sending attempts so far (RetryNotice)
	NotBefore time.Time // not sent before; zero = as soon as possible
	Lease     time.Time // when the current claim runs out (ClaimNotices); zero when not claimed
	Sent      time.Time // when it was sent; zero when not (yet)
	GaveUp    time.Time // when sending was given up; zero when not
	LastError string    // why the last attempt failed, or why it was given up
}

// Pending reports whether n is neither sent nor given up.
func (n *Notice) Pending() bool { return n.Sent.IsZero() && n.GaveUp.IsZero() }

// NoticeQueue is the outbox of security mails, shared by every server
// process and the command line: each write is one transaction.
type NoticeQueue interface {
	// QueueNotice stores n (setting n.ID), unless the login has a notice
	// of the same Kind, in any state (pending, sent or given up), whose
	// Time is after n.Time-per: then it stores nothing and returns false.
	// That is the rule "at most one mail of a kind per user per period",
	// checked and written in one transaction, so that notices queued at
	// once by several processes make one mail. per must not exceed
	// NoticeRetention; 0 queues every notice. n.Login must be a user
	// (ErrNotFound otherwise); Kind, To and Time must be set. Attempts,
	// Sent, GaveUp and LastError are ignored (a new notice is pending).
	QueueNotice(ctx context.Context, n *Notice, per time.Duration) (queued bool, err error)
	// ClaimNotices takes up to limit (> 0) due notices, oldest NotBefore
	// first: pending, NotBefore at or before now, and not leased or with
	// a lease ended by now. It leases them until now+lease (their Lease),
	// so that no other caller claims them meanwhile (each is sent once by
	// several processes, as long as a sending takes less than lease), and
	// returns them. It also deletes finished notices whose Time is more
	// than NoticeRetention before now. A lease ends with FinishNotice or
	// RetryNotice, or when it runs out (the claimer died or is too slow):
	// then another caller may claim the notice, and the first one's claim
	// no longer holds.
	ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Notice, error)
	// FinishNotice ends notice id, claimed with lease (its Lease as
	// ClaimNotices returned it; zero for a notice never claimed): sent at
	// at when failure is "", else given up at at, failure becoming
	// LastError. The row stays for the rate limit. It acts only while
	// that claim holds: for a pending notice claimed again since, it does
	// nothing and returns ErrPrecondition. A notice finished already keeps
	// its first outcome (nil); an unknown id is ErrNotFound.
	FinishNotice(ctx context.Context, id int64, lease, at time.Time, failure string) error
	// RetryNotice records a failed attempt of pending notice id, claimed
	// with lease as for FinishNotice: Attempts plus one, LastError
	// lastErr, due again at notBefore, lease ended. For a notice claimed
	// again since, it does nothing and returns ErrPrecondition, so that an
	// attempt is counted once; it does nothing to a finished notice (nil);
	// an unknown id is ErrNotFound.
	RetryNotice(ctx context.Context, id int64, lease, notBefore time.Time, lastErr string) error
	// ListNotices returns login's notices kept, newest Time first, at
	// most limit (0 = all).
	ListNotices(ctx context.Context, login string, limit int) ([]Notice, error)
}

// --- Maintenance ---------------------------------------------------------
//
// What `rolodav serve` prunes on a schedule (package maintenance), and the
// claim that makes one run per period out of several server processes
// sharing the store.

// Maintenance prunes what the store keeps for a while only.
type Maintenance interface {
	// PruneTombstones forgets the deletions recorded before olderThan and
	// returns how many it forgot. A sync token of a collection that could
	// have missed one of them, one older than the newest deletion
	// forgotten there, is refused from then on: ChangesSince answers
	// ErrInvalidSyncToken (DAV: DAV:valid-sync-token), and the client
	// syncs again from scratch. Later tokens and initial syncs (seq 0) work
	// as before; a token once refused stays refused. A driver may take
	// several transactions, so that writers do not wait behind a large
	// backlog; each refuses the tokens for the deletions it forgets as it
	// forgets them.
	PruneTombstones(ctx context.Context, olderThan time.Time) (int, error)
	// PruneSessions deletes every user's sessions that expired at or
	// before now (GetSession no longer returns them) and returns how many.
	PruneSessions(ctx context.Context, now time.Time) (int, error)
	// ClaimRun claims the run called name (not empty) for the period every
	// (> 0) that begins at now. It returns true and records now as the
	// run's start when the run never started, or last started every or
	// more before now; else it returns false and changes nothing. One
	// atomic step, in any number of processes: of two claims whose now
	// lie less than every apart, at most one gets true, and of claims made
	// at once when the run is due, exactly one does. A start recorded more
	// than every after now (by a clock that was far ahead) is claimed like
	// a stale one, so that it cannot hold the run off until then.
	ClaimRun(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error)
}

// --- WebDAV-Push ---------------------------------------------------------
//
// WebDAV-Push (draft-bitfire-webdav-push): a client registers a Web Push
// subscription on a collection or a home; every write that changes the
// collection's content or properties queues a message for its registrations
// in the same transaction (so every path that writes, DAV, imports, the
// pages, merges, undo and folds, notifies, and a crash loses nothing); the
// sender of each server process (package push) claims queued messages,
// one claimer at a time, and delivers them.

// Secrets are values the server generates once and keeps, such as the key
// push topics are derived from.
type Secrets interface {
	// Secret returns the secret called name (not empty), creating it with
	// gen when there is none. One atomic step: processes asking at once
	// all get the value that was stored first; gen may run in several and
	// its other results are dropped.
	Secret(ctx context.Context, name string, gen func() (string, error)) (string, error)
}

// PushKey is a VAPID key pair (RFC 8292) on the P-256 curve, both halves
// base64url without padding: Private the scalar, Public the uncompressed
// point.
type PushKey struct {
	ID      int64
	Private string
	Public  string
	Created time.Time
	Retired time.Time // when a newer key replaced it; zero for the current key
}

// PushRegistration is one push subscription registered on one target: a
// collection (Collection > 0), or a home of Login (Collection 0, Home set);
// or, once that collection was deleted, none (Collection 0, Home "", Gone
// set) until its last message is delivered.
type PushRegistration struct {
	ID         int64
	Token      string // unguessable; the last segment of the registration URL (set by RegisterPush)
	Login      string // who registered; only they may delete it
	Collection int64  // the collection watched, or 0 for a home
	Home       Kind   // the home watched (Login's address books or calendars) when Collection is 0
	// Gone is the collection it watched, since deleted (0 for none): its
	// last message says so, and the registration is deleted once that is
	// delivered or given up (FinishPush, DropPush). No write matches it.
	Gone       int64
	Resource   string // the push resource: an absolute URL chosen by the client's push service
	PublicKey  string // the subscription's P-256 ECDH public key (p256dh), base64url as sent
	AuthSecret string // the subscription's authentication secret, base64url as sent
	Content    bool   // the client wants content updates (depth 1)
	Property   bool   // the client wants property updates (depth 0)
	KeyID      int64  // the VAPID key the subscription is bound to (set by RegisterPush: the current key)
	Client     string // the User-Agent that registered it, for the devices page
	Created    time.Time
	Expires    time.Time // no message is sent after it; PrunePush deletes it then
	LastSent   time.Time // the last message delivered; zero for none
}

// Check refuses a registration that lacks what a message needs, or names
// no valid target; drivers call it before RegisterPush writes.
func (r *PushRegistration) Check() error {
	switch {
	case r.Login == "":
		return errors.New("no login")
	case r.Resource == "":
		return errors.New("no push resource")
	case r.PublicKey == "" || r.AuthSecret == "":
		return errors.New("the subscription's public key and authentication secret are required")
	case r.Expires.IsZero():
		return errors.New("no expiry")
	case r.Collection < 0:
		return fmt.Errorf("invalid collection %d", r.Collection)
	case r.Collection > 0 && r.Home != "":
		return fmt.Errorf("a registration on collection %d names a home (%q) too", r.Collection, r.Home)
	case r.Collection == 0 && r.Home != KindCard && r.Home != KindCal:
		return fmt.Errorf("neither a collection nor a home (%q)", r.Home)
	}
	return nil
}

// NewPushToken returns an unguessable registration token (192 bits,
// base64url), as drivers give a new registration.
func NewPushToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// PushDelivery is a message owed to one registration, claimed by
// ClaimPushes.
type PushDelivery struct {
	Registration PushRegistration
	Key          PushKey // the key Registration is bound to, to sign with
	// SyncSeq is the collection's sync sequence number at the claim (0 for
	// a home or a deleted collection): the message carries the newest
	// token, not the one of the change that queued it.
	SyncSeq  int64
	Content  bool      // a content update is owed
	Property bool      // a property update is owed
	Rotation bool      // a VAPID key rotation message is owed (RotatePushKey)
	Queued   time.Time // when the oldest change the message covers was queued
	Attempts int       // failed attempts so far (RetryPush)
	Version  int64     // changes with each change queued into the row
	Lease    time.Time // the claim holds until then
}

// PushHints travel in a write's context (WithPushHints) from the request
// to the store's write transaction, which decides whom to notify.
type PushHints struct {
	// SkipAll queues nothing for this write (Push-Dont-Notify: *).
	SkipAll bool
	// Login and Skip: the registrations of Login whose tokens are in Skip
	// are not notified of this write (Push-Dont-Notify with registration
	// URLs); tokens of other users' registrations are ignored.
	Login string
	Skip  []string
	// Wake is called after a commit that queued a message, so that the
	// sender delivers it at once.
	Wake func()
}

type pushHintsKey struct{}

// WithPushHints returns ctx carrying h for the writes made with it.
func WithPushHints(ctx context.Context, h PushHints) context.Context {
	return context.WithValue(ctx, pushHintsKey{}, h)
}

// PushHintsFrom returns the hints ctx carries, or none.
func PushHintsFrom(ctx context.Context) PushHints {
	h, _ := ctx.Value(pushHintsKey{}).(PushHints)
	return h
}

// Push holds the registrations and the queue of messages.
//
// What a write queues (for registrations not expired, minus those
// PushHints skip), in the write's transaction:
//   - a change of a collection's objects (PutObject, DeleteObject,
//     MoveObject on both collections, ApplyMerge, UndoMerge, FoldInto):
//     a content update to the collection's registrations with Content;
//   - a change of a collection's properties (UpdateCollection): a property
//     update to its registrations with Property, and a content update to
//     the registrations of its owner's home of its kind with Content;
//   - CreateCollection and DeleteCollection: a content update to the home's
//     registrations with Content;
//   - DeleteCollection: a content update to the collection's registrations
//     with Content, its last: they watch nothing from then on (Gone), and
//     go once it is delivered or given up. Its other registrations, and
//     those the hints skip, go with it.
//
// A registration has at most one queued message: a change queued while one
// is queued joins it (Content and Property or-ed, Version changed).
type Push interface {
	// PushKey returns the current VAPID key, creating it with gen when
	// there is none (one atomic step, as for Secret).
	PushKey(ctx context.Context, gen func() (PushKey, error)) (PushKey, error)
	// RotatePushKey makes next (Private and Public set) the current key at
	// now, retiring the current one, and queues a rotation message for each
	// distinct Resource among registrations bound to a retired key (one of
	// them each, not Gone). Registrations stay bound to their key until
	// registered again.
	RotatePushKey(ctx context.Context, next PushKey, now time.Time) error
	// RegisterPush stores r, or updates the registration of r.Login's
	// target with the same Resource (keys, triggers, expiry, client, bound
	// to the current key, Token kept), and returns whether it was new. It
	// sets r.ID, r.Token, r.KeyID and r.Created. The target must exist and
	// belong to r.Login (ErrNotFound otherwise); there must be a current
	// key (PushKey). It first deletes r.Login's expired registrations
	// with their messages: no cap counts them, so kept they would pile
	// up, and one registered again is then a new one. A new registration
	// is refused with a *TooManyRegistrationsError (ErrTooManyRegistrations)
	// when r.Login has MaxPushRegistrations, or its target
	// MaxPushRegistrationsPerTarget; an update never is.
	RegisterPush(ctx context.Context, r *PushRegistration) (created bool, err error)
	// GetPushRegistration returns login's registration with token;
	// ErrNotFound for none, or for another user's.
	GetPushRegistration(ctx context.Context, login, token string) (*PushRegistration, error)
	// DeletePushRegistration deletes login's registration with token and
	// its queued message; ErrNotFound for none, or for another user's.
	DeletePushRegistration(ctx context.Context, login, token string) error
	// ListPushRegistrations returns login's registrations, newest first.
	ListPushRegistrations(ctx context.Context, login string) ([]PushRegistration, error)
	// ClaimPushes takes up to limit (> 0) queued messages that are due at
	// now: not leased (or the lease ended), past any retry time, of a
	// registration not expired whose last message was delivered spacing or
	// more before now (so that bursts coalesce: one message per
	// registration per spacing). It leases them until now+lease, so that
	// no other caller claims them meanwhile, and returns them: those never
	// tried first, then those being retried (Attempts > 0), oldest first
	// within each, so that a failing push service's retries do not hold up
	// fresh messages, and the limit picks in that order too. next is the earliest time another queued message becomes due
	// (zero when none is queued), for the caller to sleep until. Queued
	// messages of expired registrations are deleted.
	ClaimPushes(ctx context.Context, now time.Time, lease, spacing time.Duration, limit int) (ds []PushDelivery, next time.Time, err error)
	// FinishPush records the delivery of d at sentAt: the registration's
	// LastSent, and the queued message is deleted, unless a change joined
	// it since the claim (Version): then it stays queued with what that
	// change owes. A registration of a deleted collection (Gone) is
	// deleted instead: that was its last message. Nothing is done when d's
	// claim no longer holds (ErrPrecondition) or the registration was
	// deleted (ErrNotFound).
	FinishPush(ctx context.Context, d *PushDelivery, sentAt time.Time) error
	// RetryPush records a failed attempt of d: Attempts plus one, due
	// again at notBefore, lease ended. ErrPrecondition and ErrNotFound as
	// for FinishPush.
	RetryPush(ctx context.Context, d *PushDelivery, notBefore time.Time, lastErr string) error
	// DropPush deletes d's queued message, or with registration also d's
	// registration (the push service said it is gone), whatever its claim.
	// A message that a change joined since the claim (Version) is not
	// dropped without the registration: it stays queued, and when d's
	// claim still holds, due at once with no attempts counted, so that the
	// change that joined is still delivered. A registration of a deleted
	// collection (Gone) goes with its message whatever registration says.
	DropPush(ctx context.Context, d *PushDelivery, registration bool) error
	// PrunePush deletes registrations that expired at or before now, and
	// retired keys no registration is bound to, and returns how many
	// registrations it deleted.
	PrunePush(ctx context.Context, now time.Time) (int, error)
}

// --- Moving from another provider ----------------------------------------
//
// `rolodav migrate` and the pages' "Import from another provider" pull the
// collections of an account at another CardDAV/CalDAV server into a user's
// (package migrate). The store remembers, per source collection, which of
// the user's collections it goes into and the source's sync token after the
// last complete pass, so that the next run fetches only what changed; and a
// record of each run, which the progress page reads while it runs (from any
// process) and the activity page afterwards.

// MigrationSource is what is remembered of one source collection. It goes
// with the collection it names: deleting that collection deletes it.
type MigrationSource struct {
	Owner      string
	URL        string // the source collection's absolute URL, as discovered
	Collection int64  // the owner's collection its objects go into
	SyncToken  string // the source's sync token after the last complete pass; "" when none
	Updated    time.Time
}

// States of a Migration.
const (
	MigrationRunning     = "running"
	MigrationDone        = "done"        // it ended; objects may have been rejected (see Report)
	MigrationFailed      = "failed"      // an error stopped it (Error)
	MigrationInterrupted = "interrupted" // the process running it stopped (see Migration.StateAt)
)

// MigrationStale is how long a running migration may go without a
// Heartbeat before it counts as interrupted: its runner writes one at least
// every few seconds while it works.
const MigrationStale = 2 * time.Minute

// MigrationsKept is how many migrations per user the store keeps:
// StartMigration deletes older ones.
const MigrationsKept = 20

// MaxMigrationReport bounds Migration.Report, in bytes.
const MaxMigrationReport = 256 << 10

// Migration is one run of a migration from another provider.
type Migration struct {
	ID         int64
	Owner      string
	Source     string // the URL the user gave, without credentials
	SourceUser string // the login at the source
	Started    time.Time
	Heartbeat  time.Time // the runner's last sign of life
	Finished   time.Time // zero while running
	State      string    // one of the Migration* states
	// Report is package migrate's JSON: progress while it runs, the
	// summary when it ended. At most MaxMigrationReport bytes.
	Report []byte
	Error  string // why it failed; "" otherwise
}

// StateAt is m's state as of now: a running migration whose Heartbeat is
// more than MigrationStale before now was interrupted (its process died
// without saying so).
func (m *Migration) StateAt(now time.Time) string {
	if m.State == MigrationRunning && now.Sub(m.Heartbeat) > MigrationStale {
		return MigrationInterrupted
	}
	return m.State
}

// StoredReport returns m's Report as the drivers store it (never nil),
// or ErrTooLarge when it is over MaxMigrationReport.
func (m *Migration) StoredReport() ([]byte, error) {
	if len(m.Report) > MaxMigrationReport {
		return nil, fmt.Errorf("report of %d bytes, more than %d: %w", len(m.Report), MaxMigrationReport, ErrTooLarge)
	}
	if m.Report == nil {
		return []byte{}, nil
	}
	return m.Report, nil
}

// KnownState reports whether m.State is one of the Migration* states.
func (m *Migration) KnownState() bool {
	switch m.State {
	case MigrationRunning, MigrationDone, MigrationFailed, MigrationInterrupted:
		return true
	}
	return false
}

// Migrations are the records of migrations from another provider.
type Migrations interface {
	// GetMigrationSource returns owner's record of the source collection
	// at url; ErrNotFound when there is none.
	GetMigrationSource(ctx context.Context, owner, url string) (*MigrationSource, error)
	// PutMigrationSource creates or replaces the record of (s.Owner,
	// s.URL), setting s.Updated to now when zero. s.Collection must be a
	// collection of s.Owner (ErrNotFound otherwise).
	PutMigrationSource(ctx context.Context, s *MigrationSource) error
	// StartMigration records m (Owner, Source, SourceUser, Started) as
	// running, with Heartbeat = Started, and sets m.ID. A user runs one
	// migration at a time, across processes: when m.Owner has a running
	// migration whose Heartbeat is within MigrationStale of m.Started, it
	// stores nothing and returns ErrExists; an older running one is
	// marked MigrationInterrupted. It keeps the owner's MigrationsKept
	// newest migrations and deletes the rest. An unknown owner is
	// ErrNotFound; a Report over MaxMigrationReport is ErrTooLarge.
	StartMigration(ctx context.Context, m *Migration) error
	// UpdateMigration writes m's Heartbeat, Finished, State, Report and
	// Error to migration (m.Owner, m.ID), while it is running: when it
	// ended or was marked interrupted (by a StartMigration that found it
	// stale), it writes nothing and returns ErrPrecondition, so that a
	// runner that stalled past MigrationStale learns that its place was
	// taken. ErrNotFound when there is none. A Report over
	// MaxMigrationReport is ErrTooLarge.
	UpdateMigration(ctx context.Context, m *Migration) error
	// GetMigration returns owner's migration id; ErrNotFound when there
	// is none (another user's included).
	GetMigration(ctx context.Context, owner string, id int64) (*Migration, error)
	// ListMigrations returns owner's migrations, newest Started first, at
	// most limit (0 = all).
	ListMigrations(ctx context.Context, owner string, limit int) ([]Migration, error)
}

// --- Raw rows ------------------------------------------------------------
//
// `rolodav store copy` moves a whole store to another database, of either
// driver, as the rows of its tables (Tables), beneath the methods of
// Store: ids, sync sequence numbers and everything else stay as they are,
// so that sync tokens remain valid. Both drivers implement Rows; Store does
// not embed it, since only the copy asks for it.

// Rows is raw access to every table of Tables. A row is a []any of its
// table's values, in the order of its columns, each of the Go type of its
// column's Type.
type Rows interface {
	// SchemaVersion returns the newest migration applied.
	SchemaVersion(ctx context.Context) (int, error)
	// ReadRows calls fn with one consistent snapshot of every table, which
	// ends when fn returns. Writers (a server still running on the
	// database, say) wait until then, or fail if they cannot wait so long:
	// a write acknowledged during a copy would be missing from the copy.
	ReadRows(ctx context.Context, fn func(r RowReader) error) error
	// WriteRows calls fn in one transaction, committed when fn returns nil
	// and rolled back otherwise: all or nothing.
	WriteRows(ctx context.Context, fn func(w RowWriter) error) error
}

// RowReader reads the tables as one transaction sees them.
type RowReader interface {
	// Count returns how many rows table t has.
	Count(ctx context.Context, t *Table) (int64, error)
	// Scan yields t's rows in the order of t.Order(), each in a new slice.
	Scan(ctx context.Context, t *Table) RowSeq
	// Identities returns, for every table with an Identity column, the
	// highest id handed out so far (0 for none): at least its largest id,
	// more when the rows of later ids were deleted.
	Identities(ctx context.Context) (map[string]int64, error)
}

// RowWriter writes in the transaction of WriteRows, and reads it as it
// stands.
type RowWriter interface {
	RowReader
	// Empty deletes every row of every table. Ids handed out stay so: they
	// are not handed out again.
	Empty(ctx context.Context) error
	// Insert adds rows to table t as they are, ids included (none is
	// handed out again), and returns how many it added.
	Insert(ctx context.Context, t *Table, rows RowSeq) (int64, error)
	// RaiseIdentities makes sure that no id up to ids[table] is handed out
	// in table from then on (see Identities).
	RaiseIdentities(ctx context.Context, ids map[string]int64) error
}
