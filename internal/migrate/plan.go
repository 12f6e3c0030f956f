package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/store"
)

// Values of Planned.Why.
const (
	WhyMap      = "--map"        // the caller named the destination
	WhyPrevious = "previous run" // a previous run brought this source collection there
	WhyDefault  = "default"      // the source's default collection onto the user's
	WhySameName = "same name"    // the user has a collection of that name and kind
	WhyNew      = "new"          // made for it
)

// MapError is an Options.Map that does not fit the source: a mistake of
// the caller's, found before anything is written.
type MapError struct {
	Key string // the source collection it names
	Msg string
}

func (e *MapError) Error() string { return "--map " + e.Key + ": " + e.Msg }

// Names that providers give their default collections: Nextcloud and
// Radicale's clients "contacts" and "personal", SOGo "personal", iCloud
// "card" and "home", Google "default", DAVx5-made "addressbook".
var (
	defaultBookNames     = []string{accounts.DefaultBook, "default", "personal", "card", "addressbook", "addressbooks"}
	defaultCalendarNames = []string{"calendar", "default", "personal", "home", "events"}
	defaultTaskNames     = []string{"tasks", "todo", "todos", "reminders"}
)

// MakePlan decides where each of src's collections goes: the collection
// Options.Map names; else the one a previous run brought it into; else,
// for the source's default address book, calendar and task list (by the
// names providers give them, or the only one of its sort), the user's
// default; else the user's collection of the same name when its kind and
// components fit; else a new collection with the source's name, display
// name, description, colour and components. Two source collections go to
// one destination only when Options.Map says so.
func MakePlan(ctx context.Context, st Store, owner string, src *Source, opt Options) (*Plan, error) {
	found, err := src.Collections(ctx)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Principal: src.Principal()}
	ours := map[store.Kind][]store.Collection{}
	for _, k := range []store.Kind{store.KindCard, store.KindCal} {
		if ours[k], err = st.ListCollections(ctx, owner, k); err != nil {
			return nil, fmt.Errorf("migrate: collections of %s: %w", owner, err)
		}
	}
	used := map[int64]bool{}
	taken := map[store.Kind]map[string]bool{store.KindCard: {}, store.KindCal: {}}
	for _, k := range []store.Kind{store.KindCard, store.KindCal} {
		for _, c := range ours[k] {
			taken[k][c.Name] = true
		}
	}
	byName := func(k store.Kind, name string) *store.Collection {
		for i := range ours[k] {
			if ours[k][i].Name == name {
				return &ours[k][i]
			}
		}
		return nil
	}
	byID := func(k store.Kind, id int64) *store.Collection {
		for i := range ours[k] {
			if ours[k][i].ID == id {
				return &ours[k][i]
			}
		}
		return nil
	}
	defaults := sourceDefaults(found)
	var wanted []SourceCollection
	for _, c := range found {
		if opt.Only == OnlyContacts && c.Kind != store.KindCard || opt.Only == OnlyCalendars && c.Kind != store.KindCal {
			continue
		}
		wanted = append(wanted, c)
	}
	for _, key := range slices.Sorted(maps.Keys(opt.Map)) {
		named := func(c SourceCollection) bool { return c.Name == key || c.DisplayName == key }
		if slices.ContainsFunc(wanted, named) {
			continue
		}
		if slices.ContainsFunc(found, named) {
			return nil, &MapError{Key: key, Msg: fmt.Sprintf("--only %s leaves it out", opt.Only)}
		}
		return nil, &MapError{Key: key, Msg: "the source has no collection of that name (it has " + sourceNames(wanted) + ")"}
	}
	// Collections named by --map and remembered ones are placed first, so
	// that the defaults and same names do not take their destinations.
	plan.Collections = make([]Planned, len(wanted))
	placed := make([]bool, len(wanted))
	place := func(i int, dest *store.Collection, why string) {
		plan.Collections[i].Dest, plan.Collections[i].Why = *dest, why
		placed[i] = true
		used[dest.ID] = true
	}
	for i, c := range wanted {
		p := &plan.Collections[i]
		p.Source = c
		m, err := st.GetMigrationSource(ctx, owner, c.URL)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("migrate: previous runs of %s: %w", c.URL, err)
		}
		p.Remembered = m
		name, ok := opt.Map[c.Name]
		if !ok {
			name, ok = opt.Map[c.DisplayName]
		}
		if ok {
			if d := byName(c.Kind, name); d != nil {
				if !fits(c, d) {
					return nil, fmt.Errorf("migrate: --map %s=%s: %s holds only %s, the source collection has %s",
						c.Name, name, name, strings.Join(d.Components, ", "), strings.Join(c.Components, ", "))
				}
				place(i, d, WhyMap)
			} else {
				p.Dest, p.Create, p.Why = newDest(owner, c, name), true, WhyMap
				taken[c.Kind][name] = true
				placed[i] = true
			}
			continue
		}
		if m != nil {
			if d := byID(c.Kind, m.Collection); d != nil && !used[d.ID] {
				place(i, d, WhyPrevious)
			}
		}
	}
	for i, c := range wanted {
		if placed[i] {
			continue
		}
		p := &plan.Collections[i]
		if name, ok := defaults[c.URL]; ok {
			if d := byName(c.Kind, name); d != nil && !used[d.ID] && shares(c, d) {
				place(i, d, WhyDefault)
				continue
			}
		}
		if d := byName(c.Kind, destName(c)); d != nil && !used[d.ID] && fits(c, d) {
			place(i, d, WhySameName)
			continue
		}
		name := destName(c)
		for n := 2; taken[c.Kind][name]; n++ {
			name = fmt.Sprintf("%s-%d", destName(c), n)
		}
		taken[c.Kind][name] = true
		p.Dest, p.Create, p.Why = newDest(owner, c, name), true, WhyNew
	}
	for i := range plan.Collections {
		p := &plan.Collections[i]
		p.Routes = routes(p.Source, &p.Dest, ours[store.KindCal])
	}
	return plan, nil
}

