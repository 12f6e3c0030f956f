package dav_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
)

const foldBook = "/dav/addressbooks/" + alice + "/contacts/"

func foldCard(uid, tel string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Ann Müller\r\nTEL:" + tel + "\r\nEND:VCARD\r\n"
}

// mergedBook puts a1, a2 and bo in alice's book and merges a1 into a2.
func mergedBook(t *testing.T) *server {
	t.Helper()
	s := newServer(t)
	for uid, tel := range map[string]string{"a1": "+49 30 1", "a2": "+49 30 2", "bo": "+49 40 1"} {
		s.do("PUT", foldBook+uid+".vcf", alice, foldCard(uid, tel), "Content-Type: text/vcard").expect(t, 201)
	}
	ctx := context.Background()
	c, err := s.st.GetCollection(ctx, alice, store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := s.st.GetObjects(ctx, c.ID, []string{"a1.vcf", "a2.vcf"}, true)
	if err != nil || len(objs) != 2 {
		t.Fatalf("%v %v", objs, err)
	}
	a1, a2 := objs[0], objs[1]
	if a1.Name != "a1.vcf" {
		a1, a2 = a2, a1
	}
	merged, undo, err := dedup.Merge(dedup.Card{UID: "a2", Data: a2.Data}, []dedup.Card{{UID: "a1", Data: a1.Data}}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := json.Marshal(undo)
	if _, err := s.st.ApplyMerge(ctx, &store.MergeWrite{Collection: c.ID,
		Reference:     &store.Object{Collection: c.ID, Name: "a2.vcf", UID: "a2", Data: merged},
		ReferenceETag: a2.ETag,
		Removed:       []store.Removed{{Name: "a1.vcf", UID: "a1", ETag: a1.ETag}},
		Undo:          u}); err != nil {
		t.Fatal(err)
	}
	return s
}

// A PUT that would give a card that is there a merged-away UID, be it the
// survivor itself or another card, is a UID conflict with the survivor,
// which holds that UID now: nothing is folded, nothing changes.
func TestPutMergedAwayUIDOntoACardThere(t *testing.T) {
	s := mergedBook(t)
	for _, name := range []string{"a2.vcf", "bo.vcf"} {
		before := s.do("GET", foldBook+name, alice, "").expect(t, 200)
		r := s.do("PUT", foldBook+name, alice, foldCard("a1", "+49 30 9"), "Content-Type: text/vcard")
		if r.status != 409 || !strings.Contains(r.body, "no-uid-conflict") || !strings.Contains(r.body, foldBook+"a2.vcf</") {
			t.Errorf("PUT %s with the merged-away UID: %d\n%s", name, r.status, r.body)
		}
		if after := s.do("GET", foldBook+name, alice, "").expect(t, 200); after.body != before.body || after.header.Get("ETag") != before.header.Get("ETag") {
			t.Errorf("the refused PUT changed %s:\n%s", name, after.body)
		}
	}
	s.do("GET", foldBook+"a1.vcf", alice, "").expect(t, 404)
}

// Once the survivor is deleted, its merged-away name and UID are free: a
// PUT of them creates the card.
func TestPutMergedAwayAfterTheSurvivorWasDeleted(t *testing.T) {
	s := mergedBook(t)
	s.do("DELETE", foldBook+"a2.vcf", alice, "").expect(t, 204)
	for _, name := range []string{"a1.vcf", "elsewhere.vcf"} {
		r := s.do("PUT", foldBook+name, alice, foldCard("a1", "+49 30 9"), "Content-Type: text/vcard", "If-None-Match: *")
		if r.status != 201 || r.header.Get("ETag") == "" {
			t.Fatalf("PUT %s: %d %v\n%s", name, r.status, r.header, r.body)
		}
		if got := s.do("GET", foldBook+name, alice, "").expect(t, 200); got.body != foldCard("a1", "+49 30 9") {
			t.Errorf("%s:\n%s", name, got.body)
		}
		s.do("DELETE", foldBook+name, alice, "").expect(t, 204)
	}
}
