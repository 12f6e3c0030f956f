package mobileconfig_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/mobileconfig"
)

// What the tests read back: RFC 5652 with just enough structure.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT SignedData
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue // [0] EXPLICIT OCTET STRING
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

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

type pki struct {
	cert    *x509.Certificate
	certPEM []byte
	keyPEM  []byte
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// newCert makes a certificate for key, signed by parent (self-signed when nil).
func newCert(t *testing.T, cn string, key crypto.Signer, parent *pki, parentKey crypto.Signer, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"rolodav test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  parent == nil,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rsaPKI(t *testing.T) *pki {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := newCert(t, "rolodav RSA signer", key, nil, nil, time.Now().Add(24*time.Hour))
	return &pki{cert: c, certPEM: pemOf("CERTIFICATE", c.Raw), keyPEM: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key))}
}

// ecdsaChain is an ECDSA leaf issued by an ECDSA CA; certPEM holds the CA
// first, to show Sign finds the signer by its key.
func ecdsaChain(t *testing.T) (leaf, ca *pki) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ca = &pki{cert: newCert(t, "rolodav test CA", caKey, nil, nil, time.Now().Add(48*time.Hour))}
	ca.certPEM = pemOf("CERTIFICATE", ca.cert.Raw)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := newCert(t, "rolodav ECDSA signer", key, ca, caKey, time.Now().Add(24*time.Hour))
	sec1, _ := x509.MarshalECPrivateKey(key)
	keyPEM := append(pemOf("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}), pemOf("EC PRIVATE KEY", sec1)...)
	leaf = &pki{cert: c, certPEM: append(append([]byte{}, ca.certPEM...), pemOf("CERTIFICATE", c.Raw)...), keyPEM: keyPEM}
	return leaf, ca
}

func testProfile(t *testing.T) []byte {
	p, err := mobileconfig.Build(mobileconfig.Options{Host: "dav.example.org", UseSSL: true, Login: "ann&o'neil@example.org", Description: "Ünïcødé"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// verify checks signed in Go and returns the content and the certificates.
func verify(t *testing.T, signed []byte, signer *x509.Certificate) ([]byte, []*x509.Certificate) {
	t.Helper()
	var ci contentInfo
	if rest, err := asn1.Unmarshal(signed, &ci); err != nil || len(rest) > 0 {
		t.Fatalf("ContentInfo: %v, %d bytes left", err, len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) || ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 {
		t.Fatalf("ContentInfo type %v, content tag %d/%d", ci.ContentType, ci.Content.Class, ci.Content.Tag)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) > 0 {
		t.Fatalf("SignedData: %v, %d bytes left", err, len(rest))
	}
	if sd.Version != 1 || len(sd.DigestAlgorithms) != 1 || !sd.DigestAlgorithms[0].Algorithm.Equal(oidSHA256) {
		t.Errorf("SignedData version %d, digest algorithms %v", sd.Version, sd.DigestAlgorithms)
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidData) || sd.EncapContentInfo.EContent.Tag != 0 {
		t.Fatalf("encapsulated content type %v", sd.EncapContentInfo.EContentType)
	}
	var content []byte
	if _, err := asn1.Unmarshal(sd.EncapContentInfo.EContent.Bytes, &content); err != nil {
		t.Fatalf("eContent: %v", err)
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil || len(certs) == 0 {
		t.Fatalf("certificates: %v (%d)", err, len(certs))
	}
	if !certs[0].Equal(signer) {
		t.Errorf("first certificate is %q, want the signer", certs[0].Subject.CommonName)
	}
	if len(sd.SignerInfos) != 1 {
		t.Fatalf("%d signer infos", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if si.Version != 1 || !bytes.Equal(si.SID.Issuer.FullBytes, signer.RawIssuer) || si.SID.Serial.Cmp(signer.SerialNumber) != 0 {
		t.Errorf("signer identifier does not name the signing certificate")
	}
	if !si.DigestAlgorithm.Algorithm.Equal(oidSHA256) {
		t.Errorf("digest algorithm %v", si.DigestAlgorithm.Algorithm)
	}

	// Signed attributes: contentType, messageDigest, signingTime, in DER order.
	attrs := map[string]asn1.RawValue{}
	var prev []byte
	for rest := si.SignedAttrs.Bytes; len(rest) > 0; {
		var a attribute
		before := rest
		if rest, err = asn1.Unmarshal(rest, &a); err != nil {
			t.Fatalf("signed attribute: %v", err)
		}
		enc := before[:len(before)-len(rest)]
		if prev != nil && bytes.Compare(prev, enc) > 0 {
			t.Error("signed attributes are not in DER SET OF order")
		}
		prev = enc
		if len(a.Values) != 1 {
			t.Fatalf("attribute %v has %d values", a.Type, len(a.Values))
		}
		attrs[a.Type.String()] = a.Values[0]
	}
	if len(attrs) != 3 {
		t.Errorf("signed attributes %v, want contentType, messageDigest, signingTime", attrs)
	}
	var ct asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(attrs[oidContentType.String()].FullBytes, &ct); err != nil || !ct.Equal(oidData) {
		t.Errorf("contentType attribute %v (%v)", ct, err)
	}
	var md []byte
	sum := sha256.Sum256(content)
	if _, err := asn1.Unmarshal(attrs[oidMessageDigest.String()].FullBytes, &md); err != nil || !bytes.Equal(md, sum[:]) {
		t.Errorf("messageDigest attribute %x, want %x (%v)", md, sum, err)
	}
	st := attrs[oidSigningTime.String()]
	var when time.Time
	if _, err := asn1.Unmarshal(st.FullBytes, &when); err != nil || st.Tag != asn1.TagUTCTime || time.Since(when).Abs() > time.Minute {
		t.Errorf("signingTime attribute %v tag %d (%v)", when, st.Tag, err)
	}

	// The signature covers the attributes re-tagged as a SET.
	set := append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	var alg x509.SignatureAlgorithm
	switch signer.PublicKey.(type) {
	case *rsa.PublicKey:
		alg = x509.SHA256WithRSA
		if !si.SignatureAlgorithm.Algorithm.Equal(oidRSAEncryption) {
			t.Errorf("RSA signature algorithm %v", si.SignatureAlgorithm.Algorithm)
		}
	case *ecdsa.PublicKey:
		alg = x509.ECDSAWithSHA256
		if !si.SignatureAlgorithm.Algorithm.Equal(oidECDSAWithSHA2) {
			t.Errorf("ECDSA signature algorithm %v", si.SignatureAlgorithm.Algorithm)
		}
	}
	if err := signer.CheckSignature(alg, set, si.Signature); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	set[len(set)-1] ^= 1
	if signer.CheckSignature(alg, set, si.Signature) == nil {
		t.Error("signature verifies over altered attributes")
	}
	return content, certs
}

// openssl verifies signed with the openssl command and returns the content.
func openssl(t *testing.T, signed []byte, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("openssl not installed")
		}
		t.Fatal("openssl not installed, and CI is set")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "signed"), filepath.Join(dir, "content")
	if err := os.WriteFile(in, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(args, "-inform", "DER", "-in", in, "-out", out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, msg)
	}
	content, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return content
}

func TestSignRSA(t *testing.T) {
	p := rsaPKI(t)
	profile := testProfile(t)
	signed, err := mobileconfig.Sign(profile, p.certPEM, p.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	content, certs := verify(t, signed, p.cert)
	if !bytes.Equal(content, profile) || len(certs) != 1 {
		t.Errorf("content equal: %v, %d certificates", bytes.Equal(content, profile), len(certs))
	}
	if got := openssl(t, signed, "smime", "-verify", "-noverify"); !bytes.Equal(got, profile) {
		t.Errorf("openssl extracted other content:\n%s", got)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, p.certPEM, 0o600)
	if got := openssl(t, signed, "cms", "-verify", "-CAfile", caFile, "-purpose", "any"); !bytes.Equal(got, profile) {
		t.Errorf("openssl cms extracted other content:\n%s", got)
	}
}

func TestSignECDSAWithChainAndPKCS8(t *testing.T) {
	leaf, ca := ecdsaChain(t)
	profile := testProfile(t)
	signed, err := mobileconfig.Sign(profile, leaf.certPEM, leaf.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	content, certs := verify(t, signed, leaf.cert)
	if !bytes.Equal(content, profile) {
		t.Error("content differs from the profile")
	}
	if len(certs) != 2 || !certs[1].Equal(ca.cert) {
		t.Errorf("want the leaf and the CA certificate, got %d", len(certs))
	}
	if got := openssl(t, signed, "smime", "-verify", "-noverify"); !bytes.Equal(got, profile) {
		t.Errorf("openssl extracted other content:\n%s", got)
	}
	// The chain verifies with only the CA as trust anchor: the leaf travels in the message.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, ca.certPEM, 0o600)
	if got := openssl(t, signed, "cms", "-verify", "-CAfile", caFile, "-purpose", "any"); !bytes.Equal(got, profile) {
		t.Errorf("openssl cms extracted other content:\n%s", got)
	}

	// The same key as PKCS#8.
	block, _ := pem.Decode(leaf.keyPEM[bytes.Index(leaf.keyPEM, []byte("-----BEGIN EC PRIVATE KEY")):])
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pk8, _ := x509.MarshalPKCS8PrivateKey(key)
	signed, err = mobileconfig.Sign(profile, leaf.certPEM, pemOf("PRIVATE KEY", pk8))
	if err != nil {
		t.Fatal(err)
	}
	verify(t, signed, leaf.cert)
}

func TestSignLargeProfile(t *testing.T) {
	p := rsaPKI(t)
	profile := bytes.Repeat([]byte("x"), 70000) // multi-byte DER lengths
	signed, err := mobileconfig.Sign(profile, p.certPEM, p.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if content, _ := verify(t, signed, p.cert); !bytes.Equal(content, profile) {
		t.Error("content differs")
	}
	if got := openssl(t, signed, "smime", "-verify", "-noverify"); !bytes.Equal(got, profile) {
		t.Error("openssl extracted other content")
	}
}

func TestSignRejects(t *testing.T) {
	p := rsaPKI(t)
	other := rsaPKI(t)
	profile := testProfile(t)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edPK8, _ := x509.MarshalPKCS8PrivateKey(edKey)
	expiredKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	expired := newCert(t, "expired", expiredKey, nil, nil, time.Now().Add(-time.Minute))
	expiredSEC1, _ := x509.MarshalECPrivateKey(expiredKey)

	for name, c := range map[string]struct{ profile, cert, key []byte }{
		"empty profile":       {nil, p.certPEM, p.keyPEM},
		"key of another cert": {profile, p.certPEM, other.keyPEM},
		"no certificate":      {profile, nil, p.keyPEM},
		"no key":              {profile, p.certPEM, p.certPEM},
		"encrypted key":       {profile, p.certPEM, pemOf("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3})},
		"ed25519 key":         {profile, p.certPEM, pemOf("PRIVATE KEY", edPK8)},
		"garbage key":         {profile, p.certPEM, pemOf("PRIVATE KEY", []byte{1, 2, 3})},
		"expired certificate": {profile, pemOf("CERTIFICATE", expired.Raw), pemOf("EC PRIVATE KEY", expiredSEC1)},
	} {
		if _, err := mobileconfig.Sign(c.profile, c.cert, c.key); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
}
