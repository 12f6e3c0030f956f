package contentline

// Text is the data a line is parsed from: bytes, or a string of them (a line
// parsed from a string yields substrings, which cost no copy).
type Text interface{ ~string | ~[]byte }

// Syntax selects the variants of the grammar a reader accepts.
type Syntax struct {
	// Groups reads "group.NAME" as a group and a name (vCard).
	Groups bool
	// DotInNames takes '.' as a name character, in property and parameter
	// names alike (the tolerant iCalendar reader); Groups then has no effect.
	DotInNames bool
	// BareParams accepts a parameter without "=value" (vCard 2.1: TEL;CELL:).
	BareParams bool
	// QuoteInValues accepts '"' inside an unquoted parameter value, as
	// content; without it such a quote is a QuoteInValue fault.
	QuoteInValues bool
}

// Name characters: letters, digits and '-' (RFC 6350, RFC 5545), '_'
// because real producers use it in X- names, and with DotInNames '.'.
const (
	nameBase = 1 << iota
	nameDot
)

var nameChars = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			t[c] = nameBase
		}
	}
	t['.'] = nameDot
	return t
}()

func (s Syntax) nameMask() uint8 {
	if s.DotInNames {
		return nameBase | nameDot
	}
	return nameBase
}

// IsNameChar reports whether c may appear in a group, property or
// parameter name ('.' aside: see Syntax.DotInNames).
func IsNameChar(c byte) bool { return nameChars[c]&nameBase != 0 }

// IsName reports whether b is a non-empty name under syn.
func IsName[T Text](b T, syn Syntax) bool {
	return len(b) > 0 && nameEnd(b, 0, syn.nameMask()) == len(b)
}

func nameEnd[T Text](b T, i int, mask uint8) int {
	for i < len(b) && nameChars[b[i]]&mask != 0 {
		i++
	}
	return i
}

