package main_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/imapauth/imaptest"
)

// pageSignIn signs in on the account pages as a browser would and returns
// the answer to the sign-in form (redirects followed) and the client.
func pageSignIn(t *testing.T, d *daemon, login, password string) (int, string, *http.Client) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(d.url + "/account/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("sign-in page has no form token:\n%s", body)
	}
	resp, err = c.PostForm(d.url+"/account/signin", url.Values{"login": {login}, "password": {password}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), c
}

// Users sign in with their mail password, checked by a real Dovecot: over
// DAV and on the pages, created once, throttled, limited to the listed
// domains, and a mail server that is down is 503, not 401.
func TestMailPasswordSignIn(t *testing.T) {
	t.Parallel()
	dovecot := imaptest.StartDovecot(t, map[string]string{
		"carol@mail.example": "carol's mail password",
		"erin@mail.example":  "erin's mail password",
		"gus@mail.example":   "gus's mail password",
		"dan@other.example":  "dan's mail password",
	})
	data := t.TempDir()
	cli(t, "admin password\n", "user", "add", "admin", "--data", data, "--password-stdin")
	d := start(t, data, "--auth", dovecot.IMAPSURL(), "--auth-ca", dovecot.CAFile, "--auth-domains", "mail.example",
		"--signin-slow-after", "-1") // throttled without waits

	const root = "/dav/"
	if code, _, _ := d.req(t, "PROPFIND", root, "carol@mail.example", "carol's mail password", "", "Depth: 0"); code != 207 {
		t.Fatalf("right mail password over DAV: %d\n%s", code, lastLines(d.log(), 20))
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/addressbooks/carol@mail.example/contacts/", "carol@mail.example", "carol's mail password", "", "Depth: 0"); code != 207 {
		t.Errorf("the new user's default address book: %d", code)
	}
	status, body, _ := pageSignIn(t, d, "Carol@Mail.Example", "carol's mail password")
	if status != http.StatusOK || !strings.Contains(body, "carol@mail.example") {
		t.Errorf("right mail password on the pages: %d\n%s", status, body)
	}
	// On the pages first: gus is created by signing in there.
	if status, _, _ := pageSignIn(t, d, "gus@mail.example", "gus's mail password"); status != http.StatusOK {
		t.Errorf("first sign-in on the pages: %d", status)
	}
	out, _, _ := cli(t, "", "user", "list", "--data", data)
	if strings.Count(out, "carol@mail.example") != 1 || strings.Count(out, "gus@mail.example") != 1 {
		t.Errorf("users after sign-ins:\n%s", out)
	}
	if _, errOut, code := cli(t, "new local password\n", "user", "passwd", "carol@mail.example", "--data", data, "--password-stdin"); code == 0 || !strings.Contains(errOut, "mail password") {
		t.Errorf("passwd of a mail user: %d %q", code, errOut)
	}

	// Wrong passwords: refused, then throttled before Dovecot is asked.
	for i := range 10 {
		if code, _, _ := d.req(t, "PROPFIND", root, "carol@mail.example", "not it", "", "Depth: 0"); code != 401 {
			t.Fatalf("wrong mail password %d: %d", i, code)
		}
	}
	if code, hdr, _ := d.req(t, "PROPFIND", root, "carol@mail.example", "not it", "", "Depth: 0"); code != 429 || hdr.Get("Retry-After") == "" {
		t.Errorf("11th wrong password: %d, Retry-After %q; want 429", code, hdr.Get("Retry-After"))
	}
	if status, body, _ := pageSignIn(t, d, "carol@mail.example", "not it"); status != http.StatusTooManyRequests {
		t.Errorf("pages while locked: %d\n%s", status, body)
	}

	// A domain not listed is refused, though Dovecot knows the login.
	if code, _, _ := d.req(t, "PROPFIND", root, "dan@other.example", "dan's mail password", "", "Depth: 0"); code != 401 {
		t.Errorf("unlisted domain: %d, want 401", code)
	}
	if out, _, _ := cli(t, "", "user", "list", "--data", data); strings.Contains(out, "dan@") {
		t.Errorf("an unlisted domain's user was created:\n%s", out)
	}

	// Dovecot down: 503 with Retry-After over DAV (clients keep the
	// password), a clear message on the pages, and no user created.
	dovecot.Stop()
	code, hdr, _ := d.req(t, "PROPFIND", root, "erin@mail.example", "erin's mail password", "", "Depth: 0")
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Errorf("Dovecot down over DAV: %d, Retry-After %q; want 503", code, hdr.Get("Retry-After"))
	}
	status, body, _ = pageSignIn(t, d, "erin@mail.example", "erin's mail password")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "mail server") {
		t.Errorf("Dovecot down on the pages: %d\n%s", status, body)
	}
	if out, _, _ := cli(t, "", "user", "list", "--data", data); strings.Contains(out, "erin@") {
		t.Errorf("erin was created while her password could not be checked:\n%s", out)
	}
	// Local users do not need the mail server.
	if code, _, _ := d.req(t, "PROPFIND", root, "admin", "admin password", "", "Depth: 0"); code != 207 {
		t.Errorf("local user with Dovecot down: %d", code)
	}
}

// --auth refuses what it cannot use, naming the flag.
func TestAuthFlagErrors(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--auth", "pop3://mail.example", "--auth-domains", "mail.example"}, "--auth"},
		{[]string{"--auth", "imaps://mail.example", "--auth-domains", "mail.example", "--auth-ca", "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
		{[]string{"--auth-domains", "example.org"}, "--auth-domains needs --auth"},
		{[]string{"--auth", "imaps://mail.example"}, "--auth needs --auth-domains"},
		{[]string{"--auth", "imaps://mail.example", "--auth-domains", "not a domain"}, "is not a domain"},
	} {
		_, errOut, code := cli(t, "", append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.says) {
			t.Errorf("serve %v: %d %q, want an error naming %q", tc.args, code, errOut, tc.says)
		}
	}
}
