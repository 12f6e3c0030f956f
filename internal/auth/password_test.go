package auth

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// cheap are test parameters: argon2id at its smallest useful cost.
var cheap = Params{Time: 1, MemoryKiB: 1024, Threads: 1}

func mustHash(t testing.TB, password string, p Params) string {
	t.Helper()
	h, err := HashPassword(password, p)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := mustHash(t, "correct horse", cheap)
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Fatalf("hash %q does not have the PHC form with a 16-byte salt and 32-byte key", h)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse", true},
		{"correct horsE", false},
		{"correct horse ", false},
		{"", false},
	} {
		ok, err := VerifyPassword(h, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v, nil", tc.password, ok, err, tc.want)
		}
	}
	if h2 := mustHash(t, "correct horse", cheap); h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	// Empty and non-ASCII passwords hash too.
	for _, pw := range []string{"", "pässwörd ✓"} {
		ok, err := VerifyPassword(mustHash(t, pw, cheap), pw)
		if !ok || err != nil {
			t.Errorf("round trip of %q: %v, %v", pw, ok, err)
		}
	}
}

func TestDefaultParamsEncoding(t *testing.T) {
	if DefaultParams != (Params{Time: 3, MemoryKiB: 65536, Threads: 2}) {
		t.Fatalf("DefaultParams = %+v", DefaultParams)
	}
	if testing.Short() {
		t.Skip("64 MiB argon2 in -short mode")
	}
	h := mustHash(t, "pw", DefaultParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("default hash %q", h)
	}
	if ok, err := VerifyPassword(h, "pw"); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestParamsEncodedAreHonoured(t *testing.T) {
	p := Params{Time: 2, MemoryKiB: 2048, Threads: 2}
	h := mustHash(t, "pw", p)
	if !strings.Contains(h, "$m=2048,t=2,p=2$") {
		t.Fatalf("hash %q does not encode %+v", h, p)
	}
	if ok, err := VerifyPassword(h, "pw"); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
	got, err := ParseHash(h)
	if err != nil || got != p {
		t.Fatalf("ParseHash = %+v, %v; want %+v", got, err, p)
	}
	// The key really was derived with the encoded parameters.
	parts := strings.Split(h, "$")
	salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	if want := argon2.IDKey([]byte("pw"), salt, 2, 2048, 2, 32); string(key) != string(want) {
		t.Fatal("key differs from argon2id with the encoded parameters")
	}
	// Verification uses the parameters in the hash: editing any of them
	// makes the right password fail.
	for _, edit := range []string{"m=1024,t=2,p=2", "m=2048,t=1,p=2", "m=2048,t=2,p=1"} {
		tampered := strings.Replace(h, "m=2048,t=2,p=2", edit, 1)
		if ok, err := VerifyPassword(tampered, "pw"); ok || err != nil {
			t.Errorf("with %s: VerifyPassword = %v, %v; want false, nil", edit, ok, err)
		}
	}
	// Hashes made elsewhere with other parameters and key sizes verify.
	salt8 := []byte("8bytes!!")
	for _, keyLen := range []uint32{16, 64} {
		k := argon2.IDKey([]byte("pw"), salt8, 1, 64, 4, keyLen)
		other := encodeHash(Params{Time: 1, MemoryKiB: 64, Threads: 4}, salt8, k)
		if ok, err := VerifyPassword(other, "pw"); !ok || err != nil {
			t.Errorf("key length %d: VerifyPassword(%q) = %v, %v", keyLen, other, ok, err)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good := mustHash(t, "pw", cheap)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(alg, v, params, s, k string) string {
		return strings.Join([]string{"", alg, v, params, s, k}, "$")
	}
	std := "m=1024,t=1,p=1"
	cases := map[string]string{
		"empty":              "",
		"plain text":         "hunter2",
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            with("argon2i", "v=19", std, salt, key),
		"argon2d":            with("argon2d", "v=19", std, salt, key),
		"no version":         "$argon2id$" + std + "$" + salt + "$" + key,
		"version 16":         with("argon2id", "v=16", std, salt, key),
		"version garbage":    with("argon2id", "v=x", std, salt, key),
		"params reordered":   with("argon2id", "v=19", "t=1,m=1024,p=1", salt, key),
		"params missing":     with("argon2id", "v=19", "m=1024,t=1", salt, key),
		"params extra":       with("argon2id", "v=19", std+",keyid=abc", salt, key),
		"leading zero":       with("argon2id", "v=19", "m=01024,t=1,p=1", salt, key),
		"plus sign":          with("argon2id", "v=19", "m=+1024,t=1,p=1", salt, key),
		"negative":           with("argon2id", "v=19", "m=1024,t=-1,p=1", salt, key),
		"time zero":          with("argon2id", "v=19", "m=1024,t=0,p=1", salt, key),
		"threads zero":       with("argon2id", "v=19", "m=1024,t=1,p=0", salt, key),
		"threads 256":        with("argon2id", "v=19", "m=4096,t=1,p=256", salt, key),
		"memory below 8p":    with("argon2id", "v=19", "m=15,t=1,p=2", salt, key),
		"memory huge":        with("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key),
		"memory overflow":    with("argon2id", "v=19", "m=99999999999,t=1,p=1", salt, key),
		"time huge":          with("argon2id", "v=19", "m=1024,t=100000,p=1", salt, key),
		"salt not base64":    with("argon2id", "v=19", std, "!!!!not*base64!!!!!!!!", key),
		"salt padded":        with("argon2id", "v=19", std, salt+"==", key),
		"salt too short":     with("argon2id", "v=19", std, "c2hvcnQ", key),
		"salt empty":         with("argon2id", "v=19", std, "", key),
		"key too short":      with("argon2id", "v=19", std, salt, "c2hvcnQ"),
		"key empty":          with("argon2id", "v=19", std, salt, ""),
		"key url base64":     with("argon2id", "v=19", std, salt, strings.NewReplacer("+", "-", "/", "_").Replace(key)+"-_"),
		"trailing dollar":    good + "$",
		"leading space":      " " + good,
		"missing first $":    good[1:],
		"truncated":          good[:len(good)/2],
		"only separators":    "$$$$$",
		"upper-case algo":    with("ARGON2ID", "v=19", std, salt, key),
		"space in params":    with("argon2id", "v=19", "m=1024, t=1, p=1", salt, key),
		"non-canonical tail": with("argon2id", "v=19", std, salt[:len(salt)-1]+"B", key),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("VerifyPassword panicked on %q: %v", h, r)
				}
			}()
			ok, err := VerifyPassword(h, "pw")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", h, ok, err)
			}
			if _, err := ParseHash(h); !errors.Is(err, ErrMalformedHash) {
				t.Errorf("ParseHash(%q) err = %v", h, err)
			}
		})
	}
	// The cases are built from a hash that is fine as it is.
	if ok, err := VerifyPassword(with("argon2id", "v=19", std, salt, key), "pw"); !ok || err != nil {
		t.Fatalf("control case: %v, %v", ok, err)
	}
}

func TestHashPasswordRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Time: 0, MemoryKiB: 1024, Threads: 1},
		{Time: 1, MemoryKiB: 1024, Threads: 0},
		{Time: 1, MemoryKiB: 7, Threads: 1},
		{Time: 1, MemoryKiB: MaxMemoryKiB + 1, Threads: 1},
		{Time: MaxTime + 1, MemoryKiB: 1024, Threads: 1},
	} {
		if h, err := HashPassword("pw", p); err == nil {
			t.Errorf("HashPassword with %+v = %q, want an error", p, h)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	if NeedsRehash(h, cheap) {
		t.Error("NeedsRehash with the same params = true")
	}
	if !NeedsRehash(h, Params{Time: 2, MemoryKiB: 1024, Threads: 1}) {
		t.Error("NeedsRehash with other params = false")
	}
	if !NeedsRehash("garbage", cheap) {
		t.Error("NeedsRehash of a malformed hash = false")
	}
}
