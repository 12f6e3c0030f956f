// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// and postgres from Debian's postgresql package, in a temporary directory,
// listening on a free loopback port. PostgreSQL refuses to run as root, so
// under root the cluster runs as the "postgres" user the package creates
// (or "nobody"). Tests skip when the binaries are missing, unless the CI
// variable is set: CI must run them.
//
// A package that uses it calls Main from its TestMain, which stops the
// cluster when the tests end; each URL is a new, empty database.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	once    sync.Once
	cluster *Cluster
	failure error
	dbs     atomic.Int64
)

// Cluster is a running throwaway server.
type Cluster struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// Main runs the tests and then stops the cluster, if one was started.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	return code
}

// URL returns the URL of a new, empty database on the cluster, dropped
// when t ends. It skips t when PostgreSQL is not installed (fails it under
// CI).
func URL(t testing.TB) string {
	t.Helper()
	c := Start(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, c.url("postgres"))
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return c.url(name)
}

// Start returns the cluster, starting it on first use.
func Start(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { cluster, failure = start() })
	if failure != nil {
		if errors.Is(failure, errNotInstalled) && os.Getenv("CI") == "" {
			t.Skipf("pgtest: %v", failure)
		}
		t.Fatalf("pgtest: %v", failure)
	}
	return cluster
}

// Port is the loopback port the cluster listens on.
func (c *Cluster) Port() int { return c.port }

func (c *Cluster) url(db string) string {
	return fmt.Sprintf("postgres://rolodav@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Stop shuts the server down (fast shutdown) and removes its directory.
func (c *Cluster) Stop() {
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	os.RemoveAll(c.dir)
}

var errNotInstalled = errors.New("PostgreSQL is not installed (Debian package postgresql)")

// binDir finds the newest installed server's binaries.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errNotInstalled
	}
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	return filepath.Dir(found[len(found)-1]), nil
}

// runAs returns the credential to run the server with: none for an
// ordinary user, an unprivileged account for root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")
}

func start() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// Under root the server runs as another user, who must reach the
	// directory: a test's own TMPDIR (0700, root's) would not do.
	base := ""
	if cred != nil {
		base = "/tmp"
	}
	removeStale(base)
	dir, err := os.MkdirTemp(base, "rolodav-pgtest-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "rolodav",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		c, err := launch(bin, dir, data, cred)
		if err == nil || attempt == 4 {
			if err != nil {
				os.RemoveAll(dir)
			}
			return c, err
		}
	}
}

// removeStale removes the clusters of test binaries that died before
// they could: those whose server is not running.
func removeStale(base string) {
	if base == "" {
		base = os.TempDir()
	}
	dirs, _ := filepath.Glob(filepath.Join(base, "rolodav-pgtest-*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue // maybe another test binary starting its own
		}
		pid, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
		if err == nil {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pid), "\n", 2)[0]))
			if err := syscall.Kill(n, 0); n > 0 && (err == nil || errors.Is(err, syscall.EPERM)) {
				continue // running (EPERM: as another user)
			}
		}
		os.RemoveAll(dir)
	}
}

// launch starts the server on a free port and waits until it answers.
func launch(bin, dir, data string, cred *syscall.Credential) (*Cluster, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// Durability settings are off: the tests kill rolodav, never the
	// database server, and fsync would only make them slow.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=400",
		"-c", "shared_buffers=64MB")
	// Pdeathsig: a test binary that dies (a panic, a timeout) takes the
	// server down with it instead of leaving it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	c := &Cluster{dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	var exited atomic.Bool
	go func() { cmd.Wait(); exited.Store(true); close(c.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if exited.Load() {
			return nil, fmt.Errorf("postgres exited: %s", log.String())
		}
		conn, err := pgx.Connect(context.Background(), c.url("postgres"))
		if err == nil {
			conn.Close(context.Background())
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-c.done
	return nil, fmt.Errorf("postgres did not start within 30 s: %s", log.String())
}
