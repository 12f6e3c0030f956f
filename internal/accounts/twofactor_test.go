package accounts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

func TestTwoFactorOnAndOff(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if err := accounts.Create(ctx, st, "ann", "ann's password"); err != nil {
		t.Fatal(err)
	}
	secret := auth.NewTOTPSecret()
	if err := st.SetPendingTOTP(ctx, "ann", secret); err != nil {
		t.Fatal(err)
	}
	codes, err := accounts.EnableTwoFactor(ctx, st, "ann", secret, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != auth.EmergencyCodes {
		t.Fatalf("%d codes", len(codes))
	}
	// The codes shown are the ones kept.
	left, err := st.UseEmergencyCode(ctx, "ann", auth.EmergencyCodeDigest(codes[9]))
	if err != nil || left != auth.EmergencyCodes-1 {
		t.Fatalf("using a code: %d %v", left, err)
	}
	// A second confirmation makes no new codes.
	if again, err := accounts.EnableTwoFactor(ctx, st, "ann", secret, 43); !errors.Is(err, store.ErrPrecondition) || again != nil {
		t.Fatalf("second confirmation: %v %v", again, err)
	}
	if err := accounts.DisableTwoFactor(ctx, st, "ann"); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.GetUser(ctx, "ann"); u.TwoFactor {
		t.Fatal("two-factor still on")
	}
	if err := accounts.DisableTwoFactor(ctx, st, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown login: %v", err)
	}
}
