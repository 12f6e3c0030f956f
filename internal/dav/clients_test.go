package dav_test

// Replays of real clients' request sequences. Each test follows one client
// step by step, with request bodies shaped as that client writes them, and
// asserts what the client reads from each answer. Facts come from the
// clients' sources:
//
//   - DAVx5 4.x / kSync: DavResourceFinder (checkBaseURL, getCurrentUserPrincipal,
//     providesService, queryEmailAddress), RefreshCollectionsWorker
//     (DAV_COLLECTION_PROPERTIES, principal home sets), ContactsSyncManager
//     (queryCapabilities, downloadRemote with MAX_MULTIGET_RESOURCES = 10,
//     vCard 4 only when supported-address-data lists text/vcard 4.0) and
//     dav4jvm (kxml bodies with default namespace DAV:, sync-collection and
//     multiget with Depth: 0, PUT with If-None-Match: * or If-Match, DELETE
//     with If-Match, DAV:valid-sync-token in an error body resets the sync).
//   - Thunderbird (comm-central CardDAVUtils.detectAddressBooks and
//     CardDAVDirectory): discovery, fetchAllFromServer, _getSyncToken,
//     updateAllFromServerV2 (sync-collection with inline address-data,
//     Depth: 1, 400 triggers a full re-fetch), PUT with neither If-Match nor
//     If-None-Match followed by a one-href multiget, propstat status
//     compared as the literal string "HTTP/1.1 200 OK".
//   - Apple Contacts (iOS dataaccessd, macOS AddressBook): bodies as
//     documented by sabre/dav's client notes (home-set PROPFIND, getctag +
//     sync-token on each book, me-card PROPPATCH), Brief: t, vCard 3 only.
//   - go-webdav v0.7.0's carddav.Client, run for real.

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/rolodav/rolodav/internal/store"
)

const (
	principalPath = "/dav/principals/alice@example.org/"
	statusOK      = "HTTP/1.1 200 OK"
	nsDAV         = "DAV:"
	nsCard        = "urn:ietf:params:xml:ns:carddav"
	nsCS          = "http://calendarserver.org/ns/"
)

// ---------------------------------------------------------------------------
// DAVx5 request bodies (dav4jvm + kxml: default namespace DAV:, CAL and CARD
// declared on the root, other namespaces get generated n0, n1… prefixes).

const davx5XMLHead = `<?xml version='1.0' encoding='UTF-8' ?>`

// DavResourceFinder.checkBaseURL, CardDAV service, Depth 0 on the URL the user typed.
const davx5CheckBaseURL = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><resourcetype /><displayname /><CARD:addressbook-description /><CARD:addressbook-home-set /><current-user-principal /></prop></propfind>`

// DavResourceFinder.getCurrentUserPrincipal, Depth 0 on /.well-known/carddav.
const davx5CurrentUserPrincipal = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><current-user-principal /></prop></propfind>`

// DavResourceFinder.queryEmailAddress: the account name is the mailto: address.
const davx5EmailAddress = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><CAL:calendar-user-address-set /></prop></propfind>`

// RefreshCollectionsWorker: home sets of the principal (CardDAV service).
const davx5PrincipalHomeSets = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><displayname /><CARD:addressbook-home-set /><group-membership /></prop></propfind>`

// RefreshCollectionsWorker.DAV_COLLECTION_PROPERTIES (+ WebDAV Push), Depth 1
// on the home set. The sync-state properties ContactsSyncManager asks later
// (getctag, sync-token, supported-report-set) and the InfCloud colour are
// asked in the same request so that one answer is checked for all of them.
const davx5CollectionProperties = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><resourcetype /><current-user-privilege-set /><displayname /><owner /><CARD:addressbook-description />` +
	`<CARD:supported-address-data /><CAL:calendar-description /><n0:calendar-color xmlns:n0="http://apple.com/ns/ical/" />` +
	`<CAL:supported-calendar-component-set /><n1:source xmlns:n1="http://calendarserver.org/ns/" />` +
	`<n2:push-transports xmlns:n2="https://bitfire.at/webdav-push" /><n3:topic xmlns:n3="https://bitfire.at/webdav-push" />` +
	`<n4:addressbook-color xmlns:n4="http://inf-it.com/ns/ab/" /><n5:getctag xmlns:n5="http://calendarserver.org/ns/" />` +
	`<sync-token /><supported-report-set /></prop></propfind>`

// ContactsSyncManager.queryCapabilities, Depth 0 on the address book.
const davx5QueryCapabilities = davx5XMLHead + `<propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CARD="urn:ietf:params:xml:ns:carddav">` +
	`<prop><CARD:max-resource-size /><CARD:supported-address-data /><supported-report-set />` +
	`<n0:getctag xmlns:n0="http://calendarserver.org/ns/" /><sync-token /></prop></propfind>`

// DavCollection.reportChanges (sync-level 1, no limit, getetag only), Depth 0.
func davx5SyncCollection(token string) string {
	tok := "<sync-token />"
	if token != "" {
		tok = "<sync-token>" + xmlText(token) + "</sync-token>"
	}
	return davx5XMLHead + `<sync-collection xmlns="DAV:">` + tok + `<sync-level>1</sync-level><prop><getetag /></prop></sync-collection>`
}

// DavAddressBook.multiget: getcontenttype, getetag and address-data, with
// content-type/version 4.0 when the book advertises vCard 4. Depth 0.
func davx5Multiget(hrefs []string, vCard4 bool) string {
	ad := `<CARD:address-data />`
	if vCard4 {
		ad = `<CARD:address-data content-type="text/vcard" version="4.0" />`
	}
	var b strings.Builder
	b.WriteString(davx5XMLHead + `<CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav">`)
	b.WriteString(`<prop><getcontenttype /><getetag />` + ad + `</prop>`)
	for _, h := range hrefs {
		b.WriteString("<href>" + xmlText(h) + "</href>")
	}
	b.WriteString(`</CARD:addressbook-multiget>`)
	return b.String()
}

// A vCard 4 as DAVx5 uploads it (ez-vcard, UID as file name).
func davx5Card(uid, fn string) string {
	return "BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:+//IDN bitfire.at//DAVx5/4.4 ez-vcard/0.12.1\r\nUID:" + uid +
		"\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n"
}

// A contact as an iPhone writes it: vCard 3, Apple labels in item groups,
// the photo inline as folded base64.
const iPhoneCard = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.5//EN\r\n" +
	"N:Appleseed;Jo;;;\r\nFN:Jo Appleseed\r\nitem1.EMAIL;type=INTERNET:jo@example.com\r\n" +
	"item1.X-ABLabel:_$!<Other>!$_\r\nTEL;type=CELL;type=VOICE;type=pref:+1 555 0100\r\n" +
	"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDB\r\n" +
	" kSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/\r\n" +
	"UID:c03\r\nEND:VCARD\r\n"

// unfold joins folded content lines (RFC 6350 3.2).
func unfold(s string) string { return strings.ReplaceAll(s, "\r\n ", "") }

// DAVx5 sends vCard 4 with this type when the book advertises 4.0 (DavAddressBook.MIME_VCARD4).
const davx5PutType = "Content-Type: text/vcard;version=4.0"

// ---------------------------------------------------------------------------
// Apple request bodies (iOS dataaccessd / macOS AddressBook).

// First request on /.well-known/carddav and on /.
const appleCurrentUserPrincipal = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:current-user-principal/>
    <A:principal-URL/>
    <A:resourcetype/>
  </A:prop>
</A:propfind>`

// Principal properties iOS asks when it sets up CardDAV.
const applePrincipal = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:current-user-principal/>
    <A:displayname/>
    <A:principal-collection-set/>
    <A:principal-URL/>
    <A:resource-id/>
    <A:supported-report-set/>
    <B:addressbook-home-set xmlns:B="urn:ietf:params:xml:ns:carddav"/>
    <B:directory-gateway xmlns:B="urn:ietf:params:xml:ns:carddav"/>
    <C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
  </A:prop>
</A:propfind>`

// iOS's PROPFIND on the addressbook-home-set (Depth 1), plus getctag as
// macOS asks it on the home's children.
const appleHome = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <E:bulk-requests xmlns:E="http://me.com/_namespace/"/>
    <A:current-user-privilege-set/>
    <A:displayname/>
    <D:max-image-size xmlns:D="urn:ietf:params:xml:ns:carddav"/>
    <D:max-resource-size xmlns:D="urn:ietf:params:xml:ns:carddav"/>
    <C:me-card xmlns:C="http://calendarserver.org/ns/"/>
    <A:owner/>
    <C:push-transports xmlns:C="http://calendarserver.org/ns/"/>
    <C:pushkey xmlns:C="http://calendarserver.org/ns/"/>
    <A:quota-available-bytes/>
    <A:quota-used-bytes/>
    <A:resource-id/>
    <A:resourcetype/>
    <A:supported-report-set/>
    <A:sync-token/>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
  </A:prop>
