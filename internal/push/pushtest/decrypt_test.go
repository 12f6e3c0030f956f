package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/hkdf"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The example of RFC 8291 section 5 decrypts to its plaintext.
func TestDecryptRFC8291Example(t *testing.T) {
	priv, err := ecdh.P256().NewPrivateKey(b64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()); got != "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4" {
		t.Fatalf("ua_public %s", got)
	}
	body := b64(t, "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	plain, rs, err := decrypt(body, priv, b64(t, "BTBZMqHH6r4Tts7J_aSIgg"))
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != "When I grow up, I want to be a watermelon" || rs != 4096 {
		t.Fatalf("plaintext %q, rs %d", plain, rs)
	}
	// Another auth secret, or one flipped bit, and nothing decrypts.
	other := b64(t, "BTBZMqHH6r4Tts7J_aSIgg")
	other[0] ^= 1
	if _, _, err := decrypt(body, priv, other); err == nil {
		t.Error("decrypted with another auth secret")
	}
	body[len(body)-20] ^= 1
	if _, _, err := decrypt(body, priv, b64(t, "BTBZMqHH6r4Tts7J_aSIgg")); err == nil {
		t.Error("decrypted a tampered record")
	}
}

// encrypt is the application server's side of RFC 8291, for records
// webpush-go would never write: padded ends the plaintext (delimiter and
// padding included).
func encrypt(t *testing.T, ua *ecdh.PublicKey, auth []byte, rs uint32, padded []byte) []byte {
	t.Helper()
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := as.ECDH(ua)
	if err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	info := append(append([]byte("WebPush: info\x00"), ua.Bytes()...), as.PublicKey().Bytes()...)
	ikm, _ := expand(hkdf.New(sha256.New, secret, auth, info), 32)
	prk := hkdf.Extract(sha256.New, ikm, salt)
	cek, _ := expand(hkdf.Expand(sha256.New, prk, []byte("Content-Encoding: aes128gcm\x00")), 16)
	nonce, _ := expand(hkdf.Expand(sha256.New, prk, []byte("Content-Encoding: nonce\x00")), 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	var b bytes.Buffer
	b.Write(salt)
	binary.Write(&b, binary.BigEndian, rs)
	b.WriteByte(65)
	b.Write(as.PublicKey().Bytes())
	b.Write(gcm.Seal(nil, nonce, padded, nil))
	return b.Bytes()
}

// The padding delimiter and the single record of RFC 8291 are checked:
// what a careless sender writes is refused.
func TestDecryptPadding(t *testing.T) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	rand.Read(auth)
	for _, c := range []struct {
		name   string
		rs     uint32
		padded string
		want   string // "" for success: the plaintext "hello"
	}{
		{"delimiter and zeros", 4096, "hello\x02\x00\x00\x00", ""},
		{"delimiter alone", 4096, "hello\x02", ""},
		{"no delimiter", 4096, "hello\x00\x00", "delimiter 111"},
		{"only zeros", 4096, "\x00\x00\x00", "no padding delimiter"},
		{"not the last record", 4096, "hello\x01\x00", "not marked as the last"},
		{"two records' worth", 20, "hello\x02\x00\x00", "more than one record"},
		{"a record as long as rs", 22, "hello\x02", "shorter than rs"},
		{"a record just shorter than rs", 23, "hello\x02", ""},
		{"record size below 18", 17, "\x02", "below 18"},
	} {
		plain, _, err := decrypt(encrypt(t, ua.PublicKey(), auth, c.rs, []byte(c.padded)), ua, auth)
		switch {
		case c.want == "" && (err != nil || string(plain) != "hello"):
			t.Errorf("%s: %q, %v", c.name, plain, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// Whatever a sender POSTs, the stand-in answers with an error, not a
// panic.
func FuzzDecrypt(f *testing.F) {
	ua, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	f.Add([]byte{})
	f.Add(make([]byte, headerSize+17))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, _, err := decrypt(body, ua, auth); err == nil {
			t.Fatal("decrypted random bytes")
		}
	})
}

func FuzzCheckVAPID(f *testing.F) {
	f.Add("vapid t=a.b.c, k=BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
	f.Add("vapid t=eyJhbGciOiJFUzI1NiJ9.e30.AAAA, k=")
	f.Fuzz(func(t *testing.T, h string) {
		checkVAPID(h, "https://push.example.org", "", time.Now())
	})
}
