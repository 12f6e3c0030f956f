package migrate

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/emersion/go-webdav"

	"github.com/rolodav/rolodav/internal/netcheck"
)

// Limits of the client that reads a source.
const (
	dialTimeout = 10 * time.Second
	tlsTimeout  = 10 * time.Second
	// headerTimeout is how long a request waits for the answer's status:
	// a big REPORT may take the source a while to start. There is no bound
	// on the whole request: answers stream.
	headerTimeout = 60 * time.Second
	// idleTimeout bounds a wait for more of an answer once it started: a
	// source that stops sending mid-answer fails rather than hold a
	// background migration forever.
	idleTimeout  = 2 * time.Minute
	maxRedirects = 5
	// maxDiscoveryAnswer bounds the answers read whole (discovery and the
	// lists of collections, which go-webdav decodes in memory).
	maxDiscoveryAnswer = 1 << 20
)

// newHTTPClient is the client made when SourceOptions.Client is nil.
// Without AllowPrivate every connection, redirects included, goes only
// to a public address, checked by the dialer after DNS resolution; a
// proxy from the environment is then not used either, since it would
// connect on our behalf to an address the dialer never sees.
func newHTTPClient(opt SourceOptions) *http.Client {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   tlsTimeout,
		ResponseHeaderTimeout: headerTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	if opt.AllowPrivate {
		tr.Proxy = http.ProxyFromEnvironment
	} else {
		d.Control = netcheck.Control
	}
	if opt.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return &http.Client{Transport: tr}
}

// client sends a source's requests: with its login, following redirects
// itself (http.Client turns a PROPFIND or REPORT redirected with 301, 302
// or 303 into a GET without its body; RFC 6764 well-known URLs redirect
// with exactly those), and turning what a person must hear of into a
// *SourceError.
type client struct {
	hc             *http.Client // never follows a redirect itself
	user, password string
	// idle bounds a wait for more of an answer (idleTimeout; tests
	// shorten it).
	idle time.Duration
}

func newClient(opt SourceOptions) *client {
	hc := opt.Client
	if hc == nil {
		hc = newHTTPClient(opt)
	}
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{hc: &own, user: opt.User, password: opt.Password, idle: idleTimeout}
}

// traceKey is the context key of a *url.URL that send sets to the URL
// that gave the final answer (after redirects): hrefs in it are relative
// to that one.
type traceKey struct{}

func withTrace(ctx context.Context) (context.Context, *url.URL) {
	u := new(url.URL)
	return context.WithValue(ctx, traceKey{}, u), u
}

