package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type listed struct {
	Cards  int `json:"cards"`
	Groups []struct {
		ID    string   `json:"id"`
		Band  string   `json:"band"`
		Cards []string `json:"cards"`
	} `json:"groups"`
}

func listGroups(t *testing.T, data, user string) listed {
	t.Helper()
	out, errOut, code := cli(t, "", "duplicates", "list", "--user", user, "--region", "DE", "--format", "json", "--data", data)
	if code != 0 {
		t.Fatalf("list: %d %s", code, errOut)
	}
	var l listed
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("list JSON: %v\n%s", err, out)
	}
	return l
}

const syncBody = `<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:sync-token>%s</D:sync-token>` +
	`<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`

// The whole duplicates story through the real binary and a replayed
// DAVx5 sync: import, find, merge, sync, re-upload, undo, hide.
func TestDuplicatesMergeSyncUndo(t *testing.T) {
	data := t.TempDir()
	cli(t, "kim password\n", "user", "add", "kim", "--data", data, "--password-stdin")
	file := filepath.Join(t.TempDir(), "two-phones.vcf")
	cards := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-phone\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL;TYPE=CELL:0151 2345678\r\nEMAIL:ann@example.org\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-laptop\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL:+49 151 2345678\r\nEMAIL:ANN@example.org\r\nTEL;TYPE=WORK:+49 30 999\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:team\r\nFN:Team\r\nX-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ann-phone\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jo1\r\nFN:Robert Park\r\nN:Park;Robert;;;\r\nTEL:+1 212 555 0101\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jo2\r\nFN:Bob Park\r\nN:Park;Bob;;;\r\nTEL:+1 212 555 0101\r\nEND:VCARD\r\n"
	os.WriteFile(file, []byte(cards), 0o600)
	for i, want := range []string{"added 5", "added 0, updated 0, skipped 5"} {
		if out, errOut, code := cli(t, "", "import", "--user", "kim", "--data", data, file); code != 0 || !strings.Contains(out, want) {
			t.Fatalf("import %d: %d %q %q", i+1, code, out, errOut)
		}
	}
	d := start(t, data)
	const book = "/dav/addressbooks/kim/contacts/"
	_, _, body := d.req(t, "REPORT", book, "kim", "kim password", strings.Replace(syncBody, "%s", "", 1))
	token := tokenRE.FindStringSubmatch(body)[1]

	l := listGroups(t, data, "kim")
	var ann string
	for _, g := range l.Groups {
		if strings.Join(g.Cards, ",") == "ann-laptop,ann-phone" || strings.Join(g.Cards, ",") == "ann-phone,ann-laptop" {
			ann = g.ID
		}
	}
	if ann == "" {
		t.Fatalf("Ann's two cards are not a group: %+v", l.Groups)
	}
	// Dry run changes nothing.
	out, _, code := cli(t, "", "merge-duplicates", "--user", "kim", "--region", "DE", "--group", ann, "--reference", "ann-phone", "--dry-run", "--data", data)
	if code != 0 || !strings.Contains(out, "dry run") || !strings.Contains(out, "+ TEL") {
		t.Fatalf("dry run: %d\n%s", code, out)
	}
	if c, _, _ := d.req(t, "GET", book+"ann-laptop.vcf", "kim", "kim password", ""); c != 200 {
		t.Fatal("dry run removed a card")
	}
	out, errOut, code := cli(t, "", "duplicates", "merge", "--user", "kim", "--region", "DE", "--group", ann, "--reference", "ann-phone", "--data", data)
	m := regexp.MustCompile(`merge (\d+);`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("merge: %d %q %q", code, out, errOut)
	}
	_, _, ref := d.req(t, "GET", book+"ann-phone.vcf", "kim", "kim password", "")
	if !strings.Contains(ref, "+49 30 999") || !strings.Contains(ref, "UID:ann-phone") {
		t.Errorf("the reference did not get the other card's work phone:\n%s", ref)
	}
	if _, _, team := d.req(t, "GET", book+"team.vcf", "kim", "kim password", ""); !strings.Contains(team, "urn:uuid:ann-phone") {
		t.Errorf("group card: %s", team)
	}
	// A DAVx5-style sync by token sees the deletion and the changed reference.
	_, _, body = d.req(t, "REPORT", book, "kim", "kim password", strings.Replace(syncBody, "%s", token, 1))
	if !regexp.MustCompile(`ann-laptop\.vcf</D:href><D:status>HTTP/1.1 404`).MatchString(body) || !strings.Contains(body, "ann-phone.vcf") {
		t.Fatalf("sync after merge:\n%s", body)
	}
	token = tokenRE.FindStringSubmatch(body)[1]
	// The laptop re-uploads its merged-away card with a local edit.
	edited := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-laptop\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL:+49 151 2345678\r\nNOTE:met at the conference\r\nEND:VCARD\r\n"
	if c, _, b := d.req(t, "PUT", book+"ann-laptop.vcf", "kim", "kim password", edited, "Content-Type: text/vcard", "If-None-Match: *"); c != 201 {
		t.Fatalf("re-upload: %d %s", c, b)
	}
	if c, _, _ := d.req(t, "GET", book+"ann-laptop.vcf", "kim", "kim password", ""); c != 404 {
		t.Errorf("the merged-away card came back: %d", c)
	}
	if _, _, ref := d.req(t, "GET", book+"ann-phone.vcf", "kim", "kim password", ""); !strings.Contains(ref, "met at the conference") {
		t.Errorf("the re-uploaded edit was lost:\n%s", ref)
	}
	_, _, body = d.req(t, "REPORT", book, "kim", "kim password", strings.Replace(syncBody, "%s", token, 1))
	if !regexp.MustCompile(`ann-laptop\.vcf</D:href><D:status>HTTP/1.1 404`).MatchString(body) || !strings.Contains(body, "ann-phone.vcf") {
		t.Errorf("sync after the re-upload:\n%s", body)
	}
	token = tokenRE.FindStringSubmatch(body)[1]
	// Undo: the originals are back under their names, and sync shows it.
	if out, errOut, code := cli(t, "", "duplicates", "undo", "--user", "kim", "--merge", m[1], "--data", data); code != 0 {
		t.Fatalf("undo: %d %q %q", code, out, errOut)
	}
	// The laptop card comes back as the phone last uploaded it.
	if c, _, b := d.req(t, "GET", book+"ann-laptop.vcf", "kim", "kim password", ""); c != 200 || !strings.Contains(b, "met at the conference") {
		t.Errorf("after undo the laptop card is %d:\n%s", c, b)
	}
	if _, _, b := d.req(t, "GET", book+"ann-phone.vcf", "kim", "kim password", ""); strings.Contains(b, "+49 30 999") || strings.Contains(b, "conference") {
		t.Errorf("after undo the reference still holds what the merge added:\n%s", b)
	}
	_, _, body = d.req(t, "REPORT", book, "kim", "kim password", strings.Replace(syncBody, "%s", token, 1))
	if !regexp.MustCompile(`ann-laptop\.vcf</D:href><D:propstat>`).MatchString(body) {
		t.Errorf("sync after undo does not bring the card back:\n%s", body)
	}
	if _, errOut, code := cli(t, "", "duplicates", "undo", "--user", "kim", "--merge", m[1], "--data", data); code == 0 {
		t.Errorf("a second undo succeeded: %q", errOut)
	}

	// An edit of the survivor after a merge makes undo refuse without --force.
	l = listGroups(t, data, "kim")
	for _, g := range l.Groups {
		if strings.Contains(strings.Join(g.Cards, ","), "ann-phone") {
			ann = g.ID
		}
	}
	out, _, _ = cli(t, "", "duplicates", "merge", "--user", "kim", "--region", "DE", "--group", ann, "--reference", "ann-phone", "--data", data)
	m = regexp.MustCompile(`merge (\d+);`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("second merge: %q", out)
	}
	_, _, cur := d.req(t, "GET", book+"ann-phone.vcf", "kim", "kim password", "")
	d.req(t, "PUT", book+"ann-phone.vcf", "kim", "kim password", strings.Replace(cur, "END:VCARD", "TITLE:Typed after the merge\r\nEND:VCARD", 1), "Content-Type: text/vcard")
	if _, errOut, code := cli(t, "", "duplicates", "undo", "--user", "kim", "--merge", m[1], "--data", data); code == 0 || !strings.Contains(errOut, "edited or deleted after the merge") {
		t.Errorf("undo after an edit of the survivor: %d %q", code, errOut)
	}
	if _, _, b := d.req(t, "GET", book+"ann-phone.vcf", "kim", "kim password", ""); !strings.Contains(b, "Typed after the merge") {
		t.Error("a refused undo changed the survivor")
	}
	if _, errOut, code := cli(t, "", "duplicates", "undo", "--user", "kim", "--merge", m[1], "--force", "--data", data); code != 0 {
		t.Errorf("forced undo: %d %q", code, errOut)
	}

	// Hide: Robert and Bob Park (a nickname and a phone in common: review)
	// stay hidden after an edit.
	var jo string
	for _, g := range listGroups(t, data, "kim").Groups {
		if strings.Contains(strings.Join(g.Cards, ","), "jo1") {
			jo = g.ID
		}
	}
	if jo == "" {
		t.Fatal("Robert and Bob Park are not proposed for review")
	}
	if _, errOut, code := cli(t, "", "duplicates", "hide", "--user", "kim", "--group", jo, "--data", data); code != 0 {
		t.Fatalf("hide: %s", errOut)
	}
	d.req(t, "PUT", book+"jo2.vcf", "kim", "kim password", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:jo2\r\nFN:Bob Park\r\nN:Park;Bob;;;\r\nTEL:+1 212 555 0101\r\nNOTE:edited\r\nEND:VCARD\r\n", "Content-Type: text/vcard")
	for _, g := range listGroups(t, data, "kim").Groups {
		if strings.Contains(strings.Join(g.Cards, ","), "jo1") {
			t.Errorf("a hidden group is proposed again: %+v", g)
		}
	}
}

// Issue 11: `duplicates merge --auto` stopped half-way when a group card
// listed members of two groups (the first merge rewrote it, the second
// failed on its old ETag). Every auto group is merged now, and the group
// cards, vCard 4 and Apple's, list the survivors.
func TestDuplicatesMergeAutoSharedGroupCard(t *testing.T) {
	data := t.TempDir()
	cli(t, "kim password\n", "user", "add", "kim", "--data", data, "--password-stdin")
	person := func(uid, fn, n, tel, more string) string {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nN:" + n + "\r\nTEL:" + tel +
			"\r\nEMAIL:" + strings.ToLower(strings.ReplaceAll(fn, " ", ".")) + "@example.org\r\nBDAY:1980-04-01\r\n" + more + "END:VCARD\r\n"
	}
	file := filepath.Join(t.TempDir(), "groups.vcf")
	cards := person("ann-1", "Ann Miller", "Miller;Ann;;;", "+49 151 12345678", "") +
		person("ann-2", "Ann Miller", "Miller;Ann;;;", "+49 151 12345678", "NOTE:the fuller card\r\n") +
		person("bob-1", "Bob Stone", "Stone;Bob;;;", "+1 212 555 0100", "") +
		person("bob-2", "Bob Stone", "Stone;Bob;;;", "+1 212 555 0100", "NOTE:the fuller card\r\n") +
		person("dan-1", "Dan Okafor", "Okafor;Dan;;;", "+44 20 7946 0000", "") +
		person("dan-2", "Dan Okafor", "Okafor;Dan;;;", "+44 20 7946 0000", "NOTE:the fuller card\r\n") +
		"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:team\r\nKIND:group\r\nFN:Team\r\nMEMBER:urn:uuid:ann-1\r\nMEMBER:urn:uuid:bob-1\r\nMEMBER:urn:uuid:dan-1\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:club\r\nFN:Club\r\nX-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:bob-1\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ann-1\r\nEND:VCARD\r\n"
	os.WriteFile(file, []byte(cards), 0o600)
	if out, errOut, code := cli(t, "", "import", "--user", "kim", "--data", data, file); code != 0 || !strings.Contains(out, "added 8") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	auto := 0
	for _, g := range listGroups(t, data, "kim").Groups {
		if g.Band == "auto" {
			auto++
		}
	}
	if auto != 3 {
		t.Fatalf("%d auto groups, want 3", auto)
	}
	out, errOut, code := cli(t, "", "duplicates", "merge", "--user", "kim", "--auto", "--data", data)
	if code != 0 || strings.Count(out, "merged 2 cards into") != 3 || !strings.Contains(out, "merged 3 of 3 groups") {
		t.Fatalf("merge --auto: %d\n%s\n%s", code, out, errOut)
	}
	if l := listGroups(t, data, "kim"); l.Cards != 5 || len(l.Groups) != 0 {
		t.Errorf("after merge --auto: %d cards, groups %+v", l.Cards, l.Groups)
	}
	exported, errOut, code := cli(t, "", "export", "--user", "kim", "--data", data)
	if code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	for _, want := range []string{
		"MEMBER:urn:uuid:ann-2\r\nMEMBER:urn:uuid:bob-2\r\nMEMBER:urn:uuid:dan-2\r\n",
		"X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:bob-2\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:ann-2\r\n",
	} {
		if !strings.Contains(exported, want) {
			t.Errorf("the group cards do not list the survivors (%q):\n%s", want, exported)
		}
	}
	for _, gone := range []string{"UID:ann-1", "UID:bob-1", "UID:dan-1"} {
		if strings.Contains(exported, gone) {
			t.Errorf("%s was not merged away", gone)
		}
	}

	// The three merges are one batch, undone in one go.
	batch := regexp.MustCompile(`undo them all with: rolodav duplicates undo .* --batch ([0-9a-f]+)\n`).FindStringSubmatch(out)
	if batch == nil {
		t.Fatalf("merge --auto does not say how to undo the batch:\n%s", out)
	}
	if _, errOut, code := cli(t, "", "duplicates", "undo", "--user", "kim", "--merge", "1", "--batch", batch[1], "--data", data); code != 2 {
		t.Errorf("undo with --merge and --batch: %d %q", code, errOut)
	}
	out, errOut, code = cli(t, "", "duplicates", "undo", "--user", "kim", "--batch", batch[1], "--data", data)
	if code != 0 || !strings.Contains(out, "undid the 3 merges of batch") {
		t.Fatalf("undo --batch: %d %q %q", code, out, errOut)
	}
	if l := listGroups(t, data, "kim"); l.Cards != 8 || len(l.Groups) != 3 {
		t.Errorf("after undo --batch: %d cards, %d groups", l.Cards, len(l.Groups))
	}
	if _, errOut, code := cli(t, "", "duplicates", "undo", "--user", "kim", "--batch", batch[1], "--data", data); code == 0 || !strings.Contains(errOut, "undone already") {
		t.Errorf("undoing the batch again: %d %q", code, errOut)
	}
}
