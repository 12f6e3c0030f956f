package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// fakeRemote is a mail server's password check: it knows passwords, or is
// down when err is set.
type fakeRemote struct {
	mu        sync.Mutex
	passwords map[string]string
	err       error
	calls     int
	lastAddr  string
}

func (f *fakeRemote) Check(_ context.Context, login, password, addr string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.lastAddr = addr
	if f.err != nil {
		return false, f.err
	}
	want, ok := f.passwords[login]
	return ok && want == password, nil
}

func (f *fakeRemote) take() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls
	f.calls = 0
	return n
}

func (f *fakeRemote) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// remoteHarness is newHarness with a mail server that knows
// carol@mail.example and dave@other.example, domains limited to
// mail.example unless domains is given.
func remoteHarness(t *testing.T, domains ...string) (*harness, *fakeRemote, *int) {
	if domains == nil {
		domains = []string{"mail.example"}
	}
	remote := &fakeRemote{passwords: map[string]string{
		"carol@mail.example": "carol mail password",
		"dave@other.example": "dave mail password",
	}}
	provisioned := new(int)
	var h *harness
	h = newHarness(t, Options{Remote: remote, RemoteDomains: domains,
		Provision: func(_ context.Context, login string) (*store.User, error) {
			h.users.mu.Lock()
			defer h.users.mu.Unlock()
			if _, ok := h.users.users[login]; ok {
				return nil, store.ErrExists
			}
			*provisioned++
			u := &store.User{Login: login, Backend: store.BackendIMAP}
			h.users.users[login] = u
			return u, nil
		}})
	return h, remote, provisioned
}

func TestRemoteSignInCreatesUserOnce(t *testing.T) {
	h, remote, provisioned := remoteHarness(t)
	id := h.ok(t, "Carol@Mail.Example", "carol mail password", "192.0.2.1:4444")
	if remote.lastAddr != "192.0.2.1" {
		t.Errorf("the mail server was told the client is at %q", remote.lastAddr)
	}
	if id.User.Backend != store.BackendIMAP || id.Credential != credPassword {
		t.Errorf("identity %+v", id)
	}
	if *provisioned != 1 || remote.take() != 1 {
		t.Fatalf("provisioned %d, remote checks: want 1 each", *provisioned)
	}
	// Cached: no second question to the mail server, no second user.
	h.ok(t, "carol@mail.example", "carol mail password", "192.0.2.1")
	if *provisioned != 1 || remote.take() != 0 {
		t.Errorf("second sign-in: provisioned %d, asked the mail server again", *provisioned)
	}
	// After the cache lapses the mail server is asked again (a password
	// changed there must not live on here).
	h.clock.Advance(DefaultCacheTTL + time.Second)
	h.ok(t, "carol@mail.example", "carol mail password", "192.0.2.1")
	if n := remote.take(); n != 1 {
		t.Errorf("after the cache TTL: %d remote checks, want 1", n)
	}
	if *provisioned != 1 {
		t.Errorf("provisioned %d times", *provisioned)
	}
	if got := h.takeSignIns(); len(got) == 0 || !got[0].OK || got[0].Login != "carol@mail.example" {
		t.Errorf("sign-ins recorded: %+v", got)
	}
	// Local users keep their own passwords; the mail server is not asked.
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	if remote.take() != 0 {
		t.Error("a local user's password went to the mail server")
	}
}

func TestRemoteWrongPasswordThrottledBeforeMailServer(t *testing.T) {
	h, remote, provisioned := remoteHarness(t)
	for range DefaultLockAfter {
		h.bad(t, "carol@mail.example", "guess", "192.0.2.1")
	}
	if n := remote.take(); n != DefaultLockAfter {
		t.Errorf("%d remote checks for %d guesses", n, DefaultLockAfter)
	}
	if *provisioned != 0 {
		t.Error("a wrong password created the user")
	}
	h.throttled(t, "carol@mail.example", "carol mail password", "192.0.2.1", DefaultLockFor)
	if n := remote.take(); n != 0 {
		t.Errorf("a locked attempt reached the mail server (%d checks)", n)
	}
}

