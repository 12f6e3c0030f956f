package push_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/push/pushtest"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// env is a Sender on a real store, with one address book of ann's, and a
// push service stand-in.
type env struct {
	st   store.Store
	svc  *push.Service
	srv  *pushtest.Server
	coll *store.Collection
	opt  push.Options
	wake context.Context // writes made with it wake the senders
	name string
	logs *logs // what the senders log
}

// logs is a slog.Handler that keeps each record as text, for tests to wait
// for an outcome (the Sender logs one once it is recorded) and to read.
type logs struct {
	mu      sync.Mutex
	recs    []string
	arrived chan struct{}
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrs{l, as}
}
func (l *logs) WithGroup(string) slog.Handler                 { return l }
func (l *logs) Handle(_ context.Context, r slog.Record) error { return l.add(r, nil) }

func (l *logs) add(r slog.Record, as []slog.Attr) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range as {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, b.String())
	close(l.arrived)
	l.arrived = make(chan struct{})
	return nil
}

type attrs struct {
	*logs
	as []slog.Attr
}

func (a *attrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrs{a.logs, append(slices.Clip(a.as), as...)}
}
func (a *attrs) Handle(_ context.Context, r slog.Record) error { return a.add(r, a.as) }

// wait waits for n records that start with msg and returns every record.
func (l *logs) wait(t testing.TB, msg string, n int) []string {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		recs, arrived := slices.Clone(l.recs), l.arrived
		l.mu.Unlock()
		got := 0
		for _, r := range recs {
			if strings.HasPrefix(r, msg) {
				got++
			}
		}
		if got >= n {
			return recs
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("%d of %d log records %q; the log:\n%s", got, n, msg, strings.Join(recs, "\n"))
		}
	}
}

func newEnv(t testing.TB, spacing time.Duration) *env {
	t.Helper()
	name := filepath.Join(t.TempDir(), "rolodav.db")
	st := testdb.Open(t, name, store.Options{})
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: "ann", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "contacts"}
	if err := st.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	opt := push.Options{AllowPrivate: true, Subject: "mailto:ops@example.org", Spacing: spacing}
	svc, err := push.NewService(ctx, st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, svc: svc, srv: pushtest.Start(t), coll: c, opt: opt, wake: ctx, name: name,
		logs: &logs{arrived: make(chan struct{})}}
}

// run starts a Sender, tuned by tune, and returns the function that stops
// it and waits for Run to return (called at the end of the test too).
func (e *env) run(t testing.TB, tune func(*push.Sender)) (*push.Sender, func()) {
	t.Helper()
	s := push.NewSender(e.st, e.svc, e.opt, slog.New(e.logs))
	if tune != nil {
		tune(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("Run did not return within 30 s of being stopped")
			}
		})
	}
	t.Cleanup(stop)
	e.wake = store.WithPushHints(e.wake, store.PushHints{Wake: chain(store.PushHintsFrom(e.wake).Wake, s.Wake)})
	return s, stop
}

func chain(a, b func()) func() {
	if a == nil {
		return b
	}
	return func() { a(); b() }
}

