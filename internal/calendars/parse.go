package calendars

// This file holds the iCalendar (RFC 5545) parser and writer used by the
// whole package (content lines are read with contentline, which words no
// errors: the calendar errors are worded here), and the parsers of the
// value types the package needs (DATE, DATE-TIME, DURATION, PERIOD,
// UTC-OFFSET, TEXT).
//
// The parser keeps properties in document order, their raw values and the
// line each content line starts on, so that errors can name a line and
// objects can be written back without reordering.

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/contentline"
)

// calParam is one property parameter; quoted values are stored unquoted.
type calParam struct {
	Name   string // upper case
	Values []string
}

// calProp is one content line.
type calProp struct {
	Name   string // upper case
	Params []calParam
	Value  string // raw value, unfolded, not unescaped
	Line   int    // 1-based physical line the content line starts on
}

// calComp is one component (BEGIN:NAME … END:NAME).
type calComp struct {
	Name     string // upper case
	Props    []calProp
	Children []*calComp
	Line     int // line of the BEGIN
	// Begin and End are byte offsets into the parsed data: from the start of
	// the BEGIN line to just after the END line (line break included).
	Begin, End int
}

// maxDepth bounds component nesting (VCALENDAR > VEVENT > VALARM needs 3).
const maxDepth = 16

// param returns the first value of the named parameter, "" when absent.
func (p *calProp) param(name string) string {
	for i := range p.Params {
		if p.Params[i].Name == name {
			if len(p.Params[i].Values) > 0 {
				return p.Params[i].Values[0]
			}
			return ""
		}
	}
	return ""
}

// hasParam reports whether the named parameter is present.
func (p *calProp) hasParam(name string) bool {
	for i := range p.Params {
		if p.Params[i].Name == name {
			return true
		}
	}
	return false
}

// prop returns the first property with that name, nil when absent.
func (c *calComp) prop(name string) *calProp {
	for i := range c.Props {
		if c.Props[i].Name == name {
			return &c.Props[i]
		}
	}
	return nil
}

// count returns how many properties have that name.
func (c *calComp) count(name string) int {
	n := 0
	for i := range c.Props {
		if c.Props[i].Name == name {
			n++
		}
	}
	return n
}

// text returns the unescaped TEXT value of the first property with that
// name, "" when absent.
func (c *calComp) text(name string) string {
	if p := c.prop(name); p != nil {
		return unescapeText(p.Value)
	}
	return ""
}

// clone copies the component deeply (values are strings, so shared).
func (c *calComp) clone() *calComp {
	n := &calComp{Name: c.Name, Line: c.Line}
	n.Props = make([]calProp, len(c.Props))
	for i, p := range c.Props {
		n.Props[i] = p.clone()
	}
	for _, ch := range c.Children {
		n.Children = append(n.Children, ch.clone())
	}
	return n
}

func (p calProp) clone() calProp {
	if p.Params != nil {
		ps := make([]calParam, len(p.Params))
		for i, pa := range p.Params {
			ps[i] = calParam{Name: pa.Name, Values: append([]string(nil), pa.Values...)}
		}
		p.Params = ps
	}
	return p
}

// delParam removes the parameters called name.
func (p *calProp) delParam(name string) {
	out := p.Params[:0]
	for _, pa := range p.Params {
		if pa.Name != name {
			out = append(out, pa)
		}
	}
	p.Params = out
}

// dataError is a "valid-calendar-data" error at a line.
func dataError(line int, format string, args ...any) *ValidationError {
	return &ValidationError{Line: line, Condition: "valid-calendar-data", Msg: fmt.Sprintf(format, args...)}
}

// objectError is a "valid-calendar-object-resource" error.
func objectError(line int, format string, args ...any) *ValidationError {
	return &ValidationError{Line: line, Condition: "valid-calendar-object-resource", Msg: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %s", e.Condition, e.Line, e.Msg)
	}
	return e.Condition + ": " + e.Msg
}

// checkChars rejects invalid UTF-8, control characters other than HTAB,
// and a CR that does not end a line (RFC 5545 3.1: VALUE-CHAR, SAFE-CHAR):
// such bytes could not be served inside an XML REPORT answer either, and
// Split, which an export reads with, refuses a stray CR.
func checkChars(data []byte) error {
	line := 1
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				line++
			case c == '\r':
				if i+1 < len(data) && data[i+1] != '\n' {
					return dataError(line, "stray carriage return (lines must end in CRLF or LF)")
				}
			case c == '\t':
			case c < 0x20 || c == 0x7f:
				return dataError(line, "control character 0x%02x", c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return dataError(line, "invalid UTF-8")
		}
		i += size
	}
	return nil
}

