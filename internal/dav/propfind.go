package dav

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/store"
)

// depth reads the Depth header; a missing one means infinity, which we
// answer as 1 (the layout is never deeper than that below a collection).
func depth(r *http.Request) (int, bool) {
	switch strings.TrimSpace(strings.ToLower(r.Header.Get("Depth"))) {
	case "0":
		return 0, true
	case "1", "", "infinity":
		return 1, true
	}
	return 0, false
}

func (h *Handler) propfind(q *request) error {
	d, ok := depth(q.r)
	if !ok {
		return plainError(http.StatusBadRequest, "Depth must be 0, 1 or infinity")
	}
	doc, err := readXML(q)
	if err != nil {
		return err
	}
	if doc != nil && !doc.is(nsDAV, "propfind") {
		return davError(http.StatusBadRequest, xml.Name{}, "expected a DAV:propfind element")
	}
	pr, err := parsePropRequest(q.ctx, doc)
	if err != nil {
		return err
	}
	if pr.asksQuota() {
		u, err := h.cfg.Store.Usage(q.ctx, q.user)
		if err != nil {
			return err
		}
		pr.usage = &u
	}
	if err := h.loadPushKey(q, pr); err != nil {
		return err
	}
	self := &resource{href: h.cfg.Prefix + q.path, kind: q.t.kind, user: q.user, home: q.t.ckind}
	if !strings.HasSuffix(self.href, "/") {
		self.href += "/"
	}
	switch q.t.kind {
	case tWellKnown:
		self.kind = tRoot
	case tPrincipals:
		self.href = h.hrefs.principals()
	case tHomes:
		self.href = h.hrefs.homes(q.t.ckind)
	case tPrincipal, tHome:
		self.href = h.hrefs.principal(q.user)
		if q.t.kind == tHome {
			self.href = h.hrefs.home(q.t.ckind, q.user)
		}
		if err := accounts.EnsureDefaults(q.ctx, h.cfg.Store, q.user); err != nil {
			return err
		}
	case tCollection:
		c, err := h.collection(q)
		if err != nil {
			return err
		}
		self.coll = c
		self.href = h.hrefs.collection(q.t.ckind, q.user, c.Name)
	case tObject:
		c, err := h.collection(q)
		if err != nil {
			return err
		}
		o, err := h.objectFor(q, c, pr.wantsData())
		if err != nil {
			return err
		}
		self.coll, self.obj = c, o
		self.href = h.hrefs.object(c.Kind, q.user, c.Name, o.Name)
	}
	ms := newMultistatus(q.w, q.r)
	ms.propResponse(self.href, h.props(self, pr))
	if d == 1 {
		err = h.propfindChildren(q, ms, self, pr)
	}
	if err != nil {
		return &cutError{"propfind listing failed", err}
	}
	if err := ms.close(); err != nil {
		h.log.DebugContext(q.ctx, "client went away", "err", err)
	}
	return nil
}

func (h *Handler) objectFor(q *request, c *store.Collection, withData bool) (*store.Object, error) {
	if withData {
		return h.cfg.Store.GetObject(q.ctx, c.ID, q.t.obj)
	}
	objs, err := h.cfg.Store.GetObjects(q.ctx, c.ID, []string{q.t.obj}, false)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, store.ErrNotFound
	}
	return &objs[0], nil
}

