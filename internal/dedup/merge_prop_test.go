package dedup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/contacts"
)

// genCard makes a random valid card; values come from small pools so that
// cards made with the same generator share (and disagree on) values, in
// both versions and in the different forms Merge must treat as equal.
func genCard(r *rand.Rand, uid string) Card {
	pick := func(s ...string) string { return s[r.Intn(len(s))] }
	v4 := r.Intn(2) == 0
	var l []string
	l = append(l, "BEGIN:VCARD")
	if v4 {
		l = append(l, "VERSION:4.0")
	} else {
		l = append(l, "VERSION:3.0")
	}
	if r.Intn(5) > 0 {
		l = append(l, "UID:"+uid)
	}
	l = append(l, "FN:"+pick("John Doe", "john  doe", "J. Doe", "Doe\\, John"))
	if r.Intn(2) == 0 {
		l = append(l, "N:"+pick("Doe;John;;;", "DOE;john;;;", "Doe;Jon;;;", "Doe;John;Paul;Dr.;"))
	}
	types := []string{"", ";TYPE=home", ";TYPE=work", ";TYPE=CELL", ";TYPE=work,voice", ";type=HOME;TYPE=fax"}
	if v4 {
		types = append(types, ";PREF=1", ";TYPE=cell;PREF=2")
	} else {
		types = append(types, ";TYPE=pref", ";TYPE=INTERNET,pref", ";HOME")
	}
	for n := r.Intn(4); n > 0; n-- {
		l = append(l, "TEL"+pick(types...)+":"+pick("+33 6 12 34 56 78", "06 12 34 56 78", "0612345678", "+1 (415) 555-1234",
			"415.555.1234", "555 0101", "12", "ext"))
	}
	for n := r.Intn(3); n > 0; n-- {
		l = append(l, "EMAIL"+pick(types...)+":"+pick("john@example.com", "John@Example.COM", "jd@work.example", " jd@WORK.example "))
	}
	for n := r.Intn(2); n > 0; n-- {
		l = append(l, "ADR"+pick(types...)+":"+pick(";;1 Main St;Springfield;;12345;USA", ";;1 main st; springfield;;12345;usa",
			";;2 Rue de la Paix\\, bât. B;Paris;;75002;France", ";;Line 1\\nLine 2;X;;;"))
	}
	if r.Intn(2) == 0 {
		l = append(l, "URL:"+pick("http://example.com/", "HTTP://example.com", "https://jd.example/blog"))
	}
	if r.Intn(2) == 0 {
		l = append(l, "BDAY:"+pick("1980-04-02", "19800402", "--0402", "1981-01-01"))
	}
	if r.Intn(2) == 0 {
		l = append(l, "ORG:"+pick("Acme;Sales", "ACME;sales", "Globex", "Initech\\; Inc."))
	}
	if r.Intn(3) == 0 {
		l = append(l, "TITLE:"+pick("Boss", "boss", "Engineer"))
	}
	for n := r.Intn(3); n > 0; n-- {
		l = append(l, "NOTE:"+pick("Met at the fair.", "met at the  FAIR.", "Likes tea\\; no sugar.\\nCall after 6.", "x", "", "Ça va\\, ça va."))
	}
	if r.Intn(2) == 0 {
		l = append(l, "CATEGORIES:"+pick("Friends", "friends,Work", "Chess\\,Go,Work", "a,,b"))
	}
	for n, g := r.Intn(3), 1; n > 0; n, g = n-1, g+1 {
		grp := fmt.Sprintf("item%d.", g)
		l = append(l, grp+pick("TEL:555 0101", "EMAIL:jd@work.example", "URL:https://jd.example/blog", "X-ABDATE:2001-01-01"))
		if r.Intn(3) > 0 {
			l = append(l, grp+"X-ABLabel:"+pick("_$!<Other>!$_", "blog", "anniversary"))
		}
	}
	if r.Intn(3) == 0 {
		if v4 {
			l = append(l, "PHOTO:"+pick("data:image/jpeg;base64,/9j/4AAQ", "https://example.com/p.jpg"))
		} else {
			l = append(l, "PHOTO;ENCODING=b;TYPE=JPEG:"+pick("/9j/4AAQ", "/9j/4BBQ"))
		}
	}
	if r.Intn(3) == 0 {
		l = append(l, "X-SOCIALPROFILE;TYPE=twitter:"+pick("https://twitter.com/jd", "https://twitter.com/JD"))
	}
	if r.Intn(3) == 0 {
		l = append(l, "REV:2020-01-01T00:00:00Z")
	}
	if r.Intn(4) == 0 {
		l = append(l, "X-CUSTOM;X-P=\"a:b\":"+pick("one", "two"))
	}
	// Shuffle the body.
	body := l[2:]
	r.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
	l = append(l, "END:VCARD")
	eol := "\r\n"
	if r.Intn(4) == 0 {
		eol = "\n"
	}
	return Card{UID: uid, Data: []byte(strings.Join(l, eol) + eol)}
}

