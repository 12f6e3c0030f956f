package calendars

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// This file holds Split and the small line-based reader and writer that
// Split, Select and Joiner share (their names start with sj). They work on
// content lines rather than through go-ical's decoder and encoder, which
// sort properties and parameters and panic on some malformed lines: an
// object that is split, cut down or joined keeps the order of its lines and
// every byte of their content; only line ends (always CRLF) and folding
// (always at 75 octets) change.

// sjProdID is the PRODID of calendars this package writes when the source
// has none.
const sjProdID = "-//rolodav//rolodav//EN"

// sjMaxDepth bounds the nesting of components (VCALENDAR > VEVENT > VALARM
// is 3; real data never needs much more).
const sjMaxDepth = 32

// sjProp is one unfolded content line of a component (not BEGIN or END).
type sjProp struct {
	line int    // 1-based physical line where it starts
	name string // property name, upper case
	text []byte // the whole unfolded line: name, parameters, value
}

// value returns the raw (still escaped) value of the line.
func (p sjProp) value() []byte {
	_, v, _ := sjSplitLine(p.text)
	return v
}

// sjComp is one component with its properties and sub-components in order.
type sjComp struct {
	name  string // upper case
	line  int    // line of its BEGIN
	props []sjProp
	comps []*sjComp
}

// prop returns the first property called name (upper case).
func (c *sjComp) prop(name string) (sjProp, bool) {
	for _, p := range c.props {
		if p.name == name {
			return p, true
		}
	}
	return sjProp{}, false
}

// sjParse reads a stream of VCALENDAR objects. Blank lines and a leading
// UTF-8 BOM are skipped; anything else that is not a well-formed content
// line inside a VCALENDAR, and BEGIN/END lines that do not nest, are
// reported as a *ValidationError naming the line.
func sjParse(data []byte) ([]*sjComp, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var (
		cals  []*sjComp
		stack []*sjComp
		buf   []byte
	)
	pos, num := 0, 1
	for pos < len(data) {
		// One logical line: a physical line and its continuations.
		start := num
		end, next := sjLineBounds(data, pos)
		text := data[pos:end]
		folded := false
		pos = next
		num++
		for pos < len(data) && (data[pos] == ' ' || data[pos] == '\t') {
			if !folded {
				buf = append(buf[:0], text...)
				folded = true
			}
			end, next = sjLineBounds(data, pos)
			buf = append(buf, data[pos+1:end]...)
			pos = next
			num++
		}
		if folded {
			text = buf
		}
		if len(bytes.Trim(text, " \t")) == 0 {
			continue
		}
		if bytes.IndexByte(text, '\r') >= 0 {
			return nil, sjErr(start, "stray carriage return (lines must end in CRLF or LF)")
		}
		name, msg := sjCheckLine(text)
		if msg != "" && len(stack) == 0 {
			return nil, sjErr(start, "expected BEGIN:VCALENDAR (data outside a calendar): %s", sjQuote(text))
		}
		if msg != "" {
			return nil, sjErr(start, "%s", msg)
		}
		switch name {
		case "BEGIN":
			_, v, _ := sjSplitLine(text)
			cname := strings.ToUpper(string(bytes.TrimRight(v, " \t")))
			if !sjIsName(cname) {
				return nil, sjErr(start, "invalid component name %s", sjQuote(v))
			}
			c := &sjComp{name: cname, line: start}
			switch {
			case len(stack) == 0 && cname != "VCALENDAR":
				return nil, sjErr(start, "BEGIN:%s outside a VCALENDAR", cname)
			case len(stack) > 0 && cname == "VCALENDAR":
				return nil, sjErr(start, "BEGIN:VCALENDAR inside the VCALENDAR started on line %d (missing END:VCALENDAR?)", stack[0].line)
			case len(stack) >= sjMaxDepth:
				return nil, sjErr(start, "components nested more than %d deep", sjMaxDepth)
			case len(stack) > 0:
				top := stack[len(stack)-1]
				top.comps = append(top.comps, c)
			}
			stack = append(stack, c)
		case "END":
			_, v, _ := sjSplitLine(text)
			cname := strings.ToUpper(string(bytes.TrimRight(v, " \t")))
			if len(stack) == 0 {
				return nil, sjErr(start, "END:%s outside a VCALENDAR", sjTrunc(cname))
			}
			top := stack[len(stack)-1]
			if cname != top.name {
				return nil, sjErr(start, "END:%s does not close BEGIN:%s on line %d", sjTrunc(cname), top.name, top.line)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				cals = append(cals, top)
			}
		default:
			if len(stack) == 0 {
				return nil, sjErr(start, "expected BEGIN:VCALENDAR (data outside a calendar)")
			}
			top := stack[len(stack)-1]
			if folded {
				text = bytes.Clone(text)
			}
			top.props = append(top.props, sjProp{line: start, name: name, text: text})
		}
	}
	if len(stack) > 0 {
		c := stack[len(stack)-1]
		return nil, sjErr(c.line, "%s not terminated: missing END:%s", c.name, c.name)
	}
	return cals, nil
}

