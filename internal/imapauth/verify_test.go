package imapauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/imapauth"
)

const (
	login    = "alice@example.org"
	password = "s3cret pass"
)

var plain = base64.StdEncoding.EncodeToString([]byte("\x00" + login + "\x00" + password))

func greet(f *fake) { f.send("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] ready") }

// TestVerifyProtocol plays the exchanges a server may choose, and the ways
// one can go wrong, against scripted servers.
func TestVerifyProtocol(t *testing.T) {
	tests := []struct {
		name        string
		startTLS    bool // else TLS from the first byte
		password    string
		script      func(f *fake)
		want        error  // nil, ErrRejected or ErrUnavailable
		text        string // in the error
		notSent     bool   // the password must not reach the server
		untrustedCA bool
	}{
		{name: "AUTHENTICATE PLAIN with an initial response", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in")
			f.logout()
		}},
		{name: "AUTHENTICATE PLAIN after a continuation", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready")
			tag := f.expect("AUTHENTICATE PLAIN")
			f.send("+ ")
			if got := f.line(); got != plain {
				f.t.Errorf("client sent %q, want %q", got, plain)
			}
			f.send(tag + " OK Logged in")
			f.logout()
		}},
		{name: "no capabilities in the greeting", script: func(f *fake) {
			// As Dovecot greets while its auth process starts.
			f.send("* OK Waiting for authentication process to respond..")
			tag := f.expect("CAPABILITY")
			f.send("* OK [CAPABILITY IMAP4rev1] ready", "* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR", tag+" OK done")
			tag = f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " OK Logged in")
		}},
		{name: "LOGIN with quoted strings", password: `p"a\ss`, script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1] ready")
			tag := f.expect(`LOGIN "alice@example.org" "p\"a\\ss"`)
			f.send(tag + " OK Logged in")
			f.logout()
		}},
		{name: "LOGIN with a literal", password: "pässwörd", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1] ready")
			tag := f.expect(`LOGIN "alice@example.org" {10}`)
			f.send("+ go on")
			if got := f.literal(10); got != "pässwörd" {
				f.t.Errorf("literal %q", got)
			}
			if rest := f.line(); rest != "" {
				f.t.Errorf("after the literal: %q", rest)
			}
			f.send(tag + " OK Logged in")
		}},
		{name: "LOGIN literal refused", password: "pässwörd", notSent: true, want: imapauth.ErrRejected, text: "too long", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1] ready")
			tag := f.expect(`LOGIN "alice@example.org" {10}`)
			f.send(tag + " NO too long")
			f.wait()
		}},
		{name: "OK before the password", password: "pässwörd", notSent: true, want: imapauth.ErrUnavailable, text: "before it had the password", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1] ready")
			tag := f.expect(`LOGIN "alice@example.org" {10}`)
			f.send(tag + " OK welcome")
			f.wait()
		}},
		{name: "wrong password", want: imapauth.ErrRejected, text: "AUTHENTICATIONFAILED", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.")
			f.logout()
		}},
		{name: "BAD", want: imapauth.ErrRejected, script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " BAD no")
		}},
		{name: "NO [UNAVAILABLE]", want: imapauth.ErrUnavailable, text: "Temporary authentication failure", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " NO [UNAVAILABLE] Temporary authentication failure.")
		}},
		{name: "NO [SERVERBUG]", want: imapauth.ErrUnavailable, text: "SERVERBUG", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " no [serverbug] oops")
		}},
		{name: "NO [LIMIT]", want: imapauth.ErrUnavailable, text: "Maximum number of connections", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			// Dovecot's answer when the user has too many connections open.
			f.send(tag + " NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)")
		}},
		{name: "BAD [INUSE]", want: imapauth.ErrUnavailable, text: "INUSE", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " BAD [INUSE] Mailbox in use, try again later")
		}},
		{name: "a server echoing the command", want: imapauth.ErrRejected, text: "***", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1] ready")
			tag := f.expect(`LOGIN "alice@example.org" "s3cret pass"`)
			f.send(tag + ` BAD Error in IMAP command LOGIN "alice@example.org" "s3cret pass"`)
		}},
		{name: "a server echoing a quoted password", password: `p"a\ss`, want: imapauth.ErrRejected, text: "***", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1] ready")
			tag := f.expect(`LOGIN "alice@example.org" "p\"a\\ss"`)
			f.send(tag + ` BAD Error in IMAP command LOGIN "alice@example.org" "p\"a\\ss"`)
		}},
		{name: "a server echoing the SASL response", want: imapauth.ErrRejected, text: "***", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send(tag + " NO bad " + plain)
		}},
		{name: "a second SASL challenge", want: imapauth.ErrUnavailable, text: "more than SASL PLAIN", script: func(f *fake) {
			greet(f)
			tag := f.expect("AUTHENTICATE PLAIN " + plain)
			f.send("+ more?")
			if got := f.line(); got != "*" {
				f.t.Errorf("client sent %q, want the cancel *", got)
			}
			f.send(tag + " BAD Authentication aborted by client.")
		}},
		{name: "BYE greeting", notSent: true, want: imapauth.ErrUnavailable, text: "Too many connections", script: func(f *fake) {
			f.send("* BYE Too many connections")
		}},
		{name: "PREAUTH greeting", notSent: true, want: imapauth.ErrUnavailable, text: "PREAUTH", script: func(f *fake) {
			f.send("* PREAUTH [CAPABILITY IMAP4rev1 AUTH=PLAIN] welcome, whoever you are")
			f.wait()
		}},
		{name: "not IMAP", notSent: true, want: imapauth.ErrUnavailable, text: "not an IMAP greeting", script: func(f *fake) {
			f.send("HTTP/1.1 400 Bad Request")
			f.wait()
		}},
		{name: "garbage answer", want: imapauth.ErrUnavailable, text: "not an IMAP response", script: func(f *fake) {
			f.send("* OK ready")
			f.expect("CAPABILITY")
			f.send(")))")
			f.wait()
		}},
		{name: "answer to another command", want: imapauth.ErrUnavailable, text: "never sent", script: func(f *fake) {
			f.send("* OK ready")
			f.expect("CAPABILITY")
			f.send("b7 OK done")
			f.wait()
		}},
		{name: "BYE and gone during sign-in", want: imapauth.ErrUnavailable, text: "shutting down", script: func(f *fake) {
			greet(f)
			f.expect("AUTHENTICATE PLAIN " + plain)
			f.send("* BYE Server shutting down.")
		}},
		{name: "a line longer than 64 KiB", notSent: true, want: imapauth.ErrUnavailable, text: "longer than 64 KiB", script: func(f *fake) {
			f.conn.Write([]byte("* OK " + strings.Repeat("x", 100<<10)))
			f.wait()
		}},
		{name: "more than 1 MiB of responses", want: imapauth.ErrUnavailable, text: "more than 1024 KiB", script: func(f *fake) {
			greet(f)
			f.expect("AUTHENTICATE PLAIN " + plain)
			line := "* OK " + strings.Repeat("x", 1000) + "\r\n"
			f.conn.Write([]byte(strings.Repeat(line, 1100)))
			f.wait()
		}},
		{name: "LOGINDISABLED and no AUTH=PLAIN", notSent: true, want: imapauth.ErrUnavailable, text: "disables LOGIN", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=CRAM-MD5] ready")
			f.wait()
		}},
		{name: "certificate from an unknown CA", untrustedCA: true, notSent: true, want: imapauth.ErrUnavailable, text: "certificate", script: func(f *fake) {
			greet(f)
			f.wait()
		}},
		{name: "STARTTLS", startTLS: true, script: func(f *fake) {
			// What was said in clear must not count: no SASL-IR after TLS.
			f.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED SASL-IR AUTH=PLAIN] ready")
			tag := f.expect("STARTTLS")
			f.send(tag + " OK Begin TLS negotiation now.")
			f.startTLS()
			tag = f.expect("CAPABILITY")
			f.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN", tag+" OK done")
			tag = f.expect("AUTHENTICATE PLAIN")
			f.send("+ ")
			if got := f.line(); got != plain {
				f.t.Errorf("client sent %q, want %q", got, plain)
			}
			f.send(tag + " OK Logged in")
			f.logout()
		}},
		{name: "no STARTTLS offered", startTLS: true, notSent: true, want: imapauth.ErrUnavailable, text: "no STARTTLS", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready")
			f.wait()
		}},
		{name: "STARTTLS refused", startTLS: true, notSent: true, want: imapauth.ErrUnavailable, text: "STARTTLS", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
			tag := f.expect("STARTTLS")
			f.send(tag + " NO not today")
			f.wait()
		}},
		{name: "bytes injected after STARTTLS", startTLS: true, notSent: true, want: imapauth.ErrUnavailable, text: "before TLS", script: func(f *fake) {
			f.send("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready")
			tag := f.expect("STARTTLS")
			f.send(tag+" OK Begin TLS negotiation now.", "* CAPABILITY IMAP4rev1 AUTH=PLAIN")
			f.wait()
		}},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			s, sent := serve(t, !c.startTLS, c.script)
			if c.untrustedCA {
				s.RootCAs = nil
			}
			pw := password
			if c.password != "" {
				pw = c.password
			}
			err := s.Verify(context.Background(), login, pw)
			got := sent()
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("Verify: %v", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("Verify: %v, want %v", err, c.want)
			case errors.Is(err, imapauth.ErrRejected) && errors.Is(err, imapauth.ErrUnavailable):
				t.Fatalf("Verify: %v is both rejected and unavailable", err)
			case err != nil && !strings.Contains(err.Error(), c.text):
				t.Errorf("Verify: %v, want it to say %q", err, c.text)
			case err != nil && leaks(err.Error(), pw):
				t.Errorf("the error holds the password: %v", err)
			case errors.Is(err, context.DeadlineExceeded):
				t.Errorf("Verify: %v, want an answer before the timeout", err)
			}
			if c.notSent && (bytes.Contains(got, []byte(pw)) || bytes.Contains(got, []byte(plain))) {
				t.Errorf("the password reached the server: %q", got)
			}
		})
	}
}

