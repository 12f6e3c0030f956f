// Package auth holds rolodav's account security: argon2id password hashes in
// PHC string format, login normalisation, generated passwords, the second
// factor (TOTP codes and emergency codes), and the Authenticator that
// checks credentials with a verification cache, slowdown and lock-out.
//
// The failure counters behind slowdown and lock-out are in the store, so
// that server processes sharing it share them. A guess verified while
// another is under way in the same process is counted there before it is
// verified (and taken back if it was no failure), so that neither
// parallel requests nor several processes get more guesses than the lock
// allows: N processes at most N-1 more between them (see
// Options.LockAfter).
//
// App passwords and emergency codes are stored as plain SHA-256 digests,
// not argon2 hashes: they are random (100 and 60 bits), beyond guessing
// through throttled sign-ins, so a slow hash would only cost every check.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. They are encoded into each hash, so
// they can change later without invalidating existing hashes.
type Params struct {
	Time      uint32 // passes over memory (t)
	MemoryKiB uint32 // memory in KiB (m)
	Threads   uint8  // lanes (p)
}

// DefaultParams is the second recommended option of RFC 9106 (section 4):
// t=3, m=64 MiB, with 2 lanes.
var DefaultParams = Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 2}

// Sizes used by HashPassword, and the bounds VerifyPassword accepts.
const (
	SaltLen = 16 // bytes of random salt in new hashes
	KeyLen  = 32 // bytes of derived key in new hashes

	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64

	// MaxTime and MaxMemoryKiB bound what a stored hash may ask for, so that
	// a corrupt or hostile hash cannot make one verification take minutes or
	// exhaust memory.
	MaxTime      = 1 << 10
	MaxMemoryKiB = 1 << 21 // 2 GiB
)

// ErrMalformedHash is returned (wrapped) by VerifyPassword and ParseHash for
// a string that is not an argon2id PHC hash within the accepted bounds.
var ErrMalformedHash = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding.Strict()

// Validate reports whether p can be used to hash a password.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("auth: argon2 time %d out of range [1, %d]", p.Time, MaxTime)
	case p.Threads < 1:
		return errors.New("auth: argon2 threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > MaxMemoryKiB:
		return fmt.Errorf("auth: argon2 memory %d KiB out of range [%d, %d]", p.MemoryKiB, 8*uint32(p.Threads), MaxMemoryKiB)
	}
	return nil
}

// HashPassword derives an argon2id key from password with a fresh 16-byte
// random salt and returns it as a PHC string:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<key>
//
// where salt and key are unpadded standard base64.
func HashPassword(password string, p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, KeyLen)
	return encodeHash(p, salt, key), nil
}

func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether password matches hash, a PHC string as
// produced by HashPassword, using the parameters encoded in hash. The key
// comparison takes constant time. A malformed hash is an error wrapping
// ErrMalformedHash, never a panic.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// ParseHash returns the cost parameters encoded in a PHC hash.
func ParseHash(hash string) (Params, error) {
	p, _, _, err := parseHash(hash)
	return p, err
}

// NeedsRehash reports whether hash should be replaced by a new hash with p:
// it is malformed or was made with other parameters or sizes.
func NeedsRehash(hash string, p Params) bool {
	got, salt, key, err := parseHash(hash)
	return err != nil || got != p || len(salt) != SaltLen || len(key) != KeyLen
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
}

// parseHash decodes "$argon2id$v=19$m=M,t=T,p=P$SALT$KEY" strictly: fields
// in this order, decimal numbers without sign or leading zeros, canonical
// unpadded base64, and parameters and sizes within bounds.
func parseHash(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, malformed("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, malformed("algorithm %q is not argon2id", truncate(parts[1]))
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return p, nil, nil, malformed("missing version")
	}
	if n, err := parseDecimal(v, 0xff); err != nil || n != argon2.Version {
		return p, nil, nil, malformed("unsupported version %q", truncate(v))
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, malformed("want parameters m=,t=,p=")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		s, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return p, nil, nil, malformed("want parameter %s at position %d", name[:1], i+1)
		}
		limit := uint64(1<<32 - 1)
		if name == "p=" {
			limit = 0xff
		}
		n, err := parseDecimal(s, limit)
		if err != nil {
			return p, nil, nil, malformed("parameter %s: %v", name[:1], err)
		}
		vals[i] = n
	}
	p = Params{MemoryKiB: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return Params{}, nil, nil, malformed("salt must be base64 of %d to %d bytes", minSaltLen, maxSaltLen)
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return Params{}, nil, nil, malformed("key must be base64 of %d to %d bytes", minKeyLen, maxKeyLen)
	}
	return p, salt, key, nil
}

// parseDecimal parses a PHC decimal: digits only, no leading zero (except
// "0" itself), at most limit.
func parseDecimal(s string, limit uint64) (uint64, error) {
	if s == "" || len(s) > 10 {
		return 0, errors.New("bad number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("bad number")
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > limit {
		return 0, errors.New("number out of range")
	}
	return n, nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
