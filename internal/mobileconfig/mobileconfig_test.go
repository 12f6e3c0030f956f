package mobileconfig_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/mobileconfig"
)

// parsePlist reads an XML property list into Go values: map[string]any for
// <dict>, []any for <array>, string, int64 for <integer> and bool.
func parsePlist(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("no <plist> element: %v\n%s", err, data)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "plist" {
				t.Fatalf("root element <%s>, want <plist>", se.Name.Local)
			}
			if v := attr(se, "version"); v != "1.0" {
				t.Fatalf("plist version %q", v)
			}
			break
		}
	}
	start, err := nextStart(dec, "plist")
	if err != nil || start == nil {
		t.Fatalf("plist without a value: %v", err)
	}
	v, err := plistValue(dec, *start)
	if err != nil {
		t.Fatalf("parse plist: %v\n%s", err, data)
	}
	if end, err := nextStart(dec, "plist"); err != nil || end != nil {
		t.Fatalf("more than one value in <plist>: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("top level is %T, want a dict", v)
	}
	return m
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// nextStart returns the next start element, or nil at the end of the parent
// element; text between elements must be white space.
func nextStart(dec *xml.Decoder, parent string) (*xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			return &tok, nil
		case xml.EndElement:
			if tok.Name.Local != parent {
				return nil, fmt.Errorf("</%s> inside <%s>", tok.Name.Local, parent)
			}
			return nil, nil
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) > 0 {
				return nil, fmt.Errorf("text %q between elements of <%s>", tok, parent)
			}
		}
	}
}

// text reads the character data of a leaf element up to its end.
func text(dec *xml.Decoder, name string) (string, error) {
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.CharData:
			b.Write(tok)
		case xml.EndElement:
			return b.String(), nil
		default:
			return "", fmt.Errorf("unexpected %T in <%s>", tok, name)
		}
	}
}

func plistValue(dec *xml.Decoder, se xml.StartElement) (any, error) {
	switch name := se.Name.Local; name {
	case "dict":
		m := map[string]any{}
		for {
			k, err := nextStart(dec, name)
			if err != nil {
				return nil, err
			}
			if k == nil {
				return m, nil
			}
			if k.Name.Local != "key" {
				return nil, fmt.Errorf("<%s> where a <key> belongs", k.Name.Local)
			}
			key, err := text(dec, "key")
			if err != nil {
				return nil, err
			}
			if _, dup := m[key]; dup {
				return nil, fmt.Errorf("duplicate key %q", key)
			}
			vs, err := nextStart(dec, name)
			if err != nil || vs == nil {
				return nil, fmt.Errorf("key %q without a value: %v", key, err)
			}
			if m[key], err = plistValue(dec, *vs); err != nil {
				return nil, err
			}
		}
	case "array":
		a := []any{}
		for {
			vs, err := nextStart(dec, name)
			if err != nil {
				return nil, err
			}
			if vs == nil {
				return a, nil
			}
			v, err := plistValue(dec, *vs)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case "string":
		return text(dec, name)
	case "integer":
		s, err := text(dec, name)
		if err != nil {
			return nil, err
		}
		return strconv.ParseInt(s, 10, 64)
	case "true", "false":
		if s, err := text(dec, name); err != nil || s != "" {
			return nil, fmt.Errorf("<%s> with content %q: %v", name, s, err)
		}
		return name == "true", nil
	default:
		return nil, fmt.Errorf("unexpected element <%s>", name)
	}
}

func build(t *testing.T, o mobileconfig.Options) (raw []byte, top map[string]any, card, cal map[string]any) {
	t.Helper()
	raw, err := mobileconfig.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	top = parsePlist(t, raw)
	content, ok := top["PayloadContent"].([]any)
	if !ok || len(content) != 2 {
		t.Fatalf("PayloadContent = %#v, want an array of two dicts", top["PayloadContent"])
	}
	for _, c := range content {
		d, ok := c.(map[string]any)
		if !ok {
			t.Fatalf("PayloadContent element %T", c)
		}
		switch d["PayloadType"] {
		case "com.apple.carddav.account":
			card = d
		case "com.apple.caldav.account":
			cal = d
		}
	}
	if card == nil || cal == nil {
		t.Fatalf("want one carddav and one caldav payload:\n%s", raw)
	}
	return raw, top, card, cal
}

func keys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

var uuidRE = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)

