// Package realdav starts real CardDAV/CalDAV servers for tests (Radicale
// and Xandikos, from their Debian packages), each in a directory of its
// own on a free loopback port, fills them with collections and objects
// (see Fixtures), and compares collections through vdirsyncer (Compare),
// so that a migration from another provider is tested against servers as
// people run them.
package realdav

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a running CardDAV/CalDAV server.
type Server struct {
	Name string // "Radicale" or "Xandikos"
	// URL is the server's root, http://127.0.0.1:PORT/: what a person
	// gives a client, which finds the account from there (RFC 6764
	// well-known, then the principal and its home sets).
	URL string
	// User and Password sign in. Xandikos has no authentication: it
	// accepts any (or no) credentials, and these are only passed along.
	User, Password string
	// AddressBookHome and CalendarHome are the absolute URLs of the
	// account's home sets, where collections are made.
	AddressBookHome, CalendarHome string
	// Client is an HTTP client for this server (keep-alive connections
	// enough for the parallel uploads).
	Client *http.Client

	dir string
	// store writes objects straight into the server's storage (Load);
	// stored, when set, is called once Load has stored them all.
	store  func(t testing.TB, c Collection, objs []Object)
	stored func(t testing.TB)
	// launch starts the server on a port; paths are the principal's and
	// the home sets' URLs from the root's.
	launch func(port int) *exec.Cmd
	paths  func(root string) (principal, books, calendars string)
	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
	stop   *sync.Once
}

// AddressBookURL is the absolute URL of the address book name.
func (s *Server) AddressBookURL(name string) string { return s.AddressBookHome + name + "/" }

// CalendarURL is the absolute URL of the calendar or task list name.
func (s *Server) CalendarURL(name string) string { return s.CalendarHome + name + "/" }

// CollectionURL is the absolute URL of c.
func (s *Server) CollectionURL(c Collection) string {
	if c.Kind == AddressBook {
		return s.AddressBookURL(c.Name)
	}
	return s.CalendarURL(c.Name)
}

// Log returns what the server wrote to stdout and stderr.
func (s *Server) Log() string { return s.log.String() }

// Stop stops the server, as when it goes down. Calling it again does
// nothing.
func (s *Server) Stop() {
	s.stop.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	})
}

// requireProgram returns the path of a program from a Debian package; it
// skips the test when the program is missing, unless CI is set (CI must
// test against it: .ci/run installs the package).
func requireProgram(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if _, err2 := os.Stat("/usr/bin/" + name); err2 == nil {
		return "/usr/bin/" + name
	}
	if os.Getenv("CI") == "" {
		t.Skipf("realdav: %s is not installed (apt-get install %s): %v", name, debianPackage, err)
	}
	t.Fatalf("realdav: %s is not installed; .ci/run must install the Debian package %s: %v", name, debianPackage, err)
	return ""
}

