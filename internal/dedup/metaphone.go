package dedup

// Double Metaphone (Lawrence Philips, C/C++ Users Journal, June 2000): two
// phonetic codes of a name, so that spellings of one name that sound alike
// share a blocking key ("Smith" SM0/XMT, "Schmidt" XMT/SMT).

const (
	// dmMaxInput bounds the bytes of a token that are read: the codes have
	// 4 characters, a real name reaches them long before, and a hostile
	// token costs no more than this.
	dmMaxInput = 64
	dmCodeLen  = 4
)

// dmWord is the state of one encoding. It lives on the stack.
type dmWord struct {
	b      [dmMaxInput]byte // upper-case letters, words separated by one ' '
	n      int
	slavo  bool // Slavic or Germanic spelling: W, K or CZ anywhere
	p, a   [dmCodeLen]byte
	np, na int
}

// doubleMetaphone returns the primary and alternate Double Metaphone codes
// of a folded name token, each of at most 4 characters from A–Z and '0'
// (the "th" sound). alternate == primary when the name has one reading.
// Only ASCII letters count; white space and '-' separate words, other bytes
// (punctuation, digits, non-ASCII letters that folding left) are skipped.
// Both codes are "" when s has no letter.
func doubleMetaphone(s string) (primary, alternate string) {
	var w dmWord
	w.load(s)
	if w.n == 0 {
		return "", ""
	}
	w.encode()
	if w.p == w.a && w.np == w.na {
		primary = string(w.p[:w.np])
		return primary, primary
	}
	// One allocation for both codes.
	var both [2 * dmCodeLen]byte
	copy(both[:], w.p[:w.np])
	copy(both[w.np:], w.a[:w.na])
	codes := string(both[:w.np+w.na])
	return codes[:w.np], codes[w.np:]
}

// load keeps the letters of s, upper-cased. Every byte it writes stands for
// a distinct byte of s (a ' ' for the gap byte before a letter), so the
// capped input cannot overflow b.
func (w *dmWord) load(s string) {
	if len(s) > dmMaxInput {
		s = s[:dmMaxInput]
	}
	gap := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z':
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-':
			gap = true
			continue
		default:
			continue
		}
		if gap && w.n > 0 {
			w.b[w.n] = ' '
			w.n++
		}
		gap = false
		w.b[w.n] = c
		w.n++
		if c == 'W' || c == 'K' || (c == 'Z' && w.n > 1 && w.b[w.n-2] == 'C') {
			w.slavo = true
		}
	}
}

// at returns the letter at i, ' ' past the end (so that a rule may look for
// the end of the word as a space) and 0 before the start.
func (w *dmWord) at(i int) byte {
	if i < 0 {
		return 0
	}
	if i >= w.n {
		return ' '
	}
	return w.b[i]
}

// is reports whether one of subs is spelled at position i.
func (w *dmWord) is(i int, subs ...string) bool {
	if i < 0 {
		return false
	}
next:
	for _, sub := range subs {
		for k := 0; k < len(sub); k++ {
			if w.at(i+k) != sub[k] {
				continue next
			}
		}
		return true
	}
	return false
}

func (w *dmWord) vowel(i int) bool {
	if i < 0 || i >= w.n {
		return false
	}
	switch w.b[i] {
	case 'A', 'E', 'I', 'O', 'U', 'Y':
		return true
	}
	return false
}

// add appends code to both codes.
func (w *dmWord) add(code string) { w.add2(code, code) }

// add2 appends p to the primary and a to the alternate code; either may be
// empty, where that reading has no sound.
func (w *dmWord) add2(p, a string) {
	for i := 0; i < len(p) && w.np < dmCodeLen; i++ {
		w.p[w.np] = p[i]
		w.np++
	}
	for i := 0; i < len(a) && w.na < dmCodeLen; i++ {
		w.a[w.na] = a[i]
		w.na++
	}
}

// step is the width of the letter at i: 2 when it is doubled.
func (w *dmWord) step(i int) int {
	if w.at(i+1) == w.b[i] {
		return 2
	}
	return 1
}

