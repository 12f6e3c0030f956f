package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// UserSource is what the Authenticator needs from the store; store.Store
// satisfies it. GetUser and FindAppPassword return an error wrapping
// store.ErrNotFound (or a nil result) for an unknown login or app password.
// The sign-in failure methods have the semantics documented in
// store.FailureCounters.
type UserSource interface {
	AppPasswordFinder
	SecondFactorSource
	store.FailureCounters
	GetUser(ctx context.Context, login string) (*store.User, error)
	RecordSignIn(ctx context.Context, e *store.SignIn, appPassword int64, keep time.Duration) error
	SignedInFrom(ctx context.Context, login, addr string) (bool, error)
}

// Options tune an Authenticator. The zero value of each field selects its
// default.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject one. The failure
	// counters are kept by this clock: processes sharing a store need
	// clocks that agree.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx's error then; nil
	// means a real timer. Tests inject one that does not wait.
	Sleep func(ctx context.Context, d time.Duration) error

	// SlowAfter is the number of failures of one login from one address
	// (or AddressFactor times as many from one address, any login) within
	// Window after which every answer to them is delayed: Delay, then
	// doubling per further failure up to MaxDelay. Default 3; negative
	// disables the slowdown.
	SlowAfter int
	// LockAfter is the number of failures of one login from one address
	// within Window after which that pair is refused for LockFor without
	// checking the password. An address is locked the same way after
	// AddressFactor*LockAfter failures (any logins), and a login after
	// LoginFactor*LockAfter failures (any addresses) — but the lock of a
	// login refuses only addresses it never signed in from, so that
	// strangers guessing cannot keep its owner out. App passwords that
	// verify pass every lock. Default 10; negative disables locking.
	//
	// Attempts sent in parallel get no more verifications than these
	// thresholds, in one process or several sharing the store, give or
	// take one per further process: each verifies one attempt per counter
	// at a time without counting it in the store first, as it does
	// sequential ones, which the others do not see until it fails.
	LockAfter int
	// Window is the period over which failures are counted, from the first
	// one. Default 15 minutes.
	Window time.Duration
	// LockFor is how long a lock lasts. Default 15 minutes.
	LockFor time.Duration
	// CacheTTL is how long a successfully verified credential skips argon2.
	// Default 10 minutes; negative disables the cache.
	CacheTTL time.Duration

	// Delay is the first slowdown delay (default 1 s), MaxDelay the largest
	// (default 8 s).
	Delay    time.Duration
	MaxDelay time.Duration
	// MaxEntries bounds the in-memory tables: the verification cache and
	// the recently recorded DAV successes (which hold at most 4096). Least
	// recently used entries are evicted. Default 20000. The failure counters
	// are in the store; what memory holds about them (reservations), and
	// about the verifications that identical credentials wait for, lasts
	// only while attempts are under way, so it is bounded by those.
	MaxEntries int
	// MaxConcurrent bounds the argon2 verifications running at once (each
	// holds the hash's memory, 64 MiB with DefaultParams); further checks
	// wait. Default min(GOMAXPROCS, 4).
	MaxConcurrent int
	// Params are the costs of the dummy hash verified for unknown logins, so
	// that they take as long as known ones: use the Params that hash users'
	// passwords. Default DefaultParams.
	Params Params
	// Remote, if set, checks the account password of users whose Backend
	// is store.BackendIMAP, and of logins unknown here whose domain is in
	// RemoteDomains (every login when RemoteDomains is empty). Provision
	// creates a login unknown here the first time Remote accepts its
	// password (returning an error wrapping store.ErrExists if it exists
	// by then).
	Remote        RemoteChecker
	RemoteDomains []string
	Provision     func(ctx context.Context, login string) (*store.User, error)
	// Notify, if set, is told what the account's owner should hear of
	// (package notices queues a security mail): a sign-in from a new
	// address or device (store.NoticeNewSignIn; not the login's first
	// ever, and for an app password only a new device, since phones roam
	// between addresses), and FailuresNoticeAt or more failures of a login
	// within Window (store.NoticeFailedSignIns, with the count; wrong
	// passwords and wrong second-factor codes alike). It is called on the
	// request's path: it must only queue.
	Notify func(ctx context.Context, n store.Notice)
	// OnRecordError, if set, is called with the error of a failed
	// RecordSignIn, or of clearing the failure counters after a success:
	// neither changes the answer of SignIn (a valid sign-in is not refused
	// for want of a log line), so this is where the caller logs it.
	OnRecordError func(error)
}

