package contentline

import "bytes"

// BOM is the UTF-8 byte order mark; a Scanner skips it at the start of the data.
const BOM = "\xef\xbb\xbf"

// Line locates one logical line (a physical line and its continuation
// lines) in the data a Scanner reads.
type Line struct {
	Num      int  // 1-based number of its first physical line
	Start    int  // offset of its first byte
	End      int  // offset just after its last line terminator (len(data) at the end)
	FirstEnd int  // offset of the end of its first physical line's content (before LF or CRLF)
	Folded   bool // continuation lines follow the first line
}

// Ending returns the terminator of the last physical line of l in data:
// "\r\n", "\n" or "" (the data ends without one).
func (l Line) Ending(data []byte) string {
	switch {
	case l.End == 0 || data[l.End-1] != '\n':
		return ""
	case l.End >= 2 && data[l.End-2] == '\r':
		return "\r\n"
	default:
		return "\n"
	}
}

// Scanner walks the logical lines of data. Only LF ends a physical line: a
// CR before it (or at the very end of the data) belongs to the terminator,
// any other CR is content, which the callers reject or keep as their format
// says.
type Scanner struct {
	data []byte
	pos  int
	line int // number of the next physical line
}

// NewScanner returns a Scanner at the start of data, after a UTF-8 BOM.
func NewScanner(data []byte) Scanner {
	s := Scanner{data: data, line: 1}
	if bytes.HasPrefix(data, []byte(BOM)) {
		s.pos = len(BOM)
	}
	return s
}

// Next returns the next logical line; ok is false at the end of the data.
func (s *Scanner) Next() (l Line, ok bool) {
	if s.pos >= len(s.data) {
		return l, false
	}
	l.Num = s.line
	l.Start = s.pos
	l.FirstEnd, s.pos = bounds(s.data, s.pos)
	s.line++
	for s.pos < len(s.data) && (s.data[s.pos] == ' ' || s.data[s.pos] == '\t') {
		l.Folded = true
		_, s.pos = bounds(s.data, s.pos)
		s.line++
	}
	l.End = s.pos
	return l, true
}

// Lines returns the number of physical lines read so far: after the last
// Next, the number of the data's last line.
func (s *Scanner) Lines() int { return s.line - 1 }

// Text returns the unfolded content of l; see Unfold.
func (s *Scanner) Text(l Line, buf []byte) []byte { return Unfold(s.data, l, buf) }

// Unfold returns the content of the logical line l of data without line
// terminators and with the space or tab that starts each continuation line
// removed. When l is folded the content is assembled in buf (returned,
// possibly grown, for the caller to reuse); otherwise it is a sub-slice of
// data and buf is not touched.
func Unfold(data []byte, l Line, buf []byte) []byte {
	if !l.Folded {
		return data[l.Start:l.FirstEnd]
	}
	buf = append(buf[:0], data[l.Start:l.FirstEnd]...)
	_, pos := bounds(data, l.Start)
	for pos < l.End {
		end, next := bounds(data, pos)
		buf = append(buf, data[pos+1:end]...)
		pos = next
	}
	return buf
}

// bounds returns, for the physical line starting at pos, the end of its
// content (a CR before the LF, or at the very end, excluded) and the start
// of the following line.
func bounds(data []byte, pos int) (contentEnd, next int) {
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
