package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// profileData is a data directory with the user ann@example.org.
func profileData(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	if _, errOut, code := cli(t, "ann's long password\n", "user", "add", "ann@example.org", "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	return data
}

func TestProfileUnknownUser(t *testing.T) {
	data := profileData(t)
	out, errOut, code := cli(t, "", "profile", "--user", "anne@example.org", "--host", "dav.example.org", "--data", data)
	if code != 1 || !strings.Contains(errOut, "no user anne@example.org") || out != "" {
		t.Errorf("unknown user: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}

func TestProfileUsageErrors(t *testing.T) {
	data := profileData(t)
	for _, args := range [][]string{
		{"--user", "ann@example.org", "--host", "dav.example.org", "--sign-cert", "cert.pem"},
		{"--user", "ann@example.org", "--host", "dav.example.org", "--sign-key", "key.pem"},
		{"--user", "ann@example.org"},
		{"--host", "dav.example.org"},
		{"--user", "ann@example.org", "--host", "https://dav.example.org/"},
		{"--user", "ann@example.org", "--host", "dav.example.org", "--port", "99999"},
		{"--user", "ann@example.org", "--host", "dav.example.org", "extra"},
	} {
		out, errOut, code := cli(t, "", append([]string{"profile", "--data", data}, args...)...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "rolodav profile: ") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errOut, out)
		}
	}
}

func TestProfileWritesPlist(t *testing.T) {
	data := profileData(t)
	out, errOut, code := cli(t, "", "profile", "--user", "Ann@Example.org", "--host", "dav.example.org", "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"<plist version=\"1.0\">",
		"<string>com.apple.carddav.account</string>",
		"<string>com.apple.caldav.account</string>",
		"<key>CardDAVHostName</key>\n\t\t\t<string>dav.example.org</string>",
		"<key>CalDAVUsername</key>\n\t\t\t<string>ann@example.org</string>",
		"<key>CardDAVPort</key>\n\t\t\t<integer>443</integer>",
		"<key>CalDAVUseSSL</key>\n\t\t\t<true/>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("profile lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Password") {
		t.Errorf("profile has a password without --password-stdin:\n%s", out)
	}
	again, _, _ := cli(t, "", "profile", "--user", "ann@example.org", "--host", "dav.example.org", "--data", data)
	if again != out {
		t.Error("the same profile twice differs")
	}

	// Plain http on another port, with the password, to a file.
	file := filepath.Join(t.TempDir(), "ann.mobileconfig")
	out, errOut, code = cli(t, "ann's long password\n", "profile", "--user", "ann@example.org", "--host", "192.168.1.5",
		"--port", "5232", "--no-ssl", "--password-stdin", "--description", "Home & <lab>", "--out", file, "--data", data)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<integer>5232</integer>", "<false/>", "<string>ann's long password</string>", "<string>Home &amp; &lt;lab&gt;</string>",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("profile lacks %q:\n%s", want, b)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("profile file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}

	// A mistyped password would lock the account out from the device.
	if _, errOut, code := cli(t, "not the password\n", "profile", "--user", "ann@example.org", "--host", "dav.example.org",
		"--password-stdin", "--data", data); code != 1 || !strings.Contains(errOut, "not the password") {
		t.Errorf("wrong password: exit %d, %q", code, errOut)
	}
}

// A profile may carry an app password instead, and must when the user
// requires them.
func TestProfileAppPassword(t *testing.T) {
	data := profileData(t)
	withStore := func(fn func(st *sqlite.Store) error) {
		t.Helper()
		st, err := sqlite.Open(filepath.Join(data, "rolodav.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := fn(st); err != nil {
			t.Fatal(err)
		}
	}
	pw, digest := auth.NewAppPassword()
	withStore(func(st *sqlite.Store) error {
		return st.CreateAppPassword(t.Context(), &store.AppPassword{Owner: "ann@example.org", Name: "phone", Digest: digest})
	})
	profile := func(password string) (string, string, int) {
		return cli(t, password+"\n", "profile", "--user", "ann@example.org", "--host", "dav.example.org", "--password-stdin", "--data", data)
	}

	for _, password := range []string{pw, "ann's long password"} {
		if out, errOut, code := profile(password); code != 0 || !strings.Contains(out, "<string>"+password+"</string>") {
			t.Errorf("%q: exit %d, %s", password, code, errOut)
		}
	}
	withStore(func(st *sqlite.Store) error { return st.SetRequireAppPasswords(t.Context(), "ann@example.org", true) })
	if _, errOut, code := profile(pw); code != 0 {
		t.Errorf("app password, app passwords required: exit %d, %s", code, errOut)
	}
	if out, errOut, code := profile("ann's long password"); code != 1 || out != "" || !strings.Contains(errOut, "requires app passwords") {
		t.Errorf("account password, app passwords required: exit %d, stderr %q", code, errOut)
	}
}

func TestProfileSigned(t *testing.T) {
	data := profileData(t)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "rolodav profile signer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	pk8, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}), 0o600)

	out, errOut, code := cli(t, "", "profile", "--user", "ann@example.org", "--host", "dav.example.org",
		"--sign-cert", certFile, "--sign-key", keyFile, "--data", data)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out == "" || out[0] != 0x30 || !strings.Contains(out, "<string>ann@example.org</string>") || !strings.Contains(out, string(der)) {
		t.Errorf("output is not a SignedData with the profile and the certificate (%d bytes)", len(out))
	}
	// The key of another certificate is refused.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pk8, _ = x509.MarshalPKCS8PrivateKey(other)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}), 0o600)
	if out, errOut, code := cli(t, "", "profile", "--user", "ann@example.org", "--host", "dav.example.org",
		"--sign-cert", certFile, "--sign-key", keyFile, "--data", data); code != 1 || out != "" || !strings.Contains(errOut, "matches") {
		t.Errorf("mismatched key: exit %d, stderr %q", code, errOut)
	}
}

// A signed-in user downloads a profile for the server they reached.
func TestProfileDownload(t *testing.T) {
	data := t.TempDir()
	cli(t, "quinn password\n", "user", "add", "quinn@example.org", "--data", data, "--password-stdin")
	d := start(t, data, "--base-url", "https://dav.example.org/")
	if code, _, _ := d.req(t, "GET", "/profile.mobileconfig", "", "", ""); code != 401 {
		t.Errorf("anonymous download: %d, want 401", code)
	}
	code, hdr, body := d.req(t, "GET", "/profile.mobileconfig", "quinn@example.org", "quinn password", "")
	if code != 200 || hdr.Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Fatalf("download: %d %q", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"<string>dav.example.org</string>", "<string>quinn@example.org</string>", "com.apple.carddav.account", "com.apple.caldav.account", "<integer>443</integer>"} {
		if !strings.Contains(body, want) {
			t.Errorf("profile lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Password") {
		t.Error("the downloaded profile carries a password")
	}
	if !strings.Contains(hdr.Get("Content-Disposition"), "quinn@example.org.mobileconfig") {
		t.Errorf("Content-Disposition %q", hdr.Get("Content-Disposition"))
	}
}

// Only the mail server knows a mail user's password: the profile takes
// their app passwords, and says why it refuses anything else.
func TestProfileMailUser(t *testing.T) {
	data := t.TempDir()
	if _, errOut, code := cli(t, "", "user", "add", "--mail-password", "mia@mail.example", "--data", data); code != 0 {
		t.Fatalf("user add --mail-password: %s", errOut)
	}
	_, errOut, code := cli(t, "mia's mail password\n", "profile", "--user", "mia@mail.example", "--host", "dav.example.org", "--password-stdin", "--data", data)
	if code != 1 || !strings.Contains(errOut, "only the mail server can check") {
		t.Errorf("mail password for a mail user's profile: exit %d, %q", code, errOut)
	}
}
