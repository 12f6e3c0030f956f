package contacts

import (
	"bytes"
	"strings"
)

// utf8BOM is skipped when it starts a card or a stream.
var utf8BOM = []byte("\xef\xbb\xbf")

// logicalLine locates one content line in the data: the physical line where
// it starts and the raw bytes it covers, continuation lines and line
// terminators included.
type logicalLine struct {
	num      int  // 1-based physical line number of the first line
	start    int  // offset of the first byte
	end      int  // offset just after the last line terminator (or len(data))
	firstEnd int  // offset of the end of the first physical line's content (before CR LF)
	folded   bool // continuation lines follow the first line
}

// scanner walks the logical lines of a card or of a stream of cards.
type scanner struct {
	data []byte
	pos  int
	line int // number of the next physical line
}

func newScanner(data []byte) scanner {
	s := scanner{data: data, line: 1}
	if bytes.HasPrefix(data, utf8BOM) {
		s.pos = len(utf8BOM)
	}
	return s
}

// next returns the next logical line; ok is false at the end of the data.
func (s *scanner) next() (l logicalLine, ok bool) {
	if s.pos >= len(s.data) {
		return l, false
	}
	l.num = s.line
	l.start = s.pos
	l.firstEnd, s.pos = lineBounds(s.data, s.pos)
	s.line++
	for s.pos < len(s.data) && (s.data[s.pos] == ' ' || s.data[s.pos] == '\t') {
		l.folded = true
		_, s.pos = lineBounds(s.data, s.pos)
		s.line++
	}
	l.end = s.pos
	return l, true
}

// lineBounds returns, for the physical line starting at pos, the end of its
// content (a CR before the LF, or at the very end, excluded) and the start of
// the following line.
func lineBounds(data []byte, pos int) (contentEnd, next int) {
	i := bytes.IndexByte(data[pos:], '\n')
	if i < 0 {
		contentEnd, next = len(data), len(data)
	} else {
		contentEnd, next = pos+i, pos+i+1
	}
	if contentEnd > pos && data[contentEnd-1] == '\r' {
		contentEnd--
	}
	return contentEnd, next
}

// content returns the unfolded text of l. When l is folded the text is
// assembled in buf (which is returned, possibly grown); otherwise it is a
// sub-slice of the data.
func (s *scanner) content(l logicalLine, buf []byte) []byte {
	return unfold(s.data, l, buf)
}

func unfold(data []byte, l logicalLine, buf []byte) []byte {
	if !l.folded {
		return data[l.start:l.firstEnd]
	}
	buf = append(buf[:0], data[l.start:l.firstEnd]...)
	_, pos := lineBounds(data, l.start)
	for pos < l.end {
		end, next := lineBounds(data, pos)
		buf = append(buf, data[pos+1:end]...) // drop the leading space or tab
		pos = next
	}
	return buf
}

// lineEnding returns the terminator of the last physical line of l: "\r\n",
// "\n" or "" (end of data).
func lineEnding(data []byte, l logicalLine) string {
	switch {
	case l.end == 0 || data[l.end-1] != '\n':
		return ""
	case l.end >= 2 && data[l.end-2] == '\r':
		return "\r\n"
	default:
		return "\n"
	}
}

