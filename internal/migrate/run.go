package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	plan, err := MakePlan(ctx, st, owner, src, opt)
	if err != nil {
		return sum, err
	}
	sum.Principal = plan.Principal
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
	im, err := imports.NewImporter(ctx, st, &r.Dest, imports.Options{
		MaxObjectSize: opt.MaxObjectSize,
		OnProblem: func(p imports.Problem) {
			if opt.OnProblem != nil {
				opt.OnProblem(&r.Planned, p)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("migrate: %s: %w", r.Dest.Name, err)
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
			im.Reject(f.Href, f.Err.Error())
			return nil
		}
		return im.Add(f.Data, f.Href)
	})
	r.Result = *im.Result()
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
