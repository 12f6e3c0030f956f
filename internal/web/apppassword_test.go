package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAppPasswordCreatedOnce: creating an app password answers with a
// redirect (post/redirect/get); the page it leads to shows the password
// once; reloading it creates nothing and shows it no more.
func TestAppPasswordCreatedOnce(t *testing.T) {
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	resp, _ := s.post(t, "/account/passwords", url.Values{"name": {"Anna's phone"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/passwords/created" {
		t.Fatalf("create: %d to %q, want 303 to /account/passwords/created", resp.StatusCode, resp.Header.Get("Location"))
	}
	var held *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == ts.Server.newPasswordCookieName() {
			held = ck
		}
	}
	if held == nil {
		t.Fatalf("no cookie holds the new password: %v", resp.Header["Set-Cookie"])
	}
	if !held.HttpOnly || held.Path != "/account/passwords/created" || held.MaxAge != 60 || held.Secure {
		t.Errorf("cookie %+v: want HttpOnly, the created page's path, 60 s, not Secure over plain HTTP", held)
	}

	resp, body := s.get(t, "/account/passwords/created")
	m := newPasswordRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the page after the redirect: %d %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	pw := m[1]
	if strings.Contains(held.Value, pw) || strings.Contains(held.Value, strings.ReplaceAll(pw, "-", "")) {
		t.Error("the cookie holds the password in plain text")
	}
	if !strings.Contains(body, html.EscapeString("Anna's phone")) {
		t.Error("the page does not name the device")
	}

	// A reload: no password, nothing created, the list with a word.
	resp, body = s.get(t, "/account/passwords/created")
	if strings.Contains(body, pw) || newPasswordRE.MatchString(body) {
		t.Fatal("a reload shows the password again")
	}
	if resp.StatusCode == http.StatusSeeOther {
		resp, body = s.get(t, resp.Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>App passwords</h1>") ||
		!strings.Contains(body, "The new app password was shown once and is not kept: if you did not copy it, revoke it and create another.") {
		t.Errorf("after the reload: %d\n%s", resp.StatusCode, body)
	}
	if n := appPasswords(t, ts); n != 1 {
		t.Errorf("the store holds %d app passwords, want 1", n)
	}

	// The cookie opens only in its own session, and only for 60 s.
	other := ts.signedIn(t, testLogin)
	for name, at := range map[string]*testSession{"another session": other, "later": s} {
		if name == "later" {
			ts.Server.cfg.Now = func() time.Time { return time.Now().Add(61 * time.Second) }
		}
		u, _ := url.Parse(ts.URL + "/account/passwords/created")
		at.Client.Jar.SetCookies(u, []*http.Cookie{{Name: held.Name, Value: held.Value, Path: held.Path}})
		if _, body := at.get(t, "/account/passwords/created"); strings.Contains(body, pw) {
			t.Errorf("%s: the cookie showed the password", name)
		}
	}
}

// TestAppPasswordCookieSecure: with Secure cookies, the one that holds a
// new password is Secure too.
func TestAppPasswordCookieSecure(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Secure = true })
	s := ts.signedIn(t, testLogin)
	s.Client.Jar = nil
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/account/passwords", strings.NewReader(url.Values{"name": {"x"}, "csrf": {s.CSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: ts.Server.sessionCookie(), Value: s.Cookie.Value})
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == ts.Server.newPasswordCookieName() && ck.Secure {
			return
		}
	}
	t.Errorf("no Secure cookie holds the new password: %d %v", resp.StatusCode, resp.Header["Set-Cookie"])
}

// TestRevokeAsksNamingTheDevice: Revoke leads to a question that names
// the device; only the answer's form revokes, and the message names it.
func TestRevokeAsksNamingTheDevice(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	s := ts.signedIn(t, testLogin)
	createAppPassword(t, s, "Anna's phone")
	list, _ := ts.Store.ListAppPasswords(ctx, testLogin)
	revoke := "/account/passwords/" + strconv.FormatInt(list[0].ID, 10) + "/revoke"
	name := html.EscapeString("“Anna's phone”")

	_, body := s.get(t, "/account/passwords")
	if !strings.Contains(body, `href="`+revoke+`"`) || strings.Contains(body, `action="`+revoke+`"`) {
		t.Errorf("the list's Revoke does not lead to the question:\n%s", body)
	}
	resp, body := s.get(t, revoke)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Revoke the app password of "+name+"?") ||
		!strings.Contains(body, "The device using it will no longer connect.") || !strings.Contains(body, `action="`+revoke+`"`) {
		t.Fatalf("the question: %d\n%s", resp.StatusCode, body)
	}
	if n := appPasswords(t, ts); n != 1 {
		t.Fatal("asking revoked it")
	}
	resp, _ = s.post(t, revoke, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/passwords" {
		t.Fatalf("revoke: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = s.get(t, "/account/passwords"); !strings.Contains(body, "Revoked the app password of "+name+".") {
		t.Errorf("the message after does not name the device:\n%s", body)
	}
	if n := appPasswords(t, ts); n != 0 {
		t.Errorf("%d app passwords left", n)
	}
	for _, path := range []string{revoke, "/account/passwords/x/revoke"} {
		if resp, _ := s.get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	// Another user's is not found either.
	createAppPassword(t, s, "laptop")
	list, _ = ts.Store.ListAppPasswords(ctx, testLogin)
	ts.addUser(t, "bob@example.org")
	bob := ts.signedIn(t, "bob@example.org")
	if resp, body := bob.get(t, "/account/passwords/"+strconv.FormatInt(list[0].ID, 10)+"/revoke"); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "laptop") {
		t.Errorf("bob asks about ann's: %d", resp.StatusCode)
	}
}