</A:propfind>`

// iOS on a single address book, Depth 0: has anything changed?
const appleBookCTag = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <C:getctag xmlns:C="http://calendarserver.org/ns/"/>
    <A:sync-token/>
  </A:prop>
</A:propfind>`

// Listing the book's members, Depth 1.
const appleListETags = `<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:getetag/>
    <A:resourcetype/>
  </A:prop>
</A:propfind>`

// Setting the me-card on the address-book home (documented by sabre/dav).
func appleMeCard(href string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><C:me-card xmlns:C="http://calendarserver.org/ns/"><A:href>` +
		xmlText(href) + `</A:href></C:me-card></A:prop></A:set></A:propertyupdate>`
}

// addressbook-multiget in the x0/x1 style iOS uses for its multigets;
// version "" asks for the card as stored.
func appleMultiget(hrefs []string, version string) string {
	ad := `<x0:address-data/>`
	if version != "" {
		ad = `<x0:address-data content-type="text/vcard" version="` + version + `"/>`
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<x0:addressbook-multiget xmlns:x0="urn:ietf:params:xml:ns:carddav" xmlns:x1="DAV:">`)
	b.WriteString(`<x1:prop><x1:getetag/>` + ad + `</x1:prop>`)
	for _, h := range hrefs {
		b.WriteString("<x1:href>" + xmlText(h) + "</x1:href>")
	}
	b.WriteString(`</x0:addressbook-multiget>`)
	return b.String()
}

// ---------------------------------------------------------------------------
// Thunderbird request bodies (comm-central mailnews/addrbook/modules).

const tbNamespaces = `xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/" xmlns:d="DAV:"`

// CardDAVUtils.detectAddressBooks, step 1: the magic URL.
const tbDiscoverPrincipal = `<?xml version="1.0" encoding="utf-8"?>
      <propfind xmlns="DAV:">
        <prop>
          <current-user-principal/>
        </prop>
      </propfind>`

// Step 2: the principal's home set.
const tbDiscoverHomeSet = `<?xml version="1.0" encoding="utf-8"?>
      <propfind xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">
        <prop>
          <card:addressbook-home-set/>
        </prop>
      </propfind>`

// Step 3: the home's address books, Depth 1.
const tbDiscoverBooks = `<?xml version="1.0" encoding="utf-8"?>
      <propfind xmlns="DAV:">
        <prop>
          <resourcetype/>
          <displayname/>
          <current-user-privilege-set/>
        </prop>
      </propfind>`

// CardDAVDirectory.fetchAllFromServer / updateAllFromServerV1, Depth 1.
const tbListCards = `<propfind xmlns="DAV:" ` + tbNamespaces + `>
      <prop>
        <resourcetype/>
        <getetag/>
        <cs:getctag/>
      </prop>
    </propfind>`

// CardDAVDirectory._getSyncToken, Depth 0.
const tbGetSyncToken = `<propfind xmlns="DAV:" ` + tbNamespaces + `>
      <prop>
         <displayname/>
         <cs:getctag/>
         <sync-token/>
      </prop>
    </propfind>`

// CardDAVDirectory.updateAllFromServerV2, Depth 1.
func tbSyncCollection(token string) string {
	return `<sync-collection xmlns="DAV:" ` + tbNamespaces + `>
      <sync-token>` + xmlText(token) + `</sync-token>
      <sync-level>1</sync-level>
      <prop>
        <getetag/>
        <card:address-data/>
      </prop>
    </sync-collection>`
}

// CardDAVDirectory._multigetRequest, Depth 1.
func tbMultiget(hrefs []string) string {
	var hs []string
	for _, h := range hrefs {
		hs = append(hs, "      <d:href>"+xmlText(h)+"</d:href>")
	}
	return `<?xml version="1.0" encoding="utf-8"?>
    <card:addressbook-multiget ` + tbNamespaces + `>
      <d:prop>
        <d:getetag/>
        <card:address-data/>
      </d:prop>
      ` + strings.Join(hs, "\n") + `
    </card:addressbook-multiget>`
}

// A card as Thunderbird's VCardUtils.abCardToVCard writes it (vCard 4).
func tbCard(uid, fn, email string) string {
	return "BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL;PREF=1:" + email + "\r\nFN:" + fn +
		"\r\nUID:" + uid + "\r\nEND:VCARD\r\n"
}

// ---------------------------------------------------------------------------
// Reading answers the way clients do.

// xmlText escapes text for an element, as the clients' serialisers do.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xnode is a namespace-resolved XML tree, for values with structure
// (hrefs inside properties, privileges, address-data-type attributes).
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []xnode    `xml:",any"`
	Text    string     `xml:",chardata"`
}

func parseTree(t *testing.T, body string) *xnode {
	t.Helper()
	var n xnode
	if err := xml.Unmarshal([]byte(body), &n); err != nil {
		t.Fatalf("body is not well-formed XML: %v\n%s", err, body)
	}
	return &n
}

func (n *xnode) is(space, local string) bool {
	return n.XMLName.Space == space && n.XMLName.Local == local
}

// find returns the descendants (document order) with the given name.
func (n *xnode) find(space, local string) []*xnode {
	var out []*xnode
	for i := range n.Kids {
		k := &n.Kids[i]
		if k.is(space, local) {
			out = append(out, k)
		}
		out = append(out, k.find(space, local)...)
	}
	return out
}

func (n *xnode) kid(space, local string) *xnode {
	for i := range n.Kids {
		if n.Kids[i].is(space, local) {
			return &n.Kids[i]
		}
	}
	return nil
}

func (n *xnode) attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// response returns the DAV:response whose href is href.
func (n *xnode) response(t *testing.T, href string) *xnode {
	t.Helper()
	var have []string
	for i := range n.Kids {
		r := &n.Kids[i]
		if !r.is(nsDAV, "response") {
			continue
		}
		if h := r.kid(nsDAV, "href"); h != nil {
			if h.Text == href {
				return r
			}
			have = append(have, h.Text)
		}
	}
	t.Fatalf("no response for %s; have %v", href, have)
	return nil
}

// prop finds a property in a response and the status of its propstat.
func (n *xnode) prop(space, local string) (*xnode, string) {
	for i := range n.Kids {
		ps := &n.Kids[i]
		if !ps.is(nsDAV, "propstat") {
			continue
		}
		st := ""
		if s := ps.kid(nsDAV, "status"); s != nil {
			st = s.Text
		}
		if p := ps.kid(nsDAV, "prop"); p != nil {
			if v := p.kid(space, local); v != nil {
				return v, st
			}
		}
	}
	return nil, ""
}

// hrefs lists the DAV:href texts inside a property value.
func (n *xnode) hrefs() []string {
	var out []string
	for _, h := range n.find(nsDAV, "href") {
		out = append(out, strings.TrimSpace(h.Text))
	}
	return out
}

