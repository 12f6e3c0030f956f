// Package imports adds the cards of a .vcf file or the events and tasks of
// an .ics file to one collection without ever creating a duplicate. The
// command line and the account pages both use it, so that an import does
// the same wherever it is started.
package imports

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/contentline"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// Options tune an import.
type Options struct {
	// KeepSameContent imports an object whose content is already in the
	// collection under another UID; by default it is skipped.
	KeepSameContent bool
	// Progress, if set, is called after each object with how many were
	// read so far.
	Progress func(n int)
	// OnProblem, if set, is told of each problem as it is found (the CLI
	// reports them while a long import runs).
	OnProblem func(Problem)
	// MaxObjectSize bounds one card or calendar object, in bytes, as
	// --max-resource-size bounds a DAV PUT: a bigger one is rejected. 0
	// means DefaultMaxObjectSize.
	MaxObjectSize int64
}

// DefaultMaxObjectSize is the default of Options.MaxObjectSize, the
// server's default --max-resource-size.
const DefaultMaxObjectSize = 10 << 20

// MaxProblems bounds Result.Problems: a file of garbage must not make an
// answer of a million lines. Result.MoreProblems counts the rest.
const MaxProblems = 1000

// Problem is an object that was rejected (it is not valid) or skipped
// because its content is already there under another UID, or the end of
// what could be read of a file (End).
type Problem struct {
	Line int // in the file; for an object added by Importer.Add, within the object
	// Ref names the object an Importer.Add call was given (its name at
	// the source of a migration); "" in a file.
	Ref string
	// Name is what people call the object: a card's name, an event's or
	// task's title; "" when it has none or it was not read (a card over
	// the size limit).
	Name    string
	Skipped bool
	// End marks Result.End: the file could not be read past Line (which
	// its Msg names).
	End bool
	Msg string // says what happened, naming other objects by their names
	// SameAs is, for a skipped object, the UID that already holds its
	// content.
	SameAs string
}

// Result counts what an import did, and lists its problems in file order.
type Result struct {
	Added, Updated, Skipped, Rejected int
	// OverQuota counts the objects not imported because the owner's
	// storage quota was reached: the first one the store refused and every
	// one after it, which are not even tried.
	OverQuota int
	// Folded counts the cards that came back under a merged-away name or
	// UID and brought something new: each was folded into the card it was
	// merged into (merges.Fold), not added again. One that brought
	// nothing new counts as skipped.
	Folded int
	// Absorbed counts the cards with the UID of a card that merges made,
	// and something the merged card lacked: the merged card was kept and
	// took it (merges.Absorb), rather than be replaced by a copy from
	// before the merge. One that brought nothing new counts as skipped.
	Absorbed     int
	Objects      int       // objects read from the file
	Problems     []Problem // the first MaxProblems
	MoreProblems int
	// End, when not nil, is why the file could not be read to its end:
	// it ends inside a card (which counts as rejected), or a line breaks
	// the framing of its cards or events. Nothing after End.Line was
	// imported; what came before was. It is kept apart from Problems, so
	// that MaxProblems never drops it.
	End *Problem
}