func TestRemoteDomainsAllowList(t *testing.T) {
	h, remote, provisioned := remoteHarness(t)
	h.bad(t, "dave@other.example", "dave mail password", "192.0.2.1")
	h.bad(t, "nodomain", "x", "192.0.2.1")
	if n := remote.take(); n != 0 || *provisioned != 0 {
		t.Errorf("unlisted domains: %d remote checks, %d users created", n, *provisioned)
	}
	if h.verifies.Load() != 2 {
		t.Errorf("unlisted domains: %d dummy verifications, want 2 (as long as a wrong password)", h.verifies.Load())
	}

	all, remote2, _ := remoteHarness(t, []string{}...)
	all.ok(t, "dave@other.example", "dave mail password", "192.0.2.1")
	if remote2.take() != 1 {
		t.Error("without a domain list every login goes to the mail server")
	}
}

func TestRemoteUnavailable(t *testing.T) {
	h, remote, provisioned := remoteHarness(t)
	remote.setDown(errors.New("dial tcp: connection refused"))
	for range DefaultLockAfter + 2 {
		id, err := h.check("carol@mail.example", "carol mail password", "192.0.2.1")
		var ue *UnavailableError
		if id != nil || !errors.As(err, &ue) || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("mail server down: %v, %v; want *UnavailableError", id, err)
		}
	}
	if *provisioned != 0 {
		t.Error("created a user without a verified password")
	}
	// Unavailability counted no failure: once it is back, no lock.
	remote.setDown(nil)
	h.ok(t, "carol@mail.example", "carol mail password", "192.0.2.1")
	if d := h.sleep.take(); len(d) != 0 {
		t.Errorf("slowed down by unavailability: %v", d)
	}
	// A verified password stays good for the cache's TTL while the mail
	// server is down again.
	remote.setDown(errors.New("timeout"))
	h.ok(t, "carol@mail.example", "carol mail password", "192.0.2.1")
	if _, err := h.check("carol@mail.example", "another", "192.0.2.1"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("uncached password with the server down: %v, want ErrUnavailable", err)
	}
}

func TestRemoteUserRequiresAppPasswordsOverDAV(t *testing.T) {
	h, remote, _ := remoteHarness(t)
	h.ok(t, "carol@mail.example", "carol mail password", "192.0.2.1")
	remote.take()
	h.users.mu.Lock()
	h.users.users["carol@mail.example"].RequireAppPasswords = true
	h.users.mu.Unlock()
	h.bad(t, "carol@mail.example", "carol mail password", "192.0.2.9")
	if remote.take() != 0 {
		t.Error("the mail server was asked for a password DAV does not accept")
	}
	app := h.addApp("carol@mail.example", "phone", 3)
	h.ok(t, "carol@mail.example", app, "192.0.2.9")
	h.via = ViaWeb
	h.ok(t, "carol@mail.example", "carol mail password", "192.0.2.9")
}

// blockingRemote is a mail server that answers only when released.
type blockingRemote struct {
	release chan struct{}
	entered chan struct{}
}

func (b *blockingRemote) Check(ctx context.Context, _, _, _ string) (bool, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// A mail server that hangs holds slots of its own, not the argon2 ones:
// local users still sign in.
func TestRemoteSlowServerDoesNotBlockLocalUsers(t *testing.T) {
	remote := &blockingRemote{release: make(chan struct{}), entered: make(chan struct{}, 64)}
	h := newHarness(t, Options{Remote: remote, MaxConcurrent: 2})
	var wg sync.WaitGroup
	const hanging = 2 // every argon2 slot
	for i := range hanging {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.check(fmt.Sprintf("user%d@mail.example", i), "pw", fmt.Sprintf("192.0.2.%d", i+1))
		}()
	}
	for range hanging {
		<-remote.entered
	}
	done := make(chan struct{})
	go func() {
		h.ok(t, "alice@example.com", "secret", "198.51.100.1")
		close(done)
	}()
	var blocked bool
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		blocked = true
	}
	close(remote.release)
	wg.Wait()
	<-done
	if blocked {
		t.Fatal("a local sign-in waited behind mail server checks")
	}
}
