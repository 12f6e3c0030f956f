package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeLogin(t *testing.T) {
	long := strings.Repeat("a", 250) + "@b.c" // 254 bytes
	for _, tc := range []struct {
		in   string
		want string
		err  error
	}{
		{"alice@example.com", "alice@example.com", nil},
		{"  Alice@Example.COM \t\n", "alice@example.com", nil},
		{"ÉLODIE@Exemple.FR", "élodie@exemple.fr", nil},
		{"bob", "bob", nil},
		{"john doe", "john doe", nil},
		{"a.b+tag@x.org", "a.b+tag@x.org", nil},
		{long, long, nil},
		{strings.ToUpper(long), long, nil},
		{"", "", ErrLoginEmpty},
		{"   \t ", "", ErrLoginEmpty},
		{long + "x", "", ErrLoginTooLong},
		{strings.Repeat("x", 100000), "", ErrLoginTooLong},
		{"a/b", "", ErrLoginInvalid},
		{"/", "", ErrLoginInvalid},
		{"alice\x00", "", ErrLoginInvalid},
		{"al\nice", "", ErrLoginInvalid},
		{"al\tice", "", ErrLoginInvalid},
		{"ali\x7fce", "", ErrLoginInvalid},
		{"ali\u0085ce", "", ErrLoginInvalid}, // C1 control
		{"ali\xffce", "", ErrLoginInvalid},   // not UTF-8
		{".", "", ErrLoginInvalid},
		{" .. ", "", ErrLoginInvalid},
	} {
		got, err := NormalizeLogin(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("NormalizeLogin(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	if len(passwordAlphabet) != 57 || strings.ContainsAny(passwordAlphabet, "0O1lI") {
		t.Fatalf("alphabet %q", passwordAlphabet)
	}
	const n = 3000
	seen := make(map[string]bool, n)
	counts := make(map[rune]int)
	for range n {
		p := GeneratePassword()
		if len(p) != 20 {
			t.Fatalf("GeneratePassword() = %q: %d characters, want 20", p, len(p))
		}
		for _, r := range p {
			if !strings.ContainsRune(passwordAlphabet, r) {
				t.Fatalf("GeneratePassword() = %q: %q is outside the alphabet", p, r)
			}
			counts[r]++
		}
		if seen[p] {
			t.Fatalf("GeneratePassword() repeated %q", p)
		}
		seen[p] = true
	}
	// 60000 characters over 57 symbols: about 1053 each. Every symbol must
	// be used, none grossly more or less than the others.
	for _, r := range passwordAlphabet {
		if c := counts[r]; c < 800 || c > 1300 {
			t.Errorf("character %q drawn %d times in %d, expected about %d", r, c, n*20, n*20/57)
		}
	}
}
