package dav_test

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/store"
)

const (
	bobBook = "/dav/addressbooks/bob@example.org/contacts/"

	// The subscription key and auth secret of RFC 8291's example, as a
	// UnifiedPush distributor hands them to DAVx5 (base64url, no padding).
	subKey  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	subAuth = "BTBZMqHH6r4Tts7J_aSIgg"

	davx5Agent = "DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/14"
)

// withPush turns push on, with the Service in *svc.
func withPush(t *testing.T, svc **push.Service, o push.Options) serverOpt {
	return func(c *dav.Config) {
		s, err := push.NewService(context.Background(), c.Store.(push.Store), o)
		if err != nil {
			t.Fatal(err)
		}
		c.Push = s
		if svc != nil {
			*svc = s
		}
	}
}

// davx5Register is the body DAVx5's PushRegistrationManager.subscribe
// sends, byte for byte: dav4jvm's XmlUtils.newSerializer is Android's
// KXmlSerializer, which writes the declaration with single quotes and
// invents the prefix n0 for the namespace it was given no prefix for.
// There is no trigger and no content-encoding; expires is now + 3 days.
func davx5Register(resource string, expires time.Time) string {
	return `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>` +
		`<n0:push-register xmlns:n0="https://bitfire.at/webdav-push"><n0:subscription><n0:web-push-subscription>` +
		`<n0:push-resource>` + resource + `</n0:push-resource>` +
		`<n0:subscription-public-key type="p256dh">` + subKey + `</n0:subscription-public-key>` +
		`<n0:auth-secret>` + subAuth + `</n0:auth-secret>` +
		`</n0:web-push-subscription></n0:subscription>` +
		`<n0:expires>` + expires.UTC().Format(http.TimeFormat) + `</n0:expires></n0:push-register>`
}

// register POSTs DAVx5's registration as user to path, with its headers.
func (s *server) register(user, path, resource string, expires time.Time) reply {
	s.t.Helper()
	return s.do("POST", path, user, davx5Register(resource, expires),
		"Content-Type: application/xml; charset=utf-8", "User-Agent: "+davx5Agent)
}

// registered checks a successful registration answer and returns its
// Location and Expires.
func registered(t *testing.T, r reply, status int) (string, time.Time) {
	t.Helper()
	r.expect(t, status)
	loc := r.header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil || !u.IsAbs() || u.Host == "" {
		t.Fatalf("Location %q is not an absolute URL", loc)
	}
	exp, err := http.ParseTime(r.header.Get("Expires"))
	if err != nil {
		t.Fatalf("Expires %q: %v", r.header.Get("Expires"), err)
	}
	return loc, exp
}

// token is the last segment of a registration URL.
func token(t *testing.T, loc string) string {
	t.Helper()
	i := strings.LastIndex(loc, "/dav/push/")
	if i < 0 {
		t.Fatalf("Location %q is not under /dav/push/", loc)
	}
	return loc[i+len("/dav/push/"):]
}

func pathOf(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.EscapedPath()
}

// queued claims the messages queued and returns the tokens of their
// registrations, dropping the messages so that the next write starts
// afresh.
func (s *server) queued() []string {
	s.t.Helper()
	ctx := context.Background()
	ds, _, err := s.st.ClaimPushes(ctx, time.Now(), time.Minute, 0, 100)
	if err != nil {
		s.t.Fatal(err)
	}
	var toks []string
	for i := range ds {
		toks = append(toks, ds[i].Registration.Token)
		if err := s.st.DropPush(ctx, &ds[i], false); err != nil {
			s.t.Fatal(err)
		}
	}
	slices.Sort(toks)
	return toks
}

