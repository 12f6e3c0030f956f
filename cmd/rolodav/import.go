package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

func importCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	loc := addStoreFlags(fs)
	quota := quotaFlag(fs)
	user := fs.String("user", "", "owner of the collection (login)")
	book := fs.String("book", "", "address book to import a .vcf into (default "+accounts.DefaultBook+")")
	calendar := fs.String("calendar", "", "calendar or task list to import an .ics into")
	same := fs.String("same-content", "skip", "a card or event whose content is already there under another UID: skip or keep")
	maxSize := fs.Int64("max-resource-size", imports.DefaultMaxObjectSize, "largest card or event imported, in bytes (as for serve)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *user == "" || len(pos) != 1 {
		return usageError{"usage: rolodav import --user LOGIN [--book NAME | --calendar NAME] FILE|-"}
	}
	if *book != "" && *calendar != "" {
		return usageError{"give --book or --calendar, not both"}
	}
	if *same != "skip" && *same != "keep" {
		return usageError{"--same-content must be skip or keep"}
	}
	name, in, closeIn, err := openInput(pos[0], stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	kind, collName := store.KindCard, *book
	if *calendar != "" {
		kind, collName = store.KindCal, *calendar
	} else if collName == "" {
		collName = accounts.DefaultBook
	}
	st, c, err := openCollection(ctx, loc, store.Options{QuotaPerUser: int64(*quota)}, *user, kind, collName)
	if err != nil {
		return err
	}
	defer st.Close()
	progress := newProgress(stderr)
	res, err := imports.Run(ctx, st, c, in, imports.Options{
		KeepSameContent: *same == "keep",
		MaxObjectSize:   *maxSize,
		Progress:        func(n int) { progress.step("importing", n) },
		OnProblem: func(p imports.Problem) {
			progress.done("") // the report goes on its own line, not after the counter
			at := fmt.Sprintf("%s:%d: ", name, p.Line)
			if p.Name != "" {
				at += p.Name + ": "
			}
			switch {
			case p.End:
				fmt.Fprintf(stderr, "%sstopped: %s\n", at, p.Msg)
			case p.Skipped:
				fmt.Fprintf(stderr, "%sskipped: %s (--same-content keep imports it anyway)\n", at, p.Msg)
			default:
				fmt.Fprintf(stderr, "%srejected: %s\n", at, p.Msg)
			}
		},
	})
	progress.done("")
	if err != nil {
		if res != nil && res.Added+res.Updated > 0 {
			return fmt.Errorf("%s: %w (added %d and updated %d before that; importing the file again adds none of them twice)",
				name, err, res.Added, res.Updated)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s: added %d, updated %d, skipped %d (already present), rejected %d%s\n",
		name, res.Added, res.Updated, res.Skipped, res.Rejected, foldedNote(res.Folded)+absorbedNote(res.Absorbed))
	if res.OverQuota > 0 {
		return fmt.Errorf("quota reached: %d of %d objects not imported (%s may store %s; see --quota-per-user)",
			res.OverQuota, res.Objects, c.Owner, quota)
	}
	if res.End != nil {
		return fmt.Errorf("%s could not be read past line %d (see above)", name, res.End.Line)
	}
	if res.Rejected > 0 {
		return fmt.Errorf("%d of them rejected (see above)", res.Rejected)
	}
	return nil
}

// foldedNote tells of the cards folded into the cards they were merged
// into (only when there were some: calendars never have any).
func foldedNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", folded 1 into the card it was merged into"
	}
	return fmt.Sprintf(", folded %d into the cards they were merged into", n)
}

// absorbedNote tells of the cards with the UID of a merged card: the
// merged card was kept rather than replaced by the file's copy.
func absorbedNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", kept 1 merged card and added what it lacked"
	}
	return fmt.Sprintf(", kept %d merged cards and added what they lacked", n)
}