// Run adds the objects read from r to coll: .vcf cards to an address
// book, .ics objects to a calendar. An object whose UID is known updates
// it (or is skipped when nothing changed); one whose content is already
// there under another UID is skipped unless opt.KeepSameContent; an
// invalid one is rejected and reported with its line. Merges hold: a card
// whose name or UID was merged away is folded into the card it was merged
// into (Result.Folded), and a card with the UID of such a survivor adds
// to it what it lacks instead of replacing it (Result.Absorbed), so that
// importing a file again after a merge changes nothing. A file that cannot
// be read to its end (it ends inside a card, or is not framed into
// objects) does not fail Run: Result.End says where it stopped, and the
// Result counts what was done before. Run fails only when reading r or
// the store fails (or ctx ends); the Result then counts what was done
// before. Once the store refuses an
// object for the quota (store.ErrQuotaExceeded), a problem says so and the
// rest of the file is only counted, in Result.OverQuota. st is the store's
// objects and merges, as package merges needs them.
func Run(ctx context.Context, st merges.Store, coll *store.Collection, r io.Reader, opt Options) (*Result, error) {
	im, err := newImporter(ctx, st, coll, opt)
	if err != nil {
		return im.res, err
	}
	opt = im.opt
	step := func() {
		im.res.Objects++
		if opt.Progress != nil {
			opt.Progress(im.res.Objects)
		}
	}
	// each does what is done with every object read from the file.
	each := func(do func() error) error {
		defer step()
		if err := ctx.Err(); err != nil {
			return err
		}
		if im.res.OverQuota > 0 {
			im.res.OverQuota++
			return nil
		}
		return do()
	}
	if coll.Kind == store.KindCal {
		err = calendars.Split(r, func(obj []byte, uid string, line int) error {
			return each(func() error { return im.calendarObject(obj, uid, line) })
		})
	} else {
		// A card over the limit is refused before it is read into memory.
		err = contacts.SplitMax(r, opt.MaxObjectSize, func(card []byte, line int) error {
			return each(func() error { return im.card(card, line) })
		}, func(line int, size int64) error {
			return each(func() error {
				im.tooBig(size, "card", line, "")
				return nil
			})
		})
	}
	return im.res, im.ended(err)
}

// ended records, as Result.End, an error of the framing of the file's
// objects: the file cannot be read past its line, which the message
// names. It returns any other error.
func (im *importer) ended(err error) error {
	var ce *contacts.ValidationError
	var ke *calendars.ValidationError
	p := Problem{End: true}
	switch {
	case errors.Is(err, contacts.ErrUnterminated) && errors.As(err, &ce):
		im.res.Objects++
		im.res.Rejected++
		p.Line, p.Msg = ce.Line, fmt.Sprintf("the file ends inside a card that starts at line %d: that card was not imported", ce.Line)
	case errors.As(err, &ce):
		p.Line, p.Msg = ce.Line, fmt.Sprintf("line %d: %s: nothing from this line on was imported", ce.Line, ce.Msg)
	case errors.As(err, &ke):
		// Split reads the whole file before it hands out an object.
		p.Line, p.Msg = ke.Line, fmt.Sprintf("line %d: %s: the file cannot be read, so nothing in it was imported", ke.Line, ke.Msg)
	default:
		return err
	}
	im.res.End = &p
	if im.opt.OnProblem != nil {
		im.opt.OnProblem(p)
	}
	return nil
}

// newImporter reads what coll holds: the UIDs and contents of its objects,
// and the survivors of its merges.
func newImporter(ctx context.Context, st merges.Store, coll *store.Collection, opt Options) (*importer, error) {
	if opt.MaxObjectSize <= 0 {
		opt.MaxObjectSize = DefaultMaxObjectSize
	}
	im := &importer{ctx: ctx, st: st, coll: coll, opt: opt, res: &Result{},
		byUID: map[string]string{}, byContent: map[string]held{}}
	if coll.Kind == store.KindCard {
		var err error
		if im.survivors, err = merges.Survivors(ctx, st, coll); err != nil {
			return im, fmt.Errorf("merges of %s: %w", coll.Name, err)
		}
	}
	err := st.ListObjects(ctx, coll.ID, true, func(o *store.Object) error {
		im.byUID[o.UID] = o.Name
		im.byContent[contentKey(o.Data)] = held{o.UID, objectName(o.Data, coll.Kind)}
		return nil
	})
	if err != nil {
		return im, fmt.Errorf("list %s: %w", coll.Name, err)
	}
	return im, nil
}

// Importer adds objects to a collection one at a time, by the rules of
// Run: for objects that come one by one rather than in a file (a
// migration from another server).
type Importer struct {
	im *importer
}

// NewImporter reads what coll holds, for the objects Add will add. Its
// Progress option is not used: the caller knows its own progress.
func NewImporter(ctx context.Context, st merges.Store, coll *store.Collection, opt Options) (*Importer, error) {
	im, err := newImporter(ctx, st, coll, opt)
	if err != nil {
		return nil, err
	}
	return &Importer{im: im}, nil
}

