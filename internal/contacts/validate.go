package contacts

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-vcard"

	"github.com/rolodav/rolodav/internal/contentline"
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
	err  error // what it matches with errors.Is, as ErrUnterminated
}

func (e *ValidationError) Unwrap() error { return e.err }

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
	s := contentline.NewScanner(data)
	var (
		buf                 []byte
		hasVersion, hasUID  bool
		hasFN, hasN         bool
		kind, xkind         string
		hasKind, hasXKind   bool
		lastLine, beginLine int
	)
	for {
		l, ok := s.Next()
		if !ok {
			break
		}
		lastLine = s.Lines()
		raw := data[l.Start:l.End]
		if i := badByte(raw); i >= 0 {
			line := l.Num + bytes.Count(raw[:i], []byte{'\n'})
			switch raw[i] {
			case 0:
				return info, verr(line, "NUL byte")
			case '\r':
				return info, verr(line, "carriage return without line feed")
			default:
				return info, verr(line, "control character 0x%02X", raw[i])
			}
		}
		c := s.Text(l, buf)
		if l.Folded {
			buf = c
		}
		if contentline.IsBlank(c) {
			continue
		}
		if !utf8.Valid(c) {
			return info, verr(l.Num, "invalid UTF-8")
		}
		if hasNonXMLRune(c) {
			return info, verr(l.Num, "noncharacter U+FFFE or U+FFFF")
		}
		p, f := contentline.Parse(c, vcardSyntax)
		if f.Code != contentline.OK {
			if state == after {
				return info, verr(l.Num, "data after END:VCARD")
			}
			if state == before {
				return info, verr(l.Num, "expected BEGIN:VCARD")
			}
			return info, verr(l.Num, "%s", faultMsg(c, f))
		}
		name := p.Name
		switch state {
		case before:
			if !asciiEqualFold(name, fieldBegin) || !isVCARD(p.Value) {
				return info, verr(l.Num, "expected BEGIN:VCARD")
			}
			state = inside
			beginLine = l.Num
			continue
		case after:
			if asciiEqualFold(name, fieldBegin) {
				return info, verr(l.Num, "more than one vCard (only one is allowed)")
			}
			return info, verr(l.Num, "data after END:VCARD")
		}
		switch {
		case asciiEqualFold(name, fieldBegin):
			return info, verr(l.Num, "BEGIN inside the vCard started on line %d", beginLine)
		case asciiEqualFold(name, fieldEnd):
			if !isVCARD(p.Value) {
				return info, verr(l.Num, "END:%s does not close BEGIN:VCARD", quoteForMsg(bytes.TrimSpace(p.Value)))
			}
			state = after
		case asciiEqualFold(name, vcard.FieldVersion):
			if hasVersion {
				return info, verr(l.Num, "more than one VERSION")
			}
			hasVersion = true
			v := string(bytes.TrimSpace(p.Value))
			if v != "3.0" && v != "4.0" {
				return info, verr(l.Num, "unsupported VERSION %s (want 3.0 or 4.0)", quoteForMsg([]byte(v)))
			}
			info.Version = v
		case asciiEqualFold(name, vcard.FieldUID):
			if hasUID {
				return info, verr(l.Num, "more than one UID")
			}
			hasUID = true
			info.UID = unescapeText(p.Value)
		case asciiEqualFold(name, vcard.FieldFormattedName):
			if !hasFN {
				info.FN = unescapeText(p.Value)
			}
			hasFN = true
		case asciiEqualFold(name, vcard.FieldName):
			hasN = true
		case asciiEqualFold(name, vcard.FieldKind):
			if !hasKind {
				kind = strings.ToLower(strings.TrimSpace(unescapeText(p.Value)))
			}
			hasKind = true
		case asciiEqualFold(name, fieldXKind):
			if !hasXKind {
				xkind = strings.ToLower(strings.TrimSpace(unescapeText(p.Value)))
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
	s := contentline.NewScanner(data)
	var (
		buf      []byte
		at       = -1 // insert here
		skip     = 0  // bytes of an existing UID line to drop at at
		eol      string
		found    bool
		replaced bool
	)
	for !replaced {
		l, ok := s.Next()
		if !ok {
			break
		}
		c := s.Text(l, buf)
		if l.Folded {
			buf = c
		}
		_, name, ok := contentline.Name(c, vcardSyntax)
		if !ok {
			continue
		}
		switch {
		case asciiEqualFold(name, vcard.FieldUID):
			at, skip, eol, replaced = l.Start, l.End-l.Start, l.Ending(data), true
		case found:
		case asciiEqualFold(name, vcard.FieldVersion):
			at, eol, found = l.End, l.Ending(data), true
		case at < 0 && asciiEqualFold(name, fieldBegin):
			at, eol = l.End, l.Ending(data)
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
			out = contentline.AppendFolded(out, "UID:"+escapeText(uid), "\r\n")
			return out[:len(out)-2]
		}
		// The line before is the last one and lacks a terminator.
		eol = "\r\n"
		out = append(out, eol...)
		out = contentline.AppendFolded(out, "UID:"+escapeText(uid), eol)
		return out[:len(out)-len(eol)]
	}
	out = contentline.AppendFolded(out, "UID:"+escapeText(uid), eol)
	return append(out, rest...)
}
