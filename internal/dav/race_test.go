//go:build race

package dav

// raceEnabled: the race detector makes code several times slower.
const raceEnabled = true
