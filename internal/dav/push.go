package dav

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/store"
)

// The DAV side of WebDAV-Push (draft-bitfire-webdav-push): discovery
// (OPTIONS, the push properties), registration by POST of push-register to
// a collection or home, removal by DELETE of the registration URL, and
// Push-Dont-Notify. What a write notifies is decided by the store, in the
// write's transaction (store.Push); package push sends it.

const nsPush = push.Namespace

var (
	pTransports        = name(nsPush, "transports")
	pTopic             = name(nsPush, "topic")
	pSupportedTriggers = name(nsPush, "supported-triggers")
)

// Triggers as supported-triggers lists them: content updates of members
// (depth 1) on collections and homes, property updates of the collection
// itself (depth 0) on collections; the store queues nothing else.
const (
	contentTrigger  = "<P:content-update><D:depth>1</D:depth></P:content-update>"
	propertyTrigger = "<P:property-update><D:depth>0</D:depth></P:property-update>"
)

const (
	// pushAllow is what a registration URL allows.
	pushAllow = "OPTIONS, DELETE"
	// maxClient bounds the User-Agent kept with a registration, as
	// package auth bounds the one kept with a sign-in.
	maxClient = 200
	// maxDontNotify bounds the registrations one Push-Dont-Notify skips,
	// so that the store's query stays small whatever the header holds.
	maxDontNotify = 100
)

// Preconditions of the draft. The draft's text calls the last one
// no-supported-trigger; its RELAX NG schema, which clients validate
// against, names it no-trigger-supported, and so do we.
var (
	condInvalidSubscription = name(nsPush, "invalid-subscription")
	condPushNotAvailable    = name(nsPush, "push-not-available")
	condNoTrigger           = name(nsPush, "no-trigger-supported")
)

// pushable says whether r supports WebDAV-Push: address books, calendars
// and their homes, while push is on.
func (h *Handler) pushable(r *resource) bool {
	return h.cfg.Push != nil && (r.kind == tCollection || r.kind == tHome)
}

// pushPropNames are the push properties propname lists for r.
func (h *Handler) pushPropNames(r *resource) []xml.Name {
	if !h.pushable(r) {
		return nil
	}
	return []xml.Name{pTransports, pTopic, pSupportedTriggers}
}

// pushValue computes push property local of r; false when r has none.
// Like getctag, they are computed and so given only when asked for by
// name, not for allprop (RFC 4918 §9.1).
func (h *Handler) pushValue(r *resource, local string, pr *propRequest) (string, bool) {
	if !h.pushable(r) {
		return "", false
	}
	switch local {
	case "transports":
		if pr.vapid == "" {
			return "", false
		}
		return `<P:web-push><P:vapid-public-key type="p256ecdsa">` + escape(pr.vapid) +
			`</P:vapid-public-key></P:web-push>`, true
	case "topic":
		if r.kind == tHome {
			return escape(h.cfg.Push.HomeTopic(r.user, r.home)), true
		}
		return escape(h.cfg.Push.CollectionTopic(r.coll.ID)), true
	case "supported-triggers":
		if r.kind == tHome {
			return contentTrigger, true
		}
		return contentTrigger + propertyTrigger, true
	}
	return "", false
}

// loadPushKey reads the VAPID public key into pr when it asks for
// transports.
func (h *Handler) loadPushKey(q *request, pr *propRequest) error {
	if h.cfg.Push == nil || !slices.Contains(pr.names, pTransports) {
		return nil
	}
	k, err := h.cfg.Push.Key(q.ctx)
	if err != nil {
		return err
	}
	pr.vapid = k.Public
	return nil
}

// pushOptions returns the Allow header of an OPTIONS answer for t and
// adds webdav-push to its DAV header where push is supported.
func (h *Handler) pushOptions(w http.ResponseWriter, t target) string {
	switch {
	case h.cfg.Push == nil:
	case t.kind == tPush:
		return pushAllow
	case t.kind == tCollection || t.kind == tHome:
		w.Header().Set("DAV", davCapabilities+", webdav-push")
		return allowMethods + ", POST"
	}
	return allowMethods
}

