package dav

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/store"
)

// resource is one thing a multistatus response describes.
type resource struct {
	href string
	kind targetKind
	user string
	home store.Kind        // tHome
	coll *store.Collection // tCollection and tObject
	obj  *store.Object     // tObject
}

// propRequest is what a PROPFIND or REPORT asked for.
type propRequest struct {
	allprop  bool
	propname bool
	names    []xml.Name // explicit <prop> children, or allprop's <include>
	addr     *addressDataRequest
	cal      *calendarDataRequest
	usage    *store.Usage // the user's, loaded when a quota property is asked for
	vapid    string       // the VAPID public key, loaded when P:transports is asked for
}

// asksQuota says whether the request names an RFC 4331 property (allprop
// does not include them).
func (p *propRequest) asksQuota() bool {
	for _, n := range p.names {
		if n == pQuotaUsed || n == pQuotaAvailable {
			return true
		}
	}
	return false
}

// addressDataRequest is the CARDDAV:address-data element of a request.
type addressDataRequest struct {
	version string   // "" = as stored
	props   []string // "" = whole card
}

// wantsData says whether objects must be loaded with their content.
func (p *propRequest) wantsData() bool { return p.addr != nil || p.cal != nil }

// parsePropRequest reads <prop>, <allprop> (+ <include>) or <propname>
// from a PROPFIND or REPORT element; none of them means allprop. ctx is
// the request's: computed values stop when it ends.
func parsePropRequest(ctx context.Context, parent *node) (*propRequest, error) {
	pr := &propRequest{}
	if parent == nil {
		pr.allprop = true
		return pr, nil
	}
	switch {
	case parent.child(nsDAV, "propname") != nil:
		pr.propname = true
	case parent.child(nsDAV, "prop") != nil:
		for _, c := range parent.child(nsDAV, "prop").Children {
			pr.names = append(pr.names, c.Name)
			switch {
			case c.is(nsCardDAV, "address-data"):
				a, err := parseAddressData(c)
				if err != nil {
					return nil, err
				}
				pr.addr = a
			case c.is(nsCalDAV, "calendar-data"):
				cd, err := parseCalendarData(ctx, c)
				if err != nil {
					return nil, err
				}
				pr.cal = cd
			}
		}
	default:
		pr.allprop = true
		if inc := parent.child(nsDAV, "include"); inc != nil {
			for _, c := range inc.Children {
				pr.names = append(pr.names, c.Name)
			}
		}
	}
	return pr, nil
}

var errUnsupportedAddressData = davError(http.StatusUnsupportedMediaType, name(nsCardDAV, "supported-address-data-conversion"),
	"address-data can be served as text/vcard version 3.0 or 4.0")

func parseAddressData(n *node) (*addressDataRequest, error) {
	a := &addressDataRequest{}
	ct := strings.ToLower(strings.TrimSpace(n.attr("content-type")))
	if ct != "" && ct != "text/vcard" && ct != "text/x-vcard" {
		return nil, errUnsupportedAddressData
	}
	switch v := strings.TrimSpace(n.attr("version")); v {
	case "", "3.0", "4.0":
		a.version = v
	default:
		return nil, errUnsupportedAddressData
	}
	for _, c := range n.Children {
		if c.is(nsCardDAV, "prop") && c.attr("name") != "" {
			a.props = append(a.props, c.attr("name"))
		}
	}
	return a, nil
}

// Property names used in several places.
var (
	pResourceType   = name(nsDAV, "resourcetype")
	pDisplayName    = name(nsDAV, "displayname")
	pGetETag        = name(nsDAV, "getetag")
	pContentType    = name(nsDAV, "getcontenttype")
	pContentLength  = name(nsDAV, "getcontentlength")
	pLastModified   = name(nsDAV, "getlastmodified")
	pSyncToken      = name(nsDAV, "sync-token")
	pAddressData    = name(nsCardDAV, "address-data")
	pABDescription  = name(nsCardDAV, "addressbook-description")
	pCalColor       = name(nsApple, "calendar-color")
	pCalOrder       = name(nsApple, "calendar-order")
	pABColor        = name(nsInfIT, "addressbook-color")
	pCurrentPrivSet = name(nsDAV, "current-user-privilege-set")
	pCalendarData   = name(nsCalDAV, "calendar-data")
	pCalDescription = name(nsCalDAV, "calendar-description")
	pCompSet        = name(nsCalDAV, "supported-calendar-component-set")
	pCalTimezone    = name(nsCalDAV, "calendar-timezone")
	pCalTimezoneID  = name(nsCalDAV, "calendar-timezone-id")
	pQuotaUsed      = name(nsDAV, "quota-used-bytes")
	pQuotaAvailable = name(nsDAV, "quota-available-bytes")
)

