package auth

import (
	"crypto/rand"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLoginLen is the longest login in bytes, after normalisation (the
// longest e-mail address a mail path can carry).
const MaxLoginLen = 254

// Errors of NormalizeLogin; test with errors.Is.
var (
	ErrLoginEmpty   = errors.New("auth: login is empty")
	ErrLoginTooLong = errors.New("auth: login is longer than 254 bytes")
	ErrLoginInvalid = errors.New("auth: login has an invalid character")
)

// NormalizeLogin trims surrounding white space and lower-cases login (logins
// are usually e-mail addresses). It rejects an empty login, one longer than
// MaxLoginLen bytes, one with a control character, a '/', or invalid UTF-8,
// and the path segments "." and "..", since the login appears in URLs.
func NormalizeLogin(login string) (string, error) {
	s := strings.TrimSpace(login)
	if s == "" {
		return "", ErrLoginEmpty
	}
	if len(s) > 4*MaxLoginLen { // don't lower-case megabytes
		return "", ErrLoginTooLong
	}
	if !utf8.ValidString(s) {
		return "", ErrLoginInvalid
	}
	s = strings.ToLower(s)
	if len(s) > MaxLoginLen {
		return "", ErrLoginTooLong
	}
	if s == "." || s == ".." {
		return "", ErrLoginInvalid
	}
	for _, r := range s {
		if r == '/' || unicode.IsControl(r) {
			return "", ErrLoginInvalid
		}
	}
	return s, nil
}

// passwordAlphabet has no characters that are easily confused when read or
// copied: no 0/O, 1/l/I.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyz" + "ABCDEFGHJKLMNPQRSTUVWXYZ" + "23456789"

// GeneratedPasswordLen is the length of GeneratePassword's passwords.
const GeneratedPasswordLen = 20

// GeneratePassword returns a random password for people to copy: 20
// characters from a 57-character alphabet without 0/O/1/l/I (about 116
// bits), drawn from crypto/rand without modulo bias.
func GeneratePassword() string {
	const n = len(passwordAlphabet)
	const limit = 256 - 256%n // bytes >= limit are rejected so every character is equally likely
	out := make([]byte, 0, GeneratedPasswordLen)
	var buf [32]byte
	for len(out) < GeneratedPasswordLen {
		// crypto/rand.Read never returns an error (it crashes the program
		// if the system's generator fails).
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if int(b) < limit && len(out) < GeneratedPasswordLen {
				out = append(out, passwordAlphabet[int(b)%n])
			}
		}
	}
	return string(out)
}
