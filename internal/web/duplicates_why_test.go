package web

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
)

// The pages say why a group is proposed when dedup gives reasons: the
// list under each group's names, the group page under its heading; with
// no reasons, no "Why" line.
func TestDuplicatesWhyShown(t *testing.T) {
	ts := newTestServer(t)
	why := merges.Explain([]dedup.Reason{{Field: "birthday", Level: "exact", Weight: 9.1}, {Field: "given", Level: "different", Weight: -3}})
	book := dupBook{Name: "contacts", Title: "Contacts"}
	for _, tc := range []struct {
		name string
		data any
		want string
	}{
		{"duplicates", dupGroupsData{Book: book, Groups: []dupGroupItem{{ID: "g1", Band: "likely the same", Cards: []dupCardLine{{Name: "Ann"}, {Name: "Ann"}}, Why: why}}},
			`<p class="hint dup-why">Why: birthday identical (+9.1), given name different (−3.0)</p>`},
		{"duplicates_group", &dupGroupData{Book: book, GroupID: "g1", Reference: "a", Why: why},
			`<p class="dup-why">Why: birthday identical (+9.1), given name different (−3.0)</p>`},
	} {
		rec := httptest.NewRecorder()
		ts.Server.render(rec, httptest.NewRequest("GET", "/", nil), nil, http.StatusOK, tc.name, page{Title: "t", Data: tc.data})
		if !strings.Contains(html.UnescapeString(rec.Body.String()), tc.want) {
			t.Errorf("%s page lacks %q:\n%s", tc.name, tc.want, rec.Body.String())
		}
	}
	for name, data := range map[string]any{
		"duplicates":       dupGroupsData{Book: book, Groups: []dupGroupItem{{ID: "g1", Band: "likely the same", Cards: []dupCardLine{{Name: "Ann"}, {Name: "Ann"}}}}},
		"duplicates_group": &dupGroupData{Book: book, GroupID: "g1", Reference: "a"},
	} {
		rec := httptest.NewRecorder()
		ts.Server.render(rec, httptest.NewRequest("GET", "/", nil), nil, http.StatusOK, name, page{Title: "t", Data: data})
		if strings.Contains(rec.Body.String(), "Why:") {
			t.Errorf("%s page has a Why line without reasons:\n%s", name, rec.Body.String())
		}
	}
}

// Through the handlers, the pages show dedup's reasons for the group.
func TestDuplicatesWhyFromDedup(t *testing.T) {
	ts := newTestServer(t)
	coll := dupSeed(t, ts.Store, testLogin)
	b, err := merges.Load(context.Background(), ts.Store, coll, "")
	if err != nil || len(b.Groups()) != 1 {
		t.Fatalf("groups: %v %+v", err, b.Groups())
	}
	why := merges.Explain(b.Groups()[0].Why)
	if why == "" {
		t.Fatalf("dedup gives no reasons for the group %+v: nothing to look for on the pages", b.Groups()[0])
	}
	s := ts.signedIn(t, testLogin)
	resp, list := s.get(t, "/account/duplicates/contacts")
	dupStatus(t, resp, http.StatusOK, list)
	resp, group := s.get(t, dupGroupLink(t, list))
	dupStatus(t, resp, http.StatusOK, group)
	for name, body := range map[string]string{"list": list, "group": group} {
		if !strings.Contains(html.UnescapeString(body), "Why: "+why+"</p>") {
			t.Errorf("the %s page lacks the reasons %q:\n%s", name, why, body)
		}
	}
}