// germanic reports a name that starts "van ", "von " or "sch".
func (w *dmWord) germanic() bool {
	return w.is(0, "VAN ", "VON ", "SCH")
}

func (w *dmWord) encode() {
	cur := 0
	// Silent first letter: gnome, knight, pneumatic, wright, psalm.
	if w.is(0, "GN", "KN", "PN", "WR", "PS") {
		cur = 1
	}
	// Initial X sounds S: Xavier.
	if w.b[0] == 'X' {
		w.add("S")
		cur = 1
	}
	for cur < w.n && (w.np < dmCodeLen || w.na < dmCodeLen) {
		switch w.b[cur] {
		case 'A', 'E', 'I', 'O', 'U', 'Y':
			// Vowels count only at the start, all alike (Otto, auto).
			if cur == 0 {
				w.add("A")
			}
			cur++
		case 'B':
			w.add("P")
			cur += w.step(cur)
		case 'C':
			cur = w.encodeC(cur)
		case 'D':
			cur = w.encodeD(cur)
		case 'F':
			w.add("F")
			cur += w.step(cur)
		case 'G':
			cur = w.encodeG(cur)
		case 'H':
			// Sounded only first or between vowels, before a vowel.
			if (cur == 0 || w.vowel(cur-1)) && w.vowel(cur+1) {
				w.add("H")
				cur += 2
			} else {
				cur++
			}
		case 'J':
			cur = w.encodeJ(cur)
		case 'K':
			w.add("K")
			cur += w.step(cur)
		case 'L':
			cur = w.encodeL(cur)
		case 'M':
			// Silent B after M: dumb, thumb, plumber.
			if w.at(cur+1) == 'M' || (w.is(cur-1, "UMB") && (cur+1 == w.n-1 || w.is(cur+2, "ER"))) {
				cur += 2
			} else {
				cur++
			}
			w.add("M")
		case 'N':
			w.add("N")
			cur += w.step(cur)
		case 'P':
			if w.at(cur+1) == 'H' {
				w.add("F")
				cur += 2
				break
			}
			w.add("P")
			// Campbell, raspberry.
			if w.is(cur+1, "P", "B") {
				cur += 2
			} else {
				cur++
			}
		case 'Q':
			w.add("K")
			cur += w.step(cur)
		case 'R':
			// French final -ier (Rogier), but not Germanic -meier/-maier.
			if cur == w.n-1 && !w.slavo && w.is(cur-2, "IE") && !w.is(cur-4, "ME", "MA") {
				w.add2("", "R")
			} else {
				w.add("R")
			}
			cur += w.step(cur)
		case 'S':
			cur = w.encodeS(cur)
		case 'T':
			cur = w.encodeT(cur)
		case 'V':
			w.add("F")
			cur += w.step(cur)
		case 'W':
			cur = w.encodeW(cur)
		case 'X':
			// Silent final X of French names: Breaux, Giroux.
			if !(cur == w.n-1 && (w.is(cur-3, "IAU", "EAU") || w.is(cur-2, "AU", "OU"))) {
				w.add("KS")
			}
			if w.is(cur+1, "C", "X") {
				cur += 2
			} else {
				cur++
			}
		case 'Z':
			cur = w.encodeZ(cur)
		default:
			cur++
		}
	}
}

