package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/duration"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/migrate"
	"github.com/rolodav/rolodav/internal/store"
)

// mapFlags collects repeated --map SRC=DST flags.
type mapFlags map[string]string

func (m mapFlags) String() string { return "" }

func (m mapFlags) Set(v string) error {
	src, dst, ok := strings.Cut(v, "=")
	if !ok || src == "" || dst == "" {
		return fmt.Errorf("want SRC=DST (a source collection's name = one of yours), not %q", v)
	}
	if _, dup := m[src]; dup {
		return fmt.Errorf("%s is mapped twice", src)
	}
	m[src] = dst
	return nil
}

func migrateCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	loc := addStoreFlags(fs)
	quota := quotaFlag(fs)
	user := fs.String("user", "", "the user here whose collections receive the objects (login)")
	from := fs.String("from", "", "the other provider: its server URL (https://host/), or a principal, home or collection URL")
	fromUser := fs.String("from-user", "", "the login at the other provider")
	pwStdin := fs.Bool("password-stdin", false, "read the other provider's password from standard input (first line)")
	insecure := fs.Bool("insecure", false, "accept any TLS certificate of the other provider (a test server's self-signed one)")
	only := fs.String("only", "", "bring only contacts or only calendars (and task lists)")
	dryRun := fs.Bool("dry-run", false, "show what would be made and how many objects each collection has; write nothing")
	maxSize := fs.Int64("max-resource-size", imports.DefaultMaxObjectSize, "largest card or event brought over, in bytes (as for serve)")
	mapped := mapFlags{}
	fs.Var(mapped, "map", "SRC=DST: bring the source collection SRC (its URL's last segment or its display name) into your collection DST (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *user == "" || *from == "" || *fromUser == "" || len(pos) != 0 {
		return usageError{"usage: rolodav migrate --user LOGIN --from URL --from-user LOGIN [--password-stdin] [--map SRC=DST]… [--only contacts|calendars] [--dry-run] [--insecure]"}
	}
	if *only != "" && *only != migrate.OnlyContacts && *only != migrate.OnlyCalendars {
		return usageError{"--only must be contacts or calendars"}
	}
	login, err := auth.NormalizeLogin(*user)
	if err != nil {
		return usageError{err.Error()}
	}
	password, err := readSourcePassword(bufio.NewReader(stdin), stderr, *pwStdin, *fromUser)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, loc, store.Options{QuotaPerUser: int64(*quota)})
	if err != nil {
		return err
	}
	defer st.Close()
	bars := newMigrateProgress(stderr)
	opt := migrate.Options{
		SourceOptions: migrate.SourceOptions{URL: *from, User: *fromUser, Password: password,
			Insecure: *insecure, AllowPrivate: true, MaxObjectSize: *maxSize},
		Only:   *only,
		Map:    mapped,
		DryRun: *dryRun,
		Progress: func(p migrate.Progress) {
			bars.step(p)
		},
		OnProblem: func(c *migrate.Planned, p imports.Problem) {
			bars.clear()
			what := "rejected"
			if p.Skipped {
				what = "skipped"
			}
			where := p.Ref
			if p.Line > 1 {
				where = fmt.Sprintf("%s, line %d", p.Ref, p.Line)
			}
			fmt.Fprintf(stderr, "%s: %s: %s\n", where, what, p.Msg)
		},
	}
	var sum *migrate.Summary
	if *dryRun {
		sum, err = migrate.Run(ctx, st, login, opt)
	} else {
		// Recorded like the pages' runs: the activity page lists it, and
		// the user gets the confirmation mail (sent by serve's mailer).
		var t *migrate.Tracked
		if t, err = migrate.Track(ctx, st, login, opt); errors.Is(err, migrate.ErrRunning) {
			return fmt.Errorf("%w (one whose process died counts as interrupted %s after its last sign of life)",
				err, duration.Words(store.MigrationStale))
		} else if err != nil {
			return err
		}
		sum, err = t.Run(ctx)
	}
	bars.finish()
	if sum != nil && (err == nil || len(sum.Collections) > 0) {
		printMigration(stdout, login, sum)
	}
	if err != nil {
		var se *migrate.SourceError
		var me *migrate.MapError
		switch {
		case errors.As(err, &se):
			return errors.New(se.Error())
		case errors.As(err, &me):
			return usageError{me.Error()}
		}
		return err
	}
	rejected := 0
	for _, c := range sum.Collections {
		rejected += c.Rejected
		if c.OverQuota > 0 {
			return fmt.Errorf("quota reached: %d objects of %s not brought over (%s may store %s; see --quota-per-user)",
				c.OverQuota, c.Source.URL, login, quota)
		}
	}
	if rejected > 0 {
		return fmt.Errorf("%d objects rejected (see above); the rest is here", rejected)
	}
	return nil
}

