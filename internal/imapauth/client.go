package imapauth

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	maxLine  = 64 << 10 // one response line
	maxTotal = 1 << 20  // everything read in one exchange
	// logoutWait bounds the courtesy LOGOUT, so that it never holds up a
	// verdict already known.
	logoutWait = time.Second
)

var (
	errLongLine = fmt.Errorf("a response line longer than %d KiB", maxLine>>10)
	errTooMuch  = fmt.Errorf("more than %d KiB of responses", maxTotal>>10)
)

// client is one Verify exchange.
type client struct {
	server      *Server
	parent, ctx context.Context // the caller's; the caller's bounded by the timeout
	timeout     time.Duration

	conn net.Conn // the TCP connection, then the TLS one over it
	r    *bufio.Reader
	left int // bytes the exchange may still read

	caps   map[string]bool // upper-cased
	tag    int
	bye    string   // the text of an untagged BYE, said before closing
	secret []string // forms of the password never to repeat in an error
	origin string   // the client's IP address for ID; "" when unknown
}

// response is one line from the server.
type response struct {
	tag    string // "*" untagged, "+" continuation, or a command's tag
	status string // upper-cased: OK, NO, BAD, BYE, PREAUTH, CAPABILITY, ...
	code   string // the [response code], upper-cased, without brackets
	text   string // after the status
}

func (r response) String() string {
	s := r.status
	if r.code != "" {
		s += " [" + r.code + "]"
	}
	if r.text != "" {
		s += " " + r.text
	}
	return s
}

func (c *client) run(login, password string) error {
	c.secret = []string{password, quote(password)}
	d := c.server.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	raw, err := d.DialContext(c.ctx, "tcp", c.server.Addr)
	if err != nil {
		return c.fail("connect", err)
	}
	defer raw.Close()
	// A read blocked in the kernel sees neither ctx nor the deadline
	// otherwise.
	stop := context.AfterFunc(c.ctx, func() { raw.Close() })
	defer stop()
	if dl, ok := c.ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	c.conn = raw
	c.r = bufio.NewReader(budget{c})
	if !c.server.StartTLS {
		if err := c.handshake(); err != nil {
			return err
		}
	}
	if err := c.greeting(); err != nil {
		return err
	}
	if c.server.StartTLS {
		if err := c.startTLS(); err != nil {
			return err
		}
	}
	if c.origin != "" && c.caps["ID"] {
		if err := c.identify(); err != nil {
			return err
		}
	}
	err = c.authenticate(login, password)
	if err == nil || errors.Is(err, ErrRejected) {
		c.logout(raw)
	}
	return err
}