// checkNothingLost verifies that every value of every input is in merged,
// after the normalisation Merge uses, unless it is an identity property, a
// label of a grouped value that was already there, or the losing side of a
// single-valued conflict (all of which stay in undo, checked separately).
func checkNothingLost(t *testing.T, inputs []Card, merged []byte) {
	t.Helper()
	version, out, err := contacts.ParseProps(merged)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	names := map[string]bool{}
	var notes []string
	for i := range out {
		p := &out[i]
		names[p.Name] = true
		keys[p.Name+"\x00"+ValueKey(p)] = true
		switch p.Name {
		case "NOTE":
			notes = append(notes, p.Text())
		case "CATEGORIES":
			for _, item := range contacts.SplitRaw(p.Value, ',') {
				keys["CATEGORY\x00"+foldText(contacts.UnescapeText(item))] = true
			}
		}
	}
	hasNote := func(k string) bool {
		for _, n := range notes {
			if noteHas(n, k) {
				return true
			}
		}
		return k == ""
	}
	for _, in := range inputs {
		data, err := contacts.Convert(in.Data, version)
		if err != nil {
			t.Fatal(err)
		}
		_, props, err := contacts.ParseProps(data)
		if err != nil {
			t.Fatal(err)
		}
		for i := range props {
			p := &props[i]
			switch {
			case identityProps[p.Name], isCompanion(p):
			case singleValued[p.Name]:
				if !names[p.Name] {
					t.Errorf("%s of %s lost", p.Name, in.UID)
				}
			case p.Name == "NOTE":
				if !hasNote(foldText(p.Text())) {
					t.Errorf("NOTE %q of %s lost", p.Value, in.UID)
				}
			case p.Name == "CATEGORIES":
				for _, item := range contacts.SplitRaw(p.Value, ',') {
					if k := foldText(contacts.UnescapeText(item)); k != "" && !keys["CATEGORY\x00"+k] {
						t.Errorf("category %q of %s lost", item, in.UID)
					}
				}
			default:
				if !keys[p.Name+"\x00"+ValueKey(p)] {
					t.Errorf("%s:%s of %s lost", p.Name, p.Value, in.UID)
				}
			}
		}
	}
}

