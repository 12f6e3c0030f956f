package dedup

import (
	"strings"
	"testing"
)

// A name is one choice: the full name (FN) chosen from another card brings
// that card's name parts (N), so that devices showing either show one name.
func TestMergeNamePartsFollowTheChosenName(t *testing.T) {
	ref := card("a", "VERSION:3.0", "UID:a", "FN:Tina Krueger", "N:kruger;tina;X.;;", "EMAIL:tina@example.org")
	withN := card("b", "VERSION:3.0", "UID:b", "FN:Tina Krüger", "N:Krüger;Tina;;;", "EMAIL:tina@example.org")
	noN := card("c", "VERSION:4.0", "UID:c", "FN:T. Krüger", "EMAIL:tina@example.org")
	others := []Card{withN, noN}
	plan, err := PlanMerge(ref, others)
	if err != nil {
		t.Fatal(err)
	}
	fn := -1
	for _, c := range plan.Conflicts {
		if c.Name == "FN" {
			for i, o := range c.Others {
				if o.From == "b" {
					fn = i
				}
			}
		}
	}
	if fn < 0 {
		t.Fatalf("no FN conflict offering card b: %+v", plan.Conflicts)
	}

	m := mustMerge(t, ref, others, map[string]int{"FN": fn})
	if !strings.Contains(m, "\r\nFN:Tina Krüger\r\n") || !strings.Contains(m, "\r\nN:Krüger;Tina;;;\r\n") || strings.Contains(m, "kruger") {
		t.Errorf("name of card b chosen; merged:\n%s", m)
	}
	if strings.Count(m, "\r\nN:") != 1 {
		t.Errorf("merged has %d N lines:\n%s", strings.Count(m, "\r\nN:"), m)
	}

	// The reference's name kept: its parts too.
	m = mustMerge(t, ref, others, map[string]int{"FN": -1})
	if !strings.Contains(m, "\r\nFN:Tina Krueger\r\n") || !strings.Contains(m, "\r\nN:kruger;tina;X.;;\r\n") {
		t.Errorf("the reference's name kept; merged:\n%s", m)
	}

	// A card without parts: nothing is derived from the full name; a
	// vCard 3.0 must have N (RFC 2426), so its parts are empty.
	m = mustMerge(t, ref, others, map[string]int{"FN": 1 - fn})
	if !strings.Contains(m, "\r\nFN:T. Krüger\r\n") || !strings.Contains(m, "\r\nN:;;;;\r\n") || strings.Count(m, "\r\nN:") != 1 {
		t.Errorf("name of card c (no parts) chosen; merged:\n%s", m)
	}
	// A vCard 4.0 may have none: it has none.
	ref40 := card("e", "VERSION:4.0", "UID:e", "FN:Tina Krueger", "N:kruger;tina;X.;;", "EMAIL:tina@example.org")
	m = mustMerge(t, ref40, []Card{noN}, map[string]int{"FN": 0})
	if !strings.Contains(m, "\r\nFN:T. Krüger\r\n") || strings.Contains(m, "\r\nN:") {
		t.Errorf("name of card c (no parts) chosen into a 4.0 card; merged:\n%s", m)
	}

	// A reference without parts gets those of the card whose name is chosen.
	ref4 := card("d", "VERSION:4.0", "UID:d", "FN:Tina K.", "EMAIL:tina@example.org")
	m = mustMerge(t, ref4, []Card{noN, withN}, map[string]int{"FN": 1})
	if !strings.Contains(m, "\r\nFN:Tina Krüger\r\n") || !strings.Contains(m, "\r\nN:Krüger;Tina;;;\r\n") {
		t.Errorf("name of card b chosen for a reference without parts; merged:\n%s", m)
	}

	// Parts chosen apart from a name of another card contradict it.
	if _, _, err := Merge(ref, others, map[string]int{"FN": fn, "N": -1}, testNow); err == nil {
		t.Error("FN of card b with the reference's N: no error")
	}
}
