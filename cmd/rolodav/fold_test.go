package main_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// annCards are two cards of one person, a1 holding nothing a2 lacks
// (annA2), and a stranger.
const (
	annCards = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a1\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL;TYPE=CELL:+49 151 2345678\r\nEMAIL:ann@example.org\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n" +
		annA2 + "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bo\r\nFN:Bo Stranger\r\nTEL:+49 40 55555\r\nEND:VCARD\r\n"
	annA2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a2\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL:+49 151 2345678\r\nEMAIL:ann@example.org\r\nTEL;TYPE=WORK:+49 30 999\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n"
)

// importAndMergeAnn imports annCards for a new user and merges a1 into a2
// with the CLI; it returns the data directory, the file and the merge ID.
func importAndMergeAnn(t *testing.T, user string) (data, file, merge string) {
	t.Helper()
	data = t.TempDir()
	cli(t, user+" password\n", "user", "add", user, "--data", data, "--password-stdin")
	file = filepath.Join(t.TempDir(), "ann.vcf")
	os.WriteFile(file, []byte(annCards), 0o600)
	if out, errOut, code := cli(t, "", "import", "--user", user, "--data", data, file); code != 0 || !strings.Contains(out, "added 3,") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	var group string
	for _, g := range listGroups(t, data, user).Groups {
		if strings.Join(g.Cards, ",") == "a1,a2" || strings.Join(g.Cards, ",") == "a2,a1" {
			group = g.ID
		}
	}
	if group == "" {
		t.Fatalf("a1 and a2 are not proposed as duplicates: %+v", listGroups(t, data, user).Groups)
	}
	out, errOut, code := cli(t, "", "duplicates", "merge", "--user", user, "--region", "DE", "--group", group, "--reference", "a2", "--data", data)
	m := regexp.MustCompile(`merge (\d+);`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("merge: %d %q %q", code, out, errOut)
	}
	return data, file, m[1]
}

// The defect of issue 11: importing the file again after a merge brought
// the merged-away card back and reset the survivor to its old copy.
func TestReimportAfterMergeAddsNothing(t *testing.T) {
	data, file, _ := importAndMergeAnn(t, "rae")
	d := start(t, data)
	const book = "/dav/addressbooks/rae/contacts/"
	_, h, survivor := d.req(t, "GET", book+"a2.vcf", "rae", "rae password", "")
	if !strings.Contains(survivor, "TYPE=CELL") {
		t.Fatalf("the merge did not reach the survivor:\n%s", survivor)
	}
	_, _, ctag := d.req(t, "PROPFIND", book, "rae", "rae password", `<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>`, "Depth: 0")
	for i := range 2 {
		out, errOut, code := cli(t, "", "import", "--user", "rae", "--data", data, file)
		// a1 folds into a2 and a2 is kept as merged, not replaced by the
		// file's copy; a2 holds all of both already, so nothing is written
		// and all three count as already present.
		if code != 0 || !strings.Contains(out, "added 0, updated 0, skipped 3 (already present), rejected 0\n") {
			t.Fatalf("import %d after the merge: %d %q %q", i+1, code, out, errOut)
		}
	}
	if c, _, _ := d.req(t, "GET", book+"a1.vcf", "rae", "rae password", ""); c != 404 {
		t.Errorf("the merged-away card is back: %d", c)
	}
	_, h2, after := d.req(t, "GET", book+"a2.vcf", "rae", "rae password", "")
	if after != survivor || h2.Get("ETag") != h.Get("ETag") {
		t.Errorf("the import changed the survivor (ETag %s, was %s):\n%s\nwas:\n%s", h2.Get("ETag"), h.Get("ETag"), after, survivor)
	}
	if _, _, now := d.req(t, "PROPFIND", book, "rae", "rae password", `<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>`, "Depth: 0"); now != ctag {
		t.Errorf("the imports wrote something: the sync token moved\n%s\nwas\n%s", now, ctag)
	}
	exported, _, _ := cli(t, "", "export", "--user", "rae", "--data", data)
	if n := strings.Count(exported, "BEGIN:VCARD"); n != 2 || strings.Contains(exported, "UID:a1\r") {
		t.Errorf("the book holds %d cards, want a2 and bo:\n%s", n, exported)
	}
}

