package dav_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/store"
)

// paddedCard is a card of alice's whose NOTE holds n copies of fill.
func paddedCard(uid string, n int, fill string) string {
	return card(uid, "Padded", "NOTE:"+strings.Repeat(fill, n))
}

// wantQuotaRefusal checks an RFC 4331 §6 answer: 507 and DAV:quota-not-exceeded.
func wantQuotaRefusal(t *testing.T, what string, r reply) {
	t.Helper()
	if r.status != http.StatusInsufficientStorage {
		t.Fatalf("%s: status %d, want 507; body:\n%s", what, r.status, r.body)
	}
	if !hasCondition(errorConditions(t, r), "DAV:", "quota-not-exceeded") {
		t.Fatalf("%s: no DAV:quota-not-exceeded in\n%s", what, r.body)
	}
}

func quotaProps(t *testing.T, s *server, path string) *msDoc {
	t.Helper()
	return parseMS(t, s.do("PROPFIND", path, alice, propfindBody("<D:quota-used-bytes/>", "<D:quota-available-bytes/>"), "Depth: 1"))
}

func quotaFigures(t *testing.T, r *msResponse) (used, avail int64) {
	t.Helper()
	u, err := strconv.ParseInt(r.ok(t, "DAV:", "quota-used-bytes").Text, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	a, err := strconv.ParseInt(r.ok(t, "DAV:", "quota-available-bytes").Text, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return u, a
}

func TestQuotaPut(t *testing.T) {
	const limit = 8192
	s := newServerAt(t, filepath.Join(t.TempDir(), "q.db"), store.Options{QuotaPerUser: limit})
	s.put(alice, book+"a.vcf", paddedCard("a", 5000, "a")).expect(t, http.StatusCreated)
	wantQuotaRefusal(t, "PUT of a new card beyond the quota", s.put(alice, book+"b.vcf", paddedCard("b", 3000, "b")))
	s.do("GET", book+"b.vcf", alice, "").expect(t, http.StatusNotFound)
	// Bob has a quota of his own.
	s.put(bob, "/dav/addressbooks/bob@example.org/contacts/b.vcf", paddedCard("b", 5000, "b")).expect(t, http.StatusCreated)

	u, err := s.st.Usage(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	// Every home and collection reports the user's figures.
	d := quotaProps(t, s, home)
	for _, href := range []string{home, book} {
		used, avail := quotaFigures(t, d.response(t, href))
		if used != u.Used || avail != limit-u.Used {
			t.Errorf("%s: quota-used-bytes %d, quota-available-bytes %d; want %d, %d", href, used, avail, u.Used, limit-u.Used)
		}
	}
	cal := "/dav/calendars/alice@example.org/calendar/"
	if used, _ := quotaFigures(t, quotaProps(t, s, cal).response(t, cal)); used != u.Used {
		t.Errorf("calendar: quota-used-bytes %d, want %d", used, u.Used)
	}

	// A card that fits in what is left passes.
	room := int(limit - u.Used)
	small := paddedCard("c", 0, "")
	s.put(alice, book+"c.vcf", paddedCard("c", room-len(small)-len("c.vcf")-store.ObjectOverhead, "c")).expect(t, http.StatusCreated)
	d = quotaProps(t, s, book)
	if used, avail := quotaFigures(t, d.response(t, book)); used != limit || avail != 0 {
		t.Errorf("at the limit: quota-used-bytes %d, quota-available-bytes %d", used, avail)
	}
}

// quota-available-bytes is never more than the disk has free.
func TestQuotaAvailableDisk(t *testing.T) {
	s := newServerAt(t, filepath.Join(t.TempDir(), "q.db"), store.Options{QuotaPerUser: 1 << 30},
		func(c *dav.Config) { c.QuotaAvailable = func() int64 { return 1000 } })
	if _, avail := quotaFigures(t, quotaProps(t, s, book).response(t, book)); avail != 1000 {
		t.Errorf("quota-available-bytes %d, want the 1000 bytes free on disk", avail)
	}
	// Without a quota it is the free disk space.
	s = newServerAt(t, filepath.Join(t.TempDir(), "n.db"), store.Options{},
		func(c *dav.Config) { c.QuotaAvailable = func() int64 { return 5000 } })
	if _, avail := quotaFigures(t, quotaProps(t, s, book).response(t, book)); avail != 5000 {
		t.Errorf("quota-available-bytes without a quota %d, want 5000", avail)
	}
}

// A user over quota (the server restarted with a smaller one) can still
// delete, and replace a card by one of equal or smaller size; nothing that
// grows what they store passes, whatever the method.
func TestQuotaOverLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s := newServerAt(t, path, store.Options{})
	for _, uid := range []string{"a", "b", "c"} {
		s.put(alice, book+uid+".vcf", paddedCard(uid, 3000, uid)).expect(t, http.StatusCreated)
	}
	s.Close()
	s = newServerAt(t, path, store.Options{QuotaPerUser: 4096})

	d := quotaProps(t, s, home)
	if used, avail := quotaFigures(t, d.response(t, book)); used <= 4096 || avail != 0 {
		t.Fatalf("over quota: quota-used-bytes %d, quota-available-bytes %d", used, avail)
	}

	wantQuotaRefusal(t, "PUT of a new card", s.put(alice, book+"d.vcf", card("d", "D")))
	wantQuotaRefusal(t, "PUT of a bigger card", s.put(alice, book+"a.vcf", paddedCard("a", 3001, "a")))
	if r := s.do("GET", book+"a.vcf", alice, "").expect(t, http.StatusOK); r.body != paddedCard("a", 3000, "a") {
		t.Fatal("the refused PUT changed the card")
	}
	s.put(alice, book+"a.vcf", paddedCard("a", 3000, "A")).expect(t, http.StatusNoContent)
	s.put(alice, book+"b.vcf", paddedCard("b", 10, "b")).expect(t, http.StatusNoContent)
	s.do("DELETE", book+"c.vcf", alice, "").expect(t, http.StatusNoContent)

	wantQuotaRefusal(t, "MOVE to a longer name", s.do("MOVE", book+"a.vcf", alice, "",
		"Destination: "+s.URL+book+"a-much-longer-name.vcf"))
	s.do("MOVE", book+"a.vcf", alice, "", "Destination: "+s.URL+book+"x.vcf").expect(t, http.StatusCreated)

	wantQuotaRefusal(t, "MKCOL", s.do("MKCOL", home+"more/", alice, `<?xml version="1.0"?>`+
		`<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>`+
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`))
	s.do("PROPFIND", home+"more/", alice, propfindBody("<D:resourcetype/>"), "Depth: 0").expect(t, http.StatusNotFound)

	r := s.do("PROPPATCH", book, alice, `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x">`+
		`<D:set><D:prop><X:note>`+strings.Repeat("n", 500)+`</X:note></D:prop></D:set></D:propertyupdate>`)
	if _, st, _ := parseMS(t, r).response(t, book).prop("urn:x", "note"); st != "HTTP/1.1 507 Insufficient Storage" {
		t.Fatalf("PROPPATCH over quota: status %q\n%s", st, r.body)
	}
	after := parseMS(t, s.do("PROPFIND", book, alice, `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:X="urn:x">`+
		`<D:prop><X:note/></D:prop></D:propfind>`, "Depth: 0"))
	if _, st, _ := after.response(t, book).prop("urn:x", "note"); st != "HTTP/1.1 404 Not Found" {
		t.Fatalf("the refused property was stored: %q", st)
	}

	// Bob is not over quota.
	s.put(bob, "/dav/addressbooks/bob@example.org/contacts/b.vcf", card("b", "B")).expect(t, http.StatusCreated)
}