// davError parses a DAV:error answer and returns the name of its
// precondition element.
func davErrorCond(t *testing.T, r reply) xml.Name {
	t.Helper()
	var e struct {
		Any []struct{ XMLName xml.Name } `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("not XML: %v\n%s", err, r.body)
	}
	for _, c := range e.Any {
		if c.XMLName.Space != "https://rolodav.org/ns/" {
			return c.XMLName
		}
	}
	t.Fatalf("no precondition in\n%s", r.body)
	return xml.Name{}
}

func TestPushOptions(t *testing.T) {
	off := newServer(t)
	on := newServer(t, withPush(t, nil, push.Options{}))
	for _, p := range []string{home, book, calHome, cal, tasks} {
		r := on.do("OPTIONS", p, "", "").expect(t, http.StatusOK)
		if !strings.Contains(r.header.Get("DAV"), "webdav-push") || !strings.Contains(r.header.Get("Allow"), "POST") {
			t.Errorf("push on, OPTIONS %s: DAV %q, Allow %q", p, r.header.Get("DAV"), r.header.Get("Allow"))
		}
		r = off.do("OPTIONS", p, "", "").expect(t, http.StatusOK)
		if strings.Contains(r.header.Get("DAV"), "webdav-push") || strings.Contains(r.header.Get("Allow"), "POST") {
			t.Errorf("push off, OPTIONS %s: DAV %q, Allow %q", p, r.header.Get("DAV"), r.header.Get("Allow"))
		}
	}
	for _, p := range []string{"/", "/dav/", "/dav/principals/alice@example.org/", "/dav/addressbooks/", book + "x.vcf"} {
		r := on.do("OPTIONS", p, "", "").expect(t, http.StatusOK)
		if strings.Contains(r.header.Get("DAV"), "webdav-push") {
			t.Errorf("OPTIONS %s: DAV %q advertises push", p, r.header.Get("DAV"))
		}
	}
}

// pushPropsDoc is a multistatus parsed for the push properties, by
// namespace as DAVx5 parses it, whatever the prefixes.
type pushPropsDoc struct {
	Responses []struct {
		Href      string `xml:"DAV: href"`
		Propstats []struct {
			Prop struct {
				Transports *struct {
					WebPush *struct {
						Key *struct {
							Type  string `xml:"type,attr"`
							Value string `xml:",chardata"`
						} `xml:"https://bitfire.at/webdav-push vapid-public-key"`
					} `xml:"https://bitfire.at/webdav-push web-push"`
				} `xml:"https://bitfire.at/webdav-push transports"`
				Topic    *string `xml:"https://bitfire.at/webdav-push topic"`
				Triggers *struct {
					Content *struct {
						Depth string `xml:"DAV: depth"`
					} `xml:"https://bitfire.at/webdav-push content-update"`
					Property *struct {
						Depth string `xml:"DAV: depth"`
					} `xml:"https://bitfire.at/webdav-push property-update"`
				} `xml:"https://bitfire.at/webdav-push supported-triggers"`
			} `xml:"DAV: prop"`
			Status string `xml:"DAV: status"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

// pushValues are the push properties of one response found with 200.
type pushValues struct {
	keyType, key, topic, content, property string
	transports, triggers                   bool
}

func parsePushProps(t *testing.T, r reply) map[string]pushValues {
	t.Helper()
	if r.status != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body:\n%s", r.status, r.body)
	}
	var d pushPropsDoc
	if err := xml.Unmarshal([]byte(r.body), &d); err != nil {
		t.Fatalf("bad multistatus: %v\n%s", err, r.body)
	}
	out := map[string]pushValues{}
	for _, resp := range d.Responses {
		var v pushValues
		for _, ps := range resp.Propstats {
			if ps.Status != "HTTP/1.1 200 OK" {
				continue
			}
			p := ps.Prop
			if p.Transports != nil {
				v.transports = true
				if p.Transports.WebPush != nil && p.Transports.WebPush.Key != nil {
					v.keyType, v.key = p.Transports.WebPush.Key.Type, p.Transports.WebPush.Key.Value
				}
			}
			if p.Topic != nil {
				v.topic = *p.Topic
			}
			if p.Triggers != nil {
				v.triggers = true
				if p.Triggers.Content != nil {
					v.content = p.Triggers.Content.Depth
				}
				if p.Triggers.Property != nil {
					v.property = p.Triggers.Property.Depth
				}
			}
		}
		out[resp.Href] = v
	}
	return out
}

const (
	pushPropsXML = `<P:transports xmlns:P="https://bitfire.at/webdav-push"/><P:topic xmlns:P="https://bitfire.at/webdav-push"/>`
	triggersXML  = `<P:supported-triggers xmlns:P="https://bitfire.at/webdav-push"/>`
)

func TestPushProperties(t *testing.T) {
	var svc *push.Service
	s := newServer(t, withPush(t, &svc, push.Options{}))
	ctx := context.Background()
	key, err := svc.Key(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.put(alice, book+"a.vcf", card("a", "A")).expect(t, http.StatusCreated)
	// DAVx5 lists the collections of each home with PROPFIND Depth 1.
	davx5 := propfindBody("<D:current-user-privilege-set/><D:displayname/><D:owner/><D:resourcetype/>" + pushPropsXML + "<C:addressbook-description/>")
	topics := map[string]bool{}
	for _, tc := range []struct {
		home  string
		kind  store.Kind
		colls []string
	}{{home, store.KindCard, []string{book}}, {calHome, store.KindCal, []string{cal, tasks}}} {
		got := parsePushProps(t, s.do("PROPFIND", tc.home, alice, davx5, "Depth: 1"))
		for _, href := range append([]string{tc.home}, tc.colls...) {
			v, ok := got[href]
			if !ok {
				t.Fatalf("no response for %s", href)
			}
			if v.keyType != "p256ecdsa" || v.key != key.Public {
				t.Errorf("%s: transports %+v, want the VAPID key %s", href, v, key.Public)
			}
			raw, err := base64.RawURLEncoding.DecodeString(v.key)
			if err == nil {
				_, err = ecdh.P256().NewPublicKey(raw)
			}
			if err != nil {
				t.Errorf("%s: the VAPID key is no uncompressed P-256 point in base64url: %v", href, err)
			}
			want := svc.HomeTopic(alice, tc.kind)
			if href != tc.home {
				c, err := s.st.GetCollection(ctx, alice, tc.kind, strings.Split(href, "/")[4])
				if err != nil {
					t.Fatal(err)
				}
				want = svc.CollectionTopic(c.ID)
			}
			if v.topic != want || topics[v.topic] {
				t.Errorf("%s: topic %q, want %q, unique", href, v.topic, want)
			}
			topics[v.topic] = true
		}
	}
	// The topic does not change.
	if v := parsePushProps(t, s.do("PROPFIND", book, alice, propfindBody(pushPropsXML), "Depth: 0"))[book]; !topics[v.topic] {
		t.Errorf("the topic of %s changed to %q", book, v.topic)
	}

	for _, tc := range []struct {
		href, content, property string
	}{{book, "1", "0"}, {cal, "1", "0"}, {tasks, "1", "0"}, {home, "1", ""}, {calHome, "1", ""}} {
		v := parsePushProps(t, s.do("PROPFIND", tc.href, alice, propfindBody(triggersXML), "Depth: 0"))[tc.href]
		if !v.triggers || v.content != tc.content || v.property != tc.property {
			t.Errorf("%s: supported-triggers %+v, want content %q property %q", tc.href, v, tc.content, tc.property)
		}
	}

	// Not on objects, principals, the root; not for allprop.
	for _, p := range []string{book + "a.vcf", "/dav/principals/alice@example.org/", "/dav/", "/dav/addressbooks/"} {
		r := parseMS(t, s.do("PROPFIND", p, alice, propfindBody(pushPropsXML+triggersXML), "Depth: 0")).response(t, p)
		for _, n := range []string{"transports", "topic", "supported-triggers"} {
			if _, st, _ := r.prop(nsPush, n); st != "HTTP/1.1 404 Not Found" {
				t.Errorf("%s: %s has status %q, want 404", p, n, st)
			}
		}
	}
	all := parseMS(t, s.do("PROPFIND", book, alice, `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, "Depth: 0")).response(t, book)
	if _, _, found := all.prop(nsPush, "topic"); found {
		t.Error("allprop gave the push topic")
	}
	names := parseMS(t, s.do("PROPFIND", book, alice, `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`, "Depth: 0")).response(t, book)
	for _, n := range []string{"transports", "topic", "supported-triggers"} {
		if _, _, found := names.prop(nsPush, n); !found {
			t.Errorf("propname lacks %s", n)
		}
	}
	// They are live properties: PROPPATCH cannot set them.
	patch := `<D:propertyupdate xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push"><D:set><D:prop><P:topic>mine</P:topic></D:prop></D:set></D:propertyupdate>`
	pr := parseMS(t, s.do("PROPPATCH", book, alice, patch)).response(t, book)
	if _, st, _ := pr.prop(nsPush, "topic"); st != "HTTP/1.1 403 Forbidden" {
		t.Errorf("PROPPATCH of topic: %q, want 403", st)
	}
}

func TestPushOff(t *testing.T) {
	s := newServer(t)
	r := parseMS(t, s.do("PROPFIND", book, alice, propfindBody(`<P:topic xmlns:P="https://bitfire.at/webdav-push"/>`), "Depth: 0")).response(t, book)
	if _, st, _ := r.prop(nsPush, "topic"); st != "HTTP/1.1 404 Not Found" {
		t.Errorf("push off: topic has status %q", st)
	}
	// POST is refused as it was before push, and registration URLs do not exist.
	post := s.register(alice, book, "https://push.example.net/x", time.Now().Add(72*time.Hour)).expect(t, http.StatusMethodNotAllowed)
	if strings.Contains(post.header.Get("Allow"), "POST") {
		t.Errorf("Allow %q", post.header.Get("Allow"))
	}
	s.do("DELETE", "/dav/push/abc", alice, "").expect(t, http.StatusNotFound)
}

// TestPushRegisterLikeDAVx5 replays DAVx5's requests: registration,
// registering again a day later, a write with Push-Dont-Notify, removal.
func TestPushRegisterLikeDAVx5(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	ctx := context.Background()
	requested := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	loc, exp := registered(t, s.register(alice, book, "https://push.example.net/up/AbC", requested), http.StatusCreated)
	if !strings.HasPrefix(loc, s.URL+"/dav/push/") {
		t.Errorf("Location %q, want under %s/dav/push/", loc, s.URL)
	}
	if !exp.Equal(requested) {
		t.Errorf("Expires %v, want the requested %v", exp, requested)
	}
	reg, err := s.st.GetPushRegistration(ctx, alice, token(t, loc))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.st.GetCollection(ctx, alice, store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	if reg.Collection != c.ID || reg.Resource != "https://push.example.net/up/AbC" || reg.PublicKey != subKey || reg.AuthSecret != subAuth ||
		!reg.Content || !reg.Property || reg.Client != davx5Agent || !reg.Expires.Equal(requested) {
		t.Errorf("stored %+v", reg)
	}

	// Registering the same push resource again updates the registration.
	later := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	loc2, exp2 := registered(t, s.register(alice, book, "https://push.example.net/up/AbC", later), http.StatusNoContent)
	if loc2 != loc || !exp2.Equal(later) {
		t.Errorf("again: Location %q, Expires %v; want %q, %v", loc2, exp2, loc, later)
	}

	// DAVx5 names its registration in Push-Dont-Notify on its own writes.
	other, _ := registered(t, s.register(alice, book, "https://push.example.net/up/Other", requested), http.StatusCreated)
	s.queued()
	s.put(alice, book+"a.vcf", card("a", "A"), `Push-Dont-Notify: "`+loc+`"`).expect(t, http.StatusCreated)
	if got := s.queued(); !slices.Equal(got, []string{token(t, other)}) {
		t.Errorf("after a PUT that skips %s: queued %v, want only %s", token(t, loc), got, token(t, other))
	}

	s.do("DELETE", pathOf(t, loc), alice, "").expect(t, http.StatusNoContent)
	s.do("DELETE", pathOf(t, loc), alice, "").expect(t, http.StatusNotFound)
	if _, err := s.st.GetPushRegistration(ctx, alice, token(t, loc)); err == nil {
		t.Error("the registration is still there")
	}
}

// A push resource is stored in the form its origin serializes (RFC 6454:
// lower-case scheme and host, no default port), the path as it was: one
// resource in two spellings is one registration, and the VAPID audience
// is its origin.
func TestPushRegisterNormalisesResource(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	exp := time.Now().Add(time.Hour)
	loc, _ := registered(t, s.register(alice, book, "HTTPS://Push.Example.NET:443/up/AbC", exp), http.StatusCreated)
	reg, err := s.st.GetPushRegistration(context.Background(), alice, token(t, loc))
	if err != nil {
		t.Fatal(err)
	}
	if reg.Resource != "https://push.example.net/up/AbC" {
		t.Fatalf("stored %q", reg.Resource)
	}
	again, _ := registered(t, s.register(alice, book, "https://push.example.net/up/AbC", exp), http.StatusNoContent)
	if again != loc {
		t.Fatalf("Location %q, want %q", again, loc)
	}
}

// A registration URL is absolute under the public base URL, and works
// as such in Push-Dont-Notify.
func TestPushPublicURL(t *testing.T) {
	public, _ := url.Parse("https://dav.example.org/rolo/")
	s := newServer(t, withPush(t, nil, push.Options{}), func(c *dav.Config) { c.Prefix, c.PublicURL = "/rolo", public })
	loc, _ := registered(t, s.register(alice, "/rolo"+book, "https://push.example.net/one", time.Now().Add(time.Hour)), http.StatusCreated)
	if !strings.HasPrefix(loc, "https://dav.example.org/rolo/dav/push/") {
		t.Fatalf("Location %q", loc)
	}
	two, _ := registered(t, s.register(alice, "/rolo"+book, "https://push.example.net/two", time.Now().Add(time.Hour)), http.StatusCreated)
	s.put(alice, "/rolo"+book+"a.vcf", card("a", "A"), `Push-Dont-Notify: "`+loc+`"`).expect(t, http.StatusCreated)
	if got := s.queued(); !slices.Equal(got, []string{token(t, two)}) {
		t.Errorf("queued %v, want only %s", got, token(t, two))
	}
	s.do("DELETE", "/rolo/dav/push/"+token(t, loc), alice, "").expect(t, http.StatusNoContent)
}

func TestPushRegisterHomesAndCalendars(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	ctx := context.Background()
	for _, p := range []string{home, calHome, cal, tasks} {
		loc, _ := registered(t, s.register(alice, p, "https://push.example.net/x", time.Now().Add(time.Hour)), http.StatusCreated)
		reg, err := s.st.GetPushRegistration(ctx, alice, token(t, loc))
		if err != nil {
			t.Fatal(err)
		}
		isHome := p == home || p == calHome
		if isHome != (reg.Collection == 0) || !reg.Content || reg.Property == isHome {
			t.Errorf("%s: stored %+v", p, reg)
		}
		if isHome && reg.Home != map[string]store.Kind{home: store.KindCard, calHome: store.KindCal}[p] {
			t.Errorf("%s: home %q", p, reg.Home)
		}
	}
	// A home has content updates only.
	body := strings.Replace(davx5Register("https://push.example.net/y", time.Now().Add(time.Hour)), "<n0:expires>",
		"<n0:trigger><n0:property-update><D:depth xmlns:D=\"DAV:\">0</D:depth></n0:property-update></n0:trigger><n0:expires>", 1)
	r := s.do("POST", home, alice, body, "Content-Type: application/xml").expect(t, http.StatusForbidden)
	if c := davErrorCond(t, r); c != (xml.Name{Space: nsPush, Local: "no-trigger-supported"}) {
		t.Errorf("condition %v", c)
	}
	// A collection that does not exist.
	s.register(alice, "/dav/addressbooks/alice@example.org/nope/", "https://push.example.net/x", time.Now().Add(time.Hour)).expect(t, http.StatusNotFound)
}

func TestPushRegisterRefused(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	exp := time.Now().Add(time.Hour)
	s.put(alice, book+"a.vcf", card("a", "A")).expect(t, http.StatusCreated)

	// Another user's collection or home: as any write there.
	put := s.put(bob, book+"b.vcf", card("b", "B"))
	for _, p := range []string{book, home} {
		r := s.register(bob, p, "https://push.example.net/x", exp)
		if r.status != put.status || put.status != http.StatusNotFound {
			t.Errorf("bob registers on %s: %d; bob's PUT there: %d", p, r.status, put.status)
		}
	}
	// Another user's registration URL.
	loc, _ := registered(t, s.register(alice, book, "https://push.example.net/x", exp), http.StatusCreated)
	s.do("DELETE", pathOf(t, loc), bob, "").expect(t, http.StatusNotFound)
	s.do("DELETE", pathOf(t, loc), "", "").expect(t, http.StatusUnauthorized)
	// Bob naming it in Push-Dont-Notify does not silence it.
	bobLoc, _ := registered(t, s.register(bob, bobBook, "https://push.example.net/bob", exp), http.StatusCreated)
	s.queued()
	s.put(bob, bobBook+"b.vcf", card("b", "B"), `Push-Dont-Notify: "`+loc+`"`).expect(t, http.StatusCreated)
	s.put(alice, book+"c.vcf", card("c", "C"), `Push-Dont-Notify: "`+bobLoc+`"`).expect(t, http.StatusCreated)
	want := []string{token(t, loc), token(t, bobLoc)}
	slices.Sort(want)
	if got := s.queued(); !slices.Equal(got, want) {
		t.Errorf("queued %v, want %v", got, want)
	}
	s.do("DELETE", pathOf(t, loc), alice, "").expect(t, http.StatusNoContent)

	// Other methods on a registration URL.
	for _, m := range []string{"GET", "PUT", "PROPFIND", "POST"} {
		r := s.do(m, pathOf(t, bobLoc), bob, "").expect(t, http.StatusMethodNotAllowed)
		if r.header.Get("Allow") != "OPTIONS, DELETE" {
			t.Errorf("%s: Allow %q", m, r.header.Get("Allow"))
		}
	}
	s.do("DELETE", "/dav/push/", bob, "").expect(t, http.StatusNotFound)

	// Where push is not available.
	for _, p := range []string{book + "a.vcf", "/dav/principals/alice@example.org/", "/dav/", "/dav/addressbooks/"} {
		r := s.register(alice, p, "https://push.example.net/x", exp).expect(t, http.StatusForbidden)
		if c := davErrorCond(t, r); c != (xml.Name{Space: nsPush, Local: "push-not-available"}) {
			t.Errorf("%s: condition %v", p, c)
		}
	}
	// A POST that is not push-register is refused as before push.
	for _, tc := range []struct{ ct, body string }{
		{"text/plain", davx5Register("https://push.example.net/x", exp)},
		{"", davx5Register("https://push.example.net/x", exp)},
		{"application/xml", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`},
		{"application/xml", ``},
	} {
		r := s.do("POST", book, alice, tc.body, "Content-Type: "+tc.ct).expect(t, http.StatusMethodNotAllowed)
		if strings.Contains(r.header.Get("Allow"), "POST") || !strings.Contains(r.header.Get("Allow"), "PROPFIND") {
			t.Errorf("Allow %q", r.header.Get("Allow"))
		}
	}
	s.do("POST", book, alice, `<n0:push-register xmlns:n0="https://bitfire.at/webdav-push">`, "Content-Type: application/xml").
		expect(t, http.StatusBadRequest)
}

func TestPushInvalidSubscription(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	exp := time.Now().Add(time.Hour)
	valid := davx5Register("https://push.example.net/x", exp)
	for _, tc := range []struct{ name, body string }{
		{"key off the curve", strings.Replace(valid, subKey, subKey[:len(subKey)-2]+"AA", 1)},
		{"short auth secret", strings.Replace(valid, subAuth, subAuth[:16], 1)},
		{"no key", strings.Replace(valid, `<n0:subscription-public-key type="p256dh">`+subKey+`</n0:subscription-public-key>`, "", 1)},
		{"plain http", davx5Register("http://push.example.net/x", exp)},
		{"private address", davx5Register("https://192.168.1.20/x", exp)},
		{"loopback", davx5Register("https://[::1]:8443/x", exp)},
		{"local name", davx5Register("https://localhost/x", exp)},
		{"no resource", strings.Replace(valid, "<n0:push-resource>https://push.example.net/x</n0:push-resource>", "", 1)},
		{"aesgcm", strings.Replace(valid, "<n0:auth-secret>", "<n0:content-encoding>aesgcm</n0:content-encoding><n0:auth-secret>", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", book, alice, tc.body, "Content-Type: application/xml; charset=utf-8").expect(t, http.StatusForbidden)
			if c := davErrorCond(t, r); c != (xml.Name{Space: nsPush, Local: "invalid-subscription"}) {
				t.Errorf("condition %v", c)
			}
			if !strings.Contains(r.body, "<R:message>") {
				t.Errorf("no message in\n%s", r.body)
			}
		})
	}
	if regs, err := s.st.ListPushRegistrations(context.Background(), alice); err != nil || len(regs) != 0 {
		t.Errorf("registrations %v, %v; want none", regs, err)
	}
	// The same with private addresses allowed (a self-hosted push server).
	lan := newServer(t, withPush(t, nil, push.Options{AllowPrivate: true}))
	registered(t, lan.register(alice, book, "http://192.168.1.20:8080/x", exp), http.StatusCreated)
}

// Push-Dont-Notify: * skips every registration; the hints the server set
// before (the sender's wake-up) are kept.
func TestPushDontNotify(t *testing.T) {
	var woken atomic.Int32
	var cfg dav.Config
	base := newServer(t, withPush(t, nil, push.Options{}), func(c *dav.Config) { cfg = *c })
	// As the server's middleware does: every request carries the wake-up.
	wake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := store.WithPushHints(r.Context(), store.PushHints{Wake: func() { woken.Add(1) }})
		dav.New(cfg).ServeHTTP(w, r.WithContext(ctx))
	})
	s := &server{Server: httptest.NewServer(wake), st: base.st, t: t}
	t.Cleanup(s.Close)
	exp := time.Now().Add(time.Hour)
	one, _ := registered(t, s.register(alice, book, "https://push.example.net/one", exp), http.StatusCreated)
	two, _ := registered(t, s.register(alice, book, "https://push.example.net/two", exp), http.StatusCreated)
	s.queued()
	woken.Store(0)

	s.put(alice, book+"a.vcf", card("a", "A"), "Push-Dont-Notify: *").expect(t, http.StatusCreated)
	if got := s.queued(); len(got) != 0 {
		t.Errorf("Push-Dont-Notify: * queued %v", got)
	}
	s.do("DELETE", book+"a.vcf", alice, "", fmt.Sprintf(`Push-Dont-Notify: "%s", "%s"`, one, two)).expect(t, http.StatusNoContent)
	if got := s.queued(); len(got) != 0 {
		t.Errorf("Push-Dont-Notify naming both queued %v", got)
	}
	if n := woken.Load(); n != 0 {
		t.Errorf("woken %d times for writes that queued nothing", n)
	}
	patch := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>New</D:displayname></D:prop></D:set></D:propertyupdate>`
	s.do("PROPPATCH", book, alice, patch, `Push-Dont-Notify: "`+one+`"`).expect(t, http.StatusMultiStatus)
	if got := s.queued(); !slices.Equal(got, []string{token(t, two)}) {
		t.Errorf("PROPPATCH skipping one queued %v, want %s", got, token(t, two))
	}
	if n := woken.Load(); n != 1 {
		t.Errorf("woken %d times, want 1: the server's wake-up was lost", n)
	}
	// Invalid values are ignored: everyone is notified.
	s.put(alice, book+"b.vcf", card("b", "B"), `Push-Dont-Notify: `+one).expect(t, http.StatusCreated)
	want := []string{token(t, one), token(t, two)}
	slices.Sort(want)
	if got := s.queued(); !slices.Equal(got, want) {
		t.Errorf("unquoted URL: queued %v, want %v", got, want)
	}
}

// An expired registration is unknown.
func TestPushDeleteExpired(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	ctx := context.Background()
	c, err := s.st.GetCollection(ctx, alice, store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	reg := &store.PushRegistration{Login: alice, Collection: c.ID, Resource: "https://push.example.net/x", PublicKey: subKey,
		AuthSecret: subAuth, Content: true, Expires: time.Now().Add(-time.Minute)}
	if _, err := s.st.RegisterPush(ctx, reg); err != nil {
		t.Fatal(err)
	}
	s.do("DELETE", "/dav/push/"+reg.Token, alice, "").expect(t, http.StatusNotFound)
}

// pushRegister registers resource on collection coll of alice through the
// store.
func (s *server) pushRegister(coll int64, resource string, exp time.Time) {
	s.t.Helper()
	r := &store.PushRegistration{Login: alice, Collection: coll, Resource: resource,
		PublicKey: subKey, AuthSecret: subAuth, Content: true, Expires: exp}
	if _, err := s.st.RegisterPush(context.Background(), r); err != nil {
		s.t.Fatal(err)
	}
}

// refusedByCap checks a 403 push-not-available whose message says which
// cap refused the registration.
func refusedByCap(t *testing.T, r reply, says string) {
	t.Helper()
	r.expect(t, http.StatusForbidden)
	if cond := davErrorCond(t, r); cond != (xml.Name{Space: nsPush, Local: "push-not-available"}) {
		t.Errorf("condition %v", cond)
	}
	if !strings.Contains(string(r.body), says) {
		t.Errorf("body %q does not say %q", r.body, says)
	}
}

// A user at the cap of registrations gets 403 push-not-available with a
// message saying why; registering an existing one again still works.
func TestPushRegistrationCap(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	exp := time.Now().Add(time.Hour)
	ctx := context.Background()
	loc, _ := registered(t, s.register(alice, book, "https://push.example.net/first", exp), http.StatusCreated)
	c, err := s.st.GetCollection(ctx, alice, store.KindCard, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	coll := c.ID
	for i := 1; i < store.MaxPushRegistrations; i++ {
		if i%store.MaxPushRegistrationsPerTarget == 0 {
			c := &store.Collection{Owner: alice, Kind: store.KindCard, Name: fmt.Sprint("book-", i)}
			if err := s.st.CreateCollection(ctx, c); err != nil {
				t.Fatal(err)
			}
			coll = c.ID
		}
		s.pushRegister(coll, fmt.Sprintf("https://push.example.net/%d", i), exp)
	}
	refusedByCap(t, s.register(alice, calHome, "https://push.example.net/one-more", exp),
		fmt.Sprintf("this account has %d push registrations", store.MaxPushRegistrations))
	again, _ := registered(t, s.register(alice, book, "https://push.example.net/first", exp), http.StatusNoContent)
	if again != loc {
		t.Errorf("Location %q, want %q", again, loc)
	}
}

// A collection or home at the cap of registrations on it gets 403
// push-not-available with a message saying so, not that of the user's
// cap; registering an existing one again still works.
func TestPushTargetCap(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	exp := time.Now().Add(time.Hour)
	for _, to := range []struct{ path, says string }{{book, "this collection"}, {calHome, "this home"}} {
		for i := range store.MaxPushRegistrationsPerTarget {
			s.register(alice, to.path, fmt.Sprintf("https://push.example.net/%d", i), exp).expect(t, http.StatusCreated)
		}
		refusedByCap(t, s.register(alice, to.path, "https://push.example.net/one-more", exp),
			fmt.Sprintf("%s has %d push registrations", to.says, store.MaxPushRegistrationsPerTarget))
		s.register(alice, to.path, "https://push.example.net/7", exp).expect(t, http.StatusNoContent)
	}
}

// Deleting a collection tells its registrations, but those of the client
// that deleted it (Push-Dont-Notify), which go at once: the draft makes
// the removal of the subscribed resource a content update.
func TestPushDeleteCollection(t *testing.T) {
	s := newServer(t, withPush(t, nil, push.Options{}))
	exp := time.Now().Add(time.Hour)
	phone, _ := registered(t, s.register(alice, book, "https://push.example.net/phone", exp), http.StatusCreated)
	laptop, _ := registered(t, s.register(alice, book, "https://push.example.net/laptop", exp), http.StatusCreated)
	s.queued()
	s.do("DELETE", book, alice, "", `Push-Dont-Notify: "`+laptop+`"`).expect(t, http.StatusNoContent)
	if got := s.queued(); !slices.Equal(got, []string{token(t, phone)}) {
		t.Errorf("DELETE of the collection queued %v, want %s", got, token(t, phone))
	}
	s.do("DELETE", pathOf(t, laptop), alice, "").expect(t, http.StatusNotFound)
	// Told (or not: queued dropped the message), it is gone.
	s.do("DELETE", pathOf(t, phone), alice, "").expect(t, http.StatusNotFound)
}
