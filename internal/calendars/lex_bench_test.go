package calendars

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// benchICS is an export of n events (a third of them recurring in a time
// zone, with folded descriptions and attendees) in one VCALENDAR.
func benchICS(n int) []byte {
	lines := strings.Split(tcBerlinTZ, "\n")
	for i := 0; i < n; i++ {
		ev := []string{"BEGIN:VEVENT", fmt.Sprintf("UID:bench-%d@example.com", i), "DTSTAMP:20260101T000000Z",
			"SUMMARY:Meeting number " + fmt.Sprint(i),
			"DESCRIPTION:A description long enough to be folded by every writer of iCa",
			" lendar data\\, with a comma and a second line\\nof text.",
			"ATTENDEE;CN=\"Doe, Jane\";PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:jane@example.com"}
		if i%3 == 0 {
			ev = append(ev, "DTSTART;TZID=Europe/Berlin:20260105T090000", "DTEND;TZID=Europe/Berlin:20260105T100000",
				"RRULE:FREQ=WEEKLY;COUNT=20;BYDAY=MO")
		} else {
			ev = append(ev, "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z")
		}
		lines = append(lines, append(ev, "END:VEVENT")...)
	}
	return tcCal(lines...)
}

func BenchmarkSplit(b *testing.B) {
	data := benchICS(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := Split(bytes.NewReader(data), func([]byte, string, int) error { n++; return nil }); err != nil || n != 1000 {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	data := benchICS(1)
	req := &CompRequest{Name: "VCALENDAR", Props: []string{"VERSION"}, Comps: []CompRequest{
		{Name: "VEVENT", Props: []string{"UID", "SUMMARY", "DTSTART", "DTEND", "RRULE"}}}}
	b.ReportAllocs()
	for b.Loop() {
		Select(data, req)
	}
}
