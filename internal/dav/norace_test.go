//go:build !race

package dav

const raceEnabled = false
