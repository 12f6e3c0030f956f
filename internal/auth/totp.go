package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rolodav/rolodav/internal/store"
)

// SecondFactorSource is what the second-factor checks need from the
// store, with the semantics documented in store.SecondFactor, which
// satisfies it.
type SecondFactorSource interface {
	GetTOTP(ctx context.Context, login string) (*store.TOTP, error)
	UseTOTPStep(ctx context.Context, login string, step int64) error
	UseEmergencyCode(ctx context.Context, login, digest string) (left int, err error)
}

// TOTP parameters: SHA-1, 6 digits, 30 seconds, the ones every
// authenticator app supports (many ignore anything else in the URL).
const (
	TOTPPeriod = 30 * time.Second
	TOTPDigits = 6
	// totpSkew is how many steps before and after now a code may be of:
	// phones' clocks drift, and a code typed at the end of its step
	// arrives in the next one.
	totpSkew = 1
	// totpSecretLen is the secret's size in bytes: 160 bits, as RFC 4226
	// recommends for HMAC-SHA-1.
	totpSecretLen = 20
)

var totpOpts = totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a new random TOTP secret in base32, as
// authenticator apps take it.
func NewTOTPSecret() string {
	b := make([]byte, totpSecretLen)
	// crypto/rand.Read never returns an error (it crashes the program if the
	// system's generator fails).
	_, _ = rand.Read(b)
	return base32NoPad.EncodeToString(b)
}

// TOTPURL is the otpauth:// URL of secret for login, which authenticator
// apps read from a QR code; issuer is the name they show with the login.
func TOTPURL(issuer, login, secret string) (string, error) {
	raw, err := base32NoPad.DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: TOTP secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: login, Secret: raw,
		Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return "", fmt.Errorf("auth: TOTP URL: %w", err)
	}
	return key.URL(), nil
}

// TOTPStep is the time step t is in.
func TOTPStep(t time.Time) int64 {
	return t.Unix() / int64(TOTPPeriod/time.Second)
}

// MatchTOTP returns the time step code is the code of, among the step of
// now and the totpSkew steps before and after it; ok is false when it is
// none of them. White space in code is ignored.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = stripSpace(code)
	if !isTOTPCode(code) {
		return 0, false
	}
	cur := TOTPStep(now)
	for d := int64(0); d <= totpSkew; d++ {
		for _, s := range []int64{cur - d, cur + d} {
			want, err := totp.GenerateCodeCustom(secret, time.Unix(s*int64(TOTPPeriod/time.Second), 0), totpOpts)
			if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
				return s, true
			}
		}
	}
	return 0, false
}