func (w *dmWord) encodeC(cur int) int {
	// Germanic -ach- sounds K (Bacher, Macher), but not -achi-, -ache-.
	if cur > 1 && !w.vowel(cur-2) && w.is(cur-1, "ACH") &&
		w.at(cur+2) != 'I' && (w.at(cur+2) != 'E' || w.is(cur-2, "BACHER", "MACHER")) {
		w.add("K")
		return cur + 2
	}
	if cur == 0 && w.is(cur, "CAESAR") {
		w.add("S")
		return cur + 2
	}
	// Italian: Chianti.
	if w.is(cur, "CHIA") {
		w.add("K")
		return cur + 2
	}
	if w.is(cur, "CH") {
		return w.encodeCH(cur)
	}
	// Czerny, but not -wicz (its CZ is coded with the W).
	if w.is(cur, "CZ") && !w.is(cur-2, "WICZ") {
		w.add2("S", "X")
		return cur + 2
	}
	// Focaccia.
	if w.is(cur+1, "CIA") {
		w.add("X")
		return cur + 3
	}
	// Double C, but not McClellan.
	if w.is(cur, "CC") && !(cur == 1 && w.b[0] == 'M') {
		// Bellocchio, but not Bacchus.
		if w.is(cur+2, "I", "E", "H") && !w.is(cur+2, "HU") {
			if (cur == 1 && w.b[0] == 'A') || w.is(cur-1, "UCCEE", "UCCES") {
				w.add("KS") // accident, accede, succeed
			} else {
				w.add("X") // Bacci, Bertucci
			}
			return cur + 3
		}
		w.add("K")
		return cur + 2
	}
	if w.is(cur, "CK", "CG", "CQ") {
		w.add("K")
		return cur + 2
	}
	if w.is(cur, "CI", "CE", "CY") {
		// Italian -cio-, -cie-, -cia- may sound X.
		if w.is(cur, "CIO", "CIE", "CIA") {
			w.add2("S", "X")
		} else {
			w.add("S")
		}
		return cur + 2
	}
	w.add("K")
	switch {
	case w.is(cur+1, " C", " Q", " G"): // Mac Caffrey, Mac Gregor
		return cur + 3
	case w.is(cur+1, "C", "K", "Q") && !w.is(cur+1, "CE", "CI"):
		return cur + 2
	}
	return cur + 1
}

func (w *dmWord) encodeCH(cur int) int {
	// Michael.
	if cur > 0 && w.is(cur, "CHAE") {
		w.add2("K", "X")
		return cur + 2
	}
	// Greek roots at the start: character, charisma, chorus, chemistry; not chore.
	if cur == 0 && (w.is(cur+1, "HARAC", "HARIS") || w.is(cur+1, "HOR", "HYM", "HIA", "HEM")) &&
		!w.is(0, "CHORE") {
		w.add("K")
		return cur + 2
	}
	switch {
	case w.germanic(),
		w.is(cur-2, "ORCHES", "ARCHIT", "ORCHID"),
		w.is(cur+2, "T", "S"),
		// Wachtler, Wechsler, but not Tichner.
		(cur == 0 || w.is(cur-1, "A", "O", "U", "E")) &&
			w.is(cur+2, "L", "R", "N", "M", "B", "H", "F", "V", "W", " "):
		w.add("K")
	case cur == 0:
		w.add("X")
	case w.is(0, "MC"): // McHugh
		w.add("K")
	default:
		w.add2("X", "K")
	}
	return cur + 2
}

func (w *dmWord) encodeD(cur int) int {
	if w.is(cur, "DG") {
		// Edge, but Edgar.
		if w.is(cur+2, "I", "E", "Y") {
			w.add("J")
			return cur + 3
		}
		w.add("TK")
		return cur + 2
	}
	w.add("T")
	if w.is(cur, "DT", "DD") {
		return cur + 2
	}
	return cur + 1
}

