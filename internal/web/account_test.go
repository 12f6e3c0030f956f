package web

import (
	"context"
	"errors"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

func TestDevicesPage(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	resp, body := s.get(t, "/account/devices")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("devices: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"<h1>Connect your devices</h1>",
		`<code id="server-url">` + ts.URL + `/dav/</code>`,
		`<code id="login">ann@example.org</code>`,
		`<a href="/profile.mobileconfig" download>Download the profile for iPhone, iPad and Mac</a>`,
		`<img class="qr" alt="QR code with the account URL" src="/account/qr.svg"`,
		"<h2>Android: DAVx5 or kSync</h2>", "<h2>iPhone, iPad and Mac</h2>", "<h2>Thunderbird</h2>",
		"<h2>Evolution</h2>", "<h2>Command line: vdirsyncer, khard, khal</h2>",
		"Login with URL and user name", `href="/account/passwords"`, "password.fetch",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("devices page lacks %s", want)
		}
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%d h1 elements", n)
	}

	// Signed out, the page sends the browser to sign in.
	resp, err := http.Get(ts.URL + "/account/devices")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/account/signin" {
		t.Errorf("signed out: ended at %s, want the sign-in page", resp.Request.URL)
	}
}

// The devices page lists the collections each device gets push messages
// of; a registration of a deleted collection, waiting for its last
// message, is none of them.
func TestDevicesPagePush(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Push = true })
	ctx := context.Background()
	if _, err := ts.Store.PushKey(ctx, func() (store.PushKey, error) {
		return store.PushKey{Private: "private", Public: "public"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	kept := &store.Collection{Owner: testLogin, Kind: store.KindCard, Name: "kept", DisplayName: "Kept book"}
	deleted := &store.Collection{Owner: testLogin, Kind: store.KindCard, Name: "deleted", DisplayName: "Deleted book"}
	for _, c := range []*store.Collection{kept, deleted} {
		if err := ts.Store.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.Store.RegisterPush(ctx, &store.PushRegistration{Login: testLogin, Collection: c.ID,
			Resource: "https://push.example.net/" + c.Name, PublicKey: "key", AuthSecret: "auth", Content: true,
			Client: "DAVx5/4.5.3-ose", Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.Store.DeleteCollection(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	_, body := ts.signedIn(t, testLogin).get(t, "/account/devices")
	if n := strings.Count(body, "<td>Kept book</td>"); n != 1 {
		t.Errorf("the kept book listed %d times", n)
	}
	for _, unwanted := range []string{"Deleted book", "the list of"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("devices page lists %q", unwanted)
		}
	}
}

// Behind a proxy, the URL given out is the public one, under the prefix.
func TestDevicesPagePublicURL(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.PublicURL, _ = url.Parse("https://dav.example.org/rolo/")
		c.Prefix = "/rolo"
	})
	s := ts.signedIn(t, testLogin)
	resp, body := s.get(t, "/rolo/account/devices")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("devices: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<code id="server-url">https://dav.example.org/rolo/dav/</code>`,
		`href="/rolo/profile.mobileconfig"`, `src="/rolo/account/qr.svg"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("devices page lacks %s", want)
		}
	}
}

func TestQRCode(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	resp, svg := s.get(t, "/account/qr.svg")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("qr.svg: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want := ts.URL + "/dav/"
	for _, part := range []string{`shape-rendering="crispEdges"`, "<title>", want} {
		if !strings.Contains(svg, part) {
			t.Errorf("SVG lacks %s", part)
		}
	}
	if n := strings.Count(svg, "<path"); n != 1 {
		t.Errorf("%d paths, want 1", n)
	}
	if got := readQR(t, svg); got != want {
		t.Errorf("QR code says %q, want %q", got, want)
	}
}

// readQR decodes a QR code drawn by qrSVG with zbarimg, skipping the test
// where it is missing (outside CI).
func readQR(t *testing.T, svg string) string {
	t.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("zbarimg (zbar-tools) is not installed")
		}
		t.Fatal("zbarimg (zbar-tools) is needed in CI")
	}
	dir := t.TempDir()
	pngFile := filepath.Join(dir, "qr.png")
	if rsvg, err := exec.LookPath("rsvg-convert"); err == nil {
		svgFile := filepath.Join(dir, "qr.svg")
		if err := os.WriteFile(svgFile, []byte(svg), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(rsvg, "-w", "400", "-o", pngFile, svgFile).CombinedOutput(); err != nil {
			t.Fatalf("rsvg-convert: %v\n%s", err, out)
		}
	} else {
		rasterize(t, svg, pngFile)
	}
	out, err := exec.Command(zbar, "--raw", "-q", pngFile).Output()
	if err != nil {
		t.Fatalf("zbarimg read nothing: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// rasterize draws the SVG's path (qrSVG's rows of runs) into a PNG, a few
// pixels per module, so that the SVG as served is what gets decoded.
func rasterize(t *testing.T, svg, file string) {
	t.Helper()
	const scale = 8
	m := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(svg)
	d := regexp.MustCompile(` d="([^"]*)"`).FindStringSubmatch(svg)
	if m == nil || d == nil {
		t.Fatalf("no viewBox or path in %s", svg)
	}
	n, _ := strconv.Atoi(m[1])
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	runs := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(d[1], -1)
	if len(runs) == 0 || strings.Join(flatten(runs), "") != d[1] {
		t.Fatalf("path is not rows of runs: %s", d[1])
	}
	for _, r := range runs {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func flatten(matches [][]string) []string {
	out := make([]string, len(matches))
	for i, m := range matches {
		out[i] = m[0]
	}
	return out
}

func TestProfileDownload(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	resp, body := s.get(t, "/profile.mobileconfig")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Fatalf("download with a session: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, "<string>ann@example.org</string>") || strings.Contains(body, "Password") {
		t.Errorf("profile is not ann's, or carries a password:\n%s", body)
	}

	resp, err := http.Get(ts.URL + "/profile.mobileconfig")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous download: %d, challenge %q; want 401 with one", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/profile.mobileconfig", nil)
	req.SetBasicAuth(testLogin, testPassword)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Errorf("download with HTTP Basic: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

var newPasswordRE = regexp.MustCompile(`<code id="new-app-password" class="secret">([^<]+)</code>`)

// createAppPassword creates one through the page and returns the password.
func createAppPassword(t *testing.T, s *testSession, name string) string {
	t.Helper()
	resp, body := s.post(t, "/account/passwords", url.Values{"name": {name}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create app password %q: %d\n%s", name, resp.StatusCode, body)
	}
	resp, body = s.get(t, resp.Header.Get("Location"))
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("created page Cache-Control %q", cc)
	}
	for _, want := range []string{"<h1>App password created</h1>", "ann@example.org", s.base + "/dav/", `href="/account/passwords">Back to app passwords</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("created page lacks %s", want)
		}
	}
	m := newPasswordRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no new password shown:\n%s", body)
	}
	return m[1]
}

func TestAppPasswords(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ts.addUser(t, "bob@example.org")
	ann, bob := ts.signedIn(t, testLogin), ts.signedIn(t, "bob@example.org")

	pw := createAppPassword(t, ann, "  Ann's phone  ")
	p, err := ts.Store.FindAppPassword(ctx, testLogin, auth.AppPasswordDigest(pw))
	if err != nil {
		t.Fatalf("the password shown is not stored: %v", err)
	}
	if p.Name != "Ann's phone" {
		t.Errorf("stored name %q, want it trimmed", p.Name)
	}

	_, list := ann.get(t, "/account/passwords")
	for _, want := range []string{"<h1>App passwords</h1>", html.EscapeString("Ann's phone"), `aria-label="Revoke ` + html.EscapeString("Ann's phone") + `"`, ">Revoke</a>", "never"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %s", want)
		}
	}
	if strings.Contains(list, pw) {
		t.Error("the list shows the password")
	}

	// Bob neither sees nor revokes Ann's password.
	revoke := "/account/passwords/" + strconv.FormatInt(p.ID, 10) + "/revoke"
	if _, body := bob.get(t, "/account/passwords"); strings.Contains(body, "Ann&#39;s phone") || !strings.Contains(body, "No app passwords yet.") {
		t.Error("bob sees ann's app password")
	}
	if resp, _ := bob.post(t, revoke, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob revoking ann's password: %d, want 404", resp.StatusCode)
	}
	if _, err := ts.Store.FindAppPassword(ctx, testLogin, p.Digest); err != nil {
		t.Fatalf("bob's revoke removed it: %v", err)
	}

	resp, _ := ann.post(t, revoke, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/passwords" {
		t.Fatalf("revoke: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := ts.Store.FindAppPassword(ctx, testLogin, p.Digest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked password still found: %v", err)
	}
	_, list = ann.get(t, "/account/passwords")
	if strings.Contains(list, `aria-label="Revoke Ann&#39;s phone"`) || !strings.Contains(list, `role="status"`) {
		t.Errorf("after revoking: still listed, or no notice:\n%s", list)
	}
	for _, path := range []string{revoke, "/account/passwords/x/revoke"} {
		if resp, _ := ann.post(t, path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestAppPasswordName(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	for _, name := range []string{"", "   ", strings.Repeat("é", 101)} {
		resp, body := s.post(t, "/account/passwords", url.Values{"name": {name}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `class="error"`) || !strings.Contains(body, `<label for="device-name">Device name</label>`) {
			t.Errorf("name %q: %d, want 400 with the form and an error", name, resp.StatusCode)
		}
	}
	if list, _ := ts.Store.ListAppPasswords(context.Background(), testLogin); len(list) != 0 {
		t.Errorf("refused names made %d app passwords", len(list))
	}
	createAppPassword(t, s, strings.Repeat("é", 100))
}

func TestRequireAppPasswords(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	for _, on := range []bool{true, false} {
		form := url.Values{}
		if on {
			form.Set("require", "1")
		}
		if resp, _ := s.post(t, "/account/passwords/require", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("require %v: %d", on, resp.StatusCode)
		}
		u, err := ts.Store.GetUser(context.Background(), testLogin)
		if err != nil {
			t.Fatal(err)
		}
		if u.RequireAppPasswords != on {
			t.Errorf("require %v: stored %v", on, u.RequireAppPasswords)
		}
		_, body := s.get(t, "/account/passwords")
		if checked := strings.Contains(body, `type="checkbox" value="1" checked`); checked != on {
			t.Errorf("require %v: checkbox checked %v", on, checked)
		}
	}
}

func TestActivity(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ts.addUser(t, "bob@example.org")
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i, e := range []store.SignIn{
		{Login: testLogin, OK: false, Via: auth.ViaDAV, Addr: "203.0.113.9", Client: "curl/8"},
		{Login: testLogin, OK: true, Via: auth.ViaWeb, Credential: "password", Addr: "198.51.100.7", Client: "Firefox"},
		{Login: testLogin, OK: true, Via: auth.ViaDAV, Credential: "app:Ann's phone", Addr: "198.51.100.7", Client: "DAVx5"},
		{Login: "bob@example.org", OK: true, Via: auth.ViaWeb, Credential: "password", Addr: "192.0.2.66", Client: "bob's browser"},
	} {
		e.Time = base.Add(time.Duration(i) * time.Minute)
		if err := ts.Store.RecordSignIn(ctx, &e, 0, 24*time.Hour); err != nil {
			t.Fatalf("recording sign-in %d: %v", i, err)
		}
	}
	s := ts.signedIn(t, testLogin)
	resp, body := s.get(t, "/account/activity")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Activity</h1>") {
		t.Fatalf("activity: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "192.0.2.66") {
		t.Error("ann sees bob's sign-ins")
	}
	_, tbody, _ := strings.Cut(body, "<tbody>")
	rows := strings.Split(tbody, "<tr")[1:]
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3:\n%s", len(rows), tbody)
	}
	// Newest first: the app password, the web sign-in, the failure.
	for i, want := range [][]string{
		{"Signed in", "device (DAV)", "app password: Ann&#39;s phone", "DAVx5", `<span class="badge">new device</span>`},
		{"Signed in", "web page", "account password", "Firefox", `<span class="badge">new address</span>`, `<span class="badge">new device</span>`},
		{` class="failed"`, "Failed sign-in", "device (DAV)", `<td data-label="Credential">—</td>`, "203.0.113.9", "curl/8"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[i], w) {
				t.Errorf("row %d lacks %s:\n%s", i, w, rows[i])
			}
		}
	}
	if strings.Contains(rows[0], "new address") || strings.Contains(rows[2], "badge") {
		t.Error("badges where the address or device was seen before, or on a failure")
	}
}

// Every form of the account pages refuses a post without the session's
// token, and changes nothing.
func TestAccountFormsNeedCSRF(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	createAppPassword(t, s, "laptop")
	list, _ := ts.Store.ListAppPasswords(ctx, testLogin)
	revoke := "/account/passwords/" + strconv.FormatInt(list[0].ID, 10) + "/revoke"
	for _, token := range []string{"", "not-the-token"} {
		for _, post := range []struct {
			path string
			form url.Values
		}{
			{"/account/passwords", url.Values{"name": {"phone"}}},
			{revoke, url.Values{}},
			{"/account/passwords/require", url.Values{"require": {"1"}}},
		} {
			post.form.Set("csrf", token)
			if resp, _ := s.post(t, post.path, post.form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s with csrf %q: %d, want 403", post.path, token, resp.StatusCode)
			}
		}
	}
	if list, _ := ts.Store.ListAppPasswords(ctx, testLogin); len(list) != 1 || list[0].Name != "laptop" {
		t.Errorf("app passwords changed: %+v", list)
	}
	if u, _ := ts.Store.GetUser(ctx, testLogin); u.RequireAppPasswords {
		t.Error("require switched on without a token")
	}
}

// The activity page names clients as people know them.
func TestActivityNamesClients(t *testing.T) {
	ts := newTestServer(t)
	const ua = "DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14"
	e := &store.SignIn{Login: testLogin, Time: time.Now(), OK: true, Via: "dav", Credential: "password", Addr: "192.0.2.1", Client: ua}
	if err := ts.Store.RecordSignIn(context.Background(), e, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, body := ts.signedIn(t, testLogin).get(t, "/account/activity")
	if !strings.Contains(body, `<span class="client-name">DAVx5 4.4 on Android 14</span>`) {
		t.Errorf("activity page does not name the client:\n%s", body)
	}
}

// A form field that is not UTF-8, or holds NUL, changes nothing (on either
// store: PostgreSQL would refuse the text).
func TestFormTextNotUTF8(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	for _, name := range []string{"caf\xe9", "a\x00b"} {
		resp, body := s.post(t, "/account/passwords", url.Values{"name": {name}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not UTF-8") {
			t.Errorf("name %q: %d, want 400 naming the fault\n%s", name, resp.StatusCode, body)
		}
	}
	if list, _ := ts.Store.ListAppPasswords(context.Background(), testLogin); len(list) != 0 {
		t.Errorf("refused names made %d app passwords", len(list))
	}
}
