package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/mobileconfig"
	"github.com/rolodav/rolodav/internal/store"
)

// profileCmd writes an Apple configuration profile (.mobileconfig) that sets
// up the CardDAV and CalDAV accounts of one user on iOS and macOS.
func profileCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("profile", stderr)
	loc := addStoreFlags(fs)
	user := fs.String("user", "", "the account (login) the profile is for")
	host := fs.String("host", "", "public host name of the server, e.g. dav.example.org (no scheme, no port)")
	port := fs.Int("port", 0, "public port; default 443, or 80 with --no-ssl")
	noSSL := fs.Bool("no-ssl", false, "the device talks plain http (only for tests on a private network)")
	pwStdin := fs.Bool("password-stdin", false, "put the password from standard input (first line) into the profile; without it the device asks")
	desc := fs.String("description", "", `account name shown on the device (default "rolodav (LOGIN)")`)
	org := fs.String("organization", "", "organization shown with the profile")
	ident := fs.String("identifier", "", "reverse-DNS prefix of the profile identifier (default: the host reversed)")
	signCert := fs.String("sign-cert", "", "PEM certificate (and chain) to sign the profile with; needs --sign-key")
	signKey := fs.String("sign-key", "", "PEM private key (RSA or ECDSA, unencrypted) of --sign-cert")
	out := fs.String("out", "", "write to this file (mode 0600) instead of standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	case *user == "":
		return usageError{"--user is required"}
	case *host == "":
		return usageError{"--host is required: the name devices reach the server by, e.g. dav.example.org"}
	case (*signCert == "") != (*signKey == ""):
		return usageError{"--sign-cert and --sign-key go together"}
	}
	login, err := auth.NormalizeLogin(*user)
	if err != nil {
		return usageError{err.Error()}
	}
	opts := mobileconfig.Options{
		Host: *host, Port: *port, UseSSL: !*noSSL, Login: login,
		Description: *desc, Organization: *org, Identifier: *ident,
	}
	// Check the options before touching the store or reading a password.
	if _, err := mobileconfig.Build(opts); err != nil {
		return usageError{strings.TrimPrefix(err.Error(), "mobileconfig: ")}
	}
	var certPEM, keyPEM []byte
	if *signCert != "" {
		if certPEM, err = os.ReadFile(*signCert); err != nil {
			return err
		}
		if keyPEM, err = os.ReadFile(*signKey); err != nil {
			return err
		}
	}

	st, err := openStore(ctx, loc, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.GetUser(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s (see \"rolodav user list\")", login)
	}
	if err != nil {
		return err
	}
	if *pwStdin {
		pw, err := readPassword(bufio.NewReader(stdin), stderr, true)
		if err != nil {
			return err
		}
		// A wrong password on a device gets the account locked out by the
		// sign-in throttling; better to refuse it here.
		if err := checkDevicePassword(ctx, st, u, pw); err != nil {
			return err
		}
		opts.Password = pw
	}

	profile, err := mobileconfig.Build(opts)
	if err != nil {
		return err
	}
	if certPEM != nil {
		if profile, err = mobileconfig.Sign(profile, certPEM, keyPEM); err != nil {
			return err
		}
	}
	if *out == "" {
		_, err = stdout.Write(profile)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(profile); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkDevicePassword accepts what a device may sign in with, as the
// server would.
func checkDevicePassword(ctx context.Context, st auth.AppPasswordFinder, u *store.User, pw string) error {
	_, err := auth.CheckDevicePassword(ctx, st, u, pw)
	switch {
	case err != nil && u.Backend == store.BackendIMAP && !u.TwoFactor && !u.RequireAppPasswords:
		// Only the mail server knows the account password; this command
		// does not ask it.
		return fmt.Errorf("that is not an app password of %s, whose account password only the mail server can check: give the profile an app password", u.Login)
	case !errors.Is(err, auth.ErrBadCredentials):
		return err
	case u.TwoFactor:
		return fmt.Errorf("that is not an app password of %s, and devices need one: %s has two-factor sign-in on", u.Login, u.Login)
	case u.RequireAppPasswords:
		return fmt.Errorf("that is not an app password of %s, and %s requires app passwords for devices", u.Login, u.Login)
	default:
		return fmt.Errorf("that is not the password of %s", u.Login)
	}
}
