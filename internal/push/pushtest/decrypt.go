package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// headerSize is the aes128gcm header of a push message (RFC 8188 section
// 2.1 with RFC 8291's key id): salt, record size, key id length, and the
// application server's 65-byte ECDH public key as the key id.
const headerSize = 16 + 4 + 1 + 65

// decrypt opens a push message body for the user agent holding priv and
// auth (RFC 8291 section 3, RFC 8188 section 2) and returns the plaintext
// without its padding, and the record size of the header.
func decrypt(body []byte, priv *ecdh.PrivateKey, auth []byte) ([]byte, int, error) {
	if len(body) < 21 {
		return nil, 0, errors.New("body shorter than the aes128gcm header")
	}
	salt := body[:16]
	rs := int(binary.BigEndian.Uint32(body[16:20]))
	idlen := int(body[20])
	if idlen != 65 {
		return nil, rs, fmt.Errorf("key id of %d bytes, want the 65-byte application server key", idlen)
	}
	if len(body) < headerSize {
		return nil, rs, errors.New("body shorter than its key id")
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21:headerSize])
	if err != nil {
		return nil, rs, fmt.Errorf("application server key: %w", err)
	}
	record := body[headerSize:]
	// RFC 8188 section 2.1: "Values smaller than 18 are invalid." Section
	// 2: each record is rs octets after encryption ("final size is rs;
	// the last record can be smaller"), so a longer one is more than one
	// record. RFC 8291 section 4: "An application server MUST set the
	// 'rs' parameter [...] to a size that is greater than the sum of the
	// lengths of the plaintext, the padding delimiter (1 octet), any
	// padding, and the authentication tag (16 octets)": the one record of
	// a push message is shorter than rs. (The header is not part of the
	// record: webpush-go's body of exactly rs bytes holds a record of
	// rs-86.)
	if rs < 18 {
		return nil, rs, fmt.Errorf("record size %d below 18", rs)
	}
	if len(record) > rs {
		return nil, rs, fmt.Errorf("%d bytes of records with a record size of %d: more than one record", len(record), rs)
	}
	if len(record) == rs {
		return nil, rs, fmt.Errorf("a record of %d bytes with a record size of %d: RFC 8291 wants it shorter than rs", len(record), rs)
	}
	if len(record) < 17 {
		return nil, rs, errors.New("record shorter than its tag and delimiter")
	}

	secret, err := priv.ECDH(asPub)
	if err != nil {
		return nil, rs, fmt.Errorf("ECDH: %w", err)
	}
	// RFC 8291 section 3.4: IKM from the shared secret keyed by the auth
	// secret, bound to both public keys.
	info := append([]byte("WebPush: info\x00"), priv.PublicKey().Bytes()...)
	info = append(info, asPub.Bytes()...)
	ikm, err := expand(hkdf.New(sha256.New, secret, auth, info), 32)
	if err != nil {
		return nil, rs, err
	}
	// RFC 8188 section 2.2 and 2.3: content encryption key and nonce from
	// the salt; the nonce of the first (only) record is used as it is.
	prk := hkdf.Extract(sha256.New, ikm, salt)
	cek, err := expand(hkdf.Expand(sha256.New, prk, []byte("Content-Encoding: aes128gcm\x00")), 16)
	if err != nil {
		return nil, rs, err
	}
	nonce, err := expand(hkdf.Expand(sha256.New, prk, []byte("Content-Encoding: nonce\x00")), 12)
	if err != nil {
		return nil, rs, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, rs, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, rs, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, rs, fmt.Errorf("decryption: %w", err)
	}
	// RFC 8188 section 2: data, a delimiter (2 for the last record), then
	// zeros.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	switch {
	case i < 0:
		return nil, rs, errors.New("no padding delimiter")
	case plain[i] == 1:
		return nil, rs, errors.New("padding delimiter 1: the only record is not marked as the last")
	case plain[i] != 2:
		return nil, rs, fmt.Errorf("padding delimiter %d", plain[i])
	}
	return plain[:i], rs, nil
}

func expand(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("HKDF: %w", err)
	}
	return b, nil
}
