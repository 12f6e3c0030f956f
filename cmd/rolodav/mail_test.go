package main_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/mailer/mailtest"
)

// Security mails go through a real SMTP server (go-smtp) started by the
// test: one for a sign-in from a new address, one (not ten) for ten wrong
// passwords, and one queued while the server was down goes out after it
// starts again.
func TestSecurityMails(t *testing.T) {
	t.Parallel()
	relay := mailtest.Start(t, mailtest.Options{})
	data := t.TempDir()
	for _, login := range []string{"ann@example.org", "bob@example.org"} {
		if _, errOut, code := cli(t, login+" password\n", "user", "add", login, "--data", data, "--password-stdin"); code != 0 {
			t.Fatalf("user add %s: %s", login, errOut)
		}
	}
	flags := []string{"--smtp-url", "smtp://127.0.0.1:" + strconv.Itoa(relay.Port), "--smtp-from", "rolodav <noreply@example.org>",
		"--base-url", "http://dav.example.org", "--trusted-proxy", "127.0.0.1", "--signin-slow-after", "-1"}
	d := start(t, data, flags...)
	const davx5 = "DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14"
	propfind := func(login, password, from, client string) int {
		t.Helper()
		code, _, _ := d.req(t, "PROPFIND", "/dav/", login, password, "", "Depth: 0", "X-Forwarded-For: "+from, "User-Agent: "+client)
		return code
	}

	// Ann's first sign-in ever is no news; the same phone from elsewhere
	// (with the account password) is.
	if code := propfind("ann@example.org", "ann@example.org password", "192.0.2.10", davx5); code != 207 {
		t.Fatalf("first sign-in: %d", code)
	}
	if code := propfind("bob@example.org", "bob@example.org password", "192.0.2.10", davx5); code != 207 {
		t.Fatalf("bob's sign-in: %d", code)
	}
	if code := propfind("ann@example.org", "ann@example.org password", "198.51.100.20", davx5); code != 207 {
		t.Fatalf("sign-in from a new address: %d", code)
	}
	msgs := relay.Wait(t, 1, 30*time.Second)
	m := mailtest.Parse(t, msgs[0].Data)
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "ann@example.org" || msgs[0].From != "noreply@example.org" {
		t.Errorf("new sign-in mail from %q to %v", msgs[0].From, msgs[0].To)
	}
	for _, want := range []string{"198.51.100.20", "DAVx5 on Android 14", "http://dav.example.org/account/activity", "http://dav.example.org/account/passwords"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("new sign-in mail lacks %q:\nSubject: %s\n%s", want, m.Subject, m.Text)
		}
	}
	if !strings.Contains(strings.ToLower(m.Subject), "sign-in") {
		t.Errorf("subject %q", m.Subject)
	}

	// Ten wrong passwords, one mail.
	for range 10 {
		if code := propfind("ann@example.org", "guess", "203.0.113.5", "curl/8.5.0"); code != 401 {
			t.Fatalf("wrong password: %d", code)
		}
	}
	msgs = relay.Wait(t, 2, 30*time.Second)
	m = mailtest.Parse(t, msgs[1].Data)
	if msgs[1].To[0] != "ann@example.org" || !strings.Contains(m.Text, "203.0.113.5") {
		t.Errorf("failed sign-ins mail to %v:\nSubject: %s\n%s", msgs[1].To, m.Subject, m.Text)
	}
	// Nothing more comes: each failure woke the sender, which found
	// nothing more to send.
	time.Sleep(3 * time.Second)
	if got := relay.Received(); len(got) != 2 {
		for _, x := range got {
			t.Logf("to %v: %s", x.To, mailtest.Parse(t, x.Data).Subject)
		}
		t.Fatalf("%d mails after a new sign-in and ten wrong passwords, want 2", len(got))
	}

	// Queued while the server is down: the password changed on the
	// command line goes out once it is back.
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	if _, errOut, code := cli(t, "a brand new password\n", "user", "passwd", "ann@example.org", "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("passwd: %s", errOut)
	}
	start(t, data, flags...)
	msgs = relay.Wait(t, 3, 30*time.Second)
	m = mailtest.Parse(t, msgs[2].Data)
	if msgs[2].To[0] != "ann@example.org" || !strings.Contains(strings.ToLower(m.Subject), "password") || !strings.Contains(m.Text, "command line") {
		t.Errorf("password mail after the restart to %v:\nSubject: %s\n%s", msgs[2].To, m.Subject, m.Text)
	}
}

// --smtp-url needs a sender, and the relay flags need --smtp-url.
func TestSMTPFlagErrors(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--smtp-url", "smtp://127.0.0.1:25"}, "--smtp-from"},
		{[]string{"--smtp-from", "noreply@example.org"}, "--smtp-url"},
		{[]string{"--smtp-url", "http://mail.example.org", "--smtp-from", "noreply@example.org"}, "--smtp-url"},
		{[]string{"--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "not an address"}, "--smtp-from"},
		{[]string{"--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "noreply@example.org", "--smtp-ca", "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
		{[]string{"--smtp-ca", "/etc/hostname"}, "--smtp-url"},
	} {
		_, errOut, code := cli(t, "", append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.says) {
			t.Errorf("serve %v: %d %q, want a usage error naming %q", tc.args, code, errOut, tc.says)
		}
	}
}
