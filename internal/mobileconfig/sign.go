package mobileconfig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Object identifiers used in the SignedData (RFC 5652, RFC 5754, RFC 8017).
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSAWithSHA2 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// now is the signing time; tests may replace it.
var now = time.Now

// Sign wraps profile in a CMS SignedData (RFC 5652, DER) with the content
// attached, as iOS and macOS install it: SHA-256, signed attributes
// contentType, messageDigest and signingTime, signature by keyPEM (RSA or
// ECDSA; PKCS#8, PKCS#1 or SEC 1 PEM). certPEM holds the signing certificate
// and optionally its chain; all of them go into the SignedData, the one
// matching the key first.
func Sign(profile []byte, certPEM, keyPEM []byte) ([]byte, error) {
	if len(profile) == 0 {
		return nil, errors.New("mobileconfig: sign: empty profile")
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, err
	}
	signer := -1
	for i, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(key.Public()) {
			signer = i
			break
		}
	}
	if signer < 0 {
		return nil, errors.New("mobileconfig: sign: no certificate matches the private key")
	}
	cert := certs[signer]
	t := now().UTC().Truncate(time.Second)
	if t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		return nil, fmt.Errorf("mobileconfig: sign: the certificate %q is valid from %s to %s only",
			cert.Subject.CommonName, cert.NotBefore.UTC().Format(time.DateOnly), cert.NotAfter.UTC().Format(time.DateOnly))
	}
	var sigAlg []byte
	switch key.(type) {
	case *rsa.PrivateKey:
		sigAlg = seq(mustMarshal(oidRSAEncryption), mustMarshal(asn1.NullRawValue))
	case *ecdsa.PrivateKey:
		sigAlg = seq(mustMarshal(oidECDSAWithSHA2))
	}
	digestAlg := seq(mustMarshal(oidSHA256)) // parameters absent (RFC 5754)

	sum := sha256.Sum256(profile)
	attrs := [][]byte{
		attribute(oidContentType, mustMarshal(oidData)),
		attribute(oidMessageDigest, tlv(0x04, sum[:])),
		attribute(oidSigningTime, mustMarshal(t)), // UTCTime until 2049
	}
	// DER orders a SET OF by the encodings of its elements.
	sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
	signedAttrs := tlv(0x31, attrs...) // signed as SET OF ...
	h := sha256.Sum256(signedAttrs)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("mobileconfig: sign: %w", err)
	}
	implicitAttrs := append([]byte{0xa0}, signedAttrs[1:]...) // ... stored as [0] IMPLICIT

	signerInfo := seq(
		mustMarshal(1), // version 1: issuerAndSerialNumber
		seq(cert.RawIssuer, mustMarshal(cert.SerialNumber)),
		digestAlg,
		implicitAttrs,
		sigAlg,
		tlv(0x04, sig),
	)
	rawCerts := [][]byte{cert.Raw}
	for i, c := range certs {
		if i != signer {
			rawCerts = append(rawCerts, c.Raw)
		}
	}
	signedData := seq(
		mustMarshal(1), // version 1: id-data content, no attribute certificates
		tlv(0x31, digestAlg),
		seq(mustMarshal(oidData), tlv(0xa0, tlv(0x04, profile))),
		tlv(0xa0, rawCerts...), // certificates [0] IMPLICIT SET OF Certificate
		tlv(0x31, signerInfo),
	)
	return seq(mustMarshal(oidSignedData), tlv(0xa0, signedData)), nil
}

func parseKey(keyPEM []byte) (crypto.Signer, error) {
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("mobileconfig: sign: no PRIVATE KEY block in the key PEM")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; enc {
				return nil, errors.New("mobileconfig: sign: the key is encrypted; decrypt it first (openssl pkey)")
			}
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; enc {
				return nil, errors.New("mobileconfig: sign: the key is encrypted; decrypt it first (openssl pkey)")
			}
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("mobileconfig: sign: the key is encrypted; decrypt it first (openssl pkey)")
		default:
			continue // EC PARAMETERS, certificates and the like
		}
		if err != nil {
			return nil, fmt.Errorf("mobileconfig: sign: %s: %w", b.Type, err)
		}
		switch k := k.(type) {
		case *rsa.PrivateKey:
			return k, nil
		case *ecdsa.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("mobileconfig: sign: %T keys are not supported; use RSA or ECDSA", k)
		}
	}
}

func parseCerts(certPEM []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mobileconfig: sign: certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("mobileconfig: sign: no CERTIFICATE block in the certificate PEM")
	}
	return certs, nil
}

// attribute is Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }
// with one value.
func attribute(oid asn1.ObjectIdentifier, value []byte) []byte {
	return seq(mustMarshal(oid), tlv(0x31, value))
}

func seq(parts ...[]byte) []byte { return tlv(0x30, parts...) }

// tlv encodes a DER element with a one-byte tag and the concatenation of
// parts as its contents.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n+6)
	out = append(out, tag)
	if n < 0x80 {
		out = append(out, byte(n))
	} else {
		var l []byte
		for v := n; v > 0; v >>= 8 {
			l = append([]byte{byte(v)}, l...)
		}
		out = append(out, 0x80|byte(len(l)))
		out = append(out, l...)
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err) // only fixed, valid values are marshalled
	}
	return b
}
