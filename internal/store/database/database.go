// Package database opens the store a URL names: "sqlite:PATH" (a data
// directory holding rolodav.db, or a database file ending in .db) or "postgres://…" (also
// "postgresql://…", as libpq takes it). Every command that opens the store
// goes through it, so that all of them take the same --database values.
package database

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// FileName is the SQLite database's name inside a data directory.
const FileName = "rolodav.db"

// Default is the URL of the SQLite database in data directory dir.
func Default(dir string) string { return "sqlite:" + filepath.Join(dir, FileName) }

// Open opens (creating an SQLite file if needed) the store url names and
// applies pending migrations.
func Open(ctx context.Context, url string, opt store.Options) (store.Store, error) {
	kind, target, err := Parse(url)
	if err != nil {
		return nil, err
	}
	if kind == SQLite {
		return sqlite.OpenWith(target, opt)
	}
	return postgres.Open(ctx, target, opt)
}

// Kinds of database.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Parse says which driver url is for and what to open it with: the path of
// the SQLite file, or the PostgreSQL URL as given.
func Parse(raw string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(raw, "sqlite:")
		if path == "" {
			return "", "", errors.New("database: sqlite: needs a path, as in sqlite:./rolodav-data")
		}
		if isDir(path) {
			path = filepath.Join(path, FileName)
		}
		return SQLite, path, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			// url.Error repeats the URL, password included.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return "", "", fmt.Errorf("database: %s: %v", Redact(raw), err)
		}
		return Postgres, raw, nil
	}
	return "", "", fmt.Errorf("database: %q is neither sqlite:PATH nor postgres://…", Redact(raw))
}

// isDir says whether a sqlite: path names a data directory rather than the
// database file: an existing directory, or a path not there yet that does
// not end like a database file (sqlite:./rolodav-data, as --data).
func isDir(path string) bool {
	fi, err := os.Stat(path)
	if err == nil {
		return fi.IsDir()
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".db", ".sqlite", ".sqlite3":
		return false
	}
	return true
}

// Redact returns url without its password, for messages and logs.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Keep what names the server: the rest may hold a password.
		s := raw
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i] + "?…"
		}
		if i := strings.LastIndex(s, "@"); i >= 0 && strings.Contains(s, "://") {
			s = s[:strings.Index(s, "://")+3] + "…" + s[i:]
		}
		return s
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	// libpq takes the password (and a key's: sslpassword) as parameters too.
	if q := u.Query(); len(q) > 0 {
		hidden := false
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, "xxxxx")
				hidden = true
			}
		}
		if hidden {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}
