package merges_test

import (
	"testing"

	"github.com/rolodav/rolodav/dedup"
	"github.com/rolodav/rolodav/merges"
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
			{Field: "name", Level: "swapped", Weight: 6},
			{Field: "birthday", Level: "swapped", Weight: 2},
			{Field: "given", Level: "nickname", Weight: 3},
			{Field: "email", Level: "partial", Weight: 1},
			{Field: "given", Level: "initial", Weight: 0.5},
			{Field: "address", Level: "close", Weight: 0},
			{Field: "shoe", Level: "big", Weight: 0.25},
		}, "given and family names swapped (+6.0), given name a nickname of the other (+3.0), birthday with day and month swapped (+2.0), " +
			"e-mail partly the same (+1.0), given name matching an initial (+0.5), shoe big (+0.2), address nearly the same (+0.0)"},
	} {
		if got := merges.Explain(tc.why); got != tc.want {
			t.Errorf("Explain(%v)\n got %q\nwant %q", tc.why, got, tc.want)
		}
	}
}
