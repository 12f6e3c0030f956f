package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// sealSecret names the store secret (store.Secrets) that the key of
// sealed cookies derives from: shared by every process on the store, so
// that a cookie set by one opens on another.
const sealSecret = "web-cookie-seal"

// sealKey returns the key of sealed cookies, read from the store once.
func (s *Server) sealKey(ctx context.Context) (cipher.AEAD, error) {
	s.sealMu.Lock()
	defer s.sealMu.Unlock()
	if s.sealAEAD != nil {
		return s.sealAEAD, nil
	}
	secret, err := s.st.Secret(ctx, sealSecret, func() (string, error) { return randomToken(), nil })
	if err != nil {
		return nil, fmt.Errorf("cookie key: %w", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("cookie key: the stored secret %q is not 32 or more bytes of base64url", sealSecret)
	}
	// A key of its own, should the secret ever serve another purpose.
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte("rolodav sealed cookie v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	if s.sealAEAD, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return s.sealAEAD, nil
}

// seal encrypts and authenticates plain for a cookie that opens only for
// the same purpose and bound (such as a session's ID), until expires.
func (s *Server) seal(ctx context.Context, purpose, bound string, plain []byte, expires time.Time) (string, error) {
	aead, err := s.sealKey(ctx)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	msg := binary.BigEndian.AppendUint64(nil, uint64(expires.Unix()))
	msg = append(msg, plain...)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, msg, sealedFor(purpose, bound))), nil
}

// unseal opens a value of seal's, or reports false: it was changed, made
// for another purpose or bound, or has expired.
func (s *Server) unseal(ctx context.Context, purpose, bound, value string) ([]byte, bool) {
	aead, err := s.sealKey(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "opening a sealed cookie", "err", err)
		return nil, false
	}
	box, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(box) < aead.NonceSize() {
		return nil, false
	}
	msg, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], sealedFor(purpose, bound))
	if err != nil || len(msg) < 8 {
		return nil, false
	}
	if !s.cfg.Now().Before(time.Unix(int64(binary.BigEndian.Uint64(msg)), 0)) {
		return nil, false
	}
	return msg[8:], true
}

func sealedFor(purpose, bound string) []byte {
	return []byte(purpose + "\x00" + bound)
}
