package push

import (
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/rolodav/rolodav/internal/store"
)

// Sender defaults and limits.
const (
	// DefaultSpacing is Options.Spacing when it is 0.
	DefaultSpacing = 3 * time.Second
	// DefaultPoll is how often the Sender looks for messages queued by
	// other processes (another server, an import on the command line),
	// whose wake-ups it does not hear.
	DefaultPoll = 2 * time.Second
	// lease keeps a claimed message from other senders. A delivery's
	// messages take at most sendTimeout (each at most requestTimeout),
	// and recording its outcome at most recordTimeout: a delivery starts
	// only while its lease has need left, a message only while it has
	// requestTimeout+recordTimeout left, so that the outcome is recorded
	// before the lease runs out and another sender claims the message.
	// What is left (a claim that waited long for the database, a message
	// that waited long for its push service's turn) is left to run out,
	// and the next claim sends it.
	lease         = time.Minute
	sendTimeout   = 2 * requestTimeout // an update and a key rotation message
	recordTimeout = 10 * time.Second
	need          = sendTimeout + recordTimeout
	// concurrency bounds the deliveries under way, perHost those to one
	// push service's host and perLogin those of one user's registrations,
	// so that push services that take connections and never answer hold
	// up their own messages only, however many host names a user has
	// them under. The Sender claims no more than it has free slots for; a
	// message whose host or user has its share under way waits for its
	// turn while its lease allows.
	concurrency = 16
	perHost     = 2
	perLogin    = 4
	// claimGap is the least time between two claims: every write that
	// queues a message wakes the Sender, and each claim is a write
	// transaction, so a burst of writes (an import) makes one claim per
	// gap rather than one each.
	claimGap = 10 * time.Millisecond

	// ttl is how long a push service keeps a message for a device that is
	// offline; a device away longer syncs on its own timer.
	ttl = 24 * 60 * 60
	// MaxAttempts is how many times a message is tried (429, 5xx, network
	// errors) before it is dropped.
	MaxAttempts = 8
	maxBackoff  = time.Hour
	// Tolerance: when a message is dropped after failures, its
	// registration goes too if nothing was delivered to it (or since it
	// was registered) for this long (the draft's "last successful
	// delivery plus some tolerance interval").
	Tolerance = 24 * time.Hour
)

// Backoff is the default wait after the n-th failed attempt (n from 1):
// 10 s doubling, at most an hour.
func Backoff(n int) time.Duration {
	if n > 9 {
		return maxBackoff
	}
	return min(10*time.Second<<(n-1), maxBackoff)
}

// Sender delivers the messages the store queues. Every server process
// may run one: the store's leases make each message go out once.
type Sender struct {
	st     Store
	svc    *Service
	opt    Options
	log    *slog.Logger
	client *client
	wake   chan struct{}

	// Settable before Run.
	Poll    time.Duration             // how often to look for messages without a wake-up
	Now     func() time.Time          // the clock
	Backoff func(n int) time.Duration // wait after the n-th failed attempt, without Retry-After
}

// NewSender returns a Sender over st, with the topics of svc. opt are
// the options svc was made with: Subject signs, Spacing spaces, Proxy and
// AllowPrivate govern the connections. log nil discards.
func NewSender(st Store, svc *Service, opt Options, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Spacing <= 0 {
		opt.Spacing = DefaultSpacing
	}
	return &Sender{st: st, svc: svc, opt: opt, log: log, client: newClient(opt), wake: make(chan struct{}, 1),
		Poll: DefaultPoll, Now: time.Now, Backoff: Backoff}
}

