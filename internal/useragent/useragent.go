// Package useragent names the client behind a User-Agent header in words
// its user recognises ("DAVx5 on Android 14", "Firefox on Windows"), for
// the security mails and the activity page. It knows the sync clients
// rolodav is used with and the common browsers; any other client is named
// by its first product token, unless that looks like an address or a link,
// and is marked unknown (Client.Known), so that a mail does not repeat
// what the sender of the header chose.
package useragent

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Client is what a User-Agent says.
type Client struct {
	App string // "DAVx5", "Apple Calendar", "Firefox"; "" when the header is empty or unreadable
	OS  string // "Android 14", "iOS 17.2", "Windows"; "" when unknown
	// Known: the client was recognised, and App and OS are this package's
	// words and version numbers. Otherwise App is a product name from the
	// header, which whoever sent it chose.
	Known bool
}

// Describe is the client in English, for the activity page: "App on OS",
// "App", or "an unknown client".
func Describe(ua string) string {
	c := Parse(ua)
	switch {
	case c.App == "":
		return "an unknown client"
	case c.OS == "":
		return c.App
	}
	return c.App + " on " + c.OS
}

// maxUnknown bounds the name of an unknown client, in characters.
const maxUnknown = 60

// maxHeader bounds how much of a header is looked at: real ones are
// shorter, and a huge one costs nothing more.
const maxHeader = 1024

var (
	version = `(\d+(?:[._]\d+)*)`
	// product is an unknown client's first token: a name of letters,
	// digits, "-" and "_" (no dot or colon: not a host name or a link),
	// then only the numbers of its version.
	product = regexp.MustCompile(`^([A-Za-z0-9_-]+)(?:/(\d+(?:\.\d+)*)?.*)?$`)
	// Apple's account daemons: "iOS/17.2 (21C62) dataaccessd/1.0",
	// "Mac OS X/10.15.7 (19H2) CalendarAgent/954", "Mac+OS+X/10.10.5 ...".
	appleDaemon = regexp.MustCompile(`^(iOS|iPadOS|macOS|Mac[ _+]OS[ _+]X|watchOS|visionOS)/` + version + `(?:\s*\([^)]*\))?\s+([A-Za-z][\w.-]*)/`)
	// Older Apple clients list the system anywhere: "...; Mac OS X/10.6.8 (10K549)".
	appleSystem = regexp.MustCompile(`(Mac[ _+]OS[ _+]X|macOS|iOS|iPadOS)/` + version)
	androidVer  = regexp.MustCompile(`Android[ /]` + version)
)

// appleApps names Apple's daemons by the app the user sees.
var appleApps = map[string]string{
	"dataaccessd":           "Apple Calendar and Contacts",
	"CalendarAgent":         "Apple Calendar",
	"iCal":                  "Apple Calendar",
	"remindd":               "Apple Reminders",
	"AddressBook":           "Apple Contacts",
	"AddressBookSourceSync": "Apple Contacts",
	"ContactsAgent":         "Apple Contacts",
	"accountsd":             "Apple account settings",
	"Preferences":           "Apple account settings",
	"DAVKit":                "Apple Calendar and Contacts",
	"CoreDAV":               "Apple Calendar and Contacts",
}

// prefixes are clients that put their name first; the first match wins.
var prefixes = []struct{ prefix, app, os string }{
	{"Evolution/", "Evolution", ""},
	{"GNOME Calendar/", "GNOME Calendar", ""},
	{"gnome-online-accounts/", "GNOME Online Accounts", ""},
	{"vdirsyncer/", "vdirsyncer", ""},
	{"python-caldav/", "python-caldav", ""},
	{"python-requests/", "Python program", ""},
	{"python-httpx/", "Python program", ""},
	{"Python-urllib/", "Python program", ""},
	{"aiohttp/", "Python program", ""},
	{"CalDavSynchronizer/", "Outlook CalDav Synchronizer", "Windows"},
	{"tsdav/", "tsdav", ""},
	{"node-fetch/", "Node.js program", ""},
	{"undici", "Node.js program", ""},
	{"axios/", "Node.js program", ""},
	{"curl/", "curl", ""},
	{"Wget/", "Wget", ""},
	{"Go-http-client/", "Go program", ""},
	{CommandLine, "rolodav command line (an administrator)", ""},
}

// CommandLine is the client that changes made with the rolodav command
// (`rolodav user passwd`, say) are attributed to.
const CommandLine = "rolodav-cli/"

