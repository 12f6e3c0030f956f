package push

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"syscall"
	"time"

	"github.com/rolodav/rolodav/internal/netcheck"
)

// Limits of the client that delivers push messages.
const (
	// Push services answer within a second or two; a connection or a
	// request that takes longer is not worth waiting for (the message is
	// retried).
	dialTimeout    = 5 * time.Second
	requestTimeout = 10 * time.Second // a whole request, redirects included
	maxRedirects   = 3
	// maxResponse bounds what is read of a push service's answer: a status
	// and maybe a line of explanation.
	maxResponse = 4 << 10
)

// contentType is the draft's media type of a push message ("Push
// Message"); webpush-go sets application/octet-stream.
const contentType = `application/xml; charset="UTF-8"`

// client is the HTTP client of a Sender (webpush.HTTPClient). A push
// resource is a URL a client chose, so the server must not become a way
// into its own network: every connection, redirects included, goes only
// to public addresses (Public), checked after DNS resolution when
// connecting, so a name that resolves elsewhere when sending than when
// registering is caught. Without a proxy the dialer checks the address it
// connects to. With a proxy the client resolves the name itself, refuses
// it unless every address is public, asks the proxy to CONNECT to an
// address it checked (never to the name, which the proxy would resolve
// again, maybe to another address) and speaks TLS with the name through
// the tunnel. The proxy's own address is the operator's choice and is not
// checked. Options.AllowPrivate lifts these checks (and then the proxy
// connects as it will, plain http included).
type client struct {
	allowPrivate bool
	hc           *http.Client
}

// newClient is a client with opt's AllowPrivate and Proxy.
func newClient(opt Options) *client {
	c := &client{allowPrivate: opt.AllowPrivate}
	rt := &router{allowPrivate: opt.AllowPrivate, proxy: opt.Proxy, lookup: net.DefaultResolver.LookupNetIP}
	d := &net.Dialer{Timeout: dialTimeout}
	if !opt.AllowPrivate {
		d.Control = refusePrivate
	}
	rt.direct = newTransport(d.DialContext, nil)
	switch {
	case opt.Proxy == nil:
	case opt.AllowPrivate:
		rt.proxied = newTransport((&net.Dialer{Timeout: dialTimeout}).DialContext, opt.Proxy)
	default:
		// Without AllowPrivate every resource is https (CheckResource):
		// only DialTLSContext is ever called.
		rt.proxied = newTransport(func(context.Context, string, string) (net.Conn, error) {
			return nil, fmt.Errorf("%w: plain http through the proxy", ErrResource)
		}, nil)
		rt.proxied.DialTLSContext = rt.dialTunnel
	}
	c.hc = &http.Client{Transport: rt, Timeout: requestTimeout, CheckRedirect: c.checkRedirect}
	return c
}

func newTransport(dial func(ctx context.Context, network, addr string) (net.Conn, error), proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: requestTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
}

// Do sends a request webpush-go built: to a resource CheckResource still
// accepts (the options may have changed since it was registered), with
// the draft's Content-Type; the answer's body reads at most maxResponse
// bytes.
func (c *client) Do(req *http.Request) (*http.Response, error) {
	if _, err := checkResource(req.URL.String(), c.allowPrivate); err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{io.LimitReader(resp.Body, maxResponse), resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// checkRedirect follows at most maxRedirects redirects, each to a URL that
// CheckResource accepts, and none that turns the POST into a GET (301, 302
// and 303 do): the push service would not get the message.
func (c *client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrResource, maxRedirects)
	}
	if req.Method != via[0].Method {
		return fmt.Errorf("%w: a redirect that turns the %s into a %s", ErrResource, via[0].Method, req.Method)
	}
	if _, err := checkResource(req.URL.String(), c.allowPrivate); err != nil {
		return fmt.Errorf("redirect: %w", err)
	}
	return nil
}

// refusePrivate is the dialer's Control without a proxy: it sees the
// address a connection is about to be made to, after DNS resolution.
func refusePrivate(network, address string, c syscall.RawConn) error {
	if err := netcheck.Control(network, address, c); err != nil {
		return fmt.Errorf("%w: %w", ErrResource, err)
	}
	return nil
}

