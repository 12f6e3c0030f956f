package realdav

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Size says how much Generate makes.
type Size struct {
	Cards  int // in the address book "contacts", groups included
	Events int // in the calendar "calendar"
	Tasks  int // in the task list "tasks"
}

// Sizes of fixtures: the end-to-end tests' and the benchmark's.
var (
	Default = Size{Cards: 2000, Events: 200, Tasks: 30}
	Bench   = Size{Cards: 10000, Events: 5000, Tasks: 30}
)

// Fixtures is an account's worth of collections: two address books
// ("contacts", the big one, and "family", about 20 cards), a calendar
// ("calendar") and a task list ("tasks").
//
// The cards are vCard 3.0 and, one in four, 4.0; they have non-ASCII
// names, several TEL, EMAIL and ADR, escaped text, and one in ten an
// inline photo (a small JPEG or PNG, base64, folded lines). Groups are of
// both kinds: Apple's vCard 3.0 X-ADDRESSBOOKSERVER-KIND:group with
// X-ADDRESSBOOKSERVER-MEMBER, and vCard 4.0 KIND:group with MEMBER. Two
// cards of "contacts" are the same person (Duplicates).
//
// The events are single and recurring (with EXDATE and overrides by
// RECURRENCE-ID), timed in UTC, Europe/Berlin and America/New_York (with
// their VTIMEZONE), and all-day. The tasks have DUE, PRIORITY and STATUS;
// one recurs.
type Fixtures struct {
	Collections []*FixtureCollection
	// Duplicates are the UIDs of two cards in "contacts" of the same
	// person: the duplicates finder groups them.
	Duplicates [2]string
}

// FixtureCollection is a collection and what goes in it.
type FixtureCollection struct {
	Collection
	Objects []Object
}

// Get returns the collection called name.
func (f *Fixtures) Get(name string) *FixtureCollection {
	for _, c := range f.Collections {
		if c.Name == name {
			return c
		}
	}
	panic("realdav: no fixture collection " + name)
}

// Object returns the object with this UID.
func (c *FixtureCollection) Object(uid string) Object {
	for _, o := range c.Objects {
		if o.UID == uid {
			return o
		}
	}
	panic("realdav: no object " + uid + " in " + c.Name)
}

// Generate makes fixtures of size; the same seed makes the same ones.
func Generate(seed uint64, size Size) *Fixtures {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x5eed)), stamp: "20260301T090000Z"}
	g.images()
	f := &Fixtures{}
	contacts := &FixtureCollection{Collection: Collection{Kind: AddressBook, Name: "contacts",
		DisplayName: "Kontakte", Description: "Alle Kontakte, auch die alten", Color: "#3A7BD5FF"}}
	contacts.Objects, f.Duplicates = g.book(size.Cards, "c", true)
	family := &FixtureCollection{Collection: Collection{Kind: AddressBook, Name: "family",
		DisplayName: "Familie & Freunde", Description: "Die Familie <und> Freunde", Color: "#E0457BFF"}}
	family.Objects, _ = g.book(20, "f", false)
	calendar := &FixtureCollection{Collection: Collection{Kind: Calendar, Name: "calendar",
		DisplayName: "Kalender", Description: "Termine", Color: "#2E8B57FF", Components: []string{"VEVENT"}}}
	calendar.Objects = g.events(size.Events)
	tasks := &FixtureCollection{Collection: Collection{Kind: Calendar, Name: "tasks",
		DisplayName: "Aufgaben", Description: "Zu erledigen", Color: "#FFA500FF", Components: []string{"VTODO"}}}
	tasks.Objects = g.tasks(size.Tasks)
	f.Collections = []*FixtureCollection{contacts, family, calendar, tasks}
	return f
}