func sjErr(line int, format string, args ...any) *ValidationError {
	return &ValidationError{Line: line, Condition: "valid-calendar-data", Msg: fmt.Sprintf(format, args...)}
}

// sjLineBounds returns, for the physical line starting at pos, the end of
// its content (without LF or CRLF) and the start of the next line.
func sjLineBounds(data []byte, pos int) (end, next int) {
	i := bytes.IndexByte(data[pos:], '\n')
	if i < 0 {
		end, next = len(data), len(data)
	} else {
		end, next = pos+i, pos+i+1
	}
	if end > pos && data[end-1] == '\r' {
		end--
	}
	return end, next
}

func sjIsNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func sjIsName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !sjIsNameChar(s[i]) {
			return false
		}
	}
	return true
}

// sjCheckLine checks the syntax of an unfolded content line (RFC 5545
// 3.1): name *(";" param) ":" value, param = name "=" value *("," value),
// values either quoted or free of ";:,\"". It returns the upper-case name,
// or a description of the problem.
func sjCheckLine(b []byte) (name, msg string) {
	i := 0
	for i < len(b) && sjIsNameChar(b[i]) {
		i++
	}
	if i == 0 {
		if bytes.IndexByte(b, ':') < 0 {
			return "", "not a content line (no colon): " + sjQuote(b)
		}
		return "", "empty property name in " + sjQuote(b)
	}
	if i == len(b) {
		return "", "not a content line (no colon): " + sjQuote(b)
	}
	if b[i] != ';' && b[i] != ':' {
		return "", "invalid property name in " + sjQuote(b)
	}
	name = strings.ToUpper(string(b[:i]))
	for i < len(b) && b[i] == ';' {
		i++
		j := i
		for j < len(b) && sjIsNameChar(b[j]) {
			j++
		}
		if j == i || j == len(b) || b[j] != '=' {
			return "", "malformed parameter in " + sjQuote(b)
		}
		i = j + 1
		for {
			if i < len(b) && b[i] == '"' {
				k := bytes.IndexByte(b[i+1:], '"')
				if k < 0 {
					return "", "unterminated quoted parameter value in " + sjQuote(b)
				}
				i += k + 2
			} else {
				for i < len(b) && b[i] != ';' && b[i] != ':' && b[i] != ',' {
					if b[i] == '"' {
						return "", "stray double quote in a parameter value in " + sjQuote(b)
					}
					i++
				}
			}
			if i >= len(b) {
				return "", "not a content line (no colon after the parameters): " + sjQuote(b)
			}
			if b[i] != ',' {
				break
			}
			i++
		}
		if b[i] != ';' && b[i] != ':' {
			return "", "unexpected character after a quoted parameter value in " + sjQuote(b)
		}
	}
	return name, ""
}

