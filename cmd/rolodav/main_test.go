package main_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rolodav-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rolodav")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary to completion.
func cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// daemon is a running `rolodav serve`.
type daemon struct {
	cmd    *exec.Cmd
	url    string
	stdout *lockedBuffer
	mu     sync.Mutex
	logs   bytes.Buffer
	done   chan struct{}
}

var listenRE = regexp.MustCompile(`url=(https?://127\.0\.0\.1:\d+)\S*/dav/`)

func start(t *testing.T, data string, extra ...string) *daemon {
	t.Helper()
	return startBinary(t, binary, data, extra...)
}

// startBinary is start with another build of rolodav.
func startBinary(t *testing.T, bin, data string, extra ...string) *daemon {
	t.Helper()
	d, found := spawnBinary(t, bin, data, extra...)
	d.await(t, found)
	return d
}

// spawn starts `rolodav serve` without waiting for it: found gets the URL
// it listens on.
func spawn(t *testing.T, data string, extra ...string) (*daemon, <-chan string) {
	t.Helper()
	return spawnBinary(t, binary, data, extra...)
}

func spawnBinary(t *testing.T, bin, data string, extra ...string) (*daemon, <-chan string) {
	t.Helper()
	args := append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(bin, args...)
	d := &daemon{cmd: cmd, stdout: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout = d.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			d.mu.Lock()
			d.logs.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); pw.Close(); close(d.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-d.done
	})
	return d, found
}

// await waits until a spawned server listens.
func (d *daemon) await(t *testing.T, found <-chan string) {
	t.Helper()
	select {
	case d.url = <-found:
	case <-d.done:
		t.Fatalf("server exited early:\n%s", d.log())
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", d.log())
	}
}

// lockedBuffer is written by exec's copier while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

