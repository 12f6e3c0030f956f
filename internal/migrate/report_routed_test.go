package migrate

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// A source calendar of events and tasks goes to the user's calendar, and
// its task to their task list: the report's row says so, by the task
// list's name and display name, with the component it took.
func TestReportSaysWhereRoutedObjectsWent(t *testing.T) {
	s := seeded(t, nil)
	if code, _, b := s.do("DELETE", s.path(store.KindCal, "calendar"), ""); code != 204 {
		t.Fatalf("DELETE calendar: %d %s", code, b)
	}
	s.collection(store.Collection{Kind: store.KindCal, Name: "personal", DisplayName: "Personal",
		Components: []string{"VEVENT", "VTODO"}})
	s.put(s.path(store.KindCal, "personal", "p1.ics"), event("p1", "Dentist"))
	s.put(s.path(store.KindCal, "personal", "p2.ics"), todo("p2", "Call back"))
	st := trackOpen(t, trackOwner, "owner password")
	opt := runOpts(s)
	opt.Only = OnlyCalendars
	tr, err := Track(context.Background(), st, trackOwner, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMigration(context.Background(), trackOwner, tr.ID())
	if err != nil {
		t.Fatal(err)
	}
	type route struct {
		Dest       string   `json:"dest"`
		DestName   string   `json:"dest_name"`
		Components []string `json:"components"`
		Objects    int      `json:"objects"`
	}
	found := false
	for _, c := range trackReport(t, m).Collections {
		b, _ := json.Marshal(c)
		var row struct {
			Routed []route `json:"routed"`
		}
		if err := json.Unmarshal(b, &row); err != nil {
			t.Fatal(err)
		}
		switch c.SourceName {
		case "Personal":
			found = true
			want := []route{{Dest: "tasks", DestName: "Tasks", Components: []string{"VTODO"}, Objects: 1}}
			if c.Dest != "calendar" || c.Added != 2 || !slices.EqualFunc(row.Routed, want, func(a, b route) bool {
				return a.Dest == b.Dest && a.DestName == b.DestName && slices.Equal(a.Components, b.Components) && a.Objects == b.Objects
			}) {
				t.Errorf("the row of Personal does not say that 1 task went to Tasks: %s", b)
			}
		default:
			if row.Routed != nil {
				t.Errorf("%s: routed %s", c.SourceName, b)
			}
		}
	}
	if !found {
		t.Error("no row for Personal")
	}
}
