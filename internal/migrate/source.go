package migrate

import (
	"context"
	"errors"
	"fmt"
	"net/http"

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
	// Client, when set, is used as is (tests); otherwise one is made
	// from Insecure and AllowPrivate, with timeouts.
	Client *http.Client
}

// Source is a discovered account at another CardDAV/CalDAV server.
type Source struct {
	opt SourceOptions
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

// ErrNotImplemented marks what is still a stub.
var errStub = errors.New("migrate: not written yet")

// Open discovers the account at opt.URL: the current user principal and
// its address book and calendar home sets (RFC 6764, with go-webdav's
// CardDAV and CalDAV clients). Its errors are *SourceError.
func Open(ctx context.Context, opt SourceOptions) (*Source, error) {
	return nil, errStub
}

// Principal is the source account's principal URL.
func (s *Source) Principal() string { return s.opt.URL }

// Collections lists the source account's address books, calendars and
// task lists, with their names, colours, descriptions and component sets.
func (s *Source) Collections(ctx context.Context) ([]SourceCollection, error) {
	return nil, errStub
}

// Objects streams c's objects changed since token ("" = all of them) to
// fn, fetched in batches (sync-collection or PROPFIND for the names,
// multiget for the data) with memory that does not grow with the
// collection. It returns the token to give next time: "" when the source
// has no sync-collection. full reports that every object was listed: token
// was "", or the source refused it as no longer valid and Objects started
// over. An error from fn stops it and is returned.
func (s *Source) Objects(ctx context.Context, c *SourceCollection, token string, fn func(f *Fetched) error) (next string, full bool, err error) {
	return "", false, errStub
}

// Count returns how many objects c has, listing their names only (for
// --dry-run).
func (s *Source) Count(ctx context.Context, c *SourceCollection) (int, error) {
	return 0, errStub
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
)

// SourceError is a source that cannot be used, worded for a person.
type SourceError struct {
	Problem Problem
	URL     string // the URL of the request that failed
	Status  int    // the HTTP status, when there was one
	Err     error  // the underlying error, when there was one
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("%s: %v", e.URL, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }
