package push

import (
	"errors"
	"testing"
)

// CheckResource returns a push resource in the form to store and send to:
// scheme and host in lower case, the scheme's default port left out, the
// rest as it was, so that its origin (the VAPID audience) is what RFC 6454
// serializes.
func TestCheckResourceNormalises(t *testing.T) {
	for raw, want := range map[string]string{
		"https://push.example.com/wpush/x":                  "https://push.example.com/wpush/x",
		"https://Push.Example.COM/wpush/AbC":                "https://push.example.com/wpush/AbC",
		"HTTPS://push.example.com:443/wpush/x":              "https://push.example.com/wpush/x",
		"https://push.example.com:/wpush/x":                 "https://push.example.com/wpush/x",
		"https://push.example.com:8443/wpush/x":             "https://push.example.com:8443/wpush/x",
		"https://[2001:4860:4860::8888]:443/up?token=AbC":   "https://[2001:4860:4860::8888]/up?token=AbC",
		"https://[2001:4860:4860::ABCD]/up":                 "https://[2001:4860:4860::abcd]/up",
		"https://ntfy.example.org/up%2Fx/Y%20Z?a=B&c=%2F#F": "https://ntfy.example.org/up%2Fx/Y%20Z?a=B&c=%2F#F",
	} {
		got, err := checkResource(raw, false)
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", raw, got, err, want)
		}
	}
	// With AllowPrivate: plain http, whose default port is 80.
	for raw, want := range map[string]string{
		"http://LocalHost:80/push/x":   "http://localhost/push/x",
		"http://127.0.0.1:8080/push/x": "http://127.0.0.1:8080/push/x",
		"https://NTFY.lan:443/up":      "https://ntfy.lan/up",
		"http://[FE80::1%25ETH0]:80/x": "http://[fe80::1%25ETH0]/x", // a zone is an interface name
	} {
		got, err := checkResource(raw, true)
		if err != nil || got != want {
			t.Errorf("%s (private allowed): %q, %v; want %q", raw, got, err, want)
		}
	}
	// A host that is not ASCII has no one serialization as an origin: its
	// xn-- form is.
	if _, err := checkResource("https://püsh.example.com/x", false); !errors.Is(err, ErrResource) {
		t.Errorf("a non-ASCII host: %v", err)
	}
}
