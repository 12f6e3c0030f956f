package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

func cardCount(t *testing.T, st store.Store, kind store.Kind, coll string) int {
	t.Helper()
	c, err := st.GetCollection(context.Background(), destLogin, kind, coll)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	st.ListObjects(context.Background(), c.ID, false, func(o *store.Object) error { n++; return nil })
	return n
}

// A card the source serves without a UID gets the same UID here on every
// run, so that once it changes at the source, the next run updates it
// rather than adding it again.
func TestRunCardWithoutUIDChangedAtSourceIsUpdated(t *testing.T) {
	noUID := regexp.MustCompile(`UID:nouid(&#13;|&#xD;|\r)?\n`)
	s := seeded(t, rewriteAnswers(func(r *http.Request, _ string, b []byte) []byte {
		if r.Method == "REPORT" || r.Method == http.MethodGet {
			return noUID.ReplaceAll(b, nil)
		}
		return b
	}))
	s.put(s.path(store.KindCard, "contacts", "nouid.vcf"), card("nouid", "No Uid"))
	st := destStore(t)
	opt := runOpts(s)
	opt.Only = OnlyContacts
	migrateAll(t, st, opt)
	if n := cardCount(t, st, store.KindCard, "contacts"); n != 3 {
		t.Fatalf("first run: %d cards", n)
	}
	s.put(s.path(store.KindCard, "contacts", "nouid.vcf"), card("nouid", "No Uid Changed"))
	sum := migrateAll(t, st, opt)
	r := result(t, sum, store.KindCard, "contacts")
	t.Logf("second run, contacts: %+v", r.Result)
	if n := cardCount(t, st, store.KindCard, "contacts"); n != 3 || r.Added != 0 {
		t.Errorf("after a change at the source of a card without UID: %d cards here (want 3), added %d (want 0, updated 1)", n, r.Added)
	}
}

// A source without sync-collection is listed whole on each run; after a
// merge here, a run where nothing changed at the source counts no fold,
// no absorption, and offers no duplicates page.
func TestRunFullListingAfterMergeCountsNothing(t *testing.T) {
	s := seeded(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "REPORT" {
				var b bytes.Buffer
				b.ReadFrom(r.Body)
				if strings.Contains(b.String(), "sync-collection") {
					http.Error(w, "no sync here", http.StatusForbidden)
					return
				}
				r.Body = readAgain{bytes.NewReader(b.Bytes())}
			}
			h.ServeHTTP(w, r)
		})
	})
	st := destStore(t)
	ctx := context.Background()
	opt := runOpts(s)
	opt.Only = OnlyContacts
	migrateAll(t, st, opt)
	c, _ := st.GetCollection(ctx, destLogin, store.KindCard, "contacts")
	mergeHere(t, st, c, "ann.vcf", "bob.vcf")
	before, _ := st.GetObject(ctx, c.ID, "ann.vcf")
	for run := 2; run <= 3; run++ {
		sum := migrateAll(t, st, opt)
		r := result(t, sum, store.KindCard, "contacts")
		after, _ := st.GetObject(ctx, c.ID, "ann.vcf")
		t.Logf("run %d: %+v, offer duplicates %v, survivor etag %s→%s", run, r.Result, r.OfferDuplicates(), before.ETag, after.ETag)
		if r.Folded+r.Absorbed+r.Added+r.Updated != 0 || r.OfferDuplicates() {
			t.Errorf("run %d with nothing changed at the source: folded %d, absorbed %d, offer duplicates %v",
				run, r.Folded, r.Absorbed, r.OfferDuplicates())
		}
	}
}

