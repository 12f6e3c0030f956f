package main_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// `duplicates list --user` matches with the country the user saved on the
// duplicates page, unless --region names another; other users' books are
// not read with it.
func TestDuplicatesListUserRegion(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "tina.vcf")
	// The same person, linked only by a number written with and without
	// its country code.
	cards := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tina-1\r\nFN:Tina Krüger\r\nN:Krüger;Tina;;;\r\nTEL:+49 30 1234567\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tina-2\r\nFN:Tina\r\nN:;Tina;;;\r\nTEL:030 1234567\r\nEND:VCARD\r\n"
	if err := os.WriteFile(file, []byte(cards), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"kim", "lou"} {
		if _, errOut, code := cli(t, user+" password\n", "user", "add", user, "--data", data, "--password-stdin"); code != 0 {
			t.Fatalf("user add %s: %d %s", user, code, errOut)
		}
		if _, errOut, code := cli(t, "", "import", "--user", user, "--data", data, file); code != 0 {
			t.Fatalf("import for %s: %d %s", user, code, errOut)
		}
	}
	groups := func(user string, args ...string) int {
		t.Helper()
		out, errOut, code := cli(t, "", append([]string{"duplicates", "list", "--user", user, "--format", "json", "--data", data}, args...)...)
		if code != 0 {
			t.Fatalf("list for %s %v: %d %s", user, args, code, errOut)
		}
		var l listed
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("list JSON: %v\n%s", err, out)
		}
		return len(l.Groups)
	}
	if n := groups("kim"); n != 0 {
		t.Fatalf("%d groups before any country is set, want 0", n)
	}

	// Saved as the duplicates page saves it.
	st, err := sqlite.Open(filepath.Join(data, "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.UpdateUserSettings(context.Background(), "kim", func(u *store.User) error {
		u.Region = "DE"
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	if n := groups("kim"); n != 1 {
		t.Errorf("%d groups with kim's saved country, want 1", n)
	}
	if n := groups("kim", "--region", "FR"); n != 0 {
		t.Errorf("%d groups with --region FR over kim's saved country, want 0", n)
	}
	if n := groups("lou"); n != 0 {
		t.Errorf("%d groups for lou, who saved no country, want 0", n)
	}
	if n := groups("lou", "--region", "de"); n != 1 {
		t.Errorf("%d groups for lou with --region de, want 1", n)
	}
}

// seedTina puts the browser user's Tina Krüger twice, linked only by a
// number written with and without its country code (the region scenario).
func seedTina(t *testing.T, d *daemon) {
	for uid, props := range map[string]string{
		"tina-1": "FN:Tina Krüger\r\nN:Krüger;Tina;;;\r\nTEL:+49 30 1234567\r\n",
		"tina-2": "FN:Tina\r\nN:;Tina;;;\r\nTEL:030 1234567\r\n",
	} {
		card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\n" + props + "END:VCARD\r\n"
		if code, _, body := d.req(t, "PUT", "/dav/addressbooks/"+browserUser+"/contacts/"+uid+".vcf", browserUser, browserPassword, card, "Content-Type: text/vcard"); code != 201 {
			t.Fatalf("PUT %s: %d %s", uid, code, body)
		}
	}
}

// A --region that is no country is refused before anything starts: a
// typo would otherwise mean "no country" without a word.
func TestRegionFlagChecked(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--data", data, "--listen", "127.0.0.1:0", "--region", "XX"},
		{"duplicates", "find", "--region", "Germany", "-"},
		{"duplicates", "list", "--data", data, "--user", "nobody", "--region", "XX"},
	} {
		_, errOut, code := cli(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "is not a country code of phone numbers") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the reason", args, code, errOut)
		}
	}
}
