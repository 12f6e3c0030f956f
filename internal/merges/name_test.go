package merges_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/merges"
)

// tina is a card of Tina with the name written as given, the same e-mail,
// phone and birthday on every card, so that the matcher groups them.
func tina(uid, version string, lines ...string) string {
	return "BEGIN:VCARD\r\nVERSION:" + version + "\r\nUID:" + uid + "\r\n" + strings.Join(lines, "\r\n") +
		"\r\nEMAIL:tina@example.org\r\nTEL:+49 30 1234567\r\nBDAY:19850310\r\nEND:VCARD\r\n"
}

// nameIndex is the index of a full name in the FN conflict of the plan.
func nameIndex(t *testing.T, b *merges.Book, group, ref, fn string) int {
	t.Helper()
	plan, err := b.Plan(group, ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range plan.Conflicts {
		if c.Name != "FN" {
			continue
		}
		for i, o := range c.Others {
			if o.Value == fn {
				return i
			}
		}
	}
	t.Fatalf("no FN %q offered: %+v", fn, plan.Conflicts)
	return 0
}

// A name chosen from another card brings its name parts: the merge writes
// FN and N of that card (the defect of issue 17: FN:Tina Krüger with
// N:kruger;tina;X.;;).
func TestMergeNameChoiceTakesThePartsOfThatCard(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, map[string]string{
		"tina-1": tina("tina-1", "3.0", "FN:Tina Krueger", "N:kruger;tina;X.;;", "NOTE:the fullest card, so the default reference"),
		"tina-2": tina("tina-2", "3.0", "FN:Tina Krüger", "N:Krüger;Tina;;;"),
	})
	b := load(t, st, c)
	g := groupOf(t, b, "tina-1")
	o, err := b.Merge(ctx, merges.Request{Group: g.ID, Reference: "tina-1",
		Choices: []merges.Choice{{Field: "FN", Keep: nameIndex(t, b, g.ID, "tina-1", "Tina Krüger")}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	s := string(get(t, st, c, "tina-1").Data)
	if !strings.Contains(s, "\r\nFN:Tina Krüger\r\n") || !strings.Contains(s, "\r\nN:Krüger;Tina;;;\r\n") || strings.Contains(s, "kruger") {
		t.Errorf("survivor of merge %d:\n%s", o.Merge.ID, s)
	}
}

// A card without name parts gives none: the survivor has the chosen full
// name and no N, nothing split out of the full name.
func TestMergeNameChoiceFromACardWithoutParts(t *testing.T) {
	ctx := context.Background()
	st, c := newBook(t, map[string]string{
		"tina-1": tina("tina-1", "4.0", "FN:Tina Krueger", "N:kruger;tina;X.;;", "NOTE:the fullest card, so the default reference"),
		"tina-2": tina("tina-2", "4.0", "FN:Tina Krüger"),
	})
	b := load(t, st, c)
	g := groupOf(t, b, "tina-1")
	if _, err := b.Merge(ctx, merges.Request{Group: g.ID, Reference: "tina-1",
		Choices: []merges.Choice{{Field: "FN", Keep: nameIndex(t, b, g.ID, "tina-1", "Tina Krüger")}}}, now); err != nil {
		t.Fatal(err)
	}
	s := string(get(t, st, c, "tina-1").Data)
	if !strings.Contains(s, "\r\nFN:Tina Krüger\r\n") || strings.Contains(s, "\r\nN:") {
		t.Errorf("survivor:\n%s", s)
	}
}

// Name parts chosen apart from the name are refused before anything is
// written; the reference's name kept keeps its parts.
func TestMergeNameChoiceRefusesOtherParts(t *testing.T) {
	ctx := context.Background()
	orig := map[string]string{
		"tina-1": tina("tina-1", "3.0", "FN:Tina Krueger", "N:kruger;tina;X.;;", "NOTE:the fullest card, so the default reference"),
		"tina-2": tina("tina-2", "3.0", "FN:Tina Krüger", "N:Krüger;Tina;;;"),
	}
	st, c := newBook(t, orig)
	b := load(t, st, c)
	g := groupOf(t, b, "tina-1")
	fn := nameIndex(t, b, g.ID, "tina-1", "Tina Krüger")
	for _, cs := range [][]merges.Choice{
		{{Field: "FN", Keep: fn}, {Field: "N", Keep: merges.KeepReference}},
		{{Field: "FN", Keep: merges.KeepReference}, {Field: "N", Keep: 0}},
	} {
		_, err := b.Merge(ctx, merges.Request{Group: g.ID, Reference: "tina-1", Choices: cs}, now)
		if !errors.Is(err, merges.ErrBadChoice) {
			t.Errorf("choices %+v: %v, want ErrBadChoice", cs, err)
		}
	}
	for name, data := range orig {
		if o := get(t, st, c, name); o == nil || string(o.Data) != data {
			t.Fatalf("a refused merge changed %s", name)
		}
	}
	if _, err := b.Merge(ctx, merges.Request{Group: g.ID, Reference: "tina-1",
		Choices: []merges.Choice{{Field: "FN", Keep: merges.KeepReference}}}, now); err != nil {
		t.Fatal(err)
	}
	s := string(get(t, st, c, "tina-1").Data)
	if !strings.Contains(s, "\r\nFN:Tina Krueger\r\n") || !strings.Contains(s, "\r\nN:kruger;tina;X.;;\r\n") {
		t.Errorf("survivor:\n%s", s)
	}
}
