package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- second factor -------------------------------------------------------

func twoFactorOn(t *testing.T, s store.Store, login string) bool {
	t.Helper()
	u, err := s.GetUser(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	return u.TwoFactor
}

func codesLeft(t *testing.T, s store.Store, login string) int {
	t.Helper()
	n, err := s.EmergencyCodesLeft(ctx, login)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func digests(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

// enable2FA sets up and confirms secret for login, at step, with ten codes
// "<login>-00"… as digests.
func enable2FA(t *testing.T, s store.Store, login, secret string, step int64) {
	t.Helper()
	if err := s.SetPendingTOTP(ctx, login, secret); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableTwoFactor(ctx, login, secret, step, digests(login, 10)); err != nil {
		t.Fatal(err)
	}
}

func testTwoFactorSetup(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	wantErr(t, "pending secret of an unknown login", s.SetPendingTOTP(ctx, "nobody", "S1"), store.ErrNotFound)
	_, err := s.GetTOTP(ctx, "alice")
	wantErr(t, "no secret yet", err, store.ErrNotFound)

	if err := s.SetPendingTOTP(ctx, "alice", "FIRST"); err != nil {
		t.Fatal(err)
	}
	k, err := s.GetTOTP(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "pending", [2]any{k.Secret, k.Pending}, [2]any{"FIRST", true})
	recent(t, "pending since", k.Since)
	eq(t, "two-factor while pending", twoFactorOn(t, s, "alice"), false)

	// Turning it on again (another tab) replaces the pending secret; the
	// first one can no longer be confirmed.
	if err := s.SetPendingTOTP(ctx, "alice", "SECOND"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "confirming a replaced secret", s.EnableTwoFactor(ctx, "alice", "FIRST", 100, digests("a", 10)), store.ErrPrecondition)
	eq(t, "two-factor after a refused confirmation", twoFactorOn(t, s, "alice"), false)
	eq(t, "codes after a refused confirmation", codesLeft(t, s, "alice"), 0)

	if err := s.EnableTwoFactor(ctx, "alice", "SECOND", 100, digests("a", 10)); err != nil {
		t.Fatal(err)
	}
	k, err = s.GetTOTP(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "confirmed", [3]any{k.Secret, k.Pending, k.LastStep}, [3]any{"SECOND", false, int64(100)})
	eq(t, "two-factor on", twoFactorOn(t, s, "alice"), true)
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListUsers two-factor", users[0].TwoFactor, true)
	eq(t, "codes", codesLeft(t, s, "alice"), 10)

	// A second confirmation (the browser posting the form again) finds no
	// pending secret and changes nothing: no new codes.
	wantErr(t, "confirming twice", s.EnableTwoFactor(ctx, "alice", "SECOND", 101, digests("b", 10)), store.ErrPrecondition)
	_, err = s.UseEmergencyCode(ctx, "alice", "b-00")
	wantErr(t, "code of the refused confirmation", err, store.ErrNotFound)
	// Setting up anew while it is on is refused: it must be turned off
	// first, with a code.
	wantErr(t, "pending secret while on", s.SetPendingTOTP(ctx, "alice", "THIRD"), store.ErrExists)
	k, err = s.GetTOTP(ctx, "alice")
	if err != nil || k.Secret != "SECOND" || k.Pending {
		t.Fatalf("after refused setup: %+v %v", k, err)
	}
	wantErr(t, "confirming without a pending secret", s.EnableTwoFactor(ctx, "nobody", "X", 1, nil), store.ErrPrecondition)
}

func testTOTPSteps(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	wantErr(t, "step of a user without two-factor", s.UseTOTPStep(ctx, "alice", 5), store.ErrNotFound)
	if err := s.SetPendingTOTP(ctx, "alice", "S"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "step of a pending secret", s.UseTOTPStep(ctx, "alice", 5), store.ErrNotFound)
	if err := s.EnableTwoFactor(ctx, "alice", "S", 1000, nil); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "the confirming code's step", s.UseTOTPStep(ctx, "alice", 1000), store.ErrPrecondition)
	wantErr(t, "an older step", s.UseTOTPStep(ctx, "alice", 999), store.ErrPrecondition)
	if err := s.UseTOTPStep(ctx, "alice", 1001); err != nil {
		t.Fatalf("next step: %v", err)
	}
	wantErr(t, "the same step again", s.UseTOTPStep(ctx, "alice", 1001), store.ErrPrecondition)
	// A code of the step after next (a phone whose clock is ahead) moves
	// the mark past the current one.
	if err := s.UseTOTPStep(ctx, "alice", 1003); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a step before the last one", s.UseTOTPStep(ctx, "alice", 1002), store.ErrPrecondition)
	k, err := s.GetTOTP(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "last step", k.LastStep, int64(1003))
	wantErr(t, "another user's steps are apart", s.UseTOTPStep(ctx, "bob", 2000), store.ErrNotFound)
}

// testTOTPStepConcurrent: one code sent at once by many requests (or
// processes) is accepted once.
func testTOTPStepConcurrent(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	enable2FA(t, s, "alice", "S", 10)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.UseTOTPStep(ctx, "alice", 11)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrPrecondition):
			t.Fatalf("concurrent step: %v", err)
		}
	}
	eq(t, "accepted", ok, 1)
}