func (d *daemon) req(t *testing.T, method, path, user, pw, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, d.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var passwordRE = regexp.MustCompile(`(?m)^\s{4}(\S{20})$`)

func TestFirstRunCreatesAdminAndServes(t *testing.T) {
	data := t.TempDir()
	d := start(t, data)
	var m []string
	for i := 0; i < 100 && m == nil; i++ { // stdout is copied asynchronously
		m = passwordRE.FindStringSubmatch(d.stdout.String())
		time.Sleep(20 * time.Millisecond)
	}
	if m == nil {
		t.Fatalf("first run did not print a password:\n%s", d.stdout)
	}
	if !strings.Contains(d.stdout.String(), "rolodav user add") {
		t.Errorf("first run does not say how to add users:\n%s", d.stdout)
	}
	for i := 0; i < 100 && !strings.Contains(d.stdout.String(), "Sign in as admin at "+d.url+"/ in a browser"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(d.stdout.String(), "Sign in as admin at "+d.url+"/ in a browser") {
		t.Errorf("first run does not say where to sign in (%s):\n%s", d.url, d.stdout)
	}
	if code, _, body := d.req(t, "GET", "/healthz", "", "", ""); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	code, hdr, body := d.req(t, "PROPFIND", "/dav/addressbooks/admin/", "admin", m[1], "", "Depth: 1")
	if code != 207 || !strings.Contains(body, "/dav/addressbooks/admin/contacts/") {
		t.Fatalf("admin PROPFIND: %d\n%s", code, body)
	}
	// Every answer says not to sniff; HSTS only over HTTPS.
	if _, get, _ := d.req(t, "GET", "/dav/addressbooks/admin/contacts/", "admin", m[1], ""); get.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("DAV GET: X-Content-Type-Options %q", get.Get("X-Content-Type-Options"))
	}
	if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Strict-Transport-Security") != "" {
		t.Errorf("PROPFIND over HTTP: nosniff %q, HSTS %q", hdr.Get("X-Content-Type-Options"), hdr.Get("Strict-Transport-Security"))
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "admin", "wrong-password", "", "Depth: 0"); code != 401 {
		t.Errorf("wrong password: %d", code)
	}
	logs := d.log()
	if !strings.Contains(logs, "method=PROPFIND") || !strings.Contains(logs, "status=207") || !strings.Contains(logs, "user=admin") {
		t.Errorf("request log lacks fields:\n%s", logs)
	}
	if strings.Contains(logs, m[1]) {
		t.Error("the password appears in the logs")
	}
	// The password is printed once only.
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	d2 := start(t, data)
	if passwordRE.MatchString(d2.stdout.String()) {
		t.Error("second start printed a password again")
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	out, errOut, code := cli(t, "correct horse battery\n", "user", "add", "Carol@Example.org", "--data", data, "--password-stdin")
	if code != 0 || !strings.Contains(out, "added user carol@example.org") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := cli(t, "another password\n", "user", "add", "carol@example.org", "--data", data, "--password-stdin"); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate add: %d %q", code, errOut)
	}
	if _, errOut, code := cli(t, "short\n", "user", "add", "dave", "--data", data); code == 0 || !strings.Contains(errOut, "at least") {
		t.Errorf("short password: %d %q", code, errOut)
	}
	out, _, _ = cli(t, "", "user", "list", "--data", data)
	if !strings.HasPrefix(out, "carol@example.org\t") || strings.Count(out, "\n") != 1 {
		t.Errorf("user list: %q", out)
	}
	d := start(t, data)
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "carol@example.org", "correct horse battery", "", "Depth: 0"); code != 207 {
		t.Fatalf("carol cannot sign in: %d", code)
	}
	if _, _, code := cli(t, "new password 123\n", "user", "passwd", "carol@example.org", "--data", data, "--password-stdin"); code != 0 {
		t.Fatal("passwd failed")
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "carol@example.org", "correct horse battery", "", "Depth: 0"); code != 401 {
		t.Errorf("old password still works after passwd: %d", code)
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "carol@example.org", "new password 123", "", "Depth: 0"); code != 207 {
		t.Errorf("new password refused: %d", code)
	}
	if _, _, code := cli(t, "nope\n", "user", "delete", "carol@example.org", "--data", data); code == 0 {
		t.Error("delete without confirmation went ahead")
	}
	if out, _, code := cli(t, "carol@example.org\n", "user", "delete", "carol@example.org", "--data", data); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("confirmed delete: %d %q", code, out)
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "carol@example.org", "new password 123", "", "Depth: 0"); code != 401 {
		t.Errorf("deleted user can still sign in: %d", code)
	}
	if _, errOut, code := cli(t, "", "user", "frobnicate", "--data", data); code != 2 || !strings.Contains(errOut, "unknown user command") {
		t.Errorf("unknown subcommand: %d %q", code, errOut)
	}
}

