package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// signedInAgo is signedIn with a session that began ago: a browser left
// signed in (or a cookie stolen from one).
func (ts *testServer) signedInAgo(t *testing.T, login string, ago time.Duration) *testSession {
	t.Helper()
	value := randomToken()
	now := time.Now()
	sess := &store.Session{ID: sessionID(value), Owner: login, CSRF: randomToken(),
		Created: now.Add(-ago), LastSeen: now, Expires: now.Add(time.Hour), Addr: "127.0.0.1", Client: "test"}
	if err := ts.Store.CreateSession(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(ts.URL)
	ck := &http.Cookie{Name: ts.Server.sessionCookie(), Value: value, Path: "/"}
	jar.SetCookies(u, []*http.Cookie{ck})
	return &testSession{Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		Cookie: ck, CSRF: sess.CSRF, base: ts.URL}
}

func appPasswords(t *testing.T, ts *testServer) int {
	t.Helper()
	list, err := ts.Store.ListAppPasswords(context.Background(), testLogin)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// A session that signed in long ago cannot make an app password until
// the password is typed again; then it can.
func TestOldSessionConfirmsBeforeAppPassword(t *testing.T) {
	ts := newTestServer(t)
	old := ts.signedInAgo(t, testLogin, time.Hour)
	resp, body := old.post(t, "/account/passwords", url.Values{"name": {"Phone"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Confirm it") || !strings.Contains(body, `name="next" value="/account/passwords"`) {
		t.Fatalf("app password from an old session: %d\n%s", resp.StatusCode, body)
	}
	if n := appPasswords(t, ts); n != 0 {
		t.Fatalf("%d app passwords made without confirming", n)
	}
	resp, body = old.post(t, "/account/confirm", url.Values{"password": {"not it"}, "next": {"/account/passwords"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not your password") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = old.post(t, "/account/confirm", url.Values{"password": {testPassword}, "next": {"/account/passwords"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/passwords" {
		t.Fatalf("confirm: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The confirmation started a new session, with a new form token.
	resp, body = old.get(t, "/account/passwords")
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("after confirming: %d\n%s", resp.StatusCode, body)
	}
	old.CSRF = m[1]
	if resp, body := old.post(t, "/account/passwords", url.Values{"name": {"Phone"}}); resp.StatusCode != http.StatusSeeOther || appPasswords(t, ts) != 1 {
		t.Fatalf("app password after confirming: %d\n%s", resp.StatusCode, body)
	}
}

// Turning two-factor on and turning security mails off need a recent
// sign-in too; changing only the language does not.
func TestOldSessionConfirmsBeforeSecurityChanges(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MailEnabled = true })
	old := ts.signedInAgo(t, testLogin, time.Hour)
	if resp, body := old.post(t, "/account/security/totp", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Confirm it") {
		t.Errorf("two-factor from an old session: %d", resp.StatusCode)
	}
	if _, err := ts.Store.GetTOTP(context.Background(), testLogin); err == nil {
		t.Error("a setup was started without confirming")
	}
	all := url.Values{"on": {"new-sign-in", "failed-sign-ins", "two-factor", "app-password", "password", "migration"}}
	lang := url.Values{"on": all["on"], "language": {"fr"}}
	if resp, _ := old.post(t, "/account/security/mails", lang); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("language only: %d", resp.StatusCode)
	}
	if resp, _ := old.post(t, "/account/security/mails", url.Values{"on": {"password"}, "language": {"fr"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("turning mails off from an old session: %d", resp.StatusCode)
	}
	u, _ := ts.Store.GetUser(context.Background(), testLogin)
	if u.Language != "fr" || len(u.MailOff) != 0 {
		t.Errorf("settings: language %q, off %v", u.Language, u.MailOff)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// With two-factor on, confirming takes the code as well.
func TestConfirmWithTwoFactorAsksForCode(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	enableTOTP(t, ts.signedIn(t, testLogin), clock)
	old := ts.signedInAgo(t, testLogin, time.Hour)
	resp, _ := old.post(t, "/account/confirm", url.Values{"password": {testPassword}, "next": {"/account/passwords"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/signin/code?next=%2Faccount%2Fpasswords") {
		t.Fatalf("confirm with two-factor: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The password alone opened nothing.
	if resp, _ := old.get(t, "/account/passwords"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the password step: %d, want 303 to sign in", resp.StatusCode)
	}
}

// A setup begun by a recent session and left: an old session may neither
// read its secret nor confirm it.
func TestOldSessionCannotFinishTwoFactorSetup(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	if resp, _ := ts.signedIn(t, testLogin).post(t, "/account/security/totp", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("starting the setup: %d", resp.StatusCode)
	}
	k, err := ts.Store.GetTOTP(context.Background(), testLogin)
	if err != nil || !k.Pending {
		t.Fatalf("pending secret: %+v %v", k, err)
	}
	old := ts.signedInAgo(t, testLogin, time.Hour)
	resp, body := old.get(t, "/account/security/totp")
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, k.Secret[:8]) {
		t.Errorf("setup page to an old session: %d, secret shown %v", resp.StatusCode, strings.Contains(body, k.Secret[:8]))
	}
	code := codeAt(t, k.Secret, clock.Now())
	if resp, _ := old.post(t, "/account/security/totp/confirm", url.Values{"code": {code}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("confirming from an old session: %d", resp.StatusCode)
	}
	if u, _ := ts.Store.GetUser(context.Background(), testLogin); u.TwoFactor {
		t.Error("an old session turned two-factor on")
	}
}

// A password checked while two-factor was being turned on (the user read
// before) does not open a full session: the code is asked.
func TestPasswordCheckedAsTwoFactorTurnsOn(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	stale, err := ts.Store.GetUser(context.Background(), testLogin)
	if err != nil {
		t.Fatal(err)
	}
	enableTOTP(t, ts.signedIn(t, testLogin), clock)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/account/signin", nil)
	if err := ts.Server.afterPassword(rec, req, stale, "/account/devices"); err != nil {
		t.Fatal(err)
	}
	if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, "/account/signin/code") {
		t.Fatalf("sent to %q, want the code form", loc)
	}
	var last *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == ts.Server.sessionCookie() {
			last = ck
		}
	}
	sess, err := ts.Store.GetSession(context.Background(), sessionID(last.Value))
	if err != nil || !sess.Partial {
		t.Fatalf("the session the browser keeps: %+v, %v; want a partial one", sess, err)
	}
}

func TestNextPathStaysUnderAccount(t *testing.T) {
	s := New(Config{})
	for next, want := range map[string]string{
		"/account/passwords":      "/account/passwords",
		"/account/../dav/":        "/account/",
		"/account/x/../../etc":    "/account/",
		"//evil.example/account/": "/account/",
		"https://evil.example/":   "/account/",
		"/account/\\evil":         "/account/",
	} {
		if got := s.nextPath(next); got != want {
			t.Errorf("nextPath(%q) = %q, want %q", next, got, want)
		}
	}
}