// Add adds one object as a CardDAV or CalDAV server serves it: a vCard
// to an address book, one calendar object resource (a VCALENDAR whose
// components share one UID) to a calendar. Its bytes are stored as they
// are (a card without a UID gets one). ref names it in the problems it
// causes (Problem.Ref), whose lines are within the object. Add fails as
// Run does: only when the store fails; after the quota was reached, it
// only counts (Result.OverQuota).
func (i *Importer) Add(data []byte, ref string) error {
	im := i.im
	im.res.Objects++
	if err := im.ctx.Err(); err != nil {
		return err
	}
	if im.res.OverQuota > 0 {
		im.res.OverQuota++
		return nil
	}
	im.ref = ref
	defer func() { im.ref = "" }()
	if im.coll.Kind == store.KindCard {
		if im.tooBig(int64(len(data)), "card", 1, objectName(data, store.KindCard)) {
			return nil
		}
		return im.card(data, 1)
	}
	if im.tooBig(int64(len(data)), "calendar object", 1, objectName(data, store.KindCal)) {
		return nil
	}
	info, err := calendars.Validate(im.ctx, data, im.coll.Components, nil)
	if err != nil {
		line, msg := ProblemAt(1, err)
		im.reject(objectName(data, store.KindCal), line, msg)
		return nil
	}
	o := &store.Object{UID: info.UID, Data: data, Component: info.Component, FirstStart: info.Start, LastEnd: info.End}
	return im.put(o, ".ics", 1)
}

// Reject records an object that could not be added, for a reason of the
// caller's: an object the source would not give.
func (i *Importer) Reject(ref, msg string) {
	i.im.res.Objects++
	i.im.res.Rejected++
	i.im.problem(Problem{Ref: ref, Msg: msg})
}

// Result is what the Add calls did so far.
func (i *Importer) Result() *Result { return i.im.res }

// ProblemAt turns a validation error of an object that starts at line into
// the line in the file and a message without the object-relative line.
func ProblemAt(line int, err error) (int, string) {
	var ce *contacts.ValidationError
	var ke *calendars.ValidationError
	switch {
	case errors.As(err, &ce):
		return fileLine(line, ce.Line), ce.Msg
	case errors.As(err, &ke):
		return fileLine(line, ke.Line), ke.Msg
	case errors.Is(err, calendars.ErrBudgetSpent):
		return line, "not checked: this import has used the time the server gives one request for recurrence rules; import the rest in another file"
	}
	return line, err.Error()
}

func fileLine(start, within int) int {
	if within > 0 {
		return start + within - 1
	}
	return start
}

type importer struct {
	ctx       context.Context
	st        merges.Store
	coll      *store.Collection
	opt       Options
	res       *Result
	byUID     map[string]string // UID → resource name
	byContent map[string]held   // content key → the object that holds it
	survivors map[string]string // name → UID of the cards that merges in effect merged others into
	ref       string            // the object Importer.Add is adding, for its problems
}

func (im *importer) problem(p Problem) {
	if p.Ref == "" {
		p.Ref = im.ref
	}
	if im.opt.OnProblem != nil {
		im.opt.OnProblem(p)
	}
	if len(im.res.Problems) < MaxProblems {
		im.res.Problems = append(im.res.Problems, p)
	} else {
		im.res.MoreProblems++
	}
}

// reject records an object that cannot be imported, at its line in the
// file; name is the object's (objectName).
func (im *importer) reject(name string, line int, msg string) {
	im.res.Rejected++
	im.problem(Problem{Line: line, Name: name, Msg: msg})
}

// card imports a card that SplitMax found within the size limit.
func (im *importer) card(card []byte, line int) error {
	info, err := contacts.Validate(card)
	if err != nil {
		at, msg := ProblemAt(line, err)
		im.reject(objectName(card, store.KindCard), at, msg)
		return nil
	}
	if info.UID == "" {
		info.UID = contacts.NewUID()
		card = contacts.AddUID(card, info.UID)
	}
	return im.put(&store.Object{UID: info.UID, Data: card}, ".vcf", line)
}

