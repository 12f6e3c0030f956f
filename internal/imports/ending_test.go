package imports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// TestRunFileEndsInsideACard: a file whose last card lacks its end keeps
// every card before it, counts the cut card as rejected and says so in a
// last problem, after the problems of the cards (even past MaxProblems).
func TestRunFileEndsInsideACard(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	var b strings.Builder
	for i := range 217 {
		b.WriteString(card(fmt.Sprint("u", i), fmt.Sprint("Person ", i), fmt.Sprint(i)))
	}
	good := b.String()
	cut := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:last\r\nFN:Last One\r\n"
	start := strings.Count(good, "\n") + 1
	var seen []imports.Problem
	res, err := imports.Run(context.Background(), st, c, strings.NewReader(good+cut), imports.Options{
		OnProblem: func(p imports.Problem) { seen = append(seen, p) }})
	if err != nil {
		t.Fatalf("a file that ends inside a card fails the import: %v", err)
	}
	if counts(res) != [4]int{217, 0, 0, 1} || res.Objects != 218 {
		t.Fatalf("counts: %+v", res)
	}
	want := imports.Problem{Line: start, End: true,
		Msg: fmt.Sprintf("the file ends inside a card that starts at line %d: that card was not imported", start)}
	if res.End == nil || *res.End != want {
		t.Fatalf("end: %+v, want %+v", res.End, want)
	}
	if len(res.Problems) != 0 || len(seen) != 1 || seen[0] != want {
		t.Errorf("problems %+v, told %+v", res.Problems, seen)
	}
	if got, err := st.GetCollection(context.Background(), "ann", store.KindCard, c.Name); err != nil || got.Count != 217 {
		t.Fatalf("the book holds %v cards (%v), want 217", got, err)
	}

	// Past MaxProblems the end is still told.
	st, c = newCollection(t, store.KindCard)
	bad := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN broken\r\nEND:VCARD\r\n"
	res = run(t, st, c, strings.Repeat(bad, imports.MaxProblems+2)+cut, imports.Options{})
	if res.Rejected != imports.MaxProblems+3 || len(res.Problems) != imports.MaxProblems || res.MoreProblems != 2 || res.End == nil {
		t.Errorf("many problems then the end: rejected %d, %d problems, %d more, end %+v", res.Rejected, len(res.Problems), res.MoreProblems, res.End)
	}
}

// TestRunStopsAtLineOutsideACard: a line that belongs to no card stops the
// import there; the cards before it stay, and the end says where.
func TestRunStopsAtLineOutsideACard(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	res := run(t, st, c, card("a", "Ann", "1")+"hello\r\n"+card("b", "Bob", "2"), imports.Options{})
	if counts(res) != [4]int{1, 0, 0, 0} {
		t.Fatalf("counts: %+v", res)
	}
	if res.End == nil || res.End.Line != 7 || !res.End.End || !strings.Contains(res.End.Msg, "nothing from this line on was imported") {
		t.Errorf("end: %+v", res.End)
	}
}

// TestRunCalendarThatCannotBeRead: an .ics is read whole before any
// object is imported, so a broken one imports nothing and says so.
func TestRunCalendarThatCannotBeRead(t *testing.T) {
	st, c := newCollection(t, store.KindCal, "VEVENT")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nSUMMARY:One\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:e2\r\nDTSTAMP:20260101T000000Z\r\n"
	res := run(t, st, c, ics, imports.Options{})
	if counts(res) != [4]int{0, 0, 0, 0} || res.End == nil || !res.End.End || !strings.Contains(res.End.Msg, "nothing in it was imported") {
		t.Errorf("import: %+v, end %+v", res, res.End)
	}
}

// TestRunNamesObjects: problems name cards by their name and events by
// their title, never by UID.
func TestRunNamesObjects(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	run(t, st, c, card("d7752d69-aaaa", `Jane Doe\, Jr.`, "1"), imports.Options{})
	file := card("other-uid", `Jane Doe\, Jr.`, "1") +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN:Broken Bob\r\nTEL broken\r\nEND:VCARD\r\n"
	res := run(t, st, c, file, imports.Options{})
	want := []imports.Problem{
		{Line: 1, Name: "Jane Doe, Jr.", Skipped: true, SameAs: "d7752d69-aaaa",
			Msg: "same content as Jane Doe, Jr., already in this address book"},
		{Line: 11, Name: "Broken Bob", Msg: "property without a colon"},
	}
	if len(res.Problems) != len(want) {
		t.Fatalf("problems: %+v", res.Problems)
	}
	for i := range want {
		if res.Problems[i] != want[i] {
			t.Errorf("problem %d: %+v, want %+v", i, res.Problems[i], want[i])
		}
	}

	st, cal := newCollection(t, store.KindCal, "VEVENT")
	event := func(uid string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" +
			"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nSUMMARY:Team standup\r\n" +
			"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nDESCRIPTION:x\r\nSUMMARY:Not this\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	run(t, st, cal, event("e1"), imports.Options{})
	res = run(t, st, cal, event("e2"), imports.Options{})
	if len(res.Problems) != 1 || res.Problems[0].Name != "Team standup" || res.Problems[0].Msg != "same content as Team standup, already in this calendar" {
		t.Errorf("event problems: %+v", res.Problems)
	}
}
