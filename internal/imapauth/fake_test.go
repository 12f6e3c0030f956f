package imapauth_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/imapauth"
	"github.com/rolodav/rolodav/internal/testcerts"
)

// fake is one connection to a scripted IMAP server. Its methods report
// what the client did wrong with t.Errorf.
type fake struct {
	t     *testing.T
	certs *testcerts.Certs
	conn  net.Conn
	r     *bufio.Reader
	got   bytes.Buffer // all the client sent, after TLS if any
}

// serve runs script on the first connection to a new listener, with TLS
// from the first byte when implicitTLS is set, and returns a Server for
// it (trusting the fake's CA, 5 s timeout) and a function that waits for
// the script to end and returns what the client sent.
func serve(t *testing.T, implicitTLS bool, script func(f *fake)) (*imapauth.Server, func() []byte) {
	t.Helper()
	certs := testcerts.New(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan []byte, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			done <- nil
			return
		}
		defer conn.Close()
		f := &fake{t: t, certs: certs, conn: conn}
		f.r = bufio.NewReader(io.TeeReader(conn, &f.got))
		if implicitTLS {
			f.startTLS()
		}
		script(f)
		done <- f.got.Bytes()
	}()
	s := &imapauth.Server{Addr: l.Addr().String(), StartTLS: !implicitTLS, RootCAs: certs.Pool(), Timeout: 5 * time.Second}
	return s, func() []byte { return <-done }
}

func (f *fake) startTLS() {
	tc := tls.Server(f.conn, f.certs.ServerConfig(f.t))
	f.conn = tc
	f.r = bufio.NewReader(io.TeeReader(tc, &f.got))
}

// send writes lines, each ended by CRLF, in one write.
func (f *fake) send(lines ...string) {
	f.conn.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
}

// line reads one line without its CRLF; "" when the client has gone.
func (f *fake) line() string {
	s, err := f.r.ReadString('\n')
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(s, "\r\n")
}

// expect reads a command, checks it is want and returns its tag.
func (f *fake) expect(want string) string {
	tag, cmd, _ := strings.Cut(f.line(), " ")
	if cmd != want {
		f.t.Errorf("client sent %q, want %q", cmd, want)
	}
	return tag
}

// literal reads n bytes of a literal.
func (f *fake) literal(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(f.r, b); err != nil {
		f.t.Errorf("literal of %d bytes: %v", n, err)
	}
	return string(b)
}

// wait reads until the client closes the connection.
func (f *fake) wait() {
	io.Copy(io.Discard, f.r)
}

// logout answers the client's LOGOUT.
func (f *fake) logout() {
	tag := f.expect("LOGOUT")
	f.send("* BYE bye", tag+" OK done")
}