func (im *importer) calendarObject(obj []byte, uid string, line int) error {
	name := objectName(obj, store.KindCal)
	if uid == "" {
		im.reject(name, line, "the component has no UID")
		return nil
	}
	if im.tooBig(int64(len(obj)), "calendar object", line, name) {
		return nil
	}
	info, err := calendars.Validate(im.ctx, obj, im.coll.Components, nil)
	if err != nil {
		// Split rewrites each object inside a VCALENDAR of its own, so a
		// line within it does not map back to the file: name where the
		// object starts.
		_, msg := ProblemAt(line, err)
		im.reject(name, line, msg)
		return nil
	}
	o := &store.Object{UID: info.UID, Data: obj, Component: info.Component, FirstStart: info.Start, LastEnd: info.End}
	return im.put(o, ".ics", line)
}

// tooBig rejects an object of n bytes over the size limit; name is the
// object's, when it was read.
func (im *importer) tooBig(n int64, what string, line int, name string) bool {
	if n <= im.opt.MaxObjectSize {
		return false
	}
	im.reject(name, line, fmt.Sprintf("the %s has %d bytes; this server takes at most %d bytes per %s", what, n, im.opt.MaxObjectSize, what))
	return true
}

// put adds, updates or skips one valid object: every object stored goes
// through here, so here the size limit is enforced (again: a card may
// have grown by the UID it was given).
func (im *importer) put(o *store.Object, ext string, line int) error {
	what := "card"
	if ext == ".ics" {
		what = "calendar object"
	}
	if im.tooBig(int64(len(o.Data)), what, line, objectName(o.Data, im.coll.Kind)) {
		return nil
	}
	o.Collection = im.coll.ID
	key := contentKey(o.Data)
	if name, ok := im.byUID[o.UID]; ok {
		if im.byContent[key].uid == o.UID {
			im.res.Skipped++
			return nil
		}
		o.Name = name
		if uid, ok := im.survivors[name]; ok && uid == o.UID {
			return im.absorb(o, key, line)
		}
		if _, _, err := im.st.PutObject(im.ctx, o, store.Conditions{}); err != nil {
			return im.failed(o, line, err)
		}
		im.res.Updated++
		im.byContent[key] = held{o.UID, objectName(o.Data, im.coll.Kind)}
		return nil
	}
	if other, ok := im.byContent[key]; ok && !im.opt.KeepSameContent {
		im.res.Skipped++
		im.problem(Problem{Line: line, Name: objectName(o.Data, im.coll.Kind), Skipped: true, SameAs: other.uid,
			Msg: im.sameAs(other.name)})
		return nil
	}
	o.Name = resourceName(o.UID, ext)
	_, _, err := im.st.PutObject(im.ctx, o, store.Conditions{IfNoneMatch: true})
	if errors.Is(err, store.ErrPrecondition) {
		// Another object took that name with a different UID.
		o.Name = resourceName(contacts.NewUID(), ext)
		_, _, err = im.st.PutObject(im.ctx, o, store.Conditions{IfNoneMatch: true})
	}
	if err != nil {
		return im.failed(o, line, err)
	}
	im.res.Added++
	im.byUID[o.UID] = o.Name
	im.byContent[key] = held{o.UID, objectName(o.Data, im.coll.Kind)}
	return nil
}

// absorb takes o, a card with the UID of a merge's survivor, into that
// survivor (merges.Absorb): an update that keeps what the merge brought.
func (im *importer) absorb(o *store.Object, key string, line int) error {
	s, err := im.st.GetObject(im.ctx, im.coll.ID, o.Name)
	if err != nil {
		return fmt.Errorf("line %d: %w", line, err)
	}
	changed, err := merges.Absorb(im.ctx, im.st, s, o.Data, time.Now())
	if err != nil {
		return im.failed(o, line, err)
	}
	if changed {
		im.res.Absorbed++
	} else {
		im.res.Skipped++ // the merged card holds all of it already
	}
	im.byContent[key] = held{o.UID, objectName(s.Data, im.coll.Kind)}
	return nil
}