func testEmergencyCodes(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	enable2FA(t, s, "alice", "SA", 1)
	enable2FA(t, s, "bob", "SB", 1)
	left, err := s.UseEmergencyCode(ctx, "alice", "alice-03")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "left after one", left, 9)
	_, err = s.UseEmergencyCode(ctx, "alice", "alice-03")
	wantErr(t, "a code used twice", err, store.ErrNotFound)
	_, err = s.UseEmergencyCode(ctx, "alice", "bob-03")
	wantErr(t, "another user's code", err, store.ErrNotFound)
	_, err = s.UseEmergencyCode(ctx, "nobody", "alice-04")
	wantErr(t, "code of an unknown login", err, store.ErrNotFound)
	eq(t, "bob's codes", codesLeft(t, s, "bob"), 10)

	// One code tried at once by many requests is accepted once.
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.UseEmergencyCode(ctx, "alice", "alice-07")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrNotFound):
			t.Fatalf("concurrent code: %v", err)
		}
	}
	eq(t, "accepted", ok, 1)
	eq(t, "left", codesLeft(t, s, "alice"), 8)
}

func testDisableTwoFactor(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	wantErr(t, "unknown login", s.DisableTwoFactor(ctx, "nobody"), store.ErrNotFound)
	if err := s.DisableTwoFactor(ctx, "alice"); err != nil {
		t.Fatalf("turning off what is off: %v", err)
	}
	enable2FA(t, s, "alice", "SA", 1)
	enable2FA(t, s, "bob", "SB", 1)
	if err := s.DisableTwoFactor(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	eq(t, "two-factor after disable", twoFactorOn(t, s, "alice"), false)
	_, err := s.GetTOTP(ctx, "alice")
	wantErr(t, "secret after disable", err, store.ErrNotFound)
	eq(t, "codes after disable", codesLeft(t, s, "alice"), 0)
	_, err = s.UseEmergencyCode(ctx, "alice", "alice-00")
	wantErr(t, "code after disable", err, store.ErrNotFound)
	wantErr(t, "step after disable", s.UseTOTPStep(ctx, "alice", 50), store.ErrNotFound)
	eq(t, "bob keeps his", [2]any{twoFactorOn(t, s, "bob"), codesLeft(t, s, "bob")}, [2]any{true, 10})

	// A pending secret goes too.
	if err := s.SetPendingTOTP(ctx, "alice", "NEW"); err != nil {
		t.Fatalf("setting up again after disable: %v", err)
	}
	if err := s.DisableTwoFactor(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetTOTP(ctx, "alice")
	wantErr(t, "pending secret after disable", err, store.ErrNotFound)
}

// testTwoFactorCascade: a deleted user's secret and codes go with them; the
// login registered again starts without.
func testTwoFactorCascade(t *testing.T, s store.Store) {
	mkUser(t, s, "gone")
	enable2FA(t, s, "gone", "S", 1)
	if err := s.DeleteUser(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	mkUser(t, s, "gone")
	eq(t, "two-factor of the new user", twoFactorOn(t, s, "gone"), false)
	_, err := s.GetTOTP(ctx, "gone")
	wantErr(t, "secret of the new user", err, store.ErrNotFound)
	eq(t, "codes of the new user", codesLeft(t, s, "gone"), 0)
	// The old codes' digests are free.
	enable2FA(t, s, "gone", "S", 1)
}

func testPartialSessions(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	exp := time.Now().Add(10 * time.Minute)
	if err := s.CreateSession(ctx, &store.Session{ID: "half", Owner: "alice", CSRF: "c", Expires: exp, Partial: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, &store.Session{ID: "full", Owner: "alice", CSRF: "c", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"half": true, "full": false} {
		x, err := s.GetSession(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, id+" partial", x.Partial, want)
	}
}
