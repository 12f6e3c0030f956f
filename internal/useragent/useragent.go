// Package useragent names the client behind a User-Agent header in words
// its user recognises ("DAVx5 4.5 on Android 14", "Contacts on macOS 15",
// "Firefox 121 on Windows"), for the security mails and the activity page.
// It knows the sync clients rolodav is used with and the common browsers;
// any other client is named by its first product token, unless that looks
// like an address or a link, and is marked unknown (Client.Known), so that
// a mail does not repeat what the sender of the header chose.
package useragent

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Client is what a User-Agent says.
type Client struct {
	App string // "DAVx5", "Calendar", "Firefox"; "" when the header is empty or unreadable
	// Version is the app's version as its users know it: "4.5" for DAVx5,
	// "140" for Thunderbird; only numbers, "" when unknown.
	Version string
	OS      string // "Android 14", "iOS 18", "macOS 10.15", "Windows"; "" when unknown
	// Known: the client was recognised, and App, Version and OS are this
	// package's words and numbers. Otherwise App is a product name from
	// the header, which whoever sent it chose.
	Known bool
}

// Describe is the client in English, for the activity page: "App 1.2 on
// OS", "App 1.2", "App on OS", or "an unknown client".
func Describe(ua string) string {
	return Parse(ua).String()
}

// String is the client in English; see Describe.
func (c Client) String() string {
	if c.App == "" {
		return "an unknown client"
	}
	s := c.App
	if c.Version != "" {
		s += " " + c.Version
	}
	if c.OS != "" {
		s += " on " + c.OS
	}
	return s
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
	darwinVer   = regexp.MustCompile(`Darwin/(\d+)`)
	// number is a version as headers write it, "4.5.3-ose": its leading
	// numbers.
	number = regexp.MustCompile(`^\d+(?:\.\d+)*`)
)

// appleApps names Apple's daemons by the app the user sees. On iOS,
// dataaccessd syncs both Contacts and Calendar; on macOS 13 and later it
// syncs Calendar, and AddressBookCore Contacts.
var appleApps = map[string]string{
	"dataaccessd":           "Contacts and Calendar",
	"CalendarAgent":         "Calendar",
	"iCal":                  "Calendar",
	"remindd":               "Reminders",
	"AddressBook":           "Contacts",
	"AddressBookCore":       "Contacts",
	"AddressBookSourceSync": "Contacts",
	"ContactsAgent":         "Contacts",
	"accountsd":             "Settings",
	"Preferences":           "Settings",
	"DAVKit":                "Calendar and Contacts",
	"CoreDAV":               "Calendar and Contacts",
}

// prefix is a client that puts its name first: "Name/1.2.3 ...".
type prefix struct {
	prefix, app, os string
	// parts is how many numbers of the version after the prefix people
	// use ("0.19" of vdirsyncer 0.19.2); 0 leaves the version out (a
	// library's version says nothing about the program).
	parts int
	// android: the header ends in "Android/14" (apps on okhttp).
	android bool
}

// prefixes are tried in order; the first match wins.
var prefixes = []prefix{
	{prefix: "DAVx5/", app: "DAVx5", parts: 2, android: true},
	{prefix: "DAVdroid/", app: "DAVdroid", parts: 2, android: true},
	{prefix: "org.tasks/", app: "Tasks.org", parts: 2, android: true},
	{prefix: "CardDAV-Sync (Android)", app: "CardDAV-Sync", os: "Android"},
	{prefix: "CalDAV-Sync (Android)", app: "CalDAV-Sync", os: "Android"},
	{prefix: "Dalvik/", app: "Android app", android: true},
	{prefix: "Evolution/", app: "Evolution", parts: 2},
	{prefix: "GNOME Calendar/", app: "GNOME Calendar", parts: 1},
	{prefix: "gnome-online-accounts/", app: "GNOME Online Accounts", parts: 2},
	{prefix: "vdirsyncer/", app: "vdirsyncer", parts: 2},
	{prefix: "python-caldav/", app: "python-caldav", parts: 2},
	{prefix: "python-requests/", app: "Python program"},
	{prefix: "python-httpx/", app: "Python program"},
	{prefix: "Python-urllib/", app: "Python program"},
	{prefix: "aiohttp/", app: "Python program"},
	{prefix: "CalDavSynchronizer/", app: "Outlook CalDav Synchronizer", os: "Windows", parts: 2},
	{prefix: "eM Client/", app: "eM Client", parts: 2},
	{prefix: "tsdav/", app: "tsdav", parts: 2},
	{prefix: "node-fetch/", app: "Node.js program"},
	{prefix: "undici", app: "Node.js program"},
	{prefix: "axios/", app: "Node.js program"},
	{prefix: "curl/", app: "curl", parts: 2},
	{prefix: "Wget/", app: "Wget", parts: 2},
	{prefix: "Go-http-client/", app: "Go program"},
	// Apple's Address Book of Mac OS X 10.6, which names Darwin only.
	{prefix: "Address%20Book/", app: "Contacts"},
	{prefix: CommandLine, app: "rolodav command line (an administrator)"},
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
	if m := appleDaemon.FindStringSubmatch(ua); m != nil {
		os := appleOS(m[1], m[2])
		if app, ok := appleApps[m[3]]; ok {
			if m[3] == "dataaccessd" && strings.HasPrefix(os, "macOS") {
				app = "Calendar"
			}
			return Client{App: app, OS: os, Known: true}
		}
		app := "Apple app"
		if name := unknownName(m[3]); name != "" {
			app = "Apple " + name
		}
		return Client{App: app, OS: os}
	}
	if c, ok := oldApple(ua); ok {
		return c
	}
	if ua == "node" {
		return Client{App: "Node.js program", Known: true}
	}
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(ua, p.prefix)
		if !ok {
			continue
		}
		c := Client{App: p.app, OS: p.os, Known: true, Version: shortVersion(number.FindString(rest), p.parts)}
		switch {
		case p.android:
			if m := androidVer.FindStringSubmatch(rest); m != nil {
				c.OS = "Android " + shortVersion(m[1], 2)
			}
		case p.prefix == "Address%20Book/":
			c.OS = darwinMacOS(ua)
		}
		return c
	}
	if strings.HasPrefix(ua, "Mozilla/") {
		return browser(ua)
	}
	return Client{App: unknownName(ua)}
}