func TestEnvironmentVariablesSetFlags(t *testing.T) {
	data := t.TempDir()
	cmd := exec.Command(binary, "user", "add", "erin", "--password-stdin")
	cmd.Env = append(os.Environ(), "ROLODAV_DATA="+data)
	cmd.Stdin = strings.NewReader("erin password\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	out, _, _ := cli(t, "", "user", "list", "--data", data)
	if !strings.Contains(out, "erin") {
		t.Errorf("ROLODAV_DATA was not used: %q", out)
	}
}

func vcard(uid string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Person " + uid + "\r\nN:" + uid + ";Person;;;\r\nEND:VCARD\r\n"
}

var tokenRE = regexp.MustCompile(`<D:sync-token>([^<]+)</D:sync-token>`)

// Acknowledged writes survive SIGKILL, and sync tokens keep working.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	data := t.TempDir()
	if _, errOut, code := cli(t, "frank password\n", "user", "add", "frank", "--data", data, "--password-stdin"); code != 0 {
		t.Fatal(errOut)
	}
	d := start(t, data)
	const book = "/dav/addressbooks/frank/contacts/"
	for i := 0; i < 20; i++ {
		if code, _, _ := d.req(t, "PUT", fmt.Sprintf("%sbase%d.vcf", book, i), "frank", "frank password", vcard(fmt.Sprintf("base%d", i))); code != 201 {
			t.Fatalf("PUT: %d", code)
		}
	}
	syncReq := `<D:sync-collection xmlns:D="DAV:"><D:sync-token>%s</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	_, _, body := d.req(t, "REPORT", book, "frank", "frank password", fmt.Sprintf(syncReq, ""))
	tok := tokenRE.FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("no token: %s", body)
	}

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				uid := fmt.Sprintf("w%d-%d", w, i)
				req, _ := http.NewRequest("PUT", d.url+book+uid+".vcf", strings.NewReader(vcard(uid)))
				req.SetBasicAuth("frank", "frank password")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 201 {
					mu.Lock()
					acked = append(acked, uid)
					mu.Unlock()
				}
			}
		}(w)
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
	close(stop)
	wg.Wait()

	d2 := start(t, data)
	for _, uid := range acked {
		if code, _, body := d2.req(t, "GET", book+uid+".vcf", "frank", "frank password", ""); code != 200 || !strings.Contains(body, "UID:"+uid) {
			t.Fatalf("acknowledged card %s lost after SIGKILL: %d", uid, code)
		}
	}
	code, _, body := d2.req(t, "REPORT", book, "frank", "frank password", fmt.Sprintf(syncReq, tok[1]))
	if code != 207 {
		t.Fatalf("old token after restart: %d %s", code, body)
	}
	for _, uid := range acked {
		if !strings.Contains(body, uid+".vcf") {
			t.Fatalf("incremental sync after restart misses %s", uid)
		}
	}
	if strings.Contains(body, "base1.vcf") {
		t.Error("incremental sync repeats unchanged cards")
	}
	t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
}

func TestGracefulShutdown(t *testing.T) {
	d := start(t, t.TempDir())
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, d.log())
	}
}

func TestExportCommand(t *testing.T) {
	data := t.TempDir()
	cli(t, "gina password\n", "user", "add", "gina", "--data", data, "--password-stdin")
	d := start(t, data)
	for _, uid := range []string{"x1", "x2", "x3"} {
		d.req(t, "PUT", "/dav/addressbooks/gina/contacts/"+uid+".vcf", "gina", "gina password", vcard(uid))
	}
	out, errOut, code := cli(t, "", "export", "--user", "gina", "--book", "contacts", "--data", data)
	if code != 0 || strings.Count(out, "BEGIN:VCARD") != 3 {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:ev1\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Exported\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if code, _, body := d.req(t, "PUT", "/dav/calendars/gina/calendar/ev1.ics", "gina", "gina password", ev, "Content-Type: text/calendar"); code != 201 {
		t.Fatalf("PUT event: %d %s", code, body)
	}
	out, errOut, code = cli(t, "", "export", "--user", "gina", "--calendar", "calendar", "--data", data)
	if code != 0 || strings.Count(out, "BEGIN:VCALENDAR") != 1 || !strings.Contains(out, "SUMMARY:Exported") {
		t.Fatalf("calendar export: %d %q %q", code, out, errOut)
	}
	_, errOut, code = cli(t, "", "export", "--user", "gina", "--book", "contacts", "--calendar", "calendar", "--data", data)
	if code != 2 || !strings.Contains(errOut, "not both") {
		t.Errorf("--book with --calendar: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", "export", "--user", "gina", "--book", "nope", "--data", data)
	if code != 1 || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("export of a missing book: %d %q", code, errOut)
	}
	_, errOut, code = cli(t, "", "export", "--data", data)
	if code != 2 || !strings.Contains(errOut, "--user") {
		t.Errorf("export without --user: %d %q", code, errOut)
	}
}

func TestBaseURLPrefix(t *testing.T) {
	data := t.TempDir()
	cli(t, "hank password\n", "user", "add", "hank", "--data", data, "--password-stdin")
	d := start(t, data, "--base-url", "https://example.org/rolodav/")
	for _, p := range []string{"/rolodav/dav/principals/hank/", "/dav/principals/hank/"} {
		code, _, body := d.req(t, "PROPFIND", p, "hank", "hank password",
			`<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:addressbook-home-set/></D:prop></D:propfind>`, "Depth: 0")
		if code != 207 || !strings.Contains(body, "<D:href>/rolodav/dav/addressbooks/hank/</D:href>") {
			t.Errorf("PROPFIND %s behind prefix: %d\n%s", p, code, body)
		}
	}
}

// Behind a trusted proxy, failures count per real client: one attacker
// does not lock out everyone else behind the same proxy.
func TestTrustedProxyThrottlesPerClient(t *testing.T) {
	data := t.TempDir()
	cli(t, "ivan password\n", "user", "add", "ivan", "--data", data, "--password-stdin")
	d := start(t, data, "--trusted-proxy", "127.0.0.0/8", "--signin-slow-after", "-1")
	for i := 0; i < 12; i++ {
		d.req(t, "PROPFIND", "/dav/", "ivan", fmt.Sprintf("guess %d", i), "", "X-Forwarded-For: 203.0.113.7")
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "ivan", "ivan password", "", "X-Forwarded-For: 203.0.113.7", "Depth: 0"); code != 429 {
		t.Errorf("attacker address after 12 failures: %d, want 429", code)
	}
	if code, _, _ := d.req(t, "PROPFIND", "/dav/", "ivan", "ivan password", "", "X-Forwarded-For: 198.51.100.9", "Depth: 0"); code != 207 {
		t.Errorf("another client behind the same proxy: %d, want 207", code)
	}
	if !strings.Contains(d.log(), "remote=203.0.113.7") {
		t.Error("request log does not show the real client address")
	}
	if _, errOut, code := cli(t, "", "serve", "--data", data, "--trusted-proxy", "not-an-ip"); code != 2 || !strings.Contains(errOut, "not-an-ip") {
		t.Errorf("bad --trusted-proxy: %d %q", code, errOut)
	}
}

func TestServesTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	d := start(t, filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(d.url, "https://") {
		t.Fatalf("server URL %q is not https", d.url)
	}
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(d.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("healthz over TLS: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security over TLS: %q", got)
	}
	if _, errOut, code := cli(t, "", "serve", "--data", dir, "--tls-cert", certFile); code != 2 || !strings.Contains(errOut, "--tls-key") {
		t.Errorf("--tls-cert alone: %d %q", code, errOut)
	}
}

// A signed-in client that declares a body and stops sending it gets 408
// once --body-timeout passes, and its connection is closed.
func TestSlowBodyTimesOut(t *testing.T) {
	data := t.TempDir()
	cli(t, "jo password\n", "user", "add", "jo", "--data", data, "--password-stdin")
	d := start(t, data, "--body-timeout", "1s")
	c, err := net.Dial("tcp", strings.TrimPrefix(d.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, _ := http.NewRequest("PUT", d.url+"/dav/addressbooks/jo/contacts/slow.vcf", nil)
	req.SetBasicAuth("jo", "jo password")
	fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: text/vcard\r\nContent-Length: 1000\r\n\r\nBEGIN:VCARD\r\n",
		req.URL.Path, req.Header.Get("Authorization"))
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // far above the 1 s
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close || !strings.Contains(string(body), "did not arrive in time") {
		t.Fatalf("%d (close %v) %s; want 408 and the connection closed", resp.StatusCode, resp.Close, body)
	}
	if code, _, _ := d.req(t, "GET", "/dav/addressbooks/jo/contacts/slow.vcf", "jo", "jo password", ""); code != 404 {
		t.Errorf("the half-sent card was stored: GET %d", code)
	}
}