// allpropNames are the live properties allprop returns (RFC 4918 ones);
// dead properties are added per collection.
var allpropNames = []xml.Name{pResourceType, pDisplayName, pGetETag, pContentType, pContentLength, pLastModified}

// propnames lists what propname reports for a resource.
func propnames(r *resource) []xml.Name {
	common := []xml.Name{pResourceType, name(nsDAV, "current-user-principal"), name(nsDAV, "owner"), pCurrentPrivSet, name(nsDAV, "supported-report-set")}
	switch r.kind {
	case tPrincipal:
		return append(common, pDisplayName, name(nsDAV, "principal-URL"), name(nsCardDAV, "addressbook-home-set"),
			name(nsCalDAV, "calendar-home-set"), name(nsCalDAV, "calendar-user-address-set"),
			name(nsDAV, "principal-collection-set"), name(nsDAV, "group-membership"))
	case tCollection:
		out := append(common, pDisplayName, pSyncToken, name(nsCS, "getctag"), pQuotaUsed, pQuotaAvailable, pLastModified)
		if r.coll.Kind == store.KindCal {
			out = append(out, pCalDescription, pCompSet, name(nsCalDAV, "supported-calendar-data"),
				name(nsCalDAV, "max-resource-size"), pCalColor, pCalOrder, pCalTimezone, pCalTimezoneID)
		} else {
			out = append(out, pABDescription, name(nsCardDAV, "supported-address-data"), name(nsCardDAV, "max-resource-size"), pABColor)
		}
		for k := range r.coll.Props {
			if n, ok := parsePropKey(k); ok {
				out = append(out, n)
			}
		}
		return out
	case tObject:
		out := append(common, pGetETag, pContentType, pContentLength, pLastModified)
		if r.coll.Kind == store.KindCal {
			return append(out, pCalendarData)
		}
		return append(out, pAddressData)
	}
	return append(common, pDisplayName)
}

func hrefXML(href string) string { return "<D:href>" + escape(href) + "</D:href>" }

func (h *Handler) privileges(r *resource) string {
	switch r.kind {
	case tRoot, tPrincipals, tHomes, tWellKnown, tPrincipal:
		return "<D:privilege><D:read/></D:privilege><D:privilege><D:read-current-user-privilege-set/></D:privilege>"
	}
	return "<D:privilege><D:all/></D:privilege><D:privilege><D:read/></D:privilege><D:privilege><D:write/></D:privilege>" +
		"<D:privilege><D:write-properties/></D:privilege><D:privilege><D:write-content/></D:privilege>" +
		"<D:privilege><D:bind/></D:privilege><D:privilege><D:unbind/></D:privilege>" +
		"<D:privilege><D:read-current-user-privilege-set/></D:privilege>"
}

// value computes one property of a resource. Status 404 means the resource
// does not have it.
func (h *Handler) value(r *resource, n xml.Name, pr *propRequest) (string, int) {
	switch n.Space {
	case nsDAV:
		return h.davValue(r, n.Local, pr)
	case nsCardDAV:
		return h.cardValue(r, n.Local, pr)
	case nsCalDAV:
		return h.calValue(r, n.Local, pr)
	case nsCS:
		switch n.Local {
		case "getctag":
			if r.kind == tCollection {
				return escape(syncToken(r.coll)), http.StatusOK
			}
		case "calendar-proxy-read-for", "calendar-proxy-write-for":
			if r.kind == tPrincipal {
				return "", http.StatusOK
			}
		case "email-address-set":
			if r.kind == tPrincipal && strings.Contains(r.user, "@") {
				return "<CS:email-address>" + escape(r.user) + "</CS:email-address>", http.StatusOK
			}
		}
	case nsApple:
		if r.kind == tCollection && n.Local == "calendar-color" && r.coll.Color != "" {
			return escape(r.coll.Color), http.StatusOK
		}
		if r.kind == tCollection && n.Local == "calendar-order" && r.coll.Order != 0 {
			return strconv.Itoa(r.coll.Order), http.StatusOK
		}
	case nsInfIT:
		if r.kind == tCollection && r.coll.Kind == store.KindCard && n.Local == "addressbook-color" && r.coll.Color != "" {
			return escape(r.coll.Color), http.StatusOK
		}
	case nsPush:
		if v, ok := h.pushValue(r, n.Local, pr); ok {
			return v, http.StatusOK
		}
	}
	if r.kind == tCollection {
		if v, ok := r.coll.Props[propKey(n)]; ok {
			return v, http.StatusOK
		}
	}
	return "", http.StatusNotFound
}

