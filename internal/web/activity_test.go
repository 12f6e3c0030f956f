package web

import (
	"context"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

func TestFormatWhen(t *testing.T) {
	winter := time.Date(2026, 1, 15, 13, 3, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 15, 12, 3, 0, 0, time.UTC)
	for _, tc := range []struct {
		zone string
		t    time.Time
		want string
	}{
		{"UTC", winter, "15 Jan 2026, 13:03 UTC"},
		{"Europe/Berlin", winter, "15 Jan 2026, 14:03 CET"},
		{"Europe/Berlin", summer, "15 Jul 2026, 14:03 CEST"},
		{"America/New_York", winter, "15 Jan 2026, 08:03 EST"},
		{"Asia/Tokyo", winter, "15 Jan 2026, 22:03 JST"},
		// Zones without an abbreviation are named by their offset.
		{"Europe/Istanbul", winter, "15 Jan 2026, 16:03 UTC+3"},
		{"Asia/Kathmandu", winter, "15 Jan 2026, 18:48 UTC+5:45"},
		{"America/Sao_Paulo", winter, "15 Jan 2026, 10:03 UTC-3"},
		{"Europe/Berlin", time.Time{}, "never"},
	} {
		loc, err := loadZone(tc.zone)
		if err != nil {
			t.Fatalf("loadZone(%q): %v", tc.zone, err)
		}
		if got := formatWhen(tc.t, loc); got != tc.want {
			t.Errorf("formatWhen(%v, %s) = %q, want %q", tc.t, tc.zone, got, tc.want)
		}
	}
}

// recordSignIn stores a sign-in of login at t from client.
func recordSignIn(t *testing.T, ts *testServer, login string, at time.Time, client string) {
	t.Helper()
	e := &store.SignIn{Login: login, Time: at, OK: true, Via: auth.ViaDAV, Credential: "password", Addr: "192.0.2.1", Client: client}
	// Kept for years: the test's sign-ins are months apart.
	if err := ts.Store.RecordSignIn(context.Background(), e, 0, 10*365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
}

// A user who chose Europe/Berlin sees the activity page's times there,
// CET in winter and CEST in summer, with the instant in UTC for scripts;
// one who chose nothing sees UTC, named, and the page says no zone is
// chosen (so that app.js shows the browser's).
func TestActivityTimesInUserZone(t *testing.T) {
	ts := newTestServer(t)
	recordSignIn(t, ts, testLogin, time.Date(2026, 1, 15, 13, 3, 0, 0, time.UTC), "DAVx5/4.5.3-ose (dav4jvm; okhttp/4.12.0) Android/14")
	recordSignIn(t, ts, testLogin, time.Date(2026, 7, 15, 12, 3, 0, 0, time.UTC), "vdirsyncer/0.19.0")
	for _, tc := range []struct {
		zone string
		want []string
	}{
		{"Europe/Berlin", []string{`<html lang="en" data-zone="Europe/Berlin">`,
			`<time datetime="2026-01-15T13:03:00Z">15 Jan 2026, 14:03 CET</time>`,
			`<time datetime="2026-07-15T12:03:00Z">15 Jul 2026, 14:03 CEST</time>`}},
		{"", []string{`<html lang="en">`,
			`<time datetime="2026-01-15T13:03:00Z">15 Jan 2026, 13:03 UTC</time>`,
			`<time datetime="2026-07-15T12:03:00Z">15 Jul 2026, 12:03 UTC</time>`}},
		// A zone this server does not know (any more): UTC, as if none.
		{"Mars/Olympus", []string{`<html lang="en">`, `15 Jan 2026, 13:03 UTC`}},
	} {
		c := &call{User: &store.User{Login: testLogin, TimeZone: tc.zone}, Session: &store.Session{CSRF: "token"}}
		w := httptest.NewRecorder()
		ts.Server.activity(w, httptest.NewRequest(http.MethodGet, "/account/activity", nil), c)
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("zone %q: %d\n%s", tc.zone, w.Code, body)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("zone %q: the page lacks %s", tc.zone, want)
			}
		}
	}
}