// icsSyntax is the grammar parseICS reads: RFC 5545 content lines, with '.'
// tolerated in property and parameter names.
var icsSyntax = contentline.Syntax{DotInNames: true}

// parseICS parses an iCalendar stream into its top-level components.
// Errors are *ValidationError with Condition "valid-calendar-data".
func parseICS(data []byte) ([]*calComp, error) {
	if err := checkChars(data); err != nil {
		return nil, err
	}
	s := string(data) // values are substrings of this one copy
	var (
		tops  []*calComp
		stack []*calComp
		buf   []byte
	)
	sc := contentline.NewScanner(data)
	for {
		l, ok := sc.Next()
		if !ok {
			break
		}
		startLine := l.Num
		content := s[l.Start:l.FirstEnd]
		if l.Folded {
			buf = sc.Text(l, buf)
			content = string(buf)
		}
		if strings.TrimSpace(content) == "" {
			continue // blank lines are tolerated
		}
		if content[0] == ' ' || content[0] == '\t' {
			return nil, dataError(startLine, "continuation line without a content line")
		}
		prop, err := readProp(content, startLine)
		if err != nil {
			return nil, err
		}
		switch prop.Name {
		case "BEGIN":
			name := strings.ToUpper(strings.TrimSpace(prop.Value))
			if !contentline.IsName(name, icsSyntax) {
				return nil, dataError(startLine, "invalid component name %q", prop.Value)
			}
			if len(stack) >= maxDepth {
				return nil, dataError(startLine, "components nested too deeply")
			}
			c := &calComp{Name: name, Line: startLine, Begin: l.Start}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, c)
			} else {
				tops = append(tops, c)
			}
			stack = append(stack, c)
		case "END":
			name := strings.ToUpper(strings.TrimSpace(prop.Value))
			if len(stack) == 0 {
				return nil, dataError(startLine, "END:%s without BEGIN", name)
			}
			c := stack[len(stack)-1]
			if c.Name != name {
				return nil, dataError(startLine, "END:%s does not close BEGIN:%s (line %d)", name, c.Name, c.Line)
			}
			c.End = l.End
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				return nil, dataError(startLine, "property %s outside of a component", prop.Name)
			}
			c := stack[len(stack)-1]
			c.Props = append(c.Props, prop)
		}
	}
	if len(stack) > 0 {
		c := stack[len(stack)-1]
		return nil, dataError(sc.Lines(), "BEGIN:%s (line %d) is not closed", c.Name, c.Line)
	}
	return tops, nil
}

// readProp parses the unfolded content line l, which starts on line.
func readProp(l string, line int) (calProp, error) {
	p, f := contentline.Parse(l, icsSyntax)
	name := strings.ToUpper(p.Name)
	if f.Code != contentline.OK {
		return calProp{}, icsFault(l, name, f, line)
	}
	prop := calProp{Name: name, Value: p.Value, Line: line}
	if len(p.Params) == 0 {
		return prop, nil
	}
	contentline.EachParam(p.Params, icsSyntax, func(pname, raw string, _ bool) bool {
		param := calParam{Name: strings.ToUpper(pname)}
		contentline.EachValue(raw, func(v string) bool {
			param.Values = append(param.Values, v)
			return true
		})
		prop.Params = append(prop.Params, param)
		return true
	})
	return prop, nil
}

// icsFault words a fault of the content line l (property name, upper case).
func icsFault(l, name string, f contentline.Fault, line int) error {
	switch f.Code {
	case contentline.BadName, contentline.EmptyName:
		k := strings.IndexAny(l, ";:")
		if k < 0 {
			return dataError(line, "content line without ':'")
		}
		return dataError(line, "invalid property name %q", l[:k])
	case contentline.BadParamName:
		eq := strings.IndexByte(l[f.Param:], '=')
		if eq <= 0 {
			return dataError(line, "%s: malformed parameter", name)
		}
		return dataError(line, "%s: invalid parameter name %q", name, l[f.Param:f.Param+eq])
	case contentline.Unterminated:
		return dataError(line, "%s: unterminated quoted parameter value", name)
	case contentline.AfterQuote:
		return dataError(line, "%s: malformed parameter %s", name, strings.ToUpper(l[f.Param:f.ParamEnd]))
	case contentline.QuoteInValue:
		return dataError(line, "%s: '\"' inside a parameter value", name)
	}
	return dataError(line, "%s: content line without ':'", name)
}

// ---- writing ----

