package dav

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// prefixes maps the namespaces we declare once on the root to their prefixes.
var prefixes = map[string]string{
	nsDAV:     "D",
	nsCardDAV: "C",
	nsCalDAV:  "CAL",
	nsCS:      "CS",
	nsApple:   "A",
	nsInfIT:   "INF",
	nsRolodav: "R",
}

const nsDecls = ` xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav"` +
	` xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/" xmlns:INF="http://inf-it.com/ns/ab/"` +
	` xmlns:R="https://rolodav.org/ns/"`

// localPrefixes are namespaces with a fixed prefix declared on each element
// of theirs that openTag writes rather than on the root: they are rare in
// answers, and the content of such an element may use the prefix.
var localPrefixes = map[string]string{nsPush: "P"}

// statusLine is the text clients compare literally (Thunderbird does).
func statusLine(code int) string {
	return fmt.Sprintf("HTTP/1.1 %d %s", code, http.StatusText(code))
}

// openTag writes the start of an element; known namespaces use their
// prefix, others get a local declaration.
func openTag(b *bufio.Writer, n xml.Name, empty bool) {
	b.WriteByte('<')
	if p, ok := prefixes[n.Space]; ok {
		b.WriteString(p)
		b.WriteByte(':')
		b.WriteString(n.Local)
	} else if p, ok := localPrefixes[n.Space]; ok {
		b.WriteString(p + ":" + n.Local + " xmlns:" + p + `="`)
		xml.EscapeText(b, []byte(n.Space))
		b.WriteByte('"')
	} else if n.Space == "" {
		b.WriteString(n.Local)
	} else {
		b.WriteString("X:")
		b.WriteString(n.Local)
		b.WriteString(` xmlns:X="`)
		xml.EscapeText(b, []byte(n.Space))
		b.WriteByte('"')
	}
	if empty {
		b.WriteString("/>")
	} else {
		b.WriteByte('>')
	}
}

func closeTag(b *bufio.Writer, n xml.Name) {
	b.WriteString("</")
	if p, ok := prefixes[n.Space]; ok {
		b.WriteString(p)
		b.WriteByte(':')
	} else if p, ok := localPrefixes[n.Space]; ok {
		b.WriteString(p)
		b.WriteByte(':')
	} else if n.Space != "" {
		b.WriteString("X:")
	}
	b.WriteString(n.Local)
	b.WriteByte('>')
}

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// prop is one property in a response: its inner XML and status.
type prop struct {
	name   xml.Name
	inner  string // already-escaped XML; empty for an empty element
	status int
}

// multistatus streams a 207 answer: responses are written as they are
// produced, so memory does not grow with the number of members.
type multistatus struct {
	w       http.ResponseWriter
	b       *bufio.Writer
	minimal bool // Prefer: return-minimal / Brief: t — leave out 404 propstats
}

func newMultistatus(w http.ResponseWriter, r *http.Request) *multistatus {
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	b := bufio.NewWriterSize(w, 32<<10)
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<D:multistatus" + nsDecls + ">")
	return &multistatus{w: w, b: b, minimal: wantsMinimal(r)}
}

func wantsMinimal(r *http.Request) bool {
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Brief")), "t") {
		return true
	}
	for _, p := range r.Header.Values("Prefer") {
		for _, v := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(v), "return-minimal") {
				return true
			}
		}
	}
	return false
}

// propResponse writes one response with its properties grouped by status.
func (m *multistatus) propResponse(href string, props []prop) {
	b := m.b
	b.WriteString("<D:response><D:href>")
	xml.EscapeText(b, []byte(href))
	b.WriteString("</D:href>")
	sort.SliceStable(props, func(i, j int) bool { return props[i].status < props[j].status })
	for i := 0; i < len(props); {
		st := props[i].status
		j := i
		for j < len(props) && props[j].status == st {
			j++
		}
		if !(m.minimal && st == http.StatusNotFound) {
			b.WriteString("<D:propstat><D:prop>")
			for _, p := range props[i:j] {
				if p.inner == "" {
					openTag(b, p.name, true)
					continue
				}
				openTag(b, p.name, false)
				b.WriteString(p.inner)
				closeTag(b, p.name)
			}
			b.WriteString("</D:prop><D:status>")
			b.WriteString(statusLine(st))
			b.WriteString("</D:status></D:propstat>")
		}
		i = j
	}
	b.WriteString("</D:response>")
}

// statusResponse writes a response that has only a status (a removed member,
// an unknown href in a multiget) and optionally an error element.
func (m *multistatus) statusResponse(href string, status int, errInner string) {
	b := m.b
	b.WriteString("<D:response><D:href>")
	xml.EscapeText(b, []byte(href))
	b.WriteString("</D:href><D:status>")
	b.WriteString(statusLine(status))
	b.WriteString("</D:status>")
	if errInner != "" {
		b.WriteString("<D:error>")
		b.WriteString(errInner)
		b.WriteString("</D:error>")
	}
	b.WriteString("</D:response>")
}

// raw writes already-formed XML inside the multistatus (e.g. sync-token).
func (m *multistatus) raw(s string) { m.b.WriteString(s) }

func (m *multistatus) close() error {
	m.b.WriteString("</D:multistatus>\n")
	return m.b.Flush()
}
