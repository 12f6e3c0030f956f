package calendars

import (
	"bytes"
	"strings"
)

// Select returns calendar-data cut down per a CalDAV
// <calendar-data><comp>… request (RFC 4791 9.6.1–9.6.4). The root
// CompRequest is VCALENDAR (an empty Name is taken as VCALENDAR; another
// name selects nothing and yields an empty VCALENDAR). In each component,
// AllProps keeps every property and Props the named ones
// (case-insensitive); AllComps keeps every sub-component whole and Comps
// the named ones, each cut down by its own request, recursively. A
// CompRequest that names neither properties nor components (<comp
// name="VTIMEZONE"/>) keeps its component whole, as in the example of
// RFC 4791 7.8.1. A nil req returns data unchanged, and so does data that
// does not parse (stored objects always do). The result uses CRLF and lines
// folded at 75 octets; kept lines are otherwise unchanged and in order.
func Select(data []byte, req *CompRequest) []byte {
	if req == nil {
		return data
	}
	cals, err := sjParse(data)
	if err != nil || len(cals) == 0 {
		return data
	}
	var buf bytes.Buffer
	buf.Grow(len(data))
	for _, cal := range cals {
		if req.Name != "" && !strings.EqualFold(req.Name, cal.name) {
			writeLine(&buf, "BEGIN:"+cal.name)
			writeLine(&buf, "END:"+cal.name)
			continue
		}
		sjSelect(&buf, cal, req)
	}
	return buf.Bytes()
}

func sjSelect(buf *bytes.Buffer, c *sjComp, req *CompRequest) {
	whole := !req.AllProps && len(req.Props) == 0 && !req.AllComps && len(req.Comps) == 0
	if whole {
		sjWriteComp(buf, c)
		return
	}
	writeLine(buf, "BEGIN:"+c.name)
	for _, p := range c.props {
		if req.AllProps || sjHasFold(req.Props, p.name) {
			writeLine(buf, p.text)
		}
	}
	for _, sub := range c.comps {
		if req.AllComps {
			sjWriteComp(buf, sub)
			continue
		}
		for i := range req.Comps {
			if strings.EqualFold(req.Comps[i].Name, sub.name) {
				sjSelect(buf, sub, &req.Comps[i])
				break
			}
		}
	}
	writeLine(buf, "END:"+c.name)
}

// sjHasFold reports whether list holds name, ignoring case and blanks.
func sjHasFold(list []string, name string) bool {
	for _, s := range list {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return true
		}
	}
	return false
}