// Load makes the fixtures' collections on s (see MakeCollection) and
// puts their objects in, and returns the collections as s keeps them, by
// name. A collection of a few objects gets them by PUT, a few at a time.
// A big one would take minutes that way (both servers take longer for
// each PUT the more objects a collection has: 2 000 cards, 4 at a time,
// took Radicale 6 minutes, and Xandikos 3.7 minutes for the first 1 000),
// so Load writes its objects straight into the server's storage, as files
// (Radicale) or a git commit (Xandikos, which then starts again on
// another port: see StartXandikos), which the server reads as if they had
// been PUT, but for the rewriting Xandikos does of what it is sent.
func (s *Server) Load(t testing.TB, f *Fixtures) map[string]Collection {
	t.Helper()
	out := map[string]Collection{}
	for _, c := range f.Collections {
		out[c.Name] = s.MakeCollection(t, c.Collection)
		start := time.Now()
		if len(c.Objects) <= putAtMost {
			s.Endpoint(c.Collection).Upload(t, c.Objects, uploaders)
		} else {
			s.store(t, c.Collection, c.Objects)
		}
		t.Logf("realdav: %s: %d objects into %s in %v", s.Name, len(c.Objects), c.Name, time.Since(start).Round(time.Millisecond))
	}
	if s.stored != nil {
		s.stored(t)
	}
	return out
}

// Load PUTs the objects of a collection of at most putAtMost objects,
// uploaders at a time.
const (
	putAtMost = 50
	uploaders = 4
)

type gen struct {
	r     *rand.Rand
	stamp string   // DTSTAMP of every object
	jpegs []string // base64
	pngs  []string
}

func (g *gen) uuid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.r.Uint32(), g.r.Uint32()&0xffff, g.r.Uint32()&0xfff,
		0x8000|g.r.Uint32()&0x3fff, g.r.Uint64()&0xffffffffffff)
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// images makes a few small pictures, real JPEGs and PNGs.
func (g *gen) images() {
	for i := range 6 {
		img := image.NewRGBA(image.Rect(0, 0, 24, 24))
		c1 := color.RGBA{uint8(g.r.IntN(256)), uint8(g.r.IntN(256)), uint8(g.r.IntN(256)), 255}
		c2 := color.RGBA{uint8(g.r.IntN(256)), uint8(g.r.IntN(256)), uint8(g.r.IntN(256)), 255}
		for y := range 24 {
			for x := range 24 {
				if (x/6+y/6+i)%2 == 0 {
					img.Set(x, y, c1)
				} else {
					img.Set(x, y, c2)
				}
			}
		}
		var j, p bytes.Buffer
		if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 80}); err != nil {
			panic(err)
		}
		if err := png.Encode(&p, img); err != nil {
			panic(err)
		}
		g.jpegs = append(g.jpegs, base64.StdEncoding.EncodeToString(j.Bytes()))
		g.pngs = append(g.pngs, base64.StdEncoding.EncodeToString(p.Bytes()))
	}
}

var (
	givenNames = []string{"Anna", "Jürgen", "Zoë", "Łukasz", "José", "Søren", "Ærin", "Björn", "Chloé", "François",
		"Ольга", "Ελένη", "Ahmet", "Şebnem", "Dvořák", "Maria", "Peter", "Li", "Mei", "Kenji", "Aoife", "Siobhán",
		"Thomas", "Fatima", "Noah", "Emma", "Grzegorz", "Ines", "Olaf", "Renée"}
	familyNames = []string{"Müller", "Schäfer", "García", "Nowak", "Ødegaard", "Öztürk", "Nguyễn", "O'Brien",
		"Smith", "Dubois", "Rossi", "Kowalski", "Иванова", "Παπαδοπούλου", "山田", "Lindqvist", "Weiß",
		"van der Berg", "Hernández", "Novák", "Fischer", "Kim", "Brown", "Jensen", "Martin", "Ferreira"}
	streets = []string{"Hauptstraße 1", "Rue de l'Église 12", "Karl-Marx-Allee 90\\, Hinterhaus", "Main St 221B",
		"Calle Mayor 5", "Østergade 3", "Ulica Długa 44", "Via Roma 8"}
	cities = []string{"Berlin;;10115;Deutschland", "Paris;;75001;France", "Köln;;50667;Deutschland",
		"New York;NY;10001;USA", "Madrid;;28013;España", "København;;1100;Danmark", "Gdańsk;;80-831;Polska"}
	orgs   = []string{"Example GmbH", "Beispiel & Söhne KG", "ACME\\, Inc.", "Université Paris", "Stadtwerke Köln"}
	titles = []string{"Engineer", "Geschäftsführerin", "Lehrer", "Consultant", "Ärztin"}
	notes  = []string{"Met at the conference\\nTalked about trains", "Allergic to nuts\\; bring cake without",
		"Prefers e-mail", "Ruft nur abends zurück", "Neighbour\\, 2nd floor"}
)

