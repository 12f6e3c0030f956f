package gen

import (
	"bytes"
	"testing"

	"github.com/rolodav/rolodav/internal/contacts"
)

func TestGenerateDeterministicAndValid(t *testing.T) {
	a := Generate(Options{Cards: 2000, Seed: 3})
	b := Generate(Options{Cards: 2000, Seed: 3})
	c := Generate(Options{Cards: 2000, Seed: 4})
	if len(a.Cards) != 2000 || len(a.Person) != 2000 {
		t.Fatalf("got %d cards, %d persons", len(a.Cards), len(a.Person))
	}
	same := true
	uids := map[string]bool{}
	dups := 0
	for i := range a.Cards {
		if a.Cards[i].UID != b.Cards[i].UID || !bytes.Equal(a.Cards[i].Data, b.Cards[i].Data) || a.Person[i] != b.Person[i] {
			t.Fatalf("card %d differs between two runs with one seed", i)
		}
		same = same && bytes.Equal(a.Cards[i].Data, c.Cards[i].Data)
		if uids[a.Cards[i].UID] {
			t.Fatalf("duplicate UID %s", a.Cards[i].UID)
		}
		uids[a.Cards[i].UID] = true
		info, err := contacts.Validate(a.Cards[i].Data)
		if err != nil {
			t.Fatalf("card %d invalid: %v\n%s", i, err, a.Cards[i].Data)
		}
		if info.UID != a.Cards[i].UID {
			t.Fatalf("card %d: UID %q in data, %q outside", i, info.UID, a.Cards[i].UID)
		}
		if i > 0 && a.Person[i] == a.Person[i-1] {
			dups++
		}
	}
	if same {
		t.Error("two seeds gave the same book")
	}
	if dups < 200 || dups > 1000 {
		t.Errorf("%d duplicate cards, want a realistic share", dups)
	}
}
