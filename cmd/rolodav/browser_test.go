package main_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The account the browser scenarios sign in with.
const browserUser, browserPassword = "alice", "alice browser password"

// TestBrowser drives Debian's chromium (through the npm package
// playwright-core, which downloads no browser) through the account pages of
// the real binary. Each subtest runs one script of testdata/browser, which
// finds things by role and accessible name as the pages' contract names
// them and throws on the first failed check. The scripts write screenshots
// to a temporary directory, or to docs/screenshots (shown in the README)
// with ROLODAV_UPDATE_SCREENSHOTS=1. Dependencies come from
// `npm ci --prefix cmd/rolodav/testdata/browser`.
func TestBrowser(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "browser")
	node, err := exec.LookPath("node")
	var chromium string
	if err == nil {
		chromium, err = exec.LookPath("chromium")
	}
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("node, chromium or playwright-core missing (apt-get install nodejs npm chromium; npm ci --prefix cmd/rolodav/testdata/browser): %v", err)
		}
		t.Fatalf("CI: node, chromium or playwright-core missing; the CI script must install nodejs, npm and chromium and run `npm ci --prefix cmd/rolodav/testdata/browser`: %v", err)
	}
	shots := t.TempDir()
	if os.Getenv("ROLODAV_UPDATE_SCREENSHOTS") == "1" {
		if shots, err = filepath.Abs(filepath.Join("..", "..", "docs", "screenshots")); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	for _, sc := range []struct {
		name string
		seed func(t *testing.T, d *daemon)
		// source, when set, starts what the scenario needs besides the
		// server, and returns the server's extra flags and the script's
		// extra environment.
		source func(t *testing.T) (flags, env []string)
		// prepare, when set, fills the data directory before the server
		// starts and returns the build of rolodav to serve it with ("" =
		// the one under test).
		prepare func(t *testing.T, data string) (bin string)
	}{
		{name: "signin"},
		{name: "activity", seed: seedClients},
		{name: "apppassword"},
		{name: "profile"},
		{name: "duplicates", seed: seedJane},
		{name: "review"},
		{name: "nojs"},
		{name: "security"},
		{name: "totp"},
		{name: "migrate", seed: seedJane, source: migrateSource},
		{name: "region", seed: seedTina},
		{name: "pages", seed: seedPages},
		{name: "import"},
		{name: "duplist", prepare: prepareDuplist},
	} {
		t.Run(sc.name, func(t *testing.T) {
			data := t.TempDir()
			if _, errOut, code := cli(t, browserPassword+"\n", "user", "add", browserUser, "--data", data, "--password-stdin"); code != 0 {
				t.Fatalf("user add: %d %s", code, errOut)
			}
			var flags, env []string
			if sc.source != nil {
				flags, env = sc.source(t)
			}
			bin := binary
			if sc.prepare != nil {
				if b := sc.prepare(t, data); b != "" {
					bin = b
				}
			}
			d := startBinary(t, bin, data, flags...)
			if sc.seed != nil {
				sc.seed(t, d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, sc.name+".mjs")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "BASE_URL="+d.url, "LOGIN="+browserUser, "PASSWORD="+browserPassword,
				"SCREENSHOT_DIR="+shots, "CHROMIUM="+chromium)
			cmd.Env = append(cmd.Env, env...)
			began := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("browser scenario %s failed (%v):\n%s\n--- server log (last lines) ---\n%s", sc.name, err, out, lastLines(d.log(), 40))
			}
			if !strings.Contains(string(out), "OK: "+sc.name) {
				t.Fatalf("browser scenario %s did not finish:\n%s", sc.name, out)
			}
			t.Logf("browser scenario %s passed in %v", sc.name, time.Since(began).Round(100*time.Millisecond))
			// What a script measured ("measured: …" lines) goes in the log.
			for _, l := range strings.Split(string(out), "\n") {
				if m, ok := strings.CutPrefix(l, "measured: "); ok {
					t.Logf("%s: %s", sc.name, m)
				}
			}
		})
	}
}