// book makes n cards: people and, when there are enough of them, groups;
// prefix makes their e-mail addresses the book's own; dups adds two cards
// of one person.
func (g *gen) book(n int, prefix string, dups bool) ([]Object, [2]string) {
	groups := 0
	if n >= 10 {
		groups = max(1, n/100)
	}
	people := n - groups
	var objs []Object
	var uids []string
	var dup [2]string
	for i := range people {
		uid := g.uuid()
		v4 := i%4 == 3
		var card string
		switch {
		case dups && i == 1:
			card = person3(uid, "Margarete", "Schäfer", []string{"TEL;TYPE=CELL:0151 2345678"}, "EMAIL;TYPE=INTERNET:margarete.schaefer@example.org", g.stamp)
			dup[0] = uid
		case dups && i == 2:
			card = person3(uid, "Margarete", "Schäfer", []string{"TEL;TYPE=CELL:+49 151 2345678", "TEL;TYPE=WORK:+49 30 555 0123"}, "EMAIL;TYPE=INTERNET:Margarete.Schaefer@example.org", g.stamp)
			dup[1] = uid
		default:
			card = g.person(uid, prefix, i, v4)
		}
		uidProp := uid
		if v4 {
			uidProp = "urn:uuid:" + uid
		}
		objs = append(objs, Object{Name: uid + ".vcf", UID: uidProp, Data: card})
		uids = append(uids, uid)
	}
	for i := range groups {
		uid := g.uuid()
		var members []string
		for range 3 + g.r.IntN(13) {
			members = append(members, g.pick(uids))
		}
		name := fmt.Sprintf("Gruppe %d – %s", i+1, g.pick(familyNames))
		var b []string
		if i%2 == 0 {
			b = []string{"BEGIN:VCARD", "VERSION:3.0", "UID:" + uid, "FN:" + name, "N:" + name + ";;;;", "X-ADDRESSBOOKSERVER-KIND:group"}
			for _, m := range uniq(members) {
				b = append(b, "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:"+m)
			}
		} else {
			b = []string{"BEGIN:VCARD", "VERSION:4.0", "UID:urn:uuid:" + uid, "KIND:group", "FN:" + name}
			for _, m := range uniq(members) {
				b = append(b, "MEMBER:urn:uuid:"+m)
			}
		}
		b = append(b, "REV:"+g.stamp, "END:VCARD")
		objs = append(objs, Object{Name: uid + ".vcf", UID: uidOf(b), Data: fold(b)})
	}
	return objs, dup
}

