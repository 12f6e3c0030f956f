package migrate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// SourceOptions say where the source account is and how to reach it.
type SourceOptions struct {
	// URL is where the account is: a server (https://host/, RFC 6764
	// well-known discovery), a principal, a home set or a collection.
	URL            string
	User, Password string
	// Insecure accepts any TLS certificate (self-signed test servers).
	Insecure bool
	// AllowPrivate lets the source be on a loopback, private or
	// link-local address. The pages leave it off, so that a user cannot
	// make the server reach into its own network; the command line (an
	// administrator) sets it.
	AllowPrivate bool
	// MaxObjectSize bounds one object read from the source, in bytes; a
	// bigger one is reported (Fetched.Err), not read. 0 means
	// imports.DefaultMaxObjectSize.
	MaxObjectSize int64
	// Client, when set, is used as is (tests), but for redirects, which
	// the Source follows itself; otherwise one is made from Insecure and
	// AllowPrivate, with timeouts.
	Client *http.Client
}

// Source is a discovered account at another CardDAV/CalDAV server.
type Source struct {
	opt SourceOptions
	c   *client
	url *url.URL // as given
	// principal is the account's principal, nil when the URL given is a
	// collection or home of a server that names none.
	principal *url.URL
	// cardHome and calHome are its home sets, nil when it has none of
	// that kind; the same URL when the server keeps both kinds there
	// (Radicale).
	cardHome, calHome *url.URL
	// single is the URL given when it is a collection without a
	// principal: Collections lists it alone.
	single *url.URL
}

// SourceCollection is an address book, calendar or task list at the
// source.
type SourceCollection struct {
	URL         string // absolute
	Kind        store.Kind
	Name        string // the last segment of its path, unescaped
	DisplayName string
	Description string
	Color       string   // "#RRGGBB" or "#RRGGBBAA", "" when the source has none
	Components  []string // calendars: "VEVENT", "VTODO", "VJOURNAL"; empty = the source did not say
	// SyncToken is the collection's DAV:sync-token now ("" when the
	// source does not support sync-collection).
	SyncToken string
}

// Fetched is one object read from the source, or one it deleted.
type Fetched struct {
	Href    string // its path at the source
	ETag    string
	Data    []byte // nil when Deleted or Err is set
	Deleted bool   // gone at the source since the token
	// Err is why the source listed it but it could not be read: a
	// status the source answered for it, or its size over MaxObjectSize.
	Err error
}