// localNames lists the local names of the element children of every
// DAV:privilege (what DAVx5 and Thunderbird read from privilege sets).
func (n *xnode) privileges() []string {
	var out []string
	for _, p := range n.find(nsDAV, "privilege") {
		for _, k := range p.Kids {
			out = append(out, k.XMLName.Local)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// davClasses splits a DAV header as clients do (comma separated, trimmed).
func davClasses(h string) []string {
	var out []string
	for _, c := range strings.Split(h, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// isQuotedETag: a strong entity-tag, as DAVx5's GetETag and go-webdav parse it.
func isQuotedETag(s string) bool {
	return len(s) >= 3 && strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`) && !strings.Contains(s[1:len(s)-1], `"`)
}

// errorConditions returns the names of the elements inside a DAV:error body.
func errorConditions(t *testing.T, r reply) []xml.Name {
	t.Helper()
	root := parseTree(t, r.body)
	if !root.is(nsDAV, "error") {
		t.Fatalf("error body root is {%s}%s, want DAV:error:\n%s", root.XMLName.Space, root.XMLName.Local, r.body)
	}
	var out []xml.Name
	for _, k := range root.Kids {
		out = append(out, k.XMLName)
	}
	return out
}

func hasCondition(names []xml.Name, space, local string) bool {
	for _, n := range names {
		if n.Space == space && n.Local == local {
			return true
		}
	}
	return false
}

// supportsVCard4 is dav4jvm's SupportedAddressData.hasVCard4().
func supportsVCard4(sad *xnode) bool {
	for _, t := range sad.find(nsCard, "address-data-type") {
		if strings.EqualFold(t.attr("content-type"), "text/vcard") && t.attr("version") == "4.0" {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------

// TestReplayDAVx5 follows DAVx5 4.x (and kSync, which is DAVx5 with its own
// login): account setup from the bare host, collection refresh, a first
// sync of a book filled by other clients, uploads, and an incremental sync.
func TestReplayDAVx5(t *testing.T) {
	s := newServer(t)
	xmlType := "Content-Type: application/xml; charset=utf-8"

	// --- Login: the user typed https://host/ -------------------------------
	// checkBaseURL: PROPFIND Depth 0 on "/"; current-user-principal is read
	// and resolved against the requested URL.
	d := parseTree(t, s.do("PROPFIND", "/", alice, davx5CheckBaseURL, "Depth: 0", xmlType).expect(t, http.StatusMultiStatus).body)
	cup, st := d.response(t, "/").prop(nsDAV, "current-user-principal")
	if cup == nil || st != statusOK || !contains(cup.hrefs(), principalPath) {
		t.Fatalf("PROPFIND /: current-user-principal %v (%q), want href %s", cup, st, principalPath)
	}
	// The user may also type the address book's own URL: checkBaseURL then
	// finds the book (resourcetype addressbook) and the principal at once.
	d = parseTree(t, s.do("PROPFIND", book, alice, davx5CheckBaseURL, "Depth: 0", xmlType).expect(t, http.StatusMultiStatus).body)
	if rt, _ := d.response(t, book).prop(nsDAV, "resourcetype"); rt == nil || rt.kid(nsCard, "addressbook") == nil {
		t.Errorf("PROPFIND on the book URL: resourcetype %+v", rt)
	}
	if cup, st := d.response(t, book).prop(nsDAV, "current-user-principal"); cup == nil || st != statusOK || !contains(cup.hrefs(), principalPath) {
		t.Errorf("PROPFIND on the book URL: current-user-principal %+v (%q)", cup, st)
	}
	// providesService: OPTIONS on the principal must list "addressbook",
	// or DAVx5 drops the principal.
	o := s.do("OPTIONS", principalPath, alice, "").expect(t, http.StatusOK)
	if !contains(davClasses(o.header.Get("DAV")), "addressbook") {
		t.Fatalf("OPTIONS %s: DAV %q lacks addressbook", principalPath, o.header.Get("DAV"))
	}
	// The well-known URL answers the same principal (tried when the
	// typed URL reveals none, and by the service discovery fallback).
	d = parseTree(t, s.do("PROPFIND", "/.well-known/carddav", alice, davx5CurrentUserPrincipal, "Depth: 0", xmlType).expect(t, http.StatusMultiStatus).body)
	if cup := d.find(nsDAV, "current-user-principal"); len(cup) != 1 || !contains(cup[0].hrefs(), principalPath) {
		t.Fatalf("PROPFIND /.well-known/carddav: current-user-principal %+v", cup)
	}
	// queryEmailAddress: the account is named after the mailto: address.
	d = parseTree(t, s.do("PROPFIND", principalPath, alice, davx5EmailAddress, "Depth: 0", xmlType).expect(t, http.StatusMultiStatus).body)
	cuas, st := d.response(t, principalPath).prop("urn:ietf:params:xml:ns:caldav", "calendar-user-address-set")
	if cuas == nil || st != statusOK || !contains(cuas.hrefs(), "mailto:alice@example.org") {
		t.Fatalf("calendar-user-address-set: %+v (%q)", cuas, st)
	}

	// --- Collection refresh -------------------------------------------------
	d = parseTree(t, s.do("PROPFIND", principalPath, alice, davx5PrincipalHomeSets, "Depth: 0", xmlType).expect(t, http.StatusMultiStatus).body)
	pr := d.response(t, principalPath)
	if hs, st := pr.prop(nsCard, "addressbook-home-set"); hs == nil || st != statusOK || len(hs.hrefs()) != 1 || hs.hrefs()[0] != home {
		t.Fatalf("addressbook-home-set: %+v (%q), want exactly %s", hs, st, home)
	}
	if dn, st := pr.prop(nsDAV, "displayname"); dn == nil || st != statusOK || dn.Text != alice {
		t.Errorf("principal displayname: %+v (%q)", dn, st)
	}
	if gm, st := pr.prop(nsDAV, "group-membership"); gm == nil || st != statusOK {
		t.Errorf("group-membership: %+v (%q)", gm, st)
	}

	r := s.do("PROPFIND", home, alice, davx5CollectionProperties, "Depth: 1", xmlType).expect(t, http.StatusMultiStatus)
	d = parseTree(t, r.body)
	b := d.response(t, book)
	rt, _ := b.prop(nsDAV, "resourcetype")
	if rt == nil || rt.kid(nsCard, "addressbook") == nil || rt.kid(nsDAV, "collection") == nil {
		t.Fatalf("book resourcetype: %+v", rt)
	}
	if dn, st := b.prop(nsDAV, "displayname"); dn == nil || st != statusOK || dn.Text != "Contacts" {
		t.Errorf("book displayname: %+v (%q)", dn, st)
	}
	// Read-only unless the privileges allow writing content.
	privs, st := b.prop(nsDAV, "current-user-privilege-set")
	if privs == nil || st != statusOK {
		t.Fatalf("book current-user-privilege-set: %q", st)
	}
	if p := privs.privileges(); !contains(p, "all") && !(contains(p, "write-content") && contains(p, "bind") && contains(p, "unbind")) {
		t.Errorf("book privileges %v: DAVx5 would treat the book as read-only", p)
	}
	if ow, st := b.prop(nsDAV, "owner"); ow == nil || st != statusOK || !contains(ow.hrefs(), principalPath) {
		t.Errorf("book owner: %+v (%q)", ow, st)
	}
	sad, st := b.prop(nsCard, "supported-address-data")
	if sad == nil || st != statusOK || !supportsVCard4(sad) {
		t.Fatalf("supported-address-data %+v (%q): DAVx5 would stay on vCard 3", sad, st)
	}
	if ct, st := b.prop(nsCS, "getctag"); ct == nil || st != statusOK || strings.TrimSpace(ct.Text) == "" {
		t.Errorf("getctag: %+v (%q)", ct, st)
	}
	if tok, st := b.prop(nsDAV, "sync-token"); tok == nil || st != statusOK || strings.TrimSpace(tok.Text) == "" {
		t.Errorf("sync-token: %+v (%q)", tok, st)
	}
	if srs, st := b.prop(nsDAV, "supported-report-set"); srs == nil || st != statusOK || len(srs.find(nsDAV, "sync-collection")) != 1 {
		t.Errorf("supported-report-set lacks sync-collection: %+v (%q)", srs, st)
	}
	// Properties the book does not have are 404 inside the 207, never an error.
	if _, st := b.prop(nsCS, "source"); st != "HTTP/1.1 404 Not Found" {
		t.Errorf("CS:source status %q, want 404 propstat", st)
	}
	if hr := d.response(t, home); hr != nil {
		if rt, _ := hr.prop(nsDAV, "resourcetype"); rt == nil || rt.kid(nsCard, "addressbook") != nil {
			t.Errorf("home must not look like an address book: %+v", rt)
		}
	}

	// --- The book is filled by other clients first (Apple: vCard 3) --------
	const n = 23
	for i := 0; i < n; i++ {
		uid := fmt.Sprintf("c%02d", i)
		extra := []string{"EMAIL;TYPE=INTERNET:" + uid + "@example.net"}
		if i == 0 {
			extra = []string{"X-ADDRESSBOOKSERVER-KIND:group", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:c01", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:c02"}
		}
		s.put(bob, "/dav/addressbooks/bob@example.org/contacts/"+uid+".vcf", card(uid, "Bob's "+uid)).expect(t, http.StatusCreated)
		data := card(uid, "Card "+uid, extra...)
		if i == 3 {
			data = iPhoneCard
		}
		s.put(alice, book+uid+".vcf", data, "If-None-Match: *", "Content-Type: text/vcard").expect(t, http.StatusCreated)
	}

	// --- First sync ---------------------------------------------------------
	d = parseTree(t, s.do("PROPFIND", book, alice, davx5QueryCapabilities, "Depth: 0", xmlType).expect(t, http.StatusMultiStatus).body)
	caps := d.response(t, book)
	if sad, _ := caps.prop(nsCard, "supported-address-data"); sad == nil || !supportsVCard4(sad) {
		t.Fatal("queryCapabilities: no vCard 4")
	}
	if srs, _ := caps.prop(nsDAV, "supported-report-set"); srs == nil || len(srs.find(nsDAV, "sync-collection")) != 1 {
		t.Fatal("queryCapabilities: no sync-collection, DAVx5 would fall back to PROPFIND listings")
	}
	tokBefore, _ := caps.prop(nsDAV, "sync-token")

	r = s.do("REPORT", book, alice, davx5SyncCollection(""), "Depth: 0", xmlType).expect(t, http.StatusMultiStatus)
	d = parseTree(t, r.body)
	token := ""
	if tk := d.kid(nsDAV, "sync-token"); tk != nil {
		token = strings.TrimSpace(tk.Text)
	}
	if token == "" {
		t.Fatalf("initial sync-collection without sync-token (DAVx5 fails the sync):\n%s", r.body)
	}
	if tokBefore == nil || token != strings.TrimSpace(tokBefore.Text) {
		t.Errorf("sync-collection token %q differs from the book's sync-token %+v", token, tokBefore)
	}
	etags := map[string]string{}
	var members []string
	for _, resp := range d.find(nsDAV, "response") {
		href := resp.kid(nsDAV, "href").Text
		et, st := resp.prop(nsDAV, "getetag")
		if et == nil || st != statusOK || !isQuotedETag(et.Text) {
			t.Errorf("%s: getetag %+v (%q); DAVx5 fails the sync on a member without one", href, et, st)
			continue
		}
		etags[href] = et.Text
		members = append(members, href)
	}
	if len(members) != n {
		t.Fatalf("initial sync listed %d members, want %d", len(members), n)
	}
	sort.Strings(members)

	// downloadRemote: multiget in bunches of 10, asking for vCard 4.
	var batches []int
	for start := 0; start < len(members); start += 10 {
		end := min(start+10, len(members))
		bunch := members[start:end]
		batches = append(batches, len(bunch))
		r := s.do("REPORT", book, alice, davx5Multiget(bunch, true), "Depth: 0", xmlType).expect(t, http.StatusMultiStatus)
		d := parseTree(t, r.body)
		if got := len(d.find(nsDAV, "response")); got != len(bunch) {
			t.Fatalf("multiget of %d hrefs answered %d responses", len(bunch), got)
		}
		for _, href := range bunch {
			resp := d.response(t, href)
			et, st := resp.prop(nsDAV, "getetag")
			if et == nil || st != statusOK || et.Text != etags[href] {
				t.Errorf("%s: multiget getetag %+v, sync said %s", href, et, etags[href])
			}
			ad, st := resp.prop(nsCard, "address-data")
			if ad == nil || st != statusOK {
				t.Fatalf("%s: no address-data (%q); DAVx5 throws 'Received multi-get response without address data'", href, st)
			}
			if !strings.HasPrefix(ad.Text, "BEGIN:VCARD\r\nVERSION:4.0\r\n") {
				t.Errorf("%s: asked version 4.0, got:\n%q", href, ad.Text)
			}
			if ct, _ := resp.prop(nsDAV, "getcontenttype"); ct == nil || strings.Contains(ct.Text, "json") {
				t.Errorf("%s: getcontenttype %+v would make DAVx5 parse jCard", href, ct)
			}
			if href == book+"c03.vcf" {
				// iPhone's inline photo becomes a data: URI, its labelled
				// e-mail keeps its group.
				for _, want := range []string{"\r\nPHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/", "\r\nitem1.EMAIL;TYPE=INTERNET:jo@example.com\r\n", "\r\nitem1.X-ABLabel:_$!<Other>!$_\r\n", "\r\nUID:c03\r\n"} {
					if !strings.Contains(unfold(ad.Text), unfold(want)) {
						t.Errorf("iPhone card as vCard 4 lacks %q:\n%s", strings.TrimSpace(want), ad.Text)
					}
				}
				if strings.Contains(ad.Text, "ENCODING=") {
					t.Errorf("vCard 4 keeps ENCODING=b:\n%s", ad.Text)
				}
			}
			if href == book+"c00.vcf" && (!strings.Contains(ad.Text, "\r\nKIND:group\r\n") || !strings.Contains(ad.Text, "\r\nMEMBER:urn:uuid:c01\r\n")) {
				t.Errorf("Apple group as vCard 4 lacks KIND/MEMBER:\n%s", ad.Text)
			}
		}
	}
	if fmt.Sprint(batches) != "[10 10 3]" {
		t.Errorf("batches %v", batches)
	}

	// --- Uploads ------------------------------------------------------------
	newHref := book + "3f1e2d4c-6b7a-4c1d-9e8f-0a1b2c3d4e5f.vcf"
	put := s.put(alice, newHref, davx5Card("3f1e2d4c-6b7a-4c1d-9e8f-0a1b2c3d4e5f", "Dana Droid"), "If-None-Match: *", davx5PutType).expect(t, http.StatusCreated)
	newETag := put.header.Get("ETag")
	if !isQuotedETag(newETag) {
		t.Fatalf("PUT new card: ETag %q (DAVx5 then has to download it again)", newETag)
	}
	// The same name again with If-None-Match: * must not overwrite.
	s.put(alice, newHref, davx5Card("3f1e2d4c-6b7a-4c1d-9e8f-0a1b2c3d4e5f", "Dana Twice"), "If-None-Match: *", davx5PutType).expect(t, http.StatusPreconditionFailed)

	c01 := book + "c01.vcf"
	upd := s.put(alice, c01, davx5Card("c01", "Card c01 edited on the phone"), "If-Match: "+etags[c01], davx5PutType).expect(t, http.StatusNoContent)
	c01ETag := upd.header.Get("ETag")
	if !isQuotedETag(c01ETag) || c01ETag == etags[c01] {
		t.Fatalf("PUT with If-Match: new ETag %q (was %s)", c01ETag, etags[c01])
	}
	// Another device edited it meanwhile: the old ETag is stale.
	s.put(alice, c01, davx5Card("c01", "Stale edit"), "If-Match: "+etags[c01], davx5PutType).expect(t, http.StatusPreconditionFailed)
	s.do("DELETE", book+"c02.vcf", alice, "", `If-Match: "not-the-etag"`).expect(t, http.StatusPreconditionFailed)
	s.do("DELETE", book+"c02.vcf", alice, "", "If-Match: "+etags[book+"c02.vcf"]).expect(t, http.StatusNoContent)

	// --- Incremental sync ---------------------------------------------------
	r = s.do("REPORT", book, alice, davx5SyncCollection(token), "Depth: 0", xmlType).expect(t, http.StatusMultiStatus)
	d = parseTree(t, r.body)
	got := map[string]*xnode{}
	for _, resp := range d.find(nsDAV, "response") {
		got[resp.kid(nsDAV, "href").Text] = resp
	}
	if len(got) != 3 {
		t.Fatalf("incremental sync: %d responses, want the new card, c01 and deleted c02:\n%s", len(got), r.body)
	}
	for href, want := range map[string]string{newHref: newETag, c01: c01ETag} {
		resp := got[href]
		if resp == nil {
			t.Errorf("incremental sync lacks %s", href)
			continue
		}
		// The ETag from the PUT answer must be the listed one, or DAVx5
		// downloads its own upload again.
		if et, st := resp.prop(nsDAV, "getetag"); et == nil || st != statusOK || et.Text != want {
			t.Errorf("%s: getetag %+v, PUT answered %s", href, et, want)
		}
	}
	del := got[book+"c02.vcf"]
	if del == nil {
		t.Fatal("incremental sync lacks the deleted c02")
	}
	if st := del.kid(nsDAV, "status"); st == nil || st.Text != "HTTP/1.1 404 Not Found" || del.kid(nsDAV, "propstat") != nil {
		t.Errorf("deleted member must be a 404 response without propstat: %+v", del)
	}
	next := ""
	if tk := d.kid(nsDAV, "sync-token"); tk != nil {
		next = strings.TrimSpace(tk.Text)
	}
	if next == "" || next == token {
		t.Errorf("incremental sync token %q (previous %q)", next, token)
	}

	// --- Invalid token: 400 with DAV:valid-sync-token resets the sync -------
	for _, bad := range []string{"http://other.example/sync/1", token + "9999", "garbage"} {
		r := s.do("REPORT", book, alice, davx5SyncCollection(bad), "Depth: 0", xmlType).expect(t, http.StatusBadRequest)
		// dav4jvm reads the error elements only from an XML body.
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") && !strings.HasPrefix(ct, "text/xml") {
			t.Errorf("token %q: error Content-Type %q is not XML", bad, ct)
		}
		if c := errorConditions(t, r); !hasCondition(c, nsDAV, "valid-sync-token") {
			t.Errorf("token %q: error conditions %v, DAVx5 needs DAV:valid-sync-token", bad, c)
		}
	}
}

// TestReplayAppleContacts follows iOS / macOS Contacts: discovery, the
// home listing with Brief, the me-card, vCard 3 reads of vCard 4 cards,
// and a multiget that contains cards the server would not accept today.
func TestReplayAppleContacts(t *testing.T) {
	t.Run("discovery and me-card", func(t *testing.T) {
		s := newServer(t)
		ua := "User-Agent: iOS/17.5 (21F79) dataaccessd/1.0"
		for _, start := range []string{"/.well-known/carddav", "/"} {
			r := s.do("PROPFIND", start, alice, appleCurrentUserPrincipal, "Depth: 0", "Content-Type: text/xml", ua)
			d := parseTree(t, r.expect(t, http.StatusMultiStatus).body)
			cup := d.find(nsDAV, "current-user-principal")
			if len(cup) != 1 || !contains(cup[0].hrefs(), principalPath) {
				t.Fatalf("PROPFIND %s: current-user-principal %+v", start, cup)
			}
		}
		if o := s.do("OPTIONS", principalPath, alice, "", ua).expect(t, http.StatusOK); !contains(davClasses(o.header.Get("DAV")), "addressbook") {
			t.Fatalf("OPTIONS principal: DAV %q lacks addressbook", o.header.Get("DAV"))
		}

		d := parseTree(t, s.do("PROPFIND", principalPath, alice, applePrincipal, "Depth: 0", ua).expect(t, http.StatusMultiStatus).body)
		p := d.response(t, principalPath)
		if hs, st := p.prop(nsCard, "addressbook-home-set"); hs == nil || st != statusOK || !contains(hs.hrefs(), home) {
			t.Fatalf("addressbook-home-set %+v (%q)", hs, st)
		}
		if pu, st := p.prop(nsDAV, "principal-URL"); pu == nil || st != statusOK || !contains(pu.hrefs(), principalPath) {
			t.Errorf("principal-URL %+v (%q)", pu, st)
		}
		if es, st := p.prop(nsCS, "email-address-set"); es == nil || st != statusOK || !strings.Contains(es.Text+innerTexts(es), alice) {
			t.Errorf("CS:email-address-set %+v (%q)", es, st)
		}
		// Unknown properties (directory-gateway, resource-id) are per-property 404s.
		if _, st := p.prop(nsCard, "directory-gateway"); st != "HTTP/1.1 404 Not Found" {
			t.Errorf("directory-gateway status %q", st)
		}

		// The home, Depth 1, with Brief: t: no 404 propstats at all.
		r := s.do("PROPFIND", home, alice, appleHome, "Depth: 1", "Brief: t", ua).expect(t, http.StatusMultiStatus)
		ms := parseMS(t, r)
		for _, resp := range ms.Responses {
			for _, ps := range resp.Propstats {
				if ps.Status != statusOK {
					t.Errorf("Brief: t answer has a %q propstat for %v", ps.Status, resp.Hrefs)
				}
			}
		}
		d = parseTree(t, r.body)
		hr := d.response(t, home)
		if privs, _ := hr.prop(nsDAV, "current-user-privilege-set"); privs == nil || !contains(privs.privileges(), "bind") && !contains(privs.privileges(), "all") {
			t.Errorf("home privileges without bind: Contacts offers no new group/book")
		}
		b := d.response(t, book)
		if ct, _ := b.prop(nsCS, "getctag"); ct == nil || strings.TrimSpace(ct.Text) == "" {
			t.Fatalf("home child %s has no getctag: macOS Contacts shows nothing", book)
		}
		if rt, _ := b.prop(nsDAV, "resourcetype"); rt == nil || rt.kid(nsCard, "addressbook") == nil {
			t.Fatalf("home child resourcetype %+v", rt)
		}
		if mrs, _ := b.prop(nsCard, "max-resource-size"); mrs == nil || strings.TrimSpace(mrs.Text) == "" {
			t.Errorf("max-resource-size missing on the book")
		}

		// The same listing with Prefer: return-minimal (newer macOS): no 404s either.
		r = s.do("PROPFIND", home, alice, appleHome, "Depth: 1", "Prefer: return-minimal", ua).expect(t, http.StatusMultiStatus)
		for _, resp := range parseMS(t, r).Responses {
			for _, ps := range resp.Propstats {
				if ps.Status != statusOK {
					t.Errorf("Prefer: return-minimal answer has a %q propstat for %v", ps.Status, resp.Hrefs)
				}
			}
		}
		if ct, _ := parseTree(t, r.body).response(t, book).prop(nsCS, "getctag"); ct == nil || ct.Text == "" {
			t.Errorf("return-minimal dropped getctag")
		}

		// getctag and sync-token on the single book.
		d = parseTree(t, s.do("PROPFIND", book, alice, appleBookCTag, "Depth: 0", ua).expect(t, http.StatusMultiStatus).body)
		ctag0, _ := d.response(t, book).prop(nsCS, "getctag")
		if ctag0 == nil || ctag0.Text == "" {
			t.Fatal("book getctag missing")
		}

		// A new card from the phone, then the user makes it the me-card.
		me := book + "E7213AAA-7206-4B97-926A-CDFECBD91C26.vcf"
		s.put(alice, me, card("E7213AAA-7206-4B97-926A-CDFECBD91C26", "Alice Example"), "If-None-Match: *", "Content-Type: text/vcard", ua).expect(t, http.StatusCreated)
		d = parseTree(t, s.do("PROPFIND", book, alice, appleBookCTag, "Depth: 0", ua).expect(t, http.StatusMultiStatus).body)
		if ctag1, _ := d.response(t, book).prop(nsCS, "getctag"); ctag1 == nil || ctag1.Text == ctag0.Text {
			t.Errorf("getctag did not change after a PUT (%v): Contacts would not re-sync", ctag1)
		}

		r = s.do("PROPPATCH", home, alice, appleMeCard(me), "Content-Type: text/xml", ua)
		if r.status != http.StatusMultiStatus {
			t.Fatalf("PROPPATCH me-card on the home: %d, want 207 with a per-property status:\n%s", r.status, r.body)
		}
		d = parseTree(t, r.body)
		mc, st := d.response(t, home).prop(nsCS, "me-card")
		if mc == nil {
			t.Fatalf("PROPPATCH answer does not mention me-card:\n%s", r.body)
		}
		switch st {
		case statusOK, "HTTP/1.1 403 Forbidden", "HTTP/1.1 404 Not Found":
		default:
			t.Errorf("me-card status %q", st)
		}
		if st == statusOK {
			d = parseTree(t, s.do("PROPFIND", home, alice, appleHome, "Depth: 0", ua).expect(t, http.StatusMultiStatus).body)
			if v, _ := d.response(t, home).prop(nsCS, "me-card"); v == nil || !contains(v.hrefs(), me) {
				t.Errorf("me-card accepted but not returned: %+v", v)
			}
		}

		// Listing and fetching like iOS: getetag Depth 1, then multiget.
		d = parseTree(t, s.do("PROPFIND", book, alice, appleListETags, "Depth: 1", "Brief: t", ua).expect(t, http.StatusMultiStatus).body)
		et, st := d.response(t, me).prop(nsDAV, "getetag")
		if et == nil || st != statusOK || !isQuotedETag(et.Text) {
			t.Fatalf("listing getetag %+v (%q)", et, st)
		}
		// Some Apple versions percent-encode the "@" of the login in hrefs;
		// each href is answered under the spelling that was sent.
		meEnc := strings.Replace(me, "alice@example.org", "alice%40example.org", 1)
		d = parseTree(t, s.do("REPORT", book, alice, appleMultiget([]string{me, meEnc}, ""), "Depth: 0", ua).expect(t, http.StatusMultiStatus).body)
		for _, h := range []string{me, meEnc} {
			if ad, st := d.response(t, h).prop(nsCard, "address-data"); ad == nil || st != statusOK || ad.Text != card("E7213AAA-7206-4B97-926A-CDFECBD91C26", "Alice Example") {
				t.Errorf("multiget %s: address-data %+v (%q)", h, ad, st)
			}
		}
	})

	t.Run("vCard 3 reads of vCard 4 cards", func(t *testing.T) {
		s := newServer(t)
		group := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:apple-grp-1\r\nFN:Bridge Club\r\nKIND:group\r\n" +
			"MEMBER:urn:uuid:apple-m-1\r\nMEMBER:urn:uuid:apple-m-2\r\nEND:VCARD\r\n"
		photo := "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:apple-photo-1\r\nFN:Zoë Ångström\r\nN:Ångström;Zoë;;;\r\n" +
			"PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==\r\nEND:VCARD\r\n"
		// Written by DAVx5 on another device.
		s.put(alice, book+"apple-grp-1.vcf", group, "If-None-Match: *", davx5PutType).expect(t, http.StatusCreated)
		s.put(alice, book+"apple-photo-1.vcf", photo, "If-None-Match: *", davx5PutType).expect(t, http.StatusCreated)
		hrefs := []string{book + "apple-grp-1.vcf", book + "apple-photo-1.vcf"}

		// address-data without a version: served as stored.
		d := parseTree(t, s.do("REPORT", book, alice, appleMultiget(hrefs, ""), "Depth: 0").expect(t, http.StatusMultiStatus).body)
		for h, want := range map[string]string{hrefs[0]: group, hrefs[1]: photo} {
			if ad, st := d.response(t, h).prop(nsCard, "address-data"); ad == nil || st != statusOK || ad.Text != want {
				t.Errorf("%s as stored: got %+v (%q)", h, ad, st)
			}
		}

		check3 := func(how, h, got string) {
			t.Helper()
			if !strings.HasPrefix(got, "BEGIN:VCARD\r\nVERSION:3.0\r\n") {
				t.Errorf("%s %s: not vCard 3:\n%s", how, h, got)
			}
			switch h {
			case hrefs[0]:
				for _, want := range []string{"\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n", "\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:apple-m-1\r\n", "\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:apple-m-2\r\n", "\r\nUID:apple-grp-1\r\n"} {
					if !strings.Contains(got, want) {
						t.Errorf("%s group lacks %q:\n%s", how, strings.TrimSpace(want), got)
					}
				}
				if strings.Contains(got, "\r\nKIND:") || strings.Contains(got, "\r\nMEMBER:") {
					t.Errorf("%s group keeps vCard 4 KIND/MEMBER:\n%s", how, got)
				}
			case hrefs[1]:
				if !strings.Contains(got, "\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ==\r\n") {
					t.Errorf("%s photo not as ENCODING=b;TYPE=JPEG:\n%s", how, got)
				}
				if !strings.Contains(got, "\r\nFN:Zoë Ångström\r\n") {
					t.Errorf("%s lost the UTF-8 name:\n%s", how, got)
				}
			}
		}
		// address-data version 3.0.
		d = parseTree(t, s.do("REPORT", book, alice, appleMultiget(hrefs, "3.0"), "Depth: 0").expect(t, http.StatusMultiStatus).body)
		for _, h := range hrefs {
			ad, st := d.response(t, h).prop(nsCard, "address-data")
			if ad == nil || st != statusOK {
				t.Fatalf("%s: address-data %q", h, st)
			}
			check3("multiget 3.0", h, ad.Text)
		}
		// GET with Accept: text/vcard;version=3.0.
		for _, h := range hrefs {
			g := s.do("GET", h, alice, "", "Accept: text/vcard;version=3.0").expect(t, http.StatusOK)
			if !strings.HasPrefix(g.header.Get("Content-Type"), "text/vcard") {
				t.Errorf("GET %s: Content-Type %q", h, g.header.Get("Content-Type"))
			}
			check3("GET 3.0", h, g.body)
		}
	})

	t.Run("bad stored cards do not break a multiget", func(t *testing.T) {
		s := newServer(t)
		ctx := context.Background()
		c, err := s.st.GetCollection(ctx, alice, store.KindCard, "contacts")
		if err != nil {
			t.Fatal(err)
		}
		good1, good2 := card("good-1", "Good One"), card("good-2", "Good Two")
		s.put(alice, book+"good-1.vcf", good1).expect(t, http.StatusCreated)
		s.put(alice, book+"good-2.vcf", good2).expect(t, http.StatusCreated)
		// Cards that Validate refuses today, stored by an older version or an import.
		bad := map[string]string{
			"bad-colon.vcf":   "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad-colon\r\nFN Broken Line\r\nEND:VCARD\r\n",
			"bad-version.vcf": "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:bad-version\r\nN:Old;Phone\r\nFN:Old Phone\r\nEND:VCARD\r\n",
			"bad-noend.vcf":   "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad-noend\r\nFN:No End\r\n",
		}
		for name, data := range bad {
			if _, _, err := s.st.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: strings.TrimSuffix(name, ".vcf"), Data: []byte(data)}, store.Conditions{}); err != nil {
				t.Fatal(err)
			}
		}
		hrefs := []string{book + "good-1.vcf", book + "bad-colon.vcf", book + "bad-version.vcf", book + "bad-noend.vcf", book + "good-2.vcf"}
		want := map[string]string{hrefs[0]: good1, hrefs[4]: good2}
		for name, data := range bad {
			want[book+name] = data
		}
		// Bytes XML cannot carry: a vertical tab (Outlook exports) and
		// Latin-1 text. The answer must stay well-formed XML and keep the
		// rest of the card.
		odd := map[string]string{
			"odd-ctrl.vcf":   "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:odd-ctrl\r\nFN:Tab\vbed\r\nNOTE:line\x01one\r\nEND:VCARD\r\n",
			"odd-latin1.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:odd-latin1\r\nFN:J\xfcrgen M\xfcller\r\nEND:VCARD\r\n",
		}
		for name, data := range odd {
			if _, _, err := s.st.PutObject(ctx, &store.Object{Collection: c.ID, Name: name, UID: strings.TrimSuffix(name, ".vcf"), Data: []byte(data)}, store.Conditions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, version := range []string{"", "3.0"} {
			oddHrefs := []string{book + "odd-ctrl.vcf", book + "odd-latin1.vcf", book + "good-1.vcf"}
			r := s.do("REPORT", book, alice, appleMultiget(oddHrefs, version), "Depth: 0")
			if r.status != http.StatusMultiStatus {
				t.Fatalf("multiget (version %q) of cards with control bytes: %d:\n%s", version, r.status, r.body)
			}
			d := parseTree(t, r.body) // fails unless well-formed
			for _, h := range oddHrefs {
				ad, st := d.response(t, h).prop(nsCard, "address-data")
				uid := strings.TrimSuffix(strings.TrimPrefix(h, book), ".vcf")
				if ad == nil || st != statusOK || !strings.HasPrefix(ad.Text, "BEGIN:VCARD\r\n") || !strings.Contains(ad.Text, "\r\nUID:"+uid+"\r\n") || !strings.HasSuffix(ad.Text, "END:VCARD\r\n") {
					t.Errorf("version %q: %s address-data %+v (%q)", version, h, ad, st)
				}
			}
		}

		for _, version := range []string{"", "3.0"} {
			r := s.do("REPORT", book, alice, appleMultiget(hrefs, version), "Depth: 0")
			if r.status != http.StatusMultiStatus {
				t.Fatalf("multiget (version %q) with bad cards: %d, want 207 (iOS repeats this request forever):\n%s", version, r.status, r.body)
			}
			d := parseTree(t, r.body)
			for _, h := range hrefs {
				resp := d.response(t, h)
				ad, st := resp.prop(nsCard, "address-data")
				if ad == nil || st != statusOK {
					t.Errorf("version %q: %s has no address-data (%q)", version, h, st)
					continue
				}
				if et, _ := resp.prop(nsDAV, "getetag"); et == nil || !isQuotedETag(et.Text) {
					t.Errorf("version %q: %s getetag %+v", version, h, et)
				}
				if ad.Text != want[h] {
					t.Errorf("version %q: %s served\n%q\nwant what is stored:\n%q", version, h, ad.Text, want[h])
				}
			}
		}
		// The same cards over GET with Accept: version=3.0 and in the listing.
		for name, data := range bad {
			g := s.do("GET", book+name, alice, "", "Accept: text/vcard;version=3.0").expect(t, http.StatusOK)
			if g.body != data {
				t.Errorf("GET %s as 3.0: %q, want stored %q", name, g.body, data)
			}
		}
		d := parseTree(t, s.do("PROPFIND", book, alice, appleListETags, "Depth: 1", "Brief: t").expect(t, http.StatusMultiStatus).body)
		if n := len(d.find(nsDAV, "response")); n != 8 {
			t.Errorf("listing has %d responses, want book + 7 cards", n)
		}
	})
}

// innerTexts concatenates the text of an element's descendants.
func innerTexts(n *xnode) string {
	var b strings.Builder
	for i := range n.Kids {
		b.WriteString(n.Kids[i].Text)
		b.WriteString(innerTexts(&n.Kids[i]))
	}
	return b.String()
}

// TestReplayThunderbird follows Thunderbird's CardDAV address book: setup,
// full fetch, sync token, local edits sent without conditions, incremental
// sync with inline address-data, and recovery from a rejected token.
func TestReplayThunderbird(t *testing.T) {
	s := newServer(t)
	// Someone else's cards are already there.
	s.put(alice, book+"tb-seed-1.vcf", card("tb-seed-1", "Seed One")).expect(t, http.StatusCreated)
	s.put(alice, book+"tb-seed-2.vcf", card("tb-seed-2", "Seed Two")).expect(t, http.StatusCreated)
	tb := "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"

	// readResponse takes, per response, the prop of the propstat whose
	// status is literally "HTTP/1.1 200 OK", and treats a response status
	// starting with "HTTP/1.1 404" as removed.
	type tbResp struct {
		href     string
		notFound bool
		props    *xnode
	}
	readResponse := func(body string) []tbResp {
		t.Helper()
		root := parseTree(t, body)
		if root.XMLName.Local != "multistatus" {
			t.Fatalf("Expected a multistatus response, but didn't get one:\n%s", body)
		}
		var out []tbResp
		for _, r := range root.find(nsDAV, "response") {
			tr := tbResp{}
			if h := r.kid(nsDAV, "href"); h != nil {
				tr.href = h.Text
			}
			if st := r.kid(nsDAV, "status"); st != nil && strings.HasPrefix(st.Text, "HTTP/1.1 404") {
				tr.notFound = true
				out = append(out, tr)
				continue
			}
			for i := range r.Kids {
				ps := &r.Kids[i]
				if ps.is(nsDAV, "propstat") && ps.kid(nsDAV, "status") != nil && ps.kid(nsDAV, "status").Text == statusOK {
					tr.props = ps.kid(nsDAV, "prop")
				}
			}
			out = append(out, tr)
		}
		return out
	}

	// --- Setup (CardDAVUtils.detectAddressBooks with https://host/) ---------
	d := parseTree(t, s.do("PROPFIND", "/.well-known/carddav", alice, tbDiscoverPrincipal, "Depth: 0", tb).expect(t, http.StatusMultiStatus).body)
	cup := d.find(nsDAV, "current-user-principal")
	if len(cup) != 1 || len(cup[0].hrefs()) == 0 || cup[0].hrefs()[0] != principalPath {
		t.Fatalf("well-known: current-user-principal %+v", cup)
	}
	d = parseTree(t, s.do("PROPFIND", principalPath, alice, tbDiscoverHomeSet, "Depth: 0", tb).expect(t, http.StatusMultiStatus).body)
	hs := d.find(nsCard, "addressbook-home-set")
	if len(hs) != 1 || len(hs[0].hrefs()) == 0 || hs[0].hrefs()[0] != home {
		t.Fatalf("addressbook-home-set %+v", hs)
	}
	booksReply := s.do("PROPFIND", home, alice, tbDiscoverBooks, "Depth: 1", tb).expect(t, http.StatusMultiStatus)
	d = parseTree(t, booksReply.body)
	found := 0
	for _, r := range d.find(nsDAV, "response") {
		// r.querySelector("status"): the first status in the response.
		sts := r.find(nsDAV, "status")
		if len(sts) == 0 || sts[0].Text != statusOK || len(r.find(nsCard, "addressbook")) == 0 {
			continue
		}
		found++
		if href := r.kid(nsDAV, "href").Text; href != book {
			t.Errorf("found book %s, want %s", href, book)
		}
		privs := r.find(nsDAV, "current-user-privilege-set")
		if len(privs) != 1 || !(contains(privs[0].privileges(), "all") || contains(privs[0].privileges(), "write")) {
			t.Errorf("book privileges %+v: Thunderbird would add it read-only", privs)
		}
		if dn := r.find(nsDAV, "displayname"); len(dn) != 1 || dn[0].Text != "Contacts" {
			t.Errorf("book displayname %+v", dn)
		}
	}
	if found != 1 {
		t.Fatalf("Thunderbird found %d address books in:\n%s", found, booksReply.body)
	}
	// OPTIONS on the parent collection of the cards.
	o := s.do("OPTIONS", book, alice, "", tb).expect(t, http.StatusOK)
	if !contains(davClasses(o.header.Get("DAV")), "addressbook") {
		t.Errorf("OPTIONS %s: DAV %q", book, o.header.Get("DAV"))
	}

	// --- fetchAllFromServer -----------------------------------------------
	fetchAll := func() map[string]string {
		t.Helper()
		var hrefs []string
		for _, r := range readResponse(s.do("PROPFIND", book, alice, tbListCards, "Depth: 1", tb).expect(t, http.StatusMultiStatus).body) {
			if r.props == nil || len(r.props.find(nsDAV, "collection")) > 0 {
				continue
			}
			// updateAllFromServerV1 skips members without resourcetype and
			// reads getetag from the same 200 propstat.
			if r.props.kid(nsDAV, "resourcetype") == nil || r.props.kid(nsDAV, "getetag") == nil {
				t.Errorf("listing %s: 200 propstat lacks resourcetype or getetag", r.href)
			}
			hrefs = append(hrefs, r.href)
		}
		etags := map[string]string{}
		for _, r := range readResponse(s.do("REPORT", book, alice, tbMultiget(hrefs), "Depth: 1", tb).expect(t, http.StatusMultiStatus).body) {
			if r.props == nil {
				t.Errorf("multiget %s: no 200 propstat", r.href)
				continue
			}
			et, ad := r.props.kid(nsDAV, "getetag"), r.props.kid(nsCard, "address-data")
			if et == nil || ad == nil || !strings.HasPrefix(ad.Text, "BEGIN:VCARD\r\n") {
				t.Errorf("multiget %s: getetag %v, address-data %v", r.href, et, ad)
				continue
			}
			etags[r.href] = et.Text
		}
		return etags
	}
	all := fetchAll()
	if len(all) != 2 || all[book+"tb-seed-1.vcf"] == "" || all[book+"tb-seed-2.vcf"] == "" {
		t.Fatalf("fetchAllFromServer stored %v", all)
	}
	getSyncToken := func() string {
		t.Helper()
		for _, r := range readResponse(s.do("PROPFIND", book, alice, tbGetSyncToken, "Depth: 0", tb).expect(t, http.StatusMultiStatus).body) {
			if r.props != nil {
				if tok := r.props.kid(nsDAV, "sync-token"); tok != nil && tok.Text != "" {
					return tok.Text
				}
			}
		}
		t.Fatal("_getSyncToken: no sync-token in a 200 propstat")
		return ""
	}
	token := getSyncToken()

	// --- Local edits: PUT without If-Match / If-None-Match -----------------
	newHref := book + "5b3c7a90-tb-0001.vcf"
	s.do("PUT", newHref, alice, tbCard("5b3c7a90-tb-0001", "Theo Bird", "theo@example.org"), "Content-Type: text/vcard", tb).expect(t, http.StatusCreated)
	// Then a one-href multiget at the same location for the stored copy.
	rs := readResponse(s.do("REPORT", book, alice, tbMultiget([]string{newHref}), "Depth: 1", tb).expect(t, http.StatusMultiStatus).body)
	if len(rs) != 1 || rs[0].href != newHref || rs[0].props == nil || rs[0].props.kid(nsDAV, "getetag") == nil {
		t.Fatalf("multiget after PUT: %+v", rs)
	}
	s.do("PUT", newHref, alice, tbCard("5b3c7a90-tb-0001", "Theo Bird", "theo@work.example"), "Content-Type: text/vcard", tb).expect(t, http.StatusNoContent)
	s.do("PUT", book+"tb-seed-1.vcf", alice, card("tb-seed-1", "Seed One Edited in Thunderbird"), "Content-Type: text/vcard", tb).expect(t, http.StatusNoContent)
	// Deletion, also without conditions.
	s.do("DELETE", book+"tb-seed-2.vcf", alice, "", tb).expect(t, http.StatusNoContent)

	// --- updateAllFromServerV2 -------------------------------------------
	r := s.do("REPORT", book, alice, tbSyncCollection(token), "Depth: 1", tb).expect(t, http.StatusMultiStatus)
	got := map[string]tbResp{}
	for _, x := range readResponse(r.body) {
		got[x.href] = x
	}
	if len(got) != 3 {
		t.Fatalf("incremental sync: %d responses:\n%s", len(got), r.body)
	}
	for _, h := range []string{newHref, book + "tb-seed-1.vcf"} {
		x := got[h]
		if x.props == nil {
			t.Errorf("%s: no propstat with status exactly %q:\n%s", h, statusOK, r.body)
			continue
		}
		if et := x.props.kid(nsDAV, "getetag"); et == nil || et.Text == "" {
			t.Errorf("%s: no getetag, Thunderbird skips the card", h)
		}
		ad := x.props.kid(nsCard, "address-data")
		if ad == nil || ad.Text == "" {
			t.Errorf("%s: no inline address-data, Thunderbird has to multiget it", h)
			continue
		}
		if !strings.Contains(ad.Text, "\r\n") || !strings.HasSuffix(ad.Text, "END:VCARD\r\n") {
			t.Errorf("%s: CRLF line ends lost in address-data %q", h, ad.Text)
		}
	}
	if !strings.Contains(got[newHref].props.kid(nsCard, "address-data").Text, "EMAIL;PREF=1:theo@work.example") {
		t.Errorf("inline address-data is not the latest version: %q", got[newHref].props.kid(nsCard, "address-data").Text)
	}
	if !got[book+"tb-seed-2.vcf"].notFound {
		t.Errorf("deleted card not reported as 404: %+v", got[book+"tb-seed-2.vcf"])
	}
	root := parseTree(t, r.body)
	if tk := root.find(nsDAV, "sync-token"); len(tk) != 1 || tk[0].Text == "" || tk[0].Text == token {
		t.Fatalf("dom.querySelector(\"sync-token\"): %+v", tk)
	}
	token = root.find(nsDAV, "sync-token")[0].Text

	// Nothing changed: an empty multistatus with the same token.
	r = s.do("REPORT", book, alice, tbSyncCollection(token), "Depth: 1", tb).expect(t, http.StatusMultiStatus)
	if rs := readResponse(r.body); len(rs) != 0 {
		t.Errorf("no-change sync returned %d responses", len(rs))
	}

	// --- A token the server no longer knows: exactly 400, then a full fetch.
	r = s.do("REPORT", book, alice, tbSyncCollection("https://rolodav.org/ns/sync/424242:1"), "Depth: 1", tb)
	if r.status != http.StatusBadRequest {
		t.Fatalf("invalid token: %d; Thunderbird re-syncs only on 400 (expectedStatuses [207, 400])", r.status)
	}
	all = fetchAll()
	if len(all) != 2 || all[newHref] == "" || all[book+"tb-seed-1.vcf"] == "" {
		t.Errorf("re-fetch after 400: %v", all)
	}
	if tok := getSyncToken(); tok != token {
		t.Errorf("sync token after re-fetch %q, want %q", tok, token)
	}
}

// TestReplayGoWebdavClient drives go-webdav's carddav.Client (v0.7.0) against
// the server: discovery, CRUD, multiget, query and sync.
func TestReplayGoWebdavClient(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	hc := webdav.HTTPClientWithBasicAuth(s.Client(), alice, alicePW)

	wc, err := webdav.NewClient(hc, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	principal, err := wc.FindCurrentUserPrincipal(ctx)
	if err != nil || principal != principalPath {
		t.Fatalf("FindCurrentUserPrincipal: %q, %v", principal, err)
	}

	cc, err := carddav.NewClient(hc, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.HasSupport(ctx); err != nil {
		t.Fatalf("HasSupport: %v", err)
	}
	homeSet, err := cc.FindAddressBookHomeSet(ctx, principal)
	if err != nil || homeSet != home {
		t.Fatalf("FindAddressBookHomeSet: %q, %v", homeSet, err)
	}
	books, err := cc.FindAddressBooks(ctx, homeSet)
	if err != nil {
		t.Fatalf("FindAddressBooks: %v", err)
	}
	if len(books) != 1 || books[0].Path != book || books[0].Name != "Contacts" || books[0].MaxResourceSize <= 0 {
		t.Fatalf("FindAddressBooks: %+v", books)
	}
	var versions []string
	for _, a := range books[0].SupportedAddressData {
		versions = append(versions, a.ContentType+" "+a.Version)
	}
	if !contains(versions, "text/vcard 3.0") || !contains(versions, "text/vcard 4.0") {
		t.Errorf("SupportedAddressData %v", versions)
	}

	mk := func(uid, fn, family, email string) vcard.Card {
		c := vcard.Card{}
		c.SetValue(vcard.FieldVersion, "4.0")
		c.SetValue(vcard.FieldUID, uid)
		c.SetValue(vcard.FieldFormattedName, fn)
		c.SetName(&vcard.Name{FamilyName: family, GivenName: strings.Fields(fn)[0]})
		c.AddValue(vcard.FieldEmail, email)
		return c
	}
	p1, p2 := book+"gw-1.vcf", book+"gw-2.vcf"
	ao1, err := cc.PutAddressObject(ctx, p1, mk("gw-1", "Grace Hopper", "Hopper", "grace@example.org"))
	if err != nil || ao1.ETag == "" {
		t.Fatalf("PutAddressObject gw-1: %+v, %v", ao1, err)
	}
	ao2, err := cc.PutAddressObject(ctx, p2, mk("gw-2", "Alan Smith", "Smith", "alan@example.net"))
	if err != nil || ao2.ETag == "" {
		t.Fatalf("PutAddressObject gw-2: %+v, %v", ao2, err)
	}

	got, err := cc.GetAddressObject(ctx, p1)
	if err != nil {
		t.Fatalf("GetAddressObject: %v", err)
	}
	if got.Path != p1 || got.ETag != ao1.ETag || got.Card.PreferredValue(vcard.FieldFormattedName) != "Grace Hopper" || got.Card.PreferredValue(vcard.FieldEmail) != "grace@example.org" {
		t.Errorf("GetAddressObject: %+v", got)
	}

	objs, err := cc.MultiGetAddressBook(ctx, book, &carddav.AddressBookMultiGet{Paths: []string{p1, p2}})
	if err != nil {
		t.Fatalf("MultiGetAddressBook: %v", err)
	}
	byPath := map[string]carddav.AddressObject{}
	for _, o := range objs {
		byPath[o.Path] = o
	}
	if len(objs) != 2 || byPath[p1].ETag != ao1.ETag || byPath[p2].ETag != ao2.ETag || byPath[p2].Card.PreferredValue(vcard.FieldUID) != "gw-2" {
		t.Errorf("MultiGetAddressBook: %+v", objs)
	}
	if byPath[p1].ModTime.IsZero() {
		t.Errorf("MultiGetAddressBook: no getlastmodified for %s", p1)
	}

	res, err := cc.QueryAddressBook(ctx, book, &carddav.AddressBookQuery{
		DataRequest: carddav.AddressDataRequest{Props: []string{vcard.FieldFormattedName, vcard.FieldUID}},
		PropFilters: []carddav.PropFilter{{
			Name:        vcard.FieldFormattedName,
			TextMatches: []carddav.TextMatch{{Text: "smith", MatchType: carddav.MatchContains}},
		}},
	})
	if err != nil {
		t.Fatalf("QueryAddressBook: %v", err)
	}
	if len(res) != 1 || res[0].Path != p2 || res[0].Card.PreferredValue(vcard.FieldFormattedName) != "Alan Smith" {
		t.Fatalf("QueryAddressBook FN contains smith: %+v", res)
	}
	if res[0].Card.PreferredValue(vcard.FieldEmail) != "" {
		t.Errorf("QueryAddressBook asked FN and UID only, got EMAIL too: %+v", res[0].Card)
	}

	sync0, err := cc.SyncCollection(ctx, book, &carddav.SyncQuery{})
	if err != nil {
		t.Fatalf("SyncCollection initial: %v", err)
	}
	var paths []string
	for _, u := range sync0.Updated {
		paths = append(paths, u.Path)
		if u.ETag == "" {
			t.Errorf("initial sync %s without ETag", u.Path)
		}
	}
	sort.Strings(paths)
	if sync0.SyncToken == "" || fmt.Sprint(paths) != fmt.Sprint([]string{p1, p2}) || len(sync0.Deleted) != 0 {
		t.Fatalf("SyncCollection initial: %+v", sync0)
	}

	if err := wc.RemoveAll(ctx, p2); err != nil {
		t.Fatalf("RemoveAll %s: %v", p2, err)
	}
	ao1b, err := cc.PutAddressObject(ctx, p1, mk("gw-1", "Grace B. Hopper", "Hopper", "grace@example.org"))
	if err != nil || ao1b.ETag == ao1.ETag {
		t.Fatalf("PutAddressObject update: %+v, %v", ao1b, err)
	}
	sync1, err := cc.SyncCollection(ctx, book, &carddav.SyncQuery{SyncToken: sync0.SyncToken})
	if err != nil {
		t.Fatalf("SyncCollection incremental: %v", err)
	}
	if len(sync1.Updated) != 1 || sync1.Updated[0].Path != p1 || sync1.Updated[0].ETag != ao1b.ETag {
		t.Errorf("incremental Updated: %+v", sync1.Updated)
	}
	if fmt.Sprint(sync1.Deleted) != fmt.Sprint([]string{p2}) {
		t.Errorf("incremental Deleted: %v", sync1.Deleted)
	}
	if sync1.SyncToken == "" || sync1.SyncToken == sync0.SyncToken {
		t.Errorf("incremental token %q (was %q)", sync1.SyncToken, sync0.SyncToken)
	}
	if _, err := cc.GetAddressObject(ctx, p2); err == nil {
		t.Error("deleted card still readable")
	}
}