func (h *Handler) propfindChildren(q *request, ms *multistatus, self *resource, pr *propRequest) error {
	switch self.kind {
	case tPrincipals:
		ms.propResponse(h.hrefs.principal(q.user), h.props(&resource{href: h.hrefs.principal(q.user), kind: tPrincipal, user: q.user}, pr))
	case tHomes:
		href := h.hrefs.home(q.t.ckind, q.user)
		ms.propResponse(href, h.props(&resource{href: href, kind: tHome, user: q.user, home: q.t.ckind}, pr))
	case tHome:
		colls, err := h.cfg.Store.ListCollections(q.ctx, q.user, q.t.ckind)
		if err != nil {
			return err
		}
		for i := range colls {
			c := &colls[i]
			href := h.hrefs.collection(c.Kind, q.user, c.Name)
			ms.propResponse(href, h.props(&resource{href: href, kind: tCollection, user: q.user, coll: c}, pr))
		}
	case tCollection:
		return h.cfg.Store.ListObjects(q.ctx, self.coll.ID, pr.wantsData(), func(o *store.Object) error {
			href := h.hrefs.object(self.coll.Kind, q.user, self.coll.Name, o.Name)
			ms.propResponse(href, h.props(&resource{href: href, kind: tObject, user: q.user, coll: self.coll, obj: o}, pr))
			return nil
		})
	}
	return nil
}

var colorRE = regexp.MustCompile(`^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$`)

// protected are live properties a client cannot set.
var protected = map[xml.Name]bool{
	pResourceType: true, pGetETag: true, pContentType: true, pContentLength: true, pLastModified: true,
	pSyncToken: true, pCurrentPrivSet: true, name(nsCS, "getctag"): true,
	name(nsDAV, "supported-report-set"): true, name(nsDAV, "owner"): true,
	name(nsDAV, "current-user-principal"): true, name(nsDAV, "quota-used-bytes"): true,
	name(nsDAV, "quota-available-bytes"): true, name(nsCardDAV, "supported-address-data"): true,
	name(nsCardDAV, "max-resource-size"): true, pAddressData: true, name(nsDAV, "creationdate"): true,
	name(nsDAV, "lockdiscovery"): true, name(nsDAV, "supportedlock"): true,
	pTransports: true, pTopic: true, pSupportedTriggers: true,
}

// propUpdate is one <set> or <remove> of a PROPPATCH or extended MKCOL.
type propUpdate struct {
	n      *node
	remove bool
}

func parseUpdates(doc *node) []propUpdate {
	var out []propUpdate
	for _, op := range doc.Children {
		remove := op.is(nsDAV, "remove")
		if !remove && !op.is(nsDAV, "set") {
			continue
		}
		for _, p := range op.Children {
			if !p.is(nsDAV, "prop") {
				continue
			}
			for _, c := range p.Children {
				out = append(out, propUpdate{n: c, remove: remove})
			}
		}
	}
	return out
}

// applyUpdate changes one property of c; the status says how it went.
// Some properties can only be set when the collection is created.
func applyUpdate(c *store.Collection, u propUpdate, creating bool) int {
	n := u.n.Name
	val := u.n.text()
	switch {
	case n == pDisplayName:
		c.DisplayName = ""
		if !u.remove {
			c.DisplayName = val
		}
	case n == pABDescription && c.Kind == store.KindCard, n == pCalDescription && c.Kind == store.KindCal:
		c.Description = ""
		if !u.remove {
			c.Description = val
		}
	case n == pCalColor, n == pABColor && c.Kind == store.KindCard:
		c.Color = ""
		if !u.remove {
			if !colorRE.MatchString(val) {
				return http.StatusConflict
			}
			c.Color = val
		}
	case n == pCalOrder:
		c.Order = 0
		if !u.remove {
			o, ok := parseOrder(val)
			if !ok {
				return http.StatusConflict
			}
			c.Order = o
		}
	case n == pCalTimezone && c.Kind == store.KindCal:
		c.Timezone = ""
		if !u.remove {
			// The zone must be one we can use for floating times.
			if id := timezoneID(u.n.Text); id == "" || !strings.Contains(u.n.Text, "BEGIN:VTIMEZONE") || !knownZone(id) {
				return http.StatusConflict
			}
			// XML parsing turned CRLF into LF; iCalendar wants CRLF back.
			lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(u.n.Text, "\r\n", "\n")), "\n")
			c.Timezone = strings.Join(lines, "\r\n") + "\r\n"
		}
	case n == pCalTimezoneID && c.Kind == store.KindCal:
		c.Timezone = ""
		if !u.remove {
			if !knownZone(val) {
				return http.StatusConflict
			}
			c.Timezone = val
		}
	case n == pCompSet && c.Kind == store.KindCal:
		if !creating || u.remove {
			return http.StatusForbidden
		}
		c.Components = nil
		for _, comp := range u.n.Children {
			nm := strings.ToUpper(comp.attr("name"))
			if !comp.is(nsCalDAV, "comp") || (nm != calendars.VEVENT && nm != calendars.VTODO && nm != calendars.VJOURNAL) {
				return http.StatusConflict
			}
			if !slices.Contains(c.Components, nm) {
				c.Components = append(c.Components, nm)
			}
		}
		if len(c.Components) == 0 {
			return http.StatusConflict
		}
	default:
		if protected[n] || n.Space == nsDAV || n.Space == nsCardDAV || n.Space == nsCalDAV {
			return http.StatusForbidden
		}
		if c.Props == nil {
			c.Props = map[string]string{}
		}
		if u.remove {
			delete(c.Props, propKey(n))
		} else {
			c.Props[propKey(n)] = u.n.innerXML()
		}
	}
	return http.StatusOK
}