// sjSplitLine splits a content line accepted by sjCheckLine into its name,
// its raw parameters (each introduced by ';') and its raw value.
func sjSplitLine(b []byte) (params, value []byte, ok bool) {
	i := 0
	for i < len(b) && sjIsNameChar(b[i]) {
		i++
	}
	start := i
	inQuote := false
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			inQuote = !inQuote
		case ':':
			if !inQuote {
				return b[start:i], b[i+1:], true
			}
		}
	}
	return nil, nil, false
}

// sjParam returns the values of the parameter called name (upper case) of
// a content line, unquoted.
func sjParam(text []byte, name string) []string {
	params, _, ok := sjSplitLine(text)
	if !ok {
		return nil
	}
	var vals []string
	i := 0
	for i < len(params) && params[i] == ';' {
		i++
		j := i
		for j < len(params) && params[j] != '=' {
			j++
		}
		pname := params[i:j]
		i = j + 1
		match := strings.EqualFold(string(pname), name)
		for i <= len(params) {
			var v []byte
			if i < len(params) && params[i] == '"' {
				k := bytes.IndexByte(params[i+1:], '"')
				if k < 0 {
					return vals
				}
				v, i = params[i+1:i+1+k], i+k+2
			} else {
				k := i
				for k < len(params) && params[k] != ',' && params[k] != ';' {
					k++
				}
				v, i = params[i:k], k
			}
			if match {
				vals = append(vals, string(v))
			}
			if i < len(params) && params[i] == ',' {
				i++
				continue
			}
			break
		}
	}
	return vals
}

