package realdav

import (
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Kind is what a collection holds.
type Kind string

// Kinds of collections.
const (
	AddressBook Kind = "addressbook"
	Calendar    Kind = "calendar" // a calendar or a task list
)

// Collection is an address book, calendar or task list with its
// properties.
type Collection struct {
	Kind Kind
	Name string // the last segment of its path
	// DisplayName, Description and Color ("#RRGGBB" or "#RRGGBBAA": Apple's
	// calendar-color, InfCloud's addressbook-color) are "" when unset.
	DisplayName, Description, Color string
	// Components of a calendar: "VEVENT", "VTODO"; empty for an address
	// book.
	Components []string
}

// XML namespaces of the properties.
const (
	nsDAV     = "DAV:"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsApple   = "http://apple.com/ns/ical/"
	nsInfIT   = "http://inf-it.com/ns/ab/"
)

// Endpoint is a collection on some server and how to sign in to it.
type Endpoint struct {
	URL            string // absolute, ending in "/"
	User, Password string
	Client         *http.Client // nil: http.DefaultClient
}

// Endpoint is the collection c on s.
func (s *Server) Endpoint(c Collection) Endpoint {
	return Endpoint{URL: s.CollectionURL(c), User: s.User, Password: s.Password, Client: s.Client}
}

// Do sends one request; hdr holds "Name: value" strings.
func (e Endpoint) Do(method, target, body string, hdr ...string) (int, http.Header, string, error) {
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	if e.User != "" {
		req.SetBasicAuth(e.User, e.Password)
	}
	if body != "" && (method == "PROPFIND" || method == "PROPPATCH" || method == "REPORT" || method == "MKCOL" || method == "MKCALENDAR") {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	c := e.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, "", fmt.Errorf("%s %s: %w", method, target, err)
	}
	return resp.StatusCode, resp.Header, string(b), nil
}

// must sends one request and fails the test unless the status is one of
// want.
func (e Endpoint) must(t testing.TB, want []int, method, target, body string, hdr ...string) (http.Header, string) {
	t.Helper()
	code, h, b, err := e.Do(method, target, body, hdr...)
	if err != nil {
		t.Fatalf("realdav: %s %s: %v", method, target, err)
	}
	for _, w := range want {
		if code == w {
			return h, b
		}
	}
	t.Fatalf("realdav: %s %s: %d, want %v\n%s", method, target, code, want, b)
	return nil, ""
}

// Object is a card, or an event or task with its overrides, stored under
// Name (the last segment of its URL).
type Object struct {
	Name string
	UID  string
	Data string
}

// Ext is the file name extension of a kind's objects.
func (k Kind) Ext() string {
	if k == AddressBook {
		return ".vcf"
	}
	return ".ics"
}

func (k Kind) contentType() string {
	if k == AddressBook {
		return "text/vcard; charset=utf-8"
	}
	return "text/calendar; charset=utf-8"
}

// kindOf tells the kind of a collection URL by its object names.
func kindOf(name string) Kind {
	if strings.HasSuffix(name, ".vcf") {
		return AddressBook
	}
	return Calendar
}

// Put stores data as the object name in the collection at e, creating or
// replacing it, and returns its ETag ("" when the server gave none).
func (e Endpoint) Put(t testing.TB, name, data string) string {
	t.Helper()
	h, _ := e.must(t, []int{201, 204}, "PUT", e.URL+url.PathEscape(name), data, "Content-Type: "+kindOf(name).contentType())
	return h.Get("ETag")
}

// Get returns the object name of the collection at e and its ETag.
func (e Endpoint) Get(t testing.TB, name string) (data, etag string) {
	t.Helper()
	h, b := e.must(t, []int{200}, "GET", e.URL+url.PathEscape(name), "")
	return b, h.Get("ETag")
}

// Delete deletes the object name of the collection at e.
func (e Endpoint) Delete(t testing.TB, name string) {
	t.Helper()
	e.must(t, []int{200, 204}, "DELETE", e.URL+url.PathEscape(name), "")
}

// Upload stores objs in the collection at e, new (If-None-Match: *), a
// few at a time.
func (e Endpoint) Upload(t testing.TB, objs []Object, parallel int) {
	t.Helper()
	if parallel < 1 {
		parallel = 1
	}
	work := make(chan Object)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				code, _, body, err := e.Do("PUT", e.URL+url.PathEscape(o.Name), o.Data,
					"Content-Type: "+kindOf(o.Name).contentType(), "If-None-Match: *")
				if err == nil && code != 201 && code != 204 {
					err = fmt.Errorf("PUT %s: %d %s", o.Name, code, body)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, o := range objs {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		work <- o
	}
	close(work)
	wg.Wait()
	if first != nil {
		t.Fatalf("realdav: upload to %s: %v", e.URL, first)
	}
}

// Members returns the ETag of each object of the collection at e, by the
// last segment of its URL (unescaped), with PROPFIND Depth: 1.
func (e Endpoint) Members(t testing.TB) map[string]string {
	t.Helper()
	_, body := e.must(t, []int{207}, "PROPFIND", e.URL,
		`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>`, "Depth: 1")
	ms, err := parseMultistatus(body)
	if err != nil {
		t.Fatalf("realdav: PROPFIND %s: %v\n%s", e.URL, err, body)
	}
	self, _ := url.Parse(e.URL)
	out := map[string]string{}
	for _, r := range ms {
		u, err := self.Parse(r.Href)
		if err != nil {
			t.Fatalf("realdav: PROPFIND %s: href %q: %v", e.URL, r.Href, err)
		}
		if strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(self.Path, "/") {
			continue
		}
		if rt, ok := r.Props[xml.Name{Space: nsDAV, Local: "resourcetype"}]; ok && rt.has(nsDAV, "collection") {
			continue
		}
		name := u.Path[strings.LastIndex(strings.TrimSuffix(u.Path, "/"), "/")+1:]
		out[name] = r.Props[xml.Name{Space: nsDAV, Local: "getetag"}].Text
	}
	return out
}

// Changes returns what changed in the collection at e since token (a
// sync-collection REPORT, RFC 6578): the names (last URL segments) of the
// objects added or changed and of those deleted, and the new token.
func (e Endpoint) Changes(t testing.TB, token string) (changed, deleted []string, next string) {
	t.Helper()
	_, body := e.must(t, []int{207}, "REPORT", e.URL, `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+html.EscapeString(token)+`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`)
	ms, err := parseMultistatus(body)
	if err != nil {
		t.Fatalf("realdav: sync-collection %s: %v\n%s", e.URL, err, body)
	}
	for _, r := range ms {
		name := lastSegment(r.Href)
		if strings.HasSuffix(r.Href, "/") && strings.TrimSuffix(r.Href, "/") != "" && strings.HasSuffix(e.URL, r.Href) {
			continue // the collection itself
		}
		if strings.Contains(r.Status, " 404 ") {
			deleted = append(deleted, name)
		} else {
			changed = append(changed, name)
		}
	}
	var tok struct {
		Token string `xml:"DAV: sync-token"`
	}
	xml.Unmarshal([]byte(body), &tok)
	sort.Strings(changed)
	sort.Strings(deleted)
	return changed, deleted, strings.TrimSpace(tok.Token)
}

// SyncToken returns the collection's DAV:sync-token ("" when it has none).
func (e Endpoint) SyncToken(t testing.TB) string {
	t.Helper()
	return e.prop(t, nsDAV, "sync-token").Text
}

func (e Endpoint) prop(t testing.TB, ns, name string) prop {
	t.Helper()
	_, body := e.must(t, []int{207}, "PROPFIND", e.URL,
		`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><X:`+name+` xmlns:X="`+ns+`"/></D:prop></D:propfind>`, "Depth: 0")
	ms, err := parseMultistatus(body)
	if err != nil || len(ms) == 0 {
		t.Fatalf("realdav: PROPFIND %s %s: %v\n%s", e.URL, name, err, body)
	}
	return ms[0].Props[xml.Name{Space: ns, Local: name}]
}

// Props reads the collection's kind, display name, description, colour
// and components. Name is the last segment of e.URL.
func (e Endpoint) Props(t testing.TB) Collection {
	t.Helper()
	_, body := e.must(t, []int{207}, "PROPFIND", e.URL, `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:R="`+nsCardDAV+`" xmlns:C="`+nsCalDAV+`" xmlns:A="`+nsApple+`" xmlns:I="`+nsInfIT+`"><D:prop>
<D:resourcetype/><D:displayname/><R:addressbook-description/><C:calendar-description/>
<A:calendar-color/><I:addressbook-color/><C:supported-calendar-component-set/></D:prop></D:propfind>`, "Depth: 0")
	ms, err := parseMultistatus(body)
	if err != nil || len(ms) == 0 {
		t.Fatalf("realdav: PROPFIND %s: %v\n%s", e.URL, err, body)
	}
	p := ms[0].Props
	c := Collection{Name: lastSegment(e.URL), DisplayName: p[xml.Name{Space: nsDAV, Local: "displayname"}].Text}
	rt := p[xml.Name{Space: nsDAV, Local: "resourcetype"}]
	switch {
	case rt.has(nsCardDAV, "addressbook"):
		c.Kind = AddressBook
		c.Description = p[xml.Name{Space: nsCardDAV, Local: "addressbook-description"}].Text
		c.Color = p[xml.Name{Space: nsInfIT, Local: "addressbook-color"}].Text
	case rt.has(nsCalDAV, "calendar"):
		c.Kind = Calendar
		c.Description = p[xml.Name{Space: nsCalDAV, Local: "calendar-description"}].Text
		c.Color = p[xml.Name{Space: nsApple, Local: "calendar-color"}].Text
		for _, comp := range p[xml.Name{Space: nsCalDAV, Local: "supported-calendar-component-set"}].Children {
			for _, a := range comp.Attrs {
				if a.Name.Local == "name" {
					c.Components = append(c.Components, strings.ToUpper(a.Value))
				}
			}
		}
		sort.Strings(c.Components)
	default:
		t.Fatalf("realdav: %s is neither an address book nor a calendar: %v", e.URL, rt.Children)
	}
	return c
}

func lastSegment(u string) string {
	p := strings.TrimSuffix(u, "/")
	s := p[strings.LastIndex(p, "/")+1:]
	if un, err := url.PathUnescape(s); err == nil {
		return un
	}
	return s
}

// MakeCollection makes c on s with its properties (extended MKCOL, RFC
// 5689, for an address book; MKCALENDAR for a calendar), sets with
// PROPPATCH those the server did not take with it, and returns the
// collection as the server keeps it: Xandikos 0.2.8 takes only the
// display name at creation, takes the colours and the address book
// description by PROPPATCH, and keeps no calendar description and no
// component set (it answers all four).
func (s *Server) MakeCollection(t testing.TB, c Collection) Collection {
	t.Helper()
	e := s.Endpoint(c)
	props := setProps(c, true)
	if c.Kind == AddressBook {
		e.must(t, []int{201}, "MKCOL", e.URL, `<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:R="`+nsCardDAV+`" xmlns:I="`+nsInfIT+`"><D:set><D:prop>
<D:resourcetype><D:collection/><R:addressbook/></D:resourcetype>`+props+`</D:prop></D:set></D:mkcol>`)
	} else {
		e.must(t, []int{201}, "MKCALENDAR", e.URL, `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="`+nsCalDAV+`" xmlns:A="`+nsApple+`"><D:set><D:prop>`+props+`</D:prop></D:set></C:mkcalendar>`)
	}
	got := e.Props(t)
	missing := c
	missing.DisplayName, missing.Description, missing.Color, missing.Components = "", "", "", nil
	if got.DisplayName != c.DisplayName {
		missing.DisplayName = c.DisplayName
	}
	if got.Description != c.Description {
		missing.Description = c.Description
	}
	if !strings.EqualFold(got.Color, c.Color) {
		missing.Color = c.Color
	}
	// One PROPPATCH per property: a server may refuse one and take the
	// others.
	for _, one := range splitProps(missing) {
		e.Do("PROPPATCH", e.URL, `<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:R="`+nsCardDAV+`" xmlns:C="`+nsCalDAV+`" xmlns:A="`+nsApple+`" xmlns:I="`+nsInfIT+`"><D:set><D:prop>`+one+`</D:prop></D:set></D:propertyupdate>`)
	}
	return e.Props(t)
}

// setProps is the XML of c's properties for MKCOL, MKCALENDAR or
// PROPPATCH; components only at creation.
func setProps(c Collection, create bool) string {
	var b strings.Builder
	if c.DisplayName != "" {
		b.WriteString("<D:displayname>" + html.EscapeString(c.DisplayName) + "</D:displayname>")
	}
	if c.Kind == AddressBook {
		if c.Description != "" {
			b.WriteString("<R:addressbook-description>" + html.EscapeString(c.Description) + "</R:addressbook-description>")
		}
		if c.Color != "" {
			b.WriteString("<I:addressbook-color>" + html.EscapeString(c.Color) + "</I:addressbook-color>")
		}
		return b.String()
	}
	if c.Description != "" {
		b.WriteString("<C:calendar-description>" + html.EscapeString(c.Description) + "</C:calendar-description>")
	}
	if c.Color != "" {
		b.WriteString("<A:calendar-color>" + html.EscapeString(c.Color) + "</A:calendar-color>")
	}
	if create && len(c.Components) > 0 {
		b.WriteString("<C:supported-calendar-component-set>")
		for _, comp := range c.Components {
			b.WriteString(`<C:comp name="` + comp + `"/>`)
		}
		b.WriteString("</C:supported-calendar-component-set>")
	}
	return b.String()
}

func splitProps(c Collection) []string {
	var out []string
	for _, one := range []Collection{
		{Kind: c.Kind, DisplayName: c.DisplayName},
		{Kind: c.Kind, Description: c.Description},
		{Kind: c.Kind, Color: c.Color},
	} {
		if p := setProps(one, false); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// response is one DAV:response of a multistatus: its href and the
// properties answered with 200.
type response struct {
	Href   string
	Status string // of the response as a whole (sync-collection: 404 for a deleted member)
	Props  map[xml.Name]prop
}

type prop struct {
	Text     string // the trimmed text content
	Children []child
}

type child struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
}

func (p prop) has(ns, local string) bool {
	for _, c := range p.Children {
		if c.XMLName.Space == ns && c.XMLName.Local == local {
			return true
		}
	}
	return false
}

func parseMultistatus(body string) ([]response, error) {
	var ms struct {
		Responses []struct {
			Href      string `xml:"DAV: href"`
			Status    string `xml:"DAV: status"`
			Propstats []struct {
				Prop struct {
					Any []struct {
						XMLName  xml.Name
						Text     string  `xml:",chardata"`
						Children []child `xml:",any"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		return nil, err
	}
	var out []response
	for _, r := range ms.Responses {
		resp := response{Href: strings.TrimSpace(r.Href), Status: r.Status, Props: map[xml.Name]prop{}}
		for _, ps := range r.Propstats {
			if !strings.Contains(ps.Status, " 200 ") {
				continue
			}
			for _, a := range ps.Prop.Any {
				resp.Props[a.XMLName] = prop{Text: strings.TrimSpace(a.Text), Children: a.Children}
			}
		}
		out = append(out, resp)
	}
	return out, nil
}
