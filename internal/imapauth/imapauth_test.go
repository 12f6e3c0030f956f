package imapauth_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/imapauth"
	"github.com/rolodav/rolodav/internal/testcerts"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		url, addr string
		startTLS  bool
	}{
		{"imaps://mail.example.org", "mail.example.org:993", false},
		{"imaps://mail.example.org:1993/", "mail.example.org:1993", false},
		{"IMAPS://Mail.Example.org", "Mail.Example.org:993", false},
		{"imap://mail.example.org:993", "mail.example.org:993", false},
		{"imap://mail.example.org", "mail.example.org:143", true},
		{"imap://mail.example.org:1143", "mail.example.org:1143", true},
		{"starttls://mail.example.org", "mail.example.org:143", true},
		{"starttls://mail.example.org:993", "mail.example.org:993", true},
		{"imaps://[2001:db8::1]", "[2001:db8::1]:993", false},
		{"imap://192.0.2.1:", "192.0.2.1:143", true},
	} {
		s, err := imapauth.Parse(c.url)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.url, err)
			continue
		}
		if s.Addr != c.addr || s.StartTLS != c.startTLS {
			t.Errorf("Parse(%q) = %s StartTLS %v, want %s StartTLS %v", c.url, s.Addr, s.StartTLS, c.addr, c.startTLS)
		}
	}
	for _, c := range []struct{ url, text string }{
		{"pop3://mail.example.org", "scheme"},
		{"https://mail.example.org", "scheme"},
		{"mail.example.org:993", "scheme"},
		{"", "scheme"},
		{"imaps://", "host"},
		{"imaps:mail.example.org", "host"},
		{"imaps://mail.example.org/INBOX", "path"},
		{"imaps://mail.example.org?tls=1", "query"},
		{"imaps://mail.example.org#x", "fragment"},
		{"imaps://mail.example.org:0", "port"},
		{"imaps://mail.example.org:65536", "port"},
		{"imaps://mail.example.org:imap", "port"},
		{"imaps://admin:hunter2@mail.example.org", "no login or password"},
		{"imaps://admin@mail.example.org", "no login or password"},
		{"imaps://admin:hunter2%zz@mail.example.org", "escape"},
	} {
		_, err := imapauth.Parse(c.url)
		if err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("Parse(%q): %v, want an error about the %s", c.url, err, c.text)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q): %v repeats the password", c.url, err)
		}
	}
}

func TestLoadCA(t *testing.T) {
	certs := testcerts.New(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pool, err := imapauth.LoadCA(write("ca.pem", append([]byte("# our CA\n"), certs.CA...)))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certs.Cert)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Errorf("the server certificate with the loaded pool: %v", err)
	}
	for _, c := range []struct{ path, text string }{
		{filepath.Join(dir, "missing.pem"), "missing.pem"},
		{write("empty.pem", nil), "no PEM certificate"},
		{write("text.pem", []byte("not a certificate\n")), "no PEM certificate"},
		{write("key.pem", certs.Key), "PRIVATE KEY, not a CERTIFICATE"},
		{write("both.pem", append(append([]byte{}, certs.CA...), certs.Key...)), "PEM block 2"},
		{write("broken.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), "certificate 1"},
	} {
		_, err := imapauth.LoadCA(c.path)
		if err == nil || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), filepath.Base(c.path)) {
			t.Errorf("LoadCA(%s): %v, want an error naming the file and saying %q", filepath.Base(c.path), err, c.text)
		}
	}
}
