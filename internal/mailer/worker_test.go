package mailer

import (
	"bytes"
	"context"
	"fmt"
	htmlpkg "html"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/mailer/mailtest"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// clock is a settable clock for the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mkUsers(t *testing.T, s store.Store, logins ...string) {
	t.Helper()
	for _, l := range logins {
		if err := s.CreateUser(ctx, &store.User{Login: l, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
}

func queueNotice(t *testing.T, s store.Store, n store.Notice) int64 {
	t.Helper()
	ok, err := s.QueueNotice(ctx, &n, time.Hour)
	if err != nil || !ok {
		t.Fatalf("QueueNotice(%s %s): %v, %v", n.Login, n.Kind, ok, err)
	}
	return n.ID
}

// startWorker runs w until the test ends.
func startWorker(t *testing.T, w *Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("worker did not stop")
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func noticeOf(t *testing.T, s store.Store, login string, id int64) store.Notice {
	t.Helper()
	list, err := s.ListNotices(ctx, login, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("notice %d gone", id)
	return store.Notice{}
}

func newWorker(t *testing.T, st store.Store, srv *mailtest.Server, clk *clock) *Worker {
	t.Helper()
	var s *Sender
	if srv != nil {
		s = senderFor(t, srv, "smtp://127.0.0.1:PORT", nil)
	}
	w := NewWorker(st, s, testLinks, nil)
	w.Now = clk.Now
	w.Poll = time.Hour // only Wake and the start make it look
	return w
}

// A notice queued while the worker runs goes out at once (Wake), once, to
// its user, in the user's language, with what happened, when, from where
// and the links; ten of a kind within the hour make one mail.
func TestWorkerDelivers(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "rolodav.db"))
	mkUsers(t, st, "alice@example.org", "bob@example.org")
	srv := mailtest.Start(t, mailtest.Options{})
	clk := &clock{t: testTime.Add(time.Second)}
	w := newWorker(t, st, srv, clk)
	startWorker(t, w)

	n := testNotice(store.NoticeNewSignIn, "de", "web")
	n.ID = 0
	id := queueNotice(t, st, n)
	for i := range 10 { // wrong passwords for bob, over an hour
		f := store.Notice{Login: "bob@example.org", Kind: store.NoticeFailedSignIns, To: "bob@example.org",
			Time: testTime.Add(time.Duration(i) * 6 * time.Minute), Addr: "198.51.100.4", Detail: fmt.Sprint(10 + i)}
		if ok, err := st.QueueNotice(ctx, &f, time.Hour); err != nil || ok != (i == 0) {
			t.Fatalf("failed sign-ins %d: queued %v, %v", i, ok, err)
		}
	}
	w.Wake()
	waitFor(t, "two mails", func() bool { return len(srv.Received()) >= 2 })

	var alice, bob *mailtest.Message
	for _, r := range srv.Received() {
		switch {
		case len(r.To) == 1 && r.To[0] == "alice@example.org":
			alice = &r
		case len(r.To) == 1 && r.To[0] == "bob@example.org":
			bob = &r
		default:
			t.Fatalf("mail to %v", r.To)
		}
	}
	if alice == nil || bob == nil {
		t.Fatal("a mail is missing")
	}
	m := mailtest.Parse(t, alice.Data)
	if m.Subject != "Neue Anmeldung bei Ihrem rolodav-Konto" {
		t.Errorf("subject %q", m.Subject)
	}
	want := []string{"Bei Ihrem Konto alice@example.org hat sich jemand", "auf den Kontoseiten", "5. Dezember 2026, 14:03 UTC",
		"203.0.113.7", "DAVx5 auf Android 14", testLinks.Activity, testLinks.Passwords, testLinks.Security}
	contains(t, "text", m.Text, want...)
	contains(t, "HTML", htmlpkg.UnescapeString(m.HTML), want...)
	mb := mailtest.Parse(t, bob.Data)
	if mb.Subject != "Several failed sign-ins to your account" {
		t.Errorf("bob's subject %q", mb.Subject)
	}
	contains(t, "bob's text", mb.Text, "There were at least 10 attempts", "198.51.100.4", "unknown")

	sent := noticeOf(t, st, "alice@example.org", id)
	if !sent.Sent.Equal(clk.Now()) || !sent.GaveUp.IsZero() || sent.Attempts != 0 {
		t.Fatalf("notice after sending: %+v", sent)
	}
	// Woken again, and later polled, nothing goes out twice.
	w.Wake()
	clk.Set(clk.Now().Add(time.Hour))
	w.Wake()
	time.Sleep(50 * time.Millisecond)
	if n := len(srv.Received()); n != 2 {
		t.Fatalf("%d mails, want 2", n)
	}
}

// Two server processes (two stores on one database, a worker each) send
// each notice once.
func TestWorkersShareOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rolodav.db")
	st1, st2 := openStore(t, path), openStore(t, path)
	srv := mailtest.Start(t, mailtest.Options{})
	clk := &clock{t: testTime.Add(time.Second)}
	const users = 30
	for i := range users {
		login := fmt.Sprintf("user%02d@example.org", i)
		mkUsers(t, st1, login)
		queueNotice(t, st1, store.Notice{Login: login, Kind: store.NoticePassword, To: login, Time: testTime})
	}
	var ws []*Worker
	for _, st := range []store.Store{st1, st2, st2} {
		w := newWorker(t, st, srv, clk)
		w.Poll = 5 * time.Millisecond
		ws = append(ws, w)
	}
	for _, w := range ws {
		startWorker(t, w)
	}
	waitFor(t, "every mail", func() bool { return len(srv.Received()) >= users })
	time.Sleep(100 * time.Millisecond) // time to send one twice
	seen := map[string]int{}
	for _, r := range srv.Received() {
		seen[strings.Join(r.To, ",")]++
	}
	if len(seen) != users {
		t.Fatalf("%d recipients, want %d", len(seen), users)
	}
	for to, n := range seen {
		if n != 1 {
			t.Fatalf("%s got %d mails", to, n)
		}
	}
}

// A notice queued before a restart (store closed, opened again) is sent
// by the next worker.
func TestWorkerAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rolodav.db")
	before, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mkUsers(t, before, "alice@example.org")
	n := testNotice(store.NoticeAppPassword, "it", "Telefono")
	n.ID = 0
	id := queueNotice(t, before, n)
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}

	st := openStore(t, path)
	srv := mailtest.Start(t, mailtest.Options{})
	startWorker(t, newWorker(t, st, srv, &clock{t: testTime.Add(time.Minute)}))
	waitFor(t, "the mail queued before the restart", func() bool { return len(srv.Received()) == 1 })
	m := mailtest.Parse(t, srv.Received()[0].Data)
	if m.Subject != "Nuova password per app: Telefono" {
		t.Fatalf("subject %q", m.Subject)
	}
	waitFor(t, "the notice marked sent", func() bool { return !noticeOf(t, st, "alice@example.org", id).Sent.IsZero() })
}

