package auth

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// store.Store is a UserSource.
var _ UserSource = store.Store(nil)

// fakeUsers is a UserSource over maps that counts GetUser calls and keeps
// the sign-ins recorded. Its failure counters follow the store.Store
// contract; two Authenticators sharing one are two processes sharing a
// database.
type fakeUsers struct {
	mu         sync.Mutex
	users      map[string]*store.User
	apps       map[string]*store.AppPassword // by digest
	err        error                         // returned by GetUser when set
	findErr    error                         // returned by FindAppPassword when set
	findDelay  time.Duration                 // how long FindAppPassword takes
	recordErr  error                         // returned by RecordSignIn when set
	failureErr error                         // returned by the failure counter methods when set
	calls      int
	signIns    []recordedSignIn

	failures      map[string]fakeFailure // by key
	onAdd         func(key string)       // if set, called as AddSignInFailure begins
	failureReads  int                    // calls of SignInFailures
	failureWrites int                    // calls of AddSignInFailure, ClearSignInFailures and TakeBackSignInFailure
	seenReads     int                    // calls of SignedInFrom
}

// fakeFailure is a failure counter's record and when it lapses.
type fakeFailure struct {
	store.FailureCount
	expires time.Time
}

type recordedSignIn struct {
	store.SignIn
	appPassword int64
	keep        time.Duration
}

