package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// Outbox is what the Worker needs of the store.
type Outbox interface {
	ClaimNotices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notice, error)
	FinishNotice(ctx context.Context, id int64, lease, at time.Time, failure string) error
	RetryNotice(ctx context.Context, id int64, lease, notBefore time.Time, lastErr string) error
}

// Worker defaults.
const (
	DefaultPoll   = 30 * time.Second
	DefaultGiveUp = 24 * time.Hour
	// Lease is how long a claimed notice is kept from other workers:
	// longer than sending it and recording the outcome may take
	// (sendTimeout + recordTimeout), so that no other worker sends it
	// meanwhile. A worker claims one notice at a time, so that a slow
	// relay holds up no other under a lease running out.
	Lease = 2 * time.Minute
	// sendTimeout bounds one mail, from the connection to QUIT.
	sendTimeout = time.Minute
	// recordTimeout bounds writing an outcome, which goes on when the
	// worker is stopped: a mail sent must be marked sent, or it would go
	// out again after the restart.
	recordTimeout = 10 * time.Second
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
// piles up. log nil discards; the sender logs there too.
func NewWorker(outbox Outbox, sender *Sender, links Links, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if sender != nil {
		sender.log = log
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
// every Poll. When ctx ends it returns at once, cutting a sending short,
// after recording the outcome of a mail the relay took.
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

// drain sends due notices, one at a time, until none is left.
func (w *Worker) drain(ctx context.Context) {
	for ctx.Err() == nil {
		list, err := w.outbox.ClaimNotices(ctx, w.Now(), Lease, 1)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("security mails: claiming notices", "err", err)
			}
			return
		}
		if len(list) == 0 {
			return
		}
		w.deliver(ctx, &list[0])
	}
}

// deliver sends n and records the outcome. When ctx ends and cuts the
// sending short, nothing is recorded: the lease runs out and a worker
// sends n later.
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
		now = w.Now()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		next := now.Add(w.Backoff(n.Attempts + 1))
		if !Permanent(err) && next.Sub(n.Time) <= w.GiveUp {
			log.Warn("security mail not sent; will retry", "err", err, "at", next)
			rctx, cancel := recordContext(ctx)
			defer cancel()
			w.recorded(log, "a retry", w.outbox.RetryNotice(rctx, n.ID, n.Lease, next, err.Error()))
			return
		}
		failure = err.Error()
	}
	if failure == "" {
		log.Info("security mail sent", "to", n.To)
	} else if failure != NoRelay {
		log.Error("security mail given up", "to", n.To, "err", failure)
	}
	rctx, cancel := recordContext(ctx)
	defer cancel()
	w.recorded(log, "the outcome", w.outbox.FinishNotice(rctx, n.ID, n.Lease, now, failure))
}

// recordContext is for writing an outcome: it outlives ctx (a mail sent
// while the worker was stopped is marked sent), within recordTimeout.
func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// recorded logs the failure to record what, if any.
func (w *Worker) recorded(log *slog.Logger, what string, err error) {
	switch {
	case errors.Is(err, store.ErrPrecondition):
		// The lease ran out and another worker claimed the notice: its
		// outcome counts.
		log.Warn("security mails: "+what+" not recorded: the notice was taken over by another sender", "err", err)
	case err != nil:
		log.Error("security mails: recording "+what, "err", err)
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