// A DAV PUT, `rolodav import` and the import page each fold an edit of
// the merged-away card into the survivor, by name or by UID, a MOVE is
// refused, and the merge's undo brings the card back as the last of them
// sent it.
func TestFoldOnEveryWritePath(t *testing.T) {
	data, _, merge := importAndMergeAnn(t, "fay")
	d := start(t, data)
	const book = "/dav/addressbooks/fay/contacts/"
	a1 := func(phone string) string {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a1\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL;TYPE=CELL:+49 151 2345678\r\nTEL;TYPE=HOME:" + phone + "\r\nEMAIL:ann@example.org\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n"
	}
	gone := func(how string) {
		t.Helper()
		if c, _, _ := d.req(t, "GET", book+"a1.vcf", "fay", "fay password", ""); c != 404 {
			t.Errorf("after %s the merged-away card is back: %d", how, c)
		}
		exported, _, _ := cli(t, "", "export", "--user", "fay", "--data", data)
		if n := strings.Count(exported, "BEGIN:VCARD"); n != 2 || strings.Contains(exported, "UID:a1\r") {
			t.Errorf("after %s the book holds %d cards:\n%s", how, n, exported)
		}
	}
	onSurvivor := func(how, phone string) {
		t.Helper()
		if _, _, s := d.req(t, "GET", book+"a2.vcf", "fay", "fay password", ""); !strings.Contains(s, phone) || !strings.Contains(s, "UID:a2") {
			t.Errorf("after %s the survivor lacks %s:\n%s", how, phone, s)
		}
	}

	// DAV, by name and by UID under another name.
	if c, h, b := d.req(t, "PUT", book+"a1.vcf", "fay", "fay password", a1("+49 30 1111"), "Content-Type: text/vcard"); c != 201 || h.Get("ETag") != "" {
		t.Fatalf("PUT a1.vcf: %d %q %s", c, h.Get("ETag"), b)
	}
	gone("a DAV PUT")
	onSurvivor("a DAV PUT", "+49 30 1111")
	if c, _, b := d.req(t, "PUT", book+"elsewhere.vcf", "fay", "fay password", a1("+49 30 1112"), "Content-Type: text/vcard", "If-None-Match: *"); c != 201 {
		t.Fatalf("PUT of UID a1 as elsewhere.vcf: %d %s", c, b)
	}
	if c, _, _ := d.req(t, "GET", book+"elsewhere.vcf", "fay", "fay password", ""); c != 404 {
		t.Errorf("the merged-away UID is back under another name: %d", c)
	}
	gone("a DAV PUT by UID")
	onSurvivor("a DAV PUT by UID", "+49 30 1112")

	// A MOVE cannot bring the name back either.
	if c, _, b := d.req(t, "MOVE", book+"bo.vcf", "fay", "fay password", "", "Destination: "+d.url+book+"a1.vcf"); c != 409 || !strings.Contains(b, "a2.vcf") {
		t.Errorf("MOVE onto a1.vcf: %d %s", c, b)
	}
	if c, _, _ := d.req(t, "GET", book+"bo.vcf", "fay", "fay password", ""); c != 200 {
		t.Errorf("the refused MOVE took bo.vcf away: %d", c)
	}
	gone("a MOVE")

	// rolodav import.
	file := filepath.Join(t.TempDir(), "edited.vcf")
	os.WriteFile(file, []byte(a1("+49 30 2222")), 0o600)
	out, errOut, code := cli(t, "", "import", "--user", "fay", "--data", data, file)
	if code != 0 || !strings.Contains(out, "added 0, updated 0, skipped 0 (already present), rejected 0, folded 1 into the card it was merged into") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	gone("rolodav import")
	onSurvivor("rolodav import", "+49 30 2222")

	// The import page.
	page := "/account/collections/addressbooks/contacts"
	c, csrf := webClient(t, d, "fay", "fay password", page)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "edited.vcf")
	fw.Write([]byte(a1("+49 30 3333") + annA2))
	mw.Close()
	resp, err := c.Post(d.url+page+"/import", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(html), "Added: 0") ||
		!strings.Contains(string(html), "Folded into the card it was merged into: 1") ||
		!strings.Contains(string(html), "Skipped (already here): 1") {
		t.Fatalf("page import: %d\n%.3000s", resp.StatusCode, html)
	}
	gone("the import page")
	onSurvivor("the import page", "+49 30 3333")

	// Each fold gave the merge's undo record the card as it came, so
	// undo restores the last one, the page's.
	if out, errOut, code := cli(t, "", "duplicates", "undo", "--user", "fay", "--merge", merge, "--data", data); code != 0 {
		t.Fatalf("undo: %d %q %q", code, out, errOut)
	}
	if c, _, b := d.req(t, "GET", book+"a1.vcf", "fay", "fay password", ""); c != 200 || !strings.Contains(b, "+49 30 3333") {
		t.Errorf("after undo a1.vcf is %d:\n%s", c, b)
	}
	if _, _, b := d.req(t, "GET", book+"a2.vcf", "fay", "fay password", ""); strings.Contains(b, "3333") || strings.Contains(b, "1111") {
		t.Errorf("after undo the survivor keeps what the folds added:\n%s", b)
	}
}