// Every time on every page goes through "when" inside <time datetime>
// with "iso" of the same value: written in the user's zone, and shown in
// the browser's by app.js when they chose none.
func TestTemplatesWriteTimesOneWay(t *testing.T) {
	when := regexp.MustCompile(`\{\{when ([^}]+)\}\}`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(templateFS, f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, m := range when.FindAllStringSubmatchIndex(src, -1) {
			arg := src[m[2]:m[3]]
			if want := `<time datetime="{{iso ` + arg + `}}">`; !strings.HasSuffix(src[:m[0]], want) {
				t.Errorf("%s: {{when %s}} is not inside %s…</time>", f, arg, want)
			}
		}
		if strings.Contains(src, ".Format") || strings.Contains(src, ".Local") {
			t.Errorf("%s formats a time itself", f)
		}
	}
}

// The time zone setting takes IANA names, and an empty one (the
// browser's zone); anything else is refused with a 400 that says what a
// zone name looks like, and changes nothing.
func TestTimeZoneSetting(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	recordSignIn(t, ts, testLogin, time.Date(2026, 1, 15, 13, 3, 0, 0, time.UTC), "Evolution/3.54.1")
	s := ts.signedIn(t, testLogin)

	_, body := s.get(t, "/account/activity")
	for _, want := range []string{`<form method="post" action="/account/timezone"`, `<label for="zone">Time zone</label>`,
		`name="zone" type="text" list="zone-names" value=""`, "You have not chosen a time zone"} {
		if !strings.Contains(body, want) {
			t.Errorf("the activity page lacks %s", want)
		}
	}

	resp, _ := s.post(t, "/account/timezone", url.Values{"zone": {" Europe/Berlin "}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/activity#time-zone" {
		t.Fatalf("saving Europe/Berlin: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if u, err := ts.Store.GetUser(ctx, testLogin); err != nil || u.TimeZone != "Europe/Berlin" {
		t.Fatalf("stored time zone: %+v %v (the store must keep User.TimeZone: migration 0015)", u, err)
	}
	_, body = s.get(t, "/account/activity")
	for _, want := range []string{"Times are now shown in Europe/Berlin.", "15 Jan 2026, 14:03 CET", `value="Europe/Berlin"`,
		"Times on these pages are in <strong>Europe/Berlin</strong>"} {
		if !strings.Contains(body, want) {
			t.Errorf("after saving, the activity page lacks %s", want)
		}
	}

	for _, bad := range []string{"Mars/Olympus", "Local", "europe/berlin", "../../etc/passwd", "/etc/localtime",
		"Europe/Berlin<script>", strings.Repeat("A", 200)} {
		resp, body := s.post(t, "/account/timezone", url.Values{"zone": {bad}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) ||
			!strings.Contains(body, "Europe/Berlin") {
			t.Errorf("zone %q: %d, want 400 with an example of a name\n%s", bad, resp.StatusCode, body)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("zone %q is echoed unescaped", bad)
		}
		if u, _ := ts.Store.GetUser(ctx, testLogin); u.TimeZone != "Europe/Berlin" {
			t.Errorf("zone %q changed the setting to %q", bad, u.TimeZone)
		}
	}

	if resp, _ := s.post(t, "/account/timezone", url.Values{"zone": {"UTC"}, "csrf": {"not-the-token"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the form token: %d, want 403", resp.StatusCode)
	}

	resp, _ = s.post(t, "/account/timezone", url.Values{"zone": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clearing the zone: %d", resp.StatusCode)
	}
	if u, _ := ts.Store.GetUser(ctx, testLogin); u.TimeZone != "" {
		t.Errorf("after clearing, the stored zone is %q", u.TimeZone)
	}
	_, body = s.get(t, "/account/activity")
	if !strings.Contains(body, "Times are now shown in your browser&#39;s time zone.") || !strings.Contains(body, "15 Jan 2026, 13:03 UTC") {
		t.Errorf("after clearing, the page is not in UTC for the browser to convert:\n%s", body)
	}
}

// Each sign-in names its client as people know it, and offers the header
// it sent in a disclosure that keyboards and touch reach (a title does
// not).
func TestActivityRawClientOnDemand(t *testing.T) {
	ts := newTestServer(t)
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Thunderbird/140.3.0"
	recordSignIn(t, ts, testLogin, time.Now(), ua)
	recordSignIn(t, ts, testLogin, time.Now().Add(time.Second), "")
	_, body := ts.signedIn(t, testLogin).get(t, "/account/activity")
	want := `<span class="client-name">Thunderbird 140 on Windows</span>
      <details class="raw-client"><summary>Show what the device sent</summary><code>` + ua + `</code></details>`
	if !strings.Contains(body, want) {
		t.Errorf("the activity page lacks\n%s\nin\n%s", want, body)
	}
	if strings.Count(body, "<details") != 1 {
		t.Errorf("%d disclosures, want 1 (none for a sign-in that sent no header)", strings.Count(body, "<details"))
	}
	if !strings.Contains(body, `<span class="client-name">an unknown client</span>`) {
		t.Error("a sign-in without a header is not named an unknown client")
	}
}

// Pages rendered at once for users in more zones than keep their own
// templates each show their own zone's times.
func TestPagesInManyZonesAtOnce(t *testing.T) {
	ts := newTestServer(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	recordSignIn(t, ts, testLogin, at, "vdirsyncer/0.19.0")
	var zones []string
	for h := 1; h <= 12; h++ {
		zones = append(zones, "Etc/GMT+"+strconv.Itoa(h), "Etc/GMT-"+strconv.Itoa(h))
	}
	zones = append(zones, "Europe/Berlin", "Europe/London", "America/New_York", "Asia/Tokyo", "Asia/Kolkata",
		"Australia/Sydney", "America/Sao_Paulo", "Africa/Nairobi", "Asia/Kathmandu", "Pacific/Auckland", "")
	if len(zones) <= maxZonedSets {
		t.Fatalf("only %d zones, want more than %d", len(zones), maxZonedSets)
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, zone := range zones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &call{User: &store.User{Login: testLogin, TimeZone: zone}, Session: &store.Session{CSRF: "token"}}
				w := httptest.NewRecorder()
				ts.Server.activity(w, httptest.NewRequest(http.MethodGet, "/account/activity", nil), c)
				loc, _ := userZone(c.User)
				if want := ">" + formatWhen(at, loc) + "</time>"; !strings.Contains(html.UnescapeString(w.Body.String()), want) {
					t.Errorf("round %d, zone %q: the page lacks %s", round, zone, want)
				}
			}()
		}
	}
	wg.Wait()
}

// The devices page names each device that gets push messages, and offers
// what it sent on demand, as the activity page does.
func TestPushDevicesRawClientOnDemand(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, func(c *Config) { c.Push = true })
	if _, err := ts.Store.PushKey(ctx, func() (store.PushKey, error) {
		return store.PushKey{Private: "private", Public: "public"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	book := &store.Collection{Owner: testLogin, Kind: store.KindCard, Name: "people", DisplayName: "People"}
	if err := ts.Store.CreateCollection(ctx, book); err != nil {
		t.Fatal(err)
	}
	const ua = "DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/14"
	if _, err := ts.Store.RegisterPush(ctx, &store.PushRegistration{Login: testLogin, Collection: book.ID,
		Resource: "https://push.example.net/people", PublicKey: "key", AuthSecret: "auth", Content: true,
		Client: ua, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, body := ts.signedIn(t, testLogin).get(t, "/account/devices")
	want := `<span class="client-name">DAVx5 4.5 on Android 14</span>
      <details class="raw-client"><summary>Show what the device sent</summary><code>` + ua + `</code></details>`
	if !strings.Contains(body, want) {
		t.Errorf("the devices page lacks\n%s\nin\n%s", want, body)
	}
}

// The app passwords list names the client that last used each password,
// with what it sent on demand, as the activity page does (a title is
// reachable neither by keyboard nor by touch).
func TestPasswordsRawClientOnDemand(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	p := &store.AppPassword{Owner: testLogin, Name: "Anna's phone", Digest: "d1"}
	if err := ts.Store.CreateAppPassword(ctx, p); err != nil {
		t.Fatal(err)
	}
	const ua = "DAVx5/4.5.3-ose (dav4jvm; okhttp/4.12.0) Android/14"
	e := &store.SignIn{Login: testLogin, Time: time.Now(), OK: true, Via: auth.ViaDAV, Credential: "app:Anna's phone", Addr: "192.0.2.1", Client: ua}
	if err := ts.Store.RecordSignIn(ctx, e, p.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	_, body := ts.signedIn(t, testLogin).get(t, "/account/passwords")
	want := `<details class="raw-client"><summary>Show what the device sent</summary><code>` + ua + `</code></details>`
	if !strings.Contains(body, "DAVx5 4.5 on Android 14") || !strings.Contains(body, want) {
		t.Errorf("the app passwords page lacks the client's name or\n%s\nin\n%s", want, body)
	}
	if strings.Contains(body, `title="`+ua) {
		t.Error("the raw header is still only in a title")
	}
}
