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
	"strings"
	"sync"
	"time"

	"github.com/rolodav/rolodav/store"
)

// UserSource is what the Authenticator needs from the store; store.Store
// satisfies it. GetUser and FindAppPassword return an error wrapping
// store.ErrNotFound (or a nil result) for an unknown login or app password.
type UserSource interface {
	GetUser(ctx context.Context, login string) (*store.User, error)
	FindAppPassword(ctx context.Context, owner, digest string) (*store.AppPassword, error)
	RecordSignIn(ctx context.Context, e *store.SignIn, appPassword int64, keep time.Duration) error
}

// Options tune an Authenticator. The zero value of each field selects its
// default.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx's error then; nil
	// means a real timer. Tests inject one that does not wait.
	Sleep func(ctx context.Context, d time.Duration) error

	// SlowAfter is the number of failures (per login or per address, within
	// Window) after which every answer for them is delayed: Delay, then
	// doubling per further failure up to MaxDelay. Default 3; negative
	// disables the slowdown.
	SlowAfter int
	// LockAfter is the number of failures from one address (any login)
	// within Window after which attempts from it are refused for LockFor
	// without checking the password. A login is locked the same way after
	// 2*LockAfter failures for it (any address), so that one address alone
	// cannot lock its owner out. Default 10; negative disables locking.
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
	// MaxEntries bounds each in-memory table (failure counters per address,
	// per login, the verification cache, and the recently recorded DAV
	// successes, which hold at most 4096). Least recently used entries are
	// evicted. Default 20000.
	MaxEntries int
	// MaxConcurrent bounds the argon2 verifications running at once (each
	// holds the hash's memory, 64 MiB with DefaultParams); further checks
	// wait. Default min(GOMAXPROCS, 4).
	MaxConcurrent int
	// Params are the costs of the dummy hash verified for unknown logins, so
	// that they take as long as known ones: use the Params that hash users'
	// passwords. Default DefaultParams.
	Params Params
	// OnRecordError, if set, is called with the error of a failed
	// RecordSignIn: it does not change the answer of SignIn (a valid
	// sign-in is not refused for want of a log line), so this is where the
	// caller logs it.
	OnRecordError func(error)
}

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
// verifications and throttling failures. It is safe for concurrent use. Its
// counters and cache live in process memory: with several server processes
// each counts on its own.
type Authenticator struct {
	users     UserSource
	opt       Options
	dummyHash string
	cacheSalt [32]byte
	sem       chan struct{}

	// verify is VerifyPassword; tests replace it to count calls.
	verify func(hash, password string) (bool, error)

	mu       sync.Mutex
	addrs    *lru[string, *counter]
	logins   *lru[string, *counter]
	cache    *lru[[32]byte, time.Time] // credential digest → expiry
	recorded *lru[[32]byte, time.Time] // digest of a recorded DAV success → when
}