func (f *fakeUsers) FindAppPassword(_ context.Context, owner, digest string) (*store.AppPassword, error) {
	f.mu.Lock()
	delay := f.findDelay
	f.mu.Unlock()
	time.Sleep(delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.findErr != nil {
		return nil, f.findErr
	}
	p, ok := f.apps[digest]
	if !ok || p.Owner != owner {
		return nil, fmt.Errorf("app password: %w", store.ErrNotFound)
	}
	c := *p
	return &c, nil
}

func (f *fakeUsers) RecordSignIn(_ context.Context, e *store.SignIn, appPassword int64, keep time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recordErr != nil {
		return f.recordErr
	}
	in := *e // recorded as given
	if e.OK {
		// As store.Store sets them.
		e.NewAddress, e.NewDevice, e.First = true, true, true
		for _, o := range f.signIns {
			if o.OK && o.Login == e.Login {
				e.First = false
				e.NewAddress = e.NewAddress && o.Addr != e.Addr
				e.NewDevice = e.NewDevice && o.Client != e.Client
			}
		}
	}
	f.signIns = append(f.signIns, recordedSignIn{in, appPassword, keep})
	return nil
}

func (f *fakeUsers) SignedInFrom(_ context.Context, login, network string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seenReads++
	for _, e := range f.signIns {
		if e.OK && e.Credential == "password" && e.Login == login && e.Network == network {
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeUsers) SignInFailures(_ context.Context, keys []string, now time.Time) ([]store.FailureCount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failureReads++
	if f.failureErr != nil {
		return nil, f.failureErr
	}
	var out []store.FailureCount
	for _, k := range keys {
		if r, ok := f.failures[k]; ok && now.Before(r.expires) {
			out = append(out, r.FailureCount)
		}
	}
	return out, nil
}

func (f *fakeUsers) AddSignInFailure(_ context.Context, key string, now time.Time, window time.Duration, lockAt int, lockFor time.Duration) (store.FailureCount, error) {
	f.mu.Lock()
	onAdd := f.onAdd
	f.mu.Unlock()
	if onAdd != nil {
		onAdd(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failureWrites++
	if f.failureErr != nil {
		return store.FailureCount{}, f.failureErr
	}
	r, ok := f.failures[key]
	if !ok || !now.Before(r.expires) {
		r = fakeFailure{FailureCount: store.FailureCount{Key: key, Start: now}}
	}
	r.Failures++
	if lockAt > 0 && r.Failures >= lockAt && r.LockedUntil.IsZero() {
		r.LockedUntil = now.Add(lockFor)
	}
	r.expires = r.LockedUntil
	if r.expires.IsZero() {
		r.expires = r.Start.Add(window)
	}
	if f.failures == nil {
		f.failures = map[string]fakeFailure{}
	}
	f.failures[key] = r
	return r.FailureCount, nil
}

func (f *fakeUsers) ClearSignInFailures(_ context.Context, keys []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failureWrites++
	if f.failureErr != nil {
		return f.failureErr
	}
	for _, k := range keys {
		delete(f.failures, k)
	}
	return nil
}

func (f *fakeUsers) TakeBackSignInFailure(_ context.Context, key string, start time.Time, window time.Duration, lockAt int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failureWrites++
	if f.failureErr != nil {
		return f.failureErr
	}
	r, ok := f.failures[key]
	if !ok || !r.Start.Equal(start) || r.Failures <= 0 {
		return nil
	}
	r.Failures--
	if r.Failures < lockAt && !r.LockedUntil.IsZero() {
		r.LockedUntil = time.Time{}
		r.expires = r.Start.Add(window)
	}
	if r.Failures == 0 {
		r.expires = time.Time{}
	}
	f.failures[key] = r
	return nil
}

// failureCalls returns the calls of the failure counter methods.
func (f *fakeUsers) failureCalls() (reads, writes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failureReads, f.failureWrites
}

// liveFailures returns how many counters are live at now.
func (f *fakeUsers) liveFailures(now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.failures {
		if now.Before(r.expires) {
			n++
		}
	}
	return n
}

func (f *fakeUsers) GetUser(_ context.Context, login string) (*store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	u, ok := f.users[login]
	if !ok {
		return nil, fmt.Errorf("user %q: %w", login, store.ErrNotFound)
	}
	c := *u
	return &c, nil
}

func (f *fakeUsers) setPassword(t testing.TB, login, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[login] = &store.User{Login: login, PasswordHash: mustHash(t, password, cheap)}
}

func (f *fakeUsers) getCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeSleep records the delays asked for without waiting.
type fakeSleep struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *fakeSleep) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

// take returns the delays recorded since the last call.
func (s *fakeSleep) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.delays
	s.delays = nil
	return d
}

type harness struct {
	a        *Authenticator
	users    *fakeUsers
	clock    *fakeClock
	sleep    *fakeSleep
	verifies atomic.Int64
	hashes   chan string // hashes verified, when not nil
	via      string      // of the attempts of check; ViaDAV unless set
}

// newHarness returns an Authenticator over alice:secret and bob:hunter2,
// with a fake clock and sleep and counted verifications. Options fields
// left zero get the package defaults, except Params (cheap).
func newHarness(t testing.TB, opt Options) *harness {
	h := &harness{
		users: &fakeUsers{users: map[string]*store.User{}, apps: map[string]*store.AppPassword{}},
		clock: &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		sleep: &fakeSleep{},
		via:   ViaDAV,
	}
	h.users.setPassword(t, "alice@example.com", "secret")
	h.users.setPassword(t, "bob", "hunter2")
	h.start(opt)
	return h
}

// sibling returns a harness whose Authenticator is another server process:
// same users, store and clock, its own memory.
func (h *harness) sibling(opt Options) *harness {
	s := &harness{users: h.users, clock: h.clock, sleep: &fakeSleep{}, via: h.via}
	s.start(opt)
	return s
}

func (h *harness) start(opt Options) {
	opt.Now = h.clock.Now
	opt.Sleep = h.sleep.Sleep
	if opt.Params == (Params{}) {
		opt.Params = cheap
	}
	h.a = NewAuthenticator(h.users, opt)
	h.a.verify = func(hash, password string) (bool, error) {
		h.verifies.Add(1)
		if h.hashes != nil {
			h.hashes <- hash
		}
		return VerifyPassword(hash, password)
	}
}

func (h *harness) check(login, password, addr string) (*Identity, error) {
	return h.a.SignIn(context.Background(), Attempt{Login: login, Password: password, Addr: addr, Client: "test", Via: h.via})
}

// bad expects ErrBadCredentials.
func (h *harness) bad(t *testing.T, login, password, addr string) {
	t.Helper()
	id, err := h.check(login, password, addr)
	if id != nil || err != ErrBadCredentials {
		t.Fatalf("SignIn(%q, %q, %q via %s) = %v, %v; want nil, ErrBadCredentials", login, password, addr, h.via, id, err)
	}
}

// ok expects the user named by login, and returns the identity.
func (h *harness) ok(t *testing.T, login, password, addr string) *Identity {
	t.Helper()
	want, _ := NormalizeLogin(login)
	id, err := h.check(login, password, addr)
	if err != nil || id == nil || id.User == nil || id.User.Login != want {
		t.Fatalf("SignIn(%q, %q, %q via %s) = %+v, %v; want user %s", login, password, addr, h.via, id, err, want)
	}
	return id
}

// throttled expects a *ThrottledError with RetryAfter about retry.
func (h *harness) throttled(t *testing.T, login, password, addr string, retry time.Duration) {
	t.Helper()
	id, err := h.check(login, password, addr)
	var te *ThrottledError
	if id != nil || !errors.As(err, &te) {
		t.Fatalf("SignIn(%q, %q, %q via %s) = %v, %v; want *ThrottledError", login, password, addr, h.via, id, err)
	}
	if d := te.RetryAfter - retry; d < -time.Second || d > time.Second {
		t.Fatalf("RetryAfter = %v, want about %v", te.RetryAfter, retry)
	}
	if !errors.Is(err, ErrThrottled) {
		t.Fatal("errors.Is(err, ErrThrottled) = false")
	}
}

func TestSignInSuccess(t *testing.T) {
	h := newHarness(t, Options{})
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	h.ok(t, "  Alice@Example.COM ", "secret", "192.0.2.1")
	if d := h.sleep.take(); len(d) != 0 {
		t.Errorf("successes slept %v", d)
	}
}

func TestSignInWrongAndUnknownAreAlike(t *testing.T) {
	h := newHarness(t, Options{})
	h.hashes = make(chan string, 10)

	h.bad(t, "alice@example.com", "Secret", "192.0.2.1")
	if got := <-h.hashes; got != h.users.users["alice@example.com"].PasswordHash {
		t.Errorf("wrong password verified against %q", got)
	}

	h.bad(t, "nobody@example.com", "secret", "192.0.2.1")
	// An unknown login still costs one verification, against a dummy hash
	// made with the configured parameters.
	if h.verifies.Load() != 2 {
		t.Fatalf("%d verifications, want 2", h.verifies.Load())
	}
	dummy := <-h.hashes
	if p, err := ParseHash(dummy); err != nil || p != cheap {
		t.Errorf("dummy hash %q: params %+v, %v; want %+v", dummy, p, err, cheap)
	}
	if ok, err := VerifyPassword(dummy, "secret"); ok || err != nil {
		t.Errorf("dummy hash accepts a password: %v, %v", ok, err)
	}

	// An invalid login too.
	h.bad(t, "a/b", "secret", "192.0.2.1")
	if h.verifies.Load() != 3 {
		t.Fatalf("%d verifications, want 3", h.verifies.Load())
	}
}

func TestSignInUnusableStoredHash(t *testing.T) {
	h := newHarness(t, Options{})
	h.users.users["carol"] = &store.User{Login: "carol", PasswordHash: ""}
	h.bad(t, "carol", "", "192.0.2.1")
	// The failed parse is followed by a dummy verification to spend the time.
	if h.verifies.Load() != 2 {
		t.Fatalf("%d verifications, want 2", h.verifies.Load())
	}
}

func TestSignInStoreError(t *testing.T) {
	h := newHarness(t, Options{})
	boom := errors.New("disk on fire")
	h.users.err = boom
	for range 20 {
		id, err := h.check("alice@example.com", "secret", "192.0.2.1")
		if id != nil || !errors.Is(err, boom) || errors.Is(err, ErrBadCredentials) {
			t.Fatalf("SignIn = %v, %v; want the store's error", id, err)
		}
	}
	// Store failures are not the client's failures.
	h.users.err = nil
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	if d := h.sleep.take(); len(d) != 0 {
		t.Errorf("slept %v after store errors", d)
	}
}

func TestSlowdownAfterSlowAfter(t *testing.T) {
	h := newHarness(t, Options{LockAfter: 100})
	want := []time.Duration{0, 0, 0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		h.bad(t, "alice@example.com", fmt.Sprint("guess", i), "192.0.2.1")
		got := h.sleep.take()
		if w == 0 && len(got) != 0 || w != 0 && (len(got) != 1 || got[0] != w) {
			t.Fatalf("attempt %d (after %d failures) slept %v, want %v", i+1, i, got, w)
		}
	}
	// The right password waits too (else timing would tell it apart), then
	// clears the failures of the pair; the address's nine, counted a third
	// each, still slow it.
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	if got := h.sleep.take(); len(got) != 1 || got[0] != 8*time.Second {
		t.Fatalf("success after failures slept %v, want [8s]", got)
	}
	h.bad(t, "alice@example.com", "wrong", "192.0.2.1")
	if got := h.sleep.take(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("after a success, slept %v, want [1s]", got)
	}
	// Another address is not slowed.
	h.bad(t, "alice@example.com", "wrong", "192.0.2.2")
	if got := h.sleep.take(); len(got) != 0 {
		t.Fatalf("a fresh address slept %v", got)
	}
}

func TestSlowdownPerAddress(t *testing.T) {
	// Failures for one login from many addresses do not slow that login
	// down (its owner's devices would be); its lock bounds them.
	h := newHarness(t, Options{})
	for i := range 5 {
		h.bad(t, "bob", "wrong", fmt.Sprintf("198.51.100.%d", i))
	}
	h.ok(t, "bob", "hunter2", "198.51.100.200")
	if got := h.sleep.take(); len(got) != 0 {
		t.Fatalf("slept %v", got)
	}
	// An address is slowed after three times SlowAfter failures, whatever
	// the logins.
	for i := range 9 {
		h.bad(t, fmt.Sprint("guess", i), "wrong", "203.0.113.1")
	}
	if got := h.sleep.take(); len(got) != 0 {
		t.Fatalf("nine failures over nine logins slept %v", got)
	}
	h.bad(t, "someone", "wrong", "203.0.113.1")
	if got := h.sleep.take(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("10th failure from the address slept %v, want [1s]", got)
	}
}

func TestSlowdownHonoursContext(t *testing.T) {
	h := newHarness(t, Options{Delay: time.Hour, MaxDelay: time.Hour})
	h.a.opt.Sleep = sleepContext // the real one
	for i := range 3 {
		h.bad(t, "bob", fmt.Sprint(i), "192.0.2.1")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	id, err := h.a.SignIn(ctx, Attempt{Login: "bob", Password: "hunter2", Addr: "192.0.2.1", Via: ViaDAV})
	if id != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("SignIn = %v, %v; want context.Canceled", id, err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("SignIn did not stop waiting when ctx ended")
	}
	if n := h.verifies.Load(); n != 3 {
		t.Fatalf("%d verifications, want 3 (none for the abandoned attempt)", n)
	}
}

func TestLockAddress(t *testing.T) {
	h := newHarness(t, Options{})
	const addr = "203.0.113.7"
	// Thirty failures from one address, spread over logins (known,
	// unknown) so that no login has ten from it.
	for i := range 30 {
		login := []string{"alice@example.com", "bob", "nobody", "carol", "dave", "erin"}[i%6]
		h.bad(t, login, "wrong", addr)
		h.clock.Advance(time.Second)
	}
	verified := h.verifies.Load()

	// The address is refused, even with a right password, without a
	// verification.
	h.throttled(t, "alice@example.com", "secret", addr, 15*time.Minute)
	h.throttled(t, "carol", "x", addr, 15*time.Minute)
	h.clock.Advance(5 * time.Minute)
	h.throttled(t, "bob", "hunter2", addr, 10*time.Minute)
	if h.verifies.Load() != verified {
		t.Fatal("a locked address was still verified")
	}

	// The logins themselves are not locked: others reach them.
	h.ok(t, "alice@example.com", "secret", "203.0.113.8")
	h.ok(t, "bob", "hunter2", "203.0.113.9")

	// The lock expires.
	// Locked at the 10th failure, 1 s before the loop ended.
	h.clock.Advance(10*time.Minute - 2*time.Second)
	h.throttled(t, "bob", "hunter2", addr, time.Second)
	h.clock.Advance(time.Second)
	h.ok(t, "bob", "hunter2", addr)
}

func TestLockLogin(t *testing.T) {
	h := newHarness(t, Options{})
	// Nine failures from one address do not lock it; spread over addresses,
	// 20 failures for alice lock alice everywhere.
	for i := range 20 {
		addr := fmt.Sprintf("198.51.100.%d", i/9)
		h.bad(t, "alice@example.com", fmt.Sprint("guess", i), addr)
	}
	h.throttled(t, "alice@example.com", "secret", "192.0.2.99", 15*time.Minute)
	h.throttled(t, "ALICE@example.com", "secret", "192.0.2.100", 15*time.Minute)
	// Unknown logins lock alike, or locking would reveal which exist.
	for i := range 20 {
		h.bad(t, "ghost", fmt.Sprint("guess", i), fmt.Sprintf("198.51.100.%d", 100+i/9))
	}
	h.throttled(t, "ghost", "x", "192.0.2.101", 15*time.Minute)
	// The addresses (at most 9 failures each) and other logins are fine.
	h.ok(t, "bob", "hunter2", "198.51.100.0")

	h.clock.Advance(15 * time.Minute)
	h.ok(t, "alice@example.com", "secret", "192.0.2.99")
}

func TestLockPair(t *testing.T) {
	h := newHarness(t, Options{})
	const addr = "203.0.113.8"
	for i := range 10 {
		h.bad(t, "bob", fmt.Sprint("guess", i), addr)
	}
	// Bob from that address is refused; bob elsewhere, and others from
	// that address (an office behind one address), are not.
	h.throttled(t, "bob", "hunter2", addr, 15*time.Minute)
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	h.ok(t, "alice@example.com", "secret", addr)
	// Bob's success elsewhere does not unlock the guessing address.
	h.throttled(t, "bob", "hunter2", addr, 15*time.Minute)
}

// A login's lock, which strangers can set from a few addresses, keeps
// them out but not its owner: neither the addresses the owner signed in
// from before, nor app passwords, from anywhere.
func TestLoginLockSparesOwner(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("alice@example.com", "phone", 1)
	h.ok(t, "alice@example.com", "secret", "192.0.2.10") // her laptop, before
	for i := range 20 {
		h.bad(t, "alice@example.com", fmt.Sprint("guess", i), fmt.Sprintf("198.51.100.%d", i/9))
	}
	h.throttled(t, "alice@example.com", "secret", "192.0.2.99", 15*time.Minute)
	h.throttled(t, "alice@example.com", "guess", "198.51.100.0", 15*time.Minute)

	// Her laptop: neither refused nor slowed, and its own failures count
	// as usual for its address.
	h.sleep.take()
	h.ok(t, "alice@example.com", "secret", "192.0.2.10")
	h.ok(t, "ALICE@example.com", "secret", "192.0.2.10")
	h.bad(t, "alice@example.com", "typo", "192.0.2.10")
	if got := h.sleep.take(); len(got) != 0 {
		t.Fatalf("the owner's address slept %v", got)
	}
	// Her phone's app password, from a new address and from one of the
	// attackers' (locked for the account password).
	for _, addr := range []string{"192.0.2.77", "198.51.100.0"} {
		if id := h.ok(t, "alice@example.com", pw, addr); id.Credential != "app:phone" {
			t.Fatalf("credential %q", id.Credential)
		}
	}
	// Web sign-ins from her laptop pass too; the lock still holds for
	// others.
	h.via = ViaWeb
	h.ok(t, "alice@example.com", "secret", "192.0.2.10")
	h.throttled(t, "alice@example.com", "secret", "192.0.2.98", 15*time.Minute)
	// A failure recorded from an address does not make it known.
	h.via = ViaDAV
	h.throttled(t, "alice@example.com", "secret", "198.51.100.1", 15*time.Minute)
}

func TestLoginLockSparesOwnersIPv6Network(t *testing.T) {
	// Devices change their IPv6 address within their /64 (privacy
	// addresses): the network is what is known.
	h := newHarness(t, Options{})
	h.ok(t, "alice@example.com", "secret", "2001:db8:1:2::10")
	// A success with an app password does not make a network known:
	// phones on shared carrier networks would make many known.
	pw := h.addApp("alice@example.com", "phone", 1)
	h.ok(t, "alice@example.com", pw, "198.51.100.50")
	for i := range 20 {
		h.bad(t, "alice@example.com", fmt.Sprint("guess", i), fmt.Sprintf("203.0.113.%d", i/9))
	}
	h.ok(t, "alice@example.com", "secret", "2001:db8:1:2:a1b2:c3d4:e5f6:7")
	h.throttled(t, "alice@example.com", "secret", "2001:db8:1:3::10", 15*time.Minute)
	h.throttled(t, "alice@example.com", "secret", "198.51.100.50", 15*time.Minute)
}

// An address's lock, which strangers behind the same address can set, does
// not keep out a login that signed in from there with its password before.
func TestAddressLockSparesKnownPairs(t *testing.T) {
	h := newHarness(t, Options{})
	const office = "203.0.113.50"
	h.ok(t, "bob", "hunter2", office)
	for i := range 30 {
		h.bad(t, fmt.Sprint("spray", i), "wrong", office)
	}
	h.throttled(t, "alice@example.com", "secret", office, 15*time.Minute)
	h.throttled(t, "nobody", "x", office, 15*time.Minute)
	h.sleep.take()
	h.ok(t, "bob", "hunter2", office)
	h.via = ViaWeb
	h.ok(t, "bob", "hunter2", office)
	if got := h.sleep.take(); len(got) != 0 {
		t.Fatalf("the known pair was slowed by the address's failures: %v", got)
	}
	// Bob's own failures from there still count on his pair.
	h.via = ViaDAV
	for i := range 10 {
		h.bad(t, "bob", fmt.Sprint("typo", i), office)
	}
	h.throttled(t, "bob", "hunter2", office, 15*time.Minute)
}

func TestAppPasswordPassesLockedAddress(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("bob", "phone", 1)
	const addr = "203.0.113.9"
	for i := range 30 {
		h.bad(t, fmt.Sprint("spray", i), "wrong", addr)
	}
	h.throttled(t, "bob", "hunter2", addr, 15*time.Minute)
	h.sleep.take()
	verified := h.verifies.Load()
	h.ok(t, "bob", pw, addr)
	if got := h.sleep.take(); len(got) != 0 || h.verifies.Load() != verified {
		t.Fatalf("a right app password slept %v and verified %d times", got, h.verifies.Load()-verified)
	}
}

func TestOneAddressCannotLockLogin(t *testing.T) {
	h := newHarness(t, Options{})
	for i := range 30 {
		_, _ = h.check("alice@example.com", fmt.Sprint("guess", i), "203.0.113.66")
	}
	h.throttled(t, "alice@example.com", "secret", "203.0.113.66", 15*time.Minute)
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
}

func TestFailuresExpireWithWindow(t *testing.T) {
	h := newHarness(t, Options{})
	for range 9 {
		h.bad(t, "bob", "wrong", "192.0.2.1")
	}
	h.clock.Advance(15*time.Minute + time.Second)
	for range 9 {
		h.bad(t, "bob", "wrong", "192.0.2.1")
	}
	h.ok(t, "bob", "hunter2", "192.0.2.1") // would be locked if all 18 counted
	for range 10 {
		h.bad(t, "bob", "wrong", "192.0.2.1")
	}
	h.throttled(t, "bob", "hunter2", "192.0.2.1", 15*time.Minute)
}

func TestSuccessResetsCounters(t *testing.T) {
	h := newHarness(t, Options{})
	for range 9 {
		h.bad(t, "bob", "wrong", "192.0.2.1")
	}
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	h.sleep.take()
	for range 9 {
		h.bad(t, "bob", "wrong", "192.0.2.1")
	}
	// 18 failures in the window, but a success in between: the pair's
	// count started afresh, so it is not locked; the address (18 < 30) and
	// the login (18 < 20) are not either, though they kept counting: the
	// address's 9, a third each, slowed the second round from its start.
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	want := []time.Duration{1, 1, 1, 2, 2, 4, 8, 8, 8, 8}
	got := h.sleep.take()
	if len(got) != len(want) {
		t.Fatalf("delays %v, want %v seconds", got, want)
	}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("delays %v, want %v seconds", got, want)
		}
	}
	if n := h.users.liveFailures(h.clock.Now()); n != 2 {
		t.Fatalf("%d counters left after success, want 2 (address, login)", n)
	}
	if len(h.a.flights) != 0 {
		t.Fatalf("%d in-memory entries left after the attempts ended", len(h.a.flights))
	}
}

func TestSuccessWithoutFailuresWritesNothing(t *testing.T) {
	h := newHarness(t, Options{})
	h.ok(t, "bob", "hunter2", "192.0.2.1") // verified
	h.ok(t, "bob", "hunter2", "192.0.2.1") // cached
	h.users.apps[AppPasswordDigest("app-pw")] = &store.AppPassword{ID: 7, Owner: "bob", Name: "phone"}
	h.ok(t, "bob", "app-pw", "192.0.2.1")
	// One read per account-password request, of all counters at once; none
	// for an app password; no write.
	if reads, writes := h.users.failureCalls(); reads != 2 || writes != 0 {
		t.Fatalf("%d reads, %d writes of the failure counters; want 2, 0", reads, writes)
	}
	// A success after a failure clears the pair's, once.
	h.bad(t, "bob", "wrong", "192.0.2.1")
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	if _, writes := h.users.failureCalls(); writes != 4 { // three counted, one cleared
		t.Fatalf("%d writes, want 4", writes)
	}
}

func TestFailureCounterStoreError(t *testing.T) {
	h := newHarness(t, Options{})
	boom := errors.New("counters on fire")
	h.users.failureErr = boom
	// Without its counters an attempt is neither checked nor let through.
	for _, pw := range []string{"hunter2", "wrong"} {
		id, err := h.check("bob", pw, "192.0.2.1")
		if id != nil || !errors.Is(err, boom) {
			t.Fatalf("SignIn(%s) = %v, %v; want the store's error", pw, id, err)
		}
	}
	if h.verifies.Load() != 0 {
		t.Fatalf("%d verifications without the counters", h.verifies.Load())
	}
	if len(h.a.flights) != 0 {
		t.Fatalf("%d in-memory entries left", len(h.a.flights))
	}
}

func TestProcessesShareLock(t *testing.T) {
	h1 := newHarness(t, Options{})
	h2 := h1.sibling(Options{})
	const addr = "203.0.113.40"
	// Ten failures from one address, alternating between two processes,
	// lock it in both: neither saw more than five itself.
	for i := range 10 {
		[]*harness{h1, h2}[i%2].bad(t, "bob", fmt.Sprint("guess", i), addr)
	}
	h1.throttled(t, "bob", "hunter2", addr, 15*time.Minute)
	h2.throttled(t, "bob", "hunter2", addr, 15*time.Minute)
	// The slowdown is shared too: the fourth failure, counted by h4 after
	// three in h3, was delayed.
	h3 := h1.sibling(Options{})
	for range 3 {
		h3.bad(t, "alice@example.com", "wrong", "198.51.100.50")
	}
	h4 := h1.sibling(Options{})
	h4.bad(t, "alice@example.com", "wrong", "198.51.100.50")
	if got := h4.sleep.take(); len(got) != 1 || got[0] != time.Second {
		t.Fatalf("4th failure for alice, first in its process, slept %v; want [1s]", got)
	}
	// A success in one process clears the pair's counter for all.
	h3.ok(t, "alice@example.com", "secret", "198.51.100.50")
	h4.sleep.take()
	h4.bad(t, "alice@example.com", "wrong", "198.51.100.50")
	if got := h4.sleep.take(); len(got) != 0 {
		t.Fatalf("after a success elsewhere, slept %v", got)
	}
	// The lock ends for both.
	h1.clock.Advance(15 * time.Minute)
	h2.ok(t, "bob", "hunter2", addr)
}

func TestCacheSkipsVerification(t *testing.T) {
	h := newHarness(t, Options{})
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	if h.verifies.Load() != 1 {
		t.Fatalf("%d verifications, want 1", h.verifies.Load())
	}
	for i := range 50 {
		h.ok(t, "Alice@example.com", "secret", fmt.Sprintf("192.0.2.%d", i))
		h.clock.Advance(10 * time.Second)
	}
	if h.verifies.Load() != 1 {
		t.Fatalf("%d verifications after cached checks, want 1", h.verifies.Load())
	}
	if h.users.getCalls() != 51 {
		t.Fatalf("%d GetUser calls, want 51 (each check reads the user)", h.users.getCalls())
	}
	// A wrong password is verified, never answered from the cache.
	h.bad(t, "alice@example.com", "secreT", "192.0.2.1")
	if h.verifies.Load() != 2 {
		t.Fatalf("%d verifications, want 2", h.verifies.Load())
	}
	// The entry expires CacheTTL after the verification.
	h.clock.Advance(10*time.Minute - 500*time.Second)
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	if h.verifies.Load() != 3 {
		t.Fatalf("%d verifications after CacheTTL, want 3", h.verifies.Load())
	}
}

func TestCacheDisabled(t *testing.T) {
	h := newHarness(t, Options{CacheTTL: -1})
	for range 3 {
		h.ok(t, "bob", "hunter2", "192.0.2.1")
	}
	if h.verifies.Load() != 3 || h.a.cache.len() != 0 {
		t.Fatalf("%d verifications, %d cached; want 3, 0", h.verifies.Load(), h.a.cache.len())
	}
}

func TestPasswordChangeInvalidatesCache(t *testing.T) {
	h := newHarness(t, Options{})
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	h.users.setPassword(t, "bob", "correct horse")
	h.bad(t, "bob", "hunter2", "192.0.2.1")
	h.ok(t, "bob", "correct horse", "192.0.2.1")
	// Even re-setting the same password gives a new salt, so a new hash.
	h.users.setPassword(t, "bob", "correct horse")
	before := h.verifies.Load()
	h.ok(t, "bob", "correct horse", "192.0.2.1")
	if h.verifies.Load() != before+1 {
		t.Fatal("a changed stored hash was answered from the cache")
	}
}

func TestParallelAttemptsGetNoMoreGuesses(t *testing.T) {
	h := newHarness(t, Options{MaxConcurrent: 64})
	gate := make(chan struct{})
	var started atomic.Int64
	h.a.verify = func(hash, password string) (bool, error) {
		started.Add(1)
		<-gate
		return false, nil
	}
	const n = 50
	var throttled, bad atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.check("bob", fmt.Sprint("guess", i), "203.0.113.5")
			switch {
			case errors.Is(err, ErrThrottled):
				throttled.Add(1)
			case err == ErrBadCredentials:
				bad.Add(1)
			default:
				t.Errorf("SignIn = %v", err)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for started.Load()+throttled.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	if started.Load() != 10 || bad.Load() != 10 || throttled.Load() != n-10 {
		t.Fatalf("%d verified (%d bad), %d throttled; want 10 verified, %d throttled", started.Load(), bad.Load(), throttled.Load(), n-10)
	}
	h.throttled(t, "bob", "hunter2", "203.0.113.5", 15*time.Minute)
}

func TestAttemptsAdmittedEarlierSeeLaterFailures(t *testing.T) {
	h := newHarness(t, Options{})
	const addr = "203.0.113.9"
	for i := range 9 {
		h.bad(t, "bob", fmt.Sprint("guess", i), addr)
	}
	// Five attempts read 9 failures when admitted, then wait out their
	// delay; released one at a time, they must fare as sequential ones:
	// the first fails and locks, the others see it though they read before.
	release := make(chan struct{})
	var waiting atomic.Int64
	h.a.opt.Sleep = func(ctx context.Context, d time.Duration) error {
		waiting.Add(1)
		<-release
		return nil
	}
	const n = 5
	results := make(chan error, n)
	for i := range n {
		go func() {
			_, err := h.check("bob", fmt.Sprint("late", i), addr)
			results <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for waiting.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	var bad, throttled int
	for range n {
		release <- struct{}{}
		switch err := <-results; {
		case err == ErrBadCredentials:
			bad++
		case errors.Is(err, ErrThrottled):
			throttled++
		default:
			t.Fatalf("SignIn = %v", err)
		}
	}
	if bad != 1 || throttled != n-1 || h.verifies.Load() != 10 {
		t.Fatalf("%d bad, %d throttled, %d verifications; want 1, %d, 10", bad, throttled, h.verifies.Load(), n-1)
	}
}

// TestParallelProcessesShareLockBound sends wrong passwords for one login
// from one address, all at once, through several Authenticators, each on
// its own handle of one SQLite database: server processes sharing a
// database. Between them they
// must verify no more guesses than the lock allows, give or take the one
// each further process may verify unrecorded (see Options.LockAfter), and
// then all refuse the pair.
func TestParallelProcessesShareLockBound(t *testing.T) {
	for _, procs := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(procs, "processes"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rolodav.db")
			open := func() *sqlite.Store {
				st, err := sqlite.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
			st := open()
			ctx := context.Background()
			if err := st.CreateUser(ctx, &store.User{Login: "bob", PasswordHash: mustHash(t, "hunter2", cheap)}); err != nil {
				t.Fatal(err)
			}
			const n, addr = 40, "203.0.113.77"
			clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			gate := make(chan struct{})
			var started, throttled, bad atomic.Int64
			as := make([]*Authenticator, procs)
			for i := range as {
				if i > 0 {
					st = open()
				}
				as[i] = NewAuthenticator(st, Options{Now: clock.Now, Sleep: (&fakeSleep{}).Sleep, Params: cheap, MaxConcurrent: n})
				// Every verification waits until each attempt is verifying
				// or refused: all are under way at once.
				as[i].verify = func(hash, password string) (bool, error) {
					started.Add(1)
					<-gate
					return false, nil
				}
			}
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := as[i%procs].SignIn(ctx, Attempt{Login: "bob", Password: fmt.Sprint("guess", i), Addr: addr, Client: "test", Via: ViaDAV})
					switch {
					case errors.Is(err, ErrThrottled):
						throttled.Add(1)
					case err == ErrBadCredentials:
						bad.Add(1)
					default:
						t.Errorf("SignIn = %v", err)
					}
				}()
			}
			deadline := time.Now().Add(20 * time.Second)
			for started.Load()+throttled.Load() < n && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			close(gate)
			wg.Wait()
			most := DefaultLockAfter + procs - 1
			t.Logf("%d processes: %d of %d guesses verified, %d throttled", procs, started.Load(), n, throttled.Load())
			if v := started.Load(); v < DefaultLockAfter || v > int64(most) || bad.Load() != v || throttled.Load() != n-v {
				t.Fatalf("%d verified (%d bad), %d throttled; want %d to %d verified, all bad, the rest throttled",
					v, bad.Load(), throttled.Load(), DefaultLockAfter, most)
			}
			for i, a := range as {
				_, err := a.SignIn(ctx, Attempt{Login: "bob", Password: "hunter2", Addr: addr, Client: "test", Via: ViaDAV})
				if !errors.Is(err, ErrThrottled) {
					t.Fatalf("process %d after the burst: SignIn = %v, want throttled", i, err)
				}
			}
		})
	}
}

// TestUnrecordedFailureCountedOnce checks that an attempt counting its
// failure ahead, while the attempt verified unrecorded fails, counts that
// one once: in the record it gets or as under way, not both.
func TestUnrecordedFailureCountedOnce(t *testing.T) {
	h := newHarness(t, Options{MaxConcurrent: 4})
	const addr = "203.0.113.21"
	for i := range DefaultLockAfter - 2 {
		h.bad(t, "bob", fmt.Sprint("guess", i), addr)
	}
	// first is verified unrecorded; second, sent meanwhile, counts ahead.
	// As second counts, first fails and counts its failure (unless it must
	// wait for second's: then 200 ms pass first). Together they make
	// LockAfter: both are verified, and the pair is locked.
	gate, verifying, counted := make(chan struct{}), make(chan struct{}), make(chan struct{})
	h.a.verify = func(hash, password string) (bool, error) {
		h.verifies.Add(1)
		if password == "first" {
			close(verifying)
			<-gate
		}
		return false, nil
	}
	var armed atomic.Bool
	armed.Store(true)
	h.users.mu.Lock()
	h.users.onAdd = func(key string) {
		if !strings.HasPrefix(key, "pair:") {
			return
		}
		select {
		case <-verifying:
		default:
			return
		}
		if armed.CompareAndSwap(true, false) {
			close(gate)
			select {
			case <-counted:
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	h.users.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := h.check("bob", "first", addr)
		close(counted) // the failure is in the store by the answer
		done <- err
	}()
	<-verifying
	_, err := h.check("bob", "second", addr)
	if first := <-done; first != ErrBadCredentials || err != ErrBadCredentials {
		t.Fatalf("first: %v, second: %v; want ErrBadCredentials for both", first, err)
	}
	if h.verifies.Load() != DefaultLockAfter {
		t.Fatalf("%d verifications, want %d", h.verifies.Load(), DefaultLockAfter)
	}
	h.throttled(t, "bob", "hunter2", addr, 15*time.Minute)
}

func TestParallelIdenticalCredentialsVerifyOnce(t *testing.T) {
	h := newHarness(t, Options{MaxConcurrent: 1})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := h.check("bob", "hunter2", "192.0.2.1")
			if err != nil || id == nil {
				t.Errorf("SignIn = %v, %v", id, err)
			}
		}()
	}
	wg.Wait()
	if h.verifies.Load() != 1 {
		t.Fatalf("%d verifications for 8 parallel identical checks, want 1", h.verifies.Load())
	}
}

func TestParallelIdenticalCredentialsWriteNothing(t *testing.T) {
	const n = 8
	h := newHarness(t, Options{MaxConcurrent: n})
	// The first verification lasts until every attempt has read the
	// counters, and a while longer: the others come while it runs.
	h.a.verify = func(hash, password string) (bool, error) {
		h.verifies.Add(1)
		deadline := time.Now().Add(10 * time.Second)
		for reads, _ := h.users.failureCalls(); reads < n && time.Now().Before(deadline); reads, _ = h.users.failureCalls() {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		return VerifyPassword(hash, password)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if id, err := h.check("bob", "hunter2", "192.0.2.1"); err != nil || id == nil {
				t.Errorf("SignIn = %v, %v", id, err)
			}
		}()
	}
	wg.Wait()
	// They waited for the one verification, so none counted a failure
	// ahead (to take it back).
	if _, writes := h.users.failureCalls(); h.verifies.Load() != 1 || writes != 0 {
		t.Fatalf("%d verifications, %d writes of the failure counters; want 1, 0", h.verifies.Load(), writes)
	}
	if len(h.a.verifying) != 0 || len(h.a.flights) != 0 {
		t.Fatalf("%d verifications, %d counters left in memory", len(h.a.verifying), len(h.a.flights))
	}
}

func TestFailuresCountedAheadAreTakenBack(t *testing.T) {
	// Without the cache, right passwords sent at once are verified at
	// once, not one after the other.
	h := newHarness(t, Options{MaxConcurrent: 8, CacheTTL: -1})
	const addr, n = "203.0.113.12", 3
	// One failure short of locking the address, counting one verification
	// under way.
	lockAt := AddressFactor * DefaultLockAfter
	for i := range lockAt - 2 {
		h.bad(t, fmt.Sprint("carol", i), "wrong", addr)
	}
	// Three right passwords of bob at once, all admitted (reading
	// lockAt-2) before any is verified: the first verifies unrecorded, the
	// second counts a failure ahead on the address (lockAt-1), the third
	// too, which locks it and, with the first one's, is one too many:
	// refused, it takes its failure back, lifting the lock.
	gate, admitted := make(chan struct{}), make(chan struct{})
	var waiting, started, throttled atomic.Int64
	h.a.opt.Sleep = func(ctx context.Context, d time.Duration) error {
		if waiting.Add(1) == n {
			close(admitted)
		}
		<-admitted
		return nil
	}
	h.a.verify = func(hash, password string) (bool, error) {
		started.Add(1)
		<-gate
		return VerifyPassword(hash, password)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.a.SignIn(context.Background(), Attempt{Login: "bob", Password: "hunter2", Addr: addr, Via: ViaDAV})
			switch {
			case errors.Is(err, ErrThrottled):
				throttled.Add(1)
			case err != nil:
				t.Errorf("SignIn = %v", err)
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for started.Load()+throttled.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	if started.Load() != 2 || throttled.Load() != 1 {
		t.Fatalf("%d verified, %d throttled; want 2, 1", started.Load(), throttled.Load())
	}
	// The successes took their failures back: the address holds its
	// lockAt-2, unlocked, and bob's counters are gone.
	now := h.clock.Now()
	got, err := h.users.SignInFailures(context.Background(), []string{"addr:" + addr, "login:bob", "pair:" + addr + " bob"}, now)
	if err != nil || len(got) != 1 || got[0].Failures != lockAt-2 || !got[0].LockedUntil.IsZero() {
		t.Fatalf("counters after: %+v, %v; want only the address's, %d failures, unlocked", got, err, lockAt-2)
	}
	h.bad(t, "carol", "wrong", addr)
	h.bad(t, "carol", "wrong", addr)
	h.throttled(t, "dave", "wrong", addr, 15*time.Minute)
}

func TestBoundedMemory(t *testing.T) {
	h := newHarness(t, Options{})
	h.a.verify = func(string, string) (bool, error) { return false, nil } // keep 100k checks fast
	for i := range 100_000 {
		addr := fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff)
		_, err := h.check(fmt.Sprintf("user%d", i), "x", addr)
		if err != ErrBadCredentials {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	// The counters are in the store: memory keeps nothing of them once the
	// attempts ended.
	if n := len(h.a.flights); n != 0 {
		t.Errorf("%d in-memory counter entries after the attempts ended", n)
	}
	if n := h.users.liveFailures(h.clock.Now()); n != 300_000 {
		t.Errorf("%d counters in the store, want 300000 (an address, a pair and a login each)", n)
	}

	// The cache is bounded too.
	h2 := newHarness(t, Options{MaxEntries: 50})
	h2.a.verify = func(string, string) (bool, error) { return true, nil }
	for i := range 1000 {
		h2.users.users[fmt.Sprint("u", i)] = &store.User{Login: fmt.Sprint("u", i), PasswordHash: "h"}
		h2.ok(t, fmt.Sprint("u", i), "pw", fmt.Sprintf("10.0.%d.%d", i>>8, i&0xff))
	}
	if n := h2.a.cache.len(); n != 50 {
		t.Errorf("%d cache entries, want 50", n)
	}
}

func TestIPv6CountedPer64(t *testing.T) {
	h := newHarness(t, Options{})
	for i := range 10 {
		h.bad(t, "bob", "wrong", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	h.throttled(t, "bob", "hunter2", "2001:db8:1:2:ffff::1", 15*time.Minute)
	h.ok(t, "bob", "hunter2", "2001:db8:1:3::1")
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                  "192.0.2.1",
		" 192.0.2.1 ":                "192.0.2.1",
		"192.0.2.1:443":              "192.0.2.1",
		"::ffff:192.0.2.1":           "192.0.2.1",
		"2001:db8::1":                "2001:db8::/64",
		"[2001:db8::1]:8080":         "2001:db8::/64",
		"[2001:db8::1]":              "2001:db8::/64",
		"fe80::1%eth0":               "fe80::/64",
		"2001:db8:0:0:ffff:1:2:3":    "2001:db8::/64",
		"":                           "",
		"unix":                       "unix",
		strings.Repeat("z", 100):     strings.Repeat("z", 64),
		"2001:db8:aaaa:bbbb:cccc::1": "2001:db8:aaaa:bbbb::/64",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestThrottledError(t *testing.T) {
	e := &ThrottledError{RetryAfter: 90*time.Second + time.Millisecond}
	if e.RetryAfterSeconds() != 91 {
		t.Errorf("RetryAfterSeconds = %d, want 91", e.RetryAfterSeconds())
	}
	if (&ThrottledError{}).RetryAfterSeconds() != 1 {
		t.Error("RetryAfterSeconds of 0 should be 1")
	}
	if !strings.Contains(e.Error(), "91s") {
		t.Errorf("Error() = %q", e.Error())
	}
	var err error = fmt.Errorf("wrapped: %w", e)
	if !errors.Is(err, ErrThrottled) || errors.Is(err, ErrBadCredentials) {
		t.Error("errors.Is on a wrapped ThrottledError")
	}
}

func TestOptionDefaults(t *testing.T) {
	a := NewAuthenticator(&fakeUsers{}, Options{})
	o := a.opt
	if o.SlowAfter != 3 || o.LockAfter != 10 || o.Window != 15*time.Minute || o.LockFor != 15*time.Minute ||
		o.CacheTTL != 10*time.Minute || o.Delay != time.Second || o.MaxDelay != 8*time.Second ||
		o.MaxEntries != DefaultMaxEntries || o.MaxConcurrent < 1 || o.MaxConcurrent > 4 ||
		o.Params != DefaultParams || o.Now == nil || o.Sleep == nil {
		t.Fatalf("defaults: %+v", o)
	}
	if p, err := ParseHash(a.dummyHash); err != nil || p != DefaultParams {
		t.Fatalf("dummy hash %q: %+v, %v", a.dummyHash, p, err)
	}
}

func TestLockingDisabled(t *testing.T) {
	h := newHarness(t, Options{LockAfter: -1, SlowAfter: -1})
	for range 30 {
		h.bad(t, "bob", "wrong", "192.0.2.1")
	}
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	if got := h.sleep.take(); len(got) != 0 {
		t.Fatalf("slept %v with the slowdown disabled", got)
	}
}

func BenchmarkSignInCached(b *testing.B) {
	users := &fakeUsers{users: map[string]*store.User{}}
	hash, err := HashPassword("secret", DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	users.users["alice@example.com"] = &store.User{Login: "alice@example.com", PasswordHash: hash}
	a := NewAuthenticator(users, Options{})
	ctx := context.Background()
	at := Attempt{Login: "alice@example.com", Password: "secret", Addr: "192.0.2.1", Via: ViaWeb}
	if _, err := a.SignIn(ctx, at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.SignIn(ctx, at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}
