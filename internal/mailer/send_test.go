package mailer

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/mailer/mailtest"
	"github.com/rolodav/rolodav/internal/testcerts"
)

var ctx = context.Background()

// A mail goes out with its headers, both bodies, from --smtp-from, after
// SMTP AUTH, over plain SMTP to a relay on loopback.
func TestSend(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{User: "relay@example.org", Pass: "p@ss word"})
	s := senderFor(t, srv, "smtp://relay%40example.org:p%40ss%20word@127.0.0.1:PORT", nil)
	if strings.Contains(s.String(), "p@ss") || strings.Contains(s.String(), "word") {
		t.Fatalf("String shows the password: %s", s)
	}
	before := time.Now().Add(-time.Second)
	if err := s.Send(ctx, "alice@example.org", "Ihr Passwort wurde geändert", "Hallo,\nText mit Umlauten: äöü.\n", "<p>Hallo, <b>äöü</b></p>"); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("%d messages received, want 1", len(got))
	}
	r := got[0]
	if r.From != "noreply@example.org" || len(r.To) != 1 || r.To[0] != "alice@example.org" || r.User != "relay@example.org" {
		t.Fatalf("envelope: from %q to %q, authenticated as %q", r.From, r.To, r.User)
	}
	m := mailtest.Parse(t, r.Data)
	if m.Subject != "Ihr Passwort wurde geändert" {
		t.Errorf("subject %q", m.Subject)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Address != "noreply@example.org" || from.Name != "rolodav" {
		t.Errorf("From %q (%v)", m.Header.Get("From"), err)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "alice@example.org") {
		t.Errorf("To %q", to)
	}
	date, err := m.Header.Date()
	if err != nil || date.Before(before) || date.After(time.Now().Add(time.Second)) {
		t.Errorf("Date %q (%v)", m.Header.Get("Date"), err)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<rolodav.") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-ID %q", id)
	}
	if v := m.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted %q", v)
	}
	if m.Text != "Hallo,\nText mit Umlauten: äöü.\n" && m.Text != "Hallo,\r\nText mit Umlauten: äöü.\r\n" {
		t.Errorf("text part %q", m.Text)
	}
	if m.HTML != "<p>Hallo, <b>äöü</b></p>" {
		t.Errorf("HTML part %q", m.HTML)
	}
	if r.TLS {
		t.Error("TLS, though the relay offers none")
	}
}

// A CR or LF in the subject does not add a header.
func TestSendSubjectInjection(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s := senderFor(t, srv, "smtp://127.0.0.1:PORT", nil)
	if err := s.Send(ctx, "alice@example.org", "Hi\r\nBcc: mallory@example.org\r\nX-Evil: 1", "t", "<p>h</p>"); err != nil {
		t.Fatal(err)
	}
	r := srv.Received()[0]
	m := mailtest.Parse(t, r.Data)
	if m.Header.Get("Bcc") != "" || m.Header.Get("X-Evil") != "" || len(r.To) != 1 {
		t.Fatalf("the subject made headers: %v, recipients %v", m.Header, r.To)
	}
}

