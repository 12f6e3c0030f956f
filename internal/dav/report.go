package dav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/store"
)

func syncToken(c *store.Collection) string { return store.SyncToken(c.ID, c.SyncSeq) }

func (h *Handler) report(q *request) error {
	doc, err := readXML(q)
	if err != nil {
		return err
	}
	if doc == nil {
		return davError(http.StatusBadRequest, xml.Name{}, "REPORT needs a body")
	}
	var known bool
	switch q.t.ckind {
	case store.KindCard:
		known = doc.is(nsCardDAV, "addressbook-multiget") || doc.is(nsCardDAV, "addressbook-query")
	case store.KindCal:
		known = doc.is(nsCalDAV, "calendar-multiget") || doc.is(nsCalDAV, "calendar-query") || doc.is(nsCalDAV, "free-busy-query")
	}
	known = known || doc.is(nsDAV, "sync-collection")
	if !known || q.t.kind != tCollection {
		return davError(http.StatusForbidden, name(nsDAV, "supported-report"),
			fmt.Sprintf("report {%s}%s is not supported here", doc.Name.Space, doc.Name.Local))
	}
	c, err := h.collection(q)
	if err != nil {
		return err
	}
	pr, err := parsePropRequest(q.ctx, doc)
	if err != nil {
		return err
	}
	switch doc.Name.Local {
	case "addressbook-multiget", "calendar-multiget":
		return h.multiget(q, c, doc, pr)
	case "addressbook-query":
		return h.query(q, c, doc, pr)
	case "calendar-query":
		return h.calendarQuery(q, c, doc, pr)
	case "free-busy-query":
		return h.freeBusy(q, c, doc)
	case "sync-collection":
		return h.syncCollection(q, c, doc, pr)
	}
	return nil
}

// objectName maps a multiget href to an object name in collection c, or "".
func (h *Handler) objectName(q *request, c *store.Collection, href string) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	p := u.EscapedPath()
	if h.cfg.Prefix != "" {
		p = strings.TrimPrefix(p, h.cfg.Prefix)
	}
	t, err := parsePath(p)
	if err != nil || t.kind != tObject || t.user != q.user || t.ckind != c.Kind || t.coll != c.Name {
		return ""
	}
	return t.obj
}

func (h *Handler) multiget(q *request, c *store.Collection, doc *node, pr *propRequest) error {
	var hrefList []string
	var names []string
	for _, n := range doc.Children {
		if n.is(nsDAV, "href") {
			hrefList = append(hrefList, n.text())
			if nm := h.objectName(q, c, n.text()); nm != "" {
				names = append(names, nm)
			}
		}
	}
	objs, err := h.cfg.Store.GetObjects(q.ctx, c.ID, names, pr.wantsData())
	if err != nil {
		return err
	}
	byName := make(map[string]*store.Object, len(objs))
	for i := range objs {
		byName[objs[i].Name] = &objs[i]
	}
	ms := newMultistatus(q.w, q.r)
	for _, href := range hrefList {
		// Echo each href as sent: vdirsyncer matches answers by string.
		o := byName[h.objectName(q, c, href)]
		if o == nil {
			ms.statusResponse(href, http.StatusNotFound, "")
			continue
		}
		ms.propResponse(href, h.props(&resource{href: href, kind: tObject, user: q.user, coll: c, obj: o}, pr))
	}
	_ = ms.close()
	return nil
}

// limitOf reads <limit><nresults>n</nresults></limit> in namespace ns.
func limitOf(doc *node, ns string) (int, error) {
	l := doc.child(ns, "limit")
	if l == nil {
		return 0, nil
	}
	nr := l.child(ns, "nresults")
	if nr == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(nr.text())
	if err != nil || n < 1 {
		return 0, plainError(http.StatusBadRequest, "limit/nresults must be a positive integer")
	}
	return n, nil
}