func (h *Handler) davValue(r *resource, local string, pr *propRequest) (string, int) {
	switch local {
	case "resourcetype":
		switch r.kind {
		case tPrincipal:
			return "<D:principal/>", http.StatusOK
		case tCollection:
			if r.coll.Kind == store.KindCal {
				return "<D:collection/><CAL:calendar/>", http.StatusOK
			}
			return "<D:collection/><C:addressbook/>", http.StatusOK
		case tObject:
			return "", http.StatusOK
		}
		return "<D:collection/>", http.StatusOK
	case "displayname":
		switch r.kind {
		case tPrincipal:
			return escape(r.user), http.StatusOK
		case tCollection:
			if r.coll.DisplayName != "" {
				return escape(r.coll.DisplayName), http.StatusOK
			}
			return escape(r.coll.Name), http.StatusOK
		}
	case "current-user-principal":
		return hrefXML(h.hrefs.principal(r.user)), http.StatusOK
	case "principal-URL":
		if r.kind == tPrincipal {
			return hrefXML(h.hrefs.principal(r.user)), http.StatusOK
		}
	case "owner":
		switch r.kind {
		case tPrincipal, tHome, tCollection, tObject:
			return hrefXML(h.hrefs.principal(r.user)), http.StatusOK
		}
	case "principal-collection-set":
		return hrefXML(h.hrefs.principals()), http.StatusOK
	case "group-membership":
		if r.kind == tPrincipal {
			return "", http.StatusOK
		}
	case "current-user-privilege-set":
		return h.privileges(r), http.StatusOK
	case "supported-report-set":
		if r.kind == tCollection && r.coll.Kind == store.KindCal {
			return "<D:supported-report><D:report><CAL:calendar-multiget/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><CAL:calendar-query/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><CAL:free-busy-query/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>", http.StatusOK
		}
		if r.kind == tCollection {
			return "<D:supported-report><D:report><C:addressbook-multiget/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><C:addressbook-query/></D:report></D:supported-report>" +
				"<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>", http.StatusOK
		}
		return "", http.StatusOK
	case "sync-token":
		if r.kind == tCollection {
			return escape(syncToken(r.coll)), http.StatusOK
		}
	case "getetag":
		if r.kind == tObject {
			return escape(`"` + r.obj.ETag + `"`), http.StatusOK
		}
	case "getcontenttype":
		if r.kind == tObject {
			return escape(contentType(r.coll, r.obj)), http.StatusOK
		}
	case "getcontentlength":
		if r.kind == tObject {
			return strconv.FormatInt(r.obj.Size, 10), http.StatusOK
		}
	case "getlastmodified":
		switch r.kind {
		case tObject:
			return r.obj.Modified.UTC().Format(http.TimeFormat), http.StatusOK
		case tCollection:
			return r.coll.Modified.UTC().Format(http.TimeFormat), http.StatusOK
		}
	// The quota is the user's: every collection and home reports the
	// user's figures (RFC 4331 §3: the space that counts against the same
	// quota).
	case "quota-used-bytes":
		if (r.kind == tCollection || r.kind == tHome) && pr.usage != nil {
			return strconv.FormatInt(pr.usage.Used, 10), http.StatusOK
		}
	case "quota-available-bytes":
		if r.kind == tCollection || r.kind == tHome {
			if n, ok := h.available(pr.usage); ok {
				return strconv.FormatInt(n, 10), http.StatusOK
			}
		}
	}
	return "", http.StatusNotFound
}

// available is what the user may still store: what the quota leaves, or
// the free disk space when that is less.
func (h *Handler) available(u *store.Usage) (int64, bool) {
	var n int64
	ok := false
	if u != nil && u.Limit > 0 {
		n, ok = max(u.Limit-u.Used, 0), true
	}
	if h.cfg.QuotaAvailable != nil {
		if free := h.cfg.QuotaAvailable(); !ok || free < n {
			n, ok = free, true
		}
	}
	return n, ok
}

func (h *Handler) cardValue(r *resource, local string, pr *propRequest) (string, int) {
	if r.coll != nil && r.coll.Kind != store.KindCard {
		return "", http.StatusNotFound
	}
	switch local {
	case "addressbook-home-set":
		if r.kind == tPrincipal {
			return hrefXML(h.hrefs.home(store.KindCard, r.user)), http.StatusOK
		}
	case "addressbook-description":
		if r.kind == tCollection && r.coll.Description != "" {
			return escape(r.coll.Description), http.StatusOK
		}
	case "supported-address-data":
		if r.kind == tCollection {
			return `<C:address-data-type content-type="text/vcard" version="3.0"/>` +
				`<C:address-data-type content-type="text/vcard" version="4.0"/>`, http.StatusOK
		}
	case "max-resource-size":
		if r.kind == tCollection {
			return strconv.FormatInt(h.cfg.MaxResourceSize, 10), http.StatusOK
		}
	case "address-data":
		if r.kind == tObject && r.obj.Data != nil {
			return addressData(r.obj.Data, pr.addr)
		}
	}
	return "", http.StatusNotFound
}

