package dav_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// Fuzz input layout: byte 0 picks the method, byte 1 the target and the
// Depth/Brief headers, the rest is the request body.
var fuzzMethods = []string{"PROPFIND", "PROPPATCH", "REPORT", "MKCOL"}

var fuzzTargets = []string{
	"/",
	"/.well-known/carddav",
	"/dav/",
	"/dav/principals/",
	principalPath,
	"/dav/addressbooks/",
	home,
	book,
	book + "fz-1.vcf",
	book + "missing.vcf",
	"/dav/addressbooks/bob@example.org/contacts/",
	home + "fuzz-new/",
}

var fuzzDepths = []string{"", "0", "1", "infinity"}

// fuzzInput builds a seed in the layout above.
func fuzzInput(method, target int, depth string, brief bool, body string) []byte {
	sel := byte(target)
	for i, d := range fuzzDepths {
		if d == depth {
			sel |= byte(i) << 4
		}
	}
	if brief {
		sel |= 0x40
	}
	return append([]byte{byte(method), sel}, body...)
}

// fuzzServer is the handler under test with its store, built once per
// fuzzing process: opening SQLite and hashing passwords is too slow to do
// per input.
type fuzzServer struct {
	h      http.Handler
	st     store.Store
	bookID int64
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	st, err := sqlite.Open(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for login, pw := range map[string]string{alice: alicePW, bob: bobPW} {
		hash, err := auth.HashPassword(pw, auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1})
		if err != nil {
			f.Fatal(err)
		}
		if err := st.CreateUser(ctx, &store.User{Login: login, PasswordHash: hash, Created: time.Now()}); err != nil {
			f.Fatal(err)
		}
		if err := accounts.EnsureDefaults(ctx, st, login); err != nil {
			f.Fatal(err)
		}
	}
	h := dav.New(dav.Config{
		Store: st,
		Auth: auth.NewAuthenticator(st, auth.Options{
			Sleep: func(ctx context.Context, d time.Duration) error { return nil },
		}),
		QuotaAvailable: func() int64 { return 1 << 30 },
		// Aborted streams log an error; keep the fuzzer's output readable.
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	fs := &fuzzServer{h: h, st: st}
	c, err := st.GetCollection(ctx, alice, store.KindCard, accounts.DefaultBook)
	if err != nil {
		f.Fatal(err)
	}
	fs.bookID = c.ID
	// Some cards, so that multiget, query and sync have something to do:
	// a vCard 3, a vCard 4 group with a photo, and one Validate refuses.
	cards := map[string]string{
		"fz-1.vcf": card("fz-1", "Fuzz One", "EMAIL;TYPE=work:one@example.org", "TEL:+1 555 0101"),
		"fz-2.vcf": "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:fz-2\r\nFN:Fuzz Group\r\nKIND:group\r\nMEMBER:urn:uuid:fz-1\r\n" +
			"PHOTO:data:image/png;base64,iVBORw0KGgo=\r\nEND:VCARD\r\n",
		"fz-3.vcf": iPhoneCard,
	}
	for name, data := range cards {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("PUT", book+name, strings.NewReader(data))
		req.SetBasicAuth(alice, alicePW)
		req.Header.Set("Content-Type", "text/vcard")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			f.Fatalf("seed PUT %s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if _, _, err := st.PutObject(ctx, &store.Object{Collection: c.ID, Name: "fz-bad.vcf", UID: "fz-bad",
		Data: []byte("BEGIN:VCARD\r\nVERSION:2.1\r\nFN Broken\x0b\xff\r\n")}, store.Conditions{}); err != nil {
		f.Fatal(err)
	}
	return fs
}

// serve runs one request in-process and reports a panic instead of dying.
func (fs *fuzzServer) serve(req *http.Request) (rec *httptest.ResponseRecorder, panicked any) {
	rec = httptest.NewRecorder()
	defer func() { panicked = recover() }()
	fs.h.ServeHTTP(rec, req)
	return rec, nil
}

// reset undoes what an input changed, so inputs stay independent.
func (fs *fuzzServer) reset(t *testing.T) {
	ctx := context.Background()
	err := fs.st.UpdateCollection(ctx, fs.bookID, func(c *store.Collection) error {
		c.DisplayName, c.Description, c.Color, c.Order, c.Props = "Contacts", "", "", 0, nil
		return nil
	})
	if err != nil {
		t.Fatalf("reset book: %v", err)
	}
	if c, err := fs.st.GetCollection(ctx, alice, store.KindCard, "fuzz-new"); err == nil {
		if err := fs.st.DeleteCollection(ctx, c.ID); err != nil {
			t.Fatalf("reset fuzz-new: %v", err)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reset: %v", err)
	}
}

// checkXML fails unless body is one well-formed, namespace-well-formed XML
// document whose root element is want (when want.Local is set). Go's
// decoder alone is lenient (it accepts "<:x>" and undeclared prefixes);
// DAVx5's XmlPullParser, Thunderbird's DOMParser and libxml2 are not, so
// names are checked the way they check them.
func checkXML(body []byte, want xml.Name) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	var root *xml.Name
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != nil {
					return errors.New("more than one root element")
				}
				n := t.Name
				root = &n
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return errors.New("no root element")
	}
	if want.Local != "" && *root != want {
		return fmt.Errorf("root element {%s}%s, want {%s}%s", root.Space, root.Local, want.Space, want.Local)
	}
	return checkNamespaces(body)
}

// checkNamespaces applies "Namespaces in XML 1.0": names have at most one
// colon with both sides non-empty, prefixes are declared, no prefix is
// bound to the empty namespace, and no attribute appears twice.
func checkNamespaces(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	scopes := []map[string]string{{"xml": "http://www.w3.org/XML/1998/namespace"}}
	lookup := func(prefix string) (string, bool) {
		for i := len(scopes) - 1; i >= 0; i-- {
			if ns, ok := scopes[i][prefix]; ok {
				return ns, true
			}
		}
		return "", false
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			scope := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					if a.Value == "" {
						return fmt.Errorf("prefix %q bound to the empty namespace", a.Name.Local)
					}
					if a.Name.Local == "xmlns" || (a.Name.Local == "xml") != (a.Value == "http://www.w3.org/XML/1998/namespace") {
						return fmt.Errorf("reserved prefix or namespace in xmlns:%s=%q", a.Name.Local, a.Value)
					}
					scope[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					scope[""] = a.Value
				}
			}
			scopes = append(scopes, scope)
			if err := checkName(t.Name, true, lookup); err != nil {
				return fmt.Errorf("element: %w", err)
			}
			seen := map[xml.Name]bool{}
			for _, a := range t.Attr {
				if err := checkName(a.Name, false, lookup); err != nil {
					return fmt.Errorf("attribute: %w", err)
				}
				key := a.Name
				if key.Space != "" && key.Space != "xmlns" {
					key.Space, _ = lookup(key.Space)
				}
				if seen[key] {
					return fmt.Errorf("attribute {%s}%s twice", key.Space, key.Local)
				}
				seen[key] = true
			}
		case xml.EndElement:
			scopes = scopes[:len(scopes)-1]
		}
	}
}

