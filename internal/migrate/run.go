package migrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// Run migrates the account opt names into owner's collections: it opens
// the source, plans (MakePlan), makes the collections to be made, and
// adds every object through package imports, one source collection after
// the other, keeping each one's sync token once its pass is complete.
// A *SourceError says what is wrong with the source; the Summary then
// counts what was done before it.
func Run(ctx context.Context, st Store, owner string, opt Options) (*Summary, error) {
	sum := &Summary{Started: time.Now(), DryRun: opt.DryRun}
	defer func() { sum.Finished = time.Now() }()
	if _, err := st.GetUser(ctx, owner); err != nil {
		return sum, fmt.Errorf("migrate: user %s: %w", owner, err)
	}
	src, err := Open(ctx, opt.SourceOptions)
	if err != nil {
		return sum, err
	}
	defer src.Close()
	plan, err := MakePlan(ctx, st, owner, src, opt)
	if err != nil {
		return sum, err
	}
	sum.Principal = plan.Principal
	if opt.OnPlan != nil {
		opt.OnPlan(plan)
	}
	sum.Collections = make([]CollectionResult, 0, len(plan.Collections))
	for i, p := range plan.Collections {
		sum.Collections = append(sum.Collections, CollectionResult{Planned: p})
		if err := migrateCollection(ctx, st, src, i, &sum.Collections[i], opt); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// migrateCollection brings the objects of one planned source collection
// into its destination, making it first when it is to be made.
func migrateCollection(ctx context.Context, st Store, src *Source, i int, r *CollectionResult, opt Options) error {
	if opt.DryRun {
		n, err := src.Count(ctx, &r.Source)
		r.DryRunCount = n
		return err
	}
	if r.Create {
		err := st.CreateCollection(ctx, &r.Dest)
		if errors.Is(err, store.ErrExists) {
			// Made meanwhile by a client or by another run: use it.
			var c *store.Collection
			if c, err = st.GetCollection(ctx, r.Dest.Owner, r.Dest.Kind, r.Dest.Name); err == nil {
				r.Dest, r.Create, r.Why = *c, false, WhySameName
			}
		}
		if err != nil {
			return fmt.Errorf("migrate: create %s: %w", r.Dest.Name, err)
		}
	}
	r.Before = r.Dest.Count
	iopt := imports.Options{
		MaxObjectSize: opt.MaxObjectSize,
		OnProblem: func(p imports.Problem) {
			if opt.OnProblem != nil {
				opt.OnProblem(&r.Planned, p)
			}
		},
	}
	// Importers read what their collection holds when made, so they are
	// made when the first object comes: a run that brings no change
	// reads nothing here. importers[r.Dest.Name] is Dest's; the others
	// are those of r.Routes.
	importers := map[string]*imports.Importer{}
	importer := func(c *store.Collection) (*imports.Importer, error) {
		if im, ok := importers[c.Name]; ok {
			return im, nil
		}
		im, err := imports.NewImporter(ctx, st, c, iopt)
		if err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", c.Name, err)
		}
		importers[c.Name] = im
		return im, nil
	}
	importerFor := func(data []byte) (*imports.Importer, error) {
		if r.Dest.Kind != store.KindCal || len(r.Dest.Components) == 0 {
			return importer(&r.Dest)
		}
		comp := mainComponent(data)
		if comp == "" || slices.Contains(r.Dest.Components, comp) {
			return importer(&r.Dest)
		}
		to, ok := r.Routes[comp]
		if !ok {
			// The user has no collection for it: make one, as a client
			// would ("tasks" for tasks, "journal" for journal entries).
			c, err := collectionFor(ctx, st, r.Dest.Owner, comp)
			if err != nil {
				return nil, err
			}
			if r.Routes == nil {
				r.Routes = map[string]store.Collection{}
			}
			r.Routes[comp], to = *c, *c
		}
		return importer(&to)
	}
	token := ""
	if m := r.Remembered; m != nil && m.Collection == r.Dest.ID {
		token = m.SyncToken
	}
	done := 0
	next, full, err := src.Objects(ctx, &r.Source, token, func(f *Fetched) error {
		done++
		if opt.Progress != nil {
			opt.Progress(Progress{Collection: i, Name: r.Source.label(), Done: done})
		}
		switch {
		case f.Deleted:
			r.DeletedAtSource++
			return nil
		case f.Err != nil:
			r.Unreadable++
			im, err := importer(&r.Dest)
			if err != nil {
				return err
			}
			im.Reject(f.Href, f.Err.Error())
			return nil
		}
		data := f.Data
		if r.Dest.Kind == store.KindCard && !hasUID(data) {
			// A UID of its own would be new on every run, so that the
			// card, once changed at the source, would come again as
			// another: its UID is made of where it is at the source.
			data = contacts.AddUID(data, sourceUID(r.Source.URL, f.Href))
		}
		to, err := importerFor(data)
		if err != nil {
			return err
		}
		return to.Add(data, f.Href)
	})
	if im, ok := importers[r.Dest.Name]; ok {
		r.Result = *im.Result()
	}
	for name, ri := range importers {
		if name == r.Dest.Name {
			continue
		}
		if r.Routed == nil {
			r.Routed = map[string]int{}
		}
		res := ri.Result()
		r.Routed[name] = res.Objects
		r.Added += res.Added
		r.Updated += res.Updated
		r.Skipped += res.Skipped
		r.Rejected += res.Rejected
		r.OverQuota += res.OverQuota
		r.Folded += res.Folded
		r.Absorbed += res.Absorbed
		r.Objects += res.Objects
		r.Problems = append(r.Problems, res.Problems...)
		r.MoreProblems += res.MoreProblems
	}
	r.Incremental = token != "" && !full
	if err != nil {
		return err
	}
	// A pass that left objects behind (the quota, or objects the source
	// would not give) keeps no token, so that the next run lists
	// everything again and brings them.
	if r.OverQuota > 0 || r.Unreadable > 0 {
		next = ""
	}
	err = st.PutMigrationSource(ctx, &store.MigrationSource{
		Owner: r.Dest.Owner, URL: r.Source.URL, Collection: r.Dest.ID, SyncToken: next,
	})
	if err != nil {
		return fmt.Errorf("migrate: remember %s: %w", r.Source.URL, err)
	}
	return nil
}

// label names c for a person: its display name, else its name.
func (c *SourceCollection) label() string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return c.Name
}

