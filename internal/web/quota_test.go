package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// The pages show the quota, report an import cut short by it, and answer a
// write beyond it with 507 and an explanation instead of a server error.
func TestCollectionsQuota(t *testing.T) {
	ts := newTestServerWith(t, store.Options{QuotaPerUser: 8 << 10})
	collBook(t, ts, testLogin, "friends")
	s := ts.signedIn(t, testLogin)
	if _, body := s.get(t, "/account/collections"); !strings.Contains(body, "Storage used: ") || !strings.Contains(body, " of 8.0 KB.") {
		t.Errorf("the list does not show the quota:\n%s", body)
	}

	var file strings.Builder
	for i := range 10 {
		file.WriteString(collCard("u"+strconv.Itoa(i), "Person "+strings.Repeat("x", 1000), strconv.Itoa(i)))
	}
	resp, body := collUpload(t, s, "/account/collections/addressbooks/friends/import", s.CSRF, "big.vcf", file.String(), false)
	m := regexp.MustCompile(`Not imported, storage quota reached: (\d+) of 10`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "Rejected: storage quota reached") {
		t.Fatalf("import beyond the quota: %d\n%s", resp.StatusCode, body)
	}
	if n, _ := strconv.Atoi(m[1]); collGet(t, ts, testLogin, store.KindCard, "friends").Count != int64(10-n) {
		t.Errorf("%s not imported, but the book holds %d cards", m[1], collGet(t, ts, testLogin, store.KindCard, "friends").Count)
	}

	// Fill what is left.
	ctx := context.Background()
	u, err := ts.Store.Usage(ctx, testLogin)
	if err != nil {
		t.Fatal(err)
	}
	friends := collGet(t, ts, testLogin, store.KindCard, "friends")
	pad := &store.Object{Collection: friends.ID, Name: "pad", Data: make([]byte, u.Limit-u.Used-store.ObjectUsage("pad", 0))}
	if _, _, err := ts.Store.PutObject(ctx, pad, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	resp, body = s.post(t, "/account/collections", url.Values{"name": {"More"}, "kind": {"addressbook"}, "colour": {"#a0b1c2"}})
	if resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(body, "storage quota is used up") {
		t.Errorf("creating a collection beyond the quota: %d\n%s", resp.StatusCode, body)
	}
}
