package main_test

import (
	"regexp"
	"strings"
	"testing"
)

// merge --auto stopped by an error (here the quota) after some merges:
// those stand, and their batch must be named so that undo --batch can
// take them back, as it is when the run ends well.
func TestDuplicatesMergeAutoStoppedNamesItsBatch(t *testing.T) {
	data := t.TempDir()
	cli(t, "max password\n", "user", "add", "max", "--data", data, "--password-stdin")
	var cards strings.Builder
	for _, p := range []string{"Robert Park", "Maria Lopez"} {
		for i, uid := range []string{"1", "2"} {
			f := strings.Fields(p)
			cards.WriteString("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + f[0] + uid + "\r\nFN:" + p + "\r\nN:" + f[1] + ";" + f[0] + ";;;\r\nTEL:+1 212 555 010" + string(rune('1'+len(f[0])%7)) +
				"\r\nNOTE:" + strings.Repeat("n", 2000+i) + "\r\nEND:VCARD\r\n")
		}
	}
	if out, errOut, code := cli(t, cards.String(), "import", "--user", "max", "--data", data, "--same-content", "keep", "-"); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	out, errOut, code := cli(t, "", "duplicates", "merge", "--user", "max", "--auto", "--data", data, "--quota-per-user", "20000")
	if code == 0 || strings.Count(out, "merged 2 cards") != 1 {
		t.Fatalf("want one merge, then the quota: exit %d\n%s\n%s", code, out, errOut)
	}
	m := regexp.MustCompile(`--batch ([0-9a-f]{32})`).FindStringSubmatch(out + errOut)
	if m == nil {
		t.Fatalf("the merge made is in a batch that nothing names:\n%s\n%s", out, errOut)
	}
	if out, errOut, code := cli(t, "", "duplicates", "undo", "--user", "max", "--data", data, "--batch", m[1]); code != 0 {
		t.Fatalf("undo --batch: %d %q %q", code, out, errOut)
	}
}
