// Package mobileconfig writes Apple configuration profiles (.mobileconfig)
// that set up a CardDAV and a CalDAV account on iOS, iPadOS and macOS, and
// signs them as CMS SignedData so the device shows them as verified.
//
// The package is pure: it neither reads files nor talks to the store.
package mobileconfig

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContentType is the media type to serve a profile with; browsers on iOS and
// macOS offer to install it.
const ContentType = "application/x-apple-aspen-config"

// Options describe the account a profile sets up.
type Options struct {
	Host   string // server host name or IP address, without scheme or port
	Port   int    // 0 means the default for the scheme: 443, or 80 without SSL
	UseSSL bool   // https (true) or plain http

	Login    string // the account's login (usually an e-mail address)
	Password string // optional, better an app password; "" leaves the key out and the device asks

	Description  string // account description shown on the device; default "rolodav (<login>)"
	Organization string // optional PayloadOrganization
	Identifier   string // reverse-DNS prefix of PayloadIdentifier; default derived from Host
}

// Build returns the profile as an XML property list. The output depends only
// on o: the payload UUIDs and identifiers are derived from the host and the
// login (case-insensitively), so a profile downloaded again, with another
// port or password say, replaces the installed one instead of adding a
// second account.
func Build(o Options) ([]byte, error) {
	host := strings.ToLower(strings.TrimSpace(o.Host))
	login := strings.TrimSpace(o.Login)
	if err := checkHost(host); err != nil {
		return nil, err
	}
	if login == "" {
		return nil, errors.New("mobileconfig: login is required")
	}
	port := o.Port
	switch {
	case port == 0 && o.UseSSL:
		port = 443
	case port == 0:
		port = 80
	case port < 0 || port > 65535:
		return nil, fmt.Errorf("mobileconfig: port %d out of range 1-65535", o.Port)
	}
	desc := strings.TrimSpace(o.Description)
	if desc == "" {
		desc = "rolodav (" + login + ")"
	}
	org := strings.TrimSpace(o.Organization)
	for _, f := range []struct{ name, v string }{
		{"login", login}, {"password", o.Password}, {"description", desc}, {"organization", org},
	} {
		if err := checkText(f.v); err != nil {
			return nil, fmt.Errorf("mobileconfig: %s: %w", f.name, err)
		}
	}
	prefix := strings.TrimSuffix(strings.TrimSpace(o.Identifier), ".")
	if prefix == "" {
		prefix = identifierFromHost(host)
	} else if err := checkIdentifier(prefix); err != nil {
		return nil, err
	}

	key := strings.ToLower(login)
	profileUUID := nameUUID("profile", host, key)
	ident := prefix + ".rolodav." + strings.ToLower(profileUUID)

	account := func(kind, prefix, display string) dict {
		d := dict{
			{"PayloadType", "com.apple." + kind + ".account"},
			{"PayloadIdentifier", ident + "." + kind},
			{"PayloadUUID", nameUUID(kind, host, key)},
			{"PayloadVersion", 1},
			{"PayloadDisplayName", display},
			{prefix + "AccountDescription", desc},
			{prefix + "HostName", host},
			{prefix + "Port", port},
			{prefix + "UseSSL", o.UseSSL},
			{prefix + "Username", login},
		}
		if o.Password != "" {
			d = append(d, entry{prefix + "Password", o.Password})
		}
		return d
	}
	top := dict{
		{"PayloadType", "Configuration"},
		{"PayloadVersion", 1},
		{"PayloadIdentifier", ident},
		{"PayloadUUID", profileUUID},
		{"PayloadDisplayName", desc},
		{"PayloadDescription", "Contacts (CardDAV) and calendars (CalDAV) of " + login + " on " + host + "."},
	}
	if org != "" {
		top = append(top, entry{"PayloadOrganization", org})
	}
	top = append(top, entry{"PayloadContent", []dict{
		account("carddav", "CardDAV", "Contacts (CardDAV)"),
		account("caldav", "CalDAV", "Calendars and reminders (CalDAV)"),
	}})

	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n" +
		`<plist version="1.0">` + "\n")
	writeDict(&b, top, 0)
	b.WriteString("</plist>\n")
	return b.Bytes(), nil
}

