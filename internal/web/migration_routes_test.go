package web

import (
	"context"
	"testing"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/store"
)

// A source calendar of events and tasks goes to the user's calendar, and
// its tasks to their task list: the report page says where they went.
func TestMigrationSaysWhereRoutedObjectsWent(t *testing.T) {
	src := newMigSource(t, 1, 0, false, nil)
	ctx := context.Background()
	cal, err := src.Store.GetCollection(ctx, migLogin, store.KindCal, "calendar")
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Store.DeleteCollection(ctx, cal.ID); err != nil {
		t.Fatal(err)
	}
	err = src.Store.CreateCollection(ctx, &store.Collection{Owner: migLogin, Kind: store.KindCal, Name: "personal",
		DisplayName: "Personal", Components: []string{"VEVENT", "VTODO"}})
	if err != nil {
		t.Fatal(err)
	}
	migImport(t, src.Store, store.KindCal, "personal", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"+
		"BEGIN:VEVENT\r\nUID:ev\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T090000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n"+
		"BEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Call back\r\nEND:VTODO\r\n"+
		"BEGIN:VTODO\r\nUID:t2\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Pay\r\nEND:VTODO\r\n"+
		"END:VCALENDAR\r\n")
	ts, _, _ := migServer(t)
	if err := accounts.EnsureDefaults(ctx, ts.Store, testLogin); err != nil {
		t.Fatal(err)
	}
	s := ts.signedIn(t, testLogin)
	body := migWait(t, s, migStart(t, s, migForm(src, migPassword)))
	migHas(t, "summary", body, ">Personal<", `<a href="/account/collections/calendars/calendar">Calendar</a>`,
		`2 of them went to <a href="/account/collections/calendars/tasks">Tasks</a>, which takes tasks`)
	if n := collGet(t, ts, testLogin, store.KindCal, "tasks").Count; n != 2 {
		t.Errorf("tasks has %d tasks, want 2", n)
	}
}
