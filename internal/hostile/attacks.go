package hostile

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rolodav/rolodav/internal/loadtest"
)

const (
	calendar   = "/dav/calendars/" + Login + "/calendar/"
	book       = "/dav/addressbooks/" + Login + "/contacts/"
	uploadBook = "/dav/addressbooks/" + Login + "/uploads/"
	uploadPage = "/account/collections/addressbooks/uploads"
)

// Attacks are the review's findings, in its order. Each signs in with
// the account password once or more (cached after the first).
var Attacks = []Attack{
	{"rrule-every-second", "1. an event recurring every second of every day: ~1 GB per PUT, 6 at once 3.3 GB", everySecond, 1},
	{"byday-repeated", "2. BYDAY with 200 000 repeated entries (800 KB): 45.7 s of CPU", repeatedByDay, 1},
	{"xml-comments", "3. PROPFIND text split by 299 000 comments (4 MB): 193 s of CPU", xmlComments, 1},
	{"upload-temp-files", "4. uploads to the pages leave their files in the temporary directory", uploadTempFiles, 1},
	{"silent-bodies", "5. 2 000 PUTs that declare a body and never send it hold their connections", silentBodies, 1},
	{"login-lockout", "6. 20 wrong guesses from two addresses stop all the user's devices", loginLockout, 25},
	{"secondly-window", "7. SECONDLY rules: expand and free-busy empty more than 3 days after DTSTART", secondlyWindow, 1},
	{"dedup-huge-cards", "8. two cards of 100 000 phones: 55 s for the list, 65 s for the group page", dedupHugeCards, 1},
	{"expand-cut", "9. expand cut at 20 000 instances with no sign to the client", expandCut, 1},
	{"import-resource-size", "10. the import page takes a 2 MB card past --max-resource-size", importResourceSize, 1},
	// Last: its objects would cut the other attacks' queries short.
	{"costly-calendar", "review of the fixes: 200 objects each worth a whole rule budget in one REPORT", costlyCalendar, 1},
}

func event(uid, rule, extra string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\nDURATION:PT1S\r\nSUMMARY:" + uid +
		"\r\nRRULE:" + rule + "\r\n" + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n"
}

func list(from, to int) string {
	var b []string
	for i := from; i <= to; i++ {
		b = append(b, fmt.Sprint(i))
	}
	return strings.Join(b, ",")
}

// refusedOrStored accepts a PUT's answer: stored, or refused as invalid
// calendar data.
func refusedOrStored(a *answer) error {
	switch {
	case a.status == http.StatusCreated || a.status == http.StatusNoContent:
		return nil
	case a.status == http.StatusForbidden && strings.Contains(a.body, "valid-calendar-data"):
		return nil
	}
	return fmt.Errorf("PUT answered %d %.300s", a.status, a.body)
}

func everySecond(ctx context.Context, s *loadtest.Server) (string, error) {
	rule := "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=" + list(0, 23) + ";BYMINUTE=" + list(0, 59) + ";BYSECOND=" + list(0, 59)
	c := newClient(s)
	answers := make([]*answer, 6)
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			answers[i], errs[i] = c.put(ctx, fmt.Sprintf("%severy-second-%d.ics", calendar, i), "text/calendar", event(fmt.Sprint("every-second-", i), rule, ""))
		})
	}
	wg.Wait()
	for i := range answers {
		if errs[i] != nil {
			return "", errs[i]
		}
		if err := refusedOrStored(answers[i]); err != nil {
			return "", err
		}
	}
	out := fmt.Sprintf("6 parallel PUTs: %d", answers[0].status)
	// Whatever was stored is expanded and queried for free time.
	a, err := c.dav(ctx, "REPORT", calendar, expandQuery("20260301T000000Z", "20260302T000000Z"), "Depth", "1")
	if err != nil {
		return out, err
	}
	out += fmt.Sprintf("; expand of a day: %d", a.status)
	f, err := c.dav(ctx, "REPORT", calendar, freeBusyQuery("20260301T000000Z", "20260302T000000Z"), "Depth", "1")
	if err != nil {
		return out, err
	}
	return out + fmt.Sprintf("; free-busy: %d", f.status), nil
}

func repeatedByDay(ctx context.Context, s *loadtest.Server) (string, error) {
	rule := "FREQ=MONTHLY;COUNT=10;BYDAY=" + strings.Repeat("6MO,", 200_000) + "6MO"
	a, err := newClient(s).put(ctx, calendar+"byday.ics", "text/calendar", event("byday", rule, ""))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("PUT of %d KB: %d", len(rule)>>10, a.status), refusedOrStored(a)
}

