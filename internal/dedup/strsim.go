package dedup

// jaroWinkler returns the Jaro–Winkler similarity of two strings (by rune,
// of their first maxRunes runes).
func jaroWinkler(s, t string) float64 {
	if ascii(s) && ascii(t) {
		// Folded names are mostly ASCII: bytes spare the decoding.
		var bufA, bufB [maxRunes]byte
		return jw(bufA[:copy(bufA[:], s)], bufB[:copy(bufB[:], t)])
	}
	var bufA, bufB [maxRunes]rune
	return jw(toRunes(s, bufA[:0]), toRunes(t, bufB[:0]))
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func jw[E byte | rune](a, b []E) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	win := len(b)/2 - 1
	if win < 0 {
		win = 0
	}
	var ma, mb [maxRunes]bool
	matchA, matchB := ma[:len(a)], mb[:len(b)]
	m := 0
	for i := range a {
		lo, hi := max(0, i-win), min(len(b), i+win+1)
		for k := lo; k < hi; k++ {
			if !matchB[k] && a[i] == b[k] {
				matchA[i], matchB[k] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	tr, k := 0, 0
	for i := range a {
		if !matchA[i] {
			continue
		}
		for !matchB[k] {
			k++
		}
		if a[i] != b[k] {
			tr++
		}
		k++
	}
	fm := float64(m)
	j := (fm/float64(len(a)) + fm/float64(len(b)) + (fm-float64(tr)/2)/fm) / 3
	p := 0
	for p < 4 && p < len(a) && a[p] == b[p] {
		p++
	}
	return j + float64(p)*0.1*(1-j)
}

// maxRunes bounds the runes of a token jaroWinkler compares: its work is
// quadratic in their number, and name tokens are far shorter.
const maxRunes = 64

// toRunes appends the first maxRunes runes of s to buf.
func toRunes(s string, buf []rune) []rune {
	for _, r := range s {
		if len(buf) == maxRunes {
			break
		}
		buf = append(buf, r)
	}
	return buf
}