func (c *client) handshake() error {
	host, _, _ := net.SplitHostPort(c.server.Addr)
	tc := tls.Client(c.conn, &tls.Config{ServerName: host, RootCAs: c.server.RootCAs, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(c.ctx); err != nil {
		var unverified *tls.CertificateVerificationError
		if errors.As(err, &unverified) {
			return c.unavailable("TLS: the server's certificate could not be verified: %w", err)
		}
		return c.fail("TLS", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(budget{c})
	return nil
}

func (c *client) greeting() error {
	r, err := c.read()
	if err != nil {
		return c.fail("greeting", err)
	}
	if r.tag != "*" {
		return c.unavailable("not an IMAP greeting: %s", c.quote(r.tag+" "+r.String()))
	}
	switch r.status {
	case "OK":
	case "PREAUTH":
		return c.unavailable("the server greets as signed in already (PREAUTH): it is not set up to check passwords")
	case "BYE":
		return c.unavailable("the server refused the connection: %s", c.quote(r.text))
	default:
		return c.unavailable("not an IMAP greeting: %s", c.quote(r.String()))
	}
	if list, ok := strings.CutPrefix(r.code, "CAPABILITY "); ok {
		c.setCaps(list)
		return nil
	}
	return c.capability()
}

func (c *client) capability() error {
	c.caps = nil
	r, err := c.command("CAPABILITY")
	if err != nil {
		return err
	}
	if r.status != "OK" || c.caps == nil {
		return c.unavailable("CAPABILITY: %s", c.quote(r.String()))
	}
	return nil
}

func (c *client) startTLS() error {
	if !c.caps["STARTTLS"] {
		return c.unavailable("the server offers no STARTTLS, and the password is never sent in clear")
	}
	r, err := c.command("STARTTLS")
	if err != nil {
		return err
	}
	if r.status != "OK" {
		return c.unavailable("STARTTLS: %s", c.quote(r.String()))
	}
	// Bytes sent before the handshake would be read as if they came
	// through TLS (CVE-2011-0411 and kin).
	if c.r.Buffered() > 0 {
		return c.unavailable("the server sent more after its STARTTLS answer, before TLS")
	}
	if err := c.handshake(); err != nil {
		return err
	}
	// What was said in clear may have been forged: ask again.
	return c.capability()
}

// authenticate prefers AUTHENTICATE PLAIN (RFC 4616), which carries any
// UTF-8, and takes LOGIN when the server offers nothing else.
func (c *client) authenticate(login, password string) error {
	tag := c.next()
	if c.caps["AUTH=PLAIN"] {
		blob := base64.StdEncoding.EncodeToString([]byte("\x00" + login + "\x00" + password))
		c.secret = append(c.secret, blob)
		if c.caps["SASL-IR"] {
			if err := c.write(tag + " AUTHENTICATE PLAIN " + blob + "\r\n"); err != nil {
				return err
			}
		} else {
			if err := c.write(tag + " AUTHENTICATE PLAIN\r\n"); err != nil {
				return err
			}
			if r, err := c.reply(tag); err != nil || r.tag != "+" {
				return c.early(r, err)
			}
			if err := c.write(blob + "\r\n"); err != nil {
				return err
			}
		}
		return c.verdict(tag)
	}
	if c.caps["LOGINDISABLED"] {
		return c.unavailable("the server disables LOGIN and offers no AUTH=PLAIN")
	}
	cmd := tag + " LOGIN "
	for i, s := range []string{login, password} {
		if i > 0 {
			cmd += " "
		}
		if quotable(s) {
			cmd += quote(s)
			continue
		}
		// A synchronizing literal: the server says "+" before the bytes.
		if err := c.write(cmd + "{" + strconv.Itoa(len(s)) + "}\r\n"); err != nil {
			return err
		}
		if r, err := c.reply(tag); err != nil || r.tag != "+" {
			return c.early(r, err)
		}
		cmd = s
	}
	if err := c.write(cmd + "\r\n"); err != nil {
		return err
	}
	return c.verdict(tag)
}

// early judges a tagged answer that came before the whole command was
// sent: a refusal counts, an OK is nonsense.
func (c *client) early(r response, err error) error {
	if err != nil {
		return c.fail("sign-in", err)
	}
	if r.status == "OK" {
		return c.unavailable("the server said OK before it had the password")
	}
	return c.judge(r)
}

// verdict reads the answer to the sign-in command.
func (c *client) verdict(tag string) error {
	r, err := c.reply(tag)
	if err != nil {
		return c.fail("sign-in", err)
	}
	if r.tag == "+" {
		c.write("*\r\n") // cancels the exchange; PLAIN has no second step
		return c.unavailable("the server asked for more than SASL PLAIN gives")
	}
	return c.judge(r)
}

func (c *client) judge(r response) error {
	switch r.status {
	case "OK":
		return nil
	case "NO", "BAD":
		// RFC 5530's codes for "not now": the password was not judged.
		switch code, _, _ := strings.Cut(r.code, " "); code {
		case "UNAVAILABLE", "SERVERBUG", "LIMIT", "INUSE":
			return c.unavailable("the server could not check the password: %s", c.quote(r.String()))
		}
		return fmt.Errorf("%w by %s: %s", ErrRejected, c.server.Addr, c.quote(r.String()))
	}
	return c.unavailable("sign-in: %s", c.quote(r.String()))
}

// logout says goodbye, best effort: the verdict is known already.
func (c *client) logout(raw net.Conn) {
	dl := time.Now().Add(logoutWait)
	if d, ok := c.ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	raw.SetDeadline(dl)
	tag := c.next()
	if c.write(tag+" LOGOUT\r\n") == nil {
		c.reply(tag)
	}
}

// identify tells the server, with ID (RFC 2971), for whom rolodav asks.
// The server may refuse the ID: that changes nothing about the password.
func (c *client) identify() error {
	tag := c.next()
	if err := c.write(tag + ` ID ("name" "rolodav" "x-originating-ip" "` + c.origin + `")` + "\r\n"); err != nil {
		return err
	}
	r, err := c.reply(tag)
	if err != nil {
		return c.fail("ID", err)
	}
	if r.tag == "+" {
		return c.unavailable("ID: an unasked-for continuation")
	}
	return nil
}

// command sends a command without arguments and reads its tagged answer.
func (c *client) command(name string) (response, error) {
	tag := c.next()
	if err := c.write(tag + " " + name + "\r\n"); err != nil {
		return response{}, err
	}
	r, err := c.reply(tag)
	if err != nil {
		return r, c.fail(name, err)
	}
	if r.tag == "+" {
		return r, c.unavailable("%s: an unasked-for continuation", name)
	}
	return r, nil
}

// reply reads up to the tagged answer to tag or a continuation request,
// taking in the untagged responses on the way.
func (c *client) reply(tag string) (response, error) {
	for {
		r, err := c.read()
		if err != nil {
			return r, err
		}
		switch {
		case r.tag == tag || r.tag == "+":
			if list, ok := strings.CutPrefix(r.code, "CAPABILITY "); ok && r.tag == tag {
				c.setCaps(list)
			}
			return r, nil
		case r.tag != "*":
			return r, fmt.Errorf("an answer to a command never sent: %s", c.quote(r.tag+" "+r.String()))
		case r.status == "CAPABILITY":
			c.setCaps(r.text)
		case r.status == "BYE":
			c.bye = r.text
		}
	}
}

// read reads and splits one response line. Answers to the commands sent
// here carry no literals.
func (c *client) read() (response, error) {
	var line []byte
	for {
		part, err := c.r.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxLine {
			return response{}, errLongLine
		}
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return response{}, err
		}
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	if s == "+" || strings.HasPrefix(s, "+ ") {
		return response{tag: "+", text: strings.TrimPrefix(s, "+ ")}, nil
	}
	tag, rest, _ := strings.Cut(s, " ")
	status, text, _ := strings.Cut(rest, " ")
	r := response{tag: tag, status: strings.ToUpper(status), text: text}
	if r.tag == "" || r.status == "" {
		return r, fmt.Errorf("not an IMAP response: %s", c.quote(s))
	}
	if code, ok := strings.CutPrefix(text, "["); ok && r.status != "CAPABILITY" {
		if code, text, ok := strings.Cut(code, "]"); ok {
			r.code, r.text = strings.ToUpper(code), strings.TrimPrefix(text, " ")
		}
	}
	return r, nil
}

func (c *client) setCaps(list string) {
	c.caps = map[string]bool{}
	for _, f := range strings.Fields(list) {
		c.caps[strings.ToUpper(f)] = true
	}
}

func (c *client) next() string {
	c.tag++
	return "a" + strconv.Itoa(c.tag)
}

func (c *client) write(s string) error {
	if _, err := io.WriteString(c.conn, s); err != nil {
		return c.fail("send", err)
	}
	return nil
}

// fail words an I/O error, naming the caller's ctx error or the timeout
// when either ended the exchange.
func (c *client) fail(what string, err error) error {
	if e := c.parent.Err(); e != nil {
		return c.unavailable("%s: %w", what, e)
	}
	if c.ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return c.unavailable("%s: no answer within %v: %w", what, c.timeout, context.DeadlineExceeded)
	}
	if c.bye != "" && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)) {
		return c.unavailable("%s: the server said BYE %s", what, c.quote(c.bye))
	}
	return c.unavailable("%s: %w", what, err)
}

func (c *client) unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s: "+format, append([]any{ErrUnavailable, c.server.Addr}, args...)...)
}

// quote makes server text safe for an error: the password masked (a server
// may echo a command), control characters escaped, the length bounded.
func (c *client) quote(s string) string {
	for _, p := range c.secret {
		s = strings.ReplaceAll(s, p, "***")
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strconv.Quote(s)
}

// quotable tells whether s fits an IMAP quoted string: 7-bit, no CR or LF
// (NUL was refused before).
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == '\r' || s[i] == '\n' {
			return false
		}
	}
	return true
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// budget reads from the connection within what the exchange may still
// read, so that a server cannot keep Verify busy until the deadline.
type budget struct{ c *client }

func (b budget) Read(p []byte) (int, error) {
	if b.c.left <= 0 {
		return 0, errTooMuch
	}
	if len(p) > b.c.left {
		p = p[:b.c.left]
	}
	n, err := b.c.conn.Read(p)
	b.c.left -= n
	return n, err
}
