package main_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// copySource makes a data directory whose store holds users, an address
// book with cards and a deletion, and returns it.
func copySource(t *testing.T, login string, cards int) string {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	st, err := sqlite.Open(filepath.Join(data, "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateUser(ctx, &store.User{Login: login, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: login, Kind: store.KindCard, Name: "contacts"}
	if err := st.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i := range cards {
		uid := fmt.Sprintf("uid-%d", i)
		o := &store.Object{Collection: c.ID, Name: uid + ".vcf", UID: uid,
			Data: []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Card\r\nEND:VCARD\r\n")}
		if _, _, err := st.PutObject(ctx, o, store.Conditions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteObject(ctx, c.ID, "uid-0.vcf", store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	return data
}

// rowsOf is every row of the SQLite store in data, as lines.
func rowsOf(t *testing.T, data string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(data, "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []string
	err = st.ReadRows(ctx, func(r store.RowReader) error {
		for i := range store.Tables {
			for row, err := range r.Scan(ctx, &store.Tables[i]) {
				if err != nil {
					return err
				}
				out = append(out, fmt.Sprintf("%s %#v", store.Tables[i].Name, row))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStoreCopySQLite(t *testing.T) {
	src := copySource(t, "ann", 5)
	dst := t.TempDir() // a data directory: the copy is its rolodav.db
	from, to := "sqlite:"+src, "sqlite:"+dst

	out, errOut, code := cli(t, "", "store", "copy", "--from", from, "--to", to)
	if code != 0 {
		t.Fatalf("copy: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Copied 11 rows from " + from + " to " + to, "  objects                   4\n",
		"  changes                   5\n", "each of its 4 objects the ETag of its data"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	// How long it took, in words ("in 1 second"), not Go's "in 12.345ms".
	if !regexp.MustCompile(`\) in \d+ (second|minute)s?:\n`).MatchString(out) {
		t.Errorf("the report does not say how long the copy took in words:\n%s", out)
	}
	// Not a terminal: a line per table, no bar.
	if !strings.Contains(errOut, "copied objects: 4 rows\n") || strings.Contains(errOut, "\r") {
		t.Errorf("progress on a pipe:\n%q", errOut)
	}
	want := rowsOf(t, src)
	if got := rowsOf(t, dst); !slices.Equal(got, want) {
		t.Fatalf("the copy differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Twice: nothing to do, exit 0.
	out, errOut, code = cli(t, "", "store", "copy", "--from", from, "--to", to)
	if code != 0 || !strings.Contains(out, "already holds exactly the 11 rows of "+from+": nothing to do") {
		t.Fatalf("second copy: exit %d\n%s%s", code, out, errOut)
	}

	// Another store's rows are refused, then replaced with --replace.
	other := copySource(t, "bob", 1)
	out, errOut, code = cli(t, "", "store", "copy", "--from", "sqlite:"+other, "--to", to)
	if code != 1 || !strings.Contains(errOut, to+" is not empty: it holds 1 row in users, 1 row in collections, 4 rows in objects, 5 rows in changes") ||
		!strings.Contains(errOut, "--replace") {
		t.Fatalf("copy to a store holding other rows: exit %d\n%s%s", code, out, errOut)
	}
	if got := rowsOf(t, dst); !slices.Equal(got, want) {
		t.Fatal("the refused copy changed the target")
	}
	out, errOut, code = cli(t, "", "store", "copy", "--from", "sqlite:"+other, "--to", to, "--replace")
	if code != 0 || !strings.Contains(out, "Replaced what "+to+" held: 1 row in users, 1 row in collections, 4 rows in objects, 5 rows in changes.") {
		t.Fatalf("copy with --replace: exit %d\n%s%s", code, out, errOut)
	}
	if got, want := rowsOf(t, dst), rowsOf(t, other); !slices.Equal(got, want) {
		t.Fatalf("the replaced copy differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStoreCopyErrors(t *testing.T) {
	src := copySource(t, "ann", 1)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--from", "sqlite:" + src}, 2, "store copy needs --from and --to"},
		{[]string{"--from", "mysql://x", "--to", "sqlite:" + dir}, 2, `--from: database: "mysql://x" is neither sqlite:PATH nor postgres://`},
		{[]string{"--from", "sqlite:" + filepath.Join(dir, "typo"), "--to", "sqlite:" + dir}, 2, "--from: there is no SQLite database at " + filepath.Join(dir, "typo")},
		{[]string{"--from", "sqlite:" + src, "--to", "sqlite:" + filepath.Join(src, "rolodav.db")}, 2, "--from and --to are the same database"},
		{[]string{"--from", "sqlite:" + src, "--to", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=5"}, 1,
			"--to postgres://u:xxxxx@127.0.0.1:1/db?connect_timeout=5: postgres: open u@127.0.0.1/db: failed to connect"},
	} {
		out, errOut, code := cli(t, "", append([]string{"store", "copy"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Contains(out+errOut, "hunter2") {
			t.Errorf("store copy %s: exit %d, want %d and %q:\n%s%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out, errOut)
		}
	}
}

// To PostgreSQL and back gives the same rows.
func TestStoreCopyPostgres(t *testing.T) {
	src := copySource(t, "ann", 5)
	// The cluster trusts local connections: the password is there to be
	// hidden from the messages.
	url := strings.Replace(pgtest.URL(t), "rolodav@", "rolodav:hunter2@", 1)
	back := t.TempDir()
	for _, args := range [][]string{
		{"--from", "sqlite:" + src, "--to", url},
		{"--from", url, "--to", "sqlite:" + back},
	} {
		out, errOut, code := cli(t, "", append([]string{"store", "copy"}, args...)...)
		if code != 0 || !strings.Contains(out, "Copied 11 rows") || strings.Contains(out+errOut, "hunter2") {
			t.Fatalf("store copy %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	if got, want := rowsOf(t, back), rowsOf(t, src); !slices.Equal(got, want) {
		t.Fatalf("the round trip differs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