// The source's default calendar takes events and tasks, and the user has
// no task list any more: its tasks go to a task list made for them, not
// rejected.
func TestRunMakesTheTaskListItNeeds(t *testing.T) {
	s := seeded(t, nil)
	if code, _, b := s.do("DELETE", s.path(store.KindCal, "calendar"), ""); code != 204 {
		t.Fatalf("DELETE calendar: %d %s", code, b)
	}
	s.collection(store.Collection{Kind: store.KindCal, Name: "personal", DisplayName: "Personal",
		Components: []string{"VEVENT", "VTODO"}})
	s.put(s.path(store.KindCal, "personal", "p1.ics"), event("p1", "Dentist"))
	s.put(s.path(store.KindCal, "personal", "p2.ics"), todo("p2", "Call back"))
	st := destStore(t)
	ctx := context.Background()
	tasks, _ := st.GetCollection(ctx, destLogin, store.KindCal, "tasks")
	if err := st.DeleteCollection(ctx, tasks.ID); err != nil {
		t.Fatal(err)
	}
	opt := runOpts(s)
	opt.Only = OnlyCalendars
	sum := migrateAll(t, st, opt)
	r := result(t, sum, store.KindCal, "personal")
	t.Logf("personal → %s (%s), routes %v: %+v", r.Dest.Name, r.Why, r.Routes, r.Result)
	if r.Rejected != 0 {
		t.Errorf("personal: %d rejected: %+v", r.Rejected, r.Problems)
	}
	// The run made "tasks" (for the source's own task list) but did not
	// route to it; the next run has it, but the token was kept: the
	// rejected task never comes.
	t.Logf("tasks planned as %s (%s), made %v", result(t, sum, store.KindCal, "tasks").Dest.Name, result(t, sum, store.KindCal, "tasks").Why, result(t, sum, store.KindCal, "tasks").Create)
	sum = migrateAll(t, st, opt)
	r = result(t, sum, store.KindCal, "personal")
	t.Logf("second run: routes %v, incremental %v: %+v; tasks holds %d", r.Routes, r.Incremental, r.Result, cardCount(t, st, store.KindCal, "tasks"))
	if cardCount(t, st, store.KindCal, "tasks") != 1 {
		t.Errorf("the task rejected on the first run never arrives")
	}
}

// A default calendar that takes events, tasks and journals (as every
// Xandikos calendar says it does) goes to the user's calendar; its journal
// entries go to a journal made for them, not rejected.
func TestRunMakesAJournalForJournals(t *testing.T) {
	s := seeded(t, nil)
	if code, _, b := s.do("DELETE", s.path(store.KindCal, "calendar"), ""); code != 204 {
		t.Fatalf("DELETE calendar: %d %s", code, b)
	}
	s.collection(store.Collection{Kind: store.KindCal, Name: "calendar", DisplayName: "Calendar",
		Components: []string{"VEVENT", "VTODO", "VJOURNAL"}})
	s.put(s.path(store.KindCal, "calendar", "j1.ics"), "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VJOURNAL\r\nUID:j1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240102\r\nSUMMARY:Diary\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n")
	st := destStore(t)
	opt := runOpts(s)
	opt.Only = OnlyCalendars
	sum := migrateAll(t, st, opt)
	r := result(t, sum, store.KindCal, "calendar")
	t.Logf("calendar → %s (%s), routes %v: %+v", r.Dest.Name, r.Why, r.Routes, r.Result)
	if r.Rejected != 0 {
		t.Errorf("calendar: %d rejected: %+v", r.Rejected, r.Problems)
	}
}

// A run cancelled midway and started again brings everything once.
func TestRunCancelledThenRestarted(t *testing.T) {
	s := newOurServer(t, nil)
	for i := range 250 {
		s.put(s.path(store.KindCard, "contacts", fmt.Sprintf("c%03d.vcf", i)), card(fmt.Sprintf("c%03d", i), fmt.Sprintf("Person %03d", i)))
	}
	st := destStore(t)
	opt := runOpts(s)
	opt.Only = OnlyContacts
	ctx, cancel := context.WithCancel(context.Background())
	opt.Progress = func(p Progress) {
		if p.Done == 150 {
			cancel()
		}
	}
	sum, err := Run(ctx, st, destLogin, opt)
	t.Logf("cancelled run: %v, %+v", err, sum.Collections[0].Result)
	opt.Progress = nil
	sum = migrateAll(t, st, opt)
	r := result(t, sum, store.KindCard, "contacts")
	t.Logf("restart: %+v", r.Result)
	if n := cardCount(t, st, store.KindCard, "contacts"); n != 250 {
		t.Errorf("after restart: %d cards, want 250", n)
	}
	sum = migrateAll(t, st, opt)
	if r := result(t, sum, store.KindCard, "contacts"); r.Objects != 0 || !r.Incremental {
		t.Errorf("third run: %+v incremental %v", r.Result, r.Incremental)
	}
}

// Hrefs with odd characters all arrive.
func TestRunOddHrefs(t *testing.T) {
	s := newOurServer(t, nil)
	names := []string{"a+b.vcf", "%C3%BC.vcf", "x%3By.vcf", "sp%20ace%25.vcf", "q%3F.vcf", "amp%26.vcf", "t~il'de(1).vcf", "%2B.vcf"}
	for i, n := range names {
		s.put(s.path(store.KindCard, "contacts", n), card("u"+string(rune('a'+i)), "Person "+string(rune('A'+i))))
	}
	st := destStore(t)
	opt := runOpts(s)
	opt.Only = OnlyContacts
	sum := migrateAll(t, st, opt)
	r := result(t, sum, store.KindCard, "contacts")
	if r.Added != len(names) || r.Rejected != 0 {
		t.Errorf("odd hrefs: %+v", r.Result)
	}
}