// Wake makes Run look for due messages now; a write that queued one calls
// it (store.PushHints.Wake). It never blocks, and wake-ups coalesce.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers due messages until ctx ends: at once, when woken, when the
// store says the next is due, when a delivery ends (a slot is free), and
// every Poll. When ctx ends, deliveries under way are cut short and Run
// returns once they have; a claim left unrecorded runs out, and the
// message goes out later.
func (s *Sender) Run(ctx context.Context) {
	if s.opt.Subject == "" {
		s.log.Warn("push: no VAPID subject (a mailto: or https: contact) configured; push services may refuse the messages")
	}
	var wg sync.WaitGroup
	defer s.client.hc.CloseIdleConnections()
	defer wg.Wait()
	p := &pool{hosts: map[string]int{}, logins: map[string]int{}, done: make(chan slot, concurrency), wg: &wg}
	t := time.NewTimer(0)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case sl := <-p.done:
			p.ended(sl)
			s.startWaiting(ctx, p)
		case <-t.C:
		}
		if d := claimGap - time.Since(last); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		last = time.Now()
		t.Reset(s.claim(ctx, p))
	}
}

// pool is the deliveries under way and those waiting for their host's
// turn; only Run's goroutine touches it.
type pool struct {
	running int
	hosts   map[string]int        // deliveries under way per host
	logins  map[string]int        // deliveries under way per registering user
	waiting []*store.PushDelivery // claimed, oldest first
	done    chan slot             // each delivery that ended; never full: at most concurrency run
	wg      *sync.WaitGroup
}

// slot is whose share a delivery under way takes.
type slot struct{ host, login string }

func (p *pool) ended(s slot) {
	p.running--
	if p.hosts[s.host]--; p.hosts[s.host] == 0 {
		delete(p.hosts, s.host)
	}
	if p.logins[s.login]--; p.logins[s.login] == 0 {
		delete(p.logins, s.login)
	}
}

// claim claims as many due messages as there are free slots, starts
// those whose host has room, and returns how long to wait before looking
// again.
func (s *Sender) claim(ctx context.Context, p *pool) time.Duration {
	s.startWaiting(ctx, p) // and drops those whose lease ran short
	free := concurrency - p.running
	if free == 0 {
		return s.Poll // a delivery ending frees a slot and wakes Run
	}
	now := s.Now()
	ds, next, err := s.st.ClaimPushes(ctx, now, lease, s.opt.Spacing, free)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("push: claiming messages", "err", err)
		}
		return s.Poll
	}
	if took := s.Now().Sub(now); len(ds) > 0 && took > lease-need {
		s.log.Warn("push: claiming took so long that the leases are too short to deliver; the messages go out once they run out",
			"took", took, "messages", len(ds))
	}
	for i := range ds {
		p.waiting = append(p.waiting, &ds[i])
	}
	s.startWaiting(ctx, p)
	wait := s.Poll
	switch {
	case len(ds) == free && p.running < concurrency:
		// Slots are free (what was claimed waits for busy hosts) and more
		// may be due: look again at once.
		wait = 0
	case len(ds) < free && !next.IsZero():
		wait = min(wait, max(next.Sub(now), 0))
	}
	return wait
}

// startWaiting starts the waiting deliveries whose host has room, oldest
// first, while slots are free, and forgets those whose lease no longer
// leaves the time a delivery needs (another claim sends them).
func (s *Sender) startWaiting(ctx context.Context, p *pool) {
	now := s.Now()
	kept := p.waiting[:0]
	for _, d := range p.waiting {
		sl := slot{host: hostKey(d.Registration.Resource), login: d.Registration.Login}
		switch {
		case now.Add(need).After(d.Lease):
			s.log.Debug("push message left for the next claim: its lease runs out before a delivery could end",
				"registration", d.Registration.ID, "service", sl.host)
		case p.running < concurrency && p.hosts[sl.host] < perHost && p.logins[sl.login] < perLogin:
			p.running++
			p.hosts[sl.host]++
			p.logins[sl.login]++
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				s.deliver(ctx, d)
				p.done <- sl
			}()
		default:
			kept = append(kept, d)
		}
	}
	clear(p.waiting[len(kept):])
	p.waiting = kept
}

// outcome is what a push service answered to a delivery.
type outcome struct {
	status     int           // 0 when no answer came
	retryAfter time.Duration // its Retry-After; 0 when none
	answer     string        // the start of its body, for the log
	err        error         // why there was no answer, or no request
}

// errKeys is a subscription whose keys cannot be used: no message can
// ever reach it.
var errKeys = errors.New("the subscription's keys are not a P-256 public key and an auth secret in base64url")

