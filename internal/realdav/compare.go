package realdav

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Pair is a source collection and the collection it was copied into.
type Pair struct {
	Kind         Kind
	Source, Dest Endpoint
}

// Compare reads both sides of each pair as a client does, with vdirsyncer
// (each side synced into a folder of its own, the servers read-only), and
// compares the items by UID: it returns one line per difference (an item
// on one side only, an item whose content differs, a UID twice on one
// side), none when every pair holds the same items. It fails the test
// when vdirsyncer does.
//
// A sync of the two servers with each other would not do: vdirsyncer
// would copy an item missing on one side across rather than report it,
// and its comparison of items ignores what it considers volatile (UID,
// REV, DTSTAMP, LAST-MODIFIED, VTIMEZONEs). Here the content is compared
// in full; see canonical for the differences that do not count.
func Compare(t testing.TB, pairs ...Pair) []string {
	t.Helper()
	bin := requireProgram(t, "vdirsyncer", "vdirsyncer")
	home := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "[general]\nstatus_path = %q\n", filepath.Join(home, "status")+"/")
	for i, p := range pairs {
		for _, side := range []struct {
			name string
			e    Endpoint
		}{{"source", p.Source}, {"dest", p.Dest}} {
			name := fmt.Sprintf("p%d_%s", i, side.name)
			dir := filepath.Join(home, "items", name)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			typ := "carddav"
			if p.Kind == Calendar {
				typ = "caldav"
			}
			// collections = null: the URL is the collection itself. The
			// server is read-only, and a sync that would write to it
			// (partial_sync "error") fails instead.
			fmt.Fprintf(&conf, `
[pair %[1]s]
a = "%[1]s_local"
b = "%[1]s_remote"
collections = null
partial_sync = "error"

[storage %[1]s_local]
type = "filesystem"
path = %[2]q
fileext = %[3]q

[storage %[1]s_remote]
type = %[4]q
url = %[5]q
username = %[6]q
password = %[7]q
read_only = true
`, name, dir, p.Kind.Ext(), typ, side.e.URL, side.e.User, side.e.Password)
		}
	}
	start := time.Now()
	defer func() {
		t.Logf("realdav: vdirsyncer read %d pairs of collections in %v", len(pairs), time.Since(start).Round(time.Millisecond))
	}()
	config := filepath.Join(home, "vdirsyncer.conf")
	if err := os.WriteFile(config, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"discover"}, {"sync"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, bin, append([]string{"-c", config, "-v", "WARNING"}, args...)...)
		cmd.Env = serverEnv(home)
		cmd.Dir = home
		cmd.Stdin = strings.NewReader(strings.Repeat("y\n", 2*len(pairs)))
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("realdav: vdirsyncer %s: %v\n%s", args[0], err, out)
		}
	}
	var diffs []string
	for i, p := range pairs {
		src := readItems(t, filepath.Join(home, "items", fmt.Sprintf("p%d_source", i)))
		dst := readItems(t, filepath.Join(home, "items", fmt.Sprintf("p%d_dest", i)))
		where := p.Source.URL + " → " + p.Dest.URL
		diffs = append(diffs, src.dups(where, "source")...)
		diffs = append(diffs, dst.dups(where, "destination")...)
		for _, uid := range sortedKeys(src.byUID) {
			d, ok := dst.byUID[uid]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s: %s only at the source", where, uid))
			case d != src.byUID[uid]:
				diffs = append(diffs, fmt.Sprintf("%s: %s differs:\n%s", where, uid, lineDiff(src.byUID[uid], d)))
			}
		}
		for _, uid := range sortedKeys(dst.byUID) {
			if _, ok := src.byUID[uid]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: %s only at the destination", where, uid))
			}
		}
	}
	return diffs
}

// AssertSame fails the test for each difference Compare finds (at most
// 20 of them shown).
func AssertSame(t testing.TB, pairs ...Pair) {
	t.Helper()
	diffs := Compare(t, pairs...)
	for i, d := range diffs {
		if i == 20 {
			t.Errorf("… and %d more differences", len(diffs)-20)
			break
		}
		t.Error(d)
	}
}

// items are a folder's items in canonical form by UID.
type items struct {
	byUID map[string]string
	twice map[string]int
}

func (it items) dups(where, side string) []string {
	var out []string
	for _, uid := range sortedKeys(it.twice) {
		out = append(out, fmt.Sprintf("%s: %s %d times at the %s", where, uid, it.twice[uid]+1, side))
	}
	return out
}

