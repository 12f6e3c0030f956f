// Package mailer sends rolodav's security mails: it renders a queued
// store.Notice in the user's language (plain text and HTML) and hands it to
// an SMTP relay, from a Worker that drains the store's outbox. It is an
// edge: only the command wires it.
package mailer

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is where and how to reach the SMTP relay.
type Config struct {
	// TLS: implicit TLS (smtps://); else STARTTLS (smtp://), required
	// unless Host is a loopback address (see Loopback).
	TLS      bool
	Host     string
	Port     int
	Username string // "" = no SMTP AUTH
	Password string
	From     *mail.Address  // the sender of every mail (ParseFrom)
	RootCAs  *x509.CertPool // nil = the system's; see AddCA
	Timeout  time.Duration  // for each SMTP command; 0 = 30 s (Send's ctx bounds the whole)

	// dial, in tests, opens the TCP connection, to a relay elsewhere than
	// Host while Host keeps deciding the TLS policy and the name checked.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// errMalformed is every error of ParseURL where the password might be
// taken for another part of the URL.
var errMalformed = errors.New("smtp url: not of the form smtp[s]://[user:password@]host[:port] " +
	"(a path, query or fragment is not read); percent-encode / ? # @ : and % in the user name and password " +
	"(%2F %3F %23 %40 %3A %25)")

// Default ports.
const (
	PortSMTPS      = 465 // implicit TLS
	PortSubmission = 587 // STARTTLS
)

// ParseURL reads --smtp-url: smtps://[user:pass@]host[:port] for implicit
// TLS (port 465 by default) or smtp://[user:pass@]host[:port] for STARTTLS
// (port 587 by default). The user and password are percent-decoded (write
// "@" in a user name as %40). Errors never show the password, nor any part
// of the URL it may have been split into.
func ParseURL(raw string) (*Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's errors quote the URL or a piece of it ("invalid port
		// ...", "invalid URL escape ..."), which may be the password.
		return nil, errMalformed
	}
	c := &Config{}
	switch strings.ToLower(u.Scheme) {
	case "smtps":
		c.TLS, c.Port = true, PortSMTPS
	case "smtp":
		c.Port = PortSubmission
	case "":
		return nil, fmt.Errorf("smtp url: no scheme: write smtps://host (TLS) or smtp://host (STARTTLS)")
	default:
		return nil, fmt.Errorf("smtp url: scheme %q is not smtp (STARTTLS) or smtps (TLS)", u.Scheme)
	}
	switch {
	case u.Opaque != "":
		return nil, fmt.Errorf("smtp url: write %s://host, with two slashes", u.Scheme)
	case u.Path != "" && u.Path != "/", u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		// A / ? or # in the password cuts the URL there: not quoted back.
		return nil, errMalformed
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return nil, fmt.Errorf("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("smtp url: the port is not a number from 1 to 65535")
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" || c.Password == "" {
			return nil, fmt.Errorf("smtp url: credentials need both a user and a password (user:password@host)")
		}
	}
	return c, nil
}

// ParseFrom reads --smtp-from: an address, with or without a name
// ("rolodav <noreply@example.org>").
func ParseFrom(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("smtp from %q: %v", s, err)
	}
	if !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") {
		return nil, fmt.Errorf("smtp from %q: the domain of %s has no dot", s, a.Address)
	}
	return a, nil
}

// AddCA trusts the certificates of a PEM file (its contents) besides the
// system's, for a relay with a certificate of a private CA.
func (c *Config) AddCA(pem []byte) error {
	if c.RootCAs == nil {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		c.RootCAs = pool
	}
	if !c.RootCAs.AppendCertsFromPEM(pem) {
		return fmt.Errorf("smtp CA: no certificate in the PEM data")
	}
	return nil
}

// Loopback reports whether the relay is on this machine (localhost or a
// loopback address). There, smtp:// uses STARTTLS only when the relay
// offers it, and credentials may go in clear: nothing leaves the machine.
func (c *Config) Loopback() bool {
	if strings.EqualFold(c.Host, "localhost") {
		return true
	}
	ip := net.ParseIP(c.Host)
	return ip != nil && ip.IsLoopback()
}

// Redacted is the relay's URL for logs, the password hidden.
func (c *Config) Redacted() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.TLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	return u.String()
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 30 * time.Second
}