func TestBuildEveryKey(t *testing.T) {
	raw, top, card, cal := build(t, mobileconfig.Options{
		Host: "dav.example.org", Port: 8443, UseSSL: true,
		Login: "ann@example.org", Password: "app-password-1",
		Description: "Work", Organization: "Example Ltd",
	})
	if !bytes.HasPrefix(raw, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<!DOCTYPE plist PUBLIC")) {
		t.Errorf("missing XML declaration or DOCTYPE:\n%s", raw)
	}
	wantTop := []string{"PayloadContent", "PayloadDescription", "PayloadDisplayName", "PayloadIdentifier",
		"PayloadOrganization", "PayloadType", "PayloadUUID", "PayloadVersion"}
	if got := keys(top); !reflect.DeepEqual(got, wantTop) {
		t.Errorf("top-level keys %v, want %v", got, wantTop)
	}
	check := func(d map[string]any, key string, want any) {
		t.Helper()
		got, ok := d[key]
		if !ok {
			t.Errorf("%s missing", key)
			return
		}
		if reflect.TypeOf(got) != reflect.TypeOf(want) || got != want {
			t.Errorf("%s = %#v (%T), want %#v (%T)", key, got, got, want, want)
		}
	}
	check(top, "PayloadType", "Configuration")
	check(top, "PayloadVersion", int64(1))
	check(top, "PayloadDisplayName", "Work")
	check(top, "PayloadOrganization", "Example Ltd")
	ident, _ := top["PayloadIdentifier"].(string)
	if !strings.HasPrefix(ident, "org.example.dav.rolodav.") {
		t.Errorf("PayloadIdentifier %q does not start with the reversed host", ident)
	}
	uuids := map[string]bool{}
	for _, d := range []map[string]any{top, card, cal} {
		u, _ := d["PayloadUUID"].(string)
		if !uuidRE.MatchString(u) {
			t.Errorf("PayloadUUID %q is not an upper-case version 5 UUID", u)
		}
		uuids[u] = true
	}
	if len(uuids) != 3 {
		t.Errorf("payload UUIDs are not distinct: %v", uuids)
	}
	for _, a := range []struct {
		d      map[string]any
		prefix string
		kind   string
	}{{card, "CardDAV", "carddav"}, {cal, "CalDAV", "caldav"}} {
		p := a.prefix
		want := []string{p + "AccountDescription", p + "HostName", p + "Password", p + "Port", p + "UseSSL", p + "Username",
			"PayloadDisplayName", "PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion"}
		sort.Strings(want)
		if got := keys(a.d); !reflect.DeepEqual(got, want) {
			t.Errorf("%s keys %v, want %v", a.kind, got, want)
		}
		check(a.d, "PayloadType", "com.apple."+a.kind+".account")
		check(a.d, "PayloadIdentifier", ident+"."+a.kind)
		check(a.d, "PayloadVersion", int64(1))
		check(a.d, p+"HostName", "dav.example.org")
		check(a.d, p+"Port", int64(8443))
		check(a.d, p+"UseSSL", true)
		check(a.d, p+"Username", "ann@example.org")
		check(a.d, p+"Password", "app-password-1")
		check(a.d, p+"AccountDescription", "Work")
		if s, _ := a.d["PayloadDisplayName"].(string); s == "" {
			t.Errorf("%s PayloadDisplayName empty", a.kind)
		}
		for k := range a.d {
			if strings.Contains(k, "PrincipalURL") {
				t.Errorf("%s has %s", a.kind, k)
			}
		}
	}
	// Python's plistlib is a second, independent reader.
	if py, err := exec.LookPath("python3"); err == nil {
		cmd := exec.Command(py, "-c", `import plistlib, sys, json
p = plistlib.loads(sys.stdin.buffer.read())
c = p["PayloadContent"][0]
print(json.dumps([type(p["PayloadVersion"]).__name__, type(c["CardDAVPort"]).__name__, type(c["CardDAVUseSSL"]).__name__, c["CardDAVUsername"]]))`)
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("plistlib: %v\n%s", err, out)
		}
		var got []string
		if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(got, []string{"int", "int", "bool", "ann@example.org"}) {
			t.Errorf("plistlib reads %s (%v)", out, err)
		}
	}
}

