package push

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/rolodav/rolodav/internal/netcheck"
)

// maxResource bounds a push resource: push services hand out URLs of a
// few hundred bytes (UnifiedPush caps them at 1000).
const maxResource = 2048

// ErrResource is a push resource the server will not send to.
var ErrResource = errors.New("push resource refused")

// CheckResource says whether raw may be registered as a push resource: an
// absolute https URL (http too with AllowPrivate) whose host is not a
// loopback, private, link-local or otherwise non-public address or name,
// unless AllowPrivate. Names are resolved only when sending (the Sender's
// dialer checks every address it connects to, redirects included), since
// DNS may answer differently then.
//
// It returns the resource to store: scheme and host in lower case, without
// the scheme's default port, the rest as it was. The VAPID audience is
// then the resource's origin as RFC 6454 serializes it (RFC 8292 section
// 2; webpush-go signs for scheme://host as the URL spells it), and one
// resource in two spellings is one registration.
func (s *Service) CheckResource(raw string) (string, error) {
	return checkResource(raw, s.opt.AllowPrivate)
}

func checkResource(raw string, allowPrivate bool) (string, error) {
	if len(raw) > maxResource {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrResource, maxResource)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: %q is not an absolute URL", ErrResource, raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: it carries a user name", ErrResource)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return "", fmt.Errorf("%w: the scheme must be https", ErrResource)
	}
	host := strings.ToLower(u.Hostname())
	for _, c := range []byte(host) {
		if c >= 0x80 {
			return "", fmt.Errorf("%w: the host is not ASCII (an internationalized name must be in its xn-- form)", ErrResource)
		}
	}
	if !allowPrivate {
		name := strings.TrimSuffix(host, ".")
		if name == "localhost" || strings.HasSuffix(name, ".localhost") || !strings.Contains(name, ".") && !strings.Contains(name, ":") {
			return "", fmt.Errorf("%w: %s is a local name", ErrResource, name)
		}
		if ip, err := netip.ParseAddr(name); err == nil && !netcheck.Public(ip) {
			return "", fmt.Errorf("%w: %s is not a public address", ErrResource, ip)
		}
	}
	return normalise(u, host), nil
}

// defaultPorts are the ports an origin's serialization leaves out.
var defaultPorts = map[string]string{"http": "80", "https": "443"}

// normalise returns u with host (its host name, in lower case) and without
// the scheme's default port (url.Parse made the scheme lower case).
func normalise(u *url.URL, host string) string {
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] + u.Hostname()[i:] // an IPv6 zone is an interface name: as it was
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && p != defaultPorts[u.Scheme] {
		host += ":" + p
	}
	n := *u
	n.Host = host
	return n.String()
}
