package imports_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// The first card the quota refuses ends the import: it and every card
// after it are counted as not imported, with one problem at its line.
func TestRunQuotaReached(t *testing.T) {
	st, err := sqlite.OpenWith(filepath.Join(t.TempDir(), "rolodav.db"), store.Options{QuotaPerUser: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: "ann", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "things"}
	if err := st.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	for i := range 10 {
		file.WriteString(card(string(rune('a'+i)), "Person "+strings.Repeat("x", 1000), string(rune('0'+i))))
	}
	var seen []imports.Problem
	res := run(t, st, c, file.String(), imports.Options{OnProblem: func(p imports.Problem) { seen = append(seen, p) }})
	stored := len(listNames(t, st, c.ID))
	if res.Added != stored || res.Added == 0 || res.Added+res.OverQuota != 10 || res.Objects != 10 || res.Rejected != 0 {
		t.Fatalf("result %+v with %d cards stored", res, stored)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Msg, "quota") || res.Problems[0].Line != 1+6*res.Added || len(seen) != 1 {
		t.Fatalf("problems %+v (streamed %+v)", res.Problems, seen)
	}
	u, err := st.Usage(ctx, "ann")
	if err != nil || u.Used > u.Limit {
		t.Fatalf("usage %+v, %v", u, err)
	}
}

func listNames(t *testing.T, st store.Store, coll int64) []string {
	t.Helper()
	var out []string
	err := st.ListObjects(context.Background(), coll, false, func(o *store.Object) error {
		out = append(out, o.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
