// Package store defines rolodav's persistence contract. Drivers (store/sqlite,
// later store/postgres) implement Store with identical semantics, checked by
// the conformance suite in store/storetest.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
)

// UIDConflictError reports that another object in the collection already has
// the UID being written (CARDDAV:no-uid-conflict / CALDAV:no-uid-conflict).
type UIDConflictError struct {
	UID  string
	Name string // the name of the object that holds the UID
}

func (e *UIDConflictError) Error() string {
	return fmt.Sprintf("uid %q already used by %q", e.UID, e.Name)
}

// User is an account. Login is usually an e-mail address.
type User struct {
	Login        string
	PasswordHash string // PHC-formatted argon2id hash, see package auth
	Created      time.Time
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

// Store is the persistence contract. Every method that writes runs in one
// transaction and has committed (durably) when it returns nil.
type Store interface {
	// Users.
	CreateUser(ctx context.Context, u *User) error // ErrExists
	GetUser(ctx context.Context, login string) (*User, error)
	ListUsers(ctx context.Context) ([]User, error)
	SetPasswordHash(ctx context.Context, login, hash string) error
	// DeleteUser removes the user and everything they own.
	DeleteUser(ctx context.Context, login string) error

	// Collections.
	CreateCollection(ctx context.Context, c *Collection) error // sets c.ID; ErrExists
	GetCollection(ctx context.Context, owner string, kind Kind, name string) (*Collection, error)
	ListCollections(ctx context.Context, owner string, kind Kind) ([]Collection, error)
	// UpdateCollection loads the collection, lets fn change its mutable fields
	// (DisplayName, Description, Color, Order, Components, Timezone, Props) and
	// saves them, all in one transaction. An error from fn aborts the update.
	UpdateCollection(ctx context.Context, id int64, fn func(c *Collection) error) error
	DeleteCollection(ctx context.Context, id int64) error

	// Objects.
	GetObject(ctx context.Context, coll int64, name string) (*Object, error)
	// GetObjects returns the named objects that exist, in no particular order.
	GetObjects(ctx context.Context, coll int64, names []string, withData bool) ([]Object, error)
	// ListObjects streams the collection's objects ordered by name.
	ListObjects(ctx context.Context, coll int64, withData bool, fn func(o *Object) error) error
	// ListObjectsInRange streams calendar objects whose span overlaps
	// [start, end); a zero bound is unbounded. Used for time-range queries.
	ListObjectsInRange(ctx context.Context, coll int64, component string, start, end time.Time, withData bool, fn func(o *Object) error) error
	// PutObject creates or replaces o.Name in o.Collection, appends a change
	// and returns whether it was created and the new ETag. It fails with
	// ErrPrecondition, or *UIDConflictError when another name holds o.UID.
	PutObject(ctx context.Context, o *Object, cond Conditions) (created bool, etag string, err error)
	DeleteObject(ctx context.Context, coll int64, name string, cond Conditions) error
	// MoveObject moves an object to another (or the same) collection of the
	// same owner under newName. With overwrite false an existing target is
	// ErrPrecondition. Both collections get a change. Returns whether the
	// target was created (as opposed to replaced).
	MoveObject(ctx context.Context, from int64, name string, to int64, newName string, overwrite bool, cond Conditions) (created bool, err error)

	// ChangesSince streams, in ascending Seq order, the latest change of each
	// name changed after seq, at most limit names (0 = no limit). It returns
	// the sequence number to use as the next sync point: the collection's
	// current one, or that of the last change streamed when truncated.
	// A seq older than the retained log or newer than the collection's
	// current one is ErrInvalidSyncToken. Seq 0 means an initial sync: every
	// existing object is streamed, deletions are not.
	ChangesSince(ctx context.Context, coll int64, seq int64, limit int, withData bool, fn func(c *Change) error) (next int64, truncated bool, err error)

	Close() error
}

// ETag is the entity tag of an object's data: the hex of the first 16 bytes
// of its SHA-256. Every driver uses it, so equal content has equal ETags
// whichever engine stores it.
func ETag(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