// router sends a request through the proxy when there is one for its URL,
// and directly otherwise (a proxy function may leave some hosts out).
type router struct {
	allowPrivate bool
	proxy        func(*http.Request) (*url.URL, error)
	lookup       func(ctx context.Context, network, host string) ([]netip.Addr, error)
	direct       *http.Transport
	proxied      *http.Transport // nil without a proxy
	roots        *x509.CertPool  // the CAs TLS through a tunnel trusts; nil: the system's
}

// proxyKey is the context key of the proxy a tunnel is dialled through:
// RoundTrip puts it there for dialTunnel.
type proxyKey struct{}

func (rt *router) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.proxied == nil {
		return rt.direct.RoundTrip(req)
	}
	p, err := rt.proxy(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if p == nil {
		return rt.direct.RoundTrip(req)
	}
	if !rt.allowPrivate {
		req = req.WithContext(context.WithValue(req.Context(), proxyKey{}, p))
	}
	return rt.proxied.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of both transports
// (http.Client.CloseIdleConnections calls it).
func (rt *router) CloseIdleConnections() {
	rt.direct.CloseIdleConnections()
	if rt.proxied != nil {
		rt.proxied.CloseIdleConnections()
	}
}

// dialTunnel is the DialTLSContext of the transport through the proxy
// without AllowPrivate: it resolves addr's host, refuses it unless every
// address is public, has the proxy connect to one of those addresses, and
// speaks TLS with the host through the tunnel.
func (rt *router) dialTunnel(ctx context.Context, _, addr string) (net.Conn, error) {
	p, _ := ctx.Value(proxyKey{}).(*url.URL)
	if p == nil {
		return nil, errors.New("push: no proxy to tunnel through")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	ips, err := rt.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		var conn net.Conn
		conn, err = rt.connect(ctx, p, net.JoinHostPort(ip.String(), port))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			continue // the next address
		}
		tc := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: rt.roots, NextProtos: []string{"h2", "http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("push: TLS with %s through the proxy: %w", host, err)
		}
		return tc, nil
	}
	return nil, err
}

// resolve returns host's addresses, IPv4 first, when every one is public.
func (rt *router) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = append(ips, ip)
	} else if ips, err = rt.lookup(ctx, "ip", host); err != nil {
		return nil, fmt.Errorf("push: resolving %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("push: %s resolves to no address", host)
	}
	for i, ip := range ips {
		if !netcheck.Public(ip) {
			return nil, fmt.Errorf("%w: %s resolves to %s, not a public address", ErrResource, host, ip)
		}
		ips[i] = ip.Unmap()
	}
	// Proxies reach IPv4 more often than IPv6.
	slices.SortStableFunc(ips, func(a, b netip.Addr) int {
		switch {
		case a.Is4() == b.Is4():
			return 0
		case a.Is4():
			return -1
		}
		return 1
	})
	return ips, nil
}

// connect opens a tunnel through proxy p to target (an address and port)
// with CONNECT.
func (rt *router) connect(ctx context.Context, p *url.URL, target string) (net.Conn, error) {
	paddr := p.Host
	if p.Port() == "" {
		paddr = net.JoinHostPort(p.Hostname(), defaultPorts[p.Scheme])
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", paddr)
	if err != nil {
		return nil, fmt.Errorf("push: connecting to the proxy: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if p.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: p.Hostname(), RootCAs: rt.roots})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("push: TLS with the proxy: %w", err)
		}
		conn = tc
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if u := p.User; u != nil {
		pw, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)))
	}
	br := bufio.NewReader(conn)
	err = req.Write(conn)
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(br, req)
	}
	switch {
	case err != nil:
		err = fmt.Errorf("push: CONNECT through the proxy: %w", err)
	case resp.StatusCode != http.StatusOK:
		err = fmt.Errorf("push: the proxy answered CONNECT with %s", resp.Status)
	case br.Buffered() > 0:
		// The push service speaks only once spoken to (TLS): anything
		// here came from the proxy.
		err = errors.New("push: the proxy sent more than its answer to CONNECT")
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return conn, nil
}