// A temporary failure (451) is retried after the backoff and delivers.
func TestWorkerRetries(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "rolodav.db"))
	mkUsers(t, st, "alice@example.org")
	srv := mailtest.Start(t, mailtest.Options{})
	srv.SetFail(func(stage string, n int) error {
		if stage == "data" && n == 1 {
			return mailtest.Temp("Greylisted, try again later")
		}
		return nil
	})
	clk := &clock{t: testTime.Add(time.Second)}
	w := newWorker(t, st, srv, clk)
	n := testNotice(store.NoticePassword, "fr", "")
	n.ID = 0
	id := queueNotice(t, st, n)
	startWorker(t, w)

	waitFor(t, "a retry", func() bool { return noticeOf(t, st, "alice@example.org", id).Attempts == 1 })
	r := noticeOf(t, st, "alice@example.org", id)
	if !r.Pending() || !r.NotBefore.Equal(clk.Now().Add(time.Minute)) || !strings.Contains(r.LastError, "451") {
		t.Fatalf("after the first failure: %+v", r)
	}
	// Not before the backoff...
	clk.Set(clk.Now().Add(59 * time.Second))
	w.Wake()
	time.Sleep(50 * time.Millisecond)
	if len(srv.Received()) != 0 || noticeOf(t, st, "alice@example.org", id).Attempts != 1 {
		t.Fatal("retried before its time")
	}
	// ...but after it.
	clk.Set(clk.Now().Add(time.Second))
	w.Wake()
	waitFor(t, "the retried mail", func() bool { return len(srv.Received()) == 1 })
	if m := mailtest.Parse(t, srv.Received()[0].Data); m.Subject != "Votre mot de passe a été modifié" {
		t.Fatalf("subject %q", m.Subject)
	}
	waitFor(t, "the notice marked sent", func() bool { return !noticeOf(t, st, "alice@example.org", id).Sent.IsZero() })
}

