package merges_test

import (
	"testing"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
)

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		why  []dedup.Reason
		want string
	}{
		{nil, ""},
		{[]dedup.Reason{
			{Field: "given", Level: "different", Weight: -3},
			{Field: "family", Level: "close", Weight: 4.24},
			{Field: "birthday", Level: "exact", Weight: 9.06},
			{Field: "phone", Level: "different", Weight: -5.5},
		}, "birthday identical (+9.1), family name nearly the same (+4.2), phone different (−5.5), given name different (−3.0)"},
		{[]dedup.Reason{
			{Field: "card", Level: "subset", Weight: 30},
			{Field: "given", Level: "exact, swapped", Weight: 6},
			{Field: "family", Level: "similar, swapped", Weight: 2},
			{Field: "given", Level: "nickname", Weight: 3},
			{Field: "place", Level: "locality", Weight: 1},
			{Field: "title", Level: "partial", Weight: 0.5},
			{Field: "shoe", Level: "big", Weight: 0.25},
		}, "one card holds nothing the other lacks (+30.0), given name identical once given and family names are swapped (+6.0), " +
			"given name a nickname of the other (+3.0), family name alike once given and family names are swapped (+2.0), " +
			"same locality (+1.0), job title partly the same (+0.5), shoe big (+0.2)"},
	} {
		if got := merges.Explain(tc.why); got != tc.want {
			t.Errorf("Explain(%v)\n got %q\nwant %q", tc.why, got, tc.want)
		}
	}
}