// addressData renders a card as the request asked: converted to another
// version and cut down to some properties. What is stored is served when
// no conversion is asked for, so one odd card never stalls a client.
func addressData(data []byte, a *addressDataRequest) (string, int) {
	if a != nil && a.version != "" {
		conv, err := contacts.Convert(data, a.version)
		if err == nil {
			data = conv
		}
	}
	if a != nil && len(a.props) > 0 {
		data = contacts.Select(data, a.props)
	}
	return escapeData(data), http.StatusOK
}

// escapeData escapes card text for an XML element, keeping CR as a
// character reference so CRLF line ends survive XML's newline rules.
func escapeData(data []byte) string {
	var b strings.Builder
	b.Grow(len(data) + len(data)/16)
	for _, c := range string(data) {
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#13;")
		default:
			if c < 0x20 && c != '\n' && c != '\t' || c == 0xFFFE || c == 0xFFFF {
				b.WriteRune('\uFFFD') // not representable in XML 1.0
				continue
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

// props computes the response properties for a resource and request.
func (h *Handler) props(r *resource, pr *propRequest) []prop {
	if pr.propname {
		var out []prop
		for _, n := range append(propnames(r), h.pushPropNames(r)...) {
			out = append(out, prop{name: n, status: http.StatusOK})
		}
		return out
	}
	var out []prop
	if pr.allprop {
		for _, n := range allpropNames {
			if v, st := h.value(r, n, pr); st == http.StatusOK {
				out = append(out, prop{name: n, inner: v, status: st})
			}
		}
		if r.kind == tCollection {
			for k, v := range r.coll.Props {
				if n, ok := parsePropKey(k); ok {
					out = append(out, prop{name: n, inner: v, status: http.StatusOK})
				}
			}
		}
	}
	for _, n := range pr.names {
		v, st := h.value(r, n, pr)
		out = append(out, prop{name: n, inner: v, status: st})
	}
	return out
}

// contentType is the media type of an object, as GET and getcontenttype
// give it; Thunderbird reads the component from it.
func contentType(c *store.Collection, o *store.Object) string {
	if c.Kind == store.KindCal {
		if o.Component != "" {
			return "text/calendar; charset=utf-8; component=" + o.Component
		}
		return "text/calendar; charset=utf-8"
	}
	return vcardType
}

func (h *Handler) calValue(r *resource, local string, pr *propRequest) (string, int) {
	if r.kind == tPrincipal {
		switch local {
		case "calendar-home-set":
			return hrefXML(h.hrefs.home(store.KindCal, r.user)), http.StatusOK
		case "calendar-user-address-set":
			out := ""
			if strings.Contains(r.user, "@") {
				out = hrefXML("mailto:" + r.user)
			}
			return out + hrefXML(h.hrefs.principal(r.user)), http.StatusOK
		}
		return "", http.StatusNotFound
	}
	if r.coll == nil || r.coll.Kind != store.KindCal {
		return "", http.StatusNotFound
	}
	if r.kind == tObject {
		if local == "calendar-data" && r.obj.Data != nil {
			return calendarData(r.coll, r.obj.Data, pr.cal)
		}
		return "", http.StatusNotFound
	}
	if r.kind != tCollection {
		return "", http.StatusNotFound
	}
	c := r.coll
	switch local {
	case "calendar-description":
		if c.Description != "" {
			return escape(c.Description), http.StatusOK
		}
	case "supported-calendar-component-set":
		var b strings.Builder
		for _, comp := range components(c) {
			b.WriteString(`<CAL:comp name="` + comp + `"/>`)
		}
		return b.String(), http.StatusOK
	case "supported-calendar-data":
		return `<CAL:calendar-data content-type="text/calendar" version="2.0"/>`, http.StatusOK
	case "max-resource-size":
		return strconv.FormatInt(h.cfg.MaxResourceSize, 10), http.StatusOK
	case "calendar-timezone":
		if c.Timezone != "" {
			return escapeData([]byte(c.Timezone)), http.StatusOK
		}
	case "calendar-timezone-id":
		if id := timezoneID(c.Timezone); id != "" {
			return escape(id), http.StatusOK
		}
	}
	return "", http.StatusNotFound
}

// components a calendar accepts; none recorded means all three.
func components(c *store.Collection) []string {
	if len(c.Components) == 0 {
		return []string{calendars.VEVENT, calendars.VTODO, calendars.VJOURNAL}
	}
	return c.Components
}
