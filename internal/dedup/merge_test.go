package dedup

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/contacts"
)

var testNow = time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)

func card(uid string, lines ...string) Card {
	return Card{UID: uid, Data: []byte("BEGIN:VCARD\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCARD\r\n")}
}

func mustMerge(t *testing.T, ref Card, others []Card, choices map[string]int) string {
	t.Helper()
	out, undo, err := Merge(ref, others, choices, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contacts.Validate(out); err != nil {
		t.Fatalf("merged card invalid: %v\n%s", err, out)
	}
	if !bytes.Equal(undo.Reference.Data, ref.Data) || undo.Reference.UID != ref.UID || len(undo.Others) != len(others) {
		t.Fatalf("undo does not hold the inputs: %+v", undo)
	}
	return string(out)
}

func values(pvs []PropValue) []string {
	var s []string
	for _, pv := range pvs {
		s = append(s, pv.Name+pv.Params+":"+pv.Value+"@"+pv.From)
	}
	return s
}

var (
	johnWork = card("a",
		"VERSION:3.0", "UID:a", "N:Doe;John;;;", "FN:John Doe",
		"TEL;TYPE=WORK,VOICE:+33 1 44 55 66 77", "REV:2020-01-01T00:00:00Z")
	johnMobile = card("b",
		"VERSION:3.0", "UID:b", "N:Doe;John;;;", "FN:john  doe",
		"TEL;TYPE=CELL:06 12 34 56 78", "TEL;TYPE=WORK:01 44 55 66 77",
		"EMAIL;TYPE=INTERNET:John.Doe@Example.com", "BDAY:1980-04-02")
)

func TestPlanTypicalDuplicates(t *testing.T) {
	plan, err := PlanMerge(johnWork, []Card{johnMobile})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Reference != "a" {
		t.Errorf("Reference = %q", plan.Reference)
	}
	wantIdent := []string{"N:Doe;John;;;@b", "FN:john  doe@b", "TEL;TYPE=WORK:01 44 55 66 77@b"}
	if got := values(plan.Identical); !reflect.DeepEqual(got, wantIdent) {
		t.Errorf("Identical = %q, want %q", got, wantIdent)
	}
	wantAdded := []string{"BDAY:1980-04-02@b", "TEL;TYPE=CELL:06 12 34 56 78@b", "EMAIL;TYPE=INTERNET:John.Doe@Example.com@b"}
	if got := values(plan.Added); !reflect.DeepEqual(got, wantAdded) {
		t.Errorf("Added = %q, want %q", got, wantAdded)
	}
	if len(plan.Conflicts) != 0 {
		t.Errorf("Conflicts = %+v", plan.Conflicts)
	}

	got := mustMerge(t, johnWork, []Card{johnMobile}, nil)
	want := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nN:Doe;John;;;\r\nFN:John Doe\r\n" +
		"TEL;TYPE=WORK,VOICE:+33 1 44 55 66 77\r\nTEL;TYPE=CELL:06 12 34 56 78\r\n" +
		"REV:20261122T160000Z\r\nBDAY:1980-04-02\r\nEMAIL;TYPE=INTERNET:John.Doe@Example.com\r\nEND:VCARD\r\n"
	if got != want {
		t.Errorf("merged:\n%s\nwant:\n%s", got, want)
	}
}

func TestPlanConflicts(t *testing.T) {
	ref := card("a", "VERSION:4.0", "UID:a", "FN:Ann Lee", "BDAY:19800402", "ORG:Acme;Sales")
	o1 := card("b", "VERSION:4.0", "UID:b", "FN:Ann Lee", "BDAY:19810402", "ORG:ACME;sales")
	o2 := card("c", "VERSION:4.0", "UID:c", "FN:Ann Lee", "BDAY:1982-01-01", "ORG:Globex", "TITLE:Boss", "TITLE:Chief")
	plan, err := PlanMerge(ref, []Card{o1, o2})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	refs := map[string]string{}
	for _, c := range plan.Conflicts {
		got[c.Name] = values(c.Others)
		refs[c.Name] = c.Reference
	}
	want := map[string][]string{
		"BDAY":  {"BDAY:19810402@b", "BDAY:1982-01-01@c"},
		"ORG":   {"ORG:Globex@c"}, // ACME;sales is the same organisation
		"TITLE": {"TITLE:Boss@c", "TITLE:Chief@c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conflicts = %q, want %q", got, want)
	}
	if refs["BDAY"] != "19800402" || refs["ORG"] != "Acme;Sales" || refs["TITLE"] != "" {
		t.Errorf("references = %q", refs)
	}
	// The reference wins by default; TITLE, absent from the reference, takes the first.
	m := mustMerge(t, ref, []Card{o1, o2}, nil)
	for _, s := range []string{"BDAY:19800402\r\n", "ORG:Acme;Sales\r\n", "TITLE:Boss\r\n"} {
		if !strings.Contains(m, s) {
			t.Errorf("merged lacks %q:\n%s", s, m)
		}
	}
	for _, s := range []string{"19810402", "Globex", "Chief"} {
		if strings.Contains(m, s) {
			t.Errorf("merged has %q:\n%s", s, m)
		}
	}
}

func TestMergeChoices(t *testing.T) {
	ref := card("a", "VERSION:4.0", "UID:a", "FN:Ann Lee", "BDAY:19800402", "ORG:Acme")
	o1 := card("b", "VERSION:4.0", "UID:b", "FN:Ann Lee", "BDAY:19810402", "ORG:Globex", "TITLE:Boss")
	o2 := card("c", "VERSION:4.0", "UID:c", "FN:Ann Lee", "BDAY;VALUE=date:1982-01-01", "TITLE:Chief")
	m := mustMerge(t, ref, []Card{o1, o2}, map[string]int{"BDAY": 1, "ORG": -1, "TITLE": 1})
	want := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\r\nFN:Ann Lee\r\nBDAY;VALUE=date:1982-01-01\r\nORG:Acme\r\n" +
		"TITLE:Chief\r\nREV:20261122T160000Z\r\nEND:VCARD\r\n"
	if m != want {
		t.Errorf("merged:\n%s\nwant:\n%s", m, want)
	}
	for _, bad := range []map[string]int{{"BDAY": 2}, {"FN": 0}, {"NOTE": 0}, {"BDAY": -2}} {
		if _, _, err := Merge(ref, []Card{o1, o2}, bad, testNow); err == nil {
			t.Errorf("choices %v: no error", bad)
		}
	}
}

func TestMergeNotes(t *testing.T) {
	ref := card("a", "VERSION:3.0", "UID:a", "FN:X", "NOTE:Met at the fair.")
	o1 := card("b", "VERSION:3.0", "UID:b", "FN:X", "NOTE:Likes tea\\; no sugar.\\nCall after 6.")
	o2 := card("c", "VERSION:3.0", "UID:c", "FN:X", "NOTE:met at  the FAIR.")
	o3 := card("d", "VERSION:3.0", "UID:d", "FN:X", "NOTE:Likes tea\\; no sugar.\\nCall after 6.")
	m := mustMerge(t, ref, []Card{o1, o2, o3}, nil)
	want := "NOTE:Met at the fair.\\n\\nLikes tea\\; no sugar.\\nCall after 6.\r\n"
	if !strings.Contains(m, want) || strings.Count(m, "NOTE") != 1 {
		t.Errorf("merged:\n%s\nwant %q", m, want)
	}
	// Without a note in the reference, the first other's note becomes the note.
	m = mustMerge(t, card("z", "VERSION:3.0", "UID:z", "FN:X"), []Card{o1, ref}, nil)
	if !strings.Contains(m, "NOTE:Likes tea\\; no sugar.\\nCall after 6.\\n\\nMet at the fair.\r\n") {
		t.Errorf("merged:\n%s", m)
	}
}

func TestMergeAcrossVersions(t *testing.T) {
	// 4.0 reference, 3.0 other with an inline photo and TYPE=pref.
	ref4 := card("a", "VERSION:4.0", "UID:a", "FN:Ann", "EMAIL;PREF=1:ann@example.com", "X-ADDRESSBOOKSERVER-X:1")
	o3 := card("b", "VERSION:3.0", "UID:b", "FN:Ann", "EMAIL;TYPE=INTERNET,pref:ANN@example.com",
		"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ", "TEL;TYPE=CELL,pref:+1 415 555 1234")
	m := mustMerge(t, ref4, []Card{o3}, nil)
	for _, s := range []string{"VERSION:4.0\r\n", "PHOTO:data:image/jpeg;base64,/9j/4AAQ\r\n", "TEL;TYPE=CELL;PREF=1:+1 415 555 1234\r\n",
		"EMAIL;PREF=1;TYPE=INTERNET:ann@example.com\r\n"} {
		if !strings.Contains(m, s) {
			t.Errorf("merged lacks %q:\n%s", s, m)
		}
	}
	if info, _ := contacts.Validate([]byte(m)); info.Version != "4.0" || info.UID != "a" {
		t.Errorf("info = %+v", info)
	}

	// 3.0 reference, 4.0 other with a data: URI photo and KIND.
	ref3 := card("c", "VERSION:3.0", "UID:c", "N:Lee;Ann;;;", "TEL;TYPE=HOME:(415) 555-1234")
	o4 := card("d", "VERSION:4.0", "UID:d", "FN:Ann Lee", "KIND:individual", "TEL;VALUE=uri;TYPE=cell:tel:+1-415-555-1234",
		"PHOTO:data:image/png;base64,iVBORw0K", "ADR;LABEL=\"1 Main St\";TYPE=home:;;1 Main St;Springfield;;;")
	m = mustMerge(t, ref3, []Card{o4}, nil)
	for _, s := range []string{"VERSION:3.0\r\n", "FN:Ann Lee\r\n", "X-ADDRESSBOOKSERVER-KIND:individual\r\n",
		"PHOTO;ENCODING=b;TYPE=PNG:iVBORw0K\r\n", "TEL;TYPE=HOME,cell:(415) 555-1234\r\n",
		"ADR;TYPE=home:;;1 Main St;Springfield;;;\r\nLABEL;TYPE=home:1 Main St\r\n"} {
		if !strings.Contains(m, s) {
			t.Errorf("merged lacks %q:\n%s", s, m)
		}
	}
	if info, _ := contacts.Validate([]byte(m)); info.Version != "3.0" || info.UID != "c" {
		t.Errorf("info = %+v", info)
	}
}

func TestMergeGroupedAndCategories(t *testing.T) {
	ref := card("a", "VERSION:3.0", "UID:a", "FN:X", "item1.URL:http://a.example/", "item1.X-ABLabel:blog",
		"CATEGORIES:Friends,Work")
	o := card("b", "VERSION:3.0", "UID:b", "FN:X", "item1.URL:HTTP://a.example", "item1.X-ABLabel:site",
		"item2.TEL:555 0101", "item2.X-ABLabel:_$!<Other>!$_", "CATEGORIES:work,Chess", "X-ABUID:123")
	m := mustMerge(t, ref, []Card{o}, nil)
	want := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:X\r\nitem1.URL:http://a.example/\r\nitem1.X-ABLabel:blog\r\n" +
		"CATEGORIES:Friends,Work,Chess\r\nitem2.TEL:555 0101\r\nitem2.X-ABLabel:_$!<Other>!$_\r\nREV:20261122T160000Z\r\nEND:VCARD\r\n"
	if m != want {
		t.Errorf("merged:\n%s\nwant:\n%s", m, want)
	}
}

func TestMergeSelfIsNoop(t *testing.T) {
	c := card("a", "VERSION:3.0", "UID:a", "N:Doe;John;;;", "FN:John Doe", "TEL;TYPE=HOME:1", "TEL;TYPE=WORK:1",
		"NOTE:x\\ny", "CATEGORIES:a,b", "item1.EMAIL:j@x", "item1.X-ABLabel:l", "REV:2001-01-01T00:00:00Z")
	m := mustMerge(t, c, []Card{c}, nil)
	want := strings.Replace(string(c.Data), "REV:2001-01-01T00:00:00Z", "REV:20261122T160000Z", 1)
	if m != want {
		t.Errorf("merged:\n%s\nwant:\n%s", m, want)
	}
	plan, _ := PlanMerge(c, []Card{c})
	if len(plan.Added) != 0 || len(plan.Conflicts) != 0 {
		t.Errorf("plan = %+v", plan)
	}
}

func TestRewriteMembers(t *testing.T) {
	g4 := []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:g\r\nKIND:group\r\nFN:Team\r\nMEMBER:urn:uuid:b\r\n" +
		"MEMBER:urn:uuid:x\r\nMEMBER:urn:uuid:a\r\nMEMBER:urn:uuid:c\r\nEND:VCARD\r\n")
	out, changed, err := RewriteMembers(g4, []string{"b", "c"}, "a")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	want := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:g\r\nKIND:group\r\nFN:Team\r\nMEMBER:urn:uuid:a\r\nMEMBER:urn:uuid:x\r\nEND:VCARD\r\n"
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}

	g3 := []byte("BEGIN:VCARD\nVERSION:3.0\nUID:g\nX-ADDRESSBOOKSERVER-KIND:group\nFN:Team\n" +
		"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:b\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:x\nEND:VCARD\n")
	out, changed, err = RewriteMembers(g3, []string{"b"}, "a")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	want = strings.Replace(string(g3), "urn:uuid:b", "urn:uuid:a", 1)
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}

	out, changed, err = RewriteMembers(g3, []string{"zz"}, "a")
	if err != nil || changed || !bytes.Equal(out, g3) {
		t.Errorf("unrelated group: changed=%v err=%v", changed, err)
	}
	if _, _, err := RewriteMembers([]byte("nonsense"), []string{"b"}, "a"); err == nil {
		t.Error("no error for an invalid group card")
	}
}