func uidOf(lines []string) string {
	for _, l := range lines {
		if u, ok := strings.CutPrefix(l, "UID:"); ok {
			return u
		}
	}
	return ""
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func person3(uid, given, family string, tels []string, email, rev string) string {
	b := []string{"BEGIN:VCARD", "VERSION:3.0", "UID:" + uid, "FN:" + given + " " + family, "N:" + family + ";" + given + ";;;"}
	b = append(b, tels...)
	b = append(b, email, "REV:"+rev, "END:VCARD")
	return fold(b)
}

// person makes card number i: its phone numbers and addresses come from
// i, so that no two cards are the same person by accident.
func (g *gen) person(uid, prefix string, i int, v4 bool) string {
	given, family := g.pick(givenNames), g.pick(familyNames)
	fn := given + " " + family
	local := fmt.Sprintf("%s%05d", prefix, i)
	b := []string{"BEGIN:VCARD"}
	if v4 {
		b = append(b, "VERSION:4.0", "UID:urn:uuid:"+uid, "KIND:individual")
	} else {
		b = append(b, "VERSION:3.0", "UID:"+uid)
	}
	b = append(b, "FN:"+fn, "N:"+family+";"+given+";;;")
	for k := range 1 + g.r.IntN(3) {
		typ := []string{"work", "home", "other"}[k]
		if v4 {
			b = append(b, fmt.Sprintf("EMAIL;TYPE=%s:%s.%s@example.org", typ, local, typ))
		} else {
			b = append(b, fmt.Sprintf("EMAIL;TYPE=INTERNET,%s:%s.%s@example.org", strings.ToUpper(typ), local, typ))
		}
	}
	for k := range 1 + g.r.IntN(3) {
		number := fmt.Sprintf("+49 %s %d%05d", areaCodes[prefix], k+1, i)
		typ := []string{"cell", "work", "home"}[k]
		if v4 && k == 0 {
			b = append(b, fmt.Sprintf("TEL;VALUE=uri;TYPE=%s:tel:%s", typ, strings.ReplaceAll(number, " ", "-")))
		} else if v4 {
			b = append(b, fmt.Sprintf("TEL;TYPE=%s:%s", typ, number))
		} else {
			b = append(b, fmt.Sprintf("TEL;TYPE=%s:%s", strings.ToUpper(typ), number))
		}
	}
	for k := range g.r.IntN(3) {
		typ := []string{"HOME", "WORK"}[k]
		if v4 {
			typ = strings.ToLower(typ)
		}
		b = append(b, fmt.Sprintf("ADR;TYPE=%s:;;%s;%s", typ, g.pick(streets), g.pick(cities)))
	}
	if g.r.IntN(3) == 0 {
		b = append(b, "ORG:"+g.pick(orgs), "TITLE:"+g.pick(titles))
	}
	if g.r.IntN(4) == 0 {
		if v4 {
			b = append(b, fmt.Sprintf("BDAY:%04d%02d%02d", 1950+g.r.IntN(50), 1+g.r.IntN(12), 1+g.r.IntN(28)))
		} else {
			b = append(b, fmt.Sprintf("BDAY:%04d-%02d-%02d", 1950+g.r.IntN(50), 1+g.r.IntN(12), 1+g.r.IntN(28)))
		}
	}
	if g.r.IntN(5) == 0 {
		b = append(b, "NOTE:"+g.pick(notes))
	}
	if g.r.IntN(6) == 0 {
		b = append(b, "CATEGORIES:Freunde,Arbeit")
	}
	if g.r.IntN(8) == 0 {
		b = append(b, "URL:https://example.org/~"+local)
	}
	if i%10 == 5 {
		if v4 {
			b = append(b, "PHOTO:data:image/png;base64,"+g.pick(g.pngs))
		} else {
			b = append(b, "PHOTO;ENCODING=b;TYPE=JPEG:"+g.pick(g.jpegs))
		}
	}
	b = append(b, "REV:"+g.stamp, "END:VCARD")
	return fold(b)
}

// areaCodes keep the phone numbers of each book's cards its own.
var areaCodes = map[string]string{"c": "30", "f": "89"}

// VTIMEZONEs of the zones the events use.
var vtimezones = map[string][]string{
	"Europe/Berlin": {"BEGIN:VTIMEZONE", "TZID:Europe/Berlin",
		"BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
		"BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
		"END:VTIMEZONE"},
	"America/New_York": {"BEGIN:VTIMEZONE", "TZID:America/New_York",
		"BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT", "DTSTART:19700308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "END:DAYLIGHT",
		"BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST", "DTSTART:19701101T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD",
		"END:VTIMEZONE"},
}

var (
	summaries = []string{"Team meeting", "Zahnarzt", "Café mit Jürgen", "Call with New York", "Chorprobe",
		"Sprint review", "Elternabend", "Yoga", "Dîner chez Chloé", "Flight to Lisbon"}
	locations = []string{"Raum 3.14", "Alexanderplatz 1\\, Berlin", "Zoom", "Café Einstein", "JFK Terminal 4"}
)

// calendar wraps components in a VCALENDAR with the VTIMEZONE of each
// zone named.
func calendar(zones []string, comps ...[]string) string {
	b := []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//rolodav tests//realdav//EN", "CALSCALE:GREGORIAN"}
	for _, z := range uniq(zones) {
		b = append(b, vtimezones[z]...)
	}
	for _, c := range comps {
		b = append(b, c...)
	}
	return fold(append(b, "END:VCALENDAR"))
}

// when is a date-time in a zone ("" for UTC) as a property.
func when(prop string, t time.Time, zone string) string {
	if zone == "" {
		return prop + ":" + t.UTC().Format("20060102T150405Z")
	}
	return prop + ";TZID=" + zone + ":" + t.Format("20060102T150405")
}

func (g *gen) events(n int) []Object {
	var objs []Object
	base := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range n {
		uid := g.uuid() + "@realdav.example"
		day := base.AddDate(0, 0, g.r.IntN(540))
		start := day.Add(time.Duration(7+g.r.IntN(12))*time.Hour + time.Duration(g.r.IntN(4))*15*time.Minute)
		end := start.Add(time.Duration(1+g.r.IntN(3)) * 30 * time.Minute)
		// Each its own summary: events the same but for the UID would
		// be one event twice.
		ev := []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:" + g.stamp, fmt.Sprintf("SUMMARY:%s #%d", g.pick(summaries), i+1)}
		var zones []string
		var extra [][]string
		switch i % 8 {
		case 0: // UTC
			ev = append(ev, when("DTSTART", start, ""), when("DTEND", end, ""))
		case 1, 2: // a zone's local time
			zone := []string{"Europe/Berlin", "America/New_York"}[i%8-1]
			zones = append(zones, zone)
			ev = append(ev, when("DTSTART", start, zone), when("DTEND", end, zone), "LOCATION:"+g.pick(locations))
		case 3: // all day, one to three days
			ev = append(ev, "DTSTART;VALUE=DATE:"+day.Format("20060102"), "DTEND;VALUE=DATE:"+day.AddDate(0, 0, 1+g.r.IntN(3)).Format("20060102"), "TRANSP:TRANSPARENT")
		case 4: // weekly in Berlin, one instance cancelled, two moved
			zones = append(zones, "Europe/Berlin")
			ev = append(ev, when("DTSTART", start, "Europe/Berlin"), when("DTEND", end, "Europe/Berlin"),
				"RRULE:FREQ=WEEKLY;COUNT=12", when("EXDATE", start.AddDate(0, 0, 14), "Europe/Berlin"))
			for _, k := range []int{3, 5} {
				orig := start.AddDate(0, 0, 7*k)
				moved := orig.Add(90 * time.Minute)
				extra = append(extra, []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:" + g.stamp,
					when("RECURRENCE-ID", orig, "Europe/Berlin"), when("DTSTART", moved, "Europe/Berlin"),
					when("DTEND", moved.Add(end.Sub(start)), "Europe/Berlin"), "SUMMARY:" + g.pick(summaries) + " (verschoben)",
					"SEQUENCE:1", "END:VEVENT"})
			}
		case 5: // daily in New York, one instance moved
			zones = append(zones, "America/New_York")
			ev = append(ev, when("DTSTART", start, "America/New_York"), when("DTEND", end, "America/New_York"),
				"RRULE:FREQ=DAILY;COUNT=10")
			orig := start.AddDate(0, 0, 4)
			extra = append(extra, []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:" + g.stamp,
				when("RECURRENCE-ID", orig, "America/New_York"), when("DTSTART", orig.Add(-time.Hour), "America/New_York"),
				when("DTEND", orig.Add(-time.Hour).Add(end.Sub(start)), "America/New_York"), "SUMMARY:Early call", "SEQUENCE:2", "END:VEVENT"})
		case 6: // yearly, all day
			ev = append(ev, "DTSTART;VALUE=DATE:"+day.Format("20060102"), "DTEND;VALUE=DATE:"+day.AddDate(0, 0, 1).Format("20060102"),
				"RRULE:FREQ=YEARLY", "CATEGORIES:Geburtstag")
		case 7: // monthly in UTC until a date, one skipped, with a reminder
			ev = append(ev, when("DTSTART", start, ""), when("DTEND", end, ""),
				"RRULE:FREQ=MONTHLY;UNTIL="+start.AddDate(1, 0, 0).UTC().Format("20060102T150405Z"),
				when("EXDATE", start.AddDate(0, 2, 0), ""),
				"DESCRIPTION:Bitte Unterlagen mitbringen\\, danke.\\nZweite Zeile: Größe & Maß")
			ev = append(ev, "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM")
		}
		ev = append(ev, "END:VEVENT")
		objs = append(objs, Object{Name: strings.TrimSuffix(uid, "@realdav.example") + ".ics", UID: uid,
			Data: calendar(zones, append([][]string{ev}, extra...)...)})
	}
	return objs
}