func (w *dmWord) encodeG(cur int) int {
	next := w.at(cur + 1)
	if next == 'H' {
		return w.encodeGH(cur)
	}
	if next == 'N' {
		switch {
		case cur == 1 && w.vowel(0) && !w.slavo:
			w.add2("KN", "N")
		case !w.is(cur+2, "EY") && !w.slavo: // not Cagney
			w.add2("N", "KN")
		default:
			w.add("KN")
		}
		return cur + 2
	}
	// Tagliaro.
	if w.is(cur+1, "LI") && !w.slavo {
		w.add2("KL", "L")
		return cur + 2
	}
	// Initial -ges-, -gep-, -gel-, -gie- …: hard or soft.
	if cur == 0 && (next == 'Y' || w.is(cur+1, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER")) {
		w.add2("K", "J")
		return cur + 2
	}
	// -ger-, -gy-: hard first (but danger, ranger, manger; not after E or I).
	if (w.is(cur+1, "ER") || next == 'Y') && !w.is(0, "DANGER", "RANGER", "MANGER") &&
		!w.is(cur-1, "E", "I") && !w.is(cur-1, "RGY", "OGY") {
		w.add2("K", "J")
		return cur + 2
	}
	// Soft before E, I, Y, and Italian -aggi-, -oggi- (Biaggi).
	if w.is(cur+1, "E", "I", "Y") || w.is(cur-1, "AGGI", "OGGI") {
		switch {
		case w.germanic() || w.is(cur+1, "ET"):
			w.add("K")
		case w.is(cur+1, "IER "): // French ending: always soft
			w.add("J")
		default:
			w.add2("J", "K")
		}
		return cur + 2
	}
	w.add("K")
	return cur + w.step(cur)
}

func (w *dmWord) encodeGH(cur int) int {
	if cur > 0 && !w.vowel(cur-1) {
		w.add("K")
		return cur + 2
	}
	// Initial GH: Ghislane, Ghiradelli sound J; Ghana K.
	if cur == 0 {
		if w.at(cur+2) == 'I' {
			w.add("J")
		} else {
			w.add("K")
		}
		return cur + 2
	}
	// Parker's rule: silent after B, H, D nearby (Hugh, bough, Broughton).
	if (cur > 1 && w.is(cur-2, "B", "H", "D")) ||
		(cur > 2 && w.is(cur-3, "B", "H", "D")) ||
		(cur > 3 && w.is(cur-4, "B", "H")) {
		return cur + 2
	}
	// Laugh, McLaughlin, cough, Gough, rough, tough.
	if cur > 2 && w.at(cur-1) == 'U' && w.is(cur-3, "C", "G", "L", "R", "T") {
		w.add("F")
	} else if w.at(cur-1) != 'I' {
		w.add("K")
	}
	return cur + 2
}

func (w *dmWord) encodeJ(cur int) int {
	// Spanish: Jose, San Jacinto.
	if w.is(cur, "JOSE") || w.is(0, "SAN ") {
		if (cur == 0 && w.at(cur+4) == ' ') || w.is(0, "SAN ") {
			w.add("H")
		} else {
			w.add2("J", "H")
		}
		return cur + 1
	}
	switch {
	case cur == 0:
		w.add2("J", "A") // Jankelowicz, Yankelovich
	case w.vowel(cur-1) && !w.slavo && (w.at(cur+1) == 'A' || w.at(cur+1) == 'O'):
		w.add2("J", "H") // Spanish: bajador
	case cur == w.n-1:
		w.add2("J", "")
	case !w.is(cur+1, "L", "T", "K", "S", "N", "M", "B", "Z") && !w.is(cur-1, "S", "K", "L"):
		w.add("J")
	}
	return cur + w.step(cur)
}

func (w *dmWord) encodeL(cur int) int {
	if w.at(cur+1) != 'L' {
		w.add("L")
		return cur + 1
	}
	// Spanish -illo, -illa, -alle: the LL may be a Y (Cabrillo, Gallegos).
	last := w.n - 1
	if (cur == w.n-3 && w.is(cur-1, "ILLO", "ILLA", "ALLE")) ||
		((w.is(last-1, "AS", "OS") || w.is(last, "A", "O")) && w.is(cur-1, "ALLE")) {
		w.add2("L", "")
		return cur + 2
	}
	w.add("L")
	return cur + 2
}

func (w *dmWord) encodeS(cur int) int {
	// Silent S: island, isle, Carlisle, Carlysle.
	if w.is(cur-1, "ISL", "YSL") {
		return cur + 1
	}
	if cur == 0 && w.is(cur, "SUGAR") {
		w.add2("X", "S")
		return cur + 1
	}
	if w.is(cur, "SH") {
		// Germanic: Sheim, Shoek, Sholm, Sholz.
		if w.is(cur+1, "HEIM", "HOEK", "HOLM", "HOLZ") {
			w.add("S")
		} else {
			w.add("X")
		}
		return cur + 2
	}
	// Italian and Armenian: -sio-, -sia-, -sian.
	if w.is(cur, "SIO", "SIA") {
		if w.slavo {
			w.add("S")
		} else {
			w.add2("S", "X")
		}
		return cur + 3
	}
	// German and anglicised: Smith/Schmidt, Snider/Schneider; Slavic -sz-.
	if (cur == 0 && w.is(cur+1, "M", "N", "L", "W")) || w.at(cur+1) == 'Z' {
		w.add2("S", "X")
		if w.at(cur+1) == 'Z' {
			return cur + 2
		}
		return cur + 1
	}
	if w.is(cur, "SC") {
		return w.encodeSC(cur)
	}
	// French final -ais, -ois: silent (Resnais, Artois).
	if cur == w.n-1 && w.is(cur-2, "AI", "OI") {
		w.add2("", "S")
	} else {
		w.add("S")
	}
	if w.is(cur+1, "S", "Z") {
		return cur + 2
	}
	return cur + 1
}

func (w *dmWord) encodeSC(cur int) int {
	if w.at(cur+2) == 'H' {
		// Dutch: school, schooner; Schermerhorn, Schenker read both ways.
		if w.is(cur+3, "OO", "ER", "EN", "UY", "ED", "EM") {
			if w.is(cur+3, "ER", "EN") {
				w.add2("X", "SK")
			} else {
				w.add("SK")
			}
			return cur + 3
		}
		// Schlesinger's rule: initial SCH before a consonant other than W
		// may be anglicised to S (Schmidt/Smith).
		if cur == 0 && !w.vowel(3) && w.at(3) != 'W' {
			w.add2("X", "S")
		} else {
			w.add("X")
		}
		return cur + 3
	}
	if w.is(cur+2, "I", "E", "Y") {
		w.add("S")
	} else {
		w.add("SK")
	}
	return cur + 3
}

func (w *dmWord) encodeT(cur int) int {
	if w.is(cur, "TION") {
		w.add("X")
		return cur + 3
	}
	if w.is(cur, "TIA", "TCH") {
		w.add("X")
		return cur + 3
	}
	if w.is(cur, "TH", "TTH") {
		// Thomas, Thames, and Germanic names keep a T.
		if w.is(cur+2, "OM", "AM") || w.germanic() {
			w.add("T")
		} else {
			w.add2("0", "T")
		}
		return cur + 2
	}
	w.add("T")
	if w.is(cur+1, "T", "D") {
		return cur + 2
	}
	return cur + 1
}

func (w *dmWord) encodeW(cur int) int {
	if w.is(cur, "WR") {
		w.add("R")
		return cur + 2
	}
	if cur == 0 && (w.vowel(cur+1) || w.is(cur, "WH")) {
		if w.vowel(cur + 1) {
			w.add2("A", "F") // Wasserman, Vasserman
		} else {
			w.add("A") // Womo, Uomo
		}
	}
	// Final W after a vowel may be an F (Arnow, Arnoff), and so in Slavic
	// -ewski, -owski and after SCH.
	if (cur == w.n-1 && w.vowel(cur-1)) || w.is(cur-1, "EWSKI", "EWSKY", "OWSKI", "OWSKY") || w.is(0, "SCH") {
		w.add2("", "F")
		return cur + 1
	}
	// Polish: Filipowicz.
	if w.is(cur, "WICZ", "WITZ") {
		w.add2("TS", "FX")
		return cur + 4
	}
	return cur + 1
}

func (w *dmWord) encodeZ(cur int) int {
	// Chinese pinyin: Zhao.
	if w.at(cur+1) == 'H' {
		w.add("J")
		return cur + 2
	}
	if w.is(cur+1, "ZO", "ZI", "ZA") || (w.slavo && cur > 0 && w.at(cur-1) != 'T') {
		w.add2("S", "TS")
	} else {
		w.add("S")
	}
	return cur + w.step(cur)
}
