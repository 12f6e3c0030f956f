package push

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Limits of the client that delivers push messages.
const (
	dialTimeout    = 10 * time.Second
	requestTimeout = 30 * time.Second // a whole request, redirects included
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
// into its own network: without a proxy, every connection, redirects
// included, goes only to public addresses (Public), checked by the dialer
// after DNS resolution, so a name that resolves elsewhere when sending
// than when registering is caught. With a proxy, the proxy connects: the
// client resolves the host itself and refuses non-public addresses before
// handing the request over, but the proxy resolves the name again and may
// get another answer, so a proxy that can reach internal addresses should
// refuse them itself. Options.AllowPrivate lifts these checks.
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
	rt.direct = newTransport(d, nil)
	if opt.Proxy != nil {
		// The proxy is the operator's choice: it may be on a private
		// address.
		rt.proxied = newTransport(&net.Dialer{Timeout: dialTimeout}, opt.Proxy)
	}
	c.hc = &http.Client{Transport: rt, Timeout: requestTimeout, CheckRedirect: c.checkRedirect}
	return c
}

func newTransport(d *net.Dialer, proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           d.DialContext,
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
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read the address %q", ErrResource, address)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrResource, ap.Addr())
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
}

// CloseIdleConnections closes the idle connections of both transports
// (http.Client.CloseIdleConnections calls it).
func (rt *router) CloseIdleConnections() {
	rt.direct.CloseIdleConnections()
	if rt.proxied != nil {
		rt.proxied.CloseIdleConnections()
	}
}

func (rt *router) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.proxied == nil {
		return rt.direct.RoundTrip(req)
	}
	p, err := rt.proxy(req)
	if err == nil && p == nil {
		return rt.direct.RoundTrip(req)
	}
	if err == nil {
		err = rt.checkHost(req.Context(), req.URL.Hostname())
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return rt.proxied.RoundTrip(req)
}

// checkHost refuses a host that is, or resolves to, any address that is
// not public, before a proxy is asked to connect to it.
func (rt *router) checkHost(ctx context.Context, host string) error {
	if rt.allowPrivate {
		return nil
	}
	addrs := []netip.Addr{}
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, ip)
	} else {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		if addrs, err = rt.lookup(ctx, "ip", host); err != nil {
			return fmt.Errorf("push: resolving %s: %w", host, err)
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("push: %s resolves to no address", host)
	}
	for _, ip := range addrs {
		if !Public(ip) {
			return fmt.Errorf("%w: %s resolves to %s, not a public address", ErrResource, host, ip)
		}
	}
	return nil
}