// send sends req and follows up to maxRedirects redirects with the same
// method, headers and body. A 401 is a *SourceError (Unauthorized), as is
// a failure to connect; any other status is the caller's to judge. A read
// of the answer's body that waits longer than c.idle fails.
func (c *client) send(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := c.follow(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	b := &idleBody{ReadCloser: resp.Body, idle: c.idle, cancel: cancel}
	b.timer = time.AfterFunc(c.idle, func() { b.fired.Store(true); cancel() })
	b.timer.Stop()
	resp.Body = b
	return resp, nil
}

// idleBody is an answer's body whose reads fail once one waited longer
// than idle. Only the wait in Read counts: the time the migration spends
// between reads (importing what it read) does not.
type idleBody struct {
	io.ReadCloser
	idle   time.Duration
	timer  *time.Timer
	fired  atomic.Bool
	cancel context.CancelFunc // of the request
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.ReadCloser.Read(p)
	b.timer.Stop()
	if b.fired.Load() {
		return n, fmt.Errorf("the server sent nothing more for %v", b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// follow is send without the bound on reads.
func (c *client) follow(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for hops := 0; ; hops++ {
		if t, ok := ctx.Value(traceKey{}).(*url.URL); ok {
			*t = *req.URL
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, transportError(ctx, req, err)
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		case http.StatusUnauthorized:
			discard(resp)
			return nil, &SourceError{Problem: Unauthorized, URL: req.URL.String(), Method: req.Method, Status: resp.StatusCode, User: c.user}
		default:
			return resp, nil
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			return resp, nil
		}
		discard(resp)
		next, err := req.URL.Parse(loc)
		switch {
		case err != nil || next.Host == "" || next.Scheme != "http" && next.Scheme != "https":
			return nil, &SourceError{Problem: Failed, URL: req.URL.String(), Method: req.Method, Status: resp.StatusCode,
				Detail: fmt.Sprintf("a redirect to %q, which is not an http or https URL", loc)}
		case req.URL.Scheme == "https" && next.Scheme == "http":
			return nil, &SourceError{Problem: Failed, URL: req.URL.String(), Method: req.Method, Status: resp.StatusCode,
				Detail: fmt.Sprintf("a redirect from https to plain http (%s), which would send the password in the clear", next.Redacted())}
		case hops == maxRedirects:
			return nil, &SourceError{Problem: Failed, URL: req.URL.String(), Method: req.Method, Status: resp.StatusCode,
				Detail: fmt.Sprintf("more than %d redirects", maxRedirects)}
		}
		nr := req.Clone(ctx)
		nr.URL, nr.Host = next, ""
		if req.GetBody != nil {
			if nr.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		req = nr
	}
}

// discard closes resp's body after reading a little of it, so that the
// connection may serve another request.
func discard(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

// request sends one of our own requests: body is XML, depth the Depth
// header ("" for none).
func (c *client) request(ctx context.Context, method string, u *url.URL, depth string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, &SourceError{Problem: BadURL, URL: u.String(), Detail: err.Error()}
	}
	if body != nil {
		// Xandikos answers 415 to a body without an XML type.
		req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	}
	if depth != "" {
		req.Header.Set("Depth", depth)
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	return c.send(req)
}

// davClient is what go-webdav's clients send through: send, with every
// status that is not 2xx a *SourceError (go-webdav's own errors for them
// are of an internal type). go-webdav decodes answers whole, and
// encoding/xml takes some hundred times an answer's size in memory for
// one of deeply nested or countless elements: an answer is read first, up
// to maxDiscoveryAnswer bytes, and handed over only if checkXML passes.
type davClient struct{ c *client }

func (d davClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.send(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		discard(resp)
		return nil, &SourceError{Problem: Failed, URL: req.URL.String(), Method: req.Method, Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryAnswer+1))
	resp.Body.Close()
	if err == nil && len(body) > maxDiscoveryAnswer {
		err = fmt.Errorf("an answer longer than %d bytes", maxDiscoveryAnswer)
	}
	if err == nil {
		err = checkXML(body)
	}
	if err != nil {
		return nil, wrapErr(req.Context(), req.Method, req.URL, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// maxDiscoveryTokens bounds the XML tokens of an answer read whole: a
// home of a hundred collections has a few thousand.
const maxDiscoveryTokens = 50_000

// checkXML checks that b, XML or not, nests no deeper than maxXMLDepth
// and has at most maxDiscoveryTokens tokens.
func checkXML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	for n := 0; ; n++ {
		t, err := d.RawToken()
		if err != nil {
			return nil // the end, or XML that go-webdav will refuse
		}
		if n > maxDiscoveryTokens {
			return fmt.Errorf("more than %d XML tokens", maxDiscoveryTokens)
		}
		switch t.(type) {
		case xml.StartElement:
			if depth++; depth > maxXMLDepth {
				return errXMLTooDeep
			}
		case xml.EndElement:
			depth--
		}
	}
}

// webdavClient is the HTTP client for go-webdav: davClient with the login.
func (c *client) webdavClient() webdav.HTTPClient {
	if c.user == "" && c.password == "" {
		return davClient{c}
	}
	return webdav.HTTPClientWithBasicAuth(davClient{c}, c.user, c.password)
}

// transportError is the error of a request that got no answer: the
// context's when it is done, else a *SourceError saying why.
func transportError(ctx context.Context, req *http.Request, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var se *SourceError
	if errors.As(err, &se) {
		return se
	}
	e := &SourceError{Problem: Unreachable, URL: req.URL.String(), Method: req.Method, Err: err}
	var ae *netcheck.AddrError
	switch {
	case errors.As(err, &ae):
		e.Problem, e.Detail = Forbidden, ae.Addr.String()
	case certificateError(err) != nil:
		e.Problem, e.Err = BadCertificate, certificateError(err)
	case tlsError(err):
		e.Problem = BadCertificate
	}
	return e
}

// wrapErr is the error of a request whose answer could not be used: the
// context's when it is done, err itself when it is already a
// *SourceError, else one saying that the answer failed.
func wrapErr(ctx context.Context, method string, u *url.URL, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var se *SourceError
	if errors.As(err, &se) {
		return se
	}
	return &SourceError{Problem: Failed, URL: u.String(), Method: method, Err: err}
}