// errLease is a delivery stopped because its lease no longer leaves the
// time a message and recording the outcome need.
var errLease = errors.New("the claim's lease runs out before another message could be sent and recorded")

// deliver sends d's messages and records the outcome.
func (s *Sender) deliver(ctx context.Context, d *store.PushDelivery) {
	r := &d.Registration
	// Never the resource's path or the keys: the host says which push
	// service it is.
	log := s.log.With("registration", r.ID, "login", r.Login, "service", host(r.Resource))
	o := s.send(ctx, d)
	if o.status == 0 && ctx.Err() != nil {
		return // stopped: the claim runs out and the message goes out later
	}
	if errors.Is(o.err, errLease) {
		log.Info("push message left for the next claim: " + errLease.Error())
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := s.Now()
	// Each outcome is logged once recorded.
	switch {
	case o.status >= 200 && o.status < 300:
		err := s.st.FinishPush(rctx, d, now)
		log.Debug("push message delivered", "status", o.status, "queued", now.Sub(d.Queued))
		s.recorded(log, "the delivery", err)
	case o.status == http.StatusNotFound || o.status == http.StatusGone:
		err := s.st.DropPush(rctx, d, true)
		log.Info("push registration removed: the push service says the subscription is gone", "status", o.status)
		s.recorded(log, "the removal", err)
	case errors.Is(o.err, errKeys):
		err := s.st.DropPush(rctx, d, true)
		log.Warn("push registration removed: " + errKeys.Error())
		s.recorded(log, "the removal", err)
	case errors.Is(o.err, ErrResource):
		s.giveUp(rctx, log, d, now, describe(o))
	case o.status != 0 && o.status != http.StatusTooManyRequests && o.status < 500:
		// 400, 401, 403, 413: the message or its signature is wrong, and
		// sending it again will not help.
		err := s.st.DropPush(rctx, d, false)
		log.Warn("push message refused by the push service; dropped", "status", o.status, "answer", o.answer)
		s.recorded(log, "the drop", err)
	default:
		why := describe(o)
		n := d.Attempts + 1
		if n >= MaxAttempts {
			s.giveUp(rctx, log, d, now, fmt.Sprintf("%d attempts failed, the last: %s", n, why))
			return
		}
		wait := min(o.retryAfter, maxBackoff)
		if wait == 0 {
			wait = s.Backoff(n)
		}
		err := s.st.RetryPush(rctx, d, now.Add(wait), why)
		log.Info("push message not delivered; will retry", "err", why, "attempt", n, "in", wait)
		s.recorded(log, "the retry", err)
	}
}

// giveUp drops d's message, and its registration too when nothing was
// delivered to it for Tolerance.
func (s *Sender) giveUp(ctx context.Context, log *slog.Logger, d *store.PushDelivery, now time.Time, why string) {
	last := d.Registration.LastSent
	if last.IsZero() {
		last = d.Registration.Created
	}
	dead := now.Sub(last) > Tolerance
	err := s.st.DropPush(ctx, d, dead)
	if dead {
		log.Warn("push registration removed: nothing delivered to it for a day", "err", why)
	} else {
		log.Warn("push message dropped", "err", why)
	}
	s.recorded(log, "the drop", err)
}

// recorded logs a failure to record an outcome.
func (s *Sender) recorded(log *slog.Logger, what string, err error) {
	switch {
	case err == nil:
	case errors.Is(err, store.ErrPrecondition):
		log.Warn("push: "+what+" not recorded: the message was taken over by another sender (its lease ran out)", "err", err)
	case errors.Is(err, store.ErrNotFound):
		// Unregistered meanwhile: nothing is owed any more.
	default:
		log.Error("push: recording "+what, "err", err)
	}
}

// send delivers d's messages: the update, then a key rotation message.
func (s *Sender) send(ctx context.Context, d *store.PushDelivery) outcome {
	r := &d.Registration
	if err := checkKeys(r.PublicKey, r.AuthSecret); err != nil {
		return outcome{err: err}
	}
	type message struct {
		body  []byte
		topic string // the Topic header
	}
	var msgs []message
	if d.Content || d.Property {
		topic := s.svc.Topic(r)
		token := "" // a home has none, nor a deleted collection (r.Gone)
		if r.Collection != 0 {
			token = store.SyncToken(r.Collection, d.SyncSeq)
		}
		msgs = append(msgs, message{Message(topic, d.Content, token, d.Property), topicHeader(topic)})
	}
	if d.Rotation {
		// No Topic: it must neither replace an update nor be replaced.
		msgs = append(msgs, message{body: RotationMessage()})
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	// Normalised here too for registrations stored before CheckResource
	// normalised them: the VAPID audience must be the origin.
	endpoint, err := checkResource(r.Resource, s.opt.AllowPrivate)
	if err != nil {
		return outcome{err: err}
	}
	sub := &webpush.Subscription{Endpoint: endpoint, Keys: webpush.Keys{Auth: r.AuthSecret, P256dh: r.PublicKey}}
	for _, m := range msgs {
		if s.Now().Add(requestTimeout + recordTimeout).After(d.Lease) {
			return outcome{err: errLease}
		}
		resp, err := webpush.SendNotificationWithContext(ctx, m.body, sub, &webpush.Options{
			HTTPClient: s.client,
			// webpush-go's default record size, 4096, and it pads every
			// message to fill it: the only size Tink's decrypter (in
			// UnifiedPush's connector library) takes by default, and the
			// push service does not learn a message's length.
			RecordSize: 0,
			// webpush-go puts "mailto:" before a subject that is not an
			// https: URL.
			Subscriber:      strings.TrimPrefix(s.opt.Subject, "mailto:"),
			Topic:           m.topic,
			TTL:             ttl,
			Urgency:         webpush.UrgencyNormal,
			VAPIDPublicKey:  d.Key.Public,
			VAPIDPrivateKey: d.Key.Private,
		})
		if err != nil {
			return outcome{err: err}
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 300 {
			return outcome{status: resp.StatusCode, retryAfter: retryAfter(resp.Header.Get("Retry-After"), s.Now()),
				answer: strings.TrimSpace(strings.ToValidUTF8(string(answer), "?"))}
		}
	}
	return outcome{status: http.StatusCreated}
}

// topicHeader is the Topic header of messages for topic: up to 32
// base64url characters (RFC 8030 section 5.4), and the push service sees
// it, so a hash, not the topic itself.
func topicHeader(topic string) string {
	sum := sha256.Sum256([]byte("rolodav push Topic header\x00" + topic))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// checkKeys checks what webpush-go will decode: a P-256 point and a
// non-empty secret, base64url (or base64) with or without padding.
func checkKeys(p256dh, auth string) error {
	pub, err := decodeKey(p256dh)
	if err != nil {
		return errKeys
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return errKeys
	}
	if a, err := decodeKey(auth); err != nil || len(a) == 0 {
		return errKeys
	}
	return nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// retryAfter reads a Retry-After header (seconds or a date): at least a
// second, at most maxBackoff; 0 for none.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	// Capped in seconds before it becomes a Duration, which a large
	// number would overflow; ParseInt saturates what is out of its range.
	if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return time.Duration(min(max(n, 1), int64(maxBackoff/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), time.Second)
	}
	return 0
}

// describe says why a delivery failed, without the push resource's URL
// (the subscription's address at its push service) that Go's HTTP errors
// quote.
func describe(o outcome) string {
	if ue := (*url.Error)(nil); errors.As(o.err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	if o.err != nil {
		return o.err.Error()
	}
	s := fmt.Sprintf("status %d", o.status)
	if o.answer != "" {
		s += ": " + o.answer
	}
	return s
}

// hostKey is the push service (host, and port unless the default) whose
// deliveries perHost bounds.
func hostKey(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	if p := u.Port(); p != "" && p != defaultPorts[u.Scheme] {
		return net.JoinHostPort(h, p)
	}
	return h
}

func host(resource string) string {
	if u, err := url.Parse(resource); err == nil {
		return u.Host
	}
	return ""
}
