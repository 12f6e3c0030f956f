package main

import (
	"context"
	"io"
	"os"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/exports"
	"github.com/rolodav/rolodav/internal/store"
)

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	loc := addStoreFlags(fs)
	user := fs.String("user", "", "owner of the address book (login)")
	book := fs.String("book", "", "address book name (last segment of its URL); default "+accounts.DefaultBook)
	calendar := fs.String("calendar", "", "calendar or task list name instead of an address book, e.g. calendar or tasks")
	out := fs.String("out", "", "write to this file instead of standard output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return usageError{"--user is required"}
	}
	if *book != "" && *calendar != "" {
		return usageError{"give --book or --calendar, not both"}
	}
	kind, coll := store.KindCard, *book
	if *calendar != "" {
		kind, coll = store.KindCal, *calendar
	} else if coll == "" {
		coll = accounts.DefaultBook
	}
	st, c, err := openCollection(ctx, loc, store.Options{}, *user, kind, coll)
	if err != nil {
		return err
	}
	defer st.Close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := exports.Write(ctx, st, c, w); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && *out != "" {
		return f.Sync()
	}
	return nil
}