// isTOTPCode reports whether s (without white space) has the form of a
// TOTP code, not of an emergency code.
func isTOTPCode(s string) bool {
	if len(s) != TOTPDigits {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// Emergency codes are EmergencyCodes codes of emergencyCodeGroups groups
// of emergencyCodeGroupLen symbols of the app password alphabet, e.g.
// "k7pq-m3xd-9fwt": 12 × 5 = 60 bits.
const (
	EmergencyCodes        = 10
	emergencyCodeGroups   = 3
	emergencyCodeGroupLen = 4
)

// NewEmergencyCodes returns EmergencyCodes random codes, to be shown once,
// and their EmergencyCodeDigest, to be stored.
func NewEmergencyCodes() (codes, digests []string) {
	for range EmergencyCodes {
		code := randomGroups(emergencyCodeGroups, emergencyCodeGroupLen)
		codes = append(codes, code)
		digests = append(digests, EmergencyCodeDigest(code))
	}
	return codes, digests
}

// EmergencyCodeDigest is the hex SHA-256 under which an emergency code is
// stored, of the code without white space and '-', lower-cased, so that
// one typed in capitals or without dashes matches. A fast digest is
// enough, as for app passwords: the codes are random with 60 bits, which
// no one guesses through throttled sign-ins, and whoever reads the
// database to try offline has the TOTP secret there already.
func EmergencyCodeDigest(code string) string {
	sum := sha256.Sum256([]byte(normalizeCode(code)))
	return hex.EncodeToString(sum[:])
}

// Errors of the second-factor checks.
var (
	// ErrCodeUsed: a TOTP code of a time step accepted already (a code is
	// accepted once, so that one seen over a shoulder or in a proxy's log
	// cannot be used again).
	ErrCodeUsed = errors.New("auth: this code was used already")
	// ErrNoSecondFactor: the user has no second factor (any more).
	ErrNoSecondFactor = errors.New("auth: two-factor sign-in is off")
)

// Factor says what passed a second-factor check.
type Factor struct {
	Emergency bool // an emergency code, used up now
	CodesLeft int  // the emergency codes left, when Emergency
}

// credCode is store.SignIn.Credential of a failed second factor.
const credCode = "code"

// SignInSecondFactor completes a web sign-in of a user with two-factor on,
// whose account password SignIn verified: at.Password holds a TOTP code
// (6 digits) or an emergency code. On success it records the sign-in in
// the activity (Credential "password": SignIn did not record it).
//
// Wrong codes are throttled like wrong passwords: they are counted in the
// store's failure counters of their own ("2fa:" keys: the login from the
// address, the address, the login), with the same thresholds, slowdown
// and locks (see Options), and a locked attempt is refused with a
// *ThrottledError without being checked. A TOTP code is accepted once:
// its time step is marked used in the store, and a code of that step or
// an older one is refused with ErrCodeUsed, counted as a failure. An
// emergency code is used up. A wrong code is ErrBadCredentials, recorded
// in the activity with Credential "code". ErrNoSecondFactor when the user
// has two-factor off (turned off since the password step).
func (a *Authenticator) SignInSecondFactor(ctx context.Context, at Attempt) (*Factor, error) {
	u, f, err := a.secondFactor(ctx, at)
	if err == nil {
		a.record(ctx, at, u.Login, &Identity{User: u, Credential: credPassword})
	}
	return f, err
}

// CheckSecondFactor checks a code as SignInSecondFactor does, with the
// same throttling, for an action that needs one (turning two-factor off).
// It records failures in the activity, not successes: they are no
// sign-in.
func (a *Authenticator) CheckSecondFactor(ctx context.Context, at Attempt) (*Factor, error) {
	_, f, err := a.secondFactor(ctx, at)
	return f, err
}

func (a *Authenticator) secondFactor(ctx context.Context, at Attempt) (*store.User, *Factor, error) {
	login, err := NormalizeLogin(at.Login)
	if err != nil {
		return nil, nil, ErrBadCredentials
	}
	u, err := a.users.GetUser(ctx, login)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && u == nil:
		return nil, nil, ErrBadCredentials
	case err != nil:
		return nil, nil, fmt.Errorf("auth: loading user: %w", err)
	case !u.TwoFactor:
		return nil, nil, ErrNoSecondFactor
	}
	p, delay, err := a.admit(ctx, scopeSecondFactor, addressKey(at.Addr), login)
	if err != nil {
		return nil, nil, err
	}
	defer a.end(ctx, p)
	if delay > 0 {
		if err := a.opt.Sleep(ctx, delay); err != nil {
			return nil, nil, err
		}
	}
	if err := a.reserve(ctx, p); err != nil {
		return nil, nil, err
	}
	f, err := a.checkFactor(ctx, login, at.Password)
	switch {
	case err == nil:
		a.succeed(ctx, p)
		return u, f, nil
	case errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrCodeUsed):
		if ferr := a.fail(ctx, p); ferr != nil {
			return nil, nil, ferr
		}
		a.recordFailure(ctx, at, login, credCode)
		a.failed(ctx, at, login, p, true)
	}
	// Other errors (the store's, ErrNoSecondFactor) count neither way:
	// end drops the reservation, taking back a failure counted ahead.
	return nil, nil, err
}

// scopeSecondFactor prefixes the failure counters of second factors.
const scopeSecondFactor = "2fa:"

// checkFactor checks code as a TOTP code or an emergency code of login,
// using it up if it passes.
func (a *Authenticator) checkFactor(ctx context.Context, login, code string) (*Factor, error) {
	if !isTOTPCode(stripSpace(code)) {
		left, err := a.users.UseEmergencyCode(ctx, login, EmergencyCodeDigest(code))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, ErrBadCredentials
		case err != nil:
			return nil, fmt.Errorf("auth: using emergency code: %w", err)
		}
		return &Factor{Emergency: true, CodesLeft: left}, nil
	}
	k, err := a.users.GetTOTP(ctx, login)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && k.Pending:
		return nil, ErrNoSecondFactor
	case err != nil:
		return nil, fmt.Errorf("auth: loading TOTP secret: %w", err)
	}
	step, ok := MatchTOTP(k.Secret, code, a.opt.Now())
	if !ok {
		return nil, ErrBadCredentials
	}
	err = a.users.UseTOTPStep(ctx, login, step)
	switch {
	case errors.Is(err, store.ErrPrecondition):
		return nil, ErrCodeUsed
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrNoSecondFactor
	case err != nil:
		return nil, fmt.Errorf("auth: marking TOTP code used: %w", err)
	}
	return &Factor{}, nil
}

// normalizeCode lower-cases a typed code and drops white space and '-'.
func normalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}
