package migrate

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
)

// parseSourceURL reads the URL a person gave: "dav.example.org" means
// https://dav.example.org/.
func parseSourceURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	bad := func(why string) error { return &SourceError{Problem: BadURL, URL: raw, Detail: why} }
	if s == "" {
		return nil, bad("it is empty")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, bad("it does not read as a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, bad("only http and https URLs are read")
	case u.Host == "":
		return nil, bad("it names no host")
	case u.User != nil:
		return nil, bad("the login goes in its own field, not in the URL")
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// discover finds s's principal and home sets, or else takes s.url as a
// collection or a home itself.
func (s *Source) discover(ctx context.Context) error {
	why := "" // what the URL given answered, for NotDAV
	note := func(s string) {
		if why == "" {
			why = s
		}
	}
	for _, cand := range s.candidates() {
		p, err := s.findPrincipal(ctx, cand)
		if err != nil {
			if fatal(err) {
				return err
			}
			note(describe(err))
			continue
		}
		if p == nil {
			note("no current-user-principal")
			continue
		}
		if err := s.findHomes(ctx, p); err != nil {
			return err
		}
		if s.cardHome != nil || s.calHome != nil {
			s.principal = p
			return nil
		}
		note("its principal has no address book or calendar home")
	}
	ok, err := s.asCollectionOrHome(ctx)
	if err != nil || ok {
		return err
	}
	return &SourceError{Problem: NotDAV, URL: s.url.String(), Detail: why}
}

// candidates are the URLs asked for the current user principal: the one
// given, then the host's RFC 6764 well-known URLs.
func (s *Source) candidates() []*url.URL {
	out := []*url.URL{s.url}
	for _, p := range []string{"/.well-known/carddav", "/.well-known/caldav"} {
		if strings.TrimSuffix(s.url.Path, "/") != p {
			out = append(out, &url.URL{Scheme: s.url.Scheme, Host: s.url.Host, Path: p})
		}
	}
	return out
}

// fatal reports whether err ends discovery: another URL on the same host
// would fail the same way.
func fatal(err error) bool {
	var se *SourceError
	if !errors.As(err, &se) {
		return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	}
	switch se.Problem {
	case Unauthorized, Unreachable, BadCertificate, Forbidden, BadURL:
		return true
	}
	return false
}

// describe says in a few words why a URL is no principal's address.
func describe(err error) string {
	var se *SourceError
	switch {
	case !errors.As(err, &se):
		return fmt.Sprintf("its answer to PROPFIND is not what a DAV server answers: %v", err)
	case se.Detail != "":
		return se.Detail
	case se.Status != 0:
		return fmt.Sprintf("it answered PROPFIND with %d %s", se.Status, http.StatusText(se.Status))
	case se.Err != nil:
		return se.Err.Error()
	}
	return se.Error()
}

// findPrincipal asks cand for the current user principal with go-webdav:
// nil when cand names none.
func (s *Source) findPrincipal(ctx context.Context, cand *url.URL) (*url.URL, error) {
	wc, err := webdav.NewClient(s.c.webdavClient(), cand.String())
	if err != nil {
		return nil, err
	}
	tctx, final := withTrace(ctx)
	p, err := wc.FindCurrentUserPrincipal(tctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var se *SourceError
		if !errors.As(err, &se) && strings.Contains(err.Error(), "unauthenticated") {
			// The server answered, but as to someone not signed in.
			return nil, &SourceError{Problem: Unauthorized, URL: cand.String(), Method: "PROPFIND", User: s.c.user}
		}
		if !errors.As(err, &se) && strings.Contains(err.Error(), "current-user-principal") {
			return nil, nil // answered 404 (or another status) for the property
		}
		return nil, err
	}
	if p == "" {
		return nil, nil
	}
	// go-webdav keeps the path of the href; it is on the host that
	// answered, after redirects.
	return final.ResolveReference(&url.URL{Path: p}), nil
}

var homeSetsBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` +
	`<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav">` +
	`<prop><C:addressbook-home-set/><CAL:calendar-home-set/></prop></propfind>`)

// findHomes reads the principal's home sets. go-webdav's
// FindAddressBookHomeSet and FindCalendarHomeSet keep only the path of
// the href (emersion/go-webdav#61), and iCloud's homes are on another
// host than its principals (p42-contacts.icloud.com): this asks for both
// in one PROPFIND and keeps the whole URL.
func (s *Source) findHomes(ctx context.Context, principal *url.URL) error {
	tctx, final := withTrace(ctx)
	var card, cal string
	err := s.propfind(tctx, principal, "0", homeSetsBody, maxDiscoveryAnswer, func(r *davResponse) error {
		if p := r.prop(nsCardDAV, "addressbook-home-set"); p != nil && card == "" {
			card = p.child(nsDAV, "href").str()
		}
		if p := r.prop(nsCalDAV, "calendar-home-set"); p != nil && cal == "" {
			cal = p.child(nsDAV, "href").str()
		}
		return nil
	})
	if err != nil {
		return s.accountErr(err)
	}
	for _, h := range []struct {
		href string
		to   **url.URL
	}{{card, &s.cardHome}, {cal, &s.calHome}} {
		if h.href == "" {
			continue
		}
		u, err := final.Parse(h.href)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" {
			return &SourceError{Problem: Failed, URL: principal.String(), Method: "PROPFIND",
				Err: fmt.Errorf("a home set %q that is not an http or https URL", h.href)}
		}
		*h.to = u
	}
	return nil
}

var resourceTypeBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` +
	`<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>`)

// asCollectionOrHome takes s.url, which has no principal, as an address
// book or a calendar (Collections lists it alone) or as a home (it lists
// the ones in it). It reports false when s.url is neither.
func (s *Source) asCollectionOrHome(ctx context.Context) (bool, error) {
	tctx, final := withTrace(ctx)
	var rt *davProp
	err := s.propfind(tctx, s.url, "0", resourceTypeBody, maxDiscoveryAnswer, func(r *davResponse) error {
		if rt == nil {
			rt = r.prop(nsDAV, "resourcetype")
		}
		return nil
	})
	if err != nil {
		if fatal(err) {
			return false, err
		}
		return false, nil
	}
	if rt == nil || rt.child(nsDAV, "collection") == nil {
		return false, nil
	}
	if rt.child(nsCardDAV, "addressbook") != nil || rt.child(nsCalDAV, "calendar") != nil {
		u := *final
		s.single = &u
		return true, nil
	}
	// A home lists its collections at Depth 1; the URL of a collection
	// was seen above, so this does not list a big book's cards.
	home := *final
	books, err := s.addressBooks(ctx, &home)
	if err != nil && fatal(err) {
		return false, err
	}
	cals, err2 := s.calendars(ctx, &home)
	if err2 != nil && fatal(err2) {
		return false, err2
	}
	if len(books)+len(cals) == 0 {
		return false, nil
	}
	s.cardHome, s.calHome = &home, &home
	return true, nil
}

// propfind sends a PROPFIND and hands each response of its 207 to fn.
// maxTotal bounds the answer (0: no bound, for listings that stream).
func (s *Source) propfind(ctx context.Context, u *url.URL, depth string, body []byte, maxTotal int64, fn func(*davResponse) error) error {
	resp, err := s.c.request(ctx, "PROPFIND", u, depth, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		discard(resp)
		return &SourceError{Problem: Failed, URL: u.String(), Method: "PROPFIND", Status: resp.StatusCode}
	}
	m := newMSReader(resp.Body, maxTotal, maxSmallText)
	var r davResponse
	for {
		if err := m.next(&r); err != nil {
			if err == io.EOF {
				return nil
			}
			return wrapErr(ctx, "PROPFIND", u, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

// accountErr turns a 403 on the account's own resources into
// Unauthorized: the login is known, but not allowed there.
func (s *Source) accountErr(err error) error {
	var se *SourceError
	if errors.As(err, &se) && se.Problem == Failed && se.Status == http.StatusForbidden {
		c := *se
		c.Problem, c.User = Unauthorized, s.c.user
		return &c
	}
	return err
}

// collectionProps are what go-webdav does not read of collections.
type collectionProps struct {
	color, syncToken string
}

var extraPropsBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` +
	`<propfind xmlns="DAV:" xmlns:A="http://apple.com/ns/ical/" xmlns:INF="http://inf-it.com/ns/ab/">` +
	`<prop><sync-token/><A:calendar-color/><INF:addressbook-color/></prop></propfind>`)

