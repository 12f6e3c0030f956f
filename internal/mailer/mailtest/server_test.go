package mailtest_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rolodav/rolodav/internal/mailer/mailtest"
)

func send(t *testing.T, srv *mailtest.Server, n int) {
	t.Helper()
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	msg := fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", n)
	if err := c.SendMail("a@example.org", []string{"b@example.org"}, strings.NewReader(msg)); err != nil {
		t.Error(err)
	}
}

// Wait returns once enough mails arrived, even when they come after it
// started waiting.
func TestWait(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	send(t, srv, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		send(t, srv, 2)
	}()
	got := srv.Wait(t, 2, 10*time.Second)
	<-done
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 || srv.Attempts() != 2 {
		t.Fatalf("got %+v after %d attempts", got, srv.Attempts())
	}
}

// fatalTB records a Fatalf and ends its goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Wait fails the test after its timeout and says how many mails came.
func TestWaitTimeout(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	send(t, srv, 1)
	ft := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Wait(ft, 2, 50*time.Millisecond)
	}()
	<-done
	if !strings.Contains(ft.msg, "1 of 2") {
		t.Fatalf("Wait timed out with %q", ft.msg)
	}
}

// At the stage "accepted" the server has the message and has said so; an
// error then drops the connection, so the client's next command fails.
func TestFailAfterAccepting(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.SetFail(func(stage string, n int) error {
		if stage == "accepted" && n == 1 {
			return mailtest.Temp("dropped")
		}
		return nil
	})
	c, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := "Subject: 1\r\n\r\nbody\r\n"
	if err := c.SendMail("a@example.org", []string{"b@example.org"}, strings.NewReader(msg)); err != nil {
		t.Fatalf("the message was refused: %v", err)
	}
	if err := c.Noop(); err == nil {
		t.Fatal("the connection survived")
	}
	if got := srv.Received(); len(got) != 1 {
		t.Fatalf("%d messages received, want 1", len(got))
	}
}
