package auth

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// fakeUsers keeps no second factor: the tests of two-factor run on SQLite.
func (f *fakeUsers) GetTOTP(context.Context, string) (*store.TOTP, error) {
	return nil, store.ErrNotFound
}

func (f *fakeUsers) UseTOTPStep(context.Context, string, int64) error { return store.ErrNotFound }

func (f *fakeUsers) UseEmergencyCode(context.Context, string, string) (int, error) {
	return 0, store.ErrNotFound
}

// The secret of RFC 6238's test vectors for SHA-1 ("12345678901234567890").
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestMatchTOTPVectors(t *testing.T) {
	// RFC 6238, appendix B, the last six of the eight digits.
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	} {
		now := time.Unix(v.unix, 0)
		step, ok := MatchTOTP(rfcSecret, v.code, now)
		if !ok || step != v.unix/30 {
			t.Errorf("MatchTOTP(%s at %d) = %d, %v; want step %d", v.code, v.unix, step, ok, v.unix/30)
		}
		// A step before or after (clock drift) still matches, and says
		// which step it was; two steps away does not.
		for _, d := range []int64{-1, 1} {
			if step, ok := MatchTOTP(rfcSecret, v.code, now.Add(time.Duration(d)*TOTPPeriod)); !ok || step != v.unix/30 {
				t.Errorf("%s, %d step(s) later: %d, %v", v.code, d, step, ok)
			}
		}
		for _, d := range []int64{-2, 2} {
			if v.unix+d*30 < 0 {
				continue // before 1970: no step
			}
			if _, ok := MatchTOTP(rfcSecret, v.code, now.Add(time.Duration(d)*TOTPPeriod)); ok {
				t.Errorf("%s matched %d steps away", v.code, d)
			}
		}
	}
	if _, ok := MatchTOTP(rfcSecret, "287 082", time.Unix(59, 0)); !ok {
		t.Error("a code typed with a space is refused")
	}
	for _, bad := range []string{"", "28708", "2870820", "28708a", "287083"} {
		if _, ok := MatchTOTP(rfcSecret, bad, time.Unix(59, 0)); ok {
			t.Errorf("%q matched", bad)
		}
	}
}

func TestTOTPURL(t *testing.T) {
	secret := NewTOTPSecret()
	if len(secret) != 32 {
		t.Fatalf("secret %q: want 32 base32 characters (160 bits)", secret)
	}
	if secret == NewTOTPSecret() {
		t.Fatal("two secrets alike")
	}
	u, err := TOTPURL("rolodav", "ann@example.org", secret)
	if err != nil {
		t.Fatal(err)
	}
	k, err := otp.NewKeyFromURL(u)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(k.Type(), k.Issuer(), k.AccountName(), k.Secret(), k.Period(), k.Digits(), k.Algorithm())
	want := fmt.Sprint("totp", "rolodav", "ann@example.org", secret, 30, otp.DigitsSix, otp.AlgorithmSHA1)
	if got != want {
		t.Fatalf("URL %s reads as %s, want %s", u, got, want)
	}
	if _, err := TOTPURL("rolodav", "ann", "not base32!"); err == nil {
		t.Error("a secret that is not base32 gave a URL")
	}
}

func TestEmergencyCodes(t *testing.T) {
	codes, digests := NewEmergencyCodes()
	if len(codes) != EmergencyCodes || len(digests) != EmergencyCodes {
		t.Fatalf("%d codes, %d digests", len(codes), len(digests))
	}
	form := regexp.MustCompile(`^[` + appPasswordAlphabet + `]{4}-[` + appPasswordAlphabet + `]{4}-[` + appPasswordAlphabet + `]{4}$`)
	seen := map[string]bool{}
	for i, c := range codes {
		if !form.MatchString(c) {
			t.Errorf("code %q", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		if digests[i] != EmergencyCodeDigest(c) {
			t.Errorf("digest of %q", c)
		}
		// As people type it: capitals, no dashes, spaces.
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if EmergencyCodeDigest(typed) != digests[i] || EmergencyCodeDigest(strings.ReplaceAll(c, "-", "")) != digests[i] {
			t.Errorf("%q typed as %q does not match", c, typed)
		}
		if isTOTPCode(stripSpace(c)) {
			t.Errorf("%q looks like a TOTP code", c)
		}
	}
}

// tfa is an Authenticator on SQLite with a fake clock and sleep, and the
// user ann (password "ann password") with two-factor on (secret rfcSecret,
// confirmed at the step before now) and codes.
type tfa struct {
	a     *Authenticator
	st    *sqlite.Store
	clock *fakeClock
	sleep *fakeSleep
	codes []string
}

const tfaLogin, tfaPassword, tfaAddr = "ann@example.org", "ann password", "192.0.2.7"

func newTFA(t *testing.T) *tfa {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	x := &tfa{st: st, clock: &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}, sleep: &fakeSleep{}}
	x.a = x.sibling()
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: tfaLogin, PasswordHash: mustHash(t, tfaPassword, cheap)}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPendingTOTP(ctx, tfaLogin, rfcSecret); err != nil {
		t.Fatal(err)
	}
	codes, digests := NewEmergencyCodes()
	x.codes = codes
	if err := st.EnableTwoFactor(ctx, tfaLogin, rfcSecret, TOTPStep(x.clock.Now())-1, digests); err != nil {
		t.Fatal(err)
	}
	return x
}

