package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

const duplicatesUsage = `usage:
  rolodav duplicates find  [--region CC] [--format text|json] FILE.vcf|-
  rolodav duplicates list  --user U [--book B] [--region CC] [--format text|json]
  rolodav duplicates merge --user U [--book B] (--group ID [--reference UID] | --auto) [--dry-run]
  rolodav duplicates hide  --user U [--book B] --group ID
  rolodav duplicates undo  --user U [--book B] (--merge ID [--force] | --batch TOKEN)`

func duplicatesCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{duplicatesUsage}
	}
	switch args[0] {
	case "find":
		return findCmd(ctx, args[1:], stdin, stdout, stderr)
	case "list", "merge", "hide", "undo":
		return bookDuplicatesCmd(ctx, args[0], args[1:], stdout, stderr)
	}
	return usageError{duplicatesUsage}
}

// bookDuplicatesCmd works on an address book in the store.
func bookDuplicatesCmd(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("duplicates "+verb, stderr)
	loc := addStoreFlags(fs)
	quota := quotaFlag(fs)
	user := fs.String("user", "", "owner of the address book (login)")
	book := fs.String("book", accounts.DefaultBook, "address book name")
	region := fs.String("region", "", "default country for phone numbers without one, e.g. DE (default: the user's setting on the duplicates page)")
	format := fs.String("format", "text", "list output: text or json")
	group := fs.String("group", "", "group ID (from list)")
	ref := fs.String("reference", "", "UID of the card to keep (default: the one with the most information)")
	auto := fs.Bool("auto", false, "merge every group of the auto band")
	dry := fs.Bool("dry-run", false, "show what a merge would do; change nothing")
	mergeID := fs.Int64("merge", 0, "merge ID to undo (from merge's output)")
	batch := fs.String("batch", "", "undo every merge of one merge --auto (its batch, from merge's output)")
	force := fs.Bool("force", false, "undo even though the surviving card was edited or deleted after the merge (that change is lost)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return usageError{"--user is required\n" + duplicatesUsage}
	}
	switch {
	case verb == "merge" && (*group == "") == !*auto:
		return usageError{"merge needs --group ID or --auto (not both)"}
	case verb == "merge" && *auto && *ref != "":
		return usageError{"--reference is for --group: --auto keeps the card with the most information of each group"}
	case verb == "hide" && *group == "":
		return usageError{"hide needs --group ID"}
	case verb == "undo" && (*mergeID <= 0) == (*batch == ""):
		return usageError{"undo needs --merge ID or --batch TOKEN (not both)"}
	case verb == "undo" && *batch != "" && *force:
		return usageError{"--force is for --merge: undo a batch's refused merge on its own"}
	case *format != "text" && *format != "json":
		return usageError{"--format must be text or json"}
	}
	// An explicit --region wins over the user's setting, for this run.
	r, err := regionFlag(*region)
	if err != nil {
		return err
	}
	st, c, err := openCollection(ctx, loc, store.Options{QuotaPerUser: int64(*quota)}, *user, store.KindCard, *book)
	if err != nil {
		return err
	}
	defer st.Close()
	if verb == "undo" && *batch != "" {
		undone, err := merges.UndoBatch(ctx, st, c, *batch)
		if err != nil {
			return fmt.Errorf("undo batch %s: %w", *batch, err)
		}
		fmt.Fprintf(stdout, "undid the %d merges of batch %s: the original cards are back\n", len(undone), *batch)
		return nil
	}
	if verb == "undo" {
		if err := merges.Undo(ctx, st, c, *mergeID, *force); err != nil {
			return fmt.Errorf("undo merge %d: %w", *mergeID, err)
		}
		fmt.Fprintf(stdout, "undid merge %d: the original cards are back\n", *mergeID)
		return nil
	}
	if r == "" {
		u, err := st.GetUser(ctx, c.Owner)
		if err != nil {
			return fmt.Errorf("reading the settings of %s: %w", c.Owner, err)
		}
		r = merges.Region(u, "")
	}
	progress := newProgress(stderr)
	progress.done(fmt.Sprintf("comparing the %d cards of %s", c.Count, c.Name))
	b, err := merges.Load(ctx, st, c, r)
	progress.done("")
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		return printGroups(stdout, *format, b.Cards(), b.Groups(), func(uid string) string { return merges.CardName(b.Card(uid)) })
	case "hide":
		if err := b.Hide(ctx, *group); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "group %s hidden: it will not be proposed again\n", *group)
		return nil
	}
	name := func(uid string) string { return merges.CardName(b.Card(uid)) }
	if !*auto {
		if *dry {
			plan, err := b.Plan(*group, *ref)
			if err != nil {
				return err
			}
			printPlan(stdout, plan, name)
			fmt.Fprintln(stdout, "dry run: nothing changed")
			return nil
		}
		o, err := b.Merge(ctx, merges.Request{Group: *group, Reference: *ref}, time.Now())
		if err != nil {
			return fmt.Errorf("merge group %s: %w", *group, err)
		}
		printOutcome(stdout, c, o, name)
		return nil
	}
	batchID := merges.NewBatch()
	outs, err := b.MergeAuto(ctx, batchID, time.Now(), *dry)
	skipped := 0
	for i := range outs {
		o := &outs[i]
		switch {
		case o.Skipped != nil:
			skipped++
			fmt.Fprintf(stdout, "group %s skipped: %v\n", o.Group.ID, o.Skipped)
		case *dry:
			printPlan(stdout, o.Plan, name)
		default:
			printOutcome(stdout, c, o, name)
		}
	}
	if !*dry && len(outs) > skipped {
		// Also when stopped: the merges made stand, as one batch.
		fmt.Fprintf(stdout, "merged %d of %d groups of the auto band\n", len(outs)-skipped, len(outs))
		fmt.Fprintf(stdout, "undo them all with: rolodav duplicates undo --user %s --book %s --batch %s\n", c.Owner, c.Name, batchID)
	}
	if err != nil {
		return fmt.Errorf("stopped after %d of the auto groups: %w", len(outs), err)
	}
	if *dry {
		fmt.Fprintf(stdout, "dry run: nothing changed (%d groups of the auto band)\n", len(outs))
		return nil
	}
	if len(outs) == skipped {
		fmt.Fprintf(stdout, "merged 0 of %d groups of the auto band\n", len(outs))
	}
	if skipped > 0 {
		return fmt.Errorf("%d groups not merged (see above); list the duplicates again to review them", skipped)
	}
	return nil
}

