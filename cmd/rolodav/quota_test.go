package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// bigCard is a card of about 1 KB.
func bigCard(uid string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Person " + uid + "\r\nNOTE:" + strings.Repeat(uid, 1000/len(uid)) + "\r\nEND:VCARD\r\n"
}

func TestImportQuota(t *testing.T) {
	data := t.TempDir()
	cli(t, "kim password\n", "user", "add", "kim", "--data", data, "--password-stdin")
	var file strings.Builder
	for i := range 10 {
		file.WriteString(bigCard("card" + strconv.Itoa(i)))
	}
	path := filepath.Join(t.TempDir(), "cards.vcf")
	os.WriteFile(path, []byte(file.String()), 0o600)

	out, errOut, code := cli(t, "", "import", "--user", "kim", "--data", data, "--quota-per-user", "6KiB", path)
	m := regexp.MustCompile(`quota reached: (\d+) of 10 objects not imported`).FindStringSubmatch(errOut)
	if code != 1 || m == nil || !strings.Contains(errOut, "kim may store 6KiB") {
		t.Fatalf("import beyond the quota: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	refused, _ := strconv.Atoi(m[1])
	if refused == 0 || refused == 10 || !strings.Contains(out, "added "+strconv.Itoa(10-refused)+",") {
		t.Fatalf("%d refused; stdout %q", refused, out)
	}
	// The first refused card is named by its line (6 lines per card) and
	// its name.
	line := 1 + 6*(10-refused)
	if !regexp.MustCompile(regexp.QuoteMeta(path+":"+strconv.Itoa(line)+": ") + `Person \w+: rejected: storage quota reached`).MatchString(errOut) {
		t.Errorf("no report at line %d: %q", line, errOut)
	}
	exported, _, _ := cli(t, "", "export", "--user", "kim", "--data", data)
	if n := strings.Count(exported, "BEGIN:VCARD"); n != 10-refused {
		t.Errorf("%d cards stored, want %d", n, 10-refused)
	}

	// With more room (here from the environment) the rest comes in.
	cmd := exec.Command(binary, "import", "--user", "kim", "--data", data, path)
	cmd.Env = append(os.Environ(), "ROLODAV_QUOTA_PER_USER=1MB")
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "added "+strconv.Itoa(refused)+",") {
		t.Fatalf("import with a bigger quota: %v\n%s", err, b)
	}

	_, errOut, code = cli(t, "", "import", "--user", "kim", "--data", data, "--quota-per-user", "lots", path)
	if code != 2 || !strings.Contains(errOut, "quota-per-user") || !strings.Contains(errOut, "500MB") {
		t.Errorf("a bad size: exit %d, %q", code, errOut)
	}
}

// serve passes --quota-per-user to the store: a PUT beyond it is refused
// with RFC 4331's precondition.
func TestServeQuota(t *testing.T) {
	data := t.TempDir()
	cli(t, "lee password\n", "user", "add", "lee", "--data", data, "--password-stdin")
	d := start(t, data, "--quota-per-user", "4K")
	const path = "/dav/addressbooks/lee/contacts/"
	if code, _, body := d.req(t, "PUT", path+"a.vcf", "lee", "lee password", bigCard("a"), "Content-Type: text/vcard"); code != 201 {
		t.Fatalf("PUT within the quota: %d %s", code, body)
	}
	code, _, body := d.req(t, "PUT", path+"b.vcf", "lee", "lee password", bigCard("b"), "Content-Type: text/vcard")
	if code != 507 || !strings.Contains(body, "quota-not-exceeded") {
		t.Fatalf("PUT beyond the quota: %d %s", code, body)
	}
	if code, _, _ := d.req(t, "DELETE", path+"a.vcf", "lee", "lee password", ""); code != 204 {
		t.Fatalf("DELETE at the quota: %d", code)
	}
}

// duplicates obeys --quota-per-user: a merge keeps the cards it combines in
// its undo record, so it needs room for that record less what it frees, and
// a refused merge changes nothing; undoing gives the record back, so it
// passes even over the quota.
func TestDuplicatesUndoQuota(t *testing.T) {
	data := t.TempDir()
	cli(t, "max password\n", "user", "add", "max", "--data", data, "--password-stdin")
	cards := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p1\r\nFN:Robert Park\r\nN:Park;Robert;;;\r\nTEL:+1 212 555 0101\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p2\r\nFN:Robert Park\r\nN:Park;Robert;;;\r\nTEL:+1 212 555 0101\r\nNOTE:" + strings.Repeat("n", 2000) + "\r\nEND:VCARD\r\n"
	if out, errOut, code := cli(t, cards, "import", "--user", "max", "--data", data, "--same-content", "keep", "-"); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	before, _, _ := cli(t, "", "export", "--user", "max", "--data", data)
	_, errOut, code := cli(t, "", "duplicates", "merge", "--user", "max", "--auto", "--data", data, "--quota-per-user", "4K")
	if code != 1 || !strings.Contains(errOut, "quota") {
		t.Fatalf("a merge whose undo record does not fit: %d %q", code, errOut)
	}
	if after, _, _ := cli(t, "", "export", "--user", "max", "--data", data); after != before {
		t.Fatal("the refused merge changed the book")
	}
	out, errOut, code := cli(t, "", "duplicates", "merge", "--user", "max", "--auto", "--data", data, "--quota-per-user", "10K")
	m := regexp.MustCompile(`merge (\d+);`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("a merge with room for its undo record: %d %q %q", code, out, errOut)
	}
	if out, errOut, code := cli(t, "", "duplicates", "undo", "--user", "max", "--merge", m[1], "--data", data, "--quota-per-user", "3K"); code != 0 {
		t.Fatalf("undo over the quota: %d %q %q", code, out, errOut)
	}
	if after, _, _ := cli(t, "", "export", "--user", "max", "--data", data); strings.Count(after, "BEGIN:VCARD") != 2 {
		t.Fatalf("after undo:\n%s", after)
	}
}

// "Import a duplicate, merge it, import again" stops at the quota: each
// merge's undo record, which keeps the card merged away, counts.
func TestDuplicatesMergeLoopQuota(t *testing.T) {
	data := t.TempDir()
	cli(t, "ann password\n", "user", "add", "ann", "--data", data, "--password-stdin")
	card := func(uid string) string {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Robert Park\r\nN:Park;Robert;;;\r\nTEL:+1 212 555 0101\r\nNOTE:" +
			strings.Repeat("n", 2000) + "\r\nEND:VCARD\r\n"
	}
	if out, errOut, code := cli(t, card("p0"), "import", "--user", "ann", "--data", data, "-"); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	// Each round stores about 2 KB more in truth; 6 rounds need 15 KB.
	for i := 1; i <= 6; i++ {
		out, errOut, code := cli(t, card("p"+strconv.Itoa(i)), "import", "--user", "ann", "--data", data,
			"--same-content", "keep", "--quota-per-user", "15K", "-")
		if code != 0 {
			if !strings.Contains(errOut, "quota") {
				t.Fatalf("round %d: import: %d %q %q", i, code, out, errOut)
			}
			return
		}
		out, errOut, code = cli(t, "", "duplicates", "merge", "--user", "ann", "--auto", "--data", data, "--quota-per-user", "15K")
		if code != 0 {
			if !strings.Contains(errOut, "quota") {
				t.Fatalf("round %d: merge: %d %q %q", i, code, out, errOut)
			}
			return
		}
		if !strings.Contains(out, "merged 2 cards") {
			t.Fatalf("round %d: no merge: %q", i, out)
		}
	}
	t.Fatal("6 rounds of import and merge within a quota of 15K")
}
