//go:build !race

package dedup_test

const slowdown = 1
