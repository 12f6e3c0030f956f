package mailer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// An SMTP server for the tests (github.com/emersion/go-smtp) on
// 127.0.0.1, which records what it receives.

type received struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated; "" = nobody
	TLS  bool   // the session was encrypted
	Seq  int    // 1 for the first transaction (MAIL FROM) the server saw
}

type smtpServer struct {
	Addr string
	Port int

	mu       sync.Mutex
	msgs     []received // accepted messages
	attempts int        // transactions begun (MAIL FROM)
	// Fail, when set, may refuse a stage ("rcpt" or "data") of the n-th
	// transaction (n from 1).
	Fail func(stage string, n int) error
}

type serverOpts struct {
	user, pass string      // required credentials; "" = no AUTH
	implicit   *tls.Config // smtps
	starttls   *tls.Config // offered with STARTTLS
}

func startSMTP(t *testing.T, o serverOpts) *smtpServer {
	t.Helper()
	srv := &smtpServer{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: srv, conn: c, opts: o}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // over loopback, as rolodav allows
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.TLSConfig = o.starttls
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicit != nil {
		l = tls.NewListener(l, o.implicit)
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
func (s *smtpServer) Received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpServer) fail(stage string, n int) error {
	s.mu.Lock()
	f := s.Fail
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(stage, n)
}

// SetFail sets Fail while the server runs.
func (s *smtpServer) SetFail(f func(stage string, n int) error) {
	s.mu.Lock()
	s.Fail = f
	s.mu.Unlock()
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	opts serverOpts
	msg  received
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (s *session) AuthMechanisms() []string {
	if s.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.opts.user || pass != s.opts.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Bad credentials"}
		}
		s.msg.User = user
		return nil
	}
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.user != "" && s.msg.User == "" {
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
	if err := s.srv.fail("rcpt", s.msg.Seq); err != nil {
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
	if err := s.srv.fail("data", s.msg.Seq); err != nil {
		return err
	}
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.msg.Data = data
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset() {
	user := s.msg.User
	s.msg = received{User: user}
}

func (s *session) Logout() error { return nil }

// temp and perm are SMTP refusals.
func temp(msg string) error {
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: msg}
}

func perm(msg string) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: msg}
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header     mail.Header
	Subject    string
	Text, HTML string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message: %v\n%s", err, data)
	}
	p := parsedMail{Header: m.Header}
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s: charset %q", ct, cp["charset"])
		}
		switch ct {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	if p.Text == "" || p.HTML == "" {
		t.Fatalf("message lacks a text or an HTML part:\n%s", data)
	}
	return p
}

// testCA makes a CA and a certificate it signs for names (IP addresses or
// host names); it returns the server's TLS config and the CA in PEM.
func testCA(t *testing.T, names ...string) (*tls.Config, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rolodav test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "smtp"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return cfg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// senderFor is a Sender for rawURL, PORT standing for the test server's.
func senderFor(t *testing.T, srv *smtpServer, rawURL string, ca []byte) *Sender {
	t.Helper()
	cfg, err := ParseURL(strings.ReplaceAll(rawURL, "PORT", strconv.Itoa(srv.Port)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.From, err = ParseFrom("rolodav <noreply@example.org>"); err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	if ca != nil {
		if err := cfg.AddCA(ca); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var smtpErr554 = smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused"}

// attemptsSoFar is the number of transactions begun.
func (s *smtpServer) attemptsSoFar() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}
