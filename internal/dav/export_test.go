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

// XMLAttacks returns request bodies of about size bytes, by name, in the
// shapes that cost Go's decoder or the tree more than their size: text
// split by comments, processing instructions, CDATA sections or
// directives, runs of entities, many elements, attributes or namespaces.
func XMLAttacks(size int) map[string]string {
	out := make(map[string]string, len(xmlAttacks))
	for _, a := range xmlAttacks {
		out[a.name] = string(a.body(size))
	}
	return out
}
