package migrate

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
)

// namedHosts is a client that connects to the test servers by the names
// of hosts ("dav.example.test:80" → "127.0.0.1:41234").
func namedHosts(hosts map[string]string) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if a, ok := hosts[addr]; ok {
			addr = a
		}
		return d.DialContext(ctx, network, addr)
	}}}
}

// logins records the Authorization headers a server got, and answers 401
// to a request without one.
type logins struct {
	mu   sync.Mutex
	seen []string
}

func (l *logins) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.seen = append(l.seen, r.Header.Get("Authorization"))
	l.mu.Unlock()
	if r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="dav"`)
		http.Error(w, "who?", http.StatusUnauthorized)
		return
	}
	http.Error(w, "no", http.StatusNotFound)
}

func (l *logins) sent() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, a := range l.seen {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// The login goes only to the host given and the hosts under it (as
// net/http does on redirects), wherever the source's answers lead: a
// redirect, or home sets on another host. The person hears why the
// other host then asks for a login.
func TestLoginStaysOnTheGivenHost(t *testing.T) {
	other := &logins{}
	otherSrv := httptestServer(t, other)
	otherURL := "http://localhost:" + otherSrv.URL[strings.LastIndex(otherSrv.URL, ":")+1:]
	wantErr := "asks for a login: the login goes only to 127.0.0.1 and the hosts under it"

	t.Run("redirect", func(t *testing.T) {
		front := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, otherURL+r.URL.Path, http.StatusTemporaryRedirect)
		}))
		_, err := Open(context.Background(), SourceOptions{URL: front.URL, User: "ann", Password: "secret", AllowPrivate: true})
		se := sourceErr(t, err, Unauthorized)
		if !strings.Contains(se.Error(), wantErr) {
			t.Errorf("error: %v", err)
		}
	})
	t.Run("home sets", func(t *testing.T) {
		front := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := `<d:current-user-principal><d:href>/p/</d:href></d:current-user-principal>`
			if r.URL.Path == "/p/" {
				body = `<C:addressbook-home-set><d:href>` + otherURL + `/cards/</d:href></C:addressbook-home-set>`
			}
			multistatus(w, `<d:response><d:href>`+r.URL.Path+`</d:href><d:propstat><d:prop>`+body+
				`</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
		}))
		src, err := Open(context.Background(), SourceOptions{URL: front.URL, User: "ann", Password: "secret", AllowPrivate: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Collections(context.Background())
		se := sourceErr(t, err, Unauthorized)
		if !strings.Contains(se.Error(), wantErr) {
			t.Errorf("error: %v", err)
		}
	})
	if a := other.sent(); len(other.seen) == 0 || len(a) > 0 {
		t.Errorf("the other host got %d requests, with the login: %q", len(other.seen), a)
	}
}

// A source given as https sends nothing over plain http, wherever its
// answers lead: a redirect, a home set, an href in a listing (read with
// GET when the multiget is refused).
func TestNothingInTheClearFromHTTPS(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		io.WriteString(w, card("a", "A"))
	}))
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		prop := func(inner string) {
			multistatus(w, `<d:response><d:href>`+r.URL.Path+`</d:href><d:propstat><d:prop>`+inner+
				`</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
		}
		switch {
		case r.URL.Path == "/p/":
			prop(`<C:addressbook-home-set><d:href>` + plain.URL + `/cards/</d:href></C:addressbook-home-set>`)
		case r.Method == "PROPFIND" && r.URL.Path == "/book/":
			multistatus(w, member(plain.URL+"/book/a.vcf", "1"))
		case r.Method == "PROPFIND":
			prop(`<d:current-user-principal><d:href>/p/</d:href></d:current-user-principal>`)
		default: // the multiget: refused, so that the object is read with GET
			http.Error(w, "no", http.StatusBadRequest)
		}
	}))
	t.Cleanup(secure.Close)
	opt := SourceOptions{URL: secure.URL, User: "ann", Password: "secret", AllowPrivate: true, Insecure: true}

	src, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Collections(context.Background())
	se := sourceErr(t, err, PlainHTTP)
	if want := "the source, given as https, leads to " + plain.URL + "/cards/, a plain http URL: the login is not sent in the clear"; se.Error() != want {
		t.Errorf("home set:\n got  %v\n want %s", err, want)
	}

	book := &SourceCollection{URL: secure.URL + "/book/", Kind: store.KindCard, Name: "book"}
	_, _, err = src.Objects(context.Background(), book, "", func(*Fetched) error { return nil })
	sourceErr(t, err, PlainHTTP)

	moved := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	t.Cleanup(moved.Close)
	opt.URL = moved.URL
	_, err = Open(context.Background(), opt)
	if err == nil || !strings.Contains(err.Error(), "a plain http URL") {
		t.Errorf("redirect: %v", err)
	}
	if n := plainHits.Load(); n != 0 {
		t.Errorf("%d requests in the clear", n)
	}
}

// iCloud keeps an account on another host than the one people give
// (contacts.icloud.com → p42-contacts.icloud.com): the login goes to the
// hosts of the home sets the account's principal names over https.
func TestLoginGoesToHomesNamedOverHTTPS(t *testing.T) {
	homes := seeded(t, nil)
	homesTLS := httptest.NewTLSServer(homes.Config.Handler)
	t.Cleanup(homesTLS.Close)
	const homesURL = "https://p42-contacts.icloud.test"
	front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		body := `<d:current-user-principal><d:href>/1234/principal/</d:href></d:current-user-principal>`
		if r.URL.Path == "/1234/principal/" {
			body = `<C:addressbook-home-set><d:href>` + homesURL + `/dav/addressbooks/` + srcLogin + `/</d:href></C:addressbook-home-set>`
		}
		multistatus(w, `<d:response><d:href>`+r.URL.Path+`</d:href><d:propstat><d:prop>`+body+
			`</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`)
	}))
	t.Cleanup(front.Close)
	hc := namedHosts(map[string]string{"contacts.icloud.test:443": front.Listener.Addr().String(),
		"p42-contacts.icloud.test:443": homesTLS.Listener.Addr().String()})
	hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	src, err := Open(context.Background(), SourceOptions{URL: "https://contacts.icloud.test/", User: srcLogin, Password: srcPW, Client: hc})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := src.Collections(context.Background())
	if err != nil {
		t.Fatalf("collections on the home's host: %v", err)
	}
	got, _, _ := collect(t, src, find(t, cs, store.KindCard, "contacts"), "")
	if len(got) != 2 {
		t.Errorf("%d cards from the home's host, want 2", len(got))
	}
}