// mainComponent is the first component of an iCalendar object that is not
// the VCALENDAR, a time zone or an alarm: "VEVENT", "VTODO"… ("" when
// there is none). It only looks; validation is imports'.
func mainComponent(data []byte) string {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) < 7 || !bytes.EqualFold(line[:6], []byte("BEGIN:")) {
			continue
		}
		switch comp := strings.ToUpper(string(bytes.TrimSpace(line[6:]))); comp {
		case "VCALENDAR", "VTIMEZONE", "STANDARD", "DAYLIGHT", "VALARM":
		default:
			return comp
		}
	}
	return ""
}

// hasUID reports whether card data has a UID property (maybe in a group:
// "item1.UID").
func hasUID(data []byte) bool {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if i := bytes.IndexAny(line, ":;"); i >= 0 {
			name := line[:i]
			if j := bytes.LastIndexByte(name, '.'); j >= 0 {
				name = name[j+1:]
			}
			if bytes.EqualFold(name, []byte("UID")) {
				return true
			}
		}
	}
	return false
}

// sourceUID is the UID given to a card the source serves without one: the
// same for the same source object on every run.
func sourceUID(collection, href string) string {
	sum := sha256.Sum256([]byte(collection + "\x00" + href))
	return "migrated-" + hex.EncodeToString(sum[:16])
}

// collectionFor returns owner's calendar for component comp, made when
// there is none: "calendar" for events, "tasks" for tasks, "journal" for
// journal entries, holding only comp; a name taken by a calendar for
// other components gets a number.
func collectionFor(ctx context.Context, st Store, owner, comp string) (*store.Collection, error) {
	base, display := strings.ToLower(strings.TrimPrefix(comp, "V")), comp
	switch comp {
	case calendars.VEVENT:
		base, display = "calendar", "Calendar"
	case calendars.VTODO:
		base, display = "tasks", "Tasks"
	case calendars.VJOURNAL:
		base, display = "journal", "Journal"
	}
	for n := 1; n <= 100; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		c, err := st.GetCollection(ctx, owner, store.KindCal, name)
		if err == nil {
			if len(c.Components) == 0 || slices.Contains(c.Components, comp) {
				return c, nil
			}
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("migrate: calendar %s: %w", name, err)
		}
		c = &store.Collection{Owner: owner, Kind: store.KindCal, Name: name, DisplayName: display, Components: []string{comp}}
		if err := st.CreateCollection(ctx, c); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, fmt.Errorf("migrate: create %s: %w", name, err)
		} else if err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("migrate: no name left for a calendar of %s", comp)
}
