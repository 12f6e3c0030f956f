package dav

import (
	"runtime"
	"testing"
	"time"
)

// Budgets for one fuzz input: far above what any input should cost, so
// that only a real blow-up fails, even under the race detector on a busy
// machine.
const (
	fuzzMaxAlloc = 100 << 20
	fuzzMaxTime  = time.Second
)

// WithinBudget runs f and fails t when it took more than fuzzMaxTime
// (ten times that under the race detector) or allocated more than
// fuzzMaxAlloc.
func WithinBudget(t testing.TB, what string, f func()) {
	t.Helper()
	limit := fuzzMaxTime
	if raceEnabled {
		limit *= 10
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > fuzzMaxAlloc {
		t.Fatalf("%s allocated %d MB, budget %d MB", what, alloc>>20, fuzzMaxAlloc>>20)
	}
	if elapsed > limit {
		t.Fatalf("%s took %v, budget %v", what, elapsed, limit)
	}
}

// XMLAttacks returns request bodies of about size bytes in the shapes that
// once cost far more than their size: text split by comments, processing
// instructions, CDATA sections or directives, and runs of entities.
func XMLAttacks(size int) []string {
	var out []string
	for _, a := range xmlAttacks {
		if a.split {
			out = append(out, string(a.body(size)))
		}
	}
	return out
}
