package postgres

import (
	"context"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

func (s *Store) CreateAppPassword(ctx context.Context, p *store.AppPassword) error {
	return errTODO
}

func (s *Store) ListAppPasswords(ctx context.Context, owner string) ([]store.AppPassword, error) {
	return nil, errTODO
}

func (s *Store) FindAppPassword(ctx context.Context, owner, digest string) (*store.AppPassword, error) {
	return nil, errTODO
}

func (s *Store) DeleteAppPassword(ctx context.Context, owner string, id int64) error {
	return errTODO
}

func (s *Store) CreateSession(ctx context.Context, x *store.Session) error {
	return errTODO
}

func (s *Store) GetSession(ctx context.Context, id string) (*store.Session, error) {
	return nil, errTODO
}

func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expires time.Time) error {
	return errTODO
}

func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return errTODO
}

func (s *Store) EndOtherSessions(ctx context.Context, owner, keep string) (int, error) {
	return 0, errTODO
}

func (s *Store) RecordSignIn(ctx context.Context, e *store.SignIn, appPassword int64, keep time.Duration) error {
	return errTODO
}

func (s *Store) SignedInFrom(ctx context.Context, login, network string) (bool, error) {
	return false, errTODO
}

func (s *Store) ListSignIns(ctx context.Context, login string, limit int) ([]store.SignIn, error) {
	return nil, errTODO
}

func (s *Store) SignInFailures(ctx context.Context, keys []string, now time.Time) ([]store.FailureCount, error) {
	return nil, errTODO
}

func (s *Store) AddSignInFailure(ctx context.Context, key string, now time.Time, window time.Duration, lockAt int, lockFor time.Duration) (store.FailureCount, error) {
	return store.FailureCount{}, errTODO
}

func (s *Store) ClearSignInFailures(ctx context.Context, keys []string) error {
	return errTODO
}

func (s *Store) SetPendingTOTP(ctx context.Context, login, secret string) error {
	return errTODO
}

func (s *Store) GetTOTP(ctx context.Context, login string) (*store.TOTP, error) {
	return nil, errTODO
}

func (s *Store) EnableTwoFactor(ctx context.Context, login, secret string, step int64, codeDigests []string) error {
	return errTODO
}

func (s *Store) UseTOTPStep(ctx context.Context, login string, step int64) error {
	return errTODO
}

func (s *Store) UseEmergencyCode(ctx context.Context, login, digest string) (int, error) {
	return 0, errTODO
}

func (s *Store) EmergencyCodesLeft(ctx context.Context, login string) (int, error) {
	return 0, errTODO
}

func (s *Store) DisableTwoFactor(ctx context.Context, login string) error {
	return errTODO
}

func (s *Store) QueueNotice(ctx context.Context, n *store.Notice, per time.Duration) (bool, error) {
	return false, errTODO
}

func (s *Store) ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error) {
	return nil, errTODO
}

func (s *Store) FinishNotice(ctx context.Context, id int64, lease, at time.Time, failure string) error {
	return errTODO
}

func (s *Store) RetryNotice(ctx context.Context, id int64, lease, notBefore time.Time, lastErr string) error {
	return errTODO
}

func (s *Store) ListNotices(ctx context.Context, login string, limit int) ([]store.Notice, error) {
	return nil, errTODO
}

func (s *Store) PruneTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	return 0, errTODO
}

func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	return 0, errTODO
}

func (s *Store) ClaimRun(ctx context.Context, name string, now time.Time, every time.Duration) (bool, error) {
	return false, errTODO
}
