// Package migrate brings the address books, calendars and task lists of
// an account at another CardDAV/CalDAV server into a user's: it discovers
// the source account, maps each source collection onto one of the user's
// (made when missing), and adds each object through package imports, so
// that the rules of an import hold (same UID: update or skip; same content
// under another UID: skip; a card merged away here is folded, not brought
// back). The source's sync tokens are kept per source collection, so that
// the next run fetches only what changed. The command line (`rolodav
// migrate`) and the pages both use it.
package migrate

import (
	"context"
	"time"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// Store is what a migration needs of the store.
type Store interface {
	merges.Store
	CreateCollection(ctx context.Context, c *store.Collection) error
	GetCollection(ctx context.Context, owner string, kind store.Kind, name string) (*store.Collection, error)
	ListCollections(ctx context.Context, owner string, kind store.Kind) ([]store.Collection, error)
	GetUser(ctx context.Context, login string) (*store.User, error)
	store.Migrations
}

// Values of Options.Only.
const (
	OnlyContacts  = "contacts"
	OnlyCalendars = "calendars"
)

// Options are one migration's.
type Options struct {
	SourceOptions
	// Only limits it to address books (OnlyContacts) or to calendars and
	// task lists (OnlyCalendars); "" brings both.
	Only string
	// Map maps source collections onto the user's by name: the key is a
	// source collection's last path segment or its display name, the
	// value the name of the user's collection (of the same kind). Source
	// collections not named here go to the collection a previous run
	// chose, else the default onto the default (see Plan), else to a
	// collection of the same name, made when missing.
	Map map[string]string
	// DryRun plans and counts, and writes nothing.
	DryRun bool
	// OnPlan, when set, is told of the plan once it is made, before any
	// collection is made or object read (Track shows it as it runs).
	OnPlan func(*Plan)
	// Progress, when set, is told of each object read from the source.
	Progress func(Progress)
	// OnProblem, when set, is told of each object rejected or skipped as
	// it happens.
	OnProblem func(c *Planned, p imports.Problem)
}

// Progress is how far a migration got.
type Progress struct {
	Collection int    // index into Plan.Collections
	Name       string // the source collection's display name (else its name)
	Done       int    // objects read from the source so far in this collection
}

// Planned is one source collection and where it goes.
type Planned struct {
	Source SourceCollection
	// Dest is the user's collection it goes into: existing, or to be
	// made (Create) with the source's name, display name, description,
	// colour and components.
	Dest   store.Collection
	Create bool
	// Why says how Dest was chosen: "--map", "previous run", "default",
	// "same name", "new".
	Why string
	// Remembered is what the previous run kept of this source collection
	// (its sync token), nil when none.
	Remembered *store.MigrationSource
	// Routes send the objects whose component Dest does not take to the
	// user's default collection that takes it (component → collection):
	// a source calendar that takes events and tasks goes to the user's
	// calendar, and its tasks to the user's task list.
	Routes map[string]store.Collection
}

// Plan is what a migration will do.
type Plan struct {
	Principal   string // the source account's principal URL
	Collections []Planned
}

// CollectionResult is what became of one source collection.
type CollectionResult struct {
	Planned
	imports.Result
	// Before is how many objects Dest had before this run.
	Before int64
	// Incremental says that only changes since the previous run were
	// fetched (the source's sync token was still valid).
	Incremental bool
	// DeletedAtSource counts objects the source deleted since the
	// previous run; they are kept here.
	DeletedAtSource int
	// Unreadable counts objects the source listed but did not give.
	Unreadable int
	// Routed counts, per name of a collection of Planned.Routes, the
	// objects that went there (they are in the counts above too).
	Routed map[string]int
	// DryRunCount is, for a dry run, how many objects the source has.
	DryRunCount int
}

// Summary is what a migration did.
type Summary struct {
	Principal   string
	Started     time.Time
	Finished    time.Time
	DryRun      bool
	Collections []CollectionResult
}

// OfferDuplicates reports whether a collection result added cards to an
// address book that had some before: the duplicates page is worth a look.
func (r *CollectionResult) OfferDuplicates() bool {
	return r.Dest.Kind == store.KindCard && r.Before > 0 && r.Added > 0
}
