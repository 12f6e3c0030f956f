package contacts

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// Info is what the server needs to know about a valid card.
type Info struct {
	UID     string // unescaped value of UID, "" when absent
	Version string // "3.0" or "4.0"
	Kind    string // lower-case KIND (or X-ADDRESSBOOKSERVER-KIND), "" when absent
	FN      string // unescaped value of the first FN, "" when absent (3.0 with N only)
}

// ValidationError says why data is not an acceptable vCard. Line is 1-based
// (0 when unknown or when the problem concerns the whole card).
type ValidationError struct {
	Line int
	Msg  string
}

func (e *ValidationError) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func verr(line int, format string, args ...any) *ValidationError {
	return &ValidationError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

const (
	fieldBegin     = "BEGIN"
	fieldEnd       = "END"
	fieldXKind     = "X-ADDRESSBOOKSERVER-KIND"
	fieldXMember   = "X-ADDRESSBOOKSERVER-MEMBER"
	fieldLabel     = "LABEL"
	paramEncoding  = "ENCODING"
	paramLabel     = "LABEL"
	paramPref      = vcard.ParamPreferred
	paramType      = vcard.ParamType
	paramValue     = vcard.ParamValue
	paramMediaType = vcard.ParamMediaType
)

// Validate checks that data is exactly one well-formed vCard: BEGIN:VCARD
// and END:VCARD around the properties, VERSION 3.0 or 4.0 (once), FN (4.0)
// or FN or N (3.0), at most one UID, valid UTF-8 without NUL bytes or other
// control characters except tab, every line a property with a valid name,
// well-formed parameters and a colon. Blank lines and a leading UTF-8 BOM
// are tolerated; anything else outside BEGIN/END is not. A missing UID is
// not an error: Info.UID is "" and the caller adds one with AddUID.
func Validate(data []byte) (Info, error) {
	var info Info
	const (
		before = iota
		inside
		after
	)
	state := before
	s := newScanner(data)
	var (
		buf                 []byte
		hasVersion, hasUID  bool
		hasFN, hasN         bool
		kind, xkind         string
		hasKind, hasXKind   bool
		lastLine, beginLine int
	)
	for {
		l, ok := s.next()
		if !ok {
			break
		}
		lastLine = s.line - 1
		raw := data[l.start:l.end]
		if i := badByte(raw); i >= 0 {
			line := l.num + bytes.Count(raw[:i], []byte{'\n'})
			switch raw[i] {
			case 0:
				return info, verr(line, "NUL byte")
			case '\r':
				return info, verr(line, "carriage return without line feed")
			default:
				return info, verr(line, "control character 0x%02X", raw[i])
			}
		}
		c := s.content(l, buf)
		if l.folded {
			buf = c
		}
		if isBlank(c) {
			continue
		}
		if !utf8.Valid(c) {
			return info, verr(l.num, "invalid UTF-8")
		}
		if hasNonXMLRune(c) {
			return info, verr(l.num, "noncharacter U+FFFE or U+FFFF")
		}
		p, msg := parseProp(c)
		if msg != "" {
			if state == after {
				return info, verr(l.num, "data after END:VCARD")
			}
			if state == before {
				return info, verr(l.num, "expected BEGIN:VCARD")
			}
			return info, verr(l.num, "%s", msg)
		}
		name := p.name
		switch state {
		case before:
			if !asciiEqualFold(name, fieldBegin) || !isVCARD(p.value) {
				return info, verr(l.num, "expected BEGIN:VCARD")
			}
			state = inside
			beginLine = l.num
			continue
		case after:
			if asciiEqualFold(name, fieldBegin) {
				return info, verr(l.num, "more than one vCard (only one is allowed)")
			}
			return info, verr(l.num, "data after END:VCARD")
		}
		switch {
		case asciiEqualFold(name, fieldBegin):
			return info, verr(l.num, "BEGIN inside the vCard started on line %d", beginLine)
		case asciiEqualFold(name, fieldEnd):
			if !isVCARD(p.value) {
				return info, verr(l.num, "END:%s does not close BEGIN:VCARD", quoteForMsg(bytes.TrimSpace(p.value)))
			}
			state = after
		case asciiEqualFold(name, vcard.FieldVersion):
			if hasVersion {
				return info, verr(l.num, "more than one VERSION")
			}
			hasVersion = true
			v := string(bytes.TrimSpace(p.value))
			if v != "3.0" && v != "4.0" {
				return info, verr(l.num, "unsupported VERSION %s (want 3.0 or 4.0)", quoteForMsg([]byte(v)))
			}
			info.Version = v
		case asciiEqualFold(name, vcard.FieldUID):
			if hasUID {
				return info, verr(l.num, "more than one UID")
			}
			hasUID = true
			info.UID = unescapeText(p.value)
		case asciiEqualFold(name, vcard.FieldFormattedName):
			if !hasFN {
				info.FN = unescapeText(p.value)
			}
			hasFN = true
		case asciiEqualFold(name, vcard.FieldName):
			hasN = true
		case asciiEqualFold(name, vcard.FieldKind):
			if !hasKind {
				kind = strings.ToLower(strings.TrimSpace(unescapeText(p.value)))
			}
			hasKind = true
		case asciiEqualFold(name, fieldXKind):
			if !hasXKind {
				xkind = strings.ToLower(strings.TrimSpace(unescapeText(p.value)))
			}
			hasXKind = true
		}
	}
	switch state {
	case before:
		return info, verr(0, "no vCard (BEGIN:VCARD missing)")
	case inside:
		return info, verr(lastLine, "missing END:VCARD for the vCard started on line %d", beginLine)
	}
	switch {
	case !hasVersion:
		return info, verr(0, "missing VERSION")
	case info.Version == "4.0" && !hasFN:
		return info, verr(0, "missing FN (required in vCard 4.0)")
	case info.Version == "3.0" && !hasFN && !hasN:
		return info, verr(0, "missing FN and N (vCard 3.0 needs one of them)")
	}
	if hasKind {
		info.Kind = kind
	} else {
		info.Kind = xkind
	}
	return info, nil
}

// isVCARD reports whether a BEGIN or END value is VCARD (trailing blanks allowed).
func isVCARD(v []byte) bool {
	return asciiEqualFold(bytes.TrimRight(v, " \t"), "VCARD")
}

// NewUID returns a random (version 4) UUID for a card that has no UID.
func NewUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// AddUID returns data with a UID property inserted after VERSION (after
// BEGIN:VCARD when there is no VERSION). A UID property already present
// (such as an empty "UID:", which Validate reports as UID "") is replaced
// where it stands instead. Every other byte is kept as is; the new line uses
// the line ending of the line it follows or replaces and is folded when
// long. data is returned unchanged when it holds no BEGIN:VCARD.
func AddUID(data []byte, uid string) []byte {
	s := newScanner(data)
	var (
		buf      []byte
		at       = -1 // insert here
		skip     = 0  // bytes of an existing UID line to drop at at
		eol      string
		found    bool
		replaced bool
	)
	for !replaced {
		l, ok := s.next()
		if !ok {
			break
		}
		c := s.content(l, buf)
		if l.folded {
			buf = c
		}
		_, name, ok := scanName(c)
		if !ok {
			continue
		}
		switch {
		case asciiEqualFold(name, vcard.FieldUID):
			at, skip, eol, replaced = l.start, l.end-l.start, lineEnding(data, l), true
		case found:
		case asciiEqualFold(name, vcard.FieldVersion):
			at, eol, found = l.end, lineEnding(data, l), true
		case at < 0 && asciiEqualFold(name, fieldBegin):
			at, eol = l.end, lineEnding(data, l)
		}
	}
	if at < 0 {
		return data
	}
	out := make([]byte, 0, len(data)+len(uid)+16)
	out = append(out, data[:at]...)
	rest := data[at+skip:]
	if eol == "" {
		if replaced {
			// The UID line is the last one and lacks a terminator.
			out = appendFolded(out, "UID:"+escapeText(uid), "\r\n")
			return out[:len(out)-2]
		}
		// The line before is the last one and lacks a terminator.
		eol = "\r\n"
		out = append(out, eol...)
		out = appendFolded(out, "UID:"+escapeText(uid), eol)
		return out[:len(out)-len(eol)]
	}
	out = appendFolded(out, "UID:"+escapeText(uid), eol)
	return append(out, rest...)
}

// appendFolded appends line followed by eol, folded so that no physical
// line exceeds 75 octets (continuation lines start with a space), never
// splitting a UTF-8 sequence.
func appendFolded[S ~string | ~[]byte](dst []byte, line S, eol string) []byte {
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 1 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		dst = append(dst, line[:cut]...)
		dst = append(dst, eol...)
		dst = append(dst, ' ')
		line = line[cut:]
		limit = 74
	}
	dst = append(dst, line...)
	return append(dst, eol...)
}