// Parse reads a User-Agent header.
func Parse(ua string) Client {
	ua = clean(ua)
	if ua == "" {
		return Client{}
	}
	for _, p := range []string{"DAVx5/", "DAVdroid/"} {
		if strings.HasPrefix(ua, p) {
			c := Client{App: strings.TrimSuffix(p, "/"), Known: true}
			if m := androidVer.FindStringSubmatch(ua); m != nil {
				c.OS = "Android " + m[1]
			}
			return c
		}
	}
	if m := appleDaemon.FindStringSubmatch(ua); m != nil {
		if app, ok := appleApps[m[3]]; ok {
			return Client{App: app, OS: appleOS(m[1], m[2]), Known: true}
		}
		app := "Apple app"
		if name := unknownName(m[3]); name != "" {
			app = "Apple " + name
		}
		return Client{App: app, OS: appleOS(m[1], m[2])}
	}
	if c, ok := oldApple(ua); ok {
		return c
	}
	if ua == "node" {
		return Client{App: "Node.js program", Known: true}
	}
	for _, p := range prefixes {
		if strings.HasPrefix(ua, p.prefix) {
			return Client{App: p.app, OS: p.os, Known: true}
		}
	}
	if strings.HasPrefix(ua, "Mozilla/") {
		return browser(ua)
	}
	return Client{App: unknownName(ua)}
}

// oldApple reads the clients of Mac OS X 10.6 to 10.8 (DAVKit, iCal,
// AddressBook), which name the system after the app.
func oldApple(ua string) (Client, bool) {
	sys := appleSystem.FindStringSubmatch(ua)
	if sys == nil {
		return Client{}, false
	}
	for _, daemon := range []string{"iCal", "CalendarAgent", "AddressBook", "DAVKit", "CoreDAV"} {
		if strings.Contains(ua, daemon+"/") {
			app, ok := appleApps[daemon]
			if !ok {
				app = "Apple Calendar and Contacts"
			}
			return Client{App: app, OS: appleOS(sys[1], sys[2]), Known: true}, true
		}
	}
	return Client{}, false
}

// appleOS is "macOS 14.2", "iOS 17.2" from the name and version of the
// header.
func appleOS(name, ver string) string {
	if strings.HasPrefix(name, "Mac") {
		name = "macOS"
	}
	return name + " " + strings.ReplaceAll(ver, "_", ".")
}

// browser reads a "Mozilla/5.0 (platform) engine app/version" header:
// browsers, and Thunderbird.
func browser(ua string) Client {
	c := Client{OS: platform(ua), Known: true}
	has := func(tokens ...string) bool {
		for _, t := range tokens {
			if strings.Contains(ua, t) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Thunderbird/"):
		c.App = "Thunderbird"
	case has("SeaMonkey/"):
		c.App = "SeaMonkey"
	case has("Edg/", "EdgA/", "EdgiOS/", "Edge/"):
		c.App = "Edge"
	case has("OPR/", "OPiOS/", "Opera"):
		c.App = "Opera"
	case has("SamsungBrowser/"):
		c.App = "Samsung Internet"
	case has("Vivaldi/"):
		c.App = "Vivaldi"
	case has("Firefox/", "FxiOS/"):
		c.App = "Firefox"
	case has("Chromium/"):
		c.App = "Chromium"
	case has("Chrome/", "CriOS/"):
		c.App = "Chrome"
	case has("Safari/") && has("Version/"):
		c.App = "Safari"
	default:
		c.App = "Web browser"
	}
	return c
}

// platform is the system a browser header names in its first comment.
func platform(ua string) string {
	open := strings.IndexByte(ua, '(')
	if open < 0 {
		return ""
	}
	comment := ua[open+1:]
	if end := strings.IndexByte(comment, ')'); end >= 0 {
		comment = comment[:end]
	}
	switch {
	case strings.Contains(comment, "iPhone"):
		return "iPhone"
	case strings.Contains(comment, "iPad"):
		return "iPad"
	case strings.Contains(comment, "Android"):
		if m := androidVer.FindStringSubmatch(comment); m != nil {
			return "Android " + m[1]
		}
		return "Android"
	case strings.Contains(comment, "Windows"):
		return "Windows"
	case strings.Contains(comment, "CrOS"):
		return "ChromeOS"
	case strings.Contains(comment, "Macintosh"), strings.Contains(comment, "Mac OS X"):
		return "macOS"
	case strings.Contains(comment, "FreeBSD"):
		return "FreeBSD"
	case strings.Contains(comment, "OpenBSD"):
		return "OpenBSD"
	case strings.Contains(comment, "Linux"), strings.Contains(comment, "X11"):
		return "Linux"
	}
	return ""
}

// unknownName is the header's first product token ("Name/1.0"), its
// version reduced to numbers, at most maxUnknown characters; "" when it
// is no product token (a link, a host name).
func unknownName(ua string) string {
	if i := strings.IndexAny(ua, " ("); i > 0 {
		ua = ua[:i]
	}
	m := product.FindStringSubmatch(ua)
	if m == nil {
		return ""
	}
	if m[2] != "" {
		return cut(m[1] + "/" + m[2])
	}
	return cut(m[1])
}

// cut bounds s to maxUnknown characters.
func cut(s string) string {
	if utf8.RuneCountInString(s) > maxUnknown {
		return string([]rune(s)[:maxUnknown])
	}
	return s
}

// clean drops control and format characters (a header cannot carry CR or
// LF, but a stored value might; a right-to-left override would disguise
// the text) and bounds the length.
func clean(ua string) string {
	if len(ua) > maxHeader {
		ua = ua[:maxHeader]
	}
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, ua)
	return strings.TrimSpace(ua)
}