func xmlComments(ctx context.Context, s *loadtest.Server) (string, error) {
	body := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>` +
		strings.Repeat("xxxxxxx<!---->", 299_000) + `<D:displayname/></D:prop></D:propfind>`
	a, err := newClient(s).dav(ctx, "PROPFIND", book, body, "Depth", "0")
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("PROPFIND of %.1f MB: %d", float64(len(body))/1e6, a.status)
	switch a.status {
	case http.StatusMultiStatus, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return out, nil
	}
	return out, fmt.Errorf("%s %.300s", out, a.body)
}

// importForm signs in and opens the uploads book's page: the client and
// the token of its import form.
func importForm(ctx context.Context, s *loadtest.Server) (*client, string, error) {
	c := newClient(s)
	if err := c.signIn(ctx); err != nil {
		return nil, "", err
	}
	_, token, err := c.page(ctx, uploadPage)
	if err != nil {
		return nil, "", err
	}
	if token == "" {
		return nil, "", fmt.Errorf("no form token on %s", uploadPage)
	}
	return c, token, nil
}

func uploadTempFiles(ctx context.Context, s *loadtest.Server) (string, error) {
	c, token, err := importForm(ctx, s)
	if err != nil {
		return "", err
	}
	const path = uploadPage
	big := []byte(strings.Repeat("NOTE:padding to reach the disk\r\n", 16<<20/32))
	var outcomes []string
	for _, try := range []struct {
		name, token string
		want        int
	}{
		{"bad token", "forged", http.StatusForbidden},
		{"not a vCard file", token, http.StatusBadRequest},
	} {
		a, err := c.upload(ctx, path+"/import", try.token, "big.vcf", big)
		switch {
		case err != nil:
			return strings.Join(outcomes, "; "), err
		case a.status != try.want:
			return strings.Join(outcomes, "; "), fmt.Errorf("%s: %d, want %d", try.name, a.status, try.want)
		default:
			outcomes = append(outcomes, fmt.Sprintf("%s: %d", try.name, a.status))
		}
	}
	out := fmt.Sprintf("16 MB uploads (%s)", strings.Join(outcomes, ", "))
	left, _ := filepath.Glob(filepath.Join(s.Tmp, "*"))
	if len(left) > 0 {
		var size int64
		for _, f := range left {
			if fi, err := os.Stat(f); err == nil {
				size += fi.Size()
			}
		}
		return out, fmt.Errorf("%d files (%s) left in the server's TMPDIR", len(left), loadtest.MB(size))
	}
	return out + "; nothing left in TMPDIR", nil
}

func silentBodies(ctx context.Context, s *loadtest.Server) (string, error) {
	const n = 2000
	addr := strings.TrimPrefix(s.URL, "http://")
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	head := "PUT " + book + "silent.vcf HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: text/vcard\r\nContent-Length: 1000\r\n\r\n"
	for range n {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", err
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte(head)); err != nil {
			return "", err
		}
	}
	// Every one gets its 401, and then its connection closed, while the
	// others still wait.
	deadline, _ := ctx.Deadline()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			buf := make([]byte, 4096)
			var resp []byte
			for {
				k, err := c.Read(buf)
				resp = append(resp, buf[:k]...)
				if err != nil {
					break
				}
			}
			status := "no answer"
			if m := statusRE.FindSubmatch(resp); m != nil {
				status = string(m[1])
			}
			mu.Lock()
			got[status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	out := fmt.Sprintf("%d connections: %v", n, got)
	if got["401"] != n {
		return out, fmt.Errorf("%s; want %d answered 401 and closed", out, n)
	}
	return out + ", all closed by the server", nil
}

var statusRE = regexp.MustCompile(`^HTTP/1\.1 (\d{3})`)

func loginLockout(ctx context.Context, s *loadtest.Server) (string, error) {
	// The owner's phone has an app password.
	web := newClient(s)
	if err := web.signIn(ctx); err != nil {
		return "", err
	}
	_, token, err := web.page(ctx, "/account/passwords")
	if err != nil {
		return "", err
	}
	a, err := web.post(ctx, "/account/passwords", url.Values{"csrf": {token}, "name": {"phone"}})
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`id="new-app-password"[^>]*>([^<]+)<`).FindStringSubmatch(a.body)
	if m == nil {
		return "", fmt.Errorf("no app password on the page (%d)", a.status)
	}
	appPassword := m[1]

	// Twenty wrong guesses, ten from each of two addresses, in two rounds
	// of ten at once (one after the other, the slowdown would make them
	// take minutes).
	for round := range 2 {
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				g := newClient(s)
				g.password, g.from = fmt.Sprint("guess ", round, i), fmt.Sprintf("203.0.113.%d", 1+i%2)
				a, err := g.dav(ctx, "PROPFIND", "/dav/addressbooks/"+Login+"/", "", "Depth", "0")
				switch {
				case err != nil:
					errs[i] = err
				case a.status != http.StatusUnauthorized:
					errs[i] = fmt.Errorf("guess %d of round %d: %d", i, round, a.status)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return "", err
			}
		}
	}
	check := func(what string, c *client, want int) (string, error) {
		a, err := c.dav(ctx, "PROPFIND", "/dav/addressbooks/"+Login+"/", "", "Depth", "0")
		if err != nil {
			return "", err
		}
		line := fmt.Sprintf("%s: %d", what, a.status)
		if a.status != want {
			return line, fmt.Errorf("%s, want %d", line, want)
		}
		return line, nil
	}
	var lines []string
	phone := newClient(s)
	phone.password, phone.from = appPassword, "198.51.100.7"
	laptop := newClient(s) // the loopback, where the owner signed in before
	stranger := newClient(s)
	stranger.from = "198.51.100.8"
	for _, c := range []struct {
		what string
		c    *client
		want int
	}{
		{"app password from a new address", phone, http.StatusMultiStatus},
		{"account password from a known address", laptop, http.StatusMultiStatus},
		{"account password from a new address", stranger, http.StatusTooManyRequests},
	} {
		line, err := check(c.what, c.c, c.want)
		lines = append(lines, line)
		if err != nil {
			return strings.Join(lines, "; "), err
		}
	}
	if err := newClient(s).signIn(ctx); err != nil {
		return strings.Join(lines, "; "), fmt.Errorf("web sign-in from a known address: %w", err)
	}
	return strings.Join(append(lines, "web sign-in from a known address: ok"), "; "), nil
}

func expandQuery(start, end string) string {
	return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data>` +
		`<C:expand start="` + start + `" end="` + end + `"/></C:calendar-data></D:prop><C:filter>` +
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="` + start + `" end="` + end +
		`"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
}

func freeBusyQuery(start, end string) string {
	return `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="` + start + `" end="` + end + `"/></C:free-busy-query>`
}

func secondlyWindow(ctx context.Context, s *loadtest.Server) (string, error) {
	c := newClient(s)
	// Every second; the window, an hour, is 59 days on.
	a, err := c.put(ctx, calendar+"secondly.ics", "text/calendar", event("secondly", "FREQ=SECONDLY", ""))
	if err != nil {
		return "", err
	}
	if a.status != http.StatusCreated {
		return "", fmt.Errorf("PUT: %d %.300s", a.status, a.body)
	}
	const start, end = "20260301T000000Z", "20260301T010000Z"
	q := strings.Replace(expandQuery(start, end), `<C:comp-filter name="VEVENT">`,
		`<C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet">secondly</C:text-match></C:prop-filter>`, 1)
	e, err := c.dav(ctx, "REPORT", calendar, q, "Depth", "1")
	if err != nil {
		return "", err
	}
	instances := strings.Count(e.body, "RECURRENCE-ID")
	f, err := c.dav(ctx, "REPORT", calendar, freeBusyQuery(start, end), "Depth", "1")
	if err != nil {
		return "", err
	}
	busy := strings.Count(f.body, "FREEBUSY")
	out := fmt.Sprintf("expand of an hour 59 days on: %d instances; free-busy: %d FREEBUSY lines", instances, busy)
	if instances != 3600 || busy == 0 {
		return out, fmt.Errorf("%s; want 3600 instances and busy time", out)
	}
	return out, nil
}