// leaks tells whether msg holds the password or the SASL response, as is,
// escaped as an IMAP quoted string, or either escaped again by Go quoting.
func leaks(msg, pw string) bool {
	imap := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(pw)
	for _, s := range []string{pw, plain, imap} {
		if strings.Contains(msg, s) || strings.Contains(msg, strings.Trim(strconv.Quote(s), `"`)) {
			return true
		}
	}
	return false
}

// TestVerifyRefusedInput: what IMAP cannot carry is refused without a
// connection.
func TestVerifyRefusedInput(t *testing.T) {
	s := &imapauth.Server{Addr: "127.0.0.1:1", Dialer: dialerFunc(func(context.Context, string, string) (net.Conn, error) {
		t.Error("Verify dialled")
		return nil, errors.New("no")
	})}
	for _, c := range []struct{ login, password string }{
		{login, "a\x00b"}, {login, "a\rb"}, {login, "a\nb"}, {login, ""},
		{"", password}, {"al\x00ice", password}, {"alice\r\n", password},
	} {
		err := s.Verify(context.Background(), c.login, c.password)
		if !errors.Is(err, imapauth.ErrRejected) {
			t.Errorf("Verify(%q, %q): %v, want ErrRejected", c.login, c.password, err)
		}
		if c.password != "" && strings.Contains(err.Error(), c.password) {
			t.Errorf("the error holds the password: %v", err)
		}
	}
}

type dialerFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// TestVerifyTimeout: a server that never answers costs the timeout, not
// more.
func TestVerifyTimeout(t *testing.T) {
	for _, startTLS := range []bool{false, true} {
		s, sent := serve(t, !startTLS, func(f *fake) { f.wait() })
		s.Timeout = 200 * time.Millisecond
		start := time.Now()
		err := s.Verify(context.Background(), login, password)
		took := time.Since(start)
		sent()
		if !errors.Is(err, imapauth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("StartTLS %v: %v, want ErrUnavailable and DeadlineExceeded", startTLS, err)
		}
		if took > 3*time.Second {
			t.Errorf("StartTLS %v: Verify took %v with a 200 ms timeout", startTLS, took)
		}
	}
}

// TestVerifyCanceled: the caller's context ends the exchange, whatever the
// server is doing, and its error is wrapped.
func TestVerifyCanceled(t *testing.T) {
	s, sent := serve(t, true, func(f *fake) {
		greet(f)
		f.wait() // never answers AUTHENTICATE
	})
	s.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := s.Verify(ctx, login, password)
	took := time.Since(start)
	sent()
	if !errors.Is(err, imapauth.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify: %v, want ErrUnavailable and context.Canceled", err)
	}
	if took > 5*time.Second {
		t.Errorf("Verify took %v after a cancel at 100 ms", took)
	}

	err = s.Verify(ctx, login, password) // canceled already
	if !errors.Is(err, imapauth.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a canceled context: %v, want ErrUnavailable and context.Canceled", err)
	}
}
