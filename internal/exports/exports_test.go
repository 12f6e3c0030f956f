package exports_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/exports"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

const cards = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\r\nFN:Ann Example\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:b\r\nFN:Bob Example\r\nN:Example;Bob;;;\r\nEND:VCARD\r\n"

const zone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Zurich\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n" +
	"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
	"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n" +
	"TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"

const events = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + zone +
	"BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Zurich:20260105T090000\r\nSUMMARY:One\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:e2\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Zurich:20260106T090000\r\nSUMMARY:Two\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func open(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func collection(t *testing.T, st store.Store, user string, kind store.Kind) *store.Collection {
	t.Helper()
	ctx := context.Background()
	if err := accounts.Create(ctx, st, user, "a long password"); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ListCollections(ctx, user, kind)
	if err != nil || len(cs) == 0 {
		t.Fatalf("collections of %s: %v %v", user, cs, err)
	}
	return &cs[0]
}

func importFile(t *testing.T, st store.Store, c *store.Collection, data string) *imports.Result {
	t.Helper()
	res, err := imports.Run(context.Background(), st, c, strings.NewReader(data), imports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// An export read back by import into another account gives the same
// objects, byte for byte below the calendar header (which names rolodav as
// the producer of the export).
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		kind store.Kind
		data string
		want int
	}{{store.KindCard, cards, 2}, {store.KindCal, events, 2}} {
		st := open(t)
		from := collection(t, st, "from@example.org", tc.kind)
		if res := importFile(t, st, from, tc.data); res.Added != tc.want {
			t.Fatalf("import added %d, want %d: %+v", res.Added, tc.want, res)
		}
		var out bytes.Buffer
		if err := exports.Write(ctx, st, from, &out); err != nil {
			t.Fatal(err)
		}
		to := collection(t, st, "to@example.org", tc.kind)
		if res := importFile(t, st, to, out.String()); res.Added != tc.want || res.Rejected != 0 {
			t.Fatalf("re-import of the export added %d, rejected %d, want %d: %+v\n%s", res.Added, res.Rejected, tc.want, res, out.String())
		}
		a, b := objects(t, st, from), objects(t, st, to)
		for uid, data := range a {
			if body(b[uid]) != body(data) {
				t.Errorf("%s after the round trip:\n%s\nwant\n%s", uid, b[uid], data)
			}
		}
	}
}

// A calendar exports as one VCALENDAR that carries each time zone once,
// although every stored event holds its own copy.
func TestCalendarZonesOnce(t *testing.T) {
	st := open(t)
	c := collection(t, st, "u@example.org", store.KindCal)
	importFile(t, st, c, events)
	var out bytes.Buffer
	if err := exports.Write(context.Background(), st, c, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for what, want := range map[string]int{"BEGIN:VCALENDAR": 1, "BEGIN:VTIMEZONE": 1, "BEGIN:VEVENT": 2, "END:VCALENDAR": 1} {
		if n := strings.Count(s, what); n != want {
			t.Errorf("%d × %s, want %d:\n%s", n, what, want, s)
		}
	}
}

func objects(t *testing.T, st store.Store, c *store.Collection) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := st.ListObjects(context.Background(), c.ID, true, func(o *store.Object) error {
		m[o.UID] = string(o.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// body is an object without its VCALENDAR header: from its first
// component on.
func body(data string) string {
	if i := strings.Index(data, "\r\nBEGIN:V"); strings.HasPrefix(data, "BEGIN:VCALENDAR") && i >= 0 {
		return data[i:]
	}
	return data
}