// The relay's refusals: 5xx to the recipient or the message is permanent,
// the rest (4xx, wrong credentials, no relay) is not.
func TestSendFailures(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{User: "u", Pass: "p"})
	s := senderFor(t, srv, "smtp://u:p@127.0.0.1:PORT", nil)
	for _, tc := range []struct {
		stage     string
		err       error
		permanent bool
	}{
		{"rcpt", mailtest.Perm("No such user"), true},
		{"data", &smtpErr554, true},
		{"rcpt", mailtest.Temp("Greylisted"), false},
		{"data", mailtest.Temp("Try later"), false},
	} {
		srv.SetFail(func(stage string, _ int) error {
			if stage == tc.stage {
				return tc.err
			}
			return nil
		})
		err := s.Send(ctx, "alice@example.org", "s", "t", "<p>h</p>")
		if err == nil || Permanent(err) != tc.permanent {
			t.Errorf("%s refused with %v: got %v (permanent %v)", tc.stage, tc.err, err, Permanent(err))
		}
	}
	srv.SetFail(nil)
	if n := len(srv.Received()); n != 0 {
		t.Fatalf("%d messages accepted", n)
	}

	wrong := senderFor(t, srv, "smtp://u:wrong@127.0.0.1:PORT", nil)
	if err := wrong.Send(ctx, "alice@example.org", "s", "t", "<p>h</p>"); err == nil || Permanent(err) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	if err := s.Send(ctx, "not an address", "s", "t", "<p>h</p>"); !Permanent(err) {
		t.Errorf("bad recipient: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // nothing listens there now
	down := senderFor(t, &mailtest.Server{Port: l.Addr().(*net.TCPAddr).Port}, "smtp://127.0.0.1:PORT", nil)
	if err := down.Send(ctx, "alice@example.org", "s", "t", "<p>h</p>"); err == nil || Permanent(err) {
		t.Errorf("relay down: %v", err)
	}
}

// smtps:// speaks TLS from the start and checks the relay's certificate:
// against the CA added, else the system's.
func TestSendImplicitTLS(t *testing.T) {
	certs := testcerts.New(t, "127.0.0.1", "localhost")
	serverTLS, ca := certs.ServerConfig(t), certs.CA
	srv := mailtest.Start(t, mailtest.Options{User: "u", Pass: "p", Implicit: serverTLS})
	if err := senderFor(t, srv, "smtps://u:p@127.0.0.1:PORT", ca).Send(ctx, "alice@example.org", "s", "t", "<p>h</p>"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Received(); len(got) != 1 || !got[0].TLS || got[0].User != "u" {
		t.Fatalf("received %+v", got)
	}
	err := senderFor(t, srv, "smtps://u:p@127.0.0.1:PORT", nil).Send(ctx, "alice@example.org", "s", "t", "<p>h</p>")
	if err == nil || Permanent(err) {
		t.Fatalf("unknown CA: %v", err)
	}
	if n := len(srv.Received()); n != 1 {
		t.Fatalf("%d messages after the refused certificate", n)
	}
}

// smtp:// to a relay elsewhere requires STARTTLS and a certificate for
// the relay's name, with or without credentials; on loopback STARTTLS is
// used when offered.
func TestSendSTARTTLS(t *testing.T) {
	certs := testcerts.New(t, "mail.example.org", "127.0.0.1")
	serverTLS, ca := certs.ServerConfig(t), certs.CA
	withTLS := mailtest.Start(t, mailtest.Options{User: "u", Pass: "p", StartTLS: serverTLS})
	plain := mailtest.Start(t, mailtest.Options{User: "u", Pass: "p"})

	// Loopback: STARTTLS when offered.
	if err := senderFor(t, withTLS, "smtp://u:p@127.0.0.1:PORT", ca).Send(ctx, "a@example.org", "s", "t", "<p>h</p>"); err != nil {
		t.Fatal(err)
	}
	if got := withTLS.Received(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("loopback with STARTTLS offered: %+v", got)
	}

	// mail.example.org, reached at the test servers.
	remote := func(srv *mailtest.Server, user string, ca []byte) error {
		cfg, err := ParseURL("smtp://" + user + "mail.example.org:587")
		if err != nil {
			t.Fatal(err)
		}
		cfg.From, _ = ParseFrom("noreply@example.org")
		if ca != nil {
			cfg.AddCA(ca)
		}
		cfg.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr)
		}
		s, err := NewSender(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(ctx, "a@example.org", "s", "t", "<p>h</p>")
	}
	if err := remote(withTLS, "u:p@", ca); err != nil {
		t.Fatalf("remote relay with STARTTLS: %v", err)
	}
	if got := withTLS.Received(); len(got) != 2 || !got[1].TLS || got[1].User != "u" {
		t.Fatalf("remote relay with STARTTLS: %+v", got)
	}
	if err := remote(plain, "u:p@", ca); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("credentials to a remote relay without STARTTLS: %v", err)
	}
	// Without credentials too: STARTTLS offered in clear can be stripped
	// by anyone on the way, and the mail would go out readable.
	openTLS := mailtest.Start(t, mailtest.Options{StartTLS: serverTLS})
	openPlain := mailtest.Start(t, mailtest.Options{})
	if err := remote(openTLS, "", ca); err != nil {
		t.Fatalf("remote relay with STARTTLS, no credentials: %v", err)
	}
	if got := openTLS.Received(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("remote relay with STARTTLS, no credentials: %+v", got)
	}
	if err := remote(openPlain, "", ca); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("remote relay without STARTTLS, no credentials: %v", err)
	}
	if n := len(openPlain.Received()); n != 0 {
		t.Fatalf("%d messages in clear to a remote relay", n)
	}
	if err := remote(withTLS, "u:p@", nil); err == nil {
		t.Fatal("remote relay with a certificate of an unknown CA: sent")
	}
	if n := len(plain.Received()) + len(withTLS.Received()); n != 2 {
		t.Fatalf("%d messages in all, want 2", n)
	}
}

// stall makes srv block at stage of its first transaction until the test
// ends or the returned function is called; then it refuses with a 451.
// entered is closed once the stall began.
func stall(t *testing.T, srv *mailtest.Server, stage string) (entered <-chan struct{}, release func()) {
	in, out := make(chan struct{}), make(chan struct{})
	var inOnce, outOnce sync.Once
	release = func() { outOnce.Do(func() { close(out) }) }
	t.Cleanup(release)
	srv.SetFail(func(s string, n int) error {
		if s != stage || n != 1 {
			return nil
		}
		inOnce.Do(func() { close(in) })
		<-out
		return mailtest.Temp("stalled")
	})
	return in, release
}

// The context bounds a whole Send, not only the connection: a relay that
// holds back its answer to DATA is given up when the context ends, long
// before the timeout of each SMTP command (10 s here).
func TestSendDeadline(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	stall(t, srv, "data")
	s := senderFor(t, srv, "smtp://127.0.0.1:PORT", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, "alice@example.org", "s", "t", "<p>h</p>")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Send took %v after its context ended", took)
	}
	if err == nil || Permanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send past its deadline: %v", err)
	}
}

// A relay that has accepted the message (250 after DATA) and then drops
// the connection, before RSET or QUIT, has the mail: it is sent, not to be
// tried again.
func TestSendDeliveredThenDropped(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.SetFail(func(stage string, _ int) error {
		if stage == "accepted" {
			return mailtest.Temp("gone")
		}
		return nil
	})
	s := senderFor(t, srv, "smtp://127.0.0.1:PORT", nil)
	var logs strings.Builder
	s.log = slog.New(slog.NewTextHandler(&logs, nil))
	if err := s.Send(ctx, "alice@example.org", "s", "t", "<p>h</p>"); err != nil {
		t.Fatalf("Send after the relay took the message: %v", err)
	}
	if n := len(srv.Received()); n != 1 {
		t.Fatalf("%d messages received, want 1", n)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("the failure after delivery is not logged: %q", logs.String())
	}
}
