package useragent

import (
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
		{"DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14", "DAVx5 on Android 14"},
		{"DAVx5/4.3.12-ose (2024/01/15; dav4jvm; okhttp/4.12.0) Android/13", "DAVx5 on Android 13"},
		{"DAVx5/4.4.3-gplay (dav4jvm; okhttp/4.12.0) Android/12", "DAVx5 on Android 12"},
		{"DAVdroid/1.11.4-ose (2018/06/15; dav4android; okhttp3) Android/8.1.0", "DAVdroid on Android 8.1.0"},
		{"DAVx5/4.4.3-ose", "DAVx5"},

		// Apple's accounts (iOS, iPadOS, macOS).
		{"iOS/17.2 (21C62) dataaccessd/1.0", "Apple Calendar and Contacts on iOS 17.2"},
		{"iOS/18.0 (22A3354) dataaccessd/1.0", "Apple Calendar and Contacts on iOS 18.0"},
		{"iPadOS/17.2 (21C62) dataaccessd/1.0", "Apple Calendar and Contacts on iPadOS 17.2"},
		{"macOS/13.4 (22F66) dataaccessd/1.0", "Apple Calendar and Contacts on macOS 13.4"},
		{"macOS/14.2 (23C64) CalendarAgent/988", "Apple Calendar on macOS 14.2"},
		{"Mac OS X/10.15.7 (19H2) CalendarAgent/954", "Apple Calendar on macOS 10.15.7"},
		{"Mac_OS_X/10.9.5 (13F34) CalendarAgent/176.2", "Apple Calendar on macOS 10.9.5"},
		{"Mac+OS+X/10.10.5 (14F27) CalendarAgent/316.1", "Apple Calendar on macOS 10.10.5"},
		{"Mac OS X/10.15 (19A583) AddressBook/2245", "Apple Contacts on macOS 10.15"},
		{"macOS/14.2 (23C64) ContactsAgent/2604", "Apple Contacts on macOS 14.2"},
		{"iOS/17.0 (21A329) accountsd/1.0", "Apple account settings on iOS 17.0"},
		{"iOS/16.5.1 (20F75) remindd/1.0", "Apple Reminders on iOS 16.5.1"},
		{"iOS/12.4 (16G77) somed/2.0", "Apple somed on iOS 12.4"},
		{"DAVKit/4.0.3 (732.2); CalendarStore/4.0.4 (997.7); iCal/4.0.4 (1395.7); Mac OS X/10.6.8 (10K549)", "Apple Calendar on macOS 10.6.8"},
		{"Mac OS X/10.8.5 (12F45) AddressBook/1167", "Apple Contacts on macOS 10.8.5"},

		// Thunderbird (with its own CalDAV and CardDAV).
		{"Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.6.0", "Thunderbird on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.3.1", "Thunderbird on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:115.0) Gecko/20100101 Thunderbird/115.0", "Thunderbird on macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:78.0) Gecko/20100101 Thunderbird/78.14.0 Lightning/78.14.0", "Thunderbird on Linux"},

		// GNOME and other desktop and command-line clients.
		{"Evolution/3.50.2", "Evolution"},
		{"GNOME Calendar/45.1 - libsoup/3.4.4", "GNOME Calendar"},
		{"gnome-online-accounts/3.50.1 libsoup/3.4.4", "GNOME Online Accounts"},
		{"vdirsyncer/0.19.2", "vdirsyncer"},
		{"python-requests/2.31.0", "Python program"},
		{"python-caldav/1.3.9", "python-caldav"},
		{"python-httpx/0.27.0", "Python program"},
		{"CalDavSynchronizer/4.4", "Outlook CalDav Synchronizer on Windows"},
		{"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Node.js program"},
		{"node", "Node.js program"},
		{"undici", "Node.js program"},
		{"curl/8.5.0", "curl"},
		{"rolodav-cli/", "rolodav command line (an administrator)"},
		{"Wget/1.21.4", "Wget"},
		{"Go-http-client/1.1", "Go program"},

		// Browsers on the account pages.
		{"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox on Linux"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox on Windows"},
		{"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox on Android 14"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15", "Firefox on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome on macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome on Android 10"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115", "Edge on Android 10"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0", "Opera on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android 14"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari on iPad"},
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
		{"iOS/17.2 (21C62) www.evil.example/1.0", "Apple app on iOS 17.2"},
	} {
		if got := Describe(tc.ua); got != tc.want {
			t.Errorf("Describe(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	got := Parse("DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14")
	if got != (Client{App: "DAVx5", OS: "Android 14", Known: true}) {
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
		"rolodav-cli/":                                                           true,
		"Mac OS X/10.6.8 (10K549) DAVKit/4.0.3 https://evil.example/":            true,
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

// Whatever the header, the description is short, printable text.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"", "DAVx5/4.4.3-ose (dav4jvm) Android/14", "iOS/17.2 (21C62) dataaccessd/1.0",
		"Mozilla/5.0 (X11; Linux x86_64) Firefox/1", "Mac OS X/10.6.8 iCal/4", "a\x00b\r\nc", "\xff\xfe/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
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
