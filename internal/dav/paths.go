package dav

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/store"
)

type targetKind int

const (
	tNone       targetKind = iota // outside the DAV tree
	tRoot                         // "/" and "/dav/"
	tPrincipals                   // /dav/principals/
	tPrincipal                    // /dav/principals/<user>/
	tHomes                        // /dav/addressbooks/, /dav/calendars/
	tHome                         // /dav/addressbooks/<user>/
	tCollection                   // /dav/addressbooks/<user>/<book>/
	tObject                       // /dav/addressbooks/<user>/<book>/<name>
	tWellKnown                    // /.well-known/carddav, /.well-known/caldav
	tPush                         // /dav/push/<token>: a WebDAV-Push registration
)

// target is a request path split into the parts the URL layout defines.
type target struct {
	kind  targetKind
	ckind store.Kind
	user  string
	coll  string
	obj   string
	token string // tPush
}

var errBadPath = errors.New("bad path")

// homeSegment names the home folder of each kind of collection.
var homeSegment = map[store.Kind]string{store.KindCard: "addressbooks", store.KindCal: "calendars"}

// pushSegment is the folder of WebDAV-Push registration URLs.
const pushSegment = "push"

// parsePath maps an escaped request path (with the base prefix already
// removed) to a target. Encoded slashes and dot segments are refused
// rather than normalised, so that a path always names one resource; so are
// segments that are not UTF-8: no name could be written back in an XML
// href, and PostgreSQL stores no such text.
func parsePath(escaped string) (target, error) {
	if escaped == "" || escaped == "/" {
		return target{kind: tRoot}, nil
	}
	if !strings.HasPrefix(escaped, "/") {
		return target{}, errBadPath
	}
	raw := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	if raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	segs := make([]string, len(raw))
	for i, r := range raw {
		s, err := url.PathUnescape(r)
		if err != nil || s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\\x00") || !utf8.ValidString(s) {
			return target{}, errBadPath
		}
		segs[i] = s
	}
	if segs[0] == ".well-known" {
		if len(segs) == 2 && (segs[1] == "carddav" || segs[1] == "caldav") {
			return target{kind: tWellKnown}, nil
		}
		return target{kind: tNone}, nil
	}
	if segs[0] != "dav" {
		return target{kind: tNone}, nil
	}
	if len(segs) == 1 {
		return target{kind: tRoot}, nil
	}
	if segs[1] == "principals" {
		switch len(segs) {
		case 2:
			return target{kind: tPrincipals}, nil
		case 3:
			return target{kind: tPrincipal, user: segs[2]}, nil
		}
		return target{kind: tNone}, nil
	}
	if segs[1] == pushSegment {
		if len(segs) == 3 {
			return target{kind: tPush, token: segs[2]}, nil
		}
		return target{kind: tNone}, nil
	}
	var kind store.Kind
	switch segs[1] {
	case homeSegment[store.KindCard]:
		kind = store.KindCard
	case homeSegment[store.KindCal]:
		kind = store.KindCal
	default:
		return target{kind: tNone}, nil
	}
	t := target{ckind: kind}
	switch len(segs) {
	case 2:
		t.kind = tHomes
	case 3:
		t.kind, t.user = tHome, segs[2]
	case 4:
		t.kind, t.user, t.coll = tCollection, segs[2], segs[3]
	case 5:
		t.kind, t.user, t.coll, t.obj = tObject, segs[2], segs[3], segs[4]
	default:
		t.kind = tNone
	}
	return t, nil
}

// hrefs builds the escaped paths clients store; collections end in "/".
type hrefs struct{ prefix string }

func seg(s string) string { return url.PathEscape(s) }

func (h hrefs) root() string              { return h.prefix + "/dav/" }
func (h hrefs) principals() string        { return h.prefix + "/dav/principals/" }
func (h hrefs) principal(u string) string { return h.prefix + "/dav/principals/" + seg(u) + "/" }
func (h hrefs) homes(k store.Kind) string { return h.prefix + "/dav/" + homeSegment[k] + "/" }
func (h hrefs) home(k store.Kind, u string) string {
	return h.homes(k) + seg(u) + "/"
}
func (h hrefs) collection(k store.Kind, u, c string) string { return h.home(k, u) + seg(c) + "/" }
func (h hrefs) object(k store.Kind, u, c, o string) string {
	return h.collection(k, u, c) + seg(o)
}
func (h hrefs) push(token string) string { return h.prefix + "/dav/" + pushSegment + "/" + seg(token) }
