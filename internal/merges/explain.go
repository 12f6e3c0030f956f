package merges

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rolodav/rolodav/internal/dedup"
)

// fieldWords name dedup's fields for people.
var fieldWords = map[string]string{
	"name": "name", "given": "given name", "family": "family name", "birthday": "birthday",
	"address": "street address", "place": "place", "email": "e-mail", "phone": "phone", "org": "organisation",
	"title": "job title", "card": "card",
}

// Explain says why a group was proposed, in words, as the CLI and the pages
// show it: "birthday identical (+9.1), family name nearly the same (+4.2),
// given name different (−3.0)". The evidence for the match comes first,
// then the evidence against it, each strongest first; the numbers are the
// weights in bits. "" when there is no reason to show.
func Explain(why []dedup.Reason) string {
	rs := slices.Clone(why)
	slices.SortStableFunc(rs, func(a, b dedup.Reason) int {
		if (a.Weight < 0) != (b.Weight < 0) {
			if a.Weight < 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(math.Abs(b.Weight), math.Abs(a.Weight))
	})
	parts := make([]string, len(rs))
	for i, r := range rs {
		w := fmt.Sprintf("%+.1f", r.Weight)
		if r.Weight < 0 {
			w = "−" + w[1:] // a real minus sign reads better than a hyphen
		}
		parts[i] = fmt.Sprintf("%s (%s)", reasonWords(r), w)
	}
	return strings.Join(parts, ", ")
}

// reasonWords says how the cards compare on one field.
func reasonWords(r dedup.Reason) string {
	f, ok := fieldWords[r.Field]
	if !ok {
		f = r.Field
	}
	if l, ok := strings.CutSuffix(r.Level, ", swapped"); ok {
		return reasonWords(dedup.Reason{Field: r.Field, Level: l}) + " once given and family names are swapped"
	}
	switch r.Field + " " + r.Level {
	case "card identical":
		return "cards identical"
	case "card subset":
		return "one card holds nothing the other lacks"
	case "place locality":
		return "same locality"
	case "place postcode":
		return "same postcode"
	}
	switch r.Level {
	case "exact":
		return f + " identical"
	case "close":
		return f + " nearly the same"
	case "similar":
		return f + " alike"
	case "nickname":
		return f + " a nickname of the other"
	case "partial":
		return f + " partly the same"
	case "different":
		return f + " different"
	}
	return f + " " + r.Level
}
