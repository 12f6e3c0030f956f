//go:build race

package calendars

// raceEnabled: the race detector slows code tenfold, so time budgets are
// not checked under it.
const raceEnabled = true
