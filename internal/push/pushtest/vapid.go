package pushtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"
)

// Claims are the claims of a VAPID JWT (RFC 8292 section 2).
type Claims struct {
	Aud string
	Sub string
	Exp time.Time
}

// maxExp is how far ahead a JWT may expire (RFC 8292 section 2: no more
// than 24 hours from the request).
const maxExp = 24 * time.Hour

// checkVAPID verifies an Authorization header "vapid t=<JWT>, k=<key>"
// (RFC 8292 section 3): the ES256 signature of the JWT by k, k equal to
// want when want is set, and the claims against aud and now. It returns
// k and the claims, as far as it could read them.
func checkVAPID(header, aud, want string, now time.Time) (string, Claims, error) {
	var c Claims
	scheme, params, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "vapid") {
		return "", c, errors.New(`Authorization is not "vapid t=..., k=..."`)
	}
	var token, key string
	for _, p := range strings.Split(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(name) {
		case "t":
			token = value
		case "k":
			key = value
		}
	}
	if token == "" || key == "" {
		return key, c, errors.New("Authorization lacks t= or k=")
	}
	kb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(key, "="))
	if err != nil {
		return key, c, fmt.Errorf("k is not base64url: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		return key, c, fmt.Errorf("k is not a P-256 public key: %w", err)
	}
	if want != "" && strings.TrimRight(key, "=") != strings.TrimRight(want, "=") {
		return key, c, errWrongKey
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return key, c, errors.New("the JWT has not three parts")
	}
	var head struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := decodePart(parts[0], &head); err != nil {
		return key, c, fmt.Errorf("JWT header: %w", err)
	}
	if head.Alg != "ES256" || head.Typ != "" && !strings.EqualFold(head.Typ, "JWT") {
		return key, c, fmt.Errorf("JWT header alg %q typ %q, want ES256 JWT", head.Alg, head.Typ)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return key, c, errors.New("JWT signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return key, c, errors.New("JWT signature does not verify with k")
	}

	var claims struct {
		Aud string      `json:"aud"`
		Sub string      `json:"sub"`
		Exp json.Number `json:"exp"`
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return key, c, fmt.Errorf("JWT claims: %w", err)
	}
	c.Aud, c.Sub = claims.Aud, claims.Sub
	exp, err := claims.Exp.Int64()
	if err != nil {
		return key, c, fmt.Errorf("JWT exp %q is not a number of seconds", claims.Exp)
	}
	c.Exp = time.Unix(exp, 0)
	switch {
	case c.Aud != aud:
		return key, c, fmt.Errorf("JWT aud %q, want %q", c.Aud, aud)
	case !c.Exp.After(now):
		return key, c, fmt.Errorf("JWT expired at %v", c.Exp)
	case c.Exp.After(now.Add(maxExp)):
		return key, c, fmt.Errorf("JWT expires at %v, more than %v ahead", c.Exp, maxExp)
	}
	if err := checkSub(c.Sub); err != nil {
		return key, c, err
	}
	return key, c, nil
}

var errWrongKey = errors.New("k is not the expected VAPID public key")

func decodePart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// checkSub requires a contact (RFC 8292 section 2.1): a mailto: URI with an
// address, or an https: URL.
func checkSub(sub string) error {
	u, err := url.Parse(sub)
	switch {
	case err != nil:
	case u.Scheme == "mailto" && strings.Contains(u.Opaque, "@") && !strings.HasPrefix(u.Opaque, "mailto:"):
		return nil
	case u.Scheme == "https" && u.Host != "":
		return nil
	}
	return fmt.Errorf("JWT sub %q is not a mailto: or https: URL", sub)
}