// counter holds the failures of one address or one login.
type counter struct {
	failures    int       // within the window that began at start
	start       time.Time // first failure of the window
	lockedUntil time.Time // zero when not locked
	inflight    int       // attempts being checked
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
	if opt.Params == (Params{}) {
		opt.Params = DefaultParams
	}
	if err := opt.Params.Validate(); err != nil {
		panic("auth: invalid Options.Params: " + err.Error())
	}
	a := &Authenticator{
		users:  users,
		opt:    opt,
		sem:    make(chan struct{}, opt.MaxConcurrent),
		verify: VerifyPassword,
		addrs:  newLRU[string, *counter](opt.MaxEntries),
		logins: newLRU[string, *counter](opt.MaxEntries),
		cache:  newLRU[[32]byte, time.Time](opt.MaxEntries),
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

// admit refuses a locked address or login, and otherwise returns how long
// to wait before answering.
func (a *Authenticator) admit(addr, login string) (time.Duration, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opt.Now()
	ac := a.counter(a.addrs, addr, now, false)
	lc := a.counter(a.logins, login, now, false)
	if retry := max(ac.lockRemaining(now), lc.lockRemaining(now)); retry > 0 {
		return 0, &ThrottledError{RetryAfter: retry}
	}
	return a.delayFor(max(ac.failureCount(), lc.failureCount())), nil
}

// reserve counts a verification about to run, refusing it if the failures
// already counted plus those under way reach a lock threshold: parallel
// requests must not get more guesses than sequential ones.
func (a *Authenticator) reserve(addr, login string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opt.Now()
	ac := a.counter(a.addrs, addr, now, true)
	lc := a.counter(a.logins, login, now, true)
	if retry := max(ac.lockRemaining(now), lc.lockRemaining(now)); retry > 0 {
		return &ThrottledError{RetryAfter: retry}
	}
	if a.opt.LockAfter > 0 &&
		(ac.failures+ac.inflight >= a.opt.LockAfter || (lc != nil && lc.failures+lc.inflight >= 2*a.opt.LockAfter)) {
		return &ThrottledError{RetryAfter: pendingRetryAfter}
	}
	ac.inflight++
	if lc != nil {
		lc.inflight++
	}
	return nil
}

// release drops the reservation of an attempt that ended without an answer
// (a store failure, or ctx ended): it counts neither way.
func (a *Authenticator) release(addr, login string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opt.Now()
	for _, c := range []*counter{a.counter(a.addrs, addr, now, false), a.counter(a.logins, login, now, false)} {
		if c != nil && c.inflight > 0 {
			c.inflight--
		}
	}
}

// finish records the outcome of an attempt, releasing its reservation if it
// made one; cacheKey, if set, is cached as verified.
func (a *Authenticator) finish(addr, login string, reserved, ok bool, cacheKey *[32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opt.Now()
	for _, t := range []struct {
		table *lru[string, *counter]
		key   string
		limit int
	}{{a.addrs, addr, a.opt.LockAfter}, {a.logins, login, 2 * a.opt.LockAfter}} {
		if t.table == a.logins && login == "" {
			continue
		}
		if ok {
			c, found := t.table.get(t.key)
			if !found {
				continue
			}
			c.failures, c.start, c.lockedUntil = 0, time.Time{}, time.Time{}
			if reserved && c.inflight > 0 {
				c.inflight--
			}
			if c.inflight == 0 {
				t.table.remove(t.key)
			}
			continue
		}
		c := a.counter(t.table, t.key, now, true)
		if reserved && c.inflight > 0 {
			c.inflight--
		}
		if c.failures == 0 {
			c.start = now
		}
		c.failures++
		if a.opt.LockAfter > 0 && c.failures >= t.limit && c.lockedUntil.IsZero() {
			c.lockedUntil = now.Add(a.opt.LockFor)
		}
	}
	if cacheKey != nil {
		a.cache.put(*cacheKey, now.Add(a.opt.CacheTTL))
	}
}

// counter returns the counter of key in table with expired windows and locks
// cleared, creating it if create is set; nil if absent (or login is "").
func (a *Authenticator) counter(table *lru[string, *counter], key string, now time.Time, create bool) *counter {
	if table == a.logins && key == "" {
		return nil
	}
	c, ok := table.get(key)
	if !ok {
		if !create {
			return nil
		}
		c = &counter{}
		table.put(key, c)
		return c
	}
	if !c.lockedUntil.IsZero() && !now.Before(c.lockedUntil) {
		c.failures, c.start, c.lockedUntil = 0, time.Time{}, time.Time{}
	}
	if c.lockedUntil.IsZero() && c.failures > 0 && now.Sub(c.start) >= a.opt.Window {
		c.failures, c.start = 0, time.Time{}
	}
	return c
}

func (c *counter) lockRemaining(now time.Time) time.Duration {
	if c == nil || c.lockedUntil.IsZero() {
		return 0
	}
	return c.lockedUntil.Sub(now)
}

func (c *counter) failureCount() int {
	if c == nil {
		return 0
	}
	return c.failures
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

func (a *Authenticator) cached(key [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
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
