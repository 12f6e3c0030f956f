package imports_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

func newCollection(t *testing.T, kind store.Kind, components ...string) (store.Store, *store.Collection) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: "ann", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "ann", Kind: kind, Name: "things", DisplayName: "Things", Components: components}
	if err := st.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	return st, c
}

func run(t *testing.T, st store.Store, c *store.Collection, file string, opt imports.Options) *imports.Result {
	t.Helper()
	res, err := imports.Run(context.Background(), st, c, strings.NewReader(file), opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func counts(r *imports.Result) [4]int { return [4]int{r.Added, r.Updated, r.Skipped, r.Rejected} }

func card(uid, fn, tel string) string {
	s := "BEGIN:VCARD\r\nVERSION:3.0\r\n"
	if uid != "" {
		s += "UID:" + uid + "\r\n"
	}
	return s + "FN:" + fn + "\r\nTEL:" + tel + "\r\nEND:VCARD\r\n"
}

func TestRunCards(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	file := card("a", "Ann", "1") + card("", "No Uid", "2") + "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN broken\r\nEND:VCARD\r\n"
	res := run(t, st, c, file, imports.Options{})
	if counts(res) != [4]int{2, 0, 0, 1} {
		t.Fatalf("first import: %+v", res)
	}
	// The broken card starts at line 12; its property line is the 15th.
	if len(res.Problems) != 1 || res.Problems[0] != (imports.Problem{Line: 15, Msg: "property without a colon"}) {
		t.Errorf("problems: %+v", res.Problems)
	}

	// Unchanged cards are skipped; the card without a UID got one, so its
	// second copy is skipped as the same content.
	res = run(t, st, c, file, imports.Options{})
	if counts(res) != [4]int{0, 0, 2, 1} {
		t.Fatalf("second import: %+v", res)
	}

	// A known UID with new content updates the card.
	res = run(t, st, c, card("a", "Ann", "99"), imports.Options{})
	if counts(res) != [4]int{0, 1, 0, 0} {
		t.Fatalf("changed card: %+v", res)
	}
	o, err := st.GetObject(context.Background(), c.ID, "a.vcf")
	if err != nil || !strings.Contains(string(o.Data), "TEL:99") {
		t.Fatalf("updated card: %v %q", err, o.Data)
	}
}

func TestRunSameContentUnderAnotherUID(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	run(t, st, c, card("a", "Ann", "1"), imports.Options{})
	copyOf := "\r\n" + strings.Replace(card("b", "Ann", "1"), "END:VCARD", "REV:2026-01-01T00:00:00Z\r\nEND:VCARD", 1)
	res := run(t, st, c, copyOf, imports.Options{})
	if counts(res) != [4]int{0, 0, 1, 0} {
		t.Fatalf("same content: %+v", res)
	}
	want := imports.Problem{Line: 2, Name: "Ann", Skipped: true, Msg: "same content as Ann, already in this address book", SameAs: "a"}
	if len(res.Problems) != 1 || res.Problems[0] != want {
		t.Errorf("problems: %+v", res.Problems)
	}
	n := 0
	res = run(t, st, c, copyOf, imports.Options{KeepSameContent: true, Progress: func(i int) { n = i }})
	if counts(res) != [4]int{1, 0, 0, 0} || len(res.Problems) != 0 || n != 1 {
		t.Fatalf("keep same content: %+v, progress %d", res, n)
	}
}

func TestRunEvents(t *testing.T) {
	st, c := newCollection(t, store.KindCal, "VEVENT")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nSUMMARY:One\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261103T090000Z\r\nSUMMARY:No UID\r\nEND:VEVENT\r\n" +
		"BEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:A task\r\nEND:VTODO\r\n" +
		"END:VCALENDAR\r\n"
	res := run(t, st, c, ics, imports.Options{})
	if counts(res) != [4]int{1, 0, 0, 2} {
		t.Fatalf("import: %+v", res)
	}
	if len(res.Problems) != 2 || res.Problems[0].Line != 10 || res.Problems[0].Msg != "the component has no UID" || res.Problems[1].Line != 15 {
		t.Errorf("problems: %+v", res.Problems)
	}
	o, err := st.GetObject(context.Background(), c.ID, "e1.ics")
	if err != nil || o.Component != "VEVENT" || o.FirstStart.IsZero() {
		t.Fatalf("imported event: %v %+v", err, o)
	}
	res = run(t, st, c, ics, imports.Options{})
	if counts(res) != [4]int{0, 0, 1, 2} {
		t.Fatalf("second import: %+v", res)
	}
}

func TestRunProblemsBoundedAndStreamed(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	bad := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN broken\r\nEND:VCARD\r\n"
	var seen []int
	res := run(t, st, c, strings.Repeat(bad, imports.MaxProblems+5), imports.Options{OnProblem: func(p imports.Problem) { seen = append(seen, p.Line) }})
	if res.Rejected != imports.MaxProblems+5 || len(res.Problems) != imports.MaxProblems || res.MoreProblems != 5 {
		t.Fatalf("rejected %d, kept %d problems, %d more", res.Rejected, len(res.Problems), res.MoreProblems)
	}
	if len(seen) != imports.MaxProblems+5 || seen[0] != 4 || seen[len(seen)-1] != 5*(imports.MaxProblems+4)+4 {
		t.Errorf("OnProblem saw %d problems, lines %v…%v", len(seen), seen[0], seen[len(seen)-1])
	}
}

// bigCard is a valid vCard of about size bytes.
func bigCard(uid string, size int) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Big " + uid + "\r\n")
	for b.Len() < size {
		b.WriteString("NOTE:" + strings.Repeat("x", 60) + "\r\n")
	}
	b.WriteString("END:VCARD\r\n")
	return b.String()
}

func TestRunRejectsObjectsOverTheSizeLimit(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	file := card("a", "Ann", "1") + bigCard("big", 20000) + card("b", "Bob", "2")
	res := run(t, st, c, file, imports.Options{MaxObjectSize: 10000})
	if counts(res) != [4]int{2, 0, 0, 1} {
		t.Fatalf("import: %+v", res)
	}
	if len(res.Problems) != 1 || res.Problems[0].Line != 7 || !strings.Contains(res.Problems[0].Msg, "at most 10000 bytes") {
		t.Errorf("problems: %+v", res.Problems)
	}
	if _, err := st.GetObject(context.Background(), c.ID, "big.vcf"); err == nil {
		t.Error("the card over the limit was stored")
	}
	// The default is DAV's: 10 MiB.
	res = run(t, st, c, bigCard("big", 11<<20), imports.Options{})
	if counts(res) != [4]int{0, 0, 0, 1} {
		t.Errorf("a card over 10 MiB with the default limit: %+v", res)
	}

	st, cal := newCollection(t, store.KindCal, "VEVENT")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:small\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261105T090000Z\r\nSUMMARY:Small\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:big\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261105T090000Z\r\nDESCRIPTION:" + strings.Repeat("x", 20000) + "\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	res = run(t, st, cal, ics, imports.Options{MaxObjectSize: 10000})
	if counts(res) != [4]int{1, 0, 0, 1} || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "at most 10000 bytes") {
		t.Errorf("calendar import: %+v", res)
	}
}

// TestRunDoesNotHoldACardOverTheLimit: a 50 MB card on one line is refused
// with its size, at its first line, without being read into memory.
func TestRunDoesNotHoldACardOverTheLimit(t *testing.T) {
	st, c := newCollection(t, store.KindCard)
	head := card("a", "Ann", "1") + "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:"
	tail := "\r\nEND:VCARD\r\n" + card("b", "Bob", "2")
	const note = 50 << 20
	r := io.MultiReader(strings.NewReader(head), io.LimitReader(xs{}, note), strings.NewReader(tail))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := imports.Run(context.Background(), st, c, r, imports.Options{MaxObjectSize: 1 << 20})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	size := len("BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:") + note + len("\r\nEND:VCARD\r\n")
	want := imports.Problem{Line: 7, Msg: fmt.Sprintf("the card has %d bytes; this server takes at most 1048576 bytes per card", size)}
	if counts(res) != [4]int{2, 0, 0, 1} || res.Objects != 3 || len(res.Problems) != 1 || res.Problems[0] != want {
		t.Errorf("import: %+v", res)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("refusing a 50 MB card allocated %.1f MB", float64(alloc)/(1<<20))
	}
}

// xs reads as an endless run of 'x'.
type xs struct{}

func (xs) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}
