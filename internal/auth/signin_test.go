package auth

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// addApp gives login an app password called name and returns it.
func (h *harness) addApp(login, name string, id int64) string {
	pw, digest := NewAppPassword()
	h.users.mu.Lock()
	defer h.users.mu.Unlock()
	h.users.apps[digest] = &store.AppPassword{ID: id, Owner: login, Name: name, Digest: digest}
	return pw
}

func (h *harness) revokeApps() {
	h.users.mu.Lock()
	defer h.users.mu.Unlock()
	clear(h.users.apps)
}

// takeSignIns returns the sign-ins recorded since the last call.
func (h *harness) takeSignIns() []recordedSignIn {
	h.users.mu.Lock()
	defer h.users.mu.Unlock()
	s := h.users.signIns
	h.users.signIns = nil
	return s
}

func TestNewAppPassword(t *testing.T) {
	format := regexp.MustCompile(`^[` + appPasswordAlphabet + `]{4}(-[` + appPasswordAlphabet + `]{4}){4}$`)
	seen := map[string]bool{}
	for range 100 {
		pw, digest := NewAppPassword()
		if !format.MatchString(pw) {
			t.Fatalf("app password %q: not 5 groups of 4 from %q", pw, appPasswordAlphabet)
		}
		if digest != AppPasswordDigest(pw) || len(digest) != 64 {
			t.Fatalf("digest %q of %q, want AppPasswordDigest", digest, pw)
		}
		if seen[pw] {
			t.Fatalf("app password %q twice", pw)
		}
		seen[pw] = true
	}
	if len(appPasswordAlphabet) != 32 || strings.ContainsAny(appPasswordAlphabet, "01lo") {
		t.Errorf("alphabet %q", appPasswordAlphabet)
	}
}

func TestAppPasswordDigestNormalises(t *testing.T) {
	want := AppPasswordDigest("abcd-efgh-2345-6789-wxyz")
	for _, typed := range []string{"abcdefgh23456789wxyz", "ABCD EFGH 2345 6789 WXYZ", " abcd-efgh 2345\t6789-wxyz "} {
		if got := AppPasswordDigest(typed); got != want {
			t.Errorf("AppPasswordDigest(%q) = %s, want %s", typed, got, want)
		}
	}
	if AppPasswordDigest("abcd-efgh-2345-6789-wxya") == want {
		t.Error("different passwords, same digest")
	}
}

func TestAppPasswordViaDAVOnly(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("alice@example.com", "phone", 7)

	id := h.ok(t, "Alice@example.com", pw, "192.0.2.1")
	if id.Credential != "app:phone" || id.AppPassword != 7 {
		t.Errorf("identity %+v, want app:phone, 7", id)
	}
	h.ok(t, "alice@example.com", strings.ToUpper(strings.ReplaceAll(pw, "-", " ")), "192.0.2.1")
	if n := h.verifies.Load(); n != 0 {
		t.Errorf("%d argon2 verifications for app passwords, want 0", n)
	}
	// Another user's app password is not alice's.
	h.bad(t, "bob", pw, "192.0.2.1")
	// The account password still works via DAV.
	if id := h.ok(t, "alice@example.com", "secret", "192.0.2.1"); id.Credential != "password" || id.AppPassword != 0 {
		t.Errorf("identity %+v, want password, 0", id)
	}

	h.via = ViaWeb
	h.bad(t, "alice@example.com", pw, "192.0.2.1")
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
}

func TestRequireAppPasswords(t *testing.T) {
	h := newHarness(t, Options{})
	h.users.users["alice@example.com"].RequireAppPasswords = true
	pw := h.addApp("alice@example.com", "laptop", 3)

	// The web pages take the account password (and cache it)...
	h.via = ViaWeb
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")
	h.ok(t, "alice@example.com", "secret", "192.0.2.1")

	// ...DAV does not, cached or not, after as long a verification.
	h.via = ViaDAV
	h.hashes = make(chan string, 1)
	h.bad(t, "alice@example.com", "secret", "192.0.2.1")
	if got := <-h.hashes; got != h.a.dummyHash {
		t.Errorf("verified against %q, want the dummy hash", got)
	}
	h.hashes = nil
	if id := h.ok(t, "alice@example.com", pw, "192.0.2.1"); id.Credential != "app:laptop" {
		t.Errorf("identity %+v", id)
	}
	// Bob does not require app passwords.
	h.ok(t, "bob", "hunter2", "192.0.2.1")
}