func checkName(n xml.Name, element bool, lookup func(string) (string, bool)) error {
	if !isNCName(n.Local) || (n.Space != "" && !isNCName(n.Space)) {
		q := n.Local
		if n.Space != "" {
			q = n.Space + ":" + n.Local
		}
		return fmt.Errorf("name %q is not a valid qualified name", q)
	}
	if n.Space == "" || (!element && n.Space == "xmlns") {
		return nil
	}
	if element && n.Space == "xmlns" {
		return fmt.Errorf("element uses the reserved prefix xmlns")
	}
	if _, ok := lookup(n.Space); !ok {
		return fmt.Errorf("undeclared prefix %q in %s:%s", n.Space, n.Space, n.Local)
	}
	return nil
}

// isNCName: an XML name without colons (letters and "_" first, then also
// digits, ".", "-" and combining marks).
func isNCName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '.' || r == '-' || r == '\u00B7' || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc)):
		default:
			return false
		}
	}
	return true
}

// Nasty bodies: entity tricks, depth, size, broken structure, odd
// namespaces and encodings.
func nastyBodies() []string {
	var nested strings.Builder
	nested.WriteString(`<D:propfind xmlns:D="DAV:"><D:prop>`)
	for i := 0; i < 5000; i++ {
		nested.WriteString("<D:x>")
	}
	var attrs strings.Builder
	attrs.WriteString(`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname`)
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&attrs, ` a%d="%d"`, i, i)
	}
	attrs.WriteString(`/></D:prop></D:propfind>`)
	var nsDecls strings.Builder
	nsDecls.WriteString(`<D:propfind xmlns:D="DAV:"><D:prop>`)
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&nsDecls, `<p%d:x xmlns:p%d="urn:x:%d"/>`, i, i, i)
	}
	nsDecls.WriteString(`</D:prop></D:propfind>`)
	var deadProps strings.Builder
	deadProps.WriteString(`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>`)
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&deadProps, `<X:p%d xmlns:X="urn:dead">%s</X:p%d>`, i, strings.Repeat("v", 100), i)
	}
	deadProps.WriteString(`</D:prop></D:set></D:propertyupdate>`)
	var hrefs strings.Builder
	hrefs.WriteString(`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`)
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&hrefs, "<D:href>%sfz-%d.vcf</D:href>", book, i%4)
	}
	hrefs.WriteString(`</C:addressbook-multiget>`)

	return []string{
		"",
		" \r\n\t ",
		"not xml at all",
		`<?xml version="1.0"?>`,
		// Billion laughs and external entities.
		`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
			`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>` +
			`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>&lol2;</D:displayname></D:prop></D:propfind>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>&xxe;</D:displayname></D:prop></D:set></D:propertyupdate>`,
		`<!DOCTYPE D:propfind SYSTEM "http://127.0.0.1:1/dtd"><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
		// Depth, width, size.
		nested.String(),
		attrs.String(),
		nsDecls.String(),
		deadProps.String(),
		hrefs.String(),
		`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>` + strings.Repeat("&amp;&lt;x&gt;", 20000) + `</D:displayname></D:prop></D:propfind>`,
		// Broken structure.
		`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>`,
		`<D:propfind xmlns:D="DAV:"><D:prop></D:propfind></D:prop>`,
		`<D:propfind xmlns:D="DAV:"/><D:propfind xmlns:D="DAV:"/>`,
		`<D:propfind xmlns:D="DAV:"/>trailing text`,
		`<D:propfind xmlns:D="DAV:"><![CDATA[<D:prop><D:getetag/></D:prop>]]></D:propfind>`,
		`<!-- only a comment -->`,
		`<?pi target?><D:propfind xmlns:D="DAV:"><?inside pi?><D:prop><!--c--><D:getetag/></D:prop></D:propfind>`,
		"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:display\x00name/></D:prop></D:propfind>",
		"<D:propfind xmlns:D=\"DAV:\"><D:prop><D:displayname>\xff\xfe</D:displayname></D:prop></D:propfind>",
		"\xef\xbb\xbf<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>",
		"\xff\xfe<\x00D\x00:\x00p\x00r\x00o\x00p\x00f\x00i\x00n\x00d\x00/\x00>\x00",
		`<?xml version="1.0" encoding="ISO-8859-1"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
		`<?xml version="1.1"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
		// Odd namespaces.
		`<propfind xmlns="DAV:"><prop><x:getetag xmlns:x=""/><getetag xmlns=""/><undeclared:getetag/></prop></propfind>`,
		`<D:propfind xmlns:D="DAV:"><D:prop><X:y xmlns:X="a&quot;b&lt;c&amp;d"/><xmlns:z/><xml:lang/></D:prop></D:propfind>`,
		`<D:propfind xmlns:D="dav:"><D:prop><D:getetag/></D:prop></D:propfind>`,
		`<D:propfind xmlns:D="DAV:" xmlns:D="urn:other"><D:prop/></D:propfind>`,
		`<a:b:c xmlns:a="DAV:"><a:prop/></a:b:c>`,
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Q:dead xmlns:Q="urn:q" Q:attr="1" xml:lang="en" plain="2"><Q:kid xmlns="">mixed<Q:more/>text</Q:kid></Q:dead></D:prop></D:set></D:propertyupdate>`,
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><dead xmlns="">]]&gt; &lt;/D:prop&gt;</dead></D:prop></D:set><D:remove><D:prop><dead xmlns=""/></D:prop></D:remove></D:propertyupdate>`,
		`<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><A:calendar-color>#GGGGGG</A:calendar-color><A:calendar-order>-999999999999</A:calendar-order></D:prop></D:set></D:propertyupdate>`,
		// Reports with odd values.
		`<D:sync-collection xmlns:D="DAV:"><D:sync-token>https://rolodav.org/ns/sync/1:-1</D:sync-token><D:sync-level>1</D:sync-level><D:limit><D:nresults>0</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`,
		`<D:sync-collection xmlns:D="DAV:"><D:sync-token>https://rolodav.org/ns/sync/1:99999999999999999999</D:sync-token><D:prop/></D:sync-collection>`,
		`<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>infinite</D:sync-level><D:limit><D:nresults>1</D:nresults></D:limit><D:prop><D:getetag/><C:address-data xmlns:C="urn:ietf:params:xml:ns:carddav"><C:prop name="FN"/><C:prop name=""/></C:address-data></D:prop></D:sync-collection>`,
		`<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data version="3.0"/></D:prop><C:filter test="allof"><C:prop-filter name="EMAIL" test="allof"><C:param-filter name="TYPE"><C:text-match match-type="ends-with" negate-condition="yes">rk</C:text-match></C:param-filter><C:text-match collation="i;unicode-casemap">@</C:text-match></C:prop-filter><C:prop-filter name=""/></C:filter><C:limit><C:nresults>99999999999</C:nresults></C:limit></C:addressbook-query>`,
		`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data content-type="application/vcard+json" version="4.0"/></D:prop><D:href>%zz</D:href><D:href>http://[::1</D:href><D:href>` + book + `../../bob@example.org/contacts/x.vcf</D:href><D:href/></C:addressbook-multiget>`,
		`<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>` + strings.Repeat("N", 10000) + `</D:displayname><D:getetag>x</D:getetag></D:prop></D:set><D:remove><D:prop><D:displayname/></D:prop></D:remove></D:mkcol>`,
		`<D:mkcol xmlns:D="DAV:"/>`,
	}
}