// writeComp serialises a component with CRLF line endings, folding lines
// longer than 75 octets without splitting UTF-8 sequences.
func writeComp(b *bytes.Buffer, c *calComp) {
	writeLine(b, "BEGIN:"+c.Name)
	for i := range c.Props {
		writeProp(b, &c.Props[i])
	}
	for _, ch := range c.Children {
		writeComp(b, ch)
	}
	writeLine(b, "END:"+c.Name)
}

func writeProp(b *bytes.Buffer, p *calProp) {
	var sb strings.Builder
	sb.Grow(len(p.Name) + len(p.Value) + 16)
	sb.WriteString(p.Name)
	for _, pa := range p.Params {
		sb.WriteByte(';')
		sb.WriteString(pa.Name)
		sb.WriteByte('=')
		for i, v := range pa.Values {
			if i > 0 {
				sb.WriteByte(',')
			}
			if strings.ContainsAny(v, ";:,") {
				sb.WriteByte('"')
				sb.WriteString(strings.ReplaceAll(v, `"`, ""))
				sb.WriteByte('"')
			} else {
				sb.WriteString(strings.ReplaceAll(v, `"`, ""))
			}
		}
	}
	sb.WriteByte(':')
	sb.WriteString(p.Value)
	writeLine(b, sb.String())
}

// writeLine writes one content line, folded at 75 octets, and CRLF.
func writeLine[T contentline.Text](b *bytes.Buffer, l T) {
	n := len(l) + 2
	if len(l) > 75 {
		n += 3 * ((len(l)-75)/71 + 1) // at most this many folds of 3 bytes
	}
	b.Grow(n) // the append below then stays in b
	b.Write(contentline.AppendFolded(b.AvailableBuffer(), l, "\r\n"))
}

// ---- values ----