// printOutcome says what a merge did, and how to undo it.
func printOutcome(w io.Writer, c *store.Collection, o *merges.Outcome, name func(string) string) {
	printPlan(w, o.Plan, name)
	fmt.Fprintf(w, "merged %d cards into %s (merge %d; undo with: rolodav duplicates undo --user %s --book %s --merge %d)\n",
		len(o.Merge.Removed)+1, o.Merge.Reference, o.Merge.ID, c.Owner, c.Name, o.Merge.ID)
}

func printPlan(w io.Writer, p *dedup.Plan, name func(string) string) {
	fmt.Fprintf(w, "reference: %s (%s)\n", name(p.Reference), p.Reference)
	for _, v := range p.Identical {
		fmt.Fprintf(w, "  = %s:%s\n", v.Name, v.Value)
	}
	for _, v := range p.Added {
		fmt.Fprintf(w, "  + %s:%s   (from %s)\n", v.Name, v.Value, v.From)
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(w, "  ! %s: keeping %q", c.Name, c.Reference)
		for _, o := range c.Others {
			fmt.Fprintf(w, ", not %q", o.Value)
		}
		fmt.Fprintln(w)
	}
}

// printGroups writes groups as dedup.md's JSON (dedup.Group's fields, the
// reasons as "why") or as text for people.
func printGroups(w io.Writer, format string, cards int, groups []dedup.Group, name func(string) string) error {
	if format == "json" {
		if groups == nil {
			groups = []dedup.Group{}
		}
		return json.NewEncoder(w).Encode(struct {
			Cards  int           `json:"cards"`
			Groups []dedup.Group `json:"groups"`
		}{cards, groups})
	}
	fmt.Fprintf(w, "%d cards, %d groups of possible duplicates\n", cards, len(groups))
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s  %s  score %.2f\n", g.ID, g.Band, g.Score)
		for _, uid := range g.UIDs {
			fmt.Fprintf(w, "  %-32s %s\n", name(uid), uid)
		}
		if why := merges.Explain(g.Why); why != "" {
			fmt.Fprintf(w, "  why: %s\n", why)
		}
	}
	return nil
}

func findCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("duplicates find", stderr)
	region := fs.String("region", "", "default country for phone numbers without one, e.g. DE or US")
	format := fs.String("format", "text", "text (for people) or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"duplicates find needs one FILE.vcf (or - for standard input)"}
	}
	if *format != "text" && *format != "json" {
		return usageError{"--format must be text or json"}
	}
	r, err := regionFlag(*region)
	if err != nil {
		return err
	}
	name, in, closeIn, err := openInput(pos[0], stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	progress := newProgress(stderr)
	var cards []dedup.Card
	names := map[string]string{}
	err = contacts.Split(in, func(card []byte, line int) error {
		info, err := contacts.Validate(card)
		if err != nil {
			at, msg := imports.ProblemAt(line, err)
			fmt.Fprintf(stderr, "%s:%d: card skipped: %s\n", name, at, msg)
			return nil
		}
		uid := info.UID
		if uid == "" {
			uid = fmt.Sprintf("line-%d", line) // exports often carry no UID
		}
		cards = append(cards, dedup.Card{UID: uid, Data: card})
		names[uid] = info.FN
		progress.step("reading", len(cards))
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	progress.done(fmt.Sprintf("read %d cards; comparing", len(cards)))
	groups, err := dedup.Find(cards, dedup.Options{Region: r})
	if err != nil {
		return err
	}
	progress.done("")
	return printGroups(stdout, *format, len(cards), groups, func(uid string) string { return names[uid] })
}

// progress draws a one-line counter on a terminal and nothing otherwise.
type progress struct {
	w  io.Writer
	on bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) step(what string, n int) {
	if p.on && n%500 == 0 {
		fmt.Fprintf(p.w, "\r%s… %d", what, n)
	}
}

func (p *progress) done(msg string) {
	if !p.on {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s", msg)
	if msg == "" {
		return
	}
	fmt.Fprint(p.w, "…")
}

// openInput opens FILE, or standard input for "-", and names it for messages.
func openInput(arg string, stdin io.Reader) (name string, r io.Reader, closeFn func(), err error) {
	if arg == "-" {
		return "standard input", stdin, func() {}, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return "", nil, nil, err
	}
	return arg, f, func() { f.Close() }, nil
}
