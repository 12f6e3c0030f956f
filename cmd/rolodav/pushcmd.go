package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/useragent"
)

const pushUsage = `usage: rolodav push list|rotate-key [--data DIR | --database URL]

list        the push registrations of every user (or of --user LOGIN)
rotate-key  make a new VAPID key: every device registered with the old one
            is told to register again (WebDAV-Push key rotation), and keeps
            getting messages signed with the old key until it does`

func pushCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{pushUsage}
	}
	switch args[0] {
	case "list", "rotate-key":
	default:
		return usageError{fmt.Sprintf("unknown push command %q\n%s", args[0], pushUsage)}
	}
	fs := newFlags("push "+args[0], stderr)
	loc := addStoreFlags(fs)
	user := fs.String("user", "", "list: only this user's registrations")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q\n%s", pos[0], pushUsage)}
	}
	st, err := openStore(ctx, loc, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "rotate-key" {
		k, err := push.NewKey()
		if err != nil {
			return err
		}
		if err := st.RotatePushKey(ctx, k, time.Now()); err != nil {
			return fmt.Errorf("rotate the VAPID key: %w", err)
		}
		fmt.Fprintf(stdout, "new VAPID public key: %s\nservers advertise it within a minute; registered devices are told to register again\n", k.Public)
		return nil
	}
	logins := []string{}
	if *user != "" {
		login, err := auth.NormalizeLogin(*user)
		if err != nil {
			return usageError{err.Error()}
		}
		if _, err := st.GetUser(ctx, login); err != nil {
			return fmt.Errorf("user %s: %w", login, err)
		}
		logins = append(logins, login)
	} else {
		us, err := st.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range us {
			logins = append(logins, u.Login)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tTARGET\tCLIENT\tEXPIRES\tLAST MESSAGE")
	for _, login := range logins {
		regs, err := st.ListPushRegistrations(ctx, login)
		if err != nil {
			return err
		}
		for _, r := range regs {
			target := fmt.Sprintf("collection %d", r.Collection)
			switch {
			case r.Gone != 0:
				target = fmt.Sprintf("deleted collection %d", r.Gone)
			case r.Collection == 0:
				target = "home " + string(r.Home)
			}
			last := "never"
			if !r.LastSent.IsZero() {
				last = r.LastSent.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", login, target, useragent.Describe(r.Client),
				r.Expires.Local().Format(time.DateTime), last)
		}
	}
	return tw.Flush()
}
