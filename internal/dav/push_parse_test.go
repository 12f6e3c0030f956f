package dav

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/push"
	"github.com/rolodav/rolodav/internal/store"
)

// The subscription key and secret of RFC 8291's example (also the draft's).
const (
	rfc8291Key  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfc8291Auth = "BTBZMqHH6r4Tts7J_aSIgg"
)

func TestParseDontNotify(t *testing.T) {
	many := make([]string, 150)
	want100 := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprintf(`"https://dav.example.org/dav/push/t%d"`, i)
		if i < 100 {
			want100[i] = fmt.Sprintf("t%d", i)
		}
	}
	for _, tc := range []struct {
		name   string
		lines  []string
		prefix string
		all    bool
		tokens []string
	}{
		{"one", []string{`"https://dav.example.org/dav/push/abc"`}, "", false, []string{"abc"}},
		{"list and lines", []string{` "https://a.example/dav/push/one" ,"http://b.example:8443/dav/push/two"`, `"https://a.example/dav/push/three"`}, "",
			false, []string{"one", "two", "three"}},
		{"star", []string{"*"}, "", true, nil},
		{"star among urls", []string{`"https://a.example/dav/push/one", *`}, "", true, []string{"one"}},
		{"quoted pair and comma inside quotes", []string{`"https://a.example/dav/push/x,y", "https://a.example/dav/push/\z"`}, "", false, []string{"x,y", "z"}},
		{"escaped token", []string{`"https://a.example/dav/push/a%20b"`}, "", false, []string{"a b"}},
		{"empty elements", []string{`,, "https://a.example/dav/push/one" ,,`}, "", false, []string{"one"}},
		{"duplicates once", []string{`"https://a.example/dav/push/one", "https://a.example/dav/push/one"`}, "", false, []string{"one"}},
		{"under the prefix", []string{`"https://a.example/rolo/dav/push/one", "https://a.example/dav/push/two"`}, "/rolo", false, []string{"one"}},
		{"invalid values ignored", []string{
			`https://a.example/dav/push/unquoted`,
			`"/dav/push/relative"`,
			`"ftp://a.example/dav/push/scheme"`,
			`"https://a.example/dav/push/"`,
			`"https://a.example/dav/push/a/b"`,
			`"https://a.example/dav/addressbooks/x/"`,
			`"https://a.example/dav/push/q?x=1"`,
			`"https://a.example/dav/push/f#x"`,
			`"https://a.example/dav/push/bad" trailing, "https://a.example/dav/push/good"`,
			`"https://a.example/dav/push/unterminated`,
			`**`,
		}, "", false, []string{"good"}},
		{"bounded", []string{strings.Join(many, ", ")}, "", false, want100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, tokens := parseDontNotify(tc.lines, tc.prefix)
			if all != tc.all || !slices.Equal(tokens, tc.tokens) {
				t.Errorf("got all=%v %q, want all=%v %q", all, tokens, tc.all, tc.tokens)
			}
		})
	}
}

// registerBody is a push-register document with the given parts of
// web-push-subscription and, when not "", trigger and expires elements.
func registerBody(subscription, trigger, expires string) string {
	b := `<?xml version="1.0" encoding="utf-8"?><push-register xmlns="https://bitfire.at/webdav-push" xmlns:D="DAV:">` +
		`<subscription><web-push-subscription>` + subscription + `</web-push-subscription></subscription>`
	if trigger != "" {
		b += `<trigger>` + trigger + `</trigger>`
	}
	if expires != "" {
		b += `<expires>` + expires + `</expires>`
	}
	return b + `</push-register>`
}

func subscription(resource, key, auth string, extra ...string) string {
	return `<push-resource>` + resource + `</push-resource><subscription-public-key type="p256dh">` + key +
		`</subscription-public-key><auth-secret>` + auth + `</auth-secret>` + strings.Join(extra, "")
}

var errTestResource = errors.New("refused resource")

func checkTestResource(r string) (string, error) {
	if !strings.HasPrefix(r, "https://push.example.net/") {
		return "", errTestResource
	}
	return r, nil
}

func parseTestRegistration(t *testing.T, body string, home bool, now time.Time) (*store.PushRegistration, error) {
	t.Helper()
	doc, err := parseXML(context.Background(), strings.NewReader(body))
	if err != nil {
		t.Fatalf("test body does not parse: %v", err)
	}
	return parseRegistration(doc, home, now, checkTestResource)
}

