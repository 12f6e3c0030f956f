// Package loadtest runs a real `rolodav serve` process for the benchmark
// commands and talks to it as a client would: it builds the binary, adds a
// user, starts the server on a free port and measures its memory.
package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running rolodav with one user.
type Server struct {
	URL      string
	Data     string // the data directory
	Login    string
	Password string
	Tmp      string // the server's TMPDIR: what it leaves there is left behind
	Binary   string
	Database string // --database of every command; "" = SQLite in Data
	cmd      *exec.Cmd
	dir      string
}

var listenRE = regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)/dav/`)

// Start builds ./cmd/rolodav (unless binary names one), adds the user and
// starts the server in a fresh temporary data directory, with serveArgs
// added to its command line.
func Start(binary, login, password string, serveArgs ...string) (*Server, error) {
	return StartOn(binary, "", login, password, serveArgs...)
}

// StartOn is Start on the database at url (--database; "" = SQLite in the
// temporary data directory), which must hold no user called login.
func StartOn(binary, url, login, password string, serveArgs ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "rolodav-load")
	if err != nil {
		return nil, err
	}
	s := &Server{Data: filepath.Join(dir, "data"), Tmp: filepath.Join(dir, "tmp"), Login: login, Password: password,
		Database: url, dir: dir}
	if err := os.Mkdir(s.Tmp, 0o700); err != nil {
		s.Stop()
		return nil, err
	}
	if binary == "" {
		binary = filepath.Join(dir, "rolodav")
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/rolodav").CombinedOutput(); err != nil {
			s.Stop()
			return nil, fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	s.Binary = binary
	if out, err := s.CLI(password+"\n", "user", "add", login, "--password-stdin"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("user add: %v\n%s", err, out)
	}
	s.cmd = exec.Command(binary, append(append([]string{"serve", "--listen", "127.0.0.1:0"}, s.storeArgs()...), serveArgs...)...)
	s.cmd.Env = append(os.Environ(), "TMPDIR="+s.Tmp)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		s.Stop()
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case s.URL = <-found:
		return s, nil
	case <-time.After(30 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("server did not start")
	}
}

// storeArgs are the flags that point a command at the server's database.
func (s *Server) storeArgs() []string {
	if s.Database != "" {
		return []string{"--database", s.Database}
	}
	return []string{"--data", s.Data}
}

// CLI runs a subcommand of the binary on the server's database (--data or
// --database is added) with stdin, and returns its combined output.
func (s *Server) CLI(stdin string, args ...string) ([]byte, error) {
	cmd := exec.Command(s.Binary, append(args, s.storeArgs()...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "TMPDIR="+s.Tmp)
	return cmd.CombinedOutput()
}

// Pid is the server process's ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop kills the server and removes its data.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}

// Memory reads the server's peak and current resident size from /proc.
func (s *Server) Memory() (peak, now string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return "?", "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			now = strings.TrimSpace(v)
		}
	}
	return peak, now
}

// ResetPeak starts a new peak-memory measurement, so that a read phase is
// measured apart from the writes (whose sign-ins cost argon2 memory).
func (s *Server) ResetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

// DataSize is the size of the data directory on disk.
func (s *Server) DataSize() int64 {
	var n int64
	filepath.WalkDir(s.Data, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// Client sends requests as the server's user.
type Client struct {
	s    *Server
	http *http.Client
}

// Client returns a client keeping up to conns connections open.
func (s *Server) Client(conns int) *Client {
	return &Client{s: s, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}}}
}

// Do sends an XML request and returns the body of a 2xx answer and the time
// until it was read whole.
func (c *Client) Do(method, path, body string, hdr ...string) ([]byte, time.Duration, error) {
	req, err := http.NewRequest(method, c.s.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.SetBasicAuth(c.s.Login, c.s.Password)
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode >= 300 {
		return nil, 0, fmt.Errorf("%s %s: %d %.500s", method, path, resp.StatusCode, out)
	}
	return out, d, nil
}

// Put stores one object; a status other than 201 or 204 is an error.
func (c *Client) Put(path, contentType string, data []byte) error {
	req, err := http.NewRequest("PUT", c.s.URL+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.s.Login, c.s.Password)
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 && resp.StatusCode != 204 {
		return fmt.Errorf("PUT %s: %d %.500s", path, resp.StatusCode, msg)
	}
	return nil
}

// Parallel runs f(0..n-1) on w goroutines and returns the elapsed time and
// the first error, after which the others stop.
func Parallel(n, w int, f func(int) error) (time.Duration, error) {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, w)
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errc <- err
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return time.Since(start), <-errc
}

// MB formats a byte count.
func MB(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// Engine names the database engine of url, for reports.
func Engine(url string) string {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return "PostgreSQL"
	}
	return "SQLite"
}