// A dict is a plist dictionary whose keys keep the order given.
type dict []entry

type entry struct {
	key string
	val any // string, int, bool or []dict
}

func writeDict(b *bytes.Buffer, d dict, depth int) {
	indent := strings.Repeat("\t", depth)
	b.WriteString(indent + "<dict>\n")
	for _, e := range d {
		b.WriteString(indent + "\t<key>")
		escape(b, e.key)
		b.WriteString("</key>\n")
		switch v := e.val.(type) {
		case string:
			b.WriteString(indent + "\t<string>")
			escape(b, v)
			b.WriteString("</string>\n")
		case int:
			b.WriteString(indent + "\t<integer>" + strconv.Itoa(v) + "</integer>\n")
		case bool:
			if v {
				b.WriteString(indent + "\t<true/>\n")
			} else {
				b.WriteString(indent + "\t<false/>\n")
			}
		case []dict:
			b.WriteString(indent + "\t<array>\n")
			for _, sub := range v {
				writeDict(b, sub, depth+2)
			}
			b.WriteString(indent + "\t</array>\n")
		default:
			panic(fmt.Sprintf("mobileconfig: no plist type for %T", v))
		}
	}
	b.WriteString(indent + "</dict>\n")
}

// escape writes s as XML character data. Only &, < and > need escaping in
// element content; they use the predefined entities every plist parser knows.
func escape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
}

// checkText refuses what an XML document cannot carry (control characters,
// U+FFFE, U+FFFF, invalid UTF-8); the fields are single lines anyway.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return fmt.Errorf("control character %U not allowed", r)
		}
	}
	return nil
}

func checkHost(host string) error {
	switch {
	case host == "":
		return errors.New("mobileconfig: host is required")
	case strings.Contains(host, "://") || strings.ContainsAny(host, "/?#@"):
		return fmt.Errorf("mobileconfig: host %q: give the host name only, e.g. dav.example.org, not a URL", host)
	case net.ParseIP(host) != nil:
		return nil
	case strings.Contains(host, ":"):
		return fmt.Errorf("mobileconfig: host %q: give the port separately", host)
	}
	if err := checkText(host); err != nil {
		return fmt.Errorf("mobileconfig: host %q: %w", host, err)
	}
	for _, r := range host {
		if !(r == '.' || r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f) {
			return fmt.Errorf("mobileconfig: host %q: %q is not allowed in a host name", host, r)
		}
	}
	return nil
}

func checkIdentifier(id string) error {
	for _, label := range strings.Split(id, ".") {
		if label == "" {
			return fmt.Errorf("mobileconfig: identifier %q has an empty label", id)
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return fmt.Errorf("mobileconfig: identifier %q: use letters, digits, '-' and '.', like org.example", id)
			}
		}
	}
	return nil
}

// identifierFromHost turns dav.example.org into org.example.dav.
func identifierFromHost(host string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '-'
		}, s)
	}
	if net.ParseIP(host) != nil {
		return "local.rolodav.ip-" + clean(host)
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	out := make([]string, 0, len(labels))
	for i := len(labels) - 1; i >= 0; i-- {
		if labels[i] != "" {
			out = append(out, clean(labels[i]))
		}
	}
	return strings.Join(out, ".")
}

// namespace is the UUID namespace of rolodav profiles (a random constant).
var namespace = [16]byte{0x14, 0x75, 0x41, 0x8b, 0xde, 0x06, 0x45, 0xfa, 0x87, 0xd3, 0x3f, 0xe2, 0x47, 0x08, 0xc0, 0x41}

// nameUUID is the name-based (version 5, RFC 9562) UUID of the payload part
// of the account login on host, in upper case like Apple's own profiles.
func nameUUID(part, host, login string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(part + "\x00" + host + "\x00" + login))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]))
}
