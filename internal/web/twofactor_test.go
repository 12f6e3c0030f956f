package web

import (
	"context"
	"encoding/base64"
	"errors"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

// testClock is a settable clock shared by the pages and the Authenticator,
// so that tests move to the next TOTP step without waiting. It starts now:
// the store keeps sessions by the real clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTFAServer is newTestServer on clock, with an Authenticator that
// throttles as by default but does not sleep.
func newTFAServer(t *testing.T, clock *testClock) *testServer {
	return newTestServer(t, func(c *Config) {
		c.Now = clock.Now
		c.Auth = auth.NewAuthenticator(c.Store.(auth.UserSource), auth.Options{Now: clock.Now, Params: cheapParams,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	})
}

// newBrowser is a client with a cookie jar that does not follow
// redirects, signed in to nothing yet.
func newBrowser(t *testing.T, ts *testServer) *testSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testSession{base: ts.URL,
		Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// cookie is the value of the browser's session cookie ("" if none).
func (s *testSession) cookie(ts *testServer) string {
	u, _ := url.Parse(s.base)
	for _, c := range s.Client.Jar.Cookies(u) {
		if c.Name == ts.Server.sessionCookie() {
			return c.Value
		}
	}
	return ""
}

// formToken loads path and returns its form token.
func formToken(t *testing.T, s *testSession, path string) string {
	t.Helper()
	resp, body := s.get(t, path)
	m := tokenField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %d, no form token\n%s", path, resp.StatusCode, body)
	}
	return m[1]
}

// passwordStep signs in with the password, asking to go to next.
func passwordStep(t *testing.T, ts *testServer, s *testSession, next string) *http.Response {
	t.Helper()
	token := formToken(t, s, "/account/signin")
	resp, _ := s.post(t, "/account/signin", url.Values{"csrf": {token}, "login": {testLogin}, "password": {testPassword}, "next": {next}})
	return resp
}

// codeStep submits code on the code form.
func codeStep(t *testing.T, s *testSession, code string) (*http.Response, string) {
	t.Helper()
	token := formToken(t, s, "/account/signin/code?next=/account/activity")
	return s.post(t, "/account/signin/code", url.Values{"csrf": {token}, "code": {code}, "next": {"/account/activity"}})
}

var (
	secretRE = regexp.MustCompile(`<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>`)
	codesRE  = regexp.MustCompile(`<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>`)
	qrRE     = regexp.MustCompile(`<img class="qr" src="([^"]+)" alt="QR code to scan with your authenticator app"`)
)

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enableTOTP turns two-factor on through the pages and returns the
// secret read off the setup page, the emergency codes and the answer
// that showed them.
func enableTOTP(t *testing.T, s *testSession, clock *testClock) (secret string, codes []string, confirm url.Values) {
	t.Helper()
	resp, _ := s.post(t, "/account/security/totp", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/security/totp" {
		t.Fatalf("turn on: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := s.get(t, "/account/security/totp")
	m := secretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("setup page: %d, no secret\n%s", resp.StatusCode, body)
	}
	secret = strings.ReplaceAll(m[1], " ", "")
	if q := qrRE.FindStringSubmatch(body); q == nil {
		t.Errorf("setup page has no QR code named for the app:\n%s", body)
	} else if svg, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(html.UnescapeString(q[1]), "data:image/svg+xml;base64,")); err != nil {
		t.Error(err)
	} else if got := readQR(t, string(svg)); !strings.HasPrefix(got, "otpauth://totp/rolodav:ann@example.org?") || !strings.Contains(got, "secret="+secret) {
		t.Errorf("QR code says %q", got)
	}

	// A wrong first code leaves it off.
	resp, body = s.post(t, "/account/security/totp/confirm", url.Values{"code": {"12345"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not match") || !strings.Contains(body, secretRE.FindString(body)) {
		t.Fatalf("wrong first code: %d\n%s", resp.StatusCode, body)
	}
	confirm = url.Values{"csrf": {s.CSRF}, "code": {codeAt(t, secret, clock.Now())}}
	resp, body = s.post(t, "/account/security/totp/confirm", confirm)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Your emergency codes</h1>") {
		t.Fatalf("confirm: %d\n%s", resp.StatusCode, body)
	}
	for _, m := range codesRE.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != auth.EmergencyCodes {
		t.Fatalf("%d emergency codes shown\n%s", len(codes), body)
	}
	// Downloadable without JavaScript: a data URL holding every code.
	dl := regexp.MustCompile(`<a class="button" href="data:text/plain;charset=utf-8,([^"]+)" download="rolodav-emergency-codes.txt">Download the codes</a>`).FindStringSubmatch(body)
	if dl == nil {
		t.Fatalf("no download link\n%s", body)
	}
	text, err := url.PathUnescape(html.UnescapeString(dl[1]))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(text, "\n"+c+"\n") {
			t.Errorf("download lacks %s:\n%s", c, text)
		}
	}
	if !strings.Contains(body, "now need an app password") || !strings.Contains(body, `href="/account/passwords"`) {
		t.Errorf("the codes page does not say devices need app passwords\n%s", body)
	}
	return secret, codes, confirm
}

// TestTwoFactorSignIn: set up on the pages, then a sign-in needs the
// password and a code, each code once; the password alone opens nothing.
func TestTwoFactorSignIn(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	s := ts.signedIn(t, testLogin)
	secret, _, _ := enableTOTP(t, s, clock)
	_, body := s.get(t, "/account/security")
	if !strings.Contains(body, `<span class="badge ok">On</span>`) || !strings.Contains(body, `<strong id="codes-left">10</strong> of 10`) {
		t.Errorf("security page after turning on:\n%s", body)
	}
	_, body = s.get(t, "/account/passwords")
	if !strings.Contains(body, "Two-factor sign-in is on, so devices must use an app password") {
		t.Errorf("the app passwords page does not say devices need them")
	}

	b := newBrowser(t, ts)
	resp := passwordStep(t, ts, b, "/account/activity")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/signin/code?next=%2Faccount%2Factivity" {
		t.Fatalf("password step: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	partial := b.cookie(ts)
	if partial == "" {
		t.Fatal("no cookie after the password step")
	}
	// The partial session opens no page and passes no form.
	for _, p := range []string{"/account/devices", "/account/passwords", "/account/security"} {
		if resp, _ := b.get(t, p); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/signin?") {
			t.Errorf("GET %s with the password alone: %d to %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	sess, err := ts.Store.GetSession(context.Background(), sessionID(partial))
	if err != nil || !sess.Partial || sess.Expires.Sub(clock.Now()) > partialIdle {
		t.Fatalf("partial session %+v %v", sess, err)
	}
	if resp, _ := b.post(t, "/account/passwords", url.Values{"csrf": {sess.CSRF}, "name": {"phone"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("creating an app password with the password alone: %d", resp.StatusCode)
	}
	// Not even the sign-in page counts it as signed in.
	if resp, body := b.get(t, "/account/signin"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>Sign in</h1>") {
		t.Errorf("sign-in page with a partial session: %d", resp.StatusCode)
	}

	if codeAt(t, secret, clock.Now()) == "000000" {
		t.Skip("the right code happens to be 000000")
	}
	resp, body = codeStep(t, b, "000000")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, html.EscapeString(msgWrongCode)) {
		t.Fatalf("wrong code: %d\n%s", resp.StatusCode, body)
	}
	// The code used to turn it on is spent: its step is used.
	resp, body = codeStep(t, b, codeAt(t, secret, clock.Now()))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, msgCodeUsed) {
		t.Fatalf("the setup code again: %d\n%s", resp.StatusCode, body)
	}
	clock.Advance(30 * time.Second)
	code := codeAt(t, secret, clock.Now())
	resp, _ = codeStep(t, b, code[:3]+" "+code[3:])
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/activity" {
		t.Fatalf("right code: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	full := b.cookie(ts)
	if full == "" || full == partial {
		t.Fatal("the sign-in kept the partial session's cookie")
	}
	if _, err := ts.Store.GetSession(context.Background(), sessionID(partial)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the partial session is left: %v", err)
	}
	if resp, _ := b.get(t, "/account/devices"); resp.StatusCode != http.StatusOK {
		t.Fatalf("devices after the code: %d", resp.StatusCode)
	}
	// The activity shows one sign-in with the password and the wrong code,
	// not the password step.
	list, _ := ts.Store.ListSignIns(context.Background(), testLogin, 0)
	if len(list) != 3 || !list[0].OK || list[1].OK || list[1].Credential != "code" || list[2].OK {
		t.Errorf("activity: %+v", list)
	}
	if _, body := b.get(t, "/account/activity"); !strings.Contains(body, "right password, wrong two-factor code") {
		t.Errorf("the activity page does not tell a wrong code from a wrong password")
	}

	// Another browser replays the code within its window: refused.
	b2 := newBrowser(t, ts)
	passwordStep(t, ts, b2, "")
	resp, body = codeStep(t, b2, code)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, msgCodeUsed) {
		t.Fatalf("replayed code: %d\n%s", resp.StatusCode, body)
	}
}

func TestTwoFactorEmergencyCode(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	_, codes, _ := enableTOTP(t, ts.signedIn(t, testLogin), clock)
	b := newBrowser(t, ts)
	passwordStep(t, ts, b, "")
	resp, _ := codeStep(t, b, strings.ToUpper(codes[4]))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("emergency code: %d", resp.StatusCode)
	}
	if resp, body := b.get(t, resp.Header.Get("Location")); resp.StatusCode != http.StatusOK || !strings.Contains(body, "You used an emergency code; 9 left.") {
		t.Errorf("after an emergency code: %d\n%s", resp.StatusCode, body)
	}
	b2 := newBrowser(t, ts)
	passwordStep(t, ts, b2, "")
	if resp, body := codeStep(t, b2, codes[4]); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, html.EscapeString(msgWrongCode)) {
		t.Fatalf("emergency code used twice: %d\n%s", resp.StatusCode, body)
	}
}

// TestTwoFactorThrottled: after LockAfter wrong codes even the right one
// is refused, with a readable wait.
func TestTwoFactorThrottled(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	secret, codes, _ := enableTOTP(t, ts.signedIn(t, testLogin), clock)
	clock.Advance(30 * time.Second)
	b := newBrowser(t, ts)
	passwordStep(t, ts, b, "")
	wrong := "000000"
	if codeAt(t, secret, clock.Now()) == wrong {
		wrong = "000001"
	}
	for i := range auth.DefaultLockAfter {
		if resp, _ := codeStep(t, b, wrong); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, resp.StatusCode)
		}
	}
	for _, c := range []string{codeAt(t, secret, clock.Now()), codes[0]} {
		resp, body := codeStep(t, b, c)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, "Too many wrong codes. Try again in 15 minutes.") {
			t.Fatalf("right code while locked: %d, Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
}

// TestTwoFactorPartialExpires: the code must come within partialIdle.
func TestTwoFactorPartialExpires(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	secret, _, _ := enableTOTP(t, ts.signedIn(t, testLogin), clock)
	b := newBrowser(t, ts)
	passwordStep(t, ts, b, "")
	token := formToken(t, b, "/account/signin/code")
	clock.Advance(partialIdle + time.Second)
	if resp, _ := b.get(t, "/account/signin/code"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/signin?") {
		t.Errorf("code form after %v: %d to %q", partialIdle, resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.post(t, "/account/signin/code", url.Values{"csrf": {token}, "code": {codeAt(t, secret, clock.Now())}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Your sign-in ended") {
		t.Errorf("code after %v: %d\n%s", partialIdle, resp.StatusCode, body)
	}
}

// TestTwoFactorCodesShownOnce: posting the confirmation again (a reload)
// neither shows the codes again nor makes new ones.
func TestTwoFactorCodesShownOnce(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	s := ts.signedIn(t, testLogin)
	_, codes, confirm := enableTOTP(t, s, clock)
	resp, body := s.post(t, "/account/security/totp/confirm", confirm)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/security" || strings.Contains(body, codes[0]) {
		t.Fatalf("confirming again: %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = s.get(t, "/account/security")
	if !strings.Contains(body, "are not shown again") || codesRE.MatchString(body) {
		t.Errorf("security page after confirming again:\n%s", body)
	}
	if n, _ := ts.Store.EmergencyCodesLeft(context.Background(), testLogin); n != auth.EmergencyCodes {
		t.Errorf("%d codes after confirming again", n)
	}
	// The first codes are still the ones that work.
	if _, err := ts.Store.UseEmergencyCode(context.Background(), testLogin, auth.EmergencyCodeDigest(codes[0])); err != nil {
		t.Errorf("a code shown first: %v", err)
	}
	// Turning on again while on changes nothing either.
	if resp, _ := s.post(t, "/account/security/totp", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/security" {
		t.Errorf("turn on while on: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := s.get(t, "/account/security/totp"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("setup page while on: %d", resp.StatusCode)
	}
}

// TestTwoFactorTurnOff: turning off needs a valid code; a stolen session
// alone cannot.
func TestTwoFactorTurnOff(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	s := ts.signedIn(t, testLogin)
	secret, codes, _ := enableTOTP(t, s, clock)
	for _, c := range []string{"", "000000", "aaaa-bbbb-cccc", codeAt(t, secret, clock.Now())} {
		resp, body := s.post(t, "/account/security/totp/disable", url.Values{"code": {c}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `<span class="badge ok">On</span>`) {
			t.Errorf("turn off with %q: %d\n%s", c, resp.StatusCode, body)
		}
	}
	if u, _ := ts.Store.GetUser(context.Background(), testLogin); !u.TwoFactor {
		t.Fatal("turned off without a valid code")
	}
	resp, _ := s.post(t, "/account/security/totp/disable", url.Values{"code": {codes[1]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/security" {
		t.Fatalf("turn off with an emergency code: %d", resp.StatusCode)
	}
	_, body := s.get(t, "/account/security")
	if !strings.Contains(body, "Two-factor sign-in is off: your password alone signs you in") || !strings.Contains(body, `<span class="badge">Off</span>`) {
		t.Errorf("security page after turning off:\n%s", body)
	}
	if _, body := s.get(t, "/account/passwords"); strings.Contains(body, "Two-factor sign-in is on") {
		t.Errorf("the app passwords page still says two-factor is on")
	}
	// The password alone signs in again.
	b := newBrowser(t, ts)
	if resp := passwordStep(t, ts, b, "/account/devices"); resp.Header.Get("Location") != "/account/devices" {
		t.Errorf("password after turning off: to %q", resp.Header.Get("Location"))
	}
}

// Turning two-factor on signs out every other browser: a session opened
// with a stolen password must come back through the code.
func TestTwoFactorOnEndsOtherSessions(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTFAServer(t, clock)
	thief := ts.signedIn(t, testLogin)
	s := ts.signedIn(t, testLogin)
	secret, _, _ := enableTOTP(t, s, clock)
	if secret == "" {
		t.Fatal("no secret")
	}
	if resp, _ := thief.get(t, "/account/devices"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session after turning two-factor on: %d, want 303 to sign in", resp.StatusCode)
	}
	if resp, _ := s.get(t, "/account/devices"); resp.StatusCode != http.StatusOK {
		t.Errorf("the session that turned it on: %d", resp.StatusCode)
	}
}

func TestSignOutEverywhereElse(t *testing.T) {
	ts := newTestServer(t)
	others := []*testSession{ts.signedIn(t, testLogin), ts.signedIn(t, testLogin)}
	ts.addUser(t, "bob@example.org")
	bob := ts.signedIn(t, "bob@example.org")
	s := ts.signedIn(t, testLogin)
	resp, _ := s.post(t, "/account/security/sessions/end", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere else: %d", resp.StatusCode)
	}
	if _, body := s.get(t, "/account/security"); !strings.Contains(body, "Signed out 2 other browsers.") {
		t.Errorf("after signing out the others:\n%s", body)
	}
	for i, o := range others {
		if resp, _ := o.get(t, "/account/devices"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("other browser %d: %d, want 303 to sign in", i, resp.StatusCode)
		}
	}
	if resp, _ := bob.get(t, "/account/devices"); resp.StatusCode != http.StatusOK {
		t.Errorf("another user's session ended: %d", resp.StatusCode)
	}
}
