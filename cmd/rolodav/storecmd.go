package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/rolodav/rolodav/internal/duration"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/database"
	"github.com/rolodav/rolodav/internal/storecopy"
)

const storeUsage = `usage: rolodav store copy --from URL --to URL [--replace]

copy moves everything a store holds to another database, of either kind:
users and their settings, app passwords, sessions, sign-in activity,
address books and calendars with their properties, cards and events, the
change log (sync tokens stay valid: clients do not sync again from
scratch), merges and hidden groups, push registrations and the server's
keys (the VAPID key: phones keep getting messages). URLs are sqlite:PATH
(a database file, or a data directory holding rolodav.db) or
postgres://USER:PASSWORD@HOST/DB.
The copy reads one snapshot of the source: stop the servers first, or what
they write meanwhile is not copied. The target must be empty, unless
--replace is given; one that already holds exactly the source's rows is
left as it is, so that running the copy twice changes nothing.`

func storeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{storeUsage}
	}
	if args[0] != "copy" {
		return usageError{fmt.Sprintf("unknown store command %q\n%s", args[0], storeUsage)}
	}
	fs := newFlags("store copy", stderr)
	from := fs.String("from", "", "the database to copy: sqlite:PATH or postgres://…")
	to := fs.String("to", "", "the database to copy into: sqlite:PATH (created if needed) or postgres://…")
	replace := fs.Bool("replace", false, "replace what the target holds (in the same transaction as the copy)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q\n%s", pos[0], storeUsage)}
	}
	if *from == "" || *to == "" {
		return usageError{"store copy needs --from and --to, as in\n" +
			"  rolodav store copy --from sqlite:./rolodav-data --to postgres://rolodav:PASSWORD@db.example.org/rolodav"}
	}
	fromKind, fromPath, err := database.Parse(*from)
	if err != nil {
		return usageError{"--from: " + err.Error()}
	}
	toKind, toPath, err := database.Parse(*to)
	if err != nil {
		return usageError{"--to: " + err.Error()}
	}
	// Opening an SQLite path creates a database: a mistyped source
	// would be an empty one.
	if fromKind == database.SQLite {
		if _, err := os.Stat(fromPath); err != nil {
			return usageError{fmt.Sprintf("--from: there is no SQLite database at %s", fromPath)}
		}
	}
	if sameDatabase(fromKind, fromPath, toKind, toPath) {
		return usageError{"--from and --to are the same database"}
	}
	fromName, toName := database.Redact(*from), database.Redact(*to)

	src, err := openRows(ctx, *from)
	if err != nil {
		return fmt.Errorf("--from %s: %w", fromName, err)
	}
	defer src.Close()
	dst, err := openRows(ctx, *to)
	if err != nil {
		return fmt.Errorf("--to %s: %w", toName, err)
	}
	defer dst.Close()

	fmt.Fprintf(stderr, "copying %s to %s\n", fromName, toName)
	show := newCopyProgress(stderr)
	began := time.Now()
	res, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Replace: *replace}, show.event)
	show.done()
	var ne *storecopy.NotEmptyError
	if errors.As(err, &ne) {
		return fmt.Errorf("%s is not empty: it holds %s, which are not the rows of %s.\n"+
			"Nothing was changed; --replace replaces what it holds", toName, describeCounts(ne.Holds), fromName)
	}
	if err != nil {
		return fmt.Errorf("nothing was copied: %w", err)
	}
	if res.Unchanged {
		fmt.Fprintf(stdout, "%s already holds exactly the %s of %s: nothing to do.\n", toName, rows(res.Rows()), fromName)
		return nil
	}
	if res.Replaced != nil {
		fmt.Fprintf(stdout, "Replaced what %s held: %s.\n", toName, describeCounts(res.Replaced))
	}
	fmt.Fprintf(stdout, "Copied %s from %s to %s (schema version %d) in %s:\n",
		rows(res.Rows()), fromName, toName, res.Version, duration.Words(time.Since(began)))
	for _, c := range res.Counts {
		fmt.Fprintf(stdout, "  %-17s %9d\n", c.Table, c.Rows)
	}
	if res.Cleaned > 0 {
		fmt.Fprintf(stdout, "%d text values (such as a device's name from an older version) were not UTF-8 or held NUL: they were copied with those bytes replaced.\n", res.Cleaned)
	}
	fmt.Fprintf(stdout, "Verified: the target holds the same rows in every table, and each of its %d objects the ETag of its data.\n", res.ETags)
	return nil
}

// rowStore is a store that gives its rows, as both drivers do.
type rowStore interface {
	store.Rows
	Close() error
}

func openRows(ctx context.Context, url string) (rowStore, error) {
	st, err := database.Open(ctx, url, store.Options{})
	if err != nil {
		return nil, err
	}
	rs, ok := st.(rowStore)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("the %T driver cannot copy rows", st)
	}
	return rs, nil
}

// sameDatabase reports whether two parsed URLs name one database, as far
// as their text tells.
func sameDatabase(fromKind, fromPath, toKind, toPath string) bool {
	if fromKind != toKind {
		return false
	}
	if fromKind == database.SQLite {
		a, errA := os.Stat(fromPath)
		b, errB := os.Stat(toPath)
		return errA == nil && errB == nil && os.SameFile(a, b)
	}
	a, errA := url.Parse(fromPath)
	b, errB := url.Parse(toPath)
	return errA == nil && errB == nil && a.Host == b.Host && a.Path == b.Path
}

func describeCounts(cs []storecopy.Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = rows(c.Rows) + " in " + c.Table
	}
	return strings.Join(parts, ", ")
}

func rows(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// copyProgress shows a copy's progress: a bar per table on a terminal,
// a line per table elsewhere (logs).
type copyProgress struct {
	w            io.Writer
	tty          bool
	bar          *progressbar.ProgressBar
	phase, table string
	ended        bool // the line of the table's end was written
}

func newCopyProgress(w io.Writer) *copyProgress {
	f, ok := w.(*os.File)
	return &copyProgress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *copyProgress) event(e storecopy.Event) {
	if e.Phase != p.phase || e.Table != p.table {
		if !p.tty && e.Phase != p.phase {
			switch e.Phase {
			case storecopy.PhaseCompare:
				fmt.Fprintln(p.w, "the target is not empty: comparing its rows with the source's")
			case storecopy.PhaseVerify:
				fmt.Fprintln(p.w, "verifying the target")
			}
		}
		p.done()
		p.phase, p.table, p.ended = e.Phase, e.Table, false
		if p.tty && e.Total > 0 {
			p.bar = progressbar.NewOptions64(e.Total,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetDescription(fmt.Sprintf("%-7s %-17s", e.Phase, e.Table)),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish())
		}
	}
	if p.bar != nil {
		p.bar.Set64(e.Done)
	}
	if !p.tty && !p.ended && e.Phase == storecopy.PhaseCopy && e.Done == e.Total && e.Total > 0 {
		fmt.Fprintf(p.w, "copied %s: %s\n", e.Table, rows(e.Total))
		p.ended = true
	}
}

// done ends the current bar.
func (p *copyProgress) done() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
