package main_test

import (
	"strings"
	"testing"
)

// rolodav migrate from another rolodav, through the binary: what each
// mistake and each outcome exits with, and when the summary offers the
// duplicates page.
func TestMigrateExitCodes(t *testing.T) {
	src := t.TempDir()
	if _, e, code := cli(t, "source password here\n", "user", "add", "ann@old.example", "--data", src, "--password-stdin"); code != 0 {
		t.Fatalf("%d %s", code, e)
	}
	if _, e, code := cli(t, vcard("a1")+vcard("a2"), "import", "--user", "ann@old.example", "--data", src, "-"); code != 0 {
		t.Fatalf("%d %s", code, e)
	}
	d := start(t, src)
	dst := t.TempDir()
	if _, e, code := cli(t, "dest password here!\n", "user", "add", "bob@new.example", "--data", dst, "--password-stdin"); code != 0 {
		t.Fatalf("%d %s", code, e)
	}
	if _, e, code := cli(t, vcard("mine"), "import", "--user", "bob@new.example", "--data", dst, "-"); code != 0 {
		t.Fatalf("%d %s", code, e)
	}
	base := []string{"migrate", "--data", dst, "--user", "bob@new.example", "--from", d.url + "/", "--from-user", "ann@old.example", "--password-stdin"}
	run := func(stdin string, extra ...string) (string, string, int) {
		t.Helper()
		o, e, c := cli(t, stdin, append(append([]string{}, base...), extra...)...)
		t.Logf("migrate %v → %d\nstdout:\n%sstderr:\n%s", extra, c, o, e)
		return o, e, c
	}
	const pw = "source password here\n"
	if _, e, c := run(pw, "--map", "nope=x"); c != 2 || !strings.Contains(e, "--map nope") {
		t.Errorf("--map naming no source collection: exit %d, %q", c, e)
	}
	if _, _, c := run(""); c != 2 {
		t.Errorf("no password on standard input: exit %d, want 2", c)
	}
	if _, _, c := run(pw, "--only", "x"); c != 2 {
		t.Errorf("--only x: exit %d, want 2", c)
	}
	if o, e, c := run("wrong password\n"); c != 1 || o != "" || !strings.Contains(e, "refused the login") {
		t.Errorf("wrong password: exit %d, stdout %q, stderr %q", c, o, e)
	}
	if o, _, c := run(pw, "--dry-run"); c != 0 || !strings.Contains(o, "2 objects") {
		t.Errorf("dry run: exit %d, %q", c, o)
	}
	if _, e, c := run(pw, "--max-resource-size", "10"); c != 1 || !strings.Contains(e, "rejected") {
		t.Errorf("every card over the size limit: exit %d, want 1", c)
	}
	o, _, c := run(pw)
	if c != 0 || !strings.Contains(o, "added 2") || !strings.Contains(o, "rolodav duplicates list --user bob@new.example --book contacts") {
		t.Errorf("run: exit %d, %q", c, o)
	}
	o, _, c = run(pw)
	if c != 0 || !strings.Contains(o, "added 0, updated 0") || strings.Contains(o, "duplicates list") {
		t.Errorf("second run: exit %d, %q", c, o)
	}
}
