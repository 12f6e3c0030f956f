package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rolodav/rolodav/auth"
	"github.com/rolodav/rolodav/dav"
	"github.com/rolodav/rolodav/store"
)

func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	data := dataFlag(fs)
	user := fs.String("user", "", "owner of the address book (login)")
	book := fs.String("book", dav.DefaultBook, "address book name (last segment of its URL)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" {
		return usageError{"--user is required"}
	}
	login, err := auth.NormalizeLogin(*user)
	if err != nil {
		return usageError{err.Error()}
	}
	st, err := openStore(*data)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.GetCollection(ctx, login, store.KindCard, *book)
	if err != nil {
		return fmt.Errorf("address book %q of %s: %w", *book, login, err)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := dav.WriteExport(ctx, st, c, w); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && *out != "" {
		return f.Sync()
	}
	return nil
}
