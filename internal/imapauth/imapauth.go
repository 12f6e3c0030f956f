// Package imapauth checks a login and password against an IMAP server, for
// signing in with the mail password.
//
// It speaks the few IMAP commands it needs (RFC 9051 and 3501: the
// greeting, CAPABILITY, STARTTLS, AUTHENTICATE PLAIN or LOGIN, LOGOUT)
// itself, over line I/O and crypto/tls, rather than through
// github.com/emersion/go-imap: its v2 is still a beta and v1 is no longer
// maintained, and a password check needs none of a mail client, only its own
// budgets: one deadline for the whole exchange and a bound on what is read.
//
// Errors wrap ErrRejected when the server refused the credentials and
// ErrUnavailable when it could not say (down, unreachable, certificate not
// verified, too slow, not speaking IMAP), so that a caller can answer 401 to
// one and 503 to the other. No error holds the password.
package imapauth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrRejected: the server refused the login and password.
	ErrRejected = errors.New("imap: login or password rejected")
	// ErrUnavailable: the server could not check them.
	ErrUnavailable = errors.New("imap: server unavailable")
)

// DefaultTimeout bounds a whole Verify when Server.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Dialer opens the TCP connection; *net.Dialer is one.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Server is an IMAP server that checks passwords.
type Server struct {
	Addr string // host:port
	// StartTLS upgrades a plain connection with STARTTLS, which the server
	// must offer; otherwise TLS starts with the first byte.
	StartTLS bool
	RootCAs  *x509.CertPool // nil: the system's roots
	Timeout  time.Duration  // the whole exchange; zero: DefaultTimeout
	Dialer   Dialer         // nil: a net.Dialer
}

// Parse reads the --auth URL: imaps://host[:993] for TLS from the first
// byte, imap://host[:143] or starttls://host[:143] for STARTTLS. imap:// on
// port 993 means TLS from the first byte, as that port is only ever used so.
func Parse(rawURL string) (*Server, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Without the URL, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("IMAP server URL: %w", err)
	}
	if u.User != nil {
		// Not quoted back: it may hold a password.
		return nil, errors.New("IMAP server URL: no login or password belongs in it; users give their own when they sign in")
	}
	s := &Server{}
	port := u.Port()
	switch u.Scheme {
	case "imaps":
		if port == "" {
			port = "993"
		}
	case "imap", "starttls":
		if port == "" {
			port = "143"
		}
		s.StartTLS = u.Scheme == "starttls" || port != "993"
	default:
		return nil, fmt.Errorf("IMAP server URL %q: the scheme must be imaps://, imap:// or starttls://", rawURL)
	}
	switch {
	case u.Opaque != "" || u.Hostname() == "":
		return nil, fmt.Errorf("IMAP server URL %q: want %s://host[:port]", rawURL, u.Scheme)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("IMAP server URL %q: a path has no meaning here", rawURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("IMAP server URL %q: a query or fragment has no meaning here", rawURL)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("IMAP server URL %q: the port must be 1 to 65535", rawURL)
	}
	s.Addr = net.JoinHostPort(u.Hostname(), port)
	return s, nil
}

// String gives the server as a URL, for logs.
func (s *Server) String() string {
	if s.StartTLS {
		return "starttls://" + s.Addr
	}
	return "imaps://" + s.Addr
}

// LoadCA returns the system's roots plus the PEM certificates in the file at
// path, for a mail server whose certificate a private CA signed.
func LoadCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("IMAP CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system roots here: the file's alone
	}
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("IMAP CA file %s: PEM block %d is a %s, not a CERTIFICATE", path, n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("IMAP CA file %s: certificate %d: %w", path, n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, fmt.Errorf("IMAP CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// Verify checks login and password with the server: nil when it accepted
// them, an error wrapping ErrRejected or ErrUnavailable otherwise. It returns
// by the server's Timeout and when ctx ends, with ctx's error wrapped.
func (s *Server) Verify(ctx context.Context, login, password string) error {
	return s.VerifyFrom(ctx, login, password, "")
}

// VerifyFrom is Verify for a client at clientAddr (an IP address; "" when
// unknown). Where the server offers ID (RFC 2971), the address is sent as
// "x-originating-ip" before signing in: a mail server that trusts rolodav
// (Dovecot's login_trusted_networks) then throttles and logs the client's
// address, not rolodav's, so one client's wrong passwords do not slow or
// ban every user who signs in through rolodav.
func (s *Server) VerifyFrom(ctx context.Context, login, password, clientAddr string) error {
	// IMAP cannot carry these (and SASL PLAIN separates fields with NUL);
	// an empty password is not worth a connection.
	if login == "" || password == "" || strings.ContainsAny(login+password, "\x00\r\n") {
		return fmt.Errorf("%w: an empty login or password, or one with NUL, CR or LF, is never sent", ErrRejected)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := &client{server: s, parent: ctx, timeout: timeout, left: maxTotal}
	if ip, err := netip.ParseAddr(clientAddr); err == nil {
		c.origin = ip.String()
	}
	var cancel context.CancelFunc
	c.ctx, cancel = context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.run(login, password)
}

// Check is Verify as auth.RemoteChecker wants it: true for an accepted
// password, false for a rejected one, an error when the server could not
// tell.
func (s *Server) Check(ctx context.Context, login, password, clientAddr string) (bool, error) {
	err := s.VerifyFrom(ctx, login, password, clientAddr)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrRejected):
		return false, nil
	default:
		return false, err
	}
}
