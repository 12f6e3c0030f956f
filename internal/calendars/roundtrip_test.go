package calendars

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Whatever Validate accepts for storage, an export (Joiner) can write and
// an import (Split) can read back: the two read one grammar.
func TestStoredObjectsExportAndImportAgain(t *testing.T) {
	obj := tcCal(tcEvent("DTSTART:20260105T100000Z", "X-VENDOR.FIELD;X.P=1:v", "SUMMARY:dotted names")...)
	if _, err := Validate(bg, obj, nil, nil); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	var out bytes.Buffer
	j := NewJoiner(&out, "Calendar")
	if err := j.Add(obj); err != nil {
		t.Fatalf("the export refuses a stored object: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	err := Split(&out, func(o []byte, uid string, line int) error {
		got = append(got, o)
		return nil
	})
	if err != nil || len(got) != 1 {
		t.Fatalf("Split of the export: %d objects, %v", len(got), err)
	}
	if !bytes.Contains(got[0], []byte("X-VENDOR.FIELD;X.P=1:v\r\n")) {
		t.Errorf("the dotted property did not come back:\n%s", got[0])
	}
}

// A CR that does not end a line is not iCalendar (RFC 5545 3.1); a PUT
// refuses it as Split does, so no stored object holds one.
func TestStrayCarriageReturnRefused(t *testing.T) {
	obj := []byte(strings.Replace(string(tcCal(tcEvent("DTSTART:20260105T100000Z", "SUMMARY:a-b")...)), "a-b", "a\rb", 1))
	_, err := Validate(bg, obj, nil, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Condition != "valid-calendar-data" || !strings.Contains(ve.Msg, "stray carriage return") || ve.Line != 8 {
		t.Fatalf("Validate: %v, want valid-calendar-data, a stray carriage return on line 8", err)
	}
	if err := Split(bytes.NewReader(obj), func([]byte, string, int) error { return nil }); err == nil {
		t.Error("Split accepts what Validate refuses")
	}
	ok := tcCal(tcEvent("DTSTART:20260105T100000Z", "SUMMARY:ends in CR")...)
	ok = ok[:len(ok)-1] // the last line ends in a bare CR, at the end of the data
	if _, err := Validate(bg, ok, nil, nil); err != nil {
		t.Errorf("a CR ending the data: %v", err)
	}
}
