package push

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
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
		if ip, err := netip.ParseAddr(name); err == nil && !Public(ip) {
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

// Public reports whether ip is a globally reachable unicast address: not
// loopback, private (RFC 1918, unique local), link-local, unspecified,
// multicast, carrier-grade NAT, Teredo, or an IPv6 address carrying an
// IPv4 address that is one of those (mapped, NAT64, 6to4,
// IPv4-compatible).
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	if v4, ok := embeddedIPv4(ip); ok {
		return Public(v4)
	}
	return true
}

// Prefixes of IPv6 addresses that carry an IPv4 address, which the host
// reaches through a gateway or tunnel (a NAT64 gateway connects to the
// IPv4 address, private ones included, whatever RFC 6052 says).
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052: the last 32 bits
	sixToFour  = netip.MustParsePrefix("2002::/16")    // RFC 3056: bits 16 to 47
	compatible = netip.MustParsePrefix("::/96")        // RFC 4291 IPv4-compatible (deprecated): the last 32 bits
)

// embeddedIPv4 returns the IPv4 address an IPv6 address of nat64,
// sixToFour or compatible carries.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip), compatible.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// nonPublic are ranges Go's netip predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2001::/32"),      // Teredo: tunnels to an IPv4 address, obfuscated
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated)
}