// seedJane fills alice's address book with three cards of one Jane Doe
// (jane-b, the largest and so the default reference, alone has the phone;
// jane-c alone works at Globex) and two other people.
func seedJane(t *testing.T, d *daemon) {
	cards := map[string]string{
		"jane-a": "FN:Jane Doe\r\nN:Doe;Jane;;;\r\nEMAIL:jane.doe@example.org\r\nORG:Acme\r\n",
		"jane-b": "FN:Jane Doe\r\nN:Doe;Jane;;;\r\nEMAIL:jane.doe@example.org\r\nTEL;TYPE=CELL:+1 202 555 0142\r\nORG:Acme\r\n" +
			"NOTE:Met at the conference in Lisbon; prefers e-mail over phone calls.\r\n",
		"jane-c": "FN:Jane M. Doe\r\nN:Doe;Jane;M.;;\r\nEMAIL:jane.doe@example.org\r\nORG:Globex\r\nBDAY:1984-06-15\r\n",
		"bob":    "FN:Bob Stranger\r\nN:Stranger;Bob;;;\r\nTEL:+1 212 555 0100\r\n",
		"carla":  "FN:Carla Rossi\r\nN:Rossi;Carla;;;\r\nEMAIL:carla@example.net\r\n",
	}
	for uid, props := range cards {
		card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\n" + props + "END:VCARD\r\n"
		if code, _, body := d.req(t, "PUT", "/dav/addressbooks/"+browserUser+"/contacts/"+uid+".vcf", browserUser, browserPassword, card, "Content-Type: text/vcard"); code != 201 {
			t.Fatalf("PUT %s: %d %s", uid, code, body)
		}
	}
}

// clientAgents are User-Agent headers of real clients, as they send them
// (from their source: DAVx5's UserAgentInterceptor, Apple's daemons,
// Thunderbird, vdirsyncer, Evolution's data server).
var clientAgents = []string{
	"DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/14",
	"iOS/18.0 (22A3354) dataaccessd/1.0",
	"macOS/15.5 (24F74) AddressBookCore/2695.500.71",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Thunderbird/140.3.0",
	"vdirsyncer/0.19.0",
	"Evolution/3.54.1",
}

// seedClients signs alice in over DAV once from each of clientAgents,
// and fails once, so that the activity page lists them.
func seedClients(t *testing.T, d *daemon) {
	const propfind = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>`
	for _, ua := range clientAgents {
		if code, _, body := d.req(t, "PROPFIND", "/dav/", browserUser, browserPassword, propfind, "Depth: 0", "User-Agent: "+ua); code != 207 {
			t.Fatalf("PROPFIND as %s: %d %s", ua, code, body)
		}
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", browserUser, "not the password", propfind, "Depth: 0", "User-Agent: curl/8.5.0"); code != 401 {
		t.Fatalf("PROPFIND with a wrong password: %d", code)
	}
}

// seedPages is what the crawl of every page needs: duplicates to review,
// and sign-ins of several clients.
func seedPages(t *testing.T, d *daemon) {
	seedJane(t, d)
	seedClients(t, d)
}

// The provider the migrate scenario imports from, and what it has.
const (
	sourceLogin, sourcePassword = "ann@old.example", "ann's password at the old provider"
	sourceCards                 = 2000
)

// migrateSource starts a second rolodav, the provider the migrate
// scenario imports from, with sourceCards cards, behind a proxy that
// slows its answers down (REPORTs, the listing and the multigets, most),
// so that the scenario closes the progress page while the import runs.
// The server under test reaches it on loopback with
// --migrate-allow-private.
func migrateSource(t *testing.T) (flags, env []string) {
	data := t.TempDir()
	if _, errOut, code := cli(t, sourcePassword+"\n", "user", "add", sourceLogin, "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("source user add: %d %s", code, errOut)
	}
	var vcf strings.Builder
	for i := range sourceCards {
		vcf.WriteString(vcard(fmt.Sprintf("old-%04d", i)))
	}
	if _, errOut, code := cli(t, vcf.String(), "import", "--user", sourceLogin, "--data", data, "-"); code != 0 {
		t.Fatalf("source import: %d %s", code, errOut)
	}
	src := start(t, data)
	target, err := url.Parse(src.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := 100 * time.Millisecond
		if r.Method == "REPORT" {
			d = 500 * time.Millisecond
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	return []string{"--migrate-allow-private"}, []string{"SOURCE_URL=" + slow.URL + "/", "SOURCE_LOGIN=" + sourceLogin,
		"SOURCE_PASSWORD=" + sourcePassword, "SOURCE_CARDS=" + strconv.Itoa(sourceCards)}
}
