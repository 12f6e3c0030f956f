package push

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The dialer's check refuses every address that is not public, whatever
// the name was.
func TestRefusePrivate(t *testing.T) {
	for _, a := range []string{"127.0.0.1:443", "[::1]:443", "10.1.2.3:443", "172.16.0.1:443", "192.168.1.1:443",
		"169.254.169.254:80", "[fe80::1%lo]:443", "[fd00::1]:443", "100.64.1.1:443", "0.0.0.0:443",
		"[::ffff:127.0.0.1]:443", "[::ffff:10.0.0.1]:443", "[::]:443", "224.0.0.1:443"} {
		if err := refusePrivate("tcp", a, nil); !errors.Is(err, ErrResource) {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, a := range []string{"93.184.216.34:443", "[2606:4700:4700::1111]:443", "8.8.8.8:8443"} {
		if err := refusePrivate("tcp", a, nil); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}

// connCounter is a test server that counts the connections it accepts.
func connCounter(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

func created(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }

// Without AllowPrivate the client's own transport refuses to connect to
// loopback, also when a name resolves there ("localhost"): the check is
// the dialer's, after resolution, not the URL's.
func TestDialRefusesLoopback(t *testing.T) {
	srv, conns := connCounter(t, http.HandlerFunc(created))
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c := newClient(Options{})
	direct := c.hc.Transport.(*router).direct
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		u := "http://" + host + ":" + strconv.Itoa(port) + "/push/x"
		req, _ := http.NewRequest("POST", u, strings.NewReader("x"))
		resp, err := direct.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrResource) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}
	// The whole client refuses before dialling: http, and a local name.
	req, _ := http.NewRequest("POST", srv.URL+"/push/x", strings.NewReader("x"))
	if _, err := c.Do(req); !errors.Is(err, ErrResource) {
		t.Errorf("Do: %v", err)
	}
}

// CheckRedirect: at most three, each to a resource CheckResource accepts,
// and never one that turns the POST into a GET.
func TestCheckRedirect(t *testing.T) {
	c := newClient(Options{})
	post, _ := http.NewRequest("POST", "https://push.example.org/a", nil)
	for _, cc := range []struct {
		method, url string
		via         int
		ok          bool
	}{
		{"POST", "https://push2.example.org/b", 1, true},
		{"POST", "https://push2.example.org/b", 3, true},
		{"POST", "https://push2.example.org/b", 4, false},
		{"GET", "https://push2.example.org/b", 1, false},
		{"POST", "http://push2.example.org/b", 1, false},
		{"POST", "https://127.0.0.1/b", 1, false},
		{"POST", "https://10.0.0.1/b", 1, false},
		{"POST", "https://169.254.169.254/latest/meta-data", 1, false},
		{"POST", "https://[::1]/b", 1, false},
		{"POST", "https://localhost/b", 1, false},
		{"POST", "https://intranet/b", 1, false},
	} {
		req, _ := http.NewRequest(cc.method, cc.url, nil)
		via := make([]*http.Request, cc.via)
		for i := range via {
			via[i] = post
		}
		err := c.checkRedirect(req, via)
		if cc.ok != (err == nil) || err != nil && !errors.Is(err, ErrResource) {
			t.Errorf("%s %s after %d: %v", cc.method, cc.url, cc.via, err)
		}
	}
}

// With AllowPrivate (test servers listen on 127.0.0.1) redirects that keep
// the POST are followed with the body, up to three; others fail.
func TestRedirects(t *testing.T) {
	var mu sync.Mutex
	var got []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+string(b)+" "+r.Header.Get("Content-Type"))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(target.Close)
	var hops atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		switch r.URL.Path {
		case "/307":
			http.Redirect(w, r, target.URL+"/done", http.StatusTemporaryRedirect)
		case "/308":
			http.Redirect(w, r, "/307", http.StatusPermanentRedirect)
		case "/302":
			http.Redirect(w, r, target.URL+"/done", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(Options{AllowPrivate: true})
	do := func(path string) (int, error) {
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader([]byte("msg")))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte("msg"))), nil }
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, p := range []string{"/307", "/308"} {
		if st, err := do(p); st != 201 || err != nil {
			t.Errorf("%s: %d %v", p, st, err)
		}
	}
	want := `POST /done msg application/xml; charset="UTF-8"`
	if len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("the target got %q", got)
	}
	if _, err := do("/302"); !errors.Is(err, ErrResource) {
		t.Errorf("302: %v", err)
	}
	hops.Store(0)
	if _, err := do("/loop"); !errors.Is(err, ErrResource) || hops.Load() != 4 {
		t.Errorf("loop: %v after %d requests", err, hops.Load())
	}
	if len(got) != 2 {
		t.Errorf("the target got %q", got)
	}
}

// A push service's answer is read up to maxResponse bytes.
func TestResponseLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		w.Write(bytes.Repeat([]byte("x"), 1<<20))
	}))
	t.Cleanup(srv.Close)
	c := newClient(Options{AllowPrivate: true})
	req, _ := http.NewRequest("POST", srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(b) != maxResponse {
		t.Fatalf("read %d bytes", len(b))
	}
}

