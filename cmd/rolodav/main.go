// Command rolodav is a CardDAV/CalDAV server with duplicate-contact merging.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/database"
)

const usage = `rolodav — contacts and calendar sync server (CardDAV, CalDAV)

Usage:
  rolodav serve   [--data DIR | --database URL] [--listen ADDR] [--base-url URL] [--tls-cert F --tls-key F] [--quota-per-user SIZE]
  rolodav user    add|passwd|delete|list [--data DIR | --database URL] [LOGIN] [--password-stdin] [--yes]
  rolodav user    2fa disable LOGIN [--data DIR | --database URL]
  rolodav export  --user LOGIN [--book NAME | --calendar NAME] [--data DIR | --database URL] [--out FILE]
  rolodav import  --user LOGIN [--book NAME | --calendar NAME] [--same-content skip|keep] [--data DIR | --database URL] FILE|-
  rolodav migrate --user LOGIN --from URL --from-user LOGIN [--password-stdin] [--map SRC=DST]…
                  [--only contacts|calendars] [--dry-run] [--insecure] [--data DIR | --database URL]
  rolodav duplicates find|list|merge|hide|undo …   (rolodav duplicates for details)
  rolodav merge-duplicates …                        (the same as duplicates merge)
  rolodav profile --user LOGIN --host HOST [--port N] [--no-ssl] [--password-stdin]
                  [--description TEXT] [--sign-cert F --sign-key F] [--data DIR | --database URL] [--out FILE]
  rolodav store   copy --from URL --to URL [--replace]   (sqlite:PATH or postgres://…)
  rolodav push    list [--user LOGIN] | rotate-key         (WebDAV-Push registrations, VAPID key)

Every flag can also be set as an environment variable: --base-url is ROLODAV_BASE_URL.
Run "rolodav COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it, and it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "user":
		err = userCmd(ctx, args[1:], stdin, stdout, stderr)
	case "export":
		err = exportCmd(ctx, args[1:], stdout, stderr)
	case "import":
		err = importCmd(ctx, args[1:], stdin, stdout, stderr)
	case "duplicates":
		err = duplicatesCmd(ctx, args[1:], stdin, stdout, stderr)
	case "merge-duplicates": // the name admins look for
		err = duplicatesCmd(ctx, append([]string{"merge"}, args[1:]...), stdin, stdout, stderr)
	case "profile":
		err = profileCmd(ctx, args[1:], stdin, stdout, stderr)
	case "store":
		err = storeCmd(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, args[1:], stdin, stdout, stderr)
	case "push":
		err = pushCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rolodav: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "rolodav %s: %v\n", args[0], err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newFlags makes a flag set whose flags default to ROLODAV_* variables.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args after letting environment variables set defaults.
// Flags may come before or after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "ROLODAV_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = usageError{fmt.Sprintf("%s=%q: %v", env, v, err)}
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// storeFlags are the flags that say where the store is: --database, or
// else the SQLite database in --data.
type storeFlags struct {
	data, database *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		data:     fs.String("data", "./rolodav-data", "directory holding the SQLite database (when --database is not set)"),
		database: fs.String("database", "", "the database: sqlite:PATH or postgres://USER:PASSWORD@HOST/DB (default: SQLite in --data)"),
	}
}

// url is the database the flags name.
func (f storeFlags) url() string {
	if *f.database != "" {
		return *f.database
	}
	return database.Default(*f.data)
}

// sqliteDir is the directory of the SQLite database, "" for PostgreSQL.
func (f storeFlags) sqliteDir() string {
	kind, path, err := database.Parse(f.url())
	if err != nil || kind != database.SQLite {
		return ""
	}
	return filepath.Dir(path)
}

// openCollection opens the store and one collection of a user, with
// messages that name what is missing.
func openCollection(ctx context.Context, loc storeFlags, opt store.Options, user string, kind store.Kind, name string) (store.Store, *store.Collection, error) {
	login, err := auth.NormalizeLogin(user)
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	st, err := openStore(ctx, loc, opt)
	if err != nil {
		return nil, nil, err
	}
	c, err := st.GetCollection(ctx, login, kind, name)
	if err != nil {
		st.Close()
		what := "address book"
		if kind == store.KindCal {
			what = "calendar"
		}
		return nil, nil, fmt.Errorf("%s %q of %s: %w", what, name, login, err)
	}
	return st, c, nil
}

// openStore opens the database the flags name. The commands that write
// what users store (serve, import, duplicates) pass the quota of
// --quota-per-user; the others write no objects and pass none.
func openStore(ctx context.Context, loc storeFlags, opt store.Options) (store.Store, error) {
	if _, _, err := database.Parse(loc.url()); err != nil {
		return nil, usageError{err.Error()}
	}
	if *loc.database == "" {
		if err := os.MkdirAll(*loc.data, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	return database.Open(ctx, loc.url(), opt)
}
