//go:build race

package main_test

// raceEnabled makes the binary under test a race-detector build too.
const raceEnabled = true
