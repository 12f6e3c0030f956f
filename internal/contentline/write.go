package contentline

// maxOctets is the longest physical line a writer produces (RFC 6350 3.2,
// RFC 5545 3.1), line terminator excluded.
const maxOctets = 75

// AppendFolded appends an unfolded content line and eol to dst, folded so
// that no physical line exceeds 75 octets: a continuation line starts with
// a space. A cut never splits a UTF-8 sequence; in invalid UTF-8 it moves
// back over at most three continuation bytes, so that any input is written
// in linear time.
func AppendFolded[T Text](dst []byte, line T, eol string) []byte {
	limit := maxOctets
	for len(line) > limit {
		cut := limit
		for k := 0; k < 3 && cut > 1 && line[cut]&0xC0 == 0x80; k++ {
			cut--
		}
		dst = append(dst, line[:cut]...)
		dst = append(dst, eol...)
		dst = append(dst, ' ')
		line = line[cut:]
		limit = maxOctets - 1
	}
	dst = append(dst, line...)
	return append(dst, eol...)
}