// routes says where the objects of source calendar c go whose component
// dest does not take: to the user's default calendar or task list when it
// takes them. The rest would be rejected.
func routes(c SourceCollection, dest *store.Collection, ours []store.Collection) map[string]store.Collection {
	if c.Kind != store.KindCal || len(dest.Components) == 0 {
		return nil
	}
	comps := c.Components
	if len(comps) == 0 {
		comps = []string{calendars.VEVENT, calendars.VTODO, calendars.VJOURNAL}
	}
	var out map[string]store.Collection
	for _, comp := range comps {
		if slices.Contains(dest.Components, comp) {
			continue
		}
		for _, name := range []string{"calendar", "tasks"} {
			for _, o := range ours {
				if o.Name == name && o.ID != dest.ID && (len(o.Components) == 0 || slices.Contains(o.Components, comp)) {
					if out == nil {
						out = map[string]store.Collection{}
					}
					if _, ok := out[comp]; !ok {
						out[comp] = o
					}
				}
			}
		}
	}
	return out
}

// shares reports whether source collection c and d have a component in
// common (address books always do): enough for the defaults, whose other
// components have Routes.
func shares(c SourceCollection, d *store.Collection) bool {
	if c.Kind != d.Kind {
		return false
	}
	if c.Kind == store.KindCard || len(d.Components) == 0 || len(c.Components) == 0 {
		return true
	}
	return slices.ContainsFunc(c.Components, func(comp string) bool { return slices.Contains(d.Components, comp) })
}

// sourceDefaults picks the source's default address book, calendar and
// task list, and names the user's collection each goes to: by the names
// providers give them, else the only one of its sort.
func sourceDefaults(found []SourceCollection) map[string]string {
	out := map[string]string{}
	pick := func(ok func(c SourceCollection) bool, names []string, ours string) {
		var cands []SourceCollection
		for _, c := range found {
			if ok(c) {
				cands = append(cands, c)
			}
		}
		for _, n := range names {
			for _, c := range cands {
				if strings.EqualFold(c.Name, n) {
					out[c.URL] = ours
					return
				}
			}
		}
		if len(cands) == 1 {
			out[cands[0].URL] = ours
		}
	}
	takes := func(c SourceCollection, comp string) bool {
		return len(c.Components) == 0 || slices.Contains(c.Components, comp)
	}
	// A task list takes tasks and either nothing else or has a task
	// list's name: some servers (Xandikos) say every calendar takes
	// every component.
	isTasks := func(c SourceCollection) bool {
		if c.Kind != store.KindCal || !takes(c, calendars.VTODO) {
			return false
		}
		onlyTasks := len(c.Components) > 0 && !slices.Contains(c.Components, calendars.VEVENT)
		return onlyTasks || slices.ContainsFunc(defaultTaskNames, func(n string) bool { return strings.EqualFold(c.Name, n) })
	}
	pick(func(c SourceCollection) bool { return c.Kind == store.KindCard }, defaultBookNames, accounts.DefaultBook)
	pick(func(c SourceCollection) bool {
		return c.Kind == store.KindCal && !isTasks(c) && takes(c, calendars.VEVENT)
	}, defaultCalendarNames, "calendar")
	pick(isTasks, defaultTaskNames, "tasks")
	return out
}

// fits reports whether everything source collection c holds may go into
// d: an address book into an address book; a calendar into a calendar
// that takes every component c takes (a source that does not say may
// hold anything).
func fits(c SourceCollection, d *store.Collection) bool {
	if c.Kind != d.Kind {
		return false
	}
	if c.Kind == store.KindCard || len(d.Components) == 0 {
		return true
	}
	comps := c.Components
	if len(comps) == 0 {
		comps = []string{calendars.VEVENT, calendars.VTODO, calendars.VJOURNAL}
	}
	for _, comp := range comps {
		if !slices.Contains(d.Components, comp) {
			return false
		}
	}
	return true
}

// newDest is the collection to make for source collection c.
func newDest(owner string, c SourceCollection, name string) store.Collection {
	d := store.Collection{Owner: owner, Kind: c.Kind, Name: name, DisplayName: c.DisplayName,
		Description: c.Description, Color: c.Color}
	if d.DisplayName == "" {
		d.DisplayName = c.Name
	}
	if c.Kind == store.KindCal {
		d.Components = slices.Clone(c.Components)
	}
	return d
}

// destName is the name of the collection made for c here: the source's
// last path segment when it is a plain one (letters, digits, '-', '_',
// '.'), else one made of its display name.
func destName(c SourceCollection) string {
	if plainSegment(c.Name) {
		return c.Name
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(c.DisplayName) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 60 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		if c.Kind == store.KindCard {
			return "imported-contacts"
		}
		return "imported-calendar"
	}
	return b.String()
}

func plainSegment(s string) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func sourceNames(cs []SourceCollection) string {
	if len(cs) == 0 {
		return "none"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