// failed handles a write the store refused: a card merged away is folded
// into its survivor, the quota ends the import (every later object would
// be refused too), anything else fails it.
func (im *importer) failed(o *store.Object, line int, err error) error {
	var away *store.MergedAwayError
	if errors.As(err, &away) {
		var f *merges.Folded
		if f, err = merges.Fold(im.ctx, im.st, im.coll, away, o, merges.Imported, time.Now()); err == nil {
			if f.Changed {
				im.res.Folded++
			} else {
				im.res.Skipped++ // its survivor holds all of it already
			}
			return nil
		}
	}
	if errors.Is(err, store.ErrQuotaExceeded) {
		im.res.OverQuota = 1
		im.problem(Problem{Line: line, Name: objectName(o.Data, im.coll.Kind),
			Msg: "storage quota reached: neither this nor anything after it was imported"})
		return nil
	}
	return fmt.Errorf("line %d: %w", line, err)
}

// held is the object that holds a content: its UID, and its name for the
// message that skips a copy (objectName).
type held struct{ uid, name string }

// sameAs says that an object's content is already in the collection, in
// the object named name.
func (im *importer) sameAs(name string) string {
	where := "this address book"
	if im.coll.Kind == store.KindCal {
		where = "this calendar"
		if len(im.coll.Components) == 1 && im.coll.Components[0] == calendars.VTODO {
			where = "this task list"
		}
	}
	if name != "" {
		return "same content as " + name + ", already in " + where
	}
	return "same content as one already in " + where
}

// maxName bounds a name in a message, in characters.
const maxName = 80

// objectName is what people call an object: a card's FN, or the SUMMARY of
// the first component of a calendar object (not an alarm's); "" when it
// has none. It reads only up to that line, and copes with an object that
// is not valid, so that a rejected one is named too.
func objectName(data []byte, kind store.Kind) string {
	prop, depth, syn := "FN", 1, contentline.Syntax{Groups: true, BareParams: true, QuoteInValues: true}
	if kind == store.KindCal {
		prop, depth, syn = "SUMMARY", 2, contentline.Syntax{DotInNames: true}
	}
	level := 0
	var buf []byte
	sc := contentline.NewScanner(data)
	for {
		ll, ok := sc.Next()
		if !ok {
			return ""
		}
		text := sc.Text(ll, buf)
		if ll.Folded {
			buf = text
		}
		p, f := contentline.Parse(text, syn)
		if f.Code != contentline.OK {
			continue
		}
		switch name := string(p.Name); {
		case strings.EqualFold(name, "BEGIN"):
			level++
		case strings.EqualFold(name, "END"):
			level--
		case level == depth && strings.EqualFold(name, prop):
			v := strings.Join(strings.Fields(contacts.UnescapeText(string(p.Value))), " ")
			if r := []rune(v); len(r) > maxName {
				v = string(r[:maxName-1]) + "…"
			}
			return v
		}
	}
}

// resourceName is "<uid><ext>" like clients make them, unless the UID
// cannot be one URL segment.
func resourceName(uid, ext string) string {
	if uid == "" || len(uid) > 200 || strings.ContainsAny(uid, "/\\\x00\r\n") || uid == "." || uid == ".." {
		return fmt.Sprintf("%x", sha256.Sum256([]byte(uid)))[:32] + ext
	}
	return uid + ext
}

// contentKey identifies what a person typed: the unfolded property lines,
// sorted, without the ones every export rewrites (UID, REV, PRODID, stamps).
func contentKey(data []byte) string {
	var lines []string
	var buf []byte
	sc := contentline.NewScanner(data)
	for {
		ll, ok := sc.Next()
		if !ok {
			break
		}
		text := sc.Text(ll, buf)
		if ll.Folded {
			buf = text
		}
		l := string(text)
		n := l
		if i := strings.IndexAny(n, ";:"); i >= 0 {
			n = n[:i]
		}
		if i := strings.IndexByte(n, '.'); i >= 0 { // grouped property: item1.TEL
			n = n[i+1:]
		}
		switch strings.ToUpper(n) {
		case "", "UID", "REV", "PRODID", "DTSTAMP", "X-ABUID", "LAST-MODIFIED":
			continue
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	sort.Strings(lines)
	h := sha256.New()
	for i, l := range lines {
		if i > 0 {
			h.Write([]byte{'\n'})
		}
		io.WriteString(h, l)
	}
	return string(h.Sum(nil))
}