// Recurring events with overrides and time zones come byte for byte.
func TestRunOverridesByteExact(t *testing.T) {
	s := seeded(t, nil)
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nUID:rec1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Paris:20240105T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:rec1\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20240112T090000\r\nDTSTART;TZID=Europe/Paris:20240112T100000\r\nDURATION:PT1H\r\nSUMMARY:Weekly (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	s.put(s.path(store.KindCal, "calendar", "rec1.ics"), ev)
	st := destStore(t)
	opt := runOpts(s)
	opt.Only = OnlyCalendars
	migrateAll(t, st, opt)
	if got := objectData(t, st, store.KindCal, "calendar", "rec1.ics"); string(got) != ev {
		t.Errorf("override event: %q", got)
	}
}

// A --map that names no source collection is the caller's mistake: an
// error that says so, and no mail.
func TestTrackMapMistakeMailsNothing(t *testing.T) {
	src := trackSource(t, 3, 0, nil)
	st := trackOpen(t, trackOwner, "owner password")
	opt := trackOptions(src, trackSrcPW)
	opt.Map = map[string]string{"nope": "x"}
	tr, err := Track(context.Background(), st, trackOwner, opt)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Run(context.Background())
	var me *MapError
	if !errors.As(err, &me) || me.Key != "nope" {
		t.Fatalf("run: %v", err)
	}
	if n := trackNotices(t, st); len(n) != 0 {
		t.Errorf("a --map mistake queued %d mails: %+v", len(n), n)
	}
}

// Radicale names collections by UUID: the default goes by display name.
// A calendar whose last segment says nothing (Google's "events") is made
// under its display name.
func TestRunDefaultsByDisplayName(t *testing.T) {
	s := newOurServer(t, nil)
	if code, _, b := s.do("DELETE", s.path(store.KindCard, "contacts"), ""); code != 204 {
		t.Fatalf("DELETE contacts: %d %s", code, b)
	}
	s.collection(store.Collection{Kind: store.KindCard, Name: "8f1c2e4a-uuid", DisplayName: "Contacts"})
	s.collection(store.Collection{Kind: store.KindCard, Name: "77aa-uuid", DisplayName: "Old phone"})
	s.collection(store.Collection{Kind: store.KindCal, Name: "events", DisplayName: "Family Trips", Components: []string{"VEVENT"}})
	st := destStore(t)
	sum := migrateAll(t, st, runOpts(s))
	if r := result(t, sum, store.KindCard, "8f1c2e4a-uuid"); r.Dest.Name != "contacts" || r.Why != WhyDefault {
		t.Errorf("the UUID-named Contacts went to %s (%s)", r.Dest.Name, r.Why)
	}
	if r := result(t, sum, store.KindCard, "77aa-uuid"); r.Dest.Name != "77aa-uuid" || r.Why != WhyNew {
		t.Errorf("Old phone went to %s (%s)", r.Dest.Name, r.Why)
	}
	if r := result(t, sum, store.KindCal, "events"); r.Dest.Name != "family-trips" {
		t.Errorf("events went to %s (%s)", r.Dest.Name, r.Why)
	}
}

// A run that stalled past store.MigrationStale, whose place another start
// took, stops at its next write, leaves the record as the other start
// marked it, and mails nothing.
func TestTrackTakenOver(t *testing.T) {
	src := trackSource(t, 20, 0, trackDelay(time.Second, func(r *http.Request) bool { return r.Method == "REPORT" }))
	st := trackOpen(t, trackOwner, "owner password")
	ctx := context.Background()
	tr, err := Track(ctx, st, trackOwner, trackOptions(src, trackSrcPW))
	if err != nil {
		t.Fatal(err)
	}
	tr.every, tr.beat = 10*time.Millisecond, 20*time.Millisecond
	// Another process, later, finds it stale and starts its own.
	other := &store.Migration{Owner: trackOwner, Source: "https://elsewhere.example/", SourceUser: "x",
		Started: time.Now().Add(store.MigrationStale + time.Minute)}
	if err := st.StartMigration(ctx, other); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	_, err = tr.Run(ctx)
	if !errors.Is(err, ErrTakenOver) {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("the run went on for %v after its place was taken", took)
	}
	m, err := st.GetMigration(ctx, trackOwner, tr.ID())
	if err != nil || m.State != store.MigrationInterrupted {
		t.Errorf("the taken-over record: %+v (%v)", m, err)
	}
	if n := trackNotices(t, st); len(n) != 0 {
		t.Errorf("a taken-over run queued %d mails", len(n))
	}
}