func TestRevokedAppPasswordStopsAtOnce(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("bob", "tablet", 1)
	for range 3 {
		h.ok(t, "bob", pw, "192.0.2.1")
	}
	h.revokeApps()
	h.bad(t, "bob", pw, "192.0.2.1")
}

func TestAppPasswordStoreError(t *testing.T) {
	h := newHarness(t, Options{})
	boom := errors.New("disk on fire")
	h.users.findErr = boom
	for range 20 {
		id, err := h.check("bob", "hunter2", "192.0.2.1")
		if id != nil || !errors.Is(err, boom) {
			t.Fatalf("SignIn = %v, %v; want the store's error", id, err)
		}
	}
	// Neither counted as failures nor left reserved.
	h.users.findErr = nil
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	if d := h.sleep.take(); len(d) != 0 {
		t.Errorf("slept %v after store errors", d)
	}
	if len(h.takeSignIns()) != 1 {
		t.Error("store failures were recorded as attempts")
	}
	if n := h.users.liveFailures(h.clock.Now()); n != 0 || len(h.a.flights) != 0 {
		t.Errorf("counters left: %d in the store, %d in memory", n, len(h.a.flights))
	}
}

func TestWrongAppPasswordsCount(t *testing.T) {
	// Guesses shaped like app passwords are verified and counted like any.
	h := newHarness(t, Options{})
	pw := h.addApp("bob", "phone", 1)
	for i := range 10 {
		h.bad(t, "bob", fmt.Sprintf("aaaa-bbbb-cccc-dddd-%04d", i), "203.0.113.5")
	}
	if n := h.verifies.Load(); n != 10 {
		t.Fatalf("%d verifications, want 10", n)
	}
	h.throttled(t, "bob", "hunter2", "203.0.113.5", 15*time.Minute)
	// The right one is still accepted at once (see TestLoginLockSparesOwner).
	h.sleep.take()
	h.ok(t, "bob", pw, "203.0.113.5")
	if d := h.sleep.take(); len(d) != 0 {
		t.Errorf("slept %v", d)
	}
}

func TestParallelAppPasswordSignIns(t *testing.T) {
	// A client opening many connections at once with a right app password
	// must not be refused for the attempts merely under way.
	h := newHarness(t, Options{LockAfter: 3})
	pw := h.addApp("bob", "phone", 1)
	h.users.findDelay = 100 * time.Millisecond
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if id, err := h.check("bob", pw, "203.0.113.5"); err != nil || id == nil {
				t.Errorf("SignIn = %v, %v", id, err)
			}
		})
	}
	wg.Wait()
}

func TestCheckDevicePassword(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("alice@example.com", "phone", 4)
	alice, _ := h.users.GetUser(t.Context(), "alice@example.com")
	check := func(password, wantCred string) {
		t.Helper()
		id, err := CheckDevicePassword(t.Context(), h.users, alice, password)
		if wantCred == "" {
			if id != nil || err != ErrBadCredentials {
				t.Errorf("CheckDevicePassword(%q) = %+v, %v; want ErrBadCredentials", password, id, err)
			}
		} else if err != nil || id.User != alice || id.Credential != wantCred {
			t.Errorf("CheckDevicePassword(%q) = %+v, %v; want %s", password, id, err, wantCred)
		}
	}
	check(pw, "app:phone")
	check("secret", "password")
	check("wrong", "")
	alice.RequireAppPasswords = true
	check(pw, "app:phone")
	check("secret", "")

	boom := errors.New("disk on fire")
	h.users.findErr = boom
	if _, err := CheckDevicePassword(t.Context(), h.users, alice, pw); !errors.Is(err, boom) {
		t.Errorf("store failure: %v", err)
	}
}