func expandCut(ctx context.Context, s *loadtest.Server) (string, error) {
	c := newClient(s)
	a, err := c.put(ctx, calendar+"minutely.ics", "text/calendar", event("minutely", "FREQ=MINUTELY", ""))
	if err != nil {
		return "", err
	}
	if a.status != http.StatusCreated {
		return "", fmt.Errorf("PUT: %d %.300s", a.status, a.body)
	}
	// A year of minutes: 525 600 instances.
	q := strings.Replace(expandQuery("20260101T000000Z", "20270101T000000Z"), `<C:comp-filter name="VEVENT">`,
		`<C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet">minutely</C:text-match></C:prop-filter>`, 1)
	e, err := c.dav(ctx, "REPORT", calendar, q, "Depth", "1")
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("expand of a year of minutes: %d, %.1f MB, %d instances", e.status, float64(len(e.body))/1e6, strings.Count(e.body, "RECURRENCE-ID"))
	for _, mark := range []string{"number-of-matches-within-limits", "max-instances"} {
		if strings.Contains(e.body, mark) {
			return out + ", marked " + mark, nil
		}
	}
	return out, fmt.Errorf("%s, with no sign of the cut", out)
}

// hugeCards are two cards of one person with the same 100 000 phone
// numbers each.
func hugeCards() string {
	var b strings.Builder
	for card := range 2 {
		// The notes differ: the same content twice is one card to import.
		fmt.Fprintf(&b, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:huge-%d\r\nFN:Hugh Many\r\nN:Many;Hugh;;;\r\nNOTE:copy %d\r\n", card, card)
		for i := range 100_000 {
			fmt.Fprintf(&b, "TEL:+1 555 %07d\r\n", i*7)
		}
		b.WriteString("END:VCARD\r\n")
	}
	return b.String()
}

var groupLinkRE = regexp.MustCompile(`href="(/account/duplicates/contacts/groups/[^"]+)"`)

func dedupHugeCards(ctx context.Context, s *loadtest.Server) (string, error) {
	c := newClient(s)
	if err := c.signIn(ctx); err != nil {
		return "", err
	}
	start := time.Now()
	l, _, err := c.page(ctx, "/account/duplicates/contacts")
	if err != nil {
		return "", err
	}
	listTime := time.Since(start)
	if l.status != http.StatusOK {
		return "", fmt.Errorf("list: %d %.300s", l.status, l.body)
	}
	m := groupLinkRE.FindStringSubmatch(l.body)
	if m == nil {
		return "", fmt.Errorf("the two cards are not listed as a group")
	}
	start = time.Now()
	g, _, err := c.page(ctx, m[1])
	if err != nil {
		return "", err
	}
	if g.status != http.StatusOK || !strings.Contains(g.body, "Hugh Many") {
		return "", fmt.Errorf("group page: %d %.300s", g.status, g.body)
	}
	return fmt.Sprintf("list %v (%d KB), group page %v (%d KB)", listTime.Round(time.Millisecond), len(l.body)>>10,
		time.Since(start).Round(time.Millisecond), len(g.body)>>10), nil
}

func importResourceSize(ctx context.Context, s *loadtest.Server) (string, error) {
	c, token, err := importForm(ctx, s)
	if err != nil {
		return "", err
	}
	const path = uploadPage
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:too-big\r\nFN:Too Big\r\nNOTE:" + strings.Repeat("x", 2<<20) + "\r\nEND:VCARD\r\n"
	a, err := c.upload(ctx, path+"/import", token, "big.vcf", []byte(card))
	if err != nil {
		return "", err
	}
	g, err := c.dav(ctx, "GET", uploadBook+"too-big.vcf", "")
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("import of a 2 MB card (limit 1 MB): page %d", a.status)
	if a.status != http.StatusOK || !strings.Contains(a.body, "this server takes at most") {
		return out, fmt.Errorf("%s; the page does not say the card was rejected for its size", out)
	}
	if g.status != http.StatusNotFound {
		return out, fmt.Errorf("%s; GET of the card: %d, want 404", out, g.status)
	}
	return out + "; not stored", nil
}

func costlyCalendar(ctx context.Context, s *loadtest.Server) (string, error) {
	c := newClient(s)
	// No instance ever (odd seconds of an even grid) and no COUNT: stored
	// at once, but each costs a query its whole rule budget.
	for i := range 200 {
		a, err := c.put(ctx, fmt.Sprintf("%scostly-%d.ics", calendar, i), "text/calendar",
			event(fmt.Sprint("costly-", i), "FREQ=SECONDLY;INTERVAL=2;BYSECOND=1", ""))
		if err != nil {
			return "", err
		}
		if a.status != http.StatusCreated {
			return "", fmt.Errorf("PUT %d: %d %.300s", i, a.status, a.body)
		}
	}
	q := `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter>` +
		`<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260301T000000Z" end="20260401T000000Z"/>` +
		`</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
	a, err := c.dav(ctx, "REPORT", calendar, q, "Depth", "1")
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("200 PUTs, then a month's calendar-query: %d", a.status)
	if a.status != http.StatusMultiStatus || !strings.Contains(a.body, "number-of-matches-within-limits") {
		return out, fmt.Errorf("%s, not marked as cut short", out)
	}
	return out + ", cut short and marked", nil
}