func parseFilter(n *node) (*contacts.Filter, error) {
	f := &contacts.Filter{AnyOf: n == nil || n.attr("test") != "allof"}
	if n == nil {
		return f, nil
	}
	for _, pf := range n.Children {
		if !pf.is(nsCardDAV, "prop-filter") {
			continue
		}
		p := contacts.PropFilter{Name: pf.attr("name"), AllOf: pf.attr("test") == "allof"}
		if p.Name == "" {
			return nil, plainError(http.StatusBadRequest, "prop-filter needs a name")
		}
		for _, c := range pf.Children {
			switch {
			case c.is(nsCardDAV, "is-not-defined"):
				p.IsNotDefined = true
			case c.is(nsCardDAV, "text-match"):
				p.TextMatches = append(p.TextMatches, textMatch(c))
			case c.is(nsCardDAV, "param-filter"):
				pa := contacts.ParamFilter{Name: c.attr("name")}
				if pa.Name == "" {
					return nil, plainError(http.StatusBadRequest, "param-filter needs a name")
				}
				if c.child(nsCardDAV, "is-not-defined") != nil {
					pa.IsNotDefined = true
				}
				if tm := c.child(nsCardDAV, "text-match"); tm != nil {
					t := textMatch(tm)
					pa.TextMatch = &t
				}
				p.Params = append(p.Params, pa)
			}
		}
		f.Props = append(f.Props, p)
	}
	if err := f.Check(); err != nil {
		if errors.Is(err, contacts.ErrUnsupportedCollation) {
			return nil, davError(http.StatusForbidden, name(nsCardDAV, "supported-collation"), err.Error())
		}
		return nil, davError(http.StatusForbidden, name(nsCardDAV, "supported-filter"), err.Error())
	}
	return f, nil
}

func textMatch(n *node) contacts.TextMatch {
	return contacts.TextMatch{
		Text:      n.Text,
		Collation: n.attr("collation"),
		MatchType: n.attr("match-type"),
		Negate:    n.attr("negate-condition") == "yes",
	}
}

var errStop = errors.New("limit reached")

func (h *Handler) query(q *request, c *store.Collection, doc *node, pr *propRequest) error {
	f, err := parseFilter(doc.child(nsCardDAV, "filter"))
	if err != nil {
		return err
	}
	limit, err := limitOf(doc, nsCardDAV)
	if err != nil {
		return err
	}
	collHref := h.hrefs.collection(c.Kind, q.user, c.Name)
	ms := newMultistatus(q.w, q.r)
	n := 0
	truncated := false
	err = h.cfg.Store.ListObjects(q.ctx, c.ID, true, func(o *store.Object) error {
		ok, err := f.Match(o.Data)
		if err != nil || !ok {
			return nil // a card we cannot read matches nothing
		}
		if limit > 0 && n == limit {
			truncated = true
			return errStop
		}
		n++
		href := h.hrefs.object(c.Kind, q.user, c.Name, o.Name)
		ms.propResponse(href, h.props(&resource{href: href, kind: tObject, user: q.user, coll: c, obj: o}, pr))
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return &cutError{"query failed", err}
	}
	if truncated {
		ms.statusResponse(collHref, http.StatusInsufficientStorage, "<D:number-of-matches-within-limits/>")
	}
	_ = ms.close()
	return nil
}

func (h *Handler) syncCollection(q *request, c *store.Collection, doc *node, pr *propRequest) error {
	var since int64
	if tn := doc.child(nsDAV, "sync-token"); tn != nil && tn.text() != "" {
		s, ok := store.ParseSyncToken(tn.text(), c.ID)
		if !ok {
			return errInvalidToken
		}
		since = s
	}
	if lv := doc.child(nsDAV, "sync-level"); lv != nil && lv.text() != "1" && lv.text() != "infinite" {
		return plainError(http.StatusBadRequest, "sync-level must be 1 or infinite")
	}
	limit, err := limitOf(doc, nsDAV)
	if err != nil {
		return err
	}
	var ms *multistatus
	next, truncated, err := h.cfg.Store.ChangesSince(q.ctx, c.ID, since, limit, pr.wantsData(), func(ch *store.Change) error {
		if ms == nil {
			ms = newMultistatus(q.w, q.r)
		}
		href := h.hrefs.object(c.Kind, q.user, c.Name, ch.Name)
		if ch.Deleted {
			ms.statusResponse(href, http.StatusNotFound, "")
			return nil
		}
		ms.propResponse(href, h.props(&resource{href: href, kind: tObject, user: q.user, coll: c, obj: ch.Object}, pr))
		return nil
	})
	if err != nil {
		if ms == nil {
			return err
		}
		return &cutError{"sync failed", err}
	}
	if ms == nil {
		ms = newMultistatus(q.w, q.r)
	}
	if truncated {
		ms.statusResponse(h.hrefs.collection(c.Kind, q.user, c.Name), http.StatusInsufficientStorage, "<D:number-of-matches-within-limits/>")
	}
	ms.raw("<D:sync-token>" + escape(store.SyncToken(c.ID, next)) + "</D:sync-token>")
	_ = ms.close()
	return nil
}
