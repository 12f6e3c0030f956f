//go:build race

package web

// slowdown is how much slower code runs under the race detector: time
// budgets are multiplied by it.
const slowdown = 6
