package contacts

import (
	"strings"

	"github.com/emersion/go-vcard"
)

// Select returns the card with only the named properties plus BEGIN, END,
// VERSION and UID, for CardDAV address-data with <prop name="..."/>. Names
// are case-insensitive and match a property in any group; a name written
// "group.NAME" matches only that group. Kept lines are copied byte for byte
// (folding and line ends included). Empty names → data unchanged.
func Select(data []byte, names []string) []byte {
	if len(names) == 0 {
		return data
	}
	type want struct{ group, name string }
	wants := make([]want, 0, len(names)+4)
	for _, n := range []string{fieldBegin, fieldEnd, vcard.FieldVersion, vcard.FieldUID} {
		wants = append(wants, want{name: n})
	}
	for _, n := range names {
		var w want
		if i := strings.LastIndexByte(n, '.'); i >= 0 {
			w.group, n = n[:i], n[i+1:]
		}
		w.name = strings.ToUpper(strings.TrimSpace(n))
		wants = append(wants, w)
	}
	out := make([]byte, 0, len(data)/2)
	s := newScanner(data)
	var buf []byte
	for {
		l, ok := s.next()
		if !ok {
			break
		}
		group, name, ok := scanName(data[l.start:l.firstEnd])
		if !ok && l.folded {
			c := s.content(l, buf)
			buf = c
			group, name, ok = scanName(c)
		}
		if !ok {
			continue
		}
		for _, w := range wants {
			if asciiEqualFold(name, w.name) && (w.group == "" || strings.EqualFold(string(group), w.group)) {
				out = append(out, data[l.start:l.end]...)
				break
			}
		}
	}
	return out
}