// sjTZIDs appends the TZID parameter values used anywhere in c.
func sjTZIDs(c *sjComp, ids []string) []string {
	for _, p := range c.props {
		if !bytes.Contains(bytes.ToUpper(p.text), []byte("TZID=")) {
			continue
		}
		for _, id := range sjParam(p.text, "TZID") {
			if id != "" && !sjContains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	for _, sub := range c.comps {
		ids = sjTZIDs(sub, ids)
	}
	return ids
}

func sjContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sjQuote(b []byte) string {
	return fmt.Sprintf("%q", sjTrunc(string(b)))
}

func sjTrunc(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// sjWriteLine appends an unfolded content line, folded at 75 octets
// without splitting a UTF-8 sequence, and CRLF.
func sjWriteLine(buf *bytes.Buffer, text []byte) {
	const max = 75
	limit := max
	for len(text) > limit {
		cut := limit
		// Do not cut before a UTF-8 continuation byte (at most 3 back).
		for k := 0; k < 3 && cut > 1 && text[cut]&0xC0 == 0x80; k++ {
			cut--
		}
		buf.Write(text[:cut])
		buf.WriteString("\r\n ")
		text = text[cut:]
		limit = max - 1
	}
	buf.Write(text)
	buf.WriteString("\r\n")
}

// sjWriteComp appends a component with all its properties and
// sub-components.
func sjWriteComp(buf *bytes.Buffer, c *sjComp) {
	sjWriteLine(buf, []byte("BEGIN:"+c.name))
	for _, p := range c.props {
		sjWriteLine(buf, p.text)
	}
	for _, sub := range c.comps {
		sjWriteComp(buf, sub)
	}
	sjWriteLine(buf, []byte("END:"+c.name))
}

// sjCalendar holds what Split and Joiner need from one source VCALENDAR.
type sjCalendar struct {
	comp *sjComp
	tz   map[string]*sjComp // VTIMEZONE by TZID
}

func sjNewCalendar(cal *sjComp) (*sjCalendar, error) {
	sc := &sjCalendar{comp: cal, tz: map[string]*sjComp{}}
	if p, ok := cal.prop("VERSION"); ok {
		if v := strings.TrimSpace(string(p.value())); v != "2.0" {
			return nil, sjErr(p.line, "VERSION:%s is not iCalendar 2.0 (RFC 5545)", sjTrunc(v))
		}
	}
	for _, c := range cal.comps {
		if c.name != "VTIMEZONE" {
			continue
		}
		p, ok := c.prop("TZID")
		if !ok {
			return nil, sjErr(c.line, "VTIMEZONE without TZID")
		}
		id := string(p.value())
		if _, dup := sc.tz[id]; !dup {
			sc.tz[id] = c
		}
	}
	return sc, nil
}

// Split reads an .ics stream (one or many VCALENDARs, each holding any
// number of objects and VTIMEZONEs) and calls fn once per calendar object
// resource: all components sharing one UID (a recurring master and its
// overrides, wherever they are in the stream) wrapped in a new VCALENDAR
// with VERSION:2.0, the source's PRODID (or a rolodav one) and its CALSCALE,
// followed by exactly the VTIMEZONEs the components reference (looked up in
// their own VCALENDAR first, then in any other of the stream) and the
// components in stream order. METHOD and the other calendar properties are
// dropped (an imported invitation becomes a plain object). line is the
// 1-based line where the object's first component starts; uid is the UID
// value as written. Every component without a UID is passed alone with
// uid "" (the caller decides). Objects come in the order of their first
// component.
//
// The whole stream is read and checked before fn is first called: data
// outside a VCALENDAR, malformed content lines, bare CRs, BEGIN/END lines
// that do not nest (or nest deeper than 32), a VERSION other than 2.0 and a
// VTIMEZONE without TZID are reported as a *ValidationError
// (valid-calendar-data) naming the line, and fn is never called. Split only
// frames objects: check each with Validate. It stops at fn's first error and
// returns it unchanged. Output uses CRLF and lines folded at 75 octets.
func Split(r io.Reader, fn func(obj []byte, uid string, line int) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	cals, err := sjParse(data)
	if err != nil {
		return err
	}
	type member struct {
		comp *sjComp
		cal  *sjCalendar
	}
	type object struct {
		uid     string
		line    int
		members []member
	}
	var (
		objects []*object
		byUID   = map[string]*object{}
		anyTZ   = map[string]*sjComp{}
	)
	for _, c := range cals {
		sc, err := sjNewCalendar(c)
		if err != nil {
			return err
		}
		for id, tz := range sc.tz {
			if _, ok := anyTZ[id]; !ok {
				anyTZ[id] = tz
			}
		}
		for _, comp := range c.comps {
			if comp.name == "VTIMEZONE" {
				continue
			}
			uid := ""
			if p, ok := comp.prop("UID"); ok {
				uid = string(p.value())
			}
			o := byUID[uid]
			if o == nil || uid == "" {
				o = &object{uid: uid, line: comp.line}
				objects = append(objects, o)
				if uid != "" {
					byUID[uid] = o
				}
			}
			o.members = append(o.members, member{comp, sc})
		}
	}
	var buf bytes.Buffer
	for _, o := range objects {
		buf.Reset()
		first := o.members[0].cal.comp
		sjWriteLine(&buf, []byte("BEGIN:VCALENDAR"))
		sjWriteLine(&buf, []byte("VERSION:2.0"))
		if p, ok := first.prop("PRODID"); ok {
			sjWriteLine(&buf, p.text)
		} else {
			sjWriteLine(&buf, []byte("PRODID:"+sjProdID))
		}
		if p, ok := first.prop("CALSCALE"); ok {
			sjWriteLine(&buf, p.text)
		}
		var written []string
		for _, m := range o.members {
			for _, id := range sjTZIDs(m.comp, nil) {
				if sjContains(written, id) {
					continue
				}
				tz := m.cal.tz[id]
				if tz == nil {
					tz = anyTZ[id]
				}
				if tz != nil {
					sjWriteComp(&buf, tz)
					written = append(written, id)
				}
			}
		}
		for _, m := range o.members {
			sjWriteComp(&buf, m.comp)
		}
		sjWriteLine(&buf, []byte("END:VCALENDAR"))
		if err := fn(bytes.Clone(buf.Bytes()), o.uid, o.line); err != nil {
			return err
		}
	}
	return nil
}
