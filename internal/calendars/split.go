package calendars

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/rolodav/rolodav/internal/contentline"
)

// This file holds Split and the component tree that Split, Select and
// Joiner share (their names start with sj), read with contentline and
// written with writeLine rather than through go-ical's decoder and encoder,
// which sort properties and parameters and panic on some malformed lines:
// an object that is split, cut down or joined keeps the order of its lines
// and every byte of their content; only line ends (always CRLF) and folding
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

// parts splits the line (read again rather than kept: few are asked for).
func (p sjProp) parts() contentline.Prop[[]byte] {
	parts, _ := contentline.Parse(p.text, sjSyntax)
	return parts
}

// value returns the raw (still escaped) value of the line.
func (p sjProp) value() []byte { return p.parts().Value }

// param returns the values of the parameter called name (upper case),
// unquoted.
func (p sjProp) param(name string) []string {
	var vals []string
	contentline.EachParam(p.parts().Params, sjSyntax, func(n, raw []byte, _ bool) bool {
		if strings.EqualFold(string(n), name) {
			contentline.EachValue(raw, func(v []byte) bool {
				vals = append(vals, string(v))
				return true
			})
		}
		return true
	})
	return vals
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
	var (
		cals  []*sjComp
		stack []*sjComp
		buf   []byte
	)
	sc := contentline.NewScanner(data)
	for {
		l, ok := sc.Next()
		if !ok {
			break
		}
		start := l.Num
		text := sc.Text(l, buf)
		if l.Folded {
			buf = text
		}
		if contentline.IsBlank(text) {
			continue
		}
		if bytes.IndexByte(text, '\r') >= 0 {
			return nil, sjErr(start, "stray carriage return (lines must end in CRLF or LF)")
		}
		p, f := contentline.Parse(text, sjSyntax)
		if f.Code != contentline.OK && len(stack) == 0 {
			return nil, sjErr(start, "expected BEGIN:VCALENDAR (data outside a calendar): %s", sjQuote(text))
		}
		if f.Code != contentline.OK {
			return nil, sjErr(start, "%s", sjFault(text, f))
		}
		name := strings.ToUpper(string(p.Name))
		switch name {
		case "BEGIN":
			cname := strings.ToUpper(string(bytes.TrimRight(p.Value, " \t")))
			if !contentline.IsName(cname, sjSyntax) {
				return nil, sjErr(start, "invalid component name %s", sjQuote(p.Value))
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
			cname := strings.ToUpper(string(bytes.TrimRight(p.Value, " \t")))
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
			if l.Folded {
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

// sjSyntax is the grammar of Split, Select and Joiner: the grammar objects
// are validated with (icsSyntax), so that whatever a PUT stored can be
// exported, and an export imported again.
var sjSyntax = icsSyntax

// sjFault words a fault of the content line b for Split, Select and Joiner.
func sjFault(b []byte, f contentline.Fault) string {
	switch f.Code {
	case contentline.BadName, contentline.EmptyName:
		switch {
		case f.At == 0 && bytes.IndexByte(b, ':') >= 0:
			return "empty property name in " + sjQuote(b)
		case f.At == 0 || f.At == len(b):
			return "not a content line (no colon): " + sjQuote(b)
		}
		return "invalid property name in " + sjQuote(b)
	case contentline.BadParamName:
		return "malformed parameter in " + sjQuote(b)
	case contentline.Unterminated:
		return "unterminated quoted parameter value in " + sjQuote(b)
	case contentline.QuoteInValue:
		return "stray double quote in a parameter value in " + sjQuote(b)
	case contentline.AfterQuote:
		if f.At < len(b) {
			return "unexpected character after a quoted parameter value in " + sjQuote(b)
		}
	}
	return "not a content line (no colon after the parameters): " + sjQuote(b)
}

// sjTZIDs appends the TZID parameter values used anywhere in c.
func sjTZIDs(c *sjComp, ids []string) []string {
	for _, p := range c.props {
		for _, id := range p.param("TZID") {
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

// sjWriteComp appends a component with all its properties and
// sub-components.
func sjWriteComp(buf *bytes.Buffer, c *sjComp) {
	writeLine(buf, "BEGIN:"+c.name)
	for _, p := range c.props {
		writeLine(buf, p.text)
	}
	for _, sub := range c.comps {
		sjWriteComp(buf, sub)
	}
	writeLine(buf, "END:"+c.name)
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
		writeLine(&buf, "BEGIN:VCALENDAR")
		writeLine(&buf, "VERSION:2.0")
		if p, ok := first.prop("PRODID"); ok {
			writeLine(&buf, p.text)
		} else {
			writeLine(&buf, "PRODID:"+sjProdID)
		}
		if p, ok := first.prop("CALSCALE"); ok {
			writeLine(&buf, p.text)
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
		writeLine(&buf, "END:VCALENDAR")
		if err := fn(bytes.Clone(buf.Bytes()), o.uid, o.line); err != nil {
			return err
		}
	}
	return nil
}