// How much more an address (any login) and a login (any address) may
// fail than one login from one address.
const (
	AddressFactor = 3
	LoginFactor   = 2
)

// Defaults of Options.
const (
	DefaultSlowAfter  = 3
	DefaultLockAfter  = 10
	DefaultWindow     = 15 * time.Minute
	DefaultLockFor    = 15 * time.Minute
	DefaultCacheTTL   = 10 * time.Minute
	DefaultDelay      = time.Second
	DefaultMaxDelay   = 8 * time.Second
	DefaultMaxEntries = 20000
)

// ErrBadCredentials is returned by SignIn for an unknown login and for a
// wrong password alike.
var ErrBadCredentials = errors.New("auth: wrong login or password")

// ErrThrottled matches any *ThrottledError with errors.Is.
var ErrThrottled = errors.New("auth: too many failed attempts")

// ThrottledError is returned by SignIn when the login or the address is
// locked out. Upstream answers 429 with Retry-After.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("auth: too many failed attempts; retry after %ds", e.RetryAfterSeconds())
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1:
// the value of a Retry-After header.
func (e *ThrottledError) RetryAfterSeconds() int {
	s := int(math.Ceil(e.RetryAfter.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// pendingRetryAfter is the RetryAfter of a refusal caused by attempts still
// being verified (not yet by a lock): they finish within about a second.
const pendingRetryAfter = time.Second

// Authenticator checks credentials against a UserSource, caching successful
// verifications and throttling failures. It is safe for concurrent use. The
// failure counters live in the store, so that processes sharing it share
// them, failures counted ahead of parallel verifications included (see
// reserve); the verification cache is per process, in memory.
type Authenticator struct {
	users     UserSource
	opt       Options
	dummyHash string
	cacheSalt [32]byte
	sem       chan struct{}
	remoteSem chan struct{} // slots of Options.Remote checks

	// verify is VerifyPassword; tests replace it to count calls.
	verify func(hash, password string) (bool, error)

	mu        sync.Mutex
	flights   map[string]*flight         // by counter key, while attempts on it are under way
	verifying map[[32]byte]chan struct{} // by cache key, closed when its verification ends
	cache     *lru[[32]byte, time.Time]  // credential digest → expiry
	recorded  *lru[[32]byte, time.Time]  // digest of a recorded DAV success → when
}

// flight is what this process knows of a store counter beyond what its
// attempts read when admitted: their reservations, and the failures they
// counted since, which attempts admitted earlier did not read. It lives
// only while attempts are under way (a delay, a verification), so it may
// stay in process memory: what other processes must see of a reservation
// is in the store, as a failure counted ahead (see reserve).
type flight struct {
	attempts    int       // admitted and not ended
	inflight    int       // of these, holding a reservation
	ahead       int       // of these, with a failure counted ahead
	unrecorded  int       // of these, verified without, and not yet failed (0 or 1)
	added       int       // failures they counted in the store and kept
	lockedUntil time.Time // a lock they set; zero if none

	// write serialises this process's counting of failures on the
	// counter, so that an attempt counting one ahead knows whether the
	// record it gets holds the failure of the attempt verified unrecorded.
	// Taken before a.mu, never while holding it.
	write sync.Mutex
}

// pass is an admitted attempt: the counters it is subject to, as the store
// had them when it was admitted.
type pass struct {
	counters []passCounter
	reserved bool
	// failures: after fail, the most failures its pair or login counter
	// holds (what a notice about failed sign-ins reports).
	failures int
}

// Kinds of counter.
const (
	counterAddr  = iota // one address, any login
	counterPair         // one login from one address
	counterLogin        // one login, any address
)

type passCounter struct {
	key    string
	kind   int
	lockAt int                // failures that lock it; no lock if <= 0
	count  store.FailureCount // zero if it had no live record
	added  int                // flight.added when admitted
	f      *flight
	// exempt: the counter (an address's or a login's) is locked but the
	// attempt comes from a network the login signed in from before with its
	// password, which such locks let through; the attempt neither reserves
	// nor counts on it.
	exempt bool
	// ahead: the reservation counts a failure ahead in the store (held,
	// once counted: the record AddSignInFailure returned). unrecorded: the
	// reservation is the flight's unrecorded one, and its failure is not
	// counted yet.
	ahead      bool
	held       bool
	record     store.FailureCount
	unrecorded bool
}

// NewAuthenticator returns an Authenticator reading users from users. It
// panics if opt.Params is set and invalid.
func NewAuthenticator(users UserSource, opt Options) *Authenticator {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepContext
	}
	if opt.SlowAfter == 0 {
		opt.SlowAfter = DefaultSlowAfter
	}
	if opt.LockAfter == 0 {
		opt.LockAfter = DefaultLockAfter
	}
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	if opt.LockFor <= 0 {
		opt.LockFor = DefaultLockFor
	}
	if opt.CacheTTL == 0 {
		opt.CacheTTL = DefaultCacheTTL
	}
	if opt.Delay <= 0 {
		opt.Delay = DefaultDelay
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = DefaultMaxDelay
	}
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = DefaultMaxEntries
	}
	if opt.MaxConcurrent <= 0 {
		opt.MaxConcurrent = min(runtime.GOMAXPROCS(0), 4)
	}
	for i, d := range opt.RemoteDomains {
		opt.RemoteDomains[i] = strings.ToLower(d)
	}
	if opt.Params == (Params{}) {
		opt.Params = DefaultParams
	}
	if err := opt.Params.Validate(); err != nil {
		panic("auth: invalid Options.Params: " + err.Error())
	}
	a := &Authenticator{
		users:     users,
		opt:       opt,
		sem:       make(chan struct{}, opt.MaxConcurrent),
		remoteSem: make(chan struct{}, MaxRemoteChecks),
		verify:    VerifyPassword,
		flights:   map[string]*flight{},
		verifying: map[[32]byte]chan struct{}{},
		cache:     newLRU[[32]byte, time.Time](opt.MaxEntries),
		// Fewer entries suffice: one per signed-in device, not per guess.
		recorded: newLRU[[32]byte, time.Time](min(opt.MaxEntries, recordedEntries)),
	}
	// The dummy hash needs no derivation: verifying any password against a
	// random key costs the same as against a real one, and never matches.
	salt, key := make([]byte, SaltLen), make([]byte, KeyLen)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	_, _ = rand.Read(a.cacheSalt[:])
	a.dummyHash = encodeHash(opt.Params, salt, key)
	return a
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// admit registers an attempt of login (unless "") from addr (the network
// failures are counted in) and reads the counters: it refuses a locked
// pair, and a locked address or login unless the login signed in from
// addr with its password before; otherwise it returns how long to wait
// before answering. scope prefixes the counters' keys: "" for passwords,
// scopeSecondFactor for codes. The caller must end the pass.
func (a *Authenticator) admit(ctx context.Context, scope, addr, login string) (*pass, time.Duration, error) {
	p := &pass{}
	type spec struct {
		key    string
		kind   int
		lockAt int
	}
	// The pair first: its lock is the nearest, so reserve finds there
	// soonest that an attempt is one too many.
	addrSpec := spec{scope + "addr:" + addr, counterAddr, AddressFactor * a.opt.LockAfter}
	specs := []spec{addrSpec}
	if login != "" {
		specs = []spec{{scope + "pair:" + addr + " " + login, counterPair, a.opt.LockAfter},
			addrSpec,
			{scope + "login:" + login, counterLogin, LoginFactor * a.opt.LockAfter}}
	}
	keys := make([]string, len(specs))
	p.counters = make([]passCounter, 0, len(specs))
	// Registered before the read: failures counted after it are then in
	// flight.added.
	a.mu.Lock()
	for i, sp := range specs {
		f := a.flights[sp.key]
		if f == nil {
			f = &flight{}
			a.flights[sp.key] = f
		}
		f.attempts++
		keys[i] = sp.key
		p.counters = append(p.counters, passCounter{key: sp.key, kind: sp.kind, lockAt: sp.lockAt, added: f.added, f: f})
	}
	a.mu.Unlock()

	now := a.opt.Now()
	counts, err := a.users.SignInFailures(ctx, keys, now)
	if err != nil {
		a.end(ctx, p)
		return nil, 0, fmt.Errorf("auth: reading sign-in failures: %w", err)
	}
	var pairRetry, sparedRetry time.Duration // sparedRetry: of locks a known network passes
	for _, cnt := range counts {
		for i := range p.counters {
			c := &p.counters[i]
			if c.key != cnt.Key {
				continue
			}
			c.count = cnt
			locked := max(cnt.LockedUntil.Sub(now), 0)
			switch c.kind {
			case counterAddr:
				if login == "" {
					pairRetry = max(pairRetry, locked) // no login to know it
				} else {
					sparedRetry = max(sparedRetry, locked)
				}
			case counterPair:
				pairRetry = max(pairRetry, locked)
			case counterLogin:
				sparedRetry = max(sparedRetry, locked)
			}
		}
	}
	if pairRetry > 0 {
		a.end(ctx, p)
		return nil, 0, &ThrottledError{RetryAfter: pairRetry}
	}
	if sparedRetry > 0 {
		// Strangers lock the login (from anywhere) or the address (any
		// login from it): neither may keep the owner out where the owner
		// signed in with the password before.
		known, err := a.users.SignedInFrom(ctx, login, addr)
		if err != nil {
			a.end(ctx, p)
			return nil, 0, fmt.Errorf("auth: reading sign-in activity: %w", err)
		}
		if !known {
			a.end(ctx, p)
			return nil, 0, &ThrottledError{RetryAfter: sparedRetry}
		}
		for i := range p.counters {
			c := &p.counters[i]
			if c.kind != counterPair && !c.count.LockedUntil.IsZero() && c.count.LockedUntil.After(now) {
				c.exempt = true
			}
		}
	}
	// Slowed by the pair's failures, and a third of the address's unless
	// the address spared it; never by the login's (the owner's own
	// devices would be).
	var failures int
	for _, c := range p.counters {
		switch {
		case c.exempt:
		case c.kind == counterPair:
			failures = max(failures, c.count.Failures)
		case c.kind == counterAddr:
			failures = max(failures, c.count.Failures/AddressFactor)
		}
	}
	return p, a.delayFor(failures), nil
}

// reserve counts a verification about to run, refusing it if the failures
// already counted plus the verifications under way reach a lock
// threshold: parallel requests, in this process or others sharing the
// store, must not get more guesses than sequential ones.
//
// A process verifies one attempt per counter at a time unrecorded, as
// sequential attempts are: its failure is counted when it fails, its
// success writes nothing. An attempt reserving while another of this
// process is under way on the counter counts its failure ahead, in the
// store, before it is verified, and is let through only if the record
// returned (every process's failures and failures counted ahead) plus
// this process's unrecorded verification stays within the threshold. A
// success takes the failure back (or clears the pair's counter), and so
// does a refusal. Other processes do not see the one unrecorded
// verification of each: N processes may verify N-1 guesses more than the
// threshold between them, no more. (In one process the count is exact: the
// flight's write lock orders the unrecorded attempt's failure, once it
// fails, with the failures counted ahead.)
func (a *Authenticator) reserve(ctx context.Context, p *pass) error {
	a.mu.Lock()
	now := a.opt.Now()
	var retry time.Duration
	for _, c := range p.counters {
		if !c.exempt {
			retry = max(retry, c.f.lockedUntil.Sub(now))
		}
	}
	if retry > 0 {
		a.mu.Unlock()
		return &ThrottledError{RetryAfter: retry}
	}
	for _, c := range p.counters {
		if c.exempt || c.lockAt <= 0 {
			continue
		}
		// What the store holds at least, with the failures this process
		// counts ahead: the failures read, or those this process counts
		// ahead and counted since. Enough to refuse without asking the
		// store. (Adding the unrecorded verification would count it twice
		// once it failed: the store decides that.)
		if max(c.count.Failures, c.f.ahead+c.f.added-c.added) >= c.lockAt {
			a.mu.Unlock()
			return &ThrottledError{RetryAfter: pendingRetryAfter}
		}
	}
	for i := range p.counters {
		c := &p.counters[i]
		switch {
		case c.exempt:
			continue
		case c.lockAt > 0 && c.f.inflight > 0:
			c.ahead = true
			c.f.ahead++
		default:
			c.unrecorded = true
			c.f.unrecorded++
		}
		c.f.inflight++
	}
	p.reserved = true
	a.mu.Unlock()

	// Counted even if the client hung up meanwhile: a failure the store
	// counted and the caller did not hear of would stay.
	ctx = context.WithoutCancel(ctx)
	for i := range p.counters {
		c := &p.counters[i]
		if !c.ahead {
			continue
		}
		c.f.write.Lock()
		a.mu.Lock()
		unrecorded := c.f.unrecorded
		a.mu.Unlock()
		got, err := a.users.AddSignInFailure(ctx, c.key, now, a.opt.Window, c.lockAt, a.opt.LockFor)
		c.f.write.Unlock()
		if err != nil {
			a.release(ctx, p)
			return fmt.Errorf("auth: counting sign-in attempt: %w", err)
		}
		c.held, c.record = true, got
		if got.Failures+unrecorded > c.lockAt {
			a.release(ctx, p)
			return &ThrottledError{RetryAfter: pendingRetryAfter}
		}
	}
	return nil
}

// succeed ends an attempt's reservation, if it made one, and clears its
// pair counter if it had failures (or counted one ahead), taking back the
// failures it counted ahead on the others: the usual success writes
// nothing. The address's and the login's counters stay: a success of
// one's own account must not wipe out the guesses counted against others
// (or against one's login from elsewhere).
func (a *Authenticator) succeed(ctx context.Context, p *pass) {
	var keys []string
	a.mu.Lock()
	for _, c := range p.counters {
		if c.kind == counterPair && (c.count.Failures > 0 || c.f.added != c.added || c.held) {
			keys = append(keys, c.key)
			c.f.lockedUntil = time.Time{}
		}
	}
	held := a.unreserve(p)
	a.mu.Unlock()
	// The attempt happened even if the client hung up since.
	ctx = context.WithoutCancel(ctx)
	if len(keys) > 0 {
		if err := a.users.ClearSignInFailures(ctx, keys); err != nil && a.opt.OnRecordError != nil {
			a.opt.OnRecordError(fmt.Errorf("auth: clearing sign-in failures: %w", err))
		}
	}
	a.takeBack(ctx, slices.DeleteFunc(held, func(c passCounter) bool { return c.kind == counterPair }))
}

// fail counts a failed attempt in the store, where it did not count it
// ahead, and ends its reservation.
func (a *Authenticator) fail(ctx context.Context, p *pass) error {
	// The attempt happened even if the client hung up since: it counts.
	ctx = context.WithoutCancel(ctx)
	now := a.opt.Now()
	var err error
	counted := make(map[int]store.FailureCount, len(p.counters))
	for i := range p.counters {
		c := &p.counters[i]
		switch {
		case c.exempt:
		case c.held:
			counted[i] = c.record
		case err == nil:
			c.f.write.Lock()
			got, aerr := a.users.AddSignInFailure(ctx, c.key, now, a.opt.Window, c.lockAt, a.opt.LockFor)
			if aerr == nil {
				a.mu.Lock()
				if c.unrecorded {
					c.f.unrecorded--
					c.unrecorded = false
				}
				a.mu.Unlock()
			}
			c.f.write.Unlock()
			if aerr != nil {
				err = fmt.Errorf("auth: counting failed sign-in: %w", aerr)
				continue
			}
			counted[i] = got
		}
	}
	// Only now, with the failures in the store, may the reservation go.
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, got := range counted {
		if k := p.counters[i].kind; k == counterPair || k == counterLogin {
			p.failures = max(p.failures, got.Failures)
		}
		p.counters[i].held = false // kept: a failure now
		f := p.counters[i].f
		f.added++
		if got.LockedUntil.After(f.lockedUntil) {
			f.lockedUntil = got.LockedUntil
		}
	}
	a.unreserve(p)
	return err
}

// release ends p's reservation, if it has one, taking back the failures it
// counted ahead: the attempt counts neither way (it was refused after
// all, or could not be checked).
func (a *Authenticator) release(ctx context.Context, p *pass) {
	a.mu.Lock()
	held := a.unreserve(p)
	a.mu.Unlock()
	if len(held) > 0 {
		a.takeBack(context.WithoutCancel(ctx), held)
	}
}

// unreserve drops p's reservation, if any, and returns the counters on
// which the store holds a failure it counted ahead, which the caller
// clears or takes back. a.mu must be held.
func (a *Authenticator) unreserve(p *pass) []passCounter {
	if !p.reserved {
		return nil
	}
	var held []passCounter
	for i := range p.counters {
		c := &p.counters[i]
		if c.exempt {
			continue
		}
		c.f.inflight--
		if c.ahead {
			c.f.ahead--
			c.ahead = false
		}
		if c.unrecorded {
			c.f.unrecorded--
			c.unrecorded = false
		}
		if c.held {
			held = append(held, *c)
			c.held = false
		}
	}
	p.reserved = false
	return held
}

// takeBack takes back the failures counted ahead on counters. A failure
// that cannot be taken back stays counted: a guess too many, never one
// too few.
func (a *Authenticator) takeBack(ctx context.Context, counters []passCounter) {
	for _, c := range counters {
		err := a.users.TakeBackSignInFailure(ctx, c.key, c.record.Start, a.opt.Window, c.lockAt)
		if err != nil && a.opt.OnRecordError != nil {
			a.opt.OnRecordError(fmt.Errorf("auth: taking back a sign-in failure counted ahead: %w", err))
		}
	}
}

// end drops an admitted attempt's hold on its counters' entries, and its
// reservation if it still has one (it ended without an answer: an error
// that counts neither way, or a panic that net/http recovers), taking
// back the failures it counted ahead.
func (a *Authenticator) end(ctx context.Context, p *pass) {
	a.release(ctx, p)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range p.counters {
		c.f.attempts--
		if c.f.attempts == 0 {
			delete(a.flights, c.key)
		}
	}
}

// delayFor returns the wait before answering after n failures.
func (a *Authenticator) delayFor(n int) time.Duration {
	if a.opt.SlowAfter < 0 || n < a.opt.SlowAfter {
		return 0
	}
	d := a.opt.Delay
	for i := a.opt.SlowAfter; i < n && d < a.opt.MaxDelay; i++ {
		d *= 2
	}
	return min(d, a.opt.MaxDelay)
}

// remember caches key as verified.
func (a *Authenticator) remember(key [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cache.put(key, a.opt.Now().Add(a.opt.CacheTTL))
}

func (a *Authenticator) cached(key [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cachedLocked(key)
}

// cachedLocked is cached with a.mu held.
func (a *Authenticator) cachedLocked(key [32]byte) bool {
	exp, ok := a.cache.get(key)
	if !ok {
		return false
	}
	if !a.opt.Now().Before(exp) {
		a.cache.remove(key)
		return false
	}
	return true
}

// claim returns nil if key is cached, waiting first for a verification
// of the same credential under way; else it makes this attempt the one
// that verifies it, and returns the function (safe to call again) that
// lets the attempts waiting for it look again.
func (a *Authenticator) claim(ctx context.Context, key [32]byte) (func(), error) {
	for {
		a.mu.Lock()
		if a.cachedLocked(key) {
			a.mu.Unlock()
			return nil, nil
		}
		done, busy := a.verifying[key]
		if !busy {
			done = make(chan struct{})
			a.verifying[key] = done
			a.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					a.mu.Lock()
					delete(a.verifying, key)
					a.mu.Unlock()
					close(done)
				})
			}, nil
		}
		a.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// cacheKey digests a credential with the stored hash it verified against,
// so that a changed password misses.
func (a *Authenticator) cacheKey(login, password, hash string) [32]byte {
	return a.digest("cache", login, password, hash)
}

// digest hashes parts unambiguously (each length-prefixed) with a
// per-process salt, so that keys held in memory do not reveal passwords.
func (a *Authenticator) digest(parts ...string) [32]byte {
	h := sha256.New()
	h.Write(a.cacheSalt[:])
	var n [8]byte
	for _, s := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// addressKey is the key failures of remoteAddr are counted under: the IPv4
// address, or the /64 network of an IPv6 address. Something that is not an
// IP address is used as given (bounded in length).
func addressKey(remoteAddr string) string {
	ip, ok := parseIP(remoteAddr)
	if !ok || ip.Is4() {
		return displayAddr(remoteAddr)
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// displayAddr is remoteAddr's IP address without port or zone, or, if it is
// none, remoteAddr as given (bounded in length).
func displayAddr(remoteAddr string) string {
	if ip, ok := parseIP(remoteAddr); ok {
		return ip.String()
	}
	s := strings.TrimSpace(remoteAddr)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// parseIP parses an IP address, with or without a port or brackets; an
// IPv4-mapped IPv6 address is returned as IPv4.
func parseIP(remoteAddr string) (netip.Addr, bool) {
	s := strings.TrimSpace(remoteAddr)
	ip, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			ip, err2 = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
			if err2 != nil {
				return netip.Addr{}, false
			}
		} else {
			ip = ap.Addr()
		}
	}
	return ip.WithZone("").Unmap(), true
}
