package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
)

// browser is a cookie-less client: tests pass cookies by hand to see
// exactly what the server sets.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var tokenField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signinForm loads the sign-in page and returns its form token and the
// cookie that goes with it.
func signinForm(t *testing.T, ts *testServer) (string, *http.Cookie) {
	t.Helper()
	resp, err := browser.Get(ts.URL + "/account/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := tokenField.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no form token on the sign-in page:\n%s", body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == ts.Server.preCookie() {
			return m[1], c
		}
	}
	t.Fatalf("the sign-in page set no %s cookie", ts.Server.preCookie())
	return "", nil
}

// postSignin submits the sign-in form with extra cookies and headers.
func postSignin(t *testing.T, ts *testServer, form url.Values, cookies []*http.Cookie, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/account/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.MaxAge >= 0 && c.Value != "" {
			return c
		}
	}
	return nil
}

// signIn signs in with password, presenting the given session cookie (if
// any), and returns the answer and the new session cookie.
func signIn(t *testing.T, ts *testServer, password string, old *http.Cookie) (*http.Response, string, *http.Cookie) {
	t.Helper()
	token, pre := signinForm(t, ts)
	cookies := []*http.Cookie{pre}
	if old != nil {
		cookies = append(cookies, old)
	}
	form := url.Values{"csrf": {token}, "login": {testLogin}, "password": {password}, "next": {"/account/passwords"}}
	resp, body := postSignin(t, ts, form, cookies, nil)
	return resp, body, cookieNamed(resp, ts.Server.sessionCookie())
}

func get(t *testing.T, ts *testServer, path string, ck *http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if ck != nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSignInRotatesSession(t *testing.T) {
	ts := newTestServer(t)
	planted := &http.Cookie{Name: ts.Server.sessionCookie(), Value: "planted-by-someone-else"}
	resp, body, first := signIn(t, ts, testPassword, planted)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/passwords" || first == nil {
		t.Fatalf("sign-in: %d to %q, cookie %v\n%s", resp.StatusCode, resp.Header.Get("Location"), first, body)
	}
	if first.Value == planted.Value || !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Secure {
		t.Errorf("session cookie %+v: want a new value, HttpOnly, SameSite=Lax, not Secure over plain HTTP", first)
	}
	if r := get(t, ts, "/account/devices", first); r.StatusCode != http.StatusOK {
		t.Fatalf("devices page with the new session: %d", r.StatusCode)
	}
	_, _, second := signIn(t, ts, testPassword, first)
	if second == nil || second.Value == first.Value {
		t.Fatalf("signing in again kept the session cookie %v", second)
	}
	if r := get(t, ts, "/account/devices", first); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the session replaced at sign-in still works: %d", r.StatusCode)
	}
	if r := get(t, ts, "/account/devices", second); r.StatusCode != http.StatusOK {
		t.Errorf("the new session: %d", r.StatusCode)
	}
}

func TestSignInSecureCookies(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Secure = true })
	_, _, ck := signIn(t, ts, testPassword, nil)
	if ck == nil || ck.Name != "__Host-rolodav_session" || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("session cookie behind TLS: %+v", ck)
	}
}

func TestSignInFailures(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Auth = auth.NewAuthenticator(c.Store.(auth.UserSource), auth.Options{SlowAfter: -1, LockAfter: 2})
	})
	resp, body, ck := signIn(t, ts, "wrong", nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong login or password.") || ck != nil {
		t.Fatalf("wrong password: %d, cookie %v\n%s", resp.StatusCode, ck, body)
	}
	if !strings.Contains(body, `value="`+testLogin+`"`) {
		t.Errorf("the form does not keep the login after a failure")
	}
	entries, err := ts.Store.ListSignIns(context.Background(), testLogin, 10)
	if err != nil || len(entries) != 1 || entries[0].OK || entries[0].Via != auth.ViaWeb {
		t.Fatalf("activity after a failed sign-in: %+v, %v", entries, err)
	}
	signIn(t, ts, "wrong again", nil)
	resp, body, ck = signIn(t, ts, testPassword, nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || ck != nil || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("after the lock: %d, Retry-After %q, cookie %v\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), ck, body)
	}
}

func TestSignInNeedsFormToken(t *testing.T) {
	ts := newTestServer(t)
	token, pre := signinForm(t, ts)
	form := url.Values{"login": {testLogin}, "password": {testPassword}}
	for _, tc := range []struct {
		what    string
		token   string
		cookies []*http.Cookie
		header  http.Header
	}{
		{"no token", "", []*http.Cookie{pre}, nil},
		{"no cookie", token, nil, nil},
		{"another token", "x" + token, []*http.Cookie{pre}, nil},
		{"from another site", token, []*http.Cookie{pre}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"other origin", token, []*http.Cookie{pre}, http.Header{"Origin": {"https://evil.example"}}},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tc.token != "" {
			f.Set("csrf", tc.token)
		}
		resp, _ := postSignin(t, ts, f, tc.cookies, tc.header)
		if resp.StatusCode != http.StatusForbidden || cookieNamed(resp, ts.Server.sessionCookie()) != nil {
			t.Errorf("%s: %d, want 403 and no session", tc.what, resp.StatusCode)
		}
	}
}

func TestSignInNextStaysHere(t *testing.T) {
	ts := newTestServer(t)
	for _, next := range []string{"//evil.example/account/", "https://evil.example/", "/dav/", "/account/\\evil"} {
		token, pre := signinForm(t, ts)
		form := url.Values{"csrf": {token}, "login": {testLogin}, "password": {testPassword}, "next": {next}}
		resp, _ := postSignin(t, ts, form, []*http.Cookie{pre}, nil)
		if loc := resp.Header.Get("Location"); loc != "/account/" {
			t.Errorf("next=%q sent the browser to %q", next, loc)
		}
	}
}

func TestSignOut(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	if resp, _ := s.post(t, "/account/signout", url.Values{"csrf": {""}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without the form token: %d", resp.StatusCode)
	}
	if resp, _ := s.post(t, "/account/signout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if r := get(t, ts, "/account/devices", s.Cookie); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/account/signin") {
		t.Errorf("after sign-out the session still opens pages: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestSessionUseMovesCookieExpiry(t *testing.T) {
	clock := time.Now()
	ts := newTestServer(t, func(c *Config) { c.Now = func() time.Time { return clock } })
	_, _, ck := signIn(t, ts, testPassword, nil)
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if r := get(t, ts, "/account/devices", ck); cookieNamed(r, ts.Server.sessionCookie()) != nil {
		t.Errorf("a page view right after sign-in sent the cookie again")
	}
	clock = clock.Add(3 * 24 * time.Hour)
	r := get(t, ts, "/account/devices", ck)
	again := cookieNamed(r, ts.Server.sessionCookie())
	if r.StatusCode != http.StatusOK || again == nil || again.Value != ck.Value || !again.Expires.After(ck.Expires.Add(2*24*time.Hour)) {
		t.Fatalf("a page view three days later: %d, cookie %+v (first expiry %v)", r.StatusCode, again, ck.Expires)
	}
}