// FuzzRequestXML sends arbitrary XML bodies to the real handler: it must
// never panic (except to abort a multistatus already under way), never
// answer 500, stay within a budget of time and memory, and every XML
// answer must be well-formed.
func FuzzRequestXML(f *testing.F) {
	fs := newFuzzServer(f)

	// Real client bodies from the replays.
	hrefs := []string{book + "fz-1.vcf", book + "fz-2.vcf", book + "fz-3.vcf", book + "fz-bad.vcf", book + "missing.vcf"}
	pf, pp, rp, mk := 0, 1, 2, 3
	ti := func(p string) int {
		for i, t := range fuzzTargets {
			if t == p {
				return i
			}
		}
		panic(p)
	}
	seeds := []struct {
		method, target int
		depth          string
		brief          bool
		body           string
	}{
		{pf, ti("/"), "0", false, davx5CheckBaseURL},
		{pf, ti("/.well-known/carddav"), "0", false, davx5CurrentUserPrincipal},
		{pf, ti(principalPath), "0", false, davx5EmailAddress},
		{pf, ti(principalPath), "0", false, davx5PrincipalHomeSets},
		{pf, ti(home), "1", false, davx5CollectionProperties},
		{pf, ti(book), "0", false, davx5QueryCapabilities},
		{rp, ti(book), "0", false, davx5SyncCollection("")},
		{rp, ti(book), "0", false, davx5SyncCollection("https://rolodav.org/ns/sync/1:1")},
		{rp, ti(book), "0", false, davx5Multiget(hrefs, true)},
		{pf, ti("/"), "0", false, appleCurrentUserPrincipal},
		{pf, ti(principalPath), "0", false, applePrincipal},
		{pf, ti(home), "1", true, appleHome},
		{pf, ti(book), "0", true, appleBookCTag},
		{pf, ti(book), "1", true, appleListETags},
		{pp, ti(home), "", false, appleMeCard(book + "fz-1.vcf")},
		{pp, ti(book), "", false, appleMeCard(book + "fz-1.vcf")},
		{rp, ti(book), "", false, appleMultiget(hrefs, "3.0")},
		{rp, ti(book), "", false, appleMultiget(hrefs, "")},
		{pf, ti("/.well-known/carddav"), "0", false, tbDiscoverPrincipal},
		{pf, ti(principalPath), "0", false, tbDiscoverHomeSet},
		{pf, ti(home), "1", false, tbDiscoverBooks},
		{pf, ti(book), "1", false, tbListCards},
		{pf, ti(book), "0", false, tbGetSyncToken},
		{rp, ti(book), "1", false, tbSyncCollection("https://rolodav.org/ns/sync/1:2")},
		{rp, ti(book), "1", false, tbMultiget(hrefs)},
		{pf, ti(book + "fz-1.vcf"), "0", false, propfindBody("<D:getetag/>", "<C:address-data/>", "<D:getcontenttype/>", "<D:resourcetype/>")},
		{pf, ti(book), "1", false, `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`},
		{pf, ti(book), "1", false, `<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:sync-token/></D:include></D:propfind>`},
		{pp, ti(book), "", false, `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:X="urn:example:x"><D:set><D:prop><D:displayname>Family &amp; Friends</D:displayname><A:calendar-color>#00FF00</A:calendar-color><X:custom><X:inner attr="1">text</X:inner></X:custom></D:prop></D:set></D:propertyupdate>`},
		{rp, ti(book), "1", false, `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter><C:prop-filter name="FN"><C:text-match match-type="contains">fuzz</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`},
		{mk, ti(home + "fuzz-new/"), "", false, `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:INF="http://inf-it.com/ns/ab/"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>Work</D:displayname><C:addressbook-description>Colleagues</C:addressbook-description><INF:addressbook-color>#FF0000FF</INF:addressbook-color></D:prop></D:set></D:mkcol>`},
	}
	for _, s := range seeds {
		f.Add(fuzzInput(s.method, s.target, s.depth, s.brief, s.body))
	}
	// Small ones of the shapes TestRequestXMLAttacksWithinBudget sends at
	// full size.
	for m := range fuzzMethods {
		for _, body := range dav.XMLAttacks(2 << 10) {
			f.Add(fuzzInput(m, ti(book), "0", false, body))
		}
	}
	for i, body := range nastyBodies() {
		for m := range fuzzMethods {
			target := ti(book)
			if fuzzMethods[m] == "MKCOL" {
				target = ti(home + "fuzz-new/")
			}
			f.Add(fuzzInput(m, target, fuzzDepths[i%len(fuzzDepths)], i%2 == 0, body))
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		method := fuzzMethods[int(data[0])%len(fuzzMethods)]
		target := fuzzTargets[int(data[1]&0x0f)%len(fuzzTargets)]
		depth := fuzzDepths[int(data[1]>>4)&3]
		body := data[2:]

		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.SetBasicAuth(alice, alicePW)
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
		if depth != "" {
			req.Header.Set("Depth", depth)
		}
		if data[1]&0x40 != 0 {
			req.Header.Set("Brief", "t")
		}
		if data[1]&0x80 != 0 {
			req.Header.Set("Prefer", "return-minimal")
		}
		if method == "PROPPATCH" || method == "MKCOL" {
			defer fs.reset(t)
		}

		var rec *httptest.ResponseRecorder
		var p any
		dav.WithinBudget(t, fmt.Sprintf("%s %s (Depth %q) with a %d-byte body", method, target, depth, len(body)), func() {
			rec, p = fs.serve(req)
		})
		t.Logf("%s %s (Depth %q) → %d", method, target, depth, rec.Code)
		if p != nil {
			// Aborting is how a multistatus that failed after its 207
			// status line was sent tells the client to retry.
			if p == http.ErrAbortHandler && rec.Code == http.StatusMultiStatus {
				return
			}
			t.Fatalf("%s %s (Depth %q): panic %v (status so far %d)\nbody: %q", method, target, depth, p, rec.Code, body)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s (Depth %q): status %d\nrequest: %q\nanswer: %s", method, target, depth, rec.Code, body, rec.Body)
		}
		mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
		switch {
		case rec.Code == http.StatusMultiStatus:
			if err := checkXML(rec.Body.Bytes(), xml.Name{Space: "DAV:", Local: "multistatus"}); err != nil {
				t.Fatalf("%s %s (Depth %q): 207 body is not a well-formed multistatus: %v\nrequest: %q\nanswer: %s", method, target, depth, err, body, rec.Body)
			}
		case mt == "application/xml" || mt == "text/xml":
			if err := checkXML(rec.Body.Bytes(), xml.Name{}); err != nil {
				t.Fatalf("%s %s (Depth %q): %d XML body is not well-formed: %v\nrequest: %q\nanswer: %s", method, target, depth, rec.Code, err, body, rec.Body)
			}
		}
	})
}

