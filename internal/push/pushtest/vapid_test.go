package pushtest

import "testing"

// The audience is the origin serialized (RFC 6454 section 6.2): lower
// case, no default port.
func TestAudience(t *testing.T) {
	for _, c := range []struct{ scheme, host, want string }{
		{"http", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http", "127.0.0.1:80", "http://127.0.0.1"},
		{"http", "LocalHost:443", "http://localhost:443"},
		{"https", "Push.Example.COM:443", "https://push.example.com"},
		{"https", "push.example.com", "https://push.example.com"},
		{"https", "push.example.com:8443", "https://push.example.com:8443"},
		{"HTTPS", "[2001:DB8::1]:443", "https://[2001:db8::1]"},
		{"https", "[2001:db8::1]:8443", "https://[2001:db8::1]:8443"},
	} {
		if got := audience(c.scheme, c.host); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.scheme, c.host, got, c.want)
		}
	}
}