// IsBlank reports whether b holds only spaces and tabs.
func IsBlank[T Text](b T) bool {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// Prop is one parsed content line; all fields are sub-slices of the line.
type Prop[T Text] struct {
	Group  T // empty when none
	Name   T
	Params T // the raw parameters, each introduced by ';' (empty when none)
	Value  T // the raw value, still escaped
}

// Code says which rule of the grammar a line breaks.
type Code uint8

// The faults Parse reports, in the order it meets them along the line.
const (
	OK           Code = iota
	EmptyGroup        // "." starts the line (Groups)
	BadName           // the name is followed by neither ';' nor ':'; At is where it stops (len at the end)
	EmptyName         // ';' or ':' with no name before it; At is that character
	BadParamName      // a parameter name is empty or not followed by '=' (nor by ';' or ':' with BareParams); At is where it stops
	Unterminated      // a quoted parameter value has no closing quote; At is the opening quote
	AfterQuote        // a closing quote is followed by neither ',', ';' nor ':'; At is that character (len at the end)
	QuoteInValue      // '"' inside an unquoted parameter value (without QuoteInValues); At is the quote
	NoColon           // the line ends inside an unquoted parameter value; At is len
)

// Fault describes where a line breaks the grammar. For faults inside a
// parameter (BadParamName and after), Param and ParamEnd delimit its name:
// the name characters read, up to the '=' when there is one.
type Fault struct {
	Code            Code
	At              int
	Param, ParamEnd int
}

// Parse splits an unfolded content line. On a fault, the fields of p read
// before it are set (the name always is, from EmptyName on).
func Parse[T Text](b T, syn Syntax) (p Prop[T], f Fault) {
	mask := syn.nameMask()
	dot, i, code := splitName(b, syn.Groups, mask)
	if dot > 0 {
		p.Group = b[:dot]
	}
	p.Name = b[dot+1 : i]
	if code != OK {
		f.Code, f.At = code, i
		return p, f
	}
	start := i
	for b[i] == ';' {
		i++
		j := nameEnd(b, i, mask)
		f.Param, f.ParamEnd = i, j
		switch {
		case j > i && j < len(b) && b[j] == '=':
		case j > i && j < len(b) && (b[j] == ';' || b[j] == ':') && syn.BareParams:
			i = j // a bare parameter
			continue
		default:
			f.Code, f.At = BadParamName, j
			return p, f
		}
		i = j + 1
		for {
			if i < len(b) && b[i] == '"' {
				k := indexByte(b[i+1:], '"')
				if k < 0 {
					f.Code, f.At = Unterminated, i
					return p, f
				}
				i += k + 2
				if i >= len(b) || (b[i] != ',' && b[i] != ';' && b[i] != ':') {
					f.Code, f.At = AfterQuote, i
					return p, f
				}
			} else {
				for i < len(b) && b[i] != ',' && b[i] != ';' && b[i] != ':' {
					if b[i] == '"' && !syn.QuoteInValues {
						f.Code, f.At = QuoteInValue, i
						return p, f
					}
					i++
				}
				if i >= len(b) {
					f.Code, f.At = NoColon, i
					return p, f
				}
			}
			if b[i] != ',' {
				break
			}
			i++
		}
	}
	p.Params = b[start:i]
	p.Value = b[i+1:]
	return p, Fault{}
}

// Name reads the group and the name at the start of a content line, as
// Parse does; ok is false unless the name is followed by ';' or ':'. It
// needs only the start of the line (such as its first physical line).
// group and name are empty when ok is false.
func Name[T Text](b T, syn Syntax) (group, name T, ok bool) {
	dot, i, code := splitName(b, syn.Groups, syn.nameMask())
	if code != OK {
		return group, name, false
	}
	if dot > 0 {
		group = b[:dot]
	}
	return group, b[dot+1 : i], true
}

// splitName reads the name at the start of b: the group ends at dot (-1
// without a group), the name at i.
func splitName[T Text](b T, groups bool, mask uint8) (dot, i int, code Code) {
	dot = -1
	i = nameEnd(b, 0, mask)
	if groups && i < len(b) && b[i] == '.' {
		if i == 0 {
			return -1, 0, EmptyGroup
		}
		dot = i
		i = nameEnd(b, i+1, mask)
	}
	switch {
	case i >= len(b) || (b[i] != ';' && b[i] != ':'):
		return dot, i, BadName
	case i == dot+1:
		return dot, i, EmptyName
	}
	return dot, i, OK
}

// EachParam calls fn for every parameter of the raw parameters of a line
// Parse accepted under syn, in order. raw is the value section after '='
// (see EachValue); bare is true for a parameter without one. fn returns
// false to stop.
func EachParam[T Text](params T, syn Syntax, fn func(name, raw T, bare bool) bool) {
	mask := syn.nameMask()
	i := 0
	for i < len(params) && params[i] == ';' {
		i++
		j := nameEnd(params, i, mask)
		name := params[i:j]
		if j >= len(params) || params[j] != '=' {
			i = j
			if !fn(name, params[j:j], true) {
				return
			}
			continue
		}
		// The values, as Parse reads them: a quote opens a quoted value only
		// at the start of one (with QuoteInValues it is content elsewhere).
		k := j + 1
		for {
			if k < len(params) && params[k] == '"' {
				q := indexByte(params[k+1:], '"')
				if q < 0 {
					k = len(params)
					break
				}
				k += q + 2
			} else {
				for k < len(params) && params[k] != ',' && params[k] != ';' {
					k++
				}
			}
			if k >= len(params) || params[k] != ',' {
				break
			}
			k++
		}
		if !fn(name, params[j+1:k], false) {
			return
		}
		i = k
	}
}

// EachValue calls fn with every comma-separated value of a raw parameter
// value section, with surrounding double quotes removed. fn returns false
// to stop.
func EachValue[T Text](raw T, fn func(v T) bool) {
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

// indexByte is bytes.IndexByte and strings.IndexByte for either form.
func indexByte[T Text](s T, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