// sibling is another server process on the same store and clock.
func (x *tfa) sibling() *Authenticator {
	return NewAuthenticator(x.st, Options{Now: x.clock.Now, Sleep: x.sleep.Sleep, Params: cheap})
}

// code is ann's TOTP code now.
func (x *tfa) code(t *testing.T) string {
	t.Helper()
	return x.codeAt(t, x.clock.Now())
}

func (x *tfa) codeAt(t *testing.T, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(rfcSecret, at, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (x *tfa) try(a *Authenticator, code string) (*Factor, error) {
	return a.SignInSecondFactor(context.Background(), Attempt{Login: tfaLogin, Password: code, Addr: tfaAddr, Client: "test", Via: ViaWeb})
}

func TestSecondFactorCodeOnce(t *testing.T) {
	x := newTFA(t)
	code := x.code(t)
	f, err := x.try(x.a, code)
	if err != nil || f.Emergency {
		t.Fatalf("first use: %+v %v", f, err)
	}
	if _, err := x.try(x.a, code); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("the same code again: %v, want ErrCodeUsed", err)
	}
	// Another process sees the same store: refused there too.
	if _, err := x.try(x.sibling(), code); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("the same code in another process: %v, want ErrCodeUsed", err)
	}
	// Still within its window 20 s later (the skew accepts it), and still
	// refused.
	x.clock.Advance(20 * time.Second)
	if _, err := x.try(x.a, code); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("the same code 20 s later: %v", err)
	}
	// The code confirmed at setup (the step before) is used too.
	if _, err := x.try(x.a, x.codeAt(t, x.clock.Now().Add(-2*TOTPPeriod))); err == nil {
		t.Fatal("an older code passed")
	}
	// The next step's code passes.
	x.clock.Advance(TOTPPeriod)
	if _, err := x.try(x.a, x.code(t)); err != nil {
		t.Fatalf("next code: %v", err)
	}
}

func TestSecondFactorEmergencyCodeOnce(t *testing.T) {
	x := newTFA(t)
	typed := strings.ToUpper(strings.ReplaceAll(x.codes[2], "-", " "))
	f, err := x.try(x.a, typed)
	if err != nil || !f.Emergency || f.CodesLeft != EmergencyCodes-1 {
		t.Fatalf("emergency code: %+v %v", f, err)
	}
	if _, err := x.try(x.sibling(), x.codes[2]); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("an emergency code used twice: %v, want ErrBadCredentials", err)
	}
	if _, err := x.try(x.a, "aaaa-bbbb-cccc"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a made-up emergency code: %v", err)
	}
}

func TestSecondFactorThrottled(t *testing.T) {
	x := newTFA(t)
	wrong := "000000"
	if wrong == x.code(t) {
		wrong = "000001"
	}
	for i := range DefaultLockAfter {
		_, err := x.try(x.a, wrong)
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	// Slowed down after DefaultSlowAfter failures, like passwords.
	if d := x.sleep.take(); len(d) != DefaultLockAfter-DefaultSlowAfter || d[0] != DefaultDelay {
		t.Fatalf("delays %v", d)
	}
	// Locked now: the right code and an emergency code are refused
	// without being checked (the emergency code is not used up), in this
	// process and another.
	for _, a := range []*Authenticator{x.a, x.sibling()} {
		for _, c := range []string{x.code(t), x.codes[0]} {
			_, err := x.try(a, c)
			var te *ThrottledError
			if !errors.As(err, &te) || te.RetryAfter <= 0 {
				t.Fatalf("right code while locked: %v", err)
			}
		}
	}
	if n, _ := x.st.EmergencyCodesLeft(context.Background(), tfaLogin); n != EmergencyCodes {
		t.Fatalf("an emergency code was used up while locked: %d left", n)
	}
	// The password counters are apart: signing in with the password works.
	if _, err := x.a.SignIn(context.Background(), Attempt{Login: tfaLogin, Password: tfaPassword, Addr: tfaAddr, Via: ViaWeb}); err != nil {
		t.Fatalf("password while codes are locked: %v", err)
	}
	x.clock.Advance(DefaultLockFor + time.Second)
	if _, err := x.try(x.a, x.code(t)); err != nil {
		t.Fatalf("right code after the lock: %v", err)
	}
}

// TestSecondFactorReplayCounts: replayed codes count as failures, so that
// watching one code does not give endless tries.
func TestSecondFactorReplayCounts(t *testing.T) {
	x := newTFA(t)
	code := x.code(t)
	if _, err := x.try(x.a, code); err != nil {
		t.Fatal(err)
	}
	for range DefaultLockAfter {
		if _, err := x.try(x.a, code); !errors.Is(err, ErrCodeUsed) {
			t.Fatalf("replay: %v", err)
		}
	}
	if _, err := x.try(x.a, x.codes[1]); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after %d replays: %v, want throttled", DefaultLockAfter, err)
	}
}