func knownZone(id string) bool {
	_, err := time.LoadLocation(id)
	return id != "" && err == nil
}

func parseOrder(s string) (int, bool) {
	n := 0
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

var errPropsFailed = errors.New("some properties could not be set")

// applyAll applies every update or none: after the first failure the others
// are reported as 424 Failed Dependency, as RFC 4918 §9.2 asks.
func applyAll(c *store.Collection, ups []propUpdate, creating bool) ([]prop, error) {
	out := make([]prop, len(ups))
	failed := false
	for i, u := range ups {
		st := applyUpdate(c, u, creating)
		out[i] = prop{name: u.n.Name, status: st}
		if st != http.StatusOK {
			failed = true
		}
	}
	if failed {
		for i := range out {
			if out[i].status == http.StatusOK {
				out[i].status = http.StatusFailedDependency
			}
		}
		return out, errPropsFailed
	}
	return out, nil
}

func (h *Handler) proppatch(q *request) error {
	doc, err := readXML(q)
	if err != nil {
		return err
	}
	if doc == nil || !doc.is(nsDAV, "propertyupdate") {
		return davError(http.StatusBadRequest, xml.Name{}, "expected a DAV:propertyupdate element")
	}
	ups := parseUpdates(doc)
	href := q.path
	if h.cfg.Prefix != "" {
		href = h.cfg.Prefix + q.path
	}
	var results []prop
	switch q.t.kind {
	case tCollection:
		c, err := h.collection(q)
		if err != nil {
			return err
		}
		href = h.hrefs.collection(c.Kind, q.user, c.Name)
		err = h.cfg.Store.UpdateCollection(q.ctx, c.ID, func(c *store.Collection) error {
			var err error
			results, err = applyAll(c, ups, false)
			return err
		})
		if errors.Is(err, store.ErrQuotaExceeded) {
			// Nothing was saved: RFC 4918 §9.2.1 has 507 for a property
			// there is no room to record.
			for i := range results {
				results[i].status = http.StatusInsufficientStorage
			}
			err = nil
		}
		if err != nil && !errors.Is(err, errPropsFailed) {
			return err
		}
	case tObject:
		c, err := h.collection(q)
		if err != nil {
			return err
		}
		if _, err := h.objectFor(q, c, false); err != nil {
			return err
		}
		results = refuseAll(ups)
	default:
		// Homes and principals hold no settable properties; Apple's me-card
		// PROPPATCH must still get a 207, not a failed request.
		results = refuseAll(ups)
	}
	ms := newMultistatus(q.w, q.r)
	ms.minimal = false
	ms.propResponse(href, results)
	_ = ms.close()
	return nil
}

func refuseAll(ups []propUpdate) []prop {
	out := make([]prop, len(ups))
	for i, u := range ups {
		out[i] = prop{name: u.n.Name, status: http.StatusForbidden}
	}
	return out
}

// mkcol creates a collection: extended MKCOL (RFC 5689) for address books
// and calendars, MKCALENDAR (RFC 4791) for calendars.
func (h *Handler) mkcol(q *request) error {
	mkcal := q.r.Method == "MKCALENDAR"
	if q.t.kind != tCollection || (mkcal && q.t.ckind != store.KindCal) {
		cond := xml.Name{}
		if mkcal {
			cond = name(nsCalDAV, "calendar-collection-location-ok")
		}
		return davError(http.StatusForbidden, cond, "collections can only be created directly inside your address-book or calendar home")
	}
	doc, err := readXML(q)
	if err != nil {
		return err
	}
	root := name(nsDAV, "mkcol")
	if mkcal {
		root = name(nsCalDAV, "mkcalendar")
	}
	if doc != nil && doc.Name != root {
		return davError(http.StatusUnsupportedMediaType, xml.Name{}, fmt.Sprintf("expected a {%s}%s element", root.Space, root.Local))
	}
	c := &store.Collection{Owner: q.user, Kind: q.t.ckind, Name: q.t.coll}
	var results []prop
	failed := false
	if doc != nil {
		var ups []propUpdate
		for _, u := range parseUpdates(doc) {
			if u.n.Name == pResourceType {
				st := http.StatusOK
				want := u.n.child(nsCardDAV, "addressbook")
				if c.Kind == store.KindCal {
					want = u.n.child(nsCalDAV, "calendar")
				}
				if u.n.child(nsDAV, "collection") == nil || want == nil {
					st, failed = http.StatusForbidden, true
				}
				results = append(results, prop{name: pResourceType, status: st})
				continue
			}
			ups = append(ups, u)
		}
		res, err := applyAll(c, ups, true)
		results = append(results, res...)
		failed = failed || err != nil
	}
	if failed {
		for i := range results {
			if results[i].status == http.StatusOK {
				results[i].status = http.StatusFailedDependency
			}
		}
		h.mkcolResponse(q, http.StatusForbidden, results, mkcal)
		return nil
	}
	if err := h.cfg.Store.CreateCollection(q.ctx, c); err != nil {
		if errors.Is(err, store.ErrExists) {
			cond := xml.Name{}
			if mkcal {
				cond = name(nsDAV, "resource-must-be-null")
			}
			return davError(http.StatusMethodNotAllowed, cond, "a collection with that name already exists")
		}
		return err
	}
	q.w.Header().Set("Location", h.hrefs.collection(c.Kind, q.user, c.Name))
	if doc == nil || mkcal {
		q.w.WriteHeader(http.StatusCreated)
		return nil
	}
	h.mkcolResponse(q, http.StatusCreated, results, false)
	return nil
}

// mkcolResponse writes the RFC 5689 mkcol-response body.
func (h *Handler) mkcolResponse(q *request, status int, results []prop, mkcal bool) {
	q.w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	q.w.WriteHeader(status)
	root := "D:mkcol-response"
	if mkcal {
		root = "CAL:mkcalendar-response"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n<" + root + nsDecls + ">")
	for _, st := range []int{http.StatusOK, http.StatusForbidden, http.StatusConflict, http.StatusFailedDependency} {
		var names []string
		for _, p := range results {
			if p.status == st {
				names = append(names, emptyElement(p.name))
			}
		}
		if len(names) > 0 {
			b.WriteString("<D:propstat><D:prop>" + strings.Join(names, "") + "</D:prop><D:status>" + statusLine(st) + "</D:status></D:propstat>")
		}
	}
	b.WriteString("</" + root + ">\n")
	_, _ = q.w.Write([]byte(b.String()))
}

func emptyElement(n xml.Name) string {
	var sb strings.Builder
	bw := bufio.NewWriter(&sb)
	openTag(bw, n, true)
	bw.Flush()
	return sb.String()
}
