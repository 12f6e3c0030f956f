package contacts

import (
	"bytes"
	"slices"
	"strings"

	"github.com/rolodav/rolodav/internal/contentline"
)

// Param is one parameter of a Prop. Name is upper-case; Values are
// unquoted, with RFC 6868 caret escapes resolved in 4.0 cards. Values is nil
// for a bare (vCard 2.1 style) parameter; ParseProps turns those into TYPE
// or ENCODING, and merges several TYPE parameters into the first.
type Param struct {
	Name   string
	Values []string
}

// Prop is one content line of a card, for editing (see ParseProps and
// FormatProps). BEGIN, VERSION and END are props as well.
type Prop struct {
	Group  string // "" when none
	Name   string // upper-case
	Params []Param
	Value  string // raw: escaped exactly as in the card

	raw string // the line as read (folded, with its line end)
	v4  bool   // read from a 4.0 card, which decides how raw is parsed
}

// Text returns the value with text escapes resolved.
func (p *Prop) Text() string { return UnescapeText(p.Value) }

// Param returns the values of the parameter called name (upper-case), nil
// when absent.
func (p *Prop) Param(name string) []string {
	for _, q := range p.Params {
		if q.Name == name {
			return q.Values
		}
	}
	return nil
}

// unchanged reports whether p still holds the fields it was read with. They
// are read again from raw rather than kept: a card of many lines would hold
// them twice.
func (p *Prop) unchanged() bool {
	if p.raw == "" {
		return false
	}
	o, ok := parseRaw(p.raw, p.v4)
	if !ok || p.Group != o.group || p.Name != o.name || p.Value != o.value || len(p.Params) != len(o.params) {
		return false
	}
	for i, q := range p.Params {
		if q.Name != o.params[i].Name || (q.Values == nil) != (o.params[i].Values == nil) || !slices.Equal(q.Values, o.params[i].Values) {
			return false
		}
	}
	return true
}

// parseRaw parses one logical line as read (folded, with its line end).
func parseRaw(raw string, v4 bool) (property, bool) {
	sc := contentline.NewScanner([]byte(raw))
	l, ok := sc.Next()
	if !ok {
		return property{}, false
	}
	line := string(sc.Text(l, nil))
	pl, f := contentline.Parse(line, vcardSyntax)
	if f.Code != contentline.OK {
		return property{}, false
	}
	return newProperty(pl, v4), true
}

// ParseProps validates a card (see Validate) and returns its version and
// its content lines in order, BEGIN:VCARD, VERSION and END:VCARD included.
// Blank lines are left out. The props' strings share one copy of data.
func ParseProps(data []byte) (version string, props []Prop, err error) {
	info, err := Validate(data)
	if err != nil {
		return "", nil, err
	}
	v4 := info.Version == "4.0"
	card := string(data)
	s := contentline.NewScanner(data)
	var buf []byte
	props = make([]Prop, 0, bytes.Count(data, []byte{'\n'})+1) // a card of many lines is not copied as it grows
	for {
		l, ok := s.Next()
		if !ok {
			break
		}
		line := card[l.Start:l.FirstEnd]
		if l.Folded {
			buf = s.Text(l, buf)
			line = string(buf)
		}
		if contentline.IsBlank(line) {
			continue
		}
		pl, f := contentline.Parse(line, vcardSyntax)
		if f.Code != contentline.OK {
			continue // cannot happen in a valid card
		}
		p := newProperty(pl, v4)
		prop := Prop{Group: p.group, Name: p.name, Params: p.params, Value: p.value, raw: card[l.Start:l.End], v4: v4}
		props = append(props, prop)
	}
	return info.Version, props, nil
}

// FormatProps writes content lines as a card of the given version ("3.0"
// or "4.0"; it decides how parameter values are escaped). A prop returned
// by ParseProps and not changed since is written with its original bytes
// when its line end is eol; any other is formatted, folded at 75 octets and ended with eol. The
// caller provides BEGIN, VERSION and END.
func FormatProps(props []Prop, version, eol string) []byte {
	v4 := version == "4.0"
	var out, line []byte
	for i := range props {
		p := &props[i]
		if rawEndsWith(p.raw, eol) && p.unchanged() {
			out = append(out, p.raw...)
			if len(p.raw) > 0 && p.raw[len(p.raw)-1] != '\n' && i < len(props)-1 {
				out = append(out, eol...) // the original last line had no terminator
			}
			continue
		}
		q := &property{group: p.Group, name: p.Name, spelling: p.Name, params: p.Params, value: p.Value}
		line = formatProp(line[:0], q, v4)
		out = contentline.AppendFolded(out, line, eol)
	}
	return out
}

// rawEndsWith reports whether a raw line ends with eol, or has no line end.
func rawEndsWith(raw, eol string) bool {
	n := len(raw)
	switch {
	case n == 0 || raw[n-1] != '\n':
		return true
	case eol == "\n":
		return n < 2 || raw[n-2] != '\r'
	default:
		return n >= 2 && raw[n-2] == '\r'
	}
}

// LineEnding returns the line end used by the first line of data: "\n"
// when it is a bare LF, else "\r\n".
func LineEnding(data []byte) string {
	for i, c := range data {
		if c == '\n' {
			if i > 0 && data[i-1] == '\r' {
				return "\r\n"
			}
			return "\n"
		}
	}
	return "\r\n"
}

// UnescapeText resolves the text escapes of a raw value (\\ \n \, \; \:).
func UnescapeText(raw string) string {
	if !strings.Contains(raw, `\`) {
		return raw
	}
	return string(appendUnescaped(nil, []byte(raw)))
}

// EscapeText escapes a text value for a content line.
func EscapeText(s string) string { return escapeText(s) }

// SplitRaw splits a raw value at the separators (';' or ',') that are not
// escaped; the parts stay escaped.
func SplitRaw(raw string, sep byte) []string { return splitUnescaped(raw, sep) }