func TestBuildWithoutPassword(t *testing.T) {
	raw, top, card, cal := build(t, mobileconfig.Options{Host: "dav.example.org", UseSSL: true, Login: "bob@example.org"})
	for _, k := range []string{"CardDAVPassword", "CalDAVPassword"} {
		if _, ok := card[k]; ok {
			t.Errorf("%s present without a password", k)
		}
		if _, ok := cal[k]; ok {
			t.Errorf("%s present without a password", k)
		}
	}
	if bytes.Contains(raw, []byte("Password")) {
		t.Errorf("profile mentions a password:\n%s", raw)
	}
	if _, ok := top["PayloadOrganization"]; ok {
		t.Error("PayloadOrganization present though not given")
	}
	if got := top["PayloadDisplayName"]; got != "rolodav (bob@example.org)" {
		t.Errorf("default display name %q", got)
	}
	if got := card["CardDAVAccountDescription"]; got != "rolodav (bob@example.org)" {
		t.Errorf("default account description %q", got)
	}
}

func TestBuildEscaping(t *testing.T) {
	login := "ann&o'neil@example.org"
	desc := `Ann's <"work"> & Ünïcødé 日本 ]]>`
	pw := `p&ss<w>rd"'`
	raw, top, card, cal := build(t, mobileconfig.Options{Host: "dav.example.org", UseSSL: true, Login: login, Password: pw, Description: desc, Organization: "A&B <Co>"})
	if !bytes.Contains(raw, []byte("<string>ann&amp;o'neil@example.org</string>")) {
		t.Errorf("login not escaped as expected:\n%s", raw)
	}
	if bytes.Contains(raw, []byte("]]>")) || bytes.Contains(raw, []byte("<\"work")) {
		t.Errorf("unescaped markup:\n%s", raw)
	}
	for _, d := range []map[string]any{card, cal} {
		for k, want := range map[string]string{"Username": login, "Password": pw, "AccountDescription": desc} {
			for _, p := range []string{"CardDAV", "CalDAV"} {
				if got, ok := d[p+k]; ok && got != want {
					t.Errorf("%s%s = %q, want %q", p, k, got, want)
				}
			}
		}
	}
	if top["PayloadDisplayName"] != desc || top["PayloadOrganization"] != "A&B <Co>" {
		t.Errorf("display name %q, organization %q", top["PayloadDisplayName"], top["PayloadOrganization"])
	}
	if !strings.Contains(top["PayloadDescription"].(string), login) {
		t.Errorf("PayloadDescription %q lacks the login", top["PayloadDescription"])
	}
}

func ids(top, card, cal map[string]any) []any {
	return []any{top["PayloadUUID"], card["PayloadUUID"], cal["PayloadUUID"], top["PayloadIdentifier"], card["PayloadIdentifier"], cal["PayloadIdentifier"]}
}