func readItems(t testing.TB, dir string) items {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("realdav: %v", err)
	}
	it := items{byUID: map[string]string{}, twice: map[string]int{}}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		c := canonical(string(data))
		uid := uidLine(c)
		if uid == "" {
			uid = "(no UID) " + e.Name()
		}
		if _, ok := it.byUID[uid]; ok {
			it.twice[uid]++
		}
		it.byUID[uid] = c
	}
	return it
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// uidLine is the value of the first UID property of a canonical item.
func uidLine(c string) string {
	for _, l := range strings.Split(c, "\n") {
		if v, ok := strings.CutPrefix(l, "UID:"); ok {
			return v
		}
	}
	return ""
}

// ignoredProps are properties whose change is no change of content: the
// product that last wrote the object (servers write their own: Radicale
// does).
var ignoredProps = map[string]bool{"PRODID": true}

// canonical is an object (vCard or iCalendar) in a form in which two
// copies of the same content compare equal: lines unfolded; property and
// parameter names in upper case; parameters sorted; the parts of a
// recurrence rule sorted (they come in any order, RFC 5545 3.3.10, and
// Xandikos reorders them); the properties of each component, and its
// subcomponents, sorted; ignoredProps left out. Values are compared as
// they are otherwise, and every other property counts.
func canonical(data string) string {
	data = strings.ReplaceAll(data, "\r\n", "\n")
	data = strings.ReplaceAll(data, "\n ", "")
	data = strings.ReplaceAll(data, "\n\t", "")
	lines := strings.Split(data, "\n")
	var parse func(name string) string
	i := 0
	parse = func(name string) string {
		var props, subs []string
		for i < len(lines) {
			l := lines[i]
			i++
			if strings.TrimSpace(l) == "" {
				continue
			}
			p := canonicalLine(l)
			if sub, ok := strings.CutPrefix(p, "BEGIN:"); ok {
				subs = append(subs, parse(strings.ToUpper(sub)))
				continue
			}
			if strings.HasPrefix(p, "END:") {
				break
			}
			if n, _, _ := strings.Cut(p, ":"); ignoredProps[strings.SplitN(n, ";", 2)[0]] {
				continue
			}
			props = append(props, p)
		}
		sort.Strings(props)
		sort.Strings(subs)
		var b strings.Builder
		if name != "" {
			b.WriteString("BEGIN:" + name + "\n")
		}
		for _, p := range props {
			b.WriteString(p + "\n")
		}
		for _, s := range subs {
			b.WriteString(s)
		}
		if name != "" {
			b.WriteString("END:" + name + "\n")
		}
		return b.String()
	}
	return parse("")
}

// canonicalLine upper-cases a content line's name and parameter names and
// sorts its parameters.
func canonicalLine(l string) string {
	head, value := splitUnquoted(l, ':')
	parts := splitAllUnquoted(head, ';')
	params := parts[1:]
	for k, p := range params {
		n, v, _ := strings.Cut(p, "=")
		params[k] = strings.ToUpper(n) + "=" + v
	}
	sort.Strings(params)
	name := strings.ToUpper(parts[0])
	if name == "RRULE" || name == "EXRULE" {
		rule := strings.Split(value, ";")
		sort.Strings(rule)
		value = strings.Join(rule, ";")
	}
	return strings.Join(append([]string{name}, params...), ";") + ":" + value
}

// splitUnquoted cuts s at the first sep outside double quotes.
func splitUnquoted(s string, sep byte) (string, string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func splitAllUnquoted(s string, sep byte) []string {
	var out []string
	for {
		before, after := splitUnquoted(s, sep)
		out = append(out, before)
		if before == s {
			return out
		}
		s = after
	}
}

// lineDiff shows the lines of a that b lacks (-) and those of b that a
// lacks (+).
func lineDiff(a, b string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if cb[l] < ca[l] {
			out = append(out, "  - "+shorten(l))
			ca[l]--
		}
	}
	ca = count(a)
	for _, l := range strings.Split(b, "\n") {
		if ca[l] < cb[l] {
			out = append(out, "  + "+shorten(l))
			cb[l]--
		}
	}
	return strings.Join(out, "\n")
}

func shorten(l string) string {
	if len(l) > 160 {
		return l[:160] + "…"
	}
	return l
}
