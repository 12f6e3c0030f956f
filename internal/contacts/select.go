package contacts

import (
	"strings"

	"github.com/emersion/go-vcard"

	"github.com/rolodav/rolodav/internal/contentline"
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
	s := contentline.NewScanner(data)
	var buf []byte
	for {
		l, ok := s.Next()
		if !ok {
			break
		}
		group, name, ok := contentline.Name(data[l.Start:l.FirstEnd], vcardSyntax)
		if !ok && l.Folded {
			c := s.Text(l, buf)
			buf = c
			group, name, ok = contentline.Name(c, vcardSyntax)
		}
		if !ok {
			continue
		}
		for _, w := range wants {
			if asciiEqualFold(name, w.name) && (w.group == "" || strings.EqualFold(string(group), w.group)) {
				out = append(out, data[l.Start:l.End]...)
				break
			}
		}
	}
	return out
}
