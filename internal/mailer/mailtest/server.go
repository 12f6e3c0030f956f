// Package mailtest is an SMTP server for tests (github.com/emersion/go-smtp)
// on 127.0.0.1 that records what it accepts and refuses on demand, and the
// tools to take a received mail apart.
package mailtest

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Server.
type Options struct {
	User, Pass string      // required credentials; "" = no AUTH
	Implicit   *tls.Config // smtps: TLS from the first byte
	StartTLS   *tls.Config // offered with STARTTLS
}

// Message is a message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated; "" = nobody
	TLS  bool   // the session was encrypted
	Seq  int    // 1 for the first transaction (MAIL FROM) the server saw
}

// Server is a running test SMTP server.
type Server struct {
	Addr string
	Port int

	mu       sync.Mutex
	msgs     []Message     // accepted messages
	arrived  chan struct{} // closed and replaced when a message is accepted
	attempts int           // transactions begun (MAIL FROM)
	fail     func(stage string, n int) error
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	srv := &Server{arrived: make(chan struct{})}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: srv, conn: c, opts: o}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // over loopback, as rolodav allows
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.TLSConfig = o.StartTLS
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.Implicit != nil {
		l = tls.NewListener(l, o.Implicit)
	}
	srv.Addr = l.Addr().String()
	srv.Port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(l)
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return srv
}

// Received returns the accepted messages.
func (s *Server) Received() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits until at least n messages were accepted and returns them; it
// fails the test after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.msgs), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Received()
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("%d of %d mails arrived within %v", got, n, timeout)
		}
	}
}

// SetFail makes the server ask f before accepting a stage ("rcpt" or
// "data") of the n-th transaction (n from 1); a non-nil error refuses it.
// It also asks f at the stage "accepted", once the message of the n-th
// transaction is accepted and its 250 sent: a non-nil error then drops
// the connection, before the client's next command is read. f may block,
// to stall the server at that point. nil accepts everything again.
func (s *Server) SetFail(f func(stage string, n int) error) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

// Attempts is the number of transactions begun (MAIL FROM).
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

func (s *Server) check(stage string, n int) error {
	s.mu.Lock()
	f := s.fail
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(stage, n)
}

// Temp is a temporary refusal (451).
func Temp(msg string) error {
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: msg}
}

// Perm is a permanent refusal (550).
func Perm(msg string) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: msg}
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	opts Options
	msg  Message
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (s *session) AuthMechanisms() []string {
	if s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.opts.User || pass != s.opts.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Bad credentials"}
		}
		s.msg.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.User != "" && s.msg.User == "" {
		return errAuthRequired
	}
	s.srv.mu.Lock()
	s.srv.attempts++
	s.msg.Seq = s.srv.attempts
	s.srv.mu.Unlock()
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.srv.check("rcpt", s.msg.Seq); err != nil {
		return err
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := s.srv.check("data", s.msg.Seq); err != nil {
		return err
	}
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.msg.Data = data
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	close(s.srv.arrived)
	s.srv.arrived = make(chan struct{})
	s.srv.mu.Unlock()
	return nil
}

// Reset keeps the authentication, which outlives a transaction. After an
// accepted message (go-smtp resets once the reply to DATA is out), it
// asks about the stage "accepted".
func (s *session) Reset() {
	accepted := s.msg.Data != nil
	seq := s.msg.Seq
	s.msg = Message{User: s.msg.User}
	if accepted && s.srv.check("accepted", seq) != nil {
		// The network connection: smtp.Conn.Close would wait for the
		// lock its caller holds.
		s.conn.Conn().Close()
	}
}

func (s *session) Logout() error { return nil }