// post answers a POST: a push-register body registers a push subscription
// on a collection or home. Any other POST is refused as before push.
func (h *Handler) post(q *request) error {
	refused := notAllowed(allowMethods, "method not allowed")
	if h.cfg.Push == nil || !isXML(q.r.Header.Get("Content-Type")) {
		return refused
	}
	doc, err := readXML(q)
	if err != nil {
		return err
	}
	if !doc.is(nsPush, "push-register") {
		return refused
	}
	if q.t.kind != tCollection && q.t.kind != tHome {
		return davError(http.StatusForbidden, condPushNotAvailable,
			"push can be registered on address books, calendars and task lists, and on their homes")
	}
	var coll int64
	if q.t.kind == tCollection {
		c, err := h.collection(q)
		if err != nil {
			return err
		}
		coll = c.ID
	}
	reg, err := parseRegistration(doc, q.t.kind == tHome, time.Now(), h.cfg.Push.CheckResource)
	if err != nil {
		return err
	}
	reg.Login, reg.Collection = q.user, coll
	if coll == 0 {
		reg.Home = q.t.ckind
	}
	reg.Client = truncateUTF8(strings.ToValidUTF8(q.r.UserAgent(), "\uFFFD"), maxClient)
	created, err := h.cfg.Store.RegisterPush(q.ctx, reg)
	if errors.Is(err, store.ErrTooManyRegistrations) {
		return tooManyRegistrations(err, q.t.kind == tHome)
	}
	if err != nil {
		return err
	}
	// DAVx5 keeps Location as it is and sends it back in Push-Dont-Notify;
	// it reads Expires to know when to register again.
	q.w.Header().Set("Location", h.absoluteURL(q.r, h.hrefs.push(reg.Token)))
	q.w.Header().Set("Expires", reg.Expires.UTC().Format(http.TimeFormat))
	if created {
		q.w.WriteHeader(http.StatusCreated)
	} else {
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// tooManyRegistrations is the answer to a registration refused by a cap
// (err, store.ErrTooManyRegistrations): 403 push-not-available, saying
// which cap.
func tooManyRegistrations(err error, home bool) error {
	has := "this account has"
	limit := store.MaxPushRegistrations
	if e := (*store.TooManyRegistrationsError)(nil); errors.As(err, &e) {
		limit = e.Limit
		if e.Target {
			has = "this collection has"
			if home {
				has = "this home has"
			}
		}
	}
	return davError(http.StatusForbidden, condPushNotAvailable, fmt.Sprintf(
		"%s %d push registrations, the most allowed: remove devices that no longer sync, or wait for theirs to expire",
		has, limit))
}

// isXML says whether a Content-Type is XML, as push-register must be.
func isXML(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/xml" || mt == "text/xml")
}

// parseRegistration reads a push-register document: the Web Push
// subscription (its push resource passed, and normalised, by check), the
// triggers wanted of a collection or (home) a home, and the expiry.
// Refusals are the draft's 403 preconditions.
func parseRegistration(doc *node, home bool, now time.Time, check func(string) (string, error)) (*store.PushRegistration, error) {
	reg := &store.PushRegistration{}
	wp := doc.child(nsPush, "subscription").child(nsPush, "web-push-subscription")
	if wp == nil {
		return nil, invalidSubscription("the subscription must be a web-push-subscription")
	}
	reg.Resource = textOf(wp.child(nsPush, "push-resource"))
	if reg.Resource == "" {
		return nil, invalidSubscription("the push-resource is missing")
	}
	res, err := check(reg.Resource)
	if err != nil {
		return nil, invalidSubscription(err.Error())
	}
	reg.Resource = res
	if ce := wp.child(nsPush, "content-encoding"); ce != nil && ce.text() != "aes128gcm" {
		return nil, invalidSubscription("push messages are encrypted with the aes128gcm content encoding only")
	}
	pk := wp.child(nsPush, "subscription-public-key")
	if pk == nil {
		return nil, invalidSubscription("the subscription-public-key is missing: push messages are sent encrypted")
	}
	if t := pk.attr("type"); t != "" && t != "p256dh" {
		return nil, invalidSubscription("the subscription-public-key must be of type p256dh")
	}
	key, err := decodeBase64(pk.text())
	if err == nil {
		_, err = ecdh.P256().NewPublicKey(key)
	}
	if err != nil {
		return nil, invalidSubscription("the subscription-public-key is not an uncompressed P-256 point in base64url")
	}
	as := wp.child(nsPush, "auth-secret")
	if as == nil {
		return nil, invalidSubscription("the auth-secret is missing: push messages are sent encrypted")
	}
	auth, err := decodeBase64(as.text())
	if err != nil || len(auth) != 16 {
		return nil, invalidSubscription("the auth-secret is not 16 bytes in base64url")
	}
	// Kept in one form, whichever base64 the client used.
	reg.PublicKey = base64.RawURLEncoding.EncodeToString(key)
	reg.AuthSecret = base64.RawURLEncoding.EncodeToString(auth)

	reg.Content, reg.Property = parseTriggers(doc.child(nsPush, "trigger"), home)
	if !reg.Content && !reg.Property {
		return nil, davError(http.StatusForbidden, condNoTrigger,
			"none of the triggers is supported: content-update (depth 1) on collections and homes, property-update (depth 0) on collections")
	}

	limit := now.Add(push.MaxExpiry).Truncate(time.Second)
	reg.Expires = limit
	if e := doc.child(nsPush, "expires"); e != nil {
		if t, err := http.ParseTime(e.text()); err == nil && t.After(now) && t.Before(limit) {
			reg.Expires = t
		}
	}
	return reg, nil
}

// parseTriggers reads the trigger element as the draft asks: a depth
// beyond what is supported is lowered, what is not supported is ignored.
// No trigger element (DAVx5 sends none) asks for everything supported.
// A content update at depth 0 is of the resource itself, whose body
// (collections and homes have none) never changes: it is ignored.
func parseTriggers(trig *node, home bool) (content, property bool) {
	if trig == nil {
		return true, !home
	}
	for _, c := range trig.Children {
		switch {
		case c.is(nsPush, "content-update"):
			content = content || textOf(c.child(nsDAV, "depth")) != "0"
		case c.is(nsPush, "property-update"):
			property = !home
		}
	}
	return content, property
}

// textOf is n's text, "" when there is no n.
func textOf(n *node) string {
	if n == nil {
		return ""
	}
	return n.text()
}

func invalidSubscription(msg string) *httpError {
	return davError(http.StatusForbidden, condInvalidSubscription, msg)
}

// decodeBase64 decodes base64url, or standard base64, with or without
// padding: the draft asks for base64url, some clients pad or use the
// standard alphabet.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// absoluteURL is path (an href) under the public base URL, or under the
// address the request came to.
func (h *Handler) absoluteURL(r *http.Request, path string) string {
	if u := h.cfg.PublicURL; u != nil {
		return u.Scheme + "://" + u.Host + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// pushRegistration answers a request to a registration URL: DELETE ends
// the registration of the user who made it; it is unknown to anyone else,
// and once expired.
func (h *Handler) pushRegistration(q *request) error {
	if q.r.Method != http.MethodDelete {
		return notAllowed(pushAllow, "a push registration can only be deleted")
	}
	reg, err := h.cfg.Store.GetPushRegistration(q.ctx, q.user, q.t.token)
	if err != nil {
		return err
	}
	if err := h.cfg.Store.DeletePushRegistration(q.ctx, q.user, q.t.token); err != nil {
		return err
	}
	if !reg.Expires.After(time.Now()) {
		return store.ErrNotFound
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// dontNotify returns ctx carrying the Push-Dont-Notify of r as push hints
// for login's writes, added to the hints ctx carries already (the server's
// wake-up of the sender).
func dontNotify(ctx context.Context, r *http.Request, prefix, login string) context.Context {
	vals := r.Header.Values("Push-Dont-Notify")
	if len(vals) == 0 {
		return ctx
	}
	all, tokens := parseDontNotify(vals, prefix)
	if !all && len(tokens) == 0 {
		return ctx
	}
	h := store.PushHintsFrom(ctx)
	h.SkipAll = h.SkipAll || all
	h.Login = login
	h.Skip = slices.Concat(h.Skip, tokens)
	return store.WithPushHints(ctx, h)
}

// parseDontNotify reads Push-Dont-Notify field lines (the draft:
// 1#quoted-registration-url / "*") into whether all notifications are to
// be skipped and the tokens of the registration URLs named. Invalid values
// are ignored, as the draft asks; so is a URL that is not an absolute
// registration URL under prefix. A "*" among URLs (which the draft
// forbids) still skips all: the client wants no notification.
func parseDontNotify(lines []string, prefix string) (all bool, tokens []string) {
	for _, line := range lines {
		listElements(line, func(v string, quoted bool) {
			switch {
			case !quoted:
				all = all || v == "*"
			case len(tokens) < maxDontNotify:
				if tok, ok := registrationToken(v, prefix); ok && !slices.Contains(tokens, tok) {
					tokens = append(tokens, tok)
				}
			}
		})
	}
	return all, tokens
}

// listElements calls fn with each well-formed element of a list-valued
// field (RFC 9110 §5.6.1): a quoted-string unquoted (quoted true), or a
// bare value. Empty elements are skipped; a quoted-string that is not
// closed, or is followed by more than whitespace before the next comma, is
// malformed and skipped.
func listElements(v string, fn func(elem string, quoted bool)) {
	isOWS := func(c byte) bool { return c == ' ' || c == '\t' }
	for i := 0; i < len(v); {
		for i < len(v) && isOWS(v[i]) {
			i++
		}
		if i == len(v) {
			return
		}
		if v[i] == ',' {
			i++
			continue
		}
		if v[i] != '"' {
			end := strings.IndexByte(v[i:], ',')
			if end < 0 {
				end = len(v) - i
			}
			if e := strings.TrimRight(v[i:i+end], " \t"); e != "" {
				fn(e, false)
			}
			i += end + 1
			continue
		}
		var b strings.Builder
		j, closed := i+1, false
		for j < len(v) && !closed {
			switch c := v[j]; {
			case c == '\\' && j+1 < len(v):
				b.WriteByte(v[j+1])
				j += 2
			case c == '"':
				closed = true
				j++
			default:
				b.WriteByte(c)
				j++
			}
		}
		for j < len(v) && isOWS(v[j]) {
			j++
		}
		if closed && (j == len(v) || v[j] == ',') {
			fn(b.String(), true)
			i = j + 1
			continue
		}
		// Malformed: skip to the next comma.
		end := strings.IndexByte(v[j:], ',')
		if end < 0 {
			return
		}
		i = j + end + 1
	}
}

// registrationToken returns the token of raw, an absolute registration URL
// as Location gave it: http(s)://host<prefix>/dav/push/<token>.
func registrationToken(raw, prefix string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), prefix+"/dav/"+pushSegment+"/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	tok, err := url.PathUnescape(rest)
	if err != nil || tok == "" || !utf8.ValidString(tok) {
		return "", false
	}
	return tok, true
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
