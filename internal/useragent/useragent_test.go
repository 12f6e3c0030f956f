package useragent

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// Real User-Agent headers, as the clients send them.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		// Empty or blank.
		{"", "an unknown client"},
		{"   ", "an unknown client"},

		// DAVx5 (and kSync, which sends DAVx5's header), older DAVdroid.
		{"DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14", "DAVx5 4.4 on Android 14"},
		{"DAVx5/4.3.12-ose (2024/01/15; dav4jvm; okhttp/4.12.0) Android/13", "DAVx5 4.3 on Android 13"},
		{"DAVx5/4.4.3-gplay (dav4jvm; okhttp/4.12.0) Android/12", "DAVx5 4.4 on Android 12"},
		{"DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/14", "DAVx5 4.5 on Android 14"},
		{"DAVdroid/1.11.4-ose (2018/06/15; dav4android; okhttp3) Android/8.1.0", "DAVdroid 1.11 on Android 8.1"},
		{"DAVx5/4.4.3-ose", "DAVx5 4.4"},
		{"DAVx5/" + strings.Repeat("9", 40) + " Android/14", "DAVx5 on Android 14"},

		// Apple's accounts (iOS, iPadOS, macOS). On iOS one daemon syncs both
		// apps; on macOS 13 and later Calendar syncs through dataaccessd and
		// Contacts through AddressBookCore.
		{"iOS/17.2 (21C62) dataaccessd/1.0", "Contacts and Calendar on iOS 17"},
		{"iOS/18.0 (22A3354) dataaccessd/1.0", "Contacts and Calendar on iOS 18"},
		{"iOS/26.5 (23F77) dataaccessd/1.0", "Contacts and Calendar on iOS 26"},
		{"iOS/5.0.1 (9A405) dataaccessd/1.0", "Contacts and Calendar on iOS 5"},
		{"iPadOS/17.2 (21C62) dataaccessd/1.0", "Contacts and Calendar on iPadOS 17"},
		{"macOS/13.4 (22F66) dataaccessd/1.0", "Calendar on macOS 13"},
		{"macOS/14.1 (23B74) dataaccessd/2600.20.1", "Calendar on macOS 14"},
		{"macOS/14.2 (23C64) CalendarAgent/988", "Calendar on macOS 14"},
		{"macOS/12.6.3 (21G419) CalendarAgent/961.4.2", "Calendar on macOS 12"},
		{"macOS/11.0.1 (20B50) CalendarAgent/954", "Calendar on macOS 11"},
		{"Mac OS X/10.15.7 (19H2) CalendarAgent/954", "Calendar on macOS 10.15"},
		{"Mac_OS_X/10.9.5 (13F34) CalendarAgent/176.2", "Calendar on macOS 10.9"},
		{"Mac+OS+X/10.13.2 (17C205) CalendarAgent/399.2.2", "Calendar on macOS 10.13"},
		{"macOS/15.5 (24F74) AddressBookCore/2695.500.71", "Contacts on macOS 15"},
		{"macOS/13.3 (22E252) AddressBookCore/2452", "Contacts on macOS 13"},
		{"Mac OS X/10.15 (19A603) AddressBookCore/1", "Contacts on macOS 10.15"},
		{"Mac OS X/10.15 (19A583) AddressBook/2245", "Contacts on macOS 10.15"},
		{"macOS/14.2 (23C64) ContactsAgent/2604", "Contacts on macOS 14"},
		{"iOS/17.0 (21A329) accountsd/1.0", "Settings on iOS 17"},
		{"iOS/5.0.1 (9A405) Preferences/1.0", "Settings on iOS 5"},
		{"iOS/16.5.1 (20F75) remindd/1.0", "Reminders on iOS 16"},
		{"iOS/12.4 (16G77) somed/2.0", "Apple somed on iOS 12"},
		{"DAVKit/4.0.3 (732.2); CalendarStore/4.0.4 (997.7); iCal/4.0.4 (1395.7); Mac OS X/10.6.8 (10K549)", "Calendar on macOS 10.6"},
		{"Mac OS X/10.8.5 (12F45) AddressBook/1167", "Contacts on macOS 10.8"},
		{"AddressBook/6.1 (1062) CardDAVPlugin/196 CFNetwork/520.2.5 Mac_OS_X/10.7.2 (11C74)", "Contacts on macOS 10.7"},
		{"Address%20Book/883 CFNetwork/454.11.12 Darwin/10.7.0 (i386) (MacBookPro4%2C1)", "Contacts on macOS 10.6"},

		// Thunderbird (with its own CalDAV and CardDAV).
		{"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0", "Thunderbird 115 on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.1", "Thunderbird 128 on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Thunderbird/140.3.0", "Thunderbird 140 on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:115.0) Gecko/20100101 Thunderbird/115.0", "Thunderbird 115 on macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:78.0) Gecko/20100101 Thunderbird/78.14.0 Lightning/78.14.0", "Thunderbird 78 on Linux"},

		// Other Android apps.
		{"org.tasks/14.0.1 (okhttp3) Android/14", "Tasks.org 14.0 on Android 14"},
		{"CardDAV-Sync (Android) (like iOS/5.0.1 (9A405) dataaccessd/1.0)", "CardDAV-Sync on Android"},
		{"CalDAV-Sync (Android) (like iOS/5.0.1 (9A405) dataaccessd/1.0) gzip", "CalDAV-Sync on Android"},
		{"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240805.005)", "Android app on Android 14"},

		// GNOME (Evolution's data server syncs for GNOME Calendar and
		// Contacts too, and says Evolution), other desktop and command-line
		// clients.
		{"Evolution/3.50.2", "Evolution 3.50"},
		{"Evolution/3.54.1", "Evolution 3.54"},
		{"GNOME Calendar/45.1 - libsoup/3.4.4", "GNOME Calendar 45"},
		{"gnome-online-accounts/3.50.1 libsoup/3.4.4", "GNOME Online Accounts 3.50"},
		{"vdirsyncer/0.19.2", "vdirsyncer 0.19"},
		{"vdirsyncer/0.19.0", "vdirsyncer 0.19"},
		{"python-requests/2.31.0", "Python program"},
		{"python-caldav/1.3.9", "python-caldav 1.3"},
		{"python-caldav/0.11.0", "python-caldav 0.11"},
		{"python-httpx/0.27.0", "Python program"},
		{"CalDavSynchronizer/4.4", "Outlook CalDav Synchronizer 4.4 on Windows"},
		{"eM Client/9.2.2157.0", "eM Client 9.2"},
		{"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Node.js program"},
		{"node", "Node.js program"},
		{"undici", "Node.js program"},
		{"curl/8.5.0", "curl 8.5"},
		{"rolodav-cli/", "rolodav command line (an administrator)"},
		{"Wget/1.21.4", "Wget 1.21"},
		{"Go-http-client/1.1", "Go program"},

		// Browsers on the account pages.
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121 on Linux"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "Firefox 115 on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121 on Windows"},
		{"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox 121 on Android 14"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15", "Firefox 121 on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 on macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 on Linux"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome 120 on Android 10"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", "Chrome 120 on iPhone"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 on ChromeOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge 120 on Windows"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115", "Edge 120 on Android 10"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0", "Opera 106 on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "Samsung Internet 23 on Android 14"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari 17 on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1", "Safari 17 on iPhone"},
		{"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari 17 on iPad"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Chrome 156 on Linux"},
		{"Mozilla/5.0 (compatible; SomeBot/1.0)", "Web browser"},

		// Unknown: the first product token, at most 60 characters.
		{"MyCalendarApp/2.1 (build 7; Linux)", "MyCalendarApp/2.1"},
		{"okhttp/4.12.0", "okhttp/4.12.0"},
		{strings.Repeat("x", 100) + "/1.0", strings.Repeat("x", 60)},
		{"Outil/1.0\r\nX-Injected: yes", "Outil/1.0"},
		{"App/1.2.3-beta+evil.example", "App/1.2.3"},

		// Unknown, and looking like an address or a link: not repeated.
		{"https://evil.example/login", "an unknown client"},
		{"evil.example.com/1.0", "an unknown client"},
		{"www.evil.example", "an unknown client"},
		{"Login:https://evil.example", "an unknown client"},
		{"x/evil.example", "x"},
		{"iOS/17.2 (21C62) www.evil.example/1.0", "Apple app on iOS 17"},
	} {
		if got := Describe(tc.ua); got != tc.want {
			t.Errorf("Describe(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	got := Parse("DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14")
	if got != (Client{App: "DAVx5", Version: "4.4", OS: "Android 14", Known: true}) {
		t.Fatalf("Parse: %+v", got)
	}
	if got := Parse(""); got != (Client{}) {
		t.Fatalf("Parse of nothing: %+v", got)
	}
}

// Known is set only where App and OS are this package's words, never text
// taken from the header: what a security mail may show.
func TestParseKnown(t *testing.T) {
	for ua, known := range map[string]bool{
		"DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14":                    true,
		"iOS/17.2 (21C62) dataaccessd/1.0":                                       true,
		"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0": true,
		"Mozilla/5.0 (compatible; SomeBot/1.0)":                                  true,
		"curl/8.5.0":                                                             true,
		"org.tasks/14.0.1 (okhttp3) Android/14":                                  true,
		"eM Client/9.2.2157.0":                                                   true,
		"macOS/15.5 (24F74) AddressBookCore/2695.500.71":                         true,
		"rolodav-cli/": true,
		"Mac OS X/10.6.8 (10K549) DAVKit/4.0.3 https://evil.example/": true,
		"":                                   false,
		"MyCalendarApp/2.1 (build 7; Linux)": false,
		"https://evil.example/login":         false,
		"iOS/12.4 (16G77) somed/2.0":         false,
	} {
		if got := Parse(ua); got.Known != known {
			t.Errorf("Parse(%q) = %+v, want Known %v", ua, got, known)
		}
	}
}

// versionText is what Client.Version may hold: numbers, nothing the
// sender of the header wrote besides.
var versionText = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,6})?$`)

// Whatever the header, the description is short, printable text.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"", "DAVx5/4.4.3-ose (dav4jvm) Android/14", "iOS/17.2 (21C62) dataaccessd/1.0",
		"Mozilla/5.0 (X11; Linux x86_64) Firefox/1", "Mac OS X/10.6.8 iCal/4", "a\x00b\r\nc", "\xff\xfe/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		if v := Parse(ua).Version; v != "" && !versionText.MatchString(v) {
			t.Fatalf("Parse(%q).Version = %q, not a version number", ua, v)
		}
		d := Describe(ua)
		if d == "" || !utf8.ValidString(d) || utf8.RuneCountInString(d) > 2*maxUnknown+20 {
			t.Fatalf("Describe(%q) = %q", ua, d)
		}
		for _, r := range d {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("Describe(%q) = %q holds a control character", ua, d)
			}
		}
	})
}

func BenchmarkDescribe(b *testing.B) {
	uas := []string{"DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14", "iOS/17.2 (21C62) dataaccessd/1.0",
		"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"}
	for b.Loop() {
		for _, ua := range uas {
			Describe(ua)
		}
	}
}
