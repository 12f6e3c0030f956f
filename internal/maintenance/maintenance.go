// Package maintenance is what `rolodav serve` runs on a schedule: it
// prunes the deletions kept for sync (tombstones) once they are older than
// the retention, the expired sessions of the pages, and expired push
// registrations with the VAPID keys no registration uses any more. Every server
// process sharing the store runs the loop; the store's ClaimRun lets one of
// them prune per period.
package maintenance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

const (
	// DefaultRetention is how long a deletion is kept for sync. A client
	// whose sync token is older than a pruned deletion is refused the
	// token (DAV:valid-sync-token) and downloads the whole collection
	// again, as DAVx5 and Thunderbird do. That costs a full sync, not
	// data, but a phone on a metered connection pays for it, so the
	// retention should outlast the devices that are off for long: a
	// tablet in a drawer, a phone left home for a season. A tombstone is
	// one small row per deleted name, so 90 days of them is cheap.
	DefaultRetention = 90 * 24 * time.Hour
	// DefaultEvery is the period of the runs. An hour keeps each run
	// small; expired sessions are refused anyway, pruning only frees them.
	DefaultEvery = time.Hour
	// DefaultCheck is how often each process asks whether the run is due:
	// a run comes at most this much after its period ends.
	DefaultCheck = 5 * time.Minute
)

// RunName is the name the runs are claimed under (store ClaimRun).
const RunName = "prune"

// Config is how the runs go. Zero values take the defaults, except
// Retention.
type Config struct {
	// Retention: deletions older than this are pruned; 0 or less never
	// prunes them (DefaultRetention is what serve passes by default).
	Retention time.Duration
	Every     time.Duration    // the period; DefaultEvery when 0
	Check     time.Duration    // DefaultCheck when 0; never more than Every
	Now       func() time.Time // time.Now when nil
	Log       *slog.Logger     // nothing logged when nil
}

func (c Config) withDefaults() Config {
	if c.Every <= 0 {
		c.Every = DefaultEvery
	}
	if c.Check <= 0 {
		c.Check = DefaultCheck
	}
	c.Check = min(c.Check, c.Every)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Store is what maintenance prunes.
type Store interface {
	store.Maintenance
	PrunePush(ctx context.Context, now time.Time) (int, error)
}

// Result is what one run pruned.
type Result struct {
	Tombstones int
	Sessions   int
	Push       int // push registrations
}

// Once claims this period's run and, when it gets it, prunes. ran is false
// when a process (this one or another) ran it within the period. A run
// that fails after its claim is not retried before the next period.
func Once(ctx context.Context, st Store, cfg Config) (r Result, ran bool, err error) {
	cfg = cfg.withDefaults()
	now := cfg.Now()
	ran, err = st.ClaimRun(ctx, RunName, now, cfg.Every)
	if err != nil || !ran {
		return r, false, err
	}
	if cfg.Retention > 0 {
		if r.Tombstones, err = st.PruneTombstones(ctx, now.Add(-cfg.Retention)); err != nil {
			return r, true, fmt.Errorf("maintenance: %w", err)
		}
	}
	if r.Sessions, err = st.PruneSessions(ctx, now); err != nil {
		return r, true, fmt.Errorf("maintenance: %w", err)
	}
	if r.Push, err = st.PrunePush(ctx, now); err != nil {
		return r, true, fmt.Errorf("maintenance: %w", err)
	}
	return r, true, nil
}

// Run calls Once at once and then every cfg.Check, logging what it pruned
// and its errors, until ctx ends.
func Run(ctx context.Context, st Store, cfg Config) {
	cfg = cfg.withDefaults()
	tick := time.NewTicker(cfg.Check)
	defer tick.Stop()
	for {
		r, ran, err := Once(ctx, st, cfg)
		switch {
		case err != nil && ctx.Err() == nil:
			cfg.Log.Error("maintenance failed", "err", err)
		case ran && r != Result{}:
			cfg.Log.Info("maintenance pruned", "tombstones", r.Tombstones, "sessions", r.Sessions, "push_registrations", r.Push)
		case ran:
			cfg.Log.Debug("maintenance: nothing to prune")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
