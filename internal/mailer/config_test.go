package mailer

import (
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/testcerts"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw      string
		tls      bool
		host     string
		port     int
		user     string
		pass     string
		loopback bool
		redacted string
	}{
		{"smtps://mail.example.org", true, "mail.example.org", 465, "", "", false, "smtps://mail.example.org:465"},
		{"smtp://mail.example.org", false, "mail.example.org", 587, "", "", false, "smtp://mail.example.org:587"},
		{"SMTPS://relay:2465/", true, "relay", 2465, "", "", false, "smtps://relay:2465"},
		{"smtp://rolodav%40example.org:p%40ss%3Aw%2Fo%20rd@mail.example.org:25", false, "mail.example.org", 25, "rolodav@example.org", "p@ss:w/o rd", false,
			"smtp://rolodav%40example.org:xxxxx@mail.example.org:25"},
		{"smtp://u:p@127.0.0.1:2525", false, "127.0.0.1", 2525, "u", "p", true, "smtp://u:xxxxx@127.0.0.1:2525"},
		{"smtp://[::1]:2525", false, "::1", 2525, "", "", true, "smtp://[::1]:2525"},
		{"smtp://localhost", false, "localhost", 587, "", "", true, "smtp://localhost:587"},
	} {
		c, err := ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if c.TLS != tc.tls || c.Host != tc.host || c.Port != tc.port || c.Username != tc.user || c.Password != tc.pass || c.Loopback() != tc.loopback {
			t.Errorf("ParseURL(%q) = %+v (loopback %v)", tc.raw, c, c.Loopback())
		}
		if got := c.Redacted(); got != tc.redacted {
			t.Errorf("Redacted(%q) = %q, want %q", tc.raw, got, tc.redacted)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	const secret = "s3cret-Pa55"
	for _, tc := range []struct{ raw, want string }{
		{"mail.example.org", "no scheme"},
		{"imap://u:" + secret + "@mail.example.org", `scheme "imap"`},
		{"https://mail.example.org", `scheme "https"`},
		{"smtp:mail.example.org", "two slashes"},
		{"smtp://u:" + secret + "@mail.example.org/relay", "a path, query or fragment"},
		{"smtp://u:" + secret + "@mail.example.org?tls=no", "a path, query or fragment"},
		{"smtp://u:" + secret + "@mail.example.org#x", "a path, query or fragment"},
		{"smtp://u:" + secret + "@:25", "no host"},
		{"smtp://u:" + secret + "@mail.example.org:0", "port"},
		{"smtp://u:" + secret + "@mail.example.org:70000", "port"},
		{"smtp://u:" + secret + "@mail.example.org:smtp", "smtp url"},
		{"smtp://u@mail.example.org", "both a user and a password"},
		{"smtp://:" + secret + "@mail.example.org", "both a user and a password"},
		{"smtp://u:" + secret + "%zz@mail.example.org", "smtp url"},
		{"smtp://u:" + secret + "@mail example.org", "smtp url"},
	} {
		_, err := ParseURL(tc.raw)
		if err == nil {
			t.Errorf("ParseURL(%q): no error", tc.raw)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q): %v, want %q", tc.raw, err, tc.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURL(%q): the error shows the password: %v", tc.raw, err)
		}
	}
}

// A password with an unencoded / ? # or % breaks the URL apart; the error
// says to percent-encode and shows no piece of it, wherever url.Parse or
// the checks after it stop.
func TestParseURLUnencodedPassword(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		pieces []string // of the password, never in the error
	}{
		{"smtps://user:s3cr/et@mail.example.org", []string{"s3cr", "et@"}},
		{"smtp://user:123/sec@mail.example.org", []string{"123", "sec"}},
		{"smtp://user:99999/sec@mail.example.org", []string{"99999", "sec"}},
		{"smtp://user:pQ?sZ@mail.example.org", []string{"pQ", "sZ"}},
		{"smtp://user:pQ#sZ@mail.example.org", []string{"pQ", "sZ"}},
		{"smtp://user:50%zz@mail.example.org", []string{"50%", "%zz"}},
		{"smtp://us/er:pw@mail.example.org", []string{"er:pw"}},
	} {
		_, err := ParseURL(tc.raw)
		if err == nil {
			t.Errorf("ParseURL(%q): no error", tc.raw)
			continue
		}
		if !strings.Contains(err.Error(), "percent-encode") {
			t.Errorf("ParseURL(%q): %v, want a hint to percent-encode", tc.raw, err)
		}
		for _, p := range tc.pieces {
			if strings.Contains(err.Error(), p) {
				t.Errorf("ParseURL(%q): the error shows %q: %v", tc.raw, p, err)
			}
		}
	}
}

func TestParseFrom(t *testing.T) {
	for s, want := range map[string]string{
		"noreply@example.org":           "<noreply@example.org>",
		"rolodav <noreply@example.org>": `"rolodav" <noreply@example.org>`,
	} {
		a, err := ParseFrom(s)
		if err != nil || a.String() != want {
			t.Errorf("ParseFrom(%q) = %v, %v; want %s", s, a, err, want)
		}
	}
	for _, s := range []string{"", "noreply", "noreply@localhost", "a@b@c.org", "x <y>", "a@example.org\r\nBcc: b@example.org"} {
		if _, err := ParseFrom(s); err == nil {
			t.Errorf("ParseFrom(%q): no error", s)
		}
	}
}

func TestAddCA(t *testing.T) {
	c := &Config{}
	if err := c.AddCA([]byte("not a certificate")); err == nil {
		t.Fatal("AddCA of garbage: no error")
	}
	// A private key given for the CA by mistake is not repeated.
	key := "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
	if err := c.AddCA([]byte(key)); err == nil || strings.Contains(err.Error(), "c2Vjcm") {
		t.Fatalf("AddCA of a private key: %v", err)
	}
	pemCA := testcerts.New(t).CA
	if err := c.AddCA(pemCA); err != nil {
		t.Fatal(err)
	}
}