func TestSignInRecorded(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("alice@example.com", "phone", 9)
	long := strings.Repeat("é", 150) // 300 bytes

	h.via = ViaWeb
	h.bad(t, "Alice@Example.com", "wrong", "192.0.2.1:5555")
	h.ok(t, "alice@example.com", "secret", "[2001:db8::7]:443")
	h.bad(t, "nobody", "wrong", "192.0.2.1")
	h.bad(t, "a/b", "wrong", "192.0.2.1")
	h.via = ViaDAV
	if _, err := h.a.SignIn(t.Context(), Attempt{Login: "alice@example.com", Password: pw, Addr: "192.0.2.2", Client: long, Via: ViaDAV}); err != nil {
		t.Fatal(err)
	}

	got := h.takeSignIns()
	now := h.clock.Now()
	want := []recordedSignIn{
		{store.SignIn{Login: "alice@example.com", Time: now, Via: "web", Addr: "192.0.2.1", Network: "192.0.2.1", Client: "test"}, 0, SignInRetention},
		{store.SignIn{Login: "alice@example.com", Time: now, OK: true, Via: "web", Credential: "password", Addr: "2001:db8::7", Network: "2001:db8::/64", Client: "test"}, 0, SignInRetention},
		{store.SignIn{Login: "alice@example.com", Time: now, OK: true, Via: "dav", Credential: "app:phone", Addr: "192.0.2.2", Network: "192.0.2.2", Client: strings.Repeat("é", 100)}, 9, SignInRetention},
	}
	if len(got) != len(want) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sign-in %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if SignInRetention != 90*24*time.Hour {
		t.Errorf("SignInRetention = %v", SignInRetention)
	}

	// Throttled attempts are not recorded.
	for range 10 {
		h.bad(t, "bob", "wrong", "203.0.113.9")
	}
	h.takeSignIns()
	h.throttled(t, "bob", "hunter2", "203.0.113.9", 15*time.Minute)
	if got := h.takeSignIns(); len(got) != 0 {
		t.Errorf("throttled attempt recorded: %+v", got)
	}
}

func TestDAVSuccessesCoalesced(t *testing.T) {
	h := newHarness(t, Options{})
	pw := h.addApp("bob", "phone", 1)
	count := func(want int, what string) {
		t.Helper()
		if got := h.takeSignIns(); len(got) != want {
			t.Errorf("%s: %d recorded, want %d: %+v", what, len(got), want, got)
		}
	}

	h.ok(t, "bob", pw, "192.0.2.1")
	h.ok(t, "bob", pw, "192.0.2.1")
	h.clock.Advance(9 * time.Minute)
	h.ok(t, "bob", pw, "192.0.2.1:1234") // the port does not matter
	count(1, "identical DAV successes")

	h.ok(t, "bob", pw, "192.0.2.2")
	count(1, "another address")
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	count(1, "another credential")
	h.bad(t, "bob", "wrong", "192.0.2.1")
	h.bad(t, "bob", "wrong", "192.0.2.1")
	count(2, "failures")
	h.clock.Advance(time.Minute)
	h.ok(t, "bob", pw, "192.0.2.1")
	count(1, "10 minutes later")

	h.via = ViaWeb
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	h.ok(t, "bob", "hunter2", "192.0.2.1")
	count(2, "web successes")
}

func TestRecordErrorDoesNotRefuse(t *testing.T) {
	var reported []error
	h := newHarness(t, Options{OnRecordError: func(err error) { reported = append(reported, err) }})
	pw := h.addApp("bob", "phone", 1)
	boom := errors.New("disk full")
	h.users.recordErr = boom
	h.ok(t, "bob", pw, "192.0.2.1")
	h.bad(t, "bob", "wrong", "192.0.2.1")
	if len(reported) != 2 || !errors.Is(reported[0], boom) || !strings.Contains(reported[0].Error(), "bob") {
		t.Fatalf("reported %v", reported)
	}
	// The success that could not be recorded is recorded next time.
	h.users.recordErr = nil
	h.ok(t, "bob", pw, "192.0.2.1")
	if got := h.takeSignIns(); len(got) != 1 || !got[0].OK {
		t.Errorf("recorded %+v after the store recovered", got)
	}
}

func TestSignInUnknownVia(t *testing.T) {
	h := newHarness(t, Options{})
	h.via = ""
	if id, err := h.check("bob", "hunter2", "192.0.2.1"); id != nil || err == nil || errors.Is(err, ErrBadCredentials) {
		t.Errorf("SignIn via \"\" = %v, %v; want an error", id, err)
	}
}
