package netcheck

import (
	"errors"
	"net/netip"
	"testing"
)

// The dialer's check refuses every address that is not public, whatever
// the name was, with an *AddrError naming the address.
func TestControl(t *testing.T) {
	for _, a := range []string{"127.0.0.1:443", "[::1]:443", "10.1.2.3:443", "172.16.0.1:443", "192.168.1.1:443",
		"169.254.169.254:80", "[fe80::1%lo]:443", "[fd00::1]:443", "100.64.1.1:443", "0.0.0.0:443",
		"[::ffff:127.0.0.1]:443", "[::ffff:10.0.0.1]:443", "[::]:443", "224.0.0.1:443", "[64:ff9b::a00:5]:443"} {
		err := Control("tcp", a, nil)
		var ae *AddrError
		if !errors.Is(err, ErrPrivate) || !errors.As(err, &ae) {
			t.Errorf("%s: %v", a, err)
		}
	}
	for _, a := range []string{"93.184.216.34:443", "[2606:4700:4700::1111]:443", "8.8.8.8:8443"} {
		if err := Control("tcp", a, nil); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	if err := Control("tcp", "[::ffff:10.0.0.1]:443", nil); err == nil || err.Error() != "10.0.0.1 is not a public address" {
		t.Errorf("a mapped address is named as IPv4: %v", err)
	}
}

// IPv6 addresses that carry an IPv4 address (NAT64, 6to4, IPv4-compatible)
// are as public as the IPv4 address they carry: a NAT64 gateway (an
// IPv6-only host's way out) connects to it. Teredo is refused whole.
func TestPublicEmbeddedIPv4(t *testing.T) {
	for a, want := range map[string]bool{
		"64:ff9b::a00:5":       false, // NAT64 of 10.0.0.5
		"64:ff9b::a9fe:a9fe":   false, // 169.254.169.254
		"64:ff9b::7f00:1":      false, // 127.0.0.1
		"64:ff9b::c0a8:101":    false, // 192.168.1.1
		"64:ff9b::5db8:d822":   true,  // 93.184.216.34
		"2002:a00:5::1":        false, // 6to4 of 10.0.0.5
		"2002:7f00:1::":        false, // 127.0.0.1
		"2002:5db8:d822::1":    true,
		"::a00:5":              false, // IPv4-compatible 10.0.0.5
		"::7f00:1":             false,
		"::5db8:d822":          true,
		"2001:0:4136:e378::1":  false, // Teredo
		"2001:4860:4860::8888": true,
	} {
		if got := Public(netip.MustParseAddr(a)); got != want {
			t.Errorf("Public(%s) = %v", a, got)
		}
	}
}