// forwardProxy is an HTTP proxy for plain http requests that refuses
// CONNECT; it counts what it is asked.
func forwardProxy(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	p := httptest.NewServer(forwardProxyHandler(&n))
	t.Cleanup(p.Close)
	return p, &n
}

func forwardProxyHandler(n *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Method == http.MethodConnect {
			http.Error(w, "no tunnels here", http.StatusForbidden)
			return
		}
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

// With a proxy, requests go through it (AllowPrivate: the test servers are
// on loopback).
func TestProxy(t *testing.T) {
	target, conns := connCounter(t, http.HandlerFunc(created))
	proxy, asked := forwardProxy(t)
	pu, _ := url.Parse(proxy.URL)
	c := newClient(Options{AllowPrivate: true, Proxy: http.ProxyURL(pu)})
	req, _ := http.NewRequest("POST", target.URL+"/push/x", strings.NewReader("x"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || asked.Load() != 1 || conns.Load() != 1 {
		t.Fatalf("%d; proxy asked %d times, target saw %d connections", resp.StatusCode, asked.Load(), conns.Load())
	}
}

// With a proxy and without AllowPrivate, the client resolves the host
// itself and does not ask the proxy for a name that resolves to a private
// address; a public one goes to the proxy.
func TestProxyRefusesPrivateNames(t *testing.T) {
	proxy, asked := forwardProxy(t)
	pu, _ := url.Parse(proxy.URL)
	c := newClient(Options{Proxy: http.ProxyURL(pu)})
	rt := c.hc.Transport.(*router)
	dns := map[string][]netip.Addr{
		"inside.example.org":  {netip.MustParseAddr("10.0.0.5")},
		"mixed.example.org":   {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
		"outside.example.org": {netip.MustParseAddr("93.184.216.34")},
	}
	rt.lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if a, ok := dns[host]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}
	post := func(u string) error {
		req, _ := http.NewRequest("POST", u, strings.NewReader("x"))
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for _, h := range []string{"inside.example.org", "mixed.example.org"} {
		if err := post("https://" + h + "/push/x"); !errors.Is(err, ErrResource) {
			t.Errorf("%s: %v", h, err)
		}
	}
	if err := post("https://nowhere.example.org/push/x"); err == nil || errors.Is(err, ErrResource) {
		t.Errorf("an unknown name: %v", err)
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("the proxy was asked %d times", n)
	}
	// A public name is the proxy's to connect to (this one refuses).
	if err := post("https://outside.example.org/push/x"); err == nil || errors.Is(err, ErrResource) || asked.Load() != 1 {
		t.Errorf("outside: %v; proxy asked %d times", err, asked.Load())
	}
}

// A proxy function that leaves a host out sends it directly, through the
// dialer that refuses private addresses.
func TestProxyBypassChecked(t *testing.T) {
	target, conns := connCounter(t, http.HandlerFunc(created))
	c := newClient(Options{Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }})
	req, _ := http.NewRequestWithContext(context.Background(), "POST", target.URL, strings.NewReader("x"))
	resp, err := c.hc.Transport.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrResource) || conns.Load() != 0 {
		t.Fatalf("%v; %d connections", err, conns.Load())
	}
}

// tracked is a test server that counts its open connections.
func tracked(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	var open atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &open
}

// CloseIdleConnections (Run calls it when it ends) closes the kept-alive
// connections of both transports, direct and through the proxy.
func TestCloseIdleConnections(t *testing.T) {
	target, toTarget := tracked(t, http.HandlerFunc(created))
	proxy, toProxy := tracked(t, forwardProxyHandler(new(atomic.Int32)))
	pu, _ := url.Parse(proxy.URL)
	// The proxy function sends one path through the proxy, the other
	// directly.
	c := newClient(Options{AllowPrivate: true, Proxy: func(r *http.Request) (*url.URL, error) {
		if r.URL.Path == "/proxied" {
			return pu, nil
		}
		return nil, nil
	}})
	for _, p := range []string{"/direct", "/proxied"} {
		req, _ := http.NewRequest("POST", target.URL+p, strings.NewReader("x"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if toProxy.Load() != 1 || toTarget.Load() != 2 {
		t.Fatalf("%d connections to the proxy and %d to the target, want 1 and 2 (the client's and the proxy's)",
			toProxy.Load(), toTarget.Load())
	}
	c.hc.CloseIdleConnections()
	// The proxy's own connection to the target is the proxy's to close.
	deadline := time.Now().Add(10 * time.Second)
	for toProxy.Load() != 0 || toTarget.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after CloseIdleConnections %d connections to the proxy and %d to the target are open",
				toProxy.Load(), toTarget.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// IPv6 addresses that carry a private IPv4 address are refused by the
// dialer and by CheckResource (netcheck.Public has the table).
func TestRefuseEmbeddedIPv4(t *testing.T) {
	if err := refusePrivate("tcp", "[64:ff9b::a00:5]:443", nil); !errors.Is(err, ErrResource) {
		t.Errorf("the dialer: %v", err)
	}
	if _, err := checkResource("https://[2002:a00:5::1]/push", false); !errors.Is(err, ErrResource) {
		t.Errorf("CheckResource: %v", err)
	}
}

// connectProxy is an HTTP proxy that tunnels (CONNECT only), to the
// address its own resolver, names, gives for the host asked for; a host it
// has no address for gets 502 without a connection. It records the
// authorities it was asked to connect to, each followed by the
// Proxy-Authorization when there was one.
func connectProxy(t *testing.T, tlsToo bool, names map[string]string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var asked []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, strings.TrimSpace(r.Host+" "+r.Header.Get("Proxy-Authorization")))
		mu.Unlock()
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		host, port, _ := net.SplitHostPort(r.Host)
		addr, ok := names[host]
		if !ok {
			http.Error(w, "no route to "+host, http.StatusBadGateway)
			return
		}
		up, err := net.Dial("tcp", net.JoinHostPort(addr, port))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer up.Close()
		// The answer goes out after Hijack, not with WriteHeader before it:
		// Hijack would send it and only then stop the server's read-ahead,
		// which could by then hold the first byte of the client's TLS
		// handshake. Whatever the server read ahead is in brw.
		down, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer down.Close()
		if _, err := io.WriteString(down, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			return
		}
		go func() {
			io.Copy(up, brw.Reader)
			up.Close() // the client is gone: end the copy below too
		}()
		io.Copy(down, up)
	})
	var p *httptest.Server
	if tlsToo {
		p = httptest.NewTLSServer(h)
	} else {
		p = httptest.NewServer(h)
	}
	t.Cleanup(p.Close)
	return p, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(asked)
	}
}

// Through a proxy, the client resolves the push service's name, checks
// the addresses, and asks the proxy to connect to the address it checked,
// not to the name (the proxy would resolve it again); TLS inside the
// tunnel is with the push service's name, HTTP/2 when it speaks it. The
// proxy is http, or https with a user name and password.
func TestProxyConnectsToCheckedAddress(t *testing.T) {
	var sni, hostHeader, proto atomic.Value
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sni.Store(r.TLS.ServerName)
		hostHeader.Store(r.Host)
		proto.Store(r.Proto)
		w.WriteHeader(http.StatusCreated)
	}))
	target.EnableHTTP2 = true
	target.StartTLS()
	t.Cleanup(target.Close)
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	roots := x509.NewCertPool()
	roots.AddCert(target.Certificate())
	for _, tlsProxy := range []bool{false, true} {
		// The proxy's resolver reaches the "public" address on loopback.
		proxy, asked := connectProxy(t, tlsProxy, map[string]string{"93.184.216.34": "127.0.0.1"})
		pu, _ := url.Parse(proxy.URL)
		want := "93.184.216.34:" + port
		if tlsProxy {
			pu.User = url.UserPassword("ops", "s3cret")
			want += " Basic b3BzOnMzY3JldA=="
		}
		c := newClient(Options{Proxy: http.ProxyURL(pu)})
		rt := c.hc.Transport.(*router)
		rt.roots = roots
		rt.lookup = func(_ context.Context, _, host string) ([]netip.Addr, error) {
			if host != "example.com" {
				return nil, errors.New("no such host")
			}
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}
		req, _ := http.NewRequest("POST", "https://example.com:"+port+"/push/x", strings.NewReader("x"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("https proxy %v: %v; the proxy was asked %q", tlsProxy, err, asked())
		}
		resp.Body.Close()
		if got := asked(); resp.StatusCode != 201 || !slices.Equal(got, []string{want}) ||
			sni.Load() != "example.com" || hostHeader.Load() != "example.com:"+port || proto.Load() != "HTTP/2.0" {
			t.Errorf("https proxy %v: %d; the proxy was asked %q; the push service saw SNI %v, Host %v, %v",
				tlsProxy, resp.StatusCode, got, sni.Load(), hostHeader.Load(), proto.Load())
		}
	}
}

// DNS rebinding through a proxy: the client's resolver gives a public
// address, the proxy's an internal one. The proxy is asked for the address
// the client checked, so the internal service never gets a connection.
func TestProxyRebinding(t *testing.T) {
	internal, conns := connCounter(t, http.HandlerFunc(created))
	_, port, _ := net.SplitHostPort(internal.Listener.Addr().String())
	// The proxy's resolver: the second answer of a rebinding name server.
	proxy, asked := connectProxy(t, false, map[string]string{"rebind.example.org": "127.0.0.1"})
	pu, _ := url.Parse(proxy.URL)
	c := newClient(Options{Proxy: http.ProxyURL(pu)})
	c.hc.Transport.(*router).lookup = func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}
	req, _ := http.NewRequest("POST", "https://rebind.example.org:"+port+"/push/x", strings.NewReader("x"))
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if err == nil || conns.Load() != 0 || !slices.Equal(asked(), []string{"93.184.216.34:" + port}) {
		t.Fatalf("%v; the internal service got %d connections; the proxy was asked %q", err, conns.Load(), asked())
	}
}