func withoutREV(b []byte) string {
	var keep []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(strings.ToUpper(l), "REV:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

func TestMergeProperties(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		ref := genCard(r, "r")
		others := make([]Card, 1+r.Intn(3))
		for j := range others {
			others[j] = genCard(r, fmt.Sprintf("o%d", j))
		}
		inputs := append([]Card{ref}, others...)
		orig := make([]Card, len(inputs))
		for j, c := range inputs {
			orig[j] = copyCard(c)
		}

		merged, undo, err := Merge(ref, others, nil, testNow)
		if err != nil {
			t.Fatalf("case %d: %v\nref:\n%s", i, err, ref.Data)
		}
		info, err := contacts.Validate(merged)
		if err != nil {
			t.Fatalf("case %d: merged invalid: %v\n%s", i, err, merged)
		}
		refInfo, _ := contacts.Validate(ref.Data)
		if info.Version != refInfo.Version || info.UID != refInfo.UID {
			t.Fatalf("case %d: version/UID changed: %+v vs %+v", i, info, refInfo)
		}
		checkNothingLost(t, inputs, merged)

		// Undo restores the inputs byte for byte, also after JSON.
		js, err := json.Marshal(undo)
		if err != nil {
			t.Fatal(err)
		}
		var back Undo
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(append([]Card{back.Reference}, back.Others...), orig) {
			t.Fatalf("case %d: undo does not restore the inputs", i)
		}
		// The inputs were not modified.
		if !reflect.DeepEqual(inputs, orig) {
			t.Fatalf("case %d: inputs modified", i)
		}

		// Merging again changes nothing (same REV, so byte-identical).
		again, _, err := Merge(Card{UID: ref.UID, Data: merged}, others, nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, merged) {
			t.Fatalf("case %d: merge is not idempotent:\n%s\nthen:\n%s", i, merged, again)
		}

		// Merging a card with itself changes nothing but REV.
		self, _, err := Merge(ref, []Card{ref}, nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if withoutREV(self) != withoutREV(ref.Data) {
			t.Fatalf("case %d: self-merge changed the card:\n%s\nthen:\n%s", i, ref.Data, self)
		}
		plan, err := PlanMerge(ref, []Card{ref})
		if err != nil || len(plan.Added) != 0 || len(plan.Conflicts) != 0 {
			t.Fatalf("case %d: self plan = %+v, %v", i, plan, err)
		}
	}
}

func TestRewriteMembersProperties(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	uids := []string{"a", "b", "c", "d"}
	for i := 0; i < 500; i++ {
		v4 := r.Intn(2) == 0
		kind, member, version := "X-ADDRESSBOOKSERVER-KIND", "X-ADDRESSBOOKSERVER-MEMBER", "3.0"
		if v4 {
			kind, member, version = "KIND", "MEMBER", "4.0"
		}
		lines := []string{"BEGIN:VCARD", "VERSION:" + version, "UID:g", kind + ":group", "FN:G"}
		listed := map[string]bool{}
		for n := r.Intn(5); n > 0; n-- {
			u := uids[r.Intn(len(uids))]
			if !listed[u] {
				listed[u] = true
				lines = append(lines, member+":urn:uuid:"+u)
			}
		}
		lines = append(lines, "END:VCARD", "")
		g := []byte(strings.Join(lines, "\r\n"))
		out, changed, err := RewriteMembers(g, []string{"b", "c"}, "a")
		if err != nil {
			t.Fatal(err)
		}
		if changed != (listed["b"] || listed["c"]) {
			t.Fatalf("changed = %v for\n%s", changed, g)
		}
		_, props, err := contacts.ParseProps(out)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, p := range props {
			if p.Name == member {
				got[p.Value]++
			}
		}
		want := map[string]int{}
		for u := range listed {
			if u == "b" || u == "c" {
				u = "a"
			}
			want["urn:uuid:"+u] = 1
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("members %v, want %v\n%s", got, want, out)
		}
	}
}

func FuzzMerge(f *testing.F) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 10; i++ {
		f.Add(genCard(r, "a").Data, genCard(r, "b").Data)
	}
	f.Add(johnWork.Data, johnMobile.Data)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if _, err := contacts.Validate(a); err != nil {
			return
		}
		if _, err := contacts.Validate(b); err != nil {
			return
		}
		ref, other := Card{UID: "a", Data: a}, Card{UID: "b", Data: b}
		if _, err := PlanMerge(ref, []Card{other}); err != nil {
			t.Fatal(err)
		}
		merged, undo, err := Merge(ref, []Card{other}, nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := contacts.Validate(merged); err != nil {
			t.Fatalf("merged invalid: %v\n%q", err, merged)
		}
		if !bytes.Equal(undo.Reference.Data, a) || !bytes.Equal(undo.Others[0].Data, b) {
			t.Fatal("undo lost the inputs")
		}
		self, _, err := Merge(ref, []Card{ref}, nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := contacts.Validate(self); err != nil {
			t.Fatalf("self-merge invalid: %v\n%q", err, self)
		}
	})
}