func TestParseRegistrationSubscription(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 500, time.UTC)
	res := "https://push.example.net/up/abc"
	key, _ := base64.RawURLEncoding.DecodeString(rfc8291Key)
	auth, _ := base64.RawURLEncoding.DecodeString(rfc8291Auth)
	for _, tc := range []struct{ name, key, auth string }{
		{"base64url", rfc8291Key, rfc8291Auth},
		{"base64url padded", base64.URLEncoding.EncodeToString(key), base64.URLEncoding.EncodeToString(auth)},
		{"standard base64", base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(auth)},
		{"whitespace around", "\n  " + rfc8291Key + "\n", " " + rfc8291Auth + " "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTestRegistration(t, registerBody(subscription(res, tc.key, tc.auth), "", ""), false, now)
			if err != nil {
				t.Fatal(err)
			}
			if got.Resource != res || got.PublicKey != rfc8291Key || got.AuthSecret != rfc8291Auth {
				t.Errorf("got %+v", got)
			}
		})
	}
	offCurve := append([]byte(nil), key...)
	offCurve[64] ^= 1
	compressed := append([]byte{2 | key[64]&1}, key[1:33]...)
	for _, tc := range []struct{ name, body, msg string }{
		{"no subscription", `<push-register xmlns="https://bitfire.at/webdav-push"/>`, "web-push-subscription"},
		{"other subscription type", `<push-register xmlns="https://bitfire.at/webdav-push"><subscription><x:other xmlns:x="urn:x"/></subscription></push-register>`, "web-push-subscription"},
		{"no resource", registerBody(`<subscription-public-key type="p256dh">`+rfc8291Key+`</subscription-public-key><auth-secret>`+rfc8291Auth+`</auth-secret>`, "", ""), "push-resource is missing"},
		{"empty resource", registerBody(subscription(" ", rfc8291Key, rfc8291Auth), "", ""), "push-resource is missing"},
		{"refused resource", registerBody(subscription("http://10.0.0.1/x", rfc8291Key, rfc8291Auth), "", ""), errTestResource.Error()},
		{"aesgcm", registerBody(subscription(res, rfc8291Key, rfc8291Auth, "<content-encoding>aesgcm</content-encoding>"), "", ""), "aes128gcm"},
		{"no key", registerBody(`<push-resource>`+res+`</push-resource><auth-secret>`+rfc8291Auth+`</auth-secret>`, "", ""), "subscription-public-key is missing"},
		{"key of another type", registerBody(strings.Replace(subscription(res, rfc8291Key, rfc8291Auth), "p256dh", "x25519", 1), "", ""), "of type p256dh"},
		{"key off the curve", registerBody(subscription(res, base64.RawURLEncoding.EncodeToString(offCurve), rfc8291Auth), "", ""), "P-256"},
		{"compressed key", registerBody(subscription(res, base64.RawURLEncoding.EncodeToString(compressed), rfc8291Auth), "", ""), "P-256"},
		{"key not base64", registerBody(subscription(res, "not*base64", rfc8291Auth), "", ""), "P-256"},
		{"no auth", registerBody(`<push-resource>`+res+`</push-resource><subscription-public-key type="p256dh">`+rfc8291Key+`</subscription-public-key>`, "", ""), "auth-secret is missing"},
		{"short auth", registerBody(subscription(res, rfc8291Key, base64.RawURLEncoding.EncodeToString(auth[:15])), "", ""), "16 bytes"},
		{"long auth", registerBody(subscription(res, rfc8291Key, base64.RawURLEncoding.EncodeToString(append(auth, 0))), "", ""), "16 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTestRegistration(t, tc.body, false, now)
			var he *httpError
			if !errors.As(err, &he) || he.status != http.StatusForbidden || he.cond != condInvalidSubscription || !strings.Contains(he.msg, tc.msg) {
				t.Fatalf("got %#v, want 403 invalid-subscription saying %q", err, tc.msg)
			}
		})
	}
	t.Run("aes128gcm", func(t *testing.T) {
		if _, err := parseTestRegistration(t, registerBody(subscription(res, rfc8291Key, rfc8291Auth, "<content-encoding> aes128gcm </content-encoding>"), "", ""), false, now); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseRegistrationTriggers(t *testing.T) {
	now := time.Now()
	sub := subscription("https://push.example.net/x", rfc8291Key, rfc8291Auth)
	depth := func(el, d string) string {
		return "<" + el + "><D:depth>" + d + "</D:depth></" + el + ">"
	}
	for _, tc := range []struct {
		name              string
		trigger           string
		home              bool
		content, property bool
	}{
		{"none asks for all (collection)", "", false, true, true},
		{"none asks for all (home)", "", true, true, false},
		{"content 1", depth("content-update", "1"), false, true, false},
		{"content infinity is lowered", depth("content-update", "infinity"), false, true, false},
		{"content without depth", "<content-update/>", false, true, false},
		{"property 0", depth("property-update", "0"), false, false, true},
		{"property infinity is lowered", depth("property-update", "infinity") + depth("content-update", "1"), false, true, true},
		{"draft sample", depth("content-update", "infinity") + `<property-update><D:depth>0</D:depth><D:prop><D:displayname/><D:owner/></D:prop></property-update>`, false, true, true},
		{"home ignores property", depth("content-update", "1") + depth("property-update", "0"), true, true, false},
		{"unknown trigger ignored", "<x:other xmlns:x='urn:x'/>" + depth("content-update", "1"), false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTestRegistration(t, registerBody(sub, tc.trigger, ""), tc.home, now)
			if err != nil {
				t.Fatal(err)
			}
			if got.Content != tc.content || got.Property != tc.property {
				t.Errorf("content=%v property=%v, want %v %v", got.Content, got.Property, tc.content, tc.property)
			}
		})
	}
	for _, tc := range []struct {
		name, trigger string
		home          bool
	}{
		{"empty trigger", " ", false},
		{"content of the collection itself", depth("content-update", "0"), false},
		{"property of a home", depth("property-update", "0"), true},
		{"unknown only", "<x:other xmlns:x='urn:x'/>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTestRegistration(t, registerBody(sub, tc.trigger, ""), tc.home, now)
			var he *httpError
			if !errors.As(err, &he) || he.status != http.StatusForbidden || he.cond != condNoTrigger {
				t.Fatalf("got %#v, want 403 no-trigger-supported", err)
			}
		})
	}
}