// unescapeText decodes a TEXT value (RFC 5545 3.3.11): \\ \; \, \n \N.
func unescapeText(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// dtValue is a DATE or DATE-TIME value. Wall is the local ("wall clock")
// time as seconds since 1970-01-01T00:00:00 of the proleptic Gregorian
// calendar, without any zone; Loc is the zone it is in: time.UTC for UTC
// values, a zone for TZID values, nil for floating times and dates.
type dtValue struct {
	Wall int64
	Loc  *time.Location
	Date bool
}

// floating reports whether the value depends on the floating time zone
// (floating DATE-TIME or DATE).
func (v dtValue) floating() bool { return v.Date || v.Loc == nil }

// at returns the instant of v, taking floating values in loc.
func (v dtValue) at(floating *time.Location) time.Time {
	loc := v.Loc
	if v.Date || loc == nil {
		loc = floating
		if loc == nil {
			loc = time.UTC
		}
	}
	return wallTime(v.Wall, loc)
}

// day is the civil day number of the value (days since 1970-01-01).
func (v dtValue) day() int64 { return floorDiv(v.Wall, 86400) }

// wallTime converts wall seconds into the instant they denote in loc,
// following RFC 5545 3.3.5: a wall time that occurs twice (end of daylight
// time) is the first occurrence; one that does not exist (start of
// daylight time) is read with the UTC offset before the gap.
func wallTime(w int64, loc *time.Location) time.Time {
	if loc == time.UTC || loc == nil {
		return time.Unix(w, 0).UTC()
	}
	_, o1 := time.Unix(w-36*3600, 0).In(loc).Zone()
	_, o2 := time.Unix(w+36*3600, 0).In(loc).Zone()
	u1 := time.Unix(w-int64(o1), 0).In(loc)
	if o1 == o2 {
		return u1
	}
	u2 := time.Unix(w-int64(o2), 0).In(loc)
	_, v1 := u1.Zone()
	_, v2 := u2.Zone()
	switch {
	case v1 == o1 && v2 == o2:
		if u2.Before(u1) {
			return u2
		}
		return u1
	case v2 == o2:
		return u2
	}
	return u1
}

// toWall returns the wall seconds of t in its own location.
func toWall(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil returns the day number of y-m-d (1970-01-01 is 0).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekday of a day number: 0 = Sunday.
func weekdayOf(z int64) int {
	return int(((z % 7) + 7 + 4) % 7)
}

func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseDate parses YYYYMMDD into a day number.
func parseDate(s string) (int64, bool) {
	if len(s) != 8 {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[4:6])
	d, ok3 := digits(s[6:8])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseDateTimeWall parses YYYYMMDDTHHMMSS[Z] into wall seconds.
func parseDateTimeWall(s string) (wall int64, utc bool, ok bool) {
	if len(s) == 16 && (s[15] == 'Z' || s[15] == 'z') {
		utc = true
		s = s[:15]
	}
	if len(s) != 15 || (s[8] != 'T' && s[8] != 't') {
		return 0, false, false
	}
	day, ok := parseDate(s[:8])
	if !ok {
		return 0, false, false
	}
	h, ok1 := digits(s[9:11])
	mi, ok2 := digits(s[11:13])
	se, ok3 := digits(s[13:15])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || se > 60 {
		return 0, false, false
	}
	if se == 60 { // leap second: the next representable second
		se = 59
	}
	return day*86400 + h*3600 + mi*60 + se, utc, true
}

var errBadValue = errors.New("bad value")

// parseDTString parses one DATE or DATE-TIME string; isDate forces DATE,
// otherwise the form is taken from the length. loc is the TZID zone (nil
// for none).
func parseDTString(s string, valueType string, loc *time.Location) (dtValue, error) {
	switch valueType {
	case "DATE":
		d, ok := parseDate(s)
		if !ok {
			return dtValue{}, errBadValue
		}
		return dtValue{Wall: d * 86400, Date: true}, nil
	case "", "DATE-TIME":
		if valueType == "" && len(s) == 8 {
			d, ok := parseDate(s)
			if !ok {
				return dtValue{}, errBadValue
			}
			return dtValue{Wall: d * 86400, Date: true}, nil
		}
		w, utc, ok := parseDateTimeWall(s)
		if !ok {
			return dtValue{}, errBadValue
		}
		if utc {
			return dtValue{Wall: w, Loc: time.UTC}, nil
		}
		return dtValue{Wall: w, Loc: loc}, nil
	}
	return dtValue{}, errBadValue
}

// icalDuration is a DURATION value: nominal days (weeks are 7 days) and
// exact seconds, both carrying the sign.
type icalDuration struct {
	Days int64
	Secs int64
}

// maxDurationDays bounds durations so that arithmetic stays in range.
const maxDurationDays = 3660000

func (d icalDuration) positive() bool { return d.Days*86400+d.Secs > 0 }

// approx returns the duration as seconds, days counting 24 h.
func (d icalDuration) approx() int64 { return d.Days*86400 + d.Secs }

// parseDuration parses dur-value (RFC 5545 3.3.6).
func parseDuration(s string) (icalDuration, error) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || (s[0] != 'P' && s[0] != 'p') {
		return icalDuration{}, errBadValue
	}
	s = s[1:]
	if s == "" {
		return icalDuration{}, errBadValue
	}
	var d icalDuration
	inTime := false
	seen := false
	for len(s) > 0 {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return icalDuration{}, errBadValue
			}
			inTime = true
			s = s[1:]
			if s == "" {
				return icalDuration{}, errBadValue
			}
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return icalDuration{}, errBadValue
		}
		n, _ := strconv.ParseInt(s[:i], 10, 64)
		unit := s[i] | 0x20 // lower case
		s = s[i+1:]
		seen = true
		switch {
		case !inTime && unit == 'w':
			d.Days += 7 * n
		case !inTime && unit == 'd':
			d.Days += n
		case inTime && unit == 'h':
			d.Secs += 3600 * n
		case inTime && unit == 'm':
			d.Secs += 60 * n
		case inTime && unit == 's':
			d.Secs += n
		default:
			return icalDuration{}, errBadValue
		}
		if d.Days > maxDurationDays || d.Secs > maxDurationDays*86400 {
			return icalDuration{}, errBadValue
		}
	}
	if !seen {
		return icalDuration{}, errBadValue
	}
	if neg {
		d.Days, d.Secs = -d.Days, -d.Secs
	}
	return d, nil
}

// addTo returns the instant that is d after the value v (days nominal in
// v's zone, seconds exact).
func (d icalDuration) addTo(v dtValue, floating *time.Location) time.Time {
	w := v.Wall + d.Days*86400
	return dtValue{Wall: w, Loc: v.Loc, Date: v.Date}.at(floating).Add(time.Duration(d.Secs) * time.Second)
}

// parseUTCOffset parses ("+" / "-") HHMM[SS] into seconds.
func parseUTCOffset(s string) (int, bool) {
	if len(s) != 5 && len(s) != 7 {
		return 0, false
	}
	sign := 1
	switch s[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false
	}
	h, ok1 := digits(s[1:3])
	m, ok2 := digits(s[3:5])
	sec := int64(0)
	ok3 := true
	if len(s) == 7 {
		sec, ok3 = digits(s[5:7])
	}
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, false
	}
	return sign * int(h*3600+m*60+sec), true
}

// formatUTC formats an instant as a UTC DATE-TIME.
func formatUTC(t time.Time) string {
	return t.UTC().Format("20060102T150405Z")
}

// formatDate formats a day number as DATE.
func formatDate(day int64) string {
	y, m, d := civilFromDays(day)
	return fmt.Sprintf("%04d%02d%02d", y, m, d)
}
