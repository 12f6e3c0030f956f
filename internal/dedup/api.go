// Package dedup finds cards that are the same person and plans merges. It
// is pure: cards in, groups and merge plans out; no HTTP, no SQL.
//
// Finding is a Fellegi–Sunter record linkage, in four steps:
//
//  1. keys.go reads each card once into interned values (names, phones in
//     E.164, e-mails, address parts, birthday, organisation, job title).
//  2. block.go takes the union of several blocking rules (a shared phone
//     or e-mail address, a Double Metaphone name sound with an initial, a
//     birth year, a day of birth or a locality, a birthday, a street number
//     with its postcode or locality); only cards sharing a key are
//     compared, and a block too large to compare whole is compared as
//     sorted neighbourhoods.
//  3. compare.go gives each compared pair a level per field; model.go
//     learns, from the book itself, what each level weighs: u from random
//     pairs, m by expectation–maximisation under training rules that each
//     select pairs on one field and estimate the others, the prior from the
//     expected number of matches, with term-frequency adjustment of
//     agreements on rare or common values. Defaults about people's cards
//     stand in where a small book shows little.
//  4. score.go and group.go keep the pairs above even odds, put them into
//     groups strongest first without chaining cards that conflict, and
//     mark a group auto when every link has a strong identifier and no
//     single value in conflict. Every group carries its reasons.
//
// None of this comes from a library: no Go module does record linkage,
// Double Metaphone included, and the matcher must stay within a budget
// on hostile cards (every value and comparison here is bounded).
//
// BenchmarkQuality (eval_test.go) scores the labelled books of
// ../shared/dedup-data and generated ones.
package dedup

// Band says how sure a group is.
type Band string

const (
	// BandAuto groups are safe to merge without a person looking.
	BandAuto Band = "auto"
	// BandReview groups are likely the same person; a person decides.
	BandReview Band = "review"
)

// Card is one card to compare: its UID (stable across edits) and data.
type Card struct {
	UID  string
	Data []byte
}

// Group is a set of cards that look like one person. ID is stable for the
// same set of UIDs, so that a hidden group stays hidden.
type Group struct {
	ID    string   `json:"id"`
	Band  Band     `json:"band"`
	Score float64  `json:"score"`
	UIDs  []string `json:"cards"`
	// Why says which fields agreed or conflicted between the cards of the
	// group's weakest link, and how much each counted.
	Why []Reason `json:"why,omitempty"`
}

// Reason is one field's part in a match: how two cards compare on it and
// how much that counted. Weight is in bits (log2 of the likelihood ratio):
// positive for the match, negative against it; a field missing from either
// card is not listed.
type Reason struct {
	// Field is "given", "family", "birthday", "address" (the street),
	// "place" (locality and postcode), "email", "phone", "org", "title", or
	// "card" for cards that are identical or one a subset of the other.
	Field string `json:"field"`
	// Level is "exact", "nickname", "close", "similar", "partial",
	// "locality", "postcode" or "different" ("identical" or "subset" for
	// "card"); ", swapped" is added to a name matched once given and
	// family names are swapped.
	Level  string  `json:"level"`
	Weight float64 `json:"weight"` // bits
}
