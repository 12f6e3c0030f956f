// Package netcheck keeps the server's outgoing connections to addresses
// a user chose (push resources, the source of a migration) on the public
// internet, so that the server does not become a way into its own
// network: a name is judged by the address it resolves to when connecting,
// not by how it is spelled.
package netcheck

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrPrivate is an address that is not public (Public).
var ErrPrivate = errors.New("not a public address")

// AddrError is a connection refused for its address.
type AddrError struct {
	Addr netip.Addr
}

func (e *AddrError) Error() string { return fmt.Sprintf("%s is %v", e.Addr, ErrPrivate) }

func (e *AddrError) Unwrap() error { return ErrPrivate }

// Control is a net.Dialer's Control that refuses to connect to an address
// that is not Public. It sees the address after DNS resolution, each time
// a connection is made (redirects included), so a name that resolves
// elsewhere on the second look is caught. Its errors are *AddrError.
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netcheck: cannot read the address %q", address)
	}
	if !Public(ap.Addr()) {
		return &AddrError{Addr: ap.Addr().Unmap()}
	}
	return nil
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