func TestParseRegistrationExpires(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 700_000_000, time.UTC)
	limit := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	if !limit.Equal(now.Add(push.MaxExpiry).Truncate(time.Second)) {
		t.Fatalf("test assumes a MaxExpiry of 7 days, it is %v", push.MaxExpiry)
	}
	in3 := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	sub := subscription("https://push.example.net/x", rfc8291Key, rfc8291Auth)
	for _, tc := range []struct {
		name, expires string
		want          time.Time
	}{
		{"absent", "", limit},
		{"three days (IMF-fixdate)", in3.Format(http.TimeFormat), in3},
		{"RFC 850 date", in3.Format(time.RFC850), in3},
		{"beyond the cap", now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), limit},
		{"past", now.Add(-time.Hour).Format(http.TimeFormat), limit},
		{"now", now.Truncate(time.Second).Format(http.TimeFormat), limit},
		{"unparseable", "next week", limit},
		{"RFC 3339 is not an HTTP date", in3.Format(time.RFC3339), limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTestRegistration(t, registerBody(sub, "", tc.expires), false, now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Expires.Equal(tc.want) {
				t.Errorf("expires %v, want %v", got.Expires, tc.want)
			}
		})
	}
}

func TestIsXML(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/xml": true, "application/xml; charset=utf-8": true, `text/xml; charset="UTF-8"`: true,
		"APPLICATION/XML": true, "": false, "text/plain": false, "application/json": false, "application/xml+x": false,
	} {
		if isXML(ct) != want {
			t.Errorf("isXML(%q) = %v", ct, !want)
		}
	}
}

// FuzzPushParse feeds the same bytes to the Push-Dont-Notify parser and,
// as a document, to the push-register parser: neither may panic, and what
// they accept must be what the store and the sender can use.
func FuzzPushParse(f *testing.F) {
	now := time.Now()
	f.Add(`"https://a.example/dav/push/one", "https://a.example/dav/push/t\"wo"`)
	f.Add(`*`)
	f.Add(registerBody(subscription("https://push.example.net/x", rfc8291Key, rfc8291Auth), "<content-update><D:depth>0</D:depth></content-update>", now.Format(http.TimeFormat)))
	f.Add(registerBody(subscription("https://push.example.net/x", rfc8291Key, "AAAA"), "", "x"))
	f.Fuzz(func(t *testing.T, s string) {
		_, tokens := parseDontNotify([]string{s, s}, "/p")
		if len(tokens) > maxDontNotify {
			t.Fatalf("%d tokens", len(tokens))
		}
		for i, tok := range tokens {
			if tok == "" || !utf8.ValidString(tok) || slices.Index(tokens, tok) != i {
				t.Fatalf("token %q in %q", tok, tokens)
			}
		}
		doc, err := parseXML(context.Background(), strings.NewReader(s))
		if err != nil {
			return
		}
		for _, home := range []bool{false, true} {
			reg, err := parseRegistration(doc, home, now, checkTestResource)
			if err != nil {
				var he *httpError
				if !errors.As(err, &he) || he.status != http.StatusForbidden {
					t.Fatalf("refusal %#v", err)
				}
				continue
			}
			key, err := base64.RawURLEncoding.DecodeString(reg.PublicKey)
			if err != nil || len(key) != 65 {
				t.Fatalf("key %q", reg.PublicKey)
			}
			if auth, err := base64.RawURLEncoding.DecodeString(reg.AuthSecret); err != nil || len(auth) != 16 {
				t.Fatalf("auth secret %q", reg.AuthSecret)
			}
			if _, err := checkTestResource(reg.Resource); err != nil || !(reg.Content || reg.Property) || home && reg.Property {
				t.Fatalf("registration %+v", reg)
			}
			if !reg.Expires.After(now) || reg.Expires.After(now.Add(push.MaxExpiry)) {
				t.Fatalf("expires %v", reg.Expires)
			}
		}
	})
}
