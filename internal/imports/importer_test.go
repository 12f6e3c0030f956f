package imports_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// Objects added one by one follow Run's rules, keep their bytes, and name
// their problems by the reference they came with.
func TestImporterCards(t *testing.T) {
	ctx := context.Background()
	st, c := newCollection(t, store.KindCard)
	add := func(im *imports.Importer, data, ref string) {
		t.Helper()
		if err := im.Add([]byte(data), ref); err != nil {
			t.Fatal(err)
		}
	}
	im, err := imports.NewImporter(ctx, st, c, imports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	folded := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:Ann\r\nNOTE:a long note folded here\r\n  and continued\r\nEND:VCARD\r\n"
	add(im, folded, "/src/a.vcf")
	add(im, card("b", "Bob", "2"), "/src/b.vcf")
	add(im, card("c", "Bob", "2"), "/src/c.vcf") // Bob's content under another UID
	add(im, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:d\r\nFN broken\r\nEND:VCARD\r\n", "/src/d.vcf")
	im.Reject("/src/e.vcf", "the source answered 500 for it")
	res := im.Result()
	if counts(res) != [4]int{2, 0, 1, 2} || res.Objects != 5 {
		t.Fatalf("first pass: %+v", res)
	}
	want := []imports.Problem{
		{Line: 1, Ref: "/src/c.vcf", Name: "Bob", Skipped: true, SameAs: "b", Msg: "same content as Bob, already in this address book"},
		{Line: 4, Ref: "/src/d.vcf", Msg: "property without a colon"},
		{Ref: "/src/e.vcf", Msg: "the source answered 500 for it"},
	}
	if len(res.Problems) != len(want) {
		t.Fatalf("problems: %+v", res.Problems)
	}
	for i := range want {
		if res.Problems[i] != want[i] {
			t.Errorf("problem %d: %+v, want %+v", i, res.Problems[i], want[i])
		}
	}
	o, err := st.GetObject(ctx, c.ID, "a.vcf")
	if err != nil || !bytes.Equal(o.Data, []byte(folded)) {
		t.Fatalf("stored card: %v %q", err, o.Data)
	}

	// A second importer sees what the first added: unchanged is skipped,
	// changed is updated.
	im, err = imports.NewImporter(ctx, st, c, imports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	add(im, folded, "/src/a.vcf")
	add(im, card("b", "Bob", "3"), "/src/b.vcf")
	if res := im.Result(); counts(res) != [4]int{0, 1, 1, 0} || len(res.Problems) != 0 {
		t.Fatalf("second pass: %+v", res)
	}
}

// A calendar object is validated whole and stored as it came, with its
// time zone; one with a component the calendar does not take is rejected.
func TestImporterCalendar(t *testing.T) {
	ctx := context.Background()
	st, c := newCollection(t, store.KindCal, "VEVENT")
	im, err := imports.NewImporter(ctx, st, c, imports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//src//EN\r\n" +
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n" +
		"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
		"BEGIN:VEVENT\r\nUID:ev1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:ev1\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\r\nDTSTART;TZID=Europe/Berlin:20260112T100000\r\nDURATION:PT1H\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	todo := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//src//EN\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Task\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	for ref, data := range map[string]string{"/cal/ev1.ics": ev, "/cal/t1.ics": todo} {
		if err := im.Add([]byte(data), ref); err != nil {
			t.Fatal(err)
		}
	}
	res := im.Result()
	if counts(res) != [4]int{1, 0, 0, 1} || len(res.Problems) != 1 || res.Problems[0].Ref != "/cal/t1.ics" {
		t.Fatalf("result: %+v", res)
	}
	o, err := st.GetObject(ctx, c.ID, "ev1.ics")
	if err != nil || string(o.Data) != ev || o.Component != "VEVENT" || !o.LastEnd.IsZero() {
		t.Fatalf("stored event: %v %+v", err, o)
	}
}
