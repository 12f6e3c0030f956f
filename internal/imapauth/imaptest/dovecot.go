// Package imaptest starts a real Dovecot for tests, with its own
// passwd-file, certificates (package testcerts) and free ports.
package imaptest

import (
	"bufio"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/testcerts"
)

// Where Debian's dovecot-core puts the server, and dovecot-imapd its IMAP
// side.
const (
	dovecotBin = "/usr/sbin/dovecot"
	imapLogin  = "/usr/lib/dovecot/imap-login"
)

// Dovecot is a real Dovecot run by a test from a directory of its own
// (configuration, passwd-file, certificates, sockets, state, log, mail),
// listening on 127.0.0.1 only, apart from any system Dovecot.
type Dovecot struct {
	Certs  *testcerts.Certs
	CAFile string // the CA's PEM, as an operator would give it

	dir         string
	imaps, imap int // ports: TLS from the first byte, STARTTLS
	cmd         *exec.Cmd
	exited      chan struct{}
	stop        sync.Once
}

// StartDovecot starts Dovecot with users (login → password) in its
// passwd-file, and stops it when the test ends. A password starting with
// {SCHEME} is a hash written as is (see doveadm pw); others are plain. It
// skips the test when Dovecot is not installed, unless CI is set.
func StartDovecot(t testing.TB, users map[string]string) *Dovecot {
	t.Helper()
	for _, path := range []string{dovecotBin, imapLogin} {
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("CI") == "" {
				t.Skipf("no Dovecot IMAP (%v): apt-get install dovecot-imapd", err)
			}
			t.Fatalf("no Dovecot IMAP (%v): .ci/run must install dovecot-imapd", err)
		}
	}
	out, err := exec.Command(dovecotBin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", dovecotBin, err)
	}
	// 2.4 renamed most settings; this configuration is 2.3's.
	if version := strings.TrimSpace(string(out)); !strings.HasPrefix(version, "2.3.") {
		t.Fatalf("Dovecot %s: imaptest writes a Dovecot 2.3 configuration", version)
	}
	// Not t.TempDir: when run as root, Dovecot's own users (dovecot,
	// dovenull, nobody for mail) must reach the files, and socket paths must
	// stay short.
	dir, err := os.MkdirTemp("", "imaptest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &Dovecot{Certs: testcerts.New(t), dir: dir, CAFile: filepath.Join(dir, "ca.pem")}
	var passwd strings.Builder
	for login, password := range users {
		if strings.ContainsAny(login+password, ":\n") || login == "" {
			t.Fatalf("imaptest: login %q or its password cannot go in a passwd-file", login)
		}
		if !strings.HasPrefix(password, "{") {
			password = "{PLAIN}" + password
		}
		fmt.Fprintf(&passwd, "%s:%s\n", login, password)
	}
	for name, data := range map[string][]byte{"ca.pem": d.Certs.CA, "cert.pem": d.Certs.Cert, "key.pem": d.Certs.Key, "passwd": []byte(passwd.String())} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	accounts, mailUID, mailGID := runAs(t)
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(os.Chmod(dir, 0o755), os.Chown(filepath.Join(dir, "mail"), mailUID, mailGID)); err != nil {
		t.Fatal(err)
	}
	// Free ports are found by listening and closing: another process may
	// take one before Dovecot binds it, so try again.
	for try := 1; ; try++ {
		err := d.start(accounts, mailUID, mailGID)
		if err == nil {
			break
		}
		if try == 3 {
			t.Fatalf("Dovecot did not start: %v\n%s", err, d.Log())
		}
	}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("Dovecot's log:\n%s", d.Log())
		}
	})
	return d
}

// runAs returns the configuration lines naming the users Dovecot runs as,
// and the uid and gid of the mail users.
func runAs(t testing.TB) (string, int, int) {
	if os.Geteuid() == 0 {
		// Root Dovecot runs its login and auth processes as the package's
		// users and refuses uid 0 for mail.
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return "", uid, gid
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	lines := fmt.Sprintf("default_internal_user = %s\ndefault_login_user = %[1]s\ndefault_internal_group = %s\n", u.Username, g.Name)
	return lines, os.Getuid(), os.Getgid()
}

func (d *Dovecot) start(accounts string, mailUID, mailGID int) error {
	var err error
	if d.imaps, err = freePort(); err != nil {
		return err
	}
	if d.imap, err = freePort(); err != nil {
		return err
	}
	dir := d.dir
	conf := fmt.Sprintf(`# imaptest: a Dovecot for one test
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
%[2]s
protocols = imap
listen = 127.0.0.1
# No password before TLS, on either port.
ssl = required
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
# Failed sign-ins answer within 0.5 s (the queue of failures is flushed
# every 0.5 s) rather than after 2 s.
auth_failure_delay = 0
auth_verbose = yes
# rolodav sends the client's address with ID (x-originating-ip); Dovecot
# believes it from trusted networks only.
login_trusted_networks = 127.0.0.0/8
first_valid_uid = 1
mail_location = maildir:%[1]s/mail/%%u
passdb {
  driver = passwd-file
  args = %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[4]d home=%[1]s/mail/%%u
}
# chroot needs root; a test needs no jail.
service anvil {
  chroot =
  # auth cannot open this socket, so it adds no penalty after failures
  # from one address (2 s, 4 s, up to 15 s before every later sign-in from
  # 127.0.0.1; login_trusted_networks no longer skips it in 2.3).
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    port = %[5]d
  }
  inet_listener imaps {
    port = %[6]d
    ssl = yes
  }
}
`, dir, accounts, mailUID, mailGID, d.imap, d.imaps)
	path := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer stderr.Close()
	cmd := exec.Command(dovecotBin, "-F", "-c", path)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children go with it
	if err := cmd.Start(); err != nil {
		return err
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(d.exited)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-d.exited:
			return fmt.Errorf("dovecot exited: %v", cmd.ProcessState)
		default:
		}
		if d.ready() {
			return nil
		}
	}
	d.halt()
	return fmt.Errorf("no IMAP greeting within 30 s")
}

// ready tells whether both ports answer and authentication is up: until
// it is, Dovecot greets with "* OK Waiting for authentication process to
// respond.." and no capabilities.
func (d *Dovecot) ready() bool {
	c, err := net.DialTimeout("tcp", d.addr(d.imaps), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	c, err = net.DialTimeout("tcp", d.addr(d.imap), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if strings.HasPrefix(line, "* OK [CAPABILITY ") {
			return true
		}
	}
}

// IMAPSURL is the address of the TLS port, for imapauth.Parse.
func (d *Dovecot) IMAPSURL() string { return "imaps://" + d.addr(d.imaps) }

// StartTLSURL is the address of the STARTTLS port, for imapauth.Parse.
func (d *Dovecot) StartTLSURL() string { return "imap://" + d.addr(d.imap) }

// CAPool holds the CA that signed Dovecot's certificate, alone.
func (d *Dovecot) CAPool() *x509.CertPool { return d.Certs.Pool() }

func (d *Dovecot) addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// Stop stops Dovecot, as when a mail server is down. Calling it again does
// nothing.
func (d *Dovecot) Stop() { d.stop.Do(d.halt) }

// halt asks Dovecot to stop and kills it and its children if it has not
// within 10 s.
func (d *Dovecot) halt() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
}

// Log returns what Dovecot wrote to its log and to stderr.
func (d *Dovecot) Log() string {
	var b strings.Builder
	for _, name := range []string{"stderr.log", "dovecot.log"} {
		data, _ := os.ReadFile(filepath.Join(d.dir, name))
		b.Write(data)
	}
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