// A permanent refusal (550) gives up at once; temporary ones give up a
// day after the event; without a relay every notice is given up.
func TestWorkerGivesUp(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "rolodav.db"))
	mkUsers(t, st, "alice@example.org", "bob@example.org", "carol@example.org")
	srv := mailtest.Start(t, mailtest.Options{})
	clk := &clock{t: testTime.Add(time.Second)}

	srv.SetFail(func(stage string, _ int) error {
		if stage == "rcpt" {
			return mailtest.Perm("No such user here")
		}
		return nil
	})
	w := newWorker(t, st, srv, clk)
	startWorker(t, w)
	id := queueNotice(t, st, store.Notice{Login: "alice@example.org", Kind: store.NoticePassword, To: "alice@example.org", Time: testTime})
	w.Wake()
	waitFor(t, "giving up on a 550", func() bool { return !noticeOf(t, st, "alice@example.org", id).GaveUp.IsZero() })
	if n := noticeOf(t, st, "alice@example.org", id); n.Attempts != 0 || !strings.Contains(n.LastError, "550") {
		t.Fatalf("after a 550: %+v", n)
	}

	// Temporary failures, again and again: tried at 0, 1 min, 6 min,
	// 36 min, 2 h 36, 8 h 36, 14 h 36 and 20 h 36; the next would be after
	// a day, so the eighth failure gives up.
	srv.SetFail(func(stage string, _ int) error {
		if stage == "data" {
			return mailtest.Temp("Mailbox busy")
		}
		return nil
	})
	start := srv.Attempts()
	id = queueNotice(t, st, store.Notice{Login: "bob@example.org", Kind: store.NoticePassword, To: "bob@example.org", Time: testTime})
	w.Wake()
	for attempt := 1; ; attempt++ {
		waitFor(t, fmt.Sprintf("attempt %d", attempt), func() bool {
			n := noticeOf(t, st, "bob@example.org", id)
			return n.Attempts == attempt || !n.GaveUp.IsZero()
		})
		n := noticeOf(t, st, "bob@example.org", id)
		if !n.GaveUp.IsZero() {
			if attempt != 8 || n.Attempts != 7 || srv.Attempts()-start != 8 || !strings.Contains(n.LastError, "451") {
				t.Fatalf("gave up at attempt %d: %+v, %d transactions", attempt, n, srv.Attempts()-start)
			}
			if since := n.GaveUp.Sub(testTime); since < 20*time.Hour || since > 24*time.Hour {
				t.Fatalf("gave up %v after the event", since)
			}
			break
		}
		if attempt > 8 {
			t.Fatalf("still trying after %d attempts: %+v", attempt, n)
		}
		clk.Set(n.NotBefore)
		w.Wake()
	}

	// A notice more than a day old when claimed is given up unsent.
	old := queueNotice(t, st, store.Notice{Login: "carol@example.org", Kind: store.NoticePassword, To: "carol@example.org",
		Time: clk.Now().Add(-25 * time.Hour)})
	before := srv.Attempts()
	w.Wake()
	waitFor(t, "giving up on a stale notice", func() bool { return !noticeOf(t, st, "carol@example.org", old).GaveUp.IsZero() })
	if srv.Attempts() != before {
		t.Fatal("a stale notice was tried")
	}
}

func TestWorkerWithoutRelay(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "rolodav.db"))
	mkUsers(t, st, "alice@example.org")
	w := newWorker(t, st, nil, &clock{t: testTime.Add(time.Second)})
	startWorker(t, w)
	id := queueNotice(t, st, store.Notice{Login: "alice@example.org", Kind: store.NoticeTwoFactor, To: "alice@example.org", Time: testTime, Detail: "on"})
	w.Wake()
	waitFor(t, "the notice given up", func() bool { return !noticeOf(t, st, "alice@example.org", id).GaveUp.IsZero() })
	if n := noticeOf(t, st, "alice@example.org", id); n.LastError != NoRelay {
		t.Fatalf("without a relay: %+v", n)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 6 * time.Hour}
	for i, d := range want {
		if got := Backoff(i + 1); got != d {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, d)
		}
	}
}