// extraProps reads the colours and sync tokens of the collections at u
// (a home at Depth 1, a collection at Depth 0), by path.
func (s *Source) extraProps(ctx context.Context, u *url.URL, depth string) (map[string]collectionProps, error) {
	out := map[string]collectionProps{}
	err := s.propfind(ctx, u, depth, extraPropsBody, maxDiscoveryAnswer, func(r *davResponse) error {
		var p collectionProps
		p.syncToken = r.prop(nsDAV, "sync-token").str()
		p.color = r.prop(nsApple, "calendar-color").str()
		if p.color == "" {
			p.color = r.prop(nsInfIT, "addressbook-color").str()
		}
		out[pathKey(u, r.hrefs[0])] = p
		return nil
	})
	return out, err
}

// pathKey is href's path, unescaped and without a final slash, to match
// hrefs that name one resource in different spellings (Radicale and
// Xandikos answer a multiget for c%32.vcf with c2.vcf).
func pathKey(base *url.URL, href string) string {
	if strings.HasPrefix(href, "/") && !strings.HasPrefix(href, "//") && !strings.ContainsAny(href, "%?#") && !strings.Contains(href, "/.") {
		return strings.TrimSuffix(href, "/") // as url.Parse would give it, without its cost
	}
	u, err := base.Parse(href)
	if err != nil {
		return href
	}
	return strings.TrimSuffix(u.Path, "/")
}

// addressBooks lists the address books in home with go-webdav.
func (s *Source) addressBooks(ctx context.Context, home *url.URL) ([]carddav.AddressBook, error) {
	cc, err := carddav.NewClient(s.c.webdavClient(), origin(home))
	if err != nil {
		return nil, err
	}
	books, err := cc.FindAddressBooks(ctx, home.Path)
	return books, s.listErr(ctx, home, err)
}

// calendars lists the calendars and task lists in home with go-webdav.
func (s *Source) calendars(ctx context.Context, home *url.URL) ([]caldav.Calendar, error) {
	cc, err := caldav.NewClient(s.c.webdavClient(), origin(home))
	if err != nil {
		return nil, err
	}
	cals, err := cc.FindCalendars(ctx, home.Path)
	return cals, s.listErr(ctx, home, err)
}

// listErr is the error of a go-webdav listing of home.
func (s *Source) listErr(ctx context.Context, home *url.URL, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var se *SourceError
	if errors.As(err, &se) {
		return s.accountErr(se)
	}
	return &SourceError{Problem: Failed, URL: home.String(), Method: "PROPFIND", Err: err}
}

func origin(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}).String()
}

// lastSegment is the last segment of p, unescaped (go-webdav's paths are).
func lastSegment(p string) string {
	return path.Base(strings.TrimSuffix(p, "/"))
}

// normColor reads a colour as sources give it, "#RRGGBB", "#RRGGBBAA"
// (Apple), "#RGB" or without the "#", as "#RRGGBB" or "#RRGGBBAA" in
// upper case; "" when it is none of these.
func normColor(c string) string {
	c = strings.TrimPrefix(strings.TrimSpace(c), "#")
	for _, r := range c {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return ""
		}
	}
	switch len(c) {
	case 3:
		c = string([]byte{c[0], c[0], c[1], c[1], c[2], c[2]})
	case 6, 8:
	default:
		return ""
	}
	return "#" + strings.ToUpper(c)
}

// xmlEscape is s escaped for XML text.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
