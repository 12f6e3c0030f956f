package dedup

// FindStats is Find that also returns the number of candidate pairs
// compared (for the benchmark).
var FindStats = find
