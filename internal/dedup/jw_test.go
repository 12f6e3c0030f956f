package dedup

import "testing"

func TestJaroWinkler(t *testing.T) {
	for _, c := range []struct {
		a, b   string
		lo, hi float64
	}{
		{"martha", "marhta", 0.96, 0.962},
		{"dwayne", "duane", 0.83, 0.85},
		{"dixon", "dicksonx", 0.81, 0.82},
		{"abc", "abc", 1, 1},
		{"abc", "xyz", 0, 0},
	} {
		if s := jaroWinkler(c.a, c.b); s < c.lo || s > c.hi {
			t.Errorf("jaroWinkler(%q, %q) = %.4f, want in [%.3f, %.3f]", c.a, c.b, s, c.lo, c.hi)
		}
	}
}