// The fuzzer's budget applied to inputs far larger than it makes: each
// attack shape at 256 KiB and at the body limit. Text split by comments was
// quadratic: 256 KiB took 5 s and 2.5 GB, 4 MiB would have taken minutes.
func TestRequestXMLAttacksWithinBudget(t *testing.T) {
	s := newServer(t)
	for _, size := range []int{256 << 10, 4<<20 - 1024} {
		for name, body := range dav.XMLAttacks(size) {
			req := httptest.NewRequest("PROPFIND", book, strings.NewReader(body))
			req.SetBasicAuth(alice, alicePW)
			req.Header.Set("Depth", "0")
			rec := httptest.NewRecorder()
			dav.WithinBudget(t, fmt.Sprintf("PROPFIND with %d bytes of %s", len(body), name), func() {
				s.Config.Handler.ServeHTTP(rec, req)
			})
			if rec.Code != http.StatusMultiStatus && rec.Code != http.StatusBadRequest {
				t.Errorf("%s at %d bytes: status %d\n%s", name, len(body), rec.Code, rec.Body)
			}
		}
	}
}

// Deterministic regressions for what fuzzing found: names taken from a
// request end up in answers, so they must be valid there too.
func TestRequestXMLNamesInAnswers(t *testing.T) {
	wellFormed := func(t *testing.T, what string, r reply) {
		t.Helper()
		if err := checkXML([]byte(r.body), xml.Name{}); err != nil {
			t.Errorf("%s: %d answer is not namespace-well-formed: %v\n%s", what, r.status, err, r.body)
		}
	}

	// Go's decoder reads "<:x>" as local name ":x", "<a:>" as "a:", and
	// "<E:0 xmlns:E="">" as "0" in no namespace (answered as "<0/>").
	// PROPPATCH stored such a name as a dead property, and every later
	// allprop PROPFIND of the book then broke every namespace-aware client
	// (DAVx5, Thunderbird, libxml2-based ones) on that book.
	t.Run("invalid qualified names", func(t *testing.T) {
		for _, bad := range []string{`<:x>1</:x>`, `<a:>1</a:>`, `<Y:dead xmlns:Y="urn:y"><:inner/></Y:dead>`,
			`<E:0 xmlns:E="">1</E:0>`, `<N:1st xmlns:N="urn:n">1</N:1st>`} {
			s := newServer(t)
			body := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>` + bad + `</D:prop></D:set></D:propertyupdate>`
			if r := s.do("PROPPATCH", book, alice, body); r.status != http.StatusBadRequest {
				wellFormed(t, "PROPPATCH "+bad, r)
			}
			a := s.do("PROPFIND", book, alice, "", "Depth: 0").expect(t, http.StatusMultiStatus)
			wellFormed(t, "allprop PROPFIND after PROPPATCH "+bad, a)
			ask := `<propfind xmlns="DAV:"><prop>` + strings.SplitN(bad, ">", 2)[0] + `/></prop></propfind>`
			if r := s.do("PROPFIND", book, alice, ask, "Depth: 0"); r.status != http.StatusBadRequest {
				wellFormed(t, "PROPFIND "+ask, r)
			}
		}
	})

	// The XML namespace may only be bound to the prefix "xml"; expat
	// (Thunderbird's DOMParser) rejects xmlns:X="http://www.w3.org/XML/1998/namespace".
	t.Run("xml namespace as a property name", func(t *testing.T) {
		s := newServer(t)
		if r := s.do("PROPFIND", book, alice, `<D:propfind xmlns:D="DAV:"><D:prop><xml:lang/><D:displayname/></D:prop></D:propfind>`, "Depth: 0"); r.status != http.StatusBadRequest {
			wellFormed(t, "PROPFIND <xml:lang/>", r)
		}
	})

	// A property in no namespace (<plain xmlns=""/>) is legal; the
	// mkcol-response wrote it as <X:plain xmlns:X=""/>, which undeclares a
	// prefix (not allowed in XML 1.0 namespaces).
	t.Run("no-namespace property in the mkcol-response", func(t *testing.T) {
		s := newServer(t)
		body := `<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
			`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><plain xmlns="">v</plain></D:prop></D:set></D:mkcol>`
		r := s.do("MKCOL", home+"plain/", alice, body)
		if r.status != http.StatusCreated && r.status != http.StatusForbidden {
			t.Fatalf("MKCOL: %d\n%s", r.status, r.body)
		}
		wellFormed(t, "MKCOL with <plain xmlns=\"\">", r)
	})
}

// Dead properties are stored and returned as sent (clients.md): the same
// names in the same namespaces, with their text, including elements in no
// namespace below a namespaced parent and mixed content.
func TestDeadPropertyRoundTrip(t *testing.T) {
	s := newServer(t)
	value := `<Q:kid a="1"><plain xmlns="">p</plain><Q:leaf/></Q:kid>`
	mixed := `before<Q:b>bold</Q:b>after`
	body := `<D:propertyupdate xmlns:D="DAV:" xmlns:Q="urn:q"><D:set><D:prop><Q:dead>` + value + `</Q:dead><Q:mixed>` + mixed +
		`</Q:mixed></D:prop></D:set></D:propertyupdate>`
	parseMS(t, s.do("PROPPATCH", book, alice, body))
	r := s.do("PROPFIND", book, alice, `<D:propfind xmlns:D="DAV:" xmlns:Q="urn:q"><D:prop><Q:dead/><Q:mixed/></D:prop></D:propfind>`, "Depth: 0")
	d := parseTree(t, r.expect(t, http.StatusMultiStatus).body)
	want := parseTree(t, `<D:prop xmlns:D="DAV:" xmlns:Q="urn:q"><Q:dead>`+value+`</Q:dead><Q:mixed>`+mixed+`</Q:mixed></D:prop>`)
	for _, name := range []string{"dead", "mixed"} {
		got, st := d.response(t, book).prop("urn:q", name)
		if got == nil || st != statusOK {
			t.Fatalf("%s: %q", name, st)
		}
		w := want.kid("urn:q", name)
		if g, w := treeString(got), treeString(w); g != w {
			t.Errorf("dead property %s came back as\n  %s\nwant\n  %s\nanswer: %s", name, g, w, r.body)
		}
	}
}

// treeString renders a tree with resolved namespaces, for comparisons.
func treeString(n *xnode) string {
	var b strings.Builder
	var walk func(n *xnode)
	walk = func(n *xnode) {
		fmt.Fprintf(&b, "<{%s}%s", n.XMLName.Space, n.XMLName.Local)
		for _, a := range n.Attrs {
			if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
				continue
			}
			fmt.Fprintf(&b, " {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value)
		}
		fmt.Fprintf(&b, ">%q", n.Text)
		for i := range n.Kids {
			walk(&n.Kids[i])
		}
		b.WriteString("</>")
	}
	walk(n)
	return b.String()
}
