package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// appPasswordAlphabet has 32 symbols, so each is 5 unbiased bits of a random
// byte, and no 0/o or 1/l, which people mistake for each other when copying
// a password onto a phone.
const appPasswordAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// App passwords are appPasswordGroups groups of appPasswordGroupLen symbols:
// 5 × 4 × 5 = 100 bits.
const (
	appPasswordGroups   = 5
	appPasswordGroupLen = 4
)

// NewAppPassword returns a random app password, e.g.
// "k3vq-9xmh-t2ab-ruwe-8fzn", to be shown once, and its AppPasswordDigest,
// to be stored.
func NewAppPassword() (password, digest string) {
	password = randomGroups(appPasswordGroups, appPasswordGroupLen)
	return password, AppPasswordDigest(password)
}

// randomGroups returns groups groups of groupLen random characters of
// appPasswordAlphabet, joined by '-'. The alphabet has 32 characters, so
// a byte modulo its length is unbiased.
func randomGroups(groups, groupLen int) string {
	buf := make([]byte, groups*groupLen)
	// crypto/rand.Read never returns an error (it crashes the program if the
	// system's generator fails).
	_, _ = rand.Read(buf)
	var b strings.Builder
	for i, r := range buf {
		if i > 0 && i%groupLen == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(appPasswordAlphabet[r%byte(len(appPasswordAlphabet))])
	}
	return b.String()
}

// AppPasswordDigest is the hex SHA-256 under which an app password is
// stored and looked up. The password is first lower-cased and stripped of
// white space and '-', so that one typed in capitals or with spaces between
// the groups still matches. A plain digest suffices, unlike for account
// passwords: app passwords are random with 100 bits, beyond guessing, and a
// cheap look-up on every request is what lets a revoked one stop at once.
func AppPasswordDigest(password string) string {
	sum := sha256.Sum256([]byte(normalizeCode(password)))
	return hex.EncodeToString(sum[:])
}
