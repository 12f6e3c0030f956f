// Package dedup finds cards that are the same person and plans merges
// (see ../shared/docs/dedup.md). It is pure: cards in, groups and merge
// plans out; no HTTP, no SQL.
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
	Field  string  `json:"field"`  // "name", "given", "family", "birthday", "address", "place", "email", "phone", "org"
	Level  string  `json:"level"`  // "exact", "close", "swapped", "nickname", "initial", "partial", "different"
	Weight float64 `json:"weight"` // bits
}
