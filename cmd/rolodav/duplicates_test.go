package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const dupBook = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Müller\r\nN:Müller;Ann;;;\r\nTEL;TYPE=CELL:0151 2345678\r\nEMAIL:Ann.Mueller@Example.org\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-2\r\nFN:Müller Ann\r\nN:Müller;Ann;;;\r\nTEL:+49 151 2345678\r\nEMAIL:ann.mueller@example.org\r\nBDAY:1980-04-01\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob\r\nFN:Bob Stranger\r\nN:Stranger;Bob;;;\r\nTEL:+1 212 555 0100\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nFN broken line\r\nEND:VCARD\r\n"

func TestDuplicatesFindOffline(t *testing.T) {
	file := filepath.Join(t.TempDir(), "export.vcf")
	if err := os.WriteFile(file, []byte(dupBook), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, "", "duplicates", "find", "--region", "de", "--format", "json", file)
	if code != 0 {
		t.Fatalf("find: %d %s", code, errOut)
	}
	var res struct {
		Cards  int `json:"cards"`
		Groups []struct {
			ID    string   `json:"id"`
			Band  string   `json:"band"`
			Score float64  `json:"score"`
			Cards []string `json:"cards"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if res.Cards != 3 || len(res.Groups) != 1 {
		t.Fatalf("want 3 cards and 1 group: %s", out)
	}
	g := res.Groups[0]
	if strings.Join(g.Cards, ",") != "ann-1,ann-2" && strings.Join(g.Cards, ",") != "ann-2,ann-1" {
		t.Errorf("group cards %v", g.Cards)
	}
	if g.ID == "" || (g.Band != "auto" && g.Band != "review") || g.Score <= 0 {
		t.Errorf("group %+v", g)
	}
	if !strings.Contains(errOut, file+":28: card skipped: property without a colon") {
		t.Errorf("the broken card is not reported with file and line: %q", errOut)
	}
	// Text for people, read from standard input.
	out, _, code = cli(t, dupBook, "duplicates", "find", "--region", "DE", "-")
	if code != 0 || !strings.Contains(out, "Ann Müller") || !strings.Contains(out, "1 groups") {
		t.Errorf("text output: %d\n%s", code, out)
	}
	if _, errOut, code := cli(t, "", "duplicates", "find", "/nonexistent.vcf"); code != 1 || !strings.Contains(errOut, "/nonexistent.vcf") {
		t.Errorf("missing file: %d %q", code, errOut)
	}
	if _, _, code := cli(t, "", "duplicates", "find", "--format", "xml", file); code != 2 {
		t.Errorf("bad format: exit %d, want 2", code)
	}
}