// A relay that stalls past the lease: another process takes over the
// notice being sent, and the stalled worker sends nothing more of what
// it had claimed. Each recipient gets one mail.
func TestWorkersStalledRelay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rolodav.db")
	st1, st2 := openStore(t, path), openStore(t, path)
	srv := mailtest.Start(t, mailtest.Options{})
	entered, release := stall(t, srv, "data")
	clk := &clock{t: testTime.Add(time.Second)}
	const users = 3
	ids := map[string]int64{}
	for i := range users {
		login := fmt.Sprintf("user%d@example.org", i)
		mkUsers(t, st1, login)
		ids[login] = queueNotice(t, st1, store.Notice{Login: login, Kind: store.NoticePassword, To: login, Time: testTime.Add(time.Duration(i) * time.Second)})
	}
	stalled := newWorker(t, st1, srv, clk)
	startWorker(t, stalled)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first mail never reached DATA")
	}

	clk.Set(clk.Now().Add(Lease + time.Second))
	startWorker(t, newWorker(t, st2, srv, clk))
	srv.Wait(t, users, 10*time.Second)
	release() // the stalled sending fails (451) at last
	stalled.Wake()
	waitFor(t, "every notice sent", func() bool {
		for login, id := range ids {
			if noticeOf(t, st1, login, id).Sent.IsZero() {
				return false
			}
		}
		return true
	})
	time.Sleep(200 * time.Millisecond) // time for the stalled worker to send again

	seen := map[string]int{}
	for _, r := range srv.Received() {
		seen[strings.Join(r.To, ",")]++
	}
	for login := range ids {
		if seen[login] != 1 {
			t.Errorf("%s got %d mails", login, seen[login])
		}
	}
	if n := noticeOf(t, st1, "user0@example.org", ids["user0@example.org"]); n.Attempts != 0 {
		t.Errorf("the stalled worker's failure counted for the notice another sent: %+v", n)
	}
}

// Shut down while the relay, having taken the message, keeps the
// connection waiting: Run returns at once, and the notice is marked sent
// (with the cancelled context, it would stay pending and go out again
// after the restart).
func TestWorkerShutdownAfterDelivery(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "rolodav.db"))
	mkUsers(t, st, "alice@example.org")
	srv := mailtest.Start(t, mailtest.Options{})
	stall(t, srv, "accepted")
	// The relay stalls once it has said 250 to the message; the client
	// has read that when it sends its next command after DATA (a NOOP).
	delivered := make(chan struct{})
	var once sync.Once
	data := false
	cfg, err := ParseURL(fmt.Sprintf("smtp://127.0.0.1:%d", srv.Port))
	if err != nil {
		t.Fatal(err)
	}
	cfg.From, _ = ParseFrom("noreply@example.org")
	cfg.Timeout = 10 * time.Second
	cfg.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return &watchConn{Conn: c, write: func(p []byte) {
			switch {
			case bytes.HasPrefix(p, []byte("DATA")):
				data = true
			case data && (bytes.HasPrefix(p, []byte("NOOP")) || bytes.HasPrefix(p, []byte("RSET"))):
				once.Do(func() { close(delivered) })
			}
		}}, err
	}
	sender, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(st, sender, testLinks, nil)
	w.Now = (&clock{t: testTime.Add(time.Second)}).Now
	id := queueNotice(t, st, store.Notice{Login: "alice@example.org", Kind: store.NoticePassword, To: "alice@example.org", Time: testTime})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	select {
	case <-delivered:
	case <-time.After(10 * time.Second):
		t.Fatal("the mail never reached the relay")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of its context's end")
	}
	if n := noticeOf(t, st, "alice@example.org", id); n.Sent.IsZero() || n.Attempts != 0 {
		t.Fatalf("notice after the shutdown: %+v", n)
	}
	if n := len(srv.Received()); n != 1 {
		t.Fatalf("%d messages received, want 1", n)
	}
}

// watchConn shows each write to write before making it.
type watchConn struct {
	net.Conn
	write func(p []byte)
}

func (c *watchConn) Write(p []byte) (int, error) {
	c.write(p)
	return c.Conn.Write(p)
}
