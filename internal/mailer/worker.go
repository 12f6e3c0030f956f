package mailer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Outbox is what the Worker needs of the store.
type Outbox interface {
	ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error)
	FinishNotice(ctx context.Context, id int64, at time.Time, failure string) error
	RetryNotice(ctx context.Context, id int64, notBefore time.Time, lastErr string) error
}

// Worker defaults.
const (
	DefaultPoll   = 30 * time.Second
	DefaultGiveUp = 24 * time.Hour
	// Lease is how long a claimed notice is kept from other workers: longer
	// than a sending may take (sendTimeout).
	Lease       = 2 * time.Minute
	sendTimeout = time.Minute
	batch       = 20
)

// NoRelay is the failure recorded for notices given up because no SMTP
// relay is configured.
const NoRelay = "no SMTP relay configured"

// Worker sends the notices of an Outbox. Every server process may run one:
// the store's leases make each notice go out once.
type Worker struct {
	outbox Outbox
	sender *Sender // nil: no relay; notices are given up
	links  Links
	log    *slog.Logger
	wake   chan struct{}

	// Settable before Run.
	Poll    time.Duration                    // how often to look for notices queued elsewhere
	GiveUp  time.Duration                    // after this long from the notice's Time, stop trying
	Now     func() time.Time                 // the clock
	Backoff func(attempts int) time.Duration // wait after the attempts-th failure
}

// NewWorker is a worker for outbox; sender nil means no relay is
// configured: every due notice is then given up (NoRelay), so that none
// piles up. log nil discards.
func NewWorker(outbox Outbox, sender *Sender, links Links, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{outbox: outbox, sender: sender, links: links, log: log, wake: make(chan struct{}, 1),
		Poll: DefaultPoll, GiveUp: DefaultGiveUp, Now: time.Now, Backoff: Backoff}
}

// Backoff is the default wait after the n-th failed attempt: 1 min, 5 min,
// 30 min, 2 h, then every 6 h.
func Backoff(n int) time.Duration {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
	if n >= 1 && n <= len(steps) {
		return steps[n-1]
	}
	return 6 * time.Hour
}

// Wake makes Run look for due notices now: after queueing one, so that it
// goes out at once. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due notices until ctx ends: at once, then when woken, and
// every Poll.
func (w *Worker) Run(ctx context.Context) {
	if w.sender == nil {
		w.log.Warn("security mails: no SMTP relay configured; notices are dropped")
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
		w.drain(ctx)
		t.Reset(w.Poll)
	}
}

// drain sends due notices, in batches, until none is left.
func (w *Worker) drain(ctx context.Context) {
	for ctx.Err() == nil {
		list, err := w.outbox.ClaimNotices(ctx, w.Now(), Lease, batch)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("security mails: claiming notices", "err", err)
			}
			return
		}
		for i := range list {
			w.deliver(ctx, &list[i])
		}
		if len(list) < batch {
			return
		}
	}
}

// deliver sends n and records the outcome. When ctx ends meanwhile,
// nothing is recorded: the lease runs out and a worker sends n later.
func (w *Worker) deliver(ctx context.Context, n *store.Notice) {
	log := w.log.With("notice", n.ID, "kind", n.Kind, "login", n.Login)
	now := w.Now()
	failure := ""
	switch {
	case w.sender == nil:
		failure = NoRelay
	case now.Sub(n.Time) > w.GiveUp:
		failure = fmt.Sprintf("not sent within %v of the event", w.GiveUp)
		if n.LastError != "" {
			failure += "; last error: " + n.LastError
		}
	default:
		err := w.send(ctx, n)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		now = w.Now()
		next := now.Add(w.Backoff(n.Attempts + 1))
		if !Permanent(err) && next.Sub(n.Time) <= w.GiveUp {
			log.Warn("security mail not sent; will retry", "err", err, "at", next)
			if err := w.outbox.RetryNotice(ctx, n.ID, next, err.Error()); err != nil {
				log.Error("security mails: recording a retry", "err", err)
			}
			return
		}
		failure = err.Error()
	}
	if failure == "" {
		log.Info("security mail sent", "to", n.To)
	} else if failure != NoRelay {
		log.Error("security mail given up", "to", n.To, "err", failure)
	}
	if err := w.outbox.FinishNotice(ctx, n.ID, now, failure); err != nil {
		log.Error("security mails: recording the outcome", "err", err)
	}
}

func (w *Worker) send(ctx context.Context, n *store.Notice) error {
	subject, text, html, err := Render(*n, w.links)
	if err != nil {
		return &PermanentError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	return w.sender.Send(ctx, n.To, subject, text, html)
}