// Open discovers the account at opt.URL: the current user principal and
// its address book and calendar home sets (RFC 6764, with go-webdav's
// CardDAV and CalDAV clients). Its errors are *SourceError.
//
// It asks for the principal at the URL itself, then at the host's
// /.well-known/carddav and /.well-known/caldav, following redirects.
// Whichever URL of the account is given (the server, a principal, a home,
// a collection), Collections lists the whole account when the server
// names a principal; a URL of a server that names none is taken as a
// collection (listed alone) or as a home.
func Open(ctx context.Context, opt SourceOptions) (*Source, error) {
	u, err := parseSourceURL(opt.URL)
	if err != nil {
		return nil, err
	}
	if opt.MaxObjectSize <= 0 {
		opt.MaxObjectSize = imports.DefaultMaxObjectSize
	}
	s := &Source{opt: opt, c: newClient(opt), url: u}
	if err := s.discover(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close lets go of the connections kept open to the source between
// requests. Call it when a run (or the check of a source) ends.
func (s *Source) Close() { s.c.hc.CloseIdleConnections() }

// Principal is the URL of the account's principal; the URL given when the
// server names none.
func (s *Source) Principal() string {
	if s.principal != nil {
		return s.principal.String()
	}
	return s.url.String()
}

// Collections lists the source account's address books, calendars and
// task lists, with their names, colours, descriptions and component sets.
// go-webdav lists them (FindAddressBooks, FindCalendars); one PROPFIND of
// ours per home adds what it does not read: colours (Apple's
// calendar-color, InfCloud's addressbook-color) and sync tokens.
func (s *Source) Collections(ctx context.Context) ([]SourceCollection, error) {
	if s.single != nil {
		return s.singleCollection(ctx)
	}
	var out []SourceCollection
	if h := s.cardHome; h != nil {
		books, err := s.addressBooks(ctx, h)
		if err != nil {
			return nil, err
		}
		extra, err := s.homeExtras(ctx, h, len(books))
		if err != nil {
			return nil, err
		}
		for _, b := range books {
			u := h.ResolveReference(&url.URL{Path: b.Path})
			x := extra[pathKey(h, u.String())]
			out = append(out, SourceCollection{URL: u.String(), Kind: store.KindCard, Name: lastSegment(b.Path),
				DisplayName: b.Name, Description: b.Description, Color: normColor(x.color), SyncToken: x.syncToken})
		}
	}
	if h := s.calHome; h != nil {
		cals, err := s.calendars(ctx, h)
		if err != nil {
			return nil, err
		}
		extra, err := s.homeExtras(ctx, h, len(cals))
		if err != nil {
			return nil, err
		}
		for _, c := range cals {
			u := h.ResolveReference(&url.URL{Path: c.Path})
			x := extra[pathKey(h, u.String())]
			out = append(out, SourceCollection{URL: u.String(), Kind: store.KindCal, Name: lastSegment(c.Path),
				DisplayName: c.Name, Description: c.Description, Color: normColor(x.color),
				Components: components(c.SupportedComponentSet), SyncToken: x.syncToken})
		}
	}
	return out, nil
}

// homeExtras are the colours and sync tokens of the n collections in
// home. Without them a collection has no colour and is listed whole each
// time, so a source that refuses the PROPFIND (some answer 4xx to
// properties they do not know) still migrates.
func (s *Source) homeExtras(ctx context.Context, home *url.URL, n int) (map[string]collectionProps, error) {
	if n == 0 {
		return nil, nil
	}
	extra, err := s.extraProps(ctx, home, "1")
	var se *SourceError
	if err != nil && (!errors.As(err, &se) || se.Problem != Failed) {
		return nil, s.accountErr(err)
	}
	return extra, nil
}

var singleBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` +
	`<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav"` +
	` xmlns:A="http://apple.com/ns/ical/" xmlns:INF="http://inf-it.com/ns/ab/"><prop><resourcetype/><displayname/>` +
	`<C:addressbook-description/><CAL:calendar-description/><CAL:supported-calendar-component-set/>` +
	`<sync-token/><A:calendar-color/><INF:addressbook-color/></prop></propfind>`)

// singleCollection is the collection s.single, read with one PROPFIND.
func (s *Source) singleCollection(ctx context.Context) ([]SourceCollection, error) {
	var out []SourceCollection
	err := s.propfind(ctx, s.single, "0", singleBody, maxDiscoveryAnswer, func(r *davResponse) error {
		rt := r.prop(nsDAV, "resourcetype")
		if len(out) > 0 || rt == nil {
			return nil
		}
		c := SourceCollection{URL: s.single.String(), Name: lastSegment(s.single.Path),
			DisplayName: r.prop(nsDAV, "displayname").str(), SyncToken: r.prop(nsDAV, "sync-token").str()}
		c.Color = normColor(r.prop(nsApple, "calendar-color").str())
		if c.Color == "" {
			c.Color = normColor(r.prop(nsInfIT, "addressbook-color").str())
		}
		switch {
		case rt.child(nsCardDAV, "addressbook") != nil:
			c.Kind = store.KindCard
			c.Description = r.prop(nsCardDAV, "addressbook-description").str()
		case rt.child(nsCalDAV, "calendar") != nil:
			c.Kind = store.KindCal
			c.Description = r.prop(nsCalDAV, "calendar-description").str()
			if set := r.prop(nsCalDAV, "supported-calendar-component-set"); set != nil {
				var names []string
				for _, comp := range set.children {
					for _, a := range comp.attrs {
						if a.Name.Local == "name" {
							names = append(names, a.Value)
						}
					}
				}
				c.Components = components(names)
			}
		default:
			return nil
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, s.accountErr(err)
	}
	if len(out) == 0 {
		return nil, &SourceError{Problem: NotDAV, URL: s.single.String(), Detail: "it is no longer an address book or calendar"}
	}
	return out, nil
}

// components keeps the components of a calendar that a collection here
// can hold, in upper case (Xandikos lists VFREEBUSY too).
func components(names []string) []string {
	var out []string
	for _, n := range names {
		switch n = strings.ToUpper(strings.TrimSpace(n)); n {
		case "VEVENT", "VTODO", "VJOURNAL":
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// Objects streams c's objects changed since token ("" = all of them) to
// fn, fetched in batches (sync-collection or PROPFIND for the names,
// multiget for the data) with memory that does not grow with the
// collection. It returns the token to give next time: "" when the source
// has no sync-collection. full reports that every object was listed: token
// was "", or the source refused it as no longer valid and Objects started
// over. An error from fn stops it and is returned.
//
// Objects that are gone come as Deleted only in a listing since a token.
// The names are listed first (into a temporary file, so that the
// source's answer is not held open while fn works), then fetched by 100
// with multiget: an object the multiget leaves out, or that the source
// lists with an error status or a size over MaxObjectSize, comes with
// Err. Data is the object's text as the source sent it, not re-encoded.
func (s *Source) Objects(ctx context.Context, c *SourceCollection, token string, fn func(f *Fetched) error) (next string, full bool, err error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return "", false, &SourceError{Problem: BadURL, URL: c.URL, Detail: err.Error()}
	}
	sp, err := newSpool()
	if err != nil {
		return "", false, err
	}
	defer sp.close()
	next, full, err = s.list(ctx, c, u, token, sp.add, sp.reset)
	if err != nil {
		return "", full, err
	}
	if err := s.fetch(ctx, c, u, sp, fn); err != nil {
		return "", full, err
	}
	return next, full, nil
}

// Count returns how many objects c has, listing their names only (for
// --dry-run).
func (s *Source) Count(ctx context.Context, c *SourceCollection) (int, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return 0, &SourceError{Problem: BadURL, URL: c.URL, Detail: err.Error()}
	}
	// Members listed twice count once, within the window Objects
	// hands them over once.
	n, win := 0, newWindow(u)
	_, _, err = s.list(ctx, c, u, "", func(e *entry) error {
		if !win.repeat(e, s.batched(e)) && !e.deleted {
			n++
		}
		if win.full() {
			win.clear()
		}
		return nil
	}, func() error { n = 0; win.clear(); return nil })
	return n, err
}

// Problem is what went wrong with a source, for SourceError.
type Problem int

// Problems a source can have.
const (
	Unauthorized   Problem = iota + 1 // 401 (or 403) on the account: wrong login or password, or an app password is needed
	Unreachable                       // DNS, connection refused, timeout
	BadCertificate                    // TLS: the certificate is not trusted (see --insecure) or the handshake failed
	NotDAV                            // the URL answers, but not as CardDAV/CalDAV
	Forbidden                         // a private address the pages do not reach (SourceOptions.AllowPrivate)
	Failed                            // the source answered a request with an error status or a body that does not parse
	BadURL                            // the URL given does not read as an http or https URL of a server
	PlainHTTP                         // a source given as https leads to a plain http URL, which would carry the login in the clear
)

// SourceError is a source that cannot be used, worded for a person.
type SourceError struct {
	Problem Problem
	URL     string // the URL of the request that failed
	Method  string // its method, when there was a request
	Status  int    // the HTTP status, when there was one
	User    string // the login, for Unauthorized
	// Detail is a few words on what happened (NotDAV: what the URL
	// answered; Failed: what was wrong with the answer; Unauthorized:
	// why the login was not sent), when Err does not say it.
	Detail string
	Err    error // the underlying error, when there was one
}

// Error is one sentence that names the host.
func (e *SourceError) Error() string {
	host := e.URL
	if u, err := url.Parse(e.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	switch e.Problem {
	case Unauthorized:
		switch {
		case e.Detail != "":
			return fmt.Sprintf("the server at %s asks for a login: %s", host, e.Detail)
		case e.Status == http.StatusForbidden:
			return fmt.Sprintf("the server at %s refused the login %q access to the account (403): check the login, or the provider needs an app password", host, e.User)
		case e.Status == 0:
			return fmt.Sprintf("the server at %s did not accept the login %q: wrong password, or the provider needs an app password", host, e.User)
		}
		return fmt.Sprintf("the server at %s refused the login %q (%d): wrong password, or the provider needs an app password", host, e.User, e.Status)
	case Unreachable:
		return fmt.Sprintf("cannot reach %s: %s", host, unreachableReason(e.Err))
	case BadCertificate:
		if certificateError(e.Err) != nil {
			return fmt.Sprintf("the TLS certificate of %s is not trusted (%v); for a test server with a self-signed certificate use --insecure", host, certificateError(e.Err))
		}
		return fmt.Sprintf("the TLS handshake with %s failed (%v): is it an https server?", host, innermost(e.Err))
	case NotDAV:
		return fmt.Sprintf("%s does not answer as a CardDAV or CalDAV server (%s)", redacted(e.URL), e.Detail)
	case Forbidden:
		// Not the address: the pages would tell whoever asks what the
		// server's internal names resolve to.
		return fmt.Sprintf("%s is on a private network, which this server does not reach: migrations started from the pages reach only public servers", host)
	case BadURL:
		return fmt.Sprintf("%q is not the URL of a server: %s", e.URL, e.Detail)
	case PlainHTTP:
		return fmt.Sprintf("the source, given as https, leads to %s, a plain http URL: the login is not sent in the clear", redacted(e.URL))
	}
	what := "a request"
	if e.Method != "" {
		what = e.Method + " " + redacted(e.URL)
	}
	switch {
	case e.Detail != "" && e.Status != 0:
		return fmt.Sprintf("the server at %s answered %s with %d %s: %s", host, what, e.Status, http.StatusText(e.Status), e.Detail)
	case e.Status != 0:
		return fmt.Sprintf("the server at %s answered %s with %d %s", host, what, e.Status, http.StatusText(e.Status))
	case e.Detail != "":
		return fmt.Sprintf("the server at %s gave an answer to %s that cannot be used: %s", host, what, e.Detail)
	}
	return fmt.Sprintf("the server at %s gave an answer to %s that cannot be used: %v", host, what, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// certificateError is the certificate verification error in err, nil
// when there is none.
func certificateError(err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &invalid):
		return invalid
	case errors.As(err, &hostname):
		return hostname
	case errors.As(err, &verify):
		return verify.Err
	}
	return nil
}

// tlsError reports whether err is a failed TLS handshake.
func tlsError(err error) bool {
	var (
		rh    tls.RecordHeaderError
		alert tls.AlertError
	)
	return errors.As(err, &rh) || errors.As(err, &alert) || strings.Contains(err.Error(), "tls: ") ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// unreachableReason says in a few words why a connection failed.
func unreachableReason(err error) string {
	var dns *net.DNSError
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &dns) && dns.IsNotFound:
		return "no such host"
	case errors.As(err, &dns) && dns.IsTimeout:
		return "the name server did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed without an answer"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "no answer in time"
	}
	return innermost(err).Error()
}

// innermost unwraps the *url.Error and *net.OpError around err: their
// text repeats the method and URL.
func innermost(err error) error {
	for {
		var (
			ue *url.Error
			oe *net.OpError
		)
		switch {
		case errors.As(err, &ue) && ue.Err != nil:
			err = ue.Err
		case errors.As(err, &oe) && oe.Err != nil:
			err = oe.Err
		default:
			return err
		}
	}
}