func (g *gen) tasks(n int) []Object {
	var objs []Object
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	statuses := []string{"NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "NEEDS-ACTION", "CANCELLED"}
	for i := range n {
		uid := g.uuid()
		due := base.AddDate(0, 0, g.r.IntN(200))
		td := []string{"BEGIN:VTODO", "UID:" + uid, "DTSTAMP:" + g.stamp, "SUMMARY:" + []string{"Steuererklärung", "Buy milk",
			"Fahrrad reparieren", "Renew passport", "Geschenk für Zoë"}[i%5] + fmt.Sprintf(" #%d", i+1),
			fmt.Sprintf("PRIORITY:%d", 1+g.r.IntN(9))}
		var zones []string
		switch {
		case i == 0: // recurring, weekly
			zones = append(zones, "Europe/Berlin")
			td = append(td, when("DTSTART", due.Add(8*time.Hour), "Europe/Berlin"), when("DUE", due.Add(20*time.Hour), "Europe/Berlin"),
				"RRULE:FREQ=WEEKLY;BYDAY=MO", "STATUS:NEEDS-ACTION")
		case i%2 == 0:
			td = append(td, "DUE;VALUE=DATE:"+due.Format("20060102"), "STATUS:"+statuses[i%len(statuses)])
		default:
			td = append(td, when("DUE", due.Add(17*time.Hour), ""), "STATUS:"+statuses[i%len(statuses)])
		}
		switch statuses[i%len(statuses)] {
		case "COMPLETED":
			td = append(td, "COMPLETED:"+due.Add(-24*time.Hour).Format("20060102T150405Z"), "PERCENT-COMPLETE:100")
		case "IN-PROCESS":
			td = append(td, "PERCENT-COMPLETE:40")
		}
		if i > 0 && i%7 == 0 {
			td = append(td, "RELATED-TO:"+objs[i-1].UID, "DESCRIPTION:Teil von: vorige Aufgabe")
		}
		td = append(td, "END:VTODO")
		objs = append(objs, Object{Name: uid + ".ics", UID: uid, Data: calendar(zones, td)})
	}
	return objs
}

// fold joins content lines with CRLF, folding those over 75 octets
// (RFC 5545 3.1, RFC 6350 3.2) without splitting a UTF-8 sequence.
func fold(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		limit := 75
		for len(l) > limit {
			cut := limit
			for cut > 0 && l[cut]&0xC0 == 0x80 {
				cut--
			}
			b.WriteString(l[:cut] + "\r\n ")
			l = l[cut:]
			limit = 74 // the leading space counts
		}
		b.WriteString(l + "\r\n")
	}
	return b.String()
}
