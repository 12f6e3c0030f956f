package mailer

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"slices"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Sender hands mails to the SMTP relay, one connection per mail (security
// mails are rare).
type Sender struct {
	cfg  Config
	opts []gomail.Option // of every client; Send adds its dialer
	tls  *tls.Config
	log  *slog.Logger // what goes wrong after a delivery; see NewWorker
}

// NewSender checks cfg and prepares the client; it does not connect.
func NewSender(cfg *Config) (*Sender, error) {
	if cfg.Host == "" || cfg.Port == 0 {
		return nil, fmt.Errorf("smtp: no relay host or port")
	}
	if cfg.From == nil {
		return nil, fmt.Errorf("smtp: no sender address (--smtp-from)")
	}
	tlsConf := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.timeout()),
		gomail.WithTLSConfig(tlsConf),
	}
	switch {
	case cfg.TLS:
		// The dialer of Send speaks TLS from the first byte.
		opts = append(opts, gomail.WithSSL())
	case !cfg.Loopback():
		// Even without credentials: a STARTTLS offered in clear can be
		// stripped on the way, and the mail would travel readable.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		// A relay on this machine: STARTTLS when it offers it.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if cfg.Username != "" {
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if cfg.Loopback() {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtp %s: %w", cfg.Redacted(), err)
	}
	return &Sender{cfg: *cfg, opts: slices.Clip(opts), tls: tlsConf, log: slog.New(slog.DiscardHandler)}, nil
}

// String is the relay, for logs.
func (s *Sender) String() string { return s.cfg.Redacted() }

// PermanentError is a failure that trying again will not mend: the relay
// refused the recipient or the message with a 5xx reply, or the recipient
// is not an address.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports whether err is a PermanentError.
func Permanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Send mails a multipart/alternative message (text, then HTML) to one
// recipient, from Config.From, with a Date, a Message-ID and
// "Auto-Submitted: auto-generated" (RFC 3834: no auto-replies). A failure
// the relay gives for this message (5xx to RCPT TO or DATA) is a
// *PermanentError; any other (connection, TLS, authentication, a 4xx, a
// refused sender) may pass and is returned as is. ctx bounds the whole
// exchange: when it ends, the connection is closed and the error wraps
// ctx's. Once the relay has accepted the message (250 to its DATA), Send
// returns nil whatever comes after (RSET, QUIT, ctx), and logs a failure.
func (s *Sender) Send(ctx context.Context, to, subject, text, html string) error {
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return &PermanentError{fmt.Errorf("recipient %q: %v", to, err)}
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.cfg.From.String()); err != nil {
		return fmt.Errorf("sender %s: %w", s.cfg.From, err)
	}
	if err := m.To(rcpt.Address); err != nil {
		return &PermanentError{fmt.Errorf("recipient %q: %w", to, err)}
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageIDWithValue(messageID(s.cfg.From.Address))
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)

	// go-mail's timeout is per command; ctx bounds the whole exchange by
	// closing the connection when it ends, whatever go-mail waits for.
	var raw net.Conn
	var stop func() bool
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		c, conn, err := s.dial(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		raw, stop = c, context.AfterFunc(ctx, func() { c.Close() })
		return conn, nil
	}
	defer func() {
		if raw != nil {
			stop()
			raw.Close() // after a failed QUIT too
		}
	}()
	client, err := gomail.NewClient(s.cfg.Host, append(s.opts, gomail.WithDialContextFunc(dial))...)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.cfg.Redacted(), err)
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return s.failed(ctx, err)
	}
	err = client.SendWithSMTPClient(conn, m)
	if qerr := client.CloseWithSMTPClient(conn); err == nil {
		err = qerr
	}
	if m.IsDelivered() {
		// The relay took the message at the end of DATA: a failed RSET or
		// QUIT after it changes nothing, and trying again would send it
		// twice.
		if err != nil {
			s.log.Warn("security mail delivered, but the relay's connection ended badly", "relay", s.cfg.Redacted(), "to", rcpt.Address, "err", err)
		}
		return nil
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
			return &PermanentError{fmt.Errorf("smtp %s: %w", s.cfg.Redacted(), err)}
		}
	}
	return s.failed(ctx, err)
}

// failed words a temporary failure, naming ctx's end when that cut the
// exchange short.
func (s *Sender) failed(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return fmt.Errorf("smtp %s: %w: %v", s.cfg.Redacted(), e, err)
	}
	return fmt.Errorf("smtp %s: %w", s.cfg.Redacted(), err)
}

// dial connects to the relay (through Config.dial in tests), in TLS from
// the first byte for smtps. It returns the TCP connection, which closing
// ends the exchange at once, and the one to speak SMTP over.
func (s *Sender) dial(ctx context.Context, network, addr string) (raw, conn net.Conn, err error) {
	d := s.cfg.dial
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	if raw, err = d(ctx, network, addr); err != nil {
		return nil, nil, err
	}
	if !s.cfg.TLS {
		return raw, raw, nil
	}
	tc := tls.Client(raw, s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, nil, err
	}
	return raw, tc, nil
}

// messageID is a unique Message-ID in the sender's domain.
func messageID(from string) string {
	var b [16]byte
	rand.Read(b[:])
	return "rolodav." + hex.EncodeToString(b[:]) + "@" + from[strings.LastIndexByte(from, '@')+1:]
}