// register registers sub on the address book for content updates.
func (e *env) register(t testing.TB, sub *pushtest.Subscription) *store.PushRegistration {
	t.Helper()
	r := &store.PushRegistration{Login: "ann", Collection: e.coll.ID, Resource: sub.Resource, PublicKey: sub.PublicKey,
		AuthSecret: sub.AuthSecret, Content: true, Expires: time.Now().Add(3 * 24 * time.Hour)}
	if _, err := e.st.RegisterPush(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// put writes a card with ctx and returns the collection's sync sequence
// number after it.
func (e *env) put(t testing.TB, ctx context.Context, name string) int64 {
	t.Helper()
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + name + "\r\nFN:" + name + "\r\nEND:VCARD\r\n"
	if _, _, err := e.st.PutObject(ctx, &store.Object{Collection: e.coll.ID, Name: name + ".vcf", UID: name, Data: []byte(card)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	return e.seq(t)
}

func (e *env) seq(t testing.TB) int64 {
	t.Helper()
	next, _, err := e.st.ChangesSince(context.Background(), e.coll.ID, 0, 0, false, func(*store.Change) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// delivered waits until the store recorded a delivery to r at or after
// since (its LastSent).
func (e *env) delivered(t testing.TB, r *store.PushRegistration, since time.Time) *store.PushRegistration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := e.st.GetPushRegistration(context.Background(), "ann", r.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSent.Before(since) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery recorded since %v (last %v)", since, got.LastSent)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gone waits until r is deleted.
func (e *env) gone(t testing.TB, r *store.PushRegistration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.st.GetPushRegistration(context.Background(), "ann", r.Token)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the registration is still there")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// owed is how many messages the queue holds (claimed as it counts, at
// at, so call it once the senders are stopped).
func (e *env) owed(t testing.TB, at time.Time) int {
	t.Helper()
	ds, _, err := e.st.ClaimPushes(context.Background(), at, time.Minute, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

func parse(t testing.TB, m pushtest.Message) pushtest.PushMessage {
	t.Helper()
	if m.Err != nil || m.Status != 201 {
		t.Fatalf("message %d: status %d, %v", m.Seq, m.Status, m.Err)
	}
	p, err := pushtest.Parse(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A write to a collection sends its registration exactly one message,
// with the collection's topic and the sync token after the write, signed
// with the server's key.
func TestDeliversAWrite(t *testing.T) {
	e := newEnv(t, 0)
	sub := e.srv.Subscribe(t)
	r := e.register(t, sub)
	key, err := e.svc.Key(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ExpectVAPIDKey(key.Public)
	_, stop := e.run(t, nil)
	start := time.Now()
	seq := e.put(t, e.wake, "a")
	p := parse(t, e.srv.WaitFor(t, sub, 1, 10*time.Second)[0])
	if p != (pushtest.PushMessage{Topic: e.svc.CollectionTopic(e.coll.ID), Content: true, SyncToken: store.SyncToken(e.coll.ID, seq)}) {
		t.Fatalf("%+v, want the topic %s and the token of seq %d", p, e.svc.CollectionTopic(e.coll.ID), seq)
	}
	e.delivered(t, r, start)
	stop()
	if n := len(e.srv.Messages()); n != 1 {
		t.Fatalf("%d messages", n)
	}
	if n := e.owed(t, time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("%d messages still owed", n)
	}
}

// Deleting a collection sends its registration one message, a content
// update with the collection's topic and no sync token (the collection
// has none any more); the registration goes once it is delivered, or once
// the push service refused the message.
func TestDeliversACollectionDeletion(t *testing.T) {
	e := newEnv(t, 0)
	told, refusing := e.srv.Subscribe(t), e.srv.Subscribe(t)
	rt, rr := e.register(t, told), e.register(t, refusing)
	e.srv.Answer(refusing, pushtest.Reply{Status: 400})
	_, stop := e.run(t, nil)
	if err := e.st.DeleteCollection(e.wake, e.coll.ID); err != nil {
		t.Fatal(err)
	}
	p := parse(t, e.srv.WaitFor(t, told, 1, 10*time.Second)[0])
	if want := (pushtest.PushMessage{Topic: e.svc.CollectionTopic(e.coll.ID), Content: true}); p != want {
		t.Fatalf("%+v, want %+v", p, want)
	}
	e.gone(t, rt)
	e.gone(t, rr)
	stop()
	if n := len(e.srv.MessagesTo(told)); n != 1 {
		t.Fatalf("%d messages", n)
	}
}

// Ten writes within a second make one or two messages (the first at once,
// the rest joined into one after the spacing), the last with the token of
// the last write.
func TestBurstCoalesces(t *testing.T) {
	e := newEnv(t, 0) // push.DefaultSpacing
	sub := e.srv.Subscribe(t)
	r := e.register(t, sub)
	_, stop := e.run(t, nil)
	start := time.Now()
	var seq int64
	for i := range 10 {
		seq = e.put(t, e.wake, fmt.Sprint("card", i))
		time.Sleep(90 * time.Millisecond)
	}
	want := store.SyncToken(e.coll.ID, seq)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms := e.srv.MessagesTo(sub)
		if len(ms) > 0 && parse(t, ms[len(ms)-1]).SyncToken == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message with %s in %d messages", want, len(ms))
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.delivered(t, r, start)
	stop()
	if n := len(e.srv.Messages()); n < 1 || n > 2 {
		t.Fatalf("%d messages for ten writes", n)
	}
	if n := e.owed(t, time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("%d messages still owed", n)
	}
	t.Logf("%d messages for ten writes", len(e.srv.Messages()))
}

// 410 and 404 from the push service remove the registration; 400 drops
// the message and keeps the registration.
func TestPushServiceRefuses(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	gone, missing, bad := e.srv.Subscribe(t), e.srv.Subscribe(t), e.srv.Subscribe(t)
	rg, rm, rb := e.register(t, gone), e.register(t, missing), e.register(t, bad)
	e.srv.Unsubscribe(gone)
	e.srv.Answer(missing, pushtest.Reply{Status: 404})
	e.srv.Answer(bad, pushtest.Reply{Status: 400, Times: 1})
	_, stop := e.run(t, nil)
	e.put(t, e.wake, "a")
	e.gone(t, rg)
	e.gone(t, rm)
	e.logs.wait(t, "push message refused by the push service; dropped", 1)
	// The message refused is not sent again; the next write is delivered.
	start := time.Now()
	seq := e.put(t, e.wake, "b")
	if p := parse(t, e.srv.WaitFor(t, bad, 2, 10*time.Second)[1]); p.SyncToken != store.SyncToken(e.coll.ID, seq) {
		t.Fatalf("%+v", p)
	}
	e.delivered(t, rb, start)
	stop()
	if n := len(e.srv.MessagesTo(gone)) + len(e.srv.MessagesTo(missing)); n != 2 {
		t.Errorf("%d messages to the gone subscriptions, want one each", n)
	}
	if n := e.owed(t, time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("%d messages still owed", n)
	}
}

// 500 is retried after the backoff until the push service takes the
// message; 429 waits for Retry-After.
func TestRetries(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	sub := e.srv.Subscribe(t)
	r := e.register(t, sub)
	e.srv.Answer(sub, pushtest.Reply{Status: 500, Times: 2})
	e.srv.Answer(sub, pushtest.Reply{Status: 429, RetryAfter: "1", Times: 1})
	var mu sync.Mutex
	var waits []int
	_, stop := e.run(t, func(s *push.Sender) {
		s.Backoff = func(n int) time.Duration {
			mu.Lock()
			waits = append(waits, n)
			mu.Unlock()
			return 20 * time.Millisecond
		}
	})
	start := time.Now()
	seq := e.put(t, e.wake, "a")
	ms := e.srv.WaitFor(t, sub, 4, 20*time.Second)
	if got := []int{ms[0].Status, ms[1].Status, ms[2].Status, ms[3].Status}; !slices.Equal(got, []int{500, 500, 429, 201}) {
		t.Fatalf("statuses %v", got)
	}
	if p := parse(t, ms[3]); p.SyncToken != store.SyncToken(e.coll.ID, seq) {
		t.Fatalf("%+v", p)
	}
	if gap := ms[3].Received.Sub(ms[2].Received); gap < 900*time.Millisecond {
		t.Errorf("sent again %v after Retry-After: 1", gap)
	}
	e.delivered(t, r, start)
	stop()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(waits, []int{1, 2}) {
		t.Errorf("Backoff asked for %v, want [1 2] (Retry-After replaces the third)", waits)
	}
	if n := e.owed(t, time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("%d messages still owed", n)
	}
}

// After MaxAttempts failures the message is dropped; the registration
// stays while something was delivered to it (or it was registered) within
// a day, and goes otherwise.
func TestGivesUp(t *testing.T) {
	for _, c := range []struct {
		name  string
		shift time.Duration // the sender's clock ahead of the registration's
		kept  bool
	}{
		{"registered lately", 0, true},
		{"nothing delivered for a day", push.Tolerance + time.Hour, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, time.Millisecond)
			sub := e.srv.Subscribe(t)
			r := e.register(t, sub)
			e.srv.Answer(sub, pushtest.Reply{Status: 503})
			_, stop := e.run(t, func(s *push.Sender) {
				s.Backoff = func(int) time.Duration { return time.Millisecond }
				s.Now = func() time.Time { return time.Now().Add(c.shift) }
			})
			e.put(t, e.wake, "a")
			if c.kept {
				e.logs.wait(t, "push message dropped", 1)
			} else {
				e.logs.wait(t, "push registration removed: nothing delivered", 1)
			}
			stop()
			if n := e.owed(t, time.Now().Add(c.shift+time.Hour)); n != 0 {
				t.Fatalf("%d messages still owed", n)
			}
			if n := len(e.srv.MessagesTo(sub)); n != push.MaxAttempts {
				t.Errorf("%d attempts, want %d", n, push.MaxAttempts)
			}
			_, err := e.st.GetPushRegistration(context.Background(), "ann", r.Token)
			if c.kept != (err == nil) {
				t.Errorf("registration: %v", err)
			}
		})
	}
}

// claimCounter is the store, counting the claims made on it.
type claimCounter struct {
	store.Store
	n atomic.Int32
}

func (c *claimCounter) ClaimPushes(ctx context.Context, now time.Time, lease, spacing time.Duration, limit int) ([]store.PushDelivery, time.Time, error) {
	defer c.n.Add(1)
	return c.Store.ClaimPushes(ctx, now, lease, spacing, limit)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("waiting for " + what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A write carrying the Sender's wake-up is delivered at once; without it
// (another process, the command line) the Sender finds it when it polls.
// With the poll out of the way, only the wake-up can send.
func TestWake(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	sub := e.srv.Subscribe(t)
	e.register(t, sub)
	cc := &claimCounter{Store: e.st}
	e.st = cc
	s, _ := e.run(t, func(s *push.Sender) { s.Poll = time.Hour })
	// Run claims when it starts, when woken, and when a delivery ends.
	waitFor(t, "the first claim", func() bool { return cc.n.Load() == 1 })
	e.put(t, e.wake, "a")
	e.srv.WaitFor(t, sub, 1, 10*time.Second)
	waitFor(t, "the claims of the wake-up and of the delivery's end", func() bool { return cc.n.Load() == 3 })
	// Written without the wake-up: nothing is claimed or sent within a
	// second...
	seq := e.put(t, context.Background(), "b")
	time.Sleep(time.Second)
	if n, c := len(e.srv.Messages()), cc.n.Load(); n != 1 || c != 3 {
		t.Fatalf("%d messages and %d claims without a wake-up or a poll", n, c)
	}
	// ...until something wakes the Sender.
	s.Wake()
	if p := parse(t, e.srv.WaitFor(t, sub, 2, 10*time.Second)[1]); p.SyncToken != store.SyncToken(e.coll.ID, seq) {
		t.Fatalf("%+v", p)
	}
}

// What other processes queue is found by the poll.
func TestPoll(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	sub := e.srv.Subscribe(t)
	e.register(t, sub)
	e.run(t, func(s *push.Sender) { s.Poll = 100 * time.Millisecond })
	seq := e.put(t, context.Background(), "a")
	if p := parse(t, e.srv.WaitFor(t, sub, 1, 10*time.Second)[0]); p.SyncToken != store.SyncToken(e.coll.ID, seq) {
		t.Fatalf("%+v", p)
	}
}

// Stopped during a delivery, Run cuts it short and returns; the message
// stays owed, claimed until the lease runs out, then due again, and the
// next Sender delivers it.
func TestStopDuringDelivery(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	sub := e.srv.Subscribe(t)
	r := e.register(t, sub)
	e.srv.SetDelay(time.Hour)
	_, stop := e.run(t, nil)
	seq := e.put(t, e.wake, "a")
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Held() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery under way")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if m := e.srv.Wait(t, 1, 10*time.Second)[0]; m.Err == nil {
		t.Fatalf("%+v", m)
	}
	if n := e.owed(t, time.Now()); n != 0 {
		t.Fatalf("%d messages claimable while the lease holds", n)
	}
	// A restarted Sender would claim it once the lease ran out: its
	// clock is moved past it.
	e.srv.SetDelay(0)
	start := time.Now()
	e.run(t, func(s *push.Sender) { s.Now = func() time.Time { return time.Now().Add(2 * time.Minute) } })
	if p := parse(t, e.srv.WaitFor(t, sub, 2, 10*time.Second)[1]); p.SyncToken != store.SyncToken(e.coll.ID, seq) {
		t.Fatalf("%+v", p)
	}
	e.delivered(t, r, start)
}

// Two Senders on one store deliver each message once.
func TestTwoSenders(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	var subs []*pushtest.Subscription
	for range 20 {
		sub := e.srv.Subscribe(t)
		e.register(t, sub)
		subs = append(subs, sub)
	}
	e.run(t, nil)
	e.run(t, nil)
	e.put(t, e.wake, "a")
	e.srv.Wait(t, len(subs), 20*time.Second)
	e.logs.wait(t, "push message delivered", len(subs))
	for _, sub := range subs {
		if n := len(e.srv.MessagesTo(sub)); n != 1 {
			t.Errorf("%d messages to one subscription", n)
		}
	}
	if n := len(e.srv.Messages()); n != len(subs) {
		t.Errorf("%d messages for %d subscriptions", n, len(subs))
	}
}

// startTarpit starts a push service that takes connections and requests
// and never answers.
func startTarpit(t *testing.T) *httptest.Server {
	tarpit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Minute):
		}
	}))
	t.Cleanup(tarpit.Close)
	return tarpit
}

// Push services that take connections and never answer (a tarpit, or a
// self-hosted one down behind a firewall that drops packets) hold up only
// their own messages: another collection's message, to another push
// service, arrives at once although twenty older ones wait for the
// tarpit, more than the Sender delivers at once.
func TestTarpitHoldsUpOnlyItsOwn(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	tarpit := startTarpit(t)
	ctx := context.Background()
	for range 20 {
		sub := e.srv.Subscribe(t)
		r := &store.PushRegistration{Login: "ann", Collection: e.coll.ID, Resource: tarpit.URL + "/push/" + sub.ID,
			PublicKey: sub.PublicKey, AuthSecret: sub.AuthSecret, Content: true, Expires: time.Now().Add(72 * time.Hour)}
		if _, err := e.st.RegisterPush(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	other := &store.Collection{Owner: "ann", Kind: store.KindCard, Name: "other"}
	if err := e.st.CreateCollection(ctx, other); err != nil {
		t.Fatal(err)
	}
	victim := e.srv.Subscribe(t)
	if _, err := e.st.RegisterPush(ctx, &store.PushRegistration{Login: "ann", Collection: other.ID, Resource: victim.Resource,
		PublicKey: victim.PublicKey, AuthSecret: victim.AuthSecret, Content: true, Expires: time.Now().Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.run(t, nil)
	e.put(t, e.wake, "a") // twenty messages for the tarpit
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:v\r\nFN:v\r\nEND:VCARD\r\n"
	if _, _, err := e.st.PutObject(e.wake, &store.Object{Collection: other.ID, Name: "v.vcf", UID: "v", Data: []byte(card)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	m := e.srv.WaitFor(t, victim, 1, 60*time.Second)[0]
	lat := m.Received.Sub(start)
	t.Logf("the other collection's message arrived %v after its write", lat)
	if lat > 5*time.Second {
		t.Fatalf("the other collection's message waited %v behind a push service that does not answer", lat)
	}
}

// One user's push services that never answer, on more hosts than the
// Sender delivers to at once (a wildcard DNS name makes as many as one
// likes), hold up that user's messages only: at most four of one user's
// deliveries are under way at once.
func TestTarpitsOfOneUserHoldUpOnlyTheirs(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	ctx := context.Background()
	for range 10 {
		tarpit := startTarpit(t)
		for range 2 {
			sub := e.srv.Subscribe(t)
			r := &store.PushRegistration{Login: "ann", Collection: e.coll.ID, Resource: tarpit.URL + "/push/" + sub.ID,
				PublicKey: sub.PublicKey, AuthSecret: sub.AuthSecret, Content: true, Expires: time.Now().Add(72 * time.Hour)}
			if _, err := e.st.RegisterPush(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.st.CreateUser(ctx, &store.User{Login: "bob", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	book := &store.Collection{Owner: "bob", Kind: store.KindCard, Name: "contacts"}
	if err := e.st.CreateCollection(ctx, book); err != nil {
		t.Fatal(err)
	}
	victim := e.srv.Subscribe(t)
	if _, err := e.st.RegisterPush(ctx, &store.PushRegistration{Login: "bob", Collection: book.ID, Resource: victim.Resource,
		PublicKey: victim.PublicKey, AuthSecret: victim.AuthSecret, Content: true, Expires: time.Now().Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.run(t, nil)
	e.put(t, e.wake, "a") // twenty messages for ten tarpits
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:v\r\nFN:v\r\nEND:VCARD\r\n"
	if _, _, err := e.st.PutObject(e.wake, &store.Object{Collection: book.ID, Name: "v.vcf", UID: "v", Data: []byte(card)}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	m := e.srv.WaitFor(t, victim, 1, 60*time.Second)[0]
	lat := m.Received.Sub(start)
	t.Logf("bob's message arrived %v after his write", lat)
	if lat > 5*time.Second {
		t.Fatalf("bob's message waited %v behind ann's push services that do not answer", lat)
	}
}

// At most two deliveries to one push service's host are under way at
// once; the others wait for their turn (not for their leases to run out)
// and all go out.
func TestPerHostLimit(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	var subs []*pushtest.Subscription
	for range 10 {
		sub := e.srv.Subscribe(t)
		e.register(t, sub)
		subs = append(subs, sub)
	}
	e.srv.SetDelay(300 * time.Millisecond)
	e.run(t, nil)
	start := time.Now()
	e.put(t, e.wake, "a")
	e.srv.Wait(t, len(subs), 20*time.Second)
	t.Logf("%d messages to one host in %v", len(subs), time.Since(start))
	if p := e.srv.Peak(); p > 2 {
		t.Fatalf("%d deliveries to one host at once", p)
	}
	for _, sub := range subs {
		if n := len(e.srv.MessagesTo(sub)); n != 1 {
			t.Errorf("%d messages to one subscription", n)
		}
	}
}

// lateClaims is the store, whose claims, while late is set, take their
// leases from a clock read a minute before: as a claim's would that waited
// that long for the database's write lock.
type lateClaims struct {
	store.Store
	late atomic.Bool
}

func (l *lateClaims) ClaimPushes(ctx context.Context, now time.Time, lease, spacing time.Duration, limit int) ([]store.PushDelivery, time.Time, error) {
	if l.late.Load() {
		now = now.Add(-lease - time.Second)
	}
	ds, next, err := l.Store.ClaimPushes(ctx, now, lease, spacing, limit)
	if len(ds) > 0 {
		l.late.Store(false)
	}
	return ds, next, err
}

// A claim whose leases have (almost) run out when it returns sends
// nothing: the messages are left for the next claim, which sends them
// once, instead of being sent twice.
func TestStaleLeaseSentOnce(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	sub := e.srv.Subscribe(t)
	e.register(t, sub)
	e.srv.SetDelay(time.Second)
	lc := &lateClaims{Store: e.st}
	e.st = lc
	s, _ := e.run(t, func(s *push.Sender) { s.Poll = time.Hour })
	time.Sleep(100 * time.Millisecond) // Run's first claim
	lc.late.Store(true)
	seq := e.put(t, e.wake, "a")
	time.Sleep(200 * time.Millisecond)
	s.Wake() // another claim, while a delivery of the late one would be under way
	if p := parse(t, e.srv.WaitFor(t, sub, 1, 10*time.Second)[0]); p.SyncToken != store.SyncToken(e.coll.ID, seq) {
		t.Fatalf("%+v", p)
	}
	time.Sleep(2 * time.Second)
	if n := len(e.srv.MessagesTo(sub)); n != 1 {
		t.Fatalf("%d messages for one write", n)
	}
}

// The log names neither the subscription's keys nor its resource's path.
func TestLogsNoSecrets(t *testing.T) {
	e := newEnv(t, time.Millisecond)
	ok, gone, failing := e.srv.Subscribe(t), e.srv.Subscribe(t), e.srv.Subscribe(t)
	e.register(t, ok)
	e.register(t, gone)
	e.register(t, failing)
	e.srv.Unsubscribe(gone)
	e.srv.Answer(failing, pushtest.Reply{Status: 500, Times: 1})
	e.run(t, func(s *push.Sender) { s.Backoff = func(int) time.Duration { return time.Millisecond } })
	e.put(t, e.wake, "a")
	e.logs.wait(t, "push message delivered", 2)
	recs := e.logs.wait(t, "push registration removed", 1)
	if len(recs) < 4 {
		t.Fatalf("log: %q", recs)
	}
	for _, r := range recs {
		for _, sub := range []*pushtest.Subscription{ok, gone, failing} {
			for _, secret := range []string{sub.PublicKey, sub.AuthSecret, sub.ID} {
				if strings.Contains(r, secret) {
					t.Errorf("the log record %q holds %q", r, secret)
				}
			}
		}
	}
}

// BenchmarkWriteToMessage measures the time from a write (with the
// Sender's wake-up) to its message at the push service stand-in, for
// writes spaced beyond the spacing (1 ms here): go test -run X -bench
// WriteToMessage -benchtime 200x ./internal/push/. ns/op includes the
// pause between writes.
func BenchmarkWriteToMessage(b *testing.B) {
	e := newEnv(b, time.Millisecond)
	sub := e.srv.Subscribe(b)
	r := e.register(b, sub)
	e.run(b, nil)
	lat := make([]time.Duration, 0, b.N)
	writes := make([]time.Duration, 0, b.N) // of which the write itself
	after := make([]time.Duration, 0, b.N)  // and from its commit
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		e.put(b, e.wake, fmt.Sprint("card", i))
		writes = append(writes, time.Since(start))
		m := e.srv.WaitFor(b, sub, i+1, 10*time.Second)[i]
		lat = append(lat, m.Received.Sub(start))
		after = append(after, lat[i]-writes[i])
		e.delivered(b, r, m.Received)
		time.Sleep(20 * time.Millisecond) // beyond the spacing and the claim gap
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(writes)
	slices.Sort(after)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(writes[len(writes)/2]), "ms-write-median")
	b.ReportMetric(ms(after[len(after)/2]), "ms-after-commit-median")
	b.ReportMetric(ms(after[(len(after)*99-1)/100]), "ms-after-commit-p99")
	b.ReportMetric(ms(lat[len(lat)/2]), "ms-median")
	b.ReportMetric(ms(lat[(len(lat)*99-1)/100]), "ms-p99")
	b.ReportMetric(ms(lat[len(lat)-1]), "ms-max")
}
