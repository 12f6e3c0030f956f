package web

import (
	"net/http"
	"testing"
)

// "Merge all likely duplicates (3)" merges the 3 groups the page showed:
// a pair a phone brought in after the page was shown is not merged
// unseen (the form is refused as out of date, or merges only those 3).
func TestDuplicatesMergeAllMergesWhatThePageCounted(t *testing.T) {
	ts, coll, s := dupListServer(t, 3, 0)
	const list = "/account/duplicates/contacts"
	_, body := s.get(t, list)
	dupHas(t, body, ">Merge all likely duplicates (3)</button>")
	form := dupForm(t, body, list+"/merge-all")
	before := dupCards(t, ts.Store, coll)
	// A phone syncs two more copies of one person meanwhile.
	more := dupPairs(5, 0)
	dupPut(t, ts.Store, testLogin, map[string]string{"ann-4-a": more["ann-4-a"], "ann-4-b": more["ann-4-b"]})
	resp, _ := s.post(t, list+"/merge-all", form)
	dupStatus(t, resp, http.StatusSeeOther, "")
	merged := before + 2 - dupCards(t, ts.Store, coll)
	if merged > 3 {
		t.Errorf("the page offered to merge 3 groups; %d were merged (redirect %s)", merged, resp.Header.Get("Location"))
	}
}
