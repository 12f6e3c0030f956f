package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/useragent"
)

func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	// The security mails of changes made here name the command line.
	ctx = notices.WithOrigin(ctx, notices.Origin{Client: useragent.CommandLine})
	if len(args) == 0 {
		return usageError{"which one: add, passwd, delete, list or 2fa?"}
	}
	switch args[0] {
	case "add", "passwd", "delete", "list":
	case "2fa":
		return twoFactorCmd(ctx, args[1:], stdout, stderr)
	default:
		return usageError{fmt.Sprintf("unknown user command %q (add, passwd, delete, list, 2fa)", args[0])}
	}
	fs := newFlags("user "+args[0], stderr)
	loc := addStoreFlags(fs)
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input (first line)")
	yes := fs.Bool("yes", false, "delete without asking for confirmation")
	mailPassword := fs.Bool("mail-password", false, "add: the user signs in with their mail password, checked by the --auth mail server of serve")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	needLogin := args[0] != "list"
	if needLogin && len(pos) != 1 {
		return usageError{fmt.Sprintf("user %s needs exactly one LOGIN", args[0])}
	}
	var login string
	if needLogin {
		if login, err = auth.NormalizeLogin(pos[0]); err != nil {
			return usageError{err.Error()}
		}
	}
	st, err := openStore(ctx, loc, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	in := bufio.NewReader(stdin)
	switch args[0] {
	case "add":
		if *mailPassword {
			_, err = accounts.CreateRemote(ctx, st, login)
		} else {
			var pw string
			if pw, err = readPassword(in, stderr, *pwStdin); err != nil {
				return err
			}
			err = accounts.Create(ctx, st, login, pw)
		}
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("user %s already exists", login)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added user %s\n", login)
		if *mailPassword {
			fmt.Fprintf(stdout, "%s signs in with their mail password (rolodav serve --auth imaps://...)\n", login)
		}
	case "passwd":
		u, err := st.GetUser(ctx, login)
		if err != nil {
			return fmt.Errorf("user %s: %w", login, err)
		}
		if u.Backend == store.BackendIMAP {
			return fmt.Errorf("user %s signs in with their mail password, which is changed at the mail provider, not here", login)
		}
		pw, err := readPassword(in, stderr, *pwStdin)
		if err != nil {
			return err
		}
		if err := accounts.SetPassword(ctx, st, login, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "changed the password of %s\n", login)
	case "delete":
		if _, err := st.GetUser(ctx, login); err != nil {
			return fmt.Errorf("user %s: %w", login, err)
		}
		if !*yes {
			fmt.Fprintf(stderr, "This deletes %s and all their address books. Type the login again to confirm: ", login)
			line, _ := in.ReadString('\n')
			if strings.TrimSpace(line) != login {
				return errors.New("not confirmed; nothing deleted")
			}
		}
		if err := accounts.Delete(ctx, st, login); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted user %s and their data\n", login)
	case "list":
		users, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(stdout, "%s\t%s\n", u.Login, u.Created.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// twoFactorCmd is `user 2fa disable LOGIN`: an admin turns two-factor
// sign-in off for a user who lost their phone and emergency codes.
func twoFactorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "disable" {
		return usageError{"user 2fa: the command is: user 2fa disable LOGIN"}
	}
	fs := newFlags("user 2fa disable", stderr)
	loc := addStoreFlags(fs)
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"user 2fa disable needs exactly one LOGIN"}
	}
	login, err := auth.NormalizeLogin(pos[0])
	if err != nil {
		return usageError{err.Error()}
	}
	st, err := openStore(ctx, loc, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.GetUser(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no user %s", login)
	}
	if err != nil {
		return err
	}
	// Also when it is off: a setup begun but not confirmed goes too.
	if err := accounts.DisableTwoFactor(ctx, st, login); err != nil {
		return err
	}
	if !u.TwoFactor {
		fmt.Fprintf(stdout, "two-factor sign-in was not on for %s\n", login)
		return nil
	}
	fmt.Fprintf(stdout, "turned off two-factor sign-in for %s: they sign in with their password alone and can turn it on again on the Security page\n", login)
	return nil
}

// readPassword prompts twice without echo on a terminal; otherwise (or with
// --password-stdin) it takes the first line of standard input.
func readPassword(in *bufio.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	fd := int(os.Stdin.Fd())
	if !fromStdin && term.IsTerminal(fd) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return checkPassword(string(a))
	}
	line, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password on standard input")
	}
	return checkPassword(strings.TrimRight(line, "\r\n"))
}

func checkPassword(pw string) (string, error) {
	return pw, accounts.CheckPassword(pw)
}
