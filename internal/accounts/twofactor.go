package accounts

import (
	"context"
	"fmt"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

// EnableTwoFactor turns two-factor sign-in on for login with its pending
// TOTP secret, which the caller checked a code of step against
// (auth.MatchTOTP), and returns new emergency codes: only their digests
// are kept, so the caller shows them now or never. It fails with an error
// wrapping store.ErrPrecondition when secret is no longer login's pending
// secret (set up again meanwhile, or confirmed by an earlier request: a
// form posted twice must not make a second set of codes).
func EnableTwoFactor(ctx context.Context, st Store, login, secret string, step int64) ([]string, error) {
	codes, digests := auth.NewEmergencyCodes()
	if err := st.EnableTwoFactor(ctx, login, secret, step, digests); err != nil {
		return nil, fmt.Errorf("accounts: turn on two-factor for %s: %w", login, err)
	}
	tell(ctx, st, store.Notice{Login: login, Kind: store.NoticeTwoFactor, Detail: "on"})
	return codes, nil
}

// DisableTwoFactor turns two-factor sign-in off for login, dropping its
// secret and emergency codes: the pages (after a code) and the command
// line (an admin helping a user who lost their phone) both come here. A
// login unknown here gives an error wrapping store.ErrNotFound.
func DisableTwoFactor(ctx context.Context, st Store, login string) error {
	u, err := st.GetUser(ctx, login)
	if err != nil {
		return fmt.Errorf("accounts: turn off two-factor for %s: %w", login, err)
	}
	if err := st.DisableTwoFactor(ctx, login); err != nil {
		return fmt.Errorf("accounts: turn off two-factor for %s: %w", login, err)
	}
	// Clearing a setup never confirmed turns nothing off: no mail.
	if u.TwoFactor {
		tell(ctx, st, store.Notice{Login: login, Kind: store.NoticeTwoFactor, Detail: "off"})
	}
	return nil
}