// isBlank reports whether b holds only spaces and tabs.
func isBlank[T textual](b T) bool {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// isNameChar reports whether c may appear in a group, property or parameter
// name. RFC 6350 allows letters, digits and '-'; '_' is accepted as well
// because real producers use it in X- names.
func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func nameEnd[T textual](b T, i int) int {
	for i < len(b) && isNameChar(b[i]) {
		i++
	}
	return i
}

// textual is the bytes of a card, or a string of them: a line parsed from a
// string yields substrings, which cost no copy.
type textual interface{ ~string | ~[]byte }

// indexByte is bytes.IndexByte and strings.IndexByte for either form.
func indexByte[T textual](s T, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// propLine is one parsed content line; all fields are sub-slices of the line.
type propLine[T textual] struct {
	group  T
	name   T
	params T // the raw parameters, each introduced by ';' ("" when none)
	value  T // the raw (escaped) value
}

// scanName reads the group and the name at the start of a content line.
// ok is false unless the name is followed by ';' or ':'.
func scanName(b []byte) (group, name []byte, ok bool) {
	i := nameEnd(b, 0)
	if i < len(b) && b[i] == '.' && i > 0 {
		group = b[:i]
		j := nameEnd(b, i+1)
		name = b[i+1 : j]
		i = j
	} else {
		name = b[:i]
	}
	if len(name) == 0 || i >= len(b) || (b[i] != ';' && b[i] != ':') {
		return nil, nil, false
	}
	return group, name, true
}

// parseProp splits an unfolded content line. On failure it returns a short
// description of the problem.
func parseProp[T textual](b T) (p propLine[T], msg string) {
	i := nameEnd(b, 0)
	if i < len(b) && b[i] == '.' {
		if i == 0 {
			return p, "empty group name"
		}
		p.group = b[:i]
		j := nameEnd(b, i+1)
		p.name = b[i+1 : j]
		i = j
	} else {
		p.name = b[:i]
	}
	if i >= len(b) || (b[i] != ';' && b[i] != ':') {
		if indexByte(b, ':') < 0 {
			return p, "property without a colon"
		}
		end := 0
		for b[end] != ';' && b[end] != ':' {
			end++
		}
		return p, "invalid property name " + quoteForMsg(b[:end])
	}
	if len(p.name) == 0 {
		return p, "empty property name"
	}
	start := i
	for b[i] == ';' {
		i++
		j := nameEnd(b, i)
		if j == i {
			return p, "empty parameter name"
		}
		if j >= len(b) {
			return p, "property without a colon"
		}
		switch b[j] {
		case ';', ':':
			// A bare parameter (vCard 2.1 style, e.g. TEL;CELL:).
			i = j
			continue
		case '=':
		default:
			return p, "invalid parameter name " + quoteForMsg(b[i:j+1])
		}
		i = j + 1
		for {
			if i < len(b) && b[i] == '"' {
				k := indexByte(b[i+1:], '"')
				if k < 0 {
					return p, "unterminated quoted parameter value"
				}
				i += k + 2
				if i < len(b) && b[i] != ',' && b[i] != ';' && b[i] != ':' {
					return p, "unexpected character after quoted parameter value"
				}
			} else {
				for i < len(b) && b[i] != ',' && b[i] != ';' && b[i] != ':' {
					i++
				}
			}
			if i >= len(b) {
				return p, "property without a colon"
			}
			if b[i] != ',' {
				break
			}
			i++
		}
	}
	p.params = b[start:i]
	p.value = b[i+1:]
	return p, ""
}

func quoteForMsg[T textual](b T) string {
	const max = 40
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return "\"" + strings.ToValidUTF8(s, "\uFFFD") + "\""
}

// eachParam calls fn for every parameter of a line accepted by parseProp.
// raw is the value section after '='; bare is true for a parameter without
// one. fn returns false to stop.
func eachParam[T textual](params T, fn func(name, raw T, bare bool) bool) {
	i := 0
	for i < len(params) && params[i] == ';' {
		i++
		j := nameEnd(params, i)
		name := params[i:j]
		if j >= len(params) || params[j] != '=' {
			i = j
			if !fn(name, params[j:j], true) {
				return
			}
			continue
		}
		k := j + 1
		for k < len(params) && params[k] != ';' {
			if params[k] == '"' {
				q := indexByte(params[k+1:], '"')
				if q < 0 {
					k = len(params)
					break
				}
				k += q + 2
				continue
			}
			k++
		}
		if !fn(name, params[j+1:k], false) {
			return
		}
		i = k
	}
}

// eachValue calls fn with every comma-separated value of a raw parameter
// value section, with surrounding double quotes removed.
func eachValue[T textual](raw T, fn func(v T) bool) {
	i := 0
	for {
		var v T
		if i < len(raw) && raw[i] == '"' {
			q := indexByte(raw[i+1:], '"')
			if q < 0 {
				v, i = raw[i+1:], len(raw)
			} else {
				v, i = raw[i+1:i+1+q], i+q+2
			}
		} else {
			k := indexByte(raw[i:], ',')
			if k < 0 {
				v, i = raw[i:], len(raw)
			} else {
				v, i = raw[i:i+k], i+k
			}
		}
		if !fn(v) {
			return
		}
		if i >= len(raw) || raw[i] != ',' {
			return
		}
		i++
	}
}

// asciiEqualFold compares b with an upper-case ASCII string s, ignoring the
// case of ASCII letters in b.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func asciiHasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// appendUnescaped appends the text value src with vCard escapes resolved:
// \\ \n \N \, \; and \: (the last is not standard but common). Other
// backslashes are kept as they are.
func appendUnescaped(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '\\')
		if i < 0 || i == len(src)-1 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		switch c := src[i+1]; c {
		case 'n', 'N':
			dst = append(dst, '\n')
		case '\\', ',', ';', ':':
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', c)
		}
		src = src[i+2:]
	}
}

func unescapeText(src []byte) string {
	if bytes.IndexByte(src, '\\') < 0 {
		return string(src)
	}
	return string(appendUnescaped(nil, src))
}

var textEscaper = strings.NewReplacer(`\`, `\\`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`, ",", `\,`, ";", `\;`)

// escapeText escapes a text value for a content line.
func escapeText(s string) string { return textEscaper.Replace(s) }

// splitStructured splits a raw structured value (N, ADR, ORG) at the
// semicolons that are not escaped.
func splitStructured(raw string) []string { return splitUnescaped(raw, ';') }

// splitUnescaped splits a raw value at the separators that are not escaped.
func splitUnescaped(raw string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, raw[start:i])
			start = i + 1
		}
	}
	return append(parts, raw[start:])
}

// badByte finds a byte that must not occur in a card: NUL, a C0 control other
// than tab and the line terminators, or a CR that does not end a line. It
// returns the offset or -1.
func badByte(b []byte) int {
	for i, c := range b {
		if c >= 0x20 || c == '\t' || c == '\n' {
			continue
		}
		if c == '\r' && (i+1 == len(b) || b[i+1] == '\n') {
			continue
		}
		return i
	}
	return -1
}

// hasNonXMLRune finds the noncharacters U+FFFE and U+FFFF, which XML cannot carry.
func hasNonXMLRune(b []byte) bool {
	return bytes.Contains(b, nonCharFFFE) || bytes.Contains(b, nonCharFFFF)
}

var nonCharFFFE, nonCharFFFF = []byte("\uFFFE"), []byte("\uFFFF")