// readSourcePassword reads the other provider's password: from standard
// input with --password-stdin, else at a prompt on the terminal.
func readSourcePassword(in *bufio.Reader, stderr io.Writer, fromStdin bool, fromUser string) (string, error) {
	fd := int(os.Stdin.Fd())
	if !fromStdin {
		if !term.IsTerminal(fd) {
			return "", usageError{"give the other provider's password on standard input with --password-stdin"}
		}
		fmt.Fprintf(stderr, "Password of %s at the other provider: ", fromUser)
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		return string(pw), err
	}
	line, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", usageError{"--password-stdin: no password on standard input"}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// printMigration writes a line per source collection: where it went and
// what became of its objects.
func printMigration(w io.Writer, login string, sum *migrate.Summary) {
	if len(sum.Collections) == 0 {
		fmt.Fprintln(w, "the other provider has no address book or calendar to bring over")
		return
	}
	for _, c := range sum.Collections {
		kind := "address book"
		if c.Dest.Kind == store.KindCal {
			kind = "calendar"
		}
		name := c.Source.DisplayName
		if name == "" {
			name = c.Source.Name
		}
		dest := fmt.Sprintf("%s %q", kind, c.Dest.Name)
		switch {
		case c.Create && sum.DryRun:
			dest += " (would be made)"
		case c.Create:
			dest += " (made)"
		case c.Why != migrate.WhyNew:
			dest += " (" + c.Why + ")"
		}
		if sum.DryRun {
			fmt.Fprintf(w, "%s → %s: %d objects\n", name, dest, c.DryRunCount)
			continue
		}
		var extra []string
		if c.Folded > 0 {
			extra = append(extra, fmt.Sprintf("%d folded into the cards they were merged into", c.Folded))
		}
		if c.Absorbed > 0 {
			extra = append(extra, fmt.Sprintf("%d taken into merged cards", c.Absorbed))
		}
		for _, to := range slices.Sorted(maps.Keys(c.Routed)) {
			extra = append(extra, fmt.Sprintf("%d of them to %q, which takes their component", c.Routed[to], to))
		}
		if c.DeletedAtSource > 0 {
			extra = append(extra, fmt.Sprintf("%d deleted at the other provider (kept here)", c.DeletedAtSource))
		}
		if c.Incremental {
			extra = append(extra, "only the changes since the last run")
		}
		note := ""
		if len(extra) > 0 {
			note = "; " + strings.Join(extra, "; ")
		}
		fmt.Fprintf(w, "%s → %s: added %d, updated %d, skipped %d (already here), rejected %d%s\n",
			name, dest, c.Added, c.Updated, c.Skipped, c.Rejected, note)
	}
	for _, c := range sum.Collections {
		if c.OfferDuplicates() {
			fmt.Fprintf(w, "%q had %d cards before: look for duplicates with\n  rolodav duplicates list --user %s --book %s\nor on the duplicates page.\n",
				c.Dest.Name, c.Before, login, c.Dest.Name)
		}
	}
}

// migrateProgress shows a spinner with a count per collection on a
// terminal, and nothing elsewhere (the summary says it all).
type migrateProgress struct {
	w    io.Writer
	tty  bool
	bar  *progressbar.ProgressBar
	coll int
}

func newMigrateProgress(w io.Writer) *migrateProgress {
	f, ok := w.(*os.File)
	return &migrateProgress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), coll: -1}
}

func (p *migrateProgress) step(e migrate.Progress) {
	if !p.tty {
		return
	}
	if e.Collection != p.coll || p.bar == nil {
		p.finish()
		p.coll = e.Collection
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(e.Name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("objects"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	p.bar.Set(e.Done)
}

// clear takes the bar off its line so that a message can be written.
func (p *migrateProgress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *migrateProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