// oldApple reads the clients of Mac OS X 10.6 to 10.8 (DAVKit, iCal,
// AddressBook), which name the system after the app.
func oldApple(ua string) (Client, bool) {
	for _, daemon := range []string{"iCal", "CalendarAgent", "AddressBook", "DAVKit", "CoreDAV"} {
		if !strings.Contains(ua, daemon+"/") {
			continue
		}
		if sys := appleSystem.FindStringSubmatch(ua); sys != nil {
			return Client{App: appleApps[daemon], OS: appleOS(sys[1], sys[2]), Known: true}, true
		}
		break
	}
	return Client{}, false
}

// appleOS is "macOS 14", "macOS 10.15", "iOS 18" from the name and
// version of the header: the numbers Apple names its releases by.
func appleOS(name, ver string) string {
	ver = strings.ReplaceAll(ver, "_", ".")
	if strings.HasPrefix(name, "Mac") {
		name = "macOS"
		if strings.HasPrefix(ver, "10.") {
			return name + " " + shortVersion(ver, 2)
		}
	}
	return name + " " + shortVersion(ver, 1)
}

// darwinMacOS is the macOS release of a header's "Darwin/10.7.0": Darwin
// 10 was Mac OS X 10.6, 19 macOS 10.15, 20 macOS 11.
func darwinMacOS(ua string) string {
	m := darwinVer.FindStringSubmatch(ua)
	if m == nil || len(m[1]) > 2 {
		return "macOS"
	}
	n, _ := strconv.Atoi(m[1])
	switch {
	case n < 5:
		return "macOS"
	case n < 20:
		return "macOS 10." + strconv.Itoa(n-4)
	}
	return "macOS " + strconv.Itoa(n-9)
}

// maxVersionDigits bounds each number of a version: real ones are short,
// and a long one is not a version.
const maxVersionDigits = 6

// shortVersion is the first parts numbers of v ("4.5.3" → "4.5"); "" when
// parts is 0, v holds no number, or a number is too long to be one.
func shortVersion(v string, parts int) string {
	if parts == 0 || v == "" {
		return ""
	}
	nums := strings.SplitN(v, ".", parts+1)
	if len(nums) > parts {
		nums = nums[:parts]
	}
	for _, n := range nums {
		if n == "" || len(n) > maxVersionDigits {
			return ""
		}
	}
	return strings.Join(nums, ".")
}

// browsers are the apps a "Mozilla/5.0 (platform) engine app/version"
// header names, in the order to look for them (Edge and Opera also say
// Chrome; everything says Safari).
var browsers = []struct{ app, token string }{
	{"Thunderbird", "Thunderbird/"},
	{"SeaMonkey", "SeaMonkey/"},
	{"Edge", "Edg/"},
	{"Edge", "EdgA/"},
	{"Edge", "EdgiOS/"},
	{"Edge", "Edge/"},
	{"Opera", "OPR/"},
	{"Opera", "OPiOS/"},
	{"Samsung Internet", "SamsungBrowser/"},
	{"Vivaldi", "Vivaldi/"},
	{"Firefox", "Firefox/"},
	{"Firefox", "FxiOS/"},
	{"Chromium", "Chromium/"},
	{"Chrome", "HeadlessChrome/"},
	{"Chrome", "Chrome/"},
	{"Chrome", "CriOS/"},
}

// browser reads a "Mozilla/5.0 (platform) engine app/version" header:
// browsers, and Thunderbird. Versions are the first number only, as
// these apps name their releases.
func browser(ua string) Client {
	c := Client{OS: platform(ua), Known: true}
	for _, b := range browsers {
		if _, rest, ok := strings.Cut(ua, b.token); ok {
			c.App, c.Version = b.app, shortVersion(number.FindString(rest), 1)
			return c
		}
	}
	switch {
	case strings.Contains(ua, "Opera"):
		c.App = "Opera"
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		_, rest, _ := strings.Cut(ua, "Version/")
		c.App, c.Version = "Safari", shortVersion(number.FindString(rest), 1)
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
			return "Android " + shortVersion(m[1], 2)
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
