package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rolodav/rolodav/calendars"
	"github.com/rolodav/rolodav/contacts"
	"github.com/rolodav/rolodav/dav"
	"github.com/rolodav/rolodav/store"
)

// importer adds the objects of one file to one collection without ever
// creating a duplicate: a known UID is updated (or skipped when nothing
// changed), and the same content under another UID is skipped unless asked.
type importer struct {
	ctx                               context.Context
	st                                store.Store
	coll                              *store.Collection
	keepSame                          bool
	byUID                             map[string]string // UID → resource name
	byContent                         map[string]string // content key → UID
	added, updated, skipped, rejected int
	report                            io.Writer
	file                              string
}

func importCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	data := dataFlag(fs)
	user := fs.String("user", "", "owner of the collection (login)")
	book := fs.String("book", "", "address book to import a .vcf into (default "+dav.DefaultBook+")")
	calendar := fs.String("calendar", "", "calendar or task list to import an .ics into")
	same := fs.String("same-content", "skip", "a card or event whose content is already there under another UID: skip or keep")
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
		collName = dav.DefaultBook
	}
	st, c, err := openCollection(ctx, *data, *user, kind, collName)
	if err != nil {
		return err
	}
	defer st.Close()
	im := &importer{ctx: ctx, st: st, coll: c, keepSame: *same == "keep", report: stderr, file: name,
		byUID: map[string]string{}, byContent: map[string]string{}}
	err = st.ListObjects(ctx, c.ID, true, func(o *store.Object) error {
		im.byUID[o.UID] = o.Name
		im.byContent[contentKey(o.Data)] = o.UID
		return nil
	})
	if err != nil {
		return err
	}
	progress := newProgress(stderr)
	count := 0
	step := func() { count++; progress.step("importing", count) }
	if kind == store.KindCal {
		err = calendars.Split(in, func(obj []byte, uid string, line int) error {
			defer step()
			return im.calendarObject(obj, uid, line)
		})
	} else {
		err = contacts.Split(in, func(card []byte, line int) error {
			defer step()
			return im.card(card, line)
		})
	}
	progress.done("")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(stdout, "%s: added %d, updated %d, skipped %d (already present), rejected %d\n",
		name, im.added, im.updated, im.skipped, im.rejected)
	if im.rejected > 0 {
		return fmt.Errorf("%d of them rejected (see above)", im.rejected)
	}
	return nil
}

// reject reports an object that cannot be imported, at its line in the file.
func (im *importer) reject(line int, msg string) {
	im.rejected++
	fmt.Fprintf(im.report, "%s:%d: rejected: %s\n", im.file, line, msg)
}

func (im *importer) card(card []byte, line int) error {
	info, err := contacts.Validate(card)
	if err != nil {
		im.reject(problemAt(line, err))
		return nil
	}
	if info.UID == "" {
		info.UID = contacts.NewUID()
		card = contacts.AddUID(card, info.UID)
	}
	return im.put(&store.Object{UID: info.UID, Data: card}, ".vcf", line)
}

func (im *importer) calendarObject(obj []byte, uid string, line int) error {
	if uid == "" {
		im.reject(line, "the component has no UID")
		return nil
	}
	info, err := calendars.Validate(obj, im.coll.Components, nil)
	if err != nil {
		im.reject(problemAt(line, err))
		return nil
	}
	o := &store.Object{UID: info.UID, Data: obj, Component: info.Component, FirstStart: info.Start, LastEnd: info.End}
	return im.put(o, ".ics", line)
}

// put adds, updates or skips one valid object.
func (im *importer) put(o *store.Object, ext string, line int) error {
	o.Collection = im.coll.ID
	key := contentKey(o.Data)
	if name, ok := im.byUID[o.UID]; ok {
		if im.byContent[key] == o.UID {
			im.skipped++
			return nil
		}
		o.Name = name
		if _, _, err := im.st.PutObject(im.ctx, o, store.Conditions{}); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		im.updated++
		im.byContent[key] = o.UID
		return nil
	}
	if other, ok := im.byContent[key]; ok && !im.keepSame {
		im.skipped++
		fmt.Fprintf(im.report, "%s:%d: skipped: same content as %s (--same-content keep imports it anyway)\n", im.file, line, other)
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
		return fmt.Errorf("line %d: %w", line, err)
	}
	im.added++
	im.byUID[o.UID] = o.Name
	im.byContent[key] = o.UID
	return nil
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
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.NewReplacer("\n ", "", "\n\t", "").Replace(text)
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		n := strings.ToUpper(l)
		if i := strings.IndexAny(n, ";:"); i >= 0 {
			n = n[:i]
		}
		if i := strings.IndexByte(n, '.'); i >= 0 { // grouped property: item1.TEL
			n = n[i+1:]
		}
		switch n {
		case "", "UID", "REV", "PRODID", "DTSTAMP", "X-ABUID", "LAST-MODIFIED":
			continue
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return string(sum[:])
}
