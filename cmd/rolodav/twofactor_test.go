package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// TestUser2FADisable: an admin turns two-factor off for a user, who can
// then use the account password on devices again.
func TestUser2FADisable(t *testing.T) {
	data := t.TempDir()
	const login, pw = "erin@example.org", "erin's password"
	if _, errOut, code := cli(t, pw+"\n", "user", "add", login, "--data", data, "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	// Turned on as the Security page does.
	st, err := sqlite.Open(filepath.Join(data, "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secret := auth.NewTOTPSecret()
	if err := st.SetPendingTOTP(ctx, login, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.EnableTwoFactor(ctx, st, login, secret, 1); err != nil {
		t.Fatal(err)
	}
	st.Close()

	d := start(t, data)
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", login, pw, "", "Depth: 0"); code != 401 {
		t.Fatalf("account password over DAV with two-factor on: %d, want 401", code)
	}
	out, errOut, code := cli(t, "", "user", "2fa", "disable", "Erin@Example.org", "--data", data)
	if code != 0 || !strings.Contains(out, "turned off two-factor sign-in for "+login) {
		t.Fatalf("2fa disable: %d %q %q", code, out, errOut)
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", login, pw, "", "Depth: 0"); code != 207 {
		t.Fatalf("account password over DAV after 2fa disable: %d, want 207", code)
	}
	out, _, code = cli(t, "", "user", "2fa", "disable", login, "--data", data)
	if code != 0 || !strings.Contains(out, "was not on for "+login) {
		t.Errorf("2fa disable again: %d %q", code, out)
	}
	if _, errOut, code := cli(t, "", "user", "2fa", "disable", "nobody@example.org", "--data", data); code != 1 || !strings.Contains(errOut, "no user nobody@example.org") {
		t.Errorf("unknown login: %d %q", code, errOut)
	}
	if _, errOut, code := cli(t, "", "user", "2fa", "disable", "--data", data); code != 2 || !strings.Contains(errOut, "LOGIN") {
		t.Errorf("no login: %d %q", code, errOut)
	}
	if _, errOut, code := cli(t, "", "user", "2fa", "enable", login, "--data", data); code != 2 || !strings.Contains(errOut, "2fa disable LOGIN") {
		t.Errorf("2fa enable: %d %q", code, errOut)
	}
}

// TestProfileTwoFactor: with two-factor on, a profile carries an app
// password, never the account password.
func TestProfileTwoFactor(t *testing.T) {
	data := profileData(t)
	st, err := sqlite.Open(filepath.Join(data, "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secret := auth.NewTOTPSecret()
	if err := st.SetPendingTOTP(ctx, "ann@example.org", secret); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.EnableTwoFactor(ctx, st, "ann@example.org", secret, 1); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, errOut, code := cli(t, "ann's long password\n", "profile", "--user", "ann@example.org", "--host", "dav.example.org", "--password-stdin", "--data", data)
	if code != 1 || out != "" || !strings.Contains(errOut, "has two-factor sign-in on") {
		t.Errorf("account password, two-factor on: exit %d, stderr %q", code, errOut)
	}
}
