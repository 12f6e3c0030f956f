package imports_test

import (
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// An event whose rule cannot be expanded within the server's work budget
// is refused by an import as by a PUT: both validate alike.
func TestRunRefusesUnexpandableRule(t *testing.T) {
	st, c := newCollection(t, store.KindCal, "VEVENT")
	rule := "FREQ=SECONDLY;BYSECOND=0;COUNT=1000000000"
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:ok\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:huge\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261102T090000Z\r\nRRULE:" + rule + "\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	res := run(t, st, c, ics, imports.Options{})
	if counts(res) != [4]int{1, 0, 0, 1} {
		t.Fatalf("import: %+v", res)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, rule) || !strings.Contains(res.Problems[0].Msg, "cannot be computed") {
		t.Errorf("problems: %+v", res.Problems)
	}
}