func TestUndoJSON(t *testing.T) {
	_, undo, err := Merge(johnWork, []Card{johnMobile}, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(undo)
	if err != nil {
		t.Fatal(err)
	}
	var back Undo
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, Undo{Reference: johnWork, Others: []Card{johnMobile}}) {
		t.Errorf("undo after JSON = %+v", back)
	}
}

func TestMergeErrors(t *testing.T) {
	bad := Card{UID: "x", Data: []byte("BEGIN:VCARD\r\nEND:VCARD\r\n")}
	if _, _, err := Merge(bad, []Card{johnWork}, nil, testNow); err == nil {
		t.Error("invalid reference accepted")
	}
	if _, err := PlanMerge(johnWork, []Card{bad}); err == nil {
		t.Error("invalid other accepted")
	}
}

func TestMergeShortNoteKept(t *testing.T) {
	ref := card("a", "VERSION:4.0", "UID:a", "FN:X", "NOTE:a long note about x")
	o := card("b", "VERSION:4.0", "UID:b", "FN:X", "NOTE:X")
	if m := mustMerge(t, ref, []Card{o}, nil); !strings.Contains(m, "NOTE:a long note about x\\n\\nX\r\n") {
		t.Errorf("merged:\n%s", m)
	}
}

func TestMergeREV(t *testing.T) {
	ref := card("a", "VERSION:4.0", "UID:a", "g.REV:1999", "FN:X", "REV:2000", "g.X-A:1")
	o := card("b", "VERSION:4.0", "UID:b", "FN:X", "g.X-B:2", "REV:2001")
	want := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\r\ng.REV:20261122T160000Z\r\nFN:X\r\ng.X-A:1\r\nitem1.X-B:2\r\nEND:VCARD\r\n"
	if m := mustMerge(t, ref, []Card{o}, nil); m != want {
		t.Errorf("merged:\n%s\nwant:\n%s", m, want)
	}
}