func TestBuildDeterministicIdentity(t *testing.T) {
	base := mobileconfig.Options{Host: "dav.example.org", UseSSL: true, Login: "ann@example.org"}
	raw1, top1, card1, cal1 := build(t, base)
	raw2, _, _, _ := build(t, base)
	if !bytes.Equal(raw1, raw2) {
		t.Error("two builds of the same options differ")
	}
	want := ids(top1, card1, cal1)

	// Same account, other settings or letter case: the same profile.
	for _, o := range []mobileconfig.Options{
		{Host: "dav.example.org", Port: 8443, UseSSL: true, Login: "ann@example.org", Password: "secret password", Description: "Other"},
		{Host: "DAV.Example.org", UseSSL: false, Login: "Ann@Example.ORG"},
	} {
		_, top, card, cal := build(t, o)
		if got := ids(top, card, cal); !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: identity %v, want %v", o, got, want)
		}
	}
	// Another login or host: another profile, nothing shared.
	for _, o := range []mobileconfig.Options{
		{Host: "dav.example.org", UseSSL: true, Login: "bob@example.org"},
		{Host: "dav.example.net", UseSSL: true, Login: "ann@example.org"},
	} {
		_, top, card, cal := build(t, o)
		for i, v := range ids(top, card, cal) {
			if v == want[i] {
				t.Errorf("%+v shares %v with ann's profile", o, v)
			}
		}
	}
}

func TestBuildDefaults(t *testing.T) {
	for _, c := range []struct {
		port    int
		ssl     bool
		want    int64
		wantSSL bool
	}{{0, true, 443, true}, {0, false, 80, false}, {8443, true, 8443, true}, {5232, false, 5232, false}} {
		_, _, card, cal := build(t, mobileconfig.Options{Host: "dav.example.org", Port: c.port, UseSSL: c.ssl, Login: "ann"})
		if card["CardDAVPort"] != c.want || cal["CalDAVPort"] != c.want {
			t.Errorf("port %d ssl %v: ports %v %v, want %d", c.port, c.ssl, card["CardDAVPort"], cal["CalDAVPort"], c.want)
		}
		if card["CardDAVUseSSL"] != c.wantSSL || cal["CalDAVUseSSL"] != c.wantSSL {
			t.Errorf("port %d ssl %v: UseSSL %v %v", c.port, c.ssl, card["CardDAVUseSSL"], cal["CalDAVUseSSL"])
		}
	}

	_, top, card, _ := build(t, mobileconfig.Options{Host: "dav.example.org", UseSSL: true, Login: "ann", Identifier: "com.example.it"})
	if id := top["PayloadIdentifier"].(string); !strings.HasPrefix(id, "com.example.it.rolodav.") || card["PayloadIdentifier"] != id+".carddav" {
		t.Errorf("identifiers %q %q", id, card["PayloadIdentifier"])
	}
	_, top, _, _ = build(t, mobileconfig.Options{Host: "192.168.1.10", Login: "ann"})
	if id := top["PayloadIdentifier"].(string); !regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`).MatchString(id) {
		t.Errorf("identifier for an IP address: %q", id)
	}
}

func TestBuildRejects(t *testing.T) {
	for name, o := range map[string]mobileconfig.Options{
		"no host":           {Login: "ann"},
		"URL as host":       {Host: "https://dav.example.org/", Login: "ann"},
		"host with port":    {Host: "dav.example.org:8443", Login: "ann"},
		"host with space":   {Host: "dav example.org", Login: "ann"},
		"no login":          {Host: "dav.example.org"},
		"port too large":    {Host: "dav.example.org", Port: 70000, Login: "ann"},
		"negative port":     {Host: "dav.example.org", Port: -1, Login: "ann"},
		"newline in desc":   {Host: "dav.example.org", Login: "ann", Description: "a\nb"},
		"NUL in password":   {Host: "dav.example.org", Login: "ann", Password: "a\x00b"},
		"invalid UTF-8":     {Host: "dav.example.org", Login: "ann\xff"},
		"bad identifier":    {Host: "dav.example.org", Login: "ann", Identifier: "org..example"},
		"identifier spaces": {Host: "dav.example.org", Login: "ann", Identifier: "org example"},
	} {
		if b, err := mobileconfig.Build(o); err == nil {
			t.Errorf("%s: accepted:\n%s", name, b)
		}
	}
	if _, err := mobileconfig.Build(mobileconfig.Options{Host: "2001:db8::1", Login: "ann"}); err != nil {
		t.Errorf("IPv6 address refused: %v", err)
	}
}
