package auth

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// notified collects what an Authenticator tells Options.Notify.
type notified struct {
	mu   sync.Mutex
	list []store.Notice
}

func (n *notified) notify(_ context.Context, x store.Notice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, x)
}

func (n *notified) take() []store.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.list
	n.list = nil
	return l
}

func TestNotifyNewSignIn(t *testing.T) {
	var got notified
	h := newHarness(t, Options{Notify: got.notify})
	check := func(what, login, password, addr, client string, want bool) {
		t.Helper()
		if _, err := h.a.SignIn(context.Background(), Attempt{Login: login, Password: password, Addr: addr, Client: client, Via: h.via}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		l := got.take()
		if !want {
			if len(l) != 0 {
				t.Fatalf("%s: notified %+v", what, l)
			}
			return
		}
		if len(l) != 1 {
			t.Fatalf("%s: %d notices, want 1", what, len(l))
		}
		n := l[0]
		if n.Kind != store.NoticeNewSignIn || n.Login != "alice@example.com" || n.Addr != addr || n.Client != client || n.Detail != h.via || n.Time.IsZero() {
			t.Errorf("%s: notice %+v", what, n)
		}
	}
	check("first sign-in ever", "alice@example.com", "secret", "192.0.2.1:5555", "DAVx5/4.4", false)
	check("same place again", "alice@example.com", "secret", "192.0.2.1:6666", "DAVx5/4.4", false)
	check("new address", "alice@example.com", "secret", "198.51.100.7", "DAVx5/4.4", true)
	check("new device", "alice@example.com", "secret", "198.51.100.7", "Thunderbird/128", true)
	app := h.addApp("alice@example.com", "phone", 1)
	check("app password, known device, new address (a phone roaming)", "alice@example.com", app, "203.0.113.9", "DAVx5/4.4", false)
	check("app password on a new device", "alice@example.com", app, "203.0.113.9", "curl/8", true)
	h.via = ViaWeb
	check("the pages from a new address", "alice@example.com", "secret", "203.0.113.50", "Firefox", true)
}

func TestNotifyFailures(t *testing.T) {
	var got notified
	h := newHarness(t, Options{Notify: got.notify})
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	for i := 1; i <= 10; i++ {
		h.bad(t, "alice@example.com", "wrong", "198.51.100.7")
		l := got.take()
		if i < FailuresNoticeAt {
			if len(l) != 0 {
				t.Fatalf("failure %d: notified %+v", i, l)
			}
			continue
		}
		// Every failure from then on is told; the notices' rate limit
		// makes one mail of them.
		if len(l) != 1 || l[0].Kind != store.NoticeFailedSignIns || l[0].Login != "alice@example.com" || l[0].Addr != "198.51.100.7" {
			t.Fatalf("failure %d: %+v", i, l)
		}
		if want := strconv.Itoa(i); l[0].Detail != want {
			t.Errorf("failure %d: detail %q, want the count", i, l[0].Detail)
		}
	}
	// Unknown logins have no owner to tell.
	for range 10 {
		h.bad(t, "nobody@example.com", "wrong", "198.51.100.8")
	}
	if l := got.take(); len(l) != 0 {
		t.Errorf("unknown login: %+v", l)
	}
}

// Wrong second-factor codes are told apart from wrong passwords: whoever
// sent them knew the password.
func TestNotifyWrongCodes(t *testing.T) {
	x := newTFA(t)
	var got notified
	a := NewAuthenticator(x.st, Options{Now: x.clock.Now, Sleep: x.sleep.Sleep, Params: cheap, Notify: got.notify})
	for i := 1; i <= FailuresNoticeAt; i++ {
		if _, err := x.try(a, "000000"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	l := got.take()
	if len(l) != 1 || l[0].Kind != store.NoticeFailedSignIns || l[0].Detail != "code:"+strconv.Itoa(FailuresNoticeAt) || l[0].Login != tfaLogin {
		t.Fatalf("notices after %d wrong codes: %+v", FailuresNoticeAt, l)
	}
}

// With a lock threshold below FailuresNoticeAt, the mail comes at the
// lock, which would stop the count short of it.
func TestNotifyFailuresLowLock(t *testing.T) {
	var got notified
	h := newHarness(t, Options{Notify: got.notify, LockAfter: 2})
	h.bad(t, "alice@example.com", "wrong", "198.51.100.7")
	if l := got.take(); len(l) != 0 {
		t.Fatalf("after one failure: %+v", l)
	}
	h.bad(t, "alice@example.com", "wrong", "198.51.100.7")
	if l := got.take(); len(l) != 1 || l[0].Detail != "2" {
		t.Fatalf("after the failure that locks: %+v", l)
	}
}