func TestSecondFactorActivity(t *testing.T) {
	x := newTFA(t)
	ctx := context.Background()
	at := Attempt{Login: tfaLogin, Password: tfaPassword, Addr: tfaAddr, Client: "Firefox", Via: ViaWeb}
	id, err := x.a.SignIn(ctx, at)
	if err != nil || !id.User.TwoFactor {
		t.Fatalf("password step: %+v %v", id, err)
	}
	list, _ := x.st.ListSignIns(ctx, tfaLogin, 0)
	if len(list) != 0 {
		t.Fatalf("the password alone was recorded as a sign-in: %+v", list)
	}
	// Nor does it make the address known to the login's lock.
	if known, _ := x.st.SignedInFrom(ctx, tfaLogin, tfaAddr); known {
		t.Fatal("the password alone made the address known")
	}
	if _, err := x.try(x.a, "123-456"); err == nil {
		t.Fatal("wrong code passed")
	}
	if _, err := x.try(x.a, x.code(t)); err != nil {
		t.Fatal(err)
	}
	list, _ = x.st.ListSignIns(ctx, tfaLogin, 0)
	if len(list) != 2 || !list[0].OK || list[0].Credential != "password" || list[0].Via != ViaWeb ||
		list[1].OK || list[1].Credential != "code" {
		t.Fatalf("activity: %+v", list)
	}
	if known, _ := x.st.SignedInFrom(ctx, tfaLogin, tfaAddr); !known {
		t.Fatal("a complete sign-in did not make the address known")
	}
	// Turning off checks without recording a sign-in.
	x.clock.Advance(TOTPPeriod)
	if _, err := x.a.CheckSecondFactor(ctx, Attempt{Login: tfaLogin, Password: x.code(t), Addr: tfaAddr, Via: ViaWeb}); err != nil {
		t.Fatal(err)
	}
	if list, _ = x.st.ListSignIns(ctx, tfaLogin, 0); len(list) != 2 {
		t.Fatalf("CheckSecondFactor recorded a sign-in: %+v", list)
	}
}

func TestSecondFactorOff(t *testing.T) {
	x := newTFA(t)
	ctx := context.Background()
	if err := x.st.DisableTwoFactor(ctx, tfaLogin); err != nil {
		t.Fatal(err)
	}
	if _, err := x.try(x.a, x.code(t)); !errors.Is(err, ErrNoSecondFactor) {
		t.Fatalf("code of a user without two-factor: %v", err)
	}
	if _, err := x.a.SignInSecondFactor(ctx, Attempt{Login: "nobody", Password: "123456", Addr: tfaAddr, Via: ViaWeb}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown login: %v", err)
	}
}

// TestTwoFactorDevicesNeedAppPasswords: with two-factor on, DAV refuses
// the account password and takes app passwords.
func TestTwoFactorDevicesNeedAppPasswords(t *testing.T) {
	x := newTFA(t)
	ctx := context.Background()
	app, digest := NewAppPassword()
	if err := x.st.CreateAppPassword(ctx, &store.AppPassword{Owner: tfaLogin, Name: "phone", Digest: digest}); err != nil {
		t.Fatal(err)
	}
	dav := func(pw string) error {
		_, err := x.a.SignIn(ctx, Attempt{Login: tfaLogin, Password: pw, Addr: "198.51.100.1", Via: ViaDAV})
		return err
	}
	if err := dav(tfaPassword); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("account password over DAV: %v, want ErrBadCredentials", err)
	}
	if err := dav(app); err != nil {
		t.Fatalf("app password over DAV: %v", err)
	}
	u, err := x.st.GetUser(ctx, tfaLogin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckDevicePassword(ctx, x.st, u, tfaPassword); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("CheckDevicePassword with the account password: %v", err)
	}
	if _, err := CheckDevicePassword(ctx, x.st, u, app); err != nil {
		t.Fatalf("CheckDevicePassword with the app password: %v", err)
	}
	if err := x.st.DisableTwoFactor(ctx, tfaLogin); err != nil {
		t.Fatal(err)
	}
	if err := dav(tfaPassword); err != nil {
		t.Fatalf("account password over DAV after two-factor is off: %v", err)
	}
}