// StartRadicale starts Radicale 3 with htpasswd authentication (plain
// passwords) and one user, storing in a temporary directory; it is stopped
// when the test ends. The user's principal is URL+User+"/", which is also
// both home sets. Radicale serves objects as its vobject writes them out:
// a vCard 4.0 photo's data URI comes back cut at the comma
// ("PHOTO:data:image/png\;base64", Kozea/Radicale#648 and #1863), as on
// any Radicale people migrate from.
func StartRadicale(t testing.TB) *Server {
	t.Helper()
	bin := requireProgram(t, "radicale", "radicale")
	dir := t.TempDir()
	s := &Server{Name: "Radicale", User: "anna", Password: "radicale password", dir: dir}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte(s.User+":"+s.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	launch := func(port int) *exec.Cmd {
		// Its own configuration only (-C), not /etc/radicale/config.
		// owner_only: a user reaches the collections under their own
		// principal only, as on a shared Radicale. No delay after a
		// wrong password, so that the tests of one do not wait.
		conf := fmt.Sprintf(`[server]
hosts = 127.0.0.1:%d
[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = %s
[web]
type = none
[logging]
level = warning
`, port, users, filepath.Join(dir, "collections"))
		path := filepath.Join(dir, "config")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		return exec.Command(bin, "-C", path)
	}
	s.launch = launch
	s.paths = func(root string) (string, string, string) {
		p := root + s.User + "/"
		return p, p, p
	}
	s.start(t)
	// A collection is a folder of one file per object, which Radicale
	// reads (and caches) when asked.
	s.store = func(t testing.TB, c Collection, objs []Object) {
		folder := filepath.Join(dir, "collections", "collection-root", s.User, c.Name)
		writeFiles(t, folder, objs)
	}
	return s
}

// StartXandikos starts Xandikos, storing in a temporary directory (a git
// repository per collection); it is stopped when the test ends. Xandikos
// has no authentication: anyone is its one user, whose principal is
// URL+"user/", with the home sets user/contacts/ and user/calendars/.
// User and Password are set all the same, for clients that want some.
func StartXandikos(t testing.TB) *Server {
	t.Helper()
	bin := requireProgram(t, "xandikos", "xandikos")
	git := requireProgram(t, "git", "git")
	dir := t.TempDir()
	s := &Server{Name: "Xandikos", User: "anna", Password: "any password: Xandikos does not check", dir: dir}
	launch := func(port int) *exec.Cmd {
		// --autocreate makes the principal and its home sets, and no
		// collection (--defaults would add some).
		return exec.Command(bin, "-d", filepath.Join(dir, "data"), "-l", "127.0.0.1", "-p", strconv.Itoa(port), "--autocreate")
	}
	s.launch = launch
	s.paths = func(root string) (string, string, string) {
		return root + "user/", root + "user/contacts/", root + "user/calendars/"
	}
	s.start(t)
	// A collection is a git repository with a work tree: its objects are
	// the index's and the HEAD commit's files. Xandikos reads the whole
	// index for each object it serves (40 ms each with 2 000 objects), so
	// a big collection is made a bare repository (packed) once loaded,
	// which Xandikos serves from the HEAD commit's tree 7 times as fast,
	// and otherwise the same.
	var bulk []string
	s.store = func(t testing.TB, c Collection, objs []Object) {
		repo := filepath.Join(dir, "data", "user", map[Kind]string{AddressBook: "contacts", Calendar: "calendars"}[c.Kind], c.Name)
		writeFiles(t, repo, objs)
		runGit(t, git, dir, "-C", repo, "add", "-A")
		runGit(t, git, dir, "-C", repo, "-c", "user.name=realdav", "-c", "user.email=realdav@example.org", "commit", "-q", "-m", fmt.Sprintf("realdav: %d objects", len(objs)))
		bulk = append(bulk, repo)
	}
	// Xandikos keeps the repositories it opened open: it starts again
	// after they are made bare.
	s.stored = func(t testing.TB) {
		if len(bulk) == 0 {
			return
		}
		s.Stop()
		for _, repo := range bulk {
			runGit(t, git, dir, "clone", "-q", "--bare", "--no-local", repo, repo+".bare")
			if err := errors.Join(os.RemoveAll(repo), os.Rename(repo+".bare", repo)); err != nil {
				t.Fatalf("realdav: %v", err)
			}
		}
		bulk = nil
		s.start(t)
	}
	return s
}

func runGit(t testing.TB, git, home string, args ...string) {
	t.Helper()
	cmd := exec.Command(git, args...)
	cmd.Env = serverEnv(home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("realdav: git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// start runs the server on a free port, trying again when another process
// took the port first, until it answers a PROPFIND on the principal.
func (s *Server) start(t testing.TB) {
	t.Helper()
	first := s.log == nil
	if first {
		s.log = &syncBuffer{}
	}
	var err error
	for try := 1; try <= 3; try++ {
		if err = s.run(); err == nil {
			principal, _, _ := s.paths(s.URL)
			if err = s.await(principal); err == nil {
				break
			}
			s.halt()
		}
	}
	if err != nil {
		t.Fatalf("realdav: %s did not start: %v\n%s", s.Name, err, s.Log())
	}
	_, s.AddressBookHome, s.CalendarHome = s.paths(s.URL)
	if !first {
		return
	}
	s.Client = &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true},
	}
	t.Cleanup(func() {
		s.Stop()
		s.Client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("%s's log (last lines):\n%s", s.Name, lastLines(s.Log(), 40))
		}
	})
}

func (s *Server) run() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := s.launch(port)
	cmd.Dir = s.dir
	cmd.Env = serverEnv(s.dir)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// Pdeathsig: a test binary that dies (a panic, a timeout) takes the
	// server down with it instead of leaving it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited, s.stop = cmd, make(chan struct{}), &sync.Once{}
	go func(exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(s.exited)
	s.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/"
	return nil
}

// serverEnv keeps the servers away from the real home directory and from
// a Python set up for something else.
func serverEnv(home string) []string {
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "HOME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "XDG_CONFIG_HOME":
			continue
		}
		env = append(env, e)
	}
	return append(env, "HOME="+home, "PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8")
}

// await waits until the principal answers a PROPFIND with 207.
func (s *Server) await(principal string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.cmd.ProcessState)
		default:
		}
		req, _ := http.NewRequest("PROPFIND", principal, strings.NewReader(`<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>`))
		req.Header.Set("Depth", "0")
		req.Header.Set("Content-Type", "application/xml")
		req.SetBasicAuth(s.User, s.Password)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusMultiStatus {
			return nil
		}
	}
	return errors.New("no answer to PROPFIND within 30 s")
}

func (s *Server) halt() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// syncBuffer is written by the server's output copier while a test reads
// it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func writeFiles(t testing.TB, folder string, objs []Object) {
	t.Helper()
	for _, o := range objs {
		if err := os.WriteFile(filepath.Join(folder, o.Name), []byte(o.Data), 0o644); err != nil {
			t.Fatalf("realdav: %v", err)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
