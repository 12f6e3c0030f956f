package imapauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/imapauth"
	"github.com/rolodav/rolodav/internal/imapauth/imaptest"
	"github.com/rolodav/rolodav/internal/testcerts"
)

// TestDovecot checks passwords against a real Dovecot, over both ports.
func TestDovecot(t *testing.T) {
	d := imaptest.StartDovecot(t, map[string]string{
		"alice@example.org": "mail password",
		"bob@example.org":   `pä"ss\wörd`,
	})
	server := func(t *testing.T, url string) *imapauth.Server {
		t.Helper()
		s, err := imapauth.Parse(url)
		if err != nil {
			t.Fatal(err)
		}
		s.RootCAs = d.CAPool()
		return s
	}
	ctx := context.Background()
	for _, url := range []string{d.IMAPSURL(), d.StartTLSURL(), strings.Replace(d.StartTLSURL(), "imap:", "starttls:", 1)} {
		t.Run(url, func(t *testing.T) {
			s := server(t, url)
			if err := s.Verify(ctx, "alice@example.org", "mail password"); err != nil {
				t.Errorf("right password: %v", err)
			}
			if err := s.Verify(ctx, "bob@example.org", `pä"ss\wörd`); err != nil {
				t.Errorf("right password with quotes and 8-bit: %v", err)
			}
			for _, c := range []struct{ login, password string }{
				{"alice@example.org", "mail passwore"},
				{"alice@example.org", "mail password "},
				{"carol@example.org", "mail password"},
			} {
				err := s.Verify(ctx, c.login, c.password)
				if !errors.Is(err, imapauth.ErrRejected) || errors.Is(err, imapauth.ErrUnavailable) {
					t.Errorf("%s, %q: %v, want ErrRejected", c.login, c.password, err)
				}
			}
		})
	}
	t.Run("unknown CA", func(t *testing.T) {
		for _, url := range []string{d.IMAPSURL(), d.StartTLSURL()} {
			s := server(t, url)
			s.RootCAs = nil // the system's roots
			err := s.Verify(ctx, "alice@example.org", "mail password")
			if !errors.Is(err, imapauth.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("%s with the system's roots: %v, want ErrUnavailable naming the certificate", url, err)
			}
			s.RootCAs = testcerts.New(t).Pool() // another CA
			err = s.Verify(ctx, "alice@example.org", "mail password")
			if !errors.Is(err, imapauth.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("%s with another CA: %v, want ErrUnavailable naming the certificate", url, err)
			}
		}
	})
	t.Run("down", func(t *testing.T) {
		d.Stop()
		for _, url := range []string{d.IMAPSURL(), d.StartTLSURL()} {
			err := server(t, url).Verify(ctx, "alice@example.org", "mail password")
			if !errors.Is(err, imapauth.ErrUnavailable) {
				t.Errorf("%s stopped: %v, want ErrUnavailable", url, err)
			}
		}
	})
}

// BenchmarkVerifyDovecot is one password check against a real Dovecot,
// over TLS from the first byte and over STARTTLS: what a sign-in costs
// when the verification cache misses.
func BenchmarkVerifyDovecot(b *testing.B) {
	d := imaptest.StartDovecot(b, map[string]string{"alice@example.org": "mail password"})
	for _, url := range []string{d.IMAPSURL(), d.StartTLSURL()} {
		s, err := imapauth.Parse(url)
		if err != nil {
			b.Fatal(err)
		}
		s.RootCAs = d.CAPool()
		b.Run(strings.SplitN(url, ":", 2)[0], func(b *testing.B) {
			for b.Loop() {
				if err := s.Verify(context.Background(), "alice@example.org", "mail password"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The client's address goes to Dovecot with ID, which (trusting rolodav)
// logs and throttles it instead of rolodav's.
func TestDovecotSeesClientAddress(t *testing.T) {
	d := imaptest.StartDovecot(t, map[string]string{"alice@example.org": "mail password"})
	s, err := imapauth.Parse(d.IMAPSURL())
	if err != nil {
		t.Fatal(err)
	}
	s.RootCAs = d.CAPool()
	if err := s.VerifyFrom(context.Background(), "alice@example.org", "mail password", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.Log(), "rip=192.0.2.9") {
		if time.Now().After(deadline) {
			t.Fatalf("Dovecot did not see the client's address:\n%s", d.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
