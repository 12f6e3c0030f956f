//go:build !race

package calendars

const raceEnabled = false
