package main_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/push/pushtest"
)

// WebDAV-Push through the real binary: servers started with push on,
// subscriptions registered over HTTP as DAVx5 registers them, and a push
// service stand-in (pushtest) that decrypts every message and verifies its
// VAPID authorization. What a message must carry (topic, sync token) is
// read over DAV after the change, as a client would read it.

const (
	pushNS      = "https://bitfire.at/webdav-push"
	pushContact = "mailto:ops@example.org"
	pushSpacing = 300 * time.Millisecond
	// pushQuiet is how long "no further message" is watched for: beyond
	// the spacing and the sender's poll (2 s), which picks up what other
	// processes queue.
	pushQuiet = 2500 * time.Millisecond
	// pushArrive bounds the wait for a message, far above the usual.
	pushArrive = 20 * time.Second
	davx5UA    = "DAVx5/4.5.3-ose (2025/07/14; dav4jvm; okhttp/4.12.0) Android/14"
)

// pushFlags turn on push towards the stand-in on 127.0.0.1.
var pushFlags = []string{"--push-allow-private", "--push-spacing", pushSpacing.String(), "--push-contact", pushContact}

// pushUsers adds users (password "<login> password") to the store at
// data, or at the database when data starts with "postgres".
func pushUsers(t *testing.T, data string, logins ...string) {
	t.Helper()
	where := "--data"
	if strings.HasPrefix(data, "postgres") {
		where = "--database"
	}
	for _, u := range logins {
		if _, errOut, code := cli(t, u+" password\n", "user", "add", u, where, data, "--password-stdin"); code != 0 {
			t.Fatalf("user add %s: %s", u, errOut)
		}
	}
}

// pushServe starts a server on data with push on.
func pushServe(t *testing.T, data string, extra ...string) *daemon {
	t.Helper()
	return start(t, data, append(slices.Clone(pushFlags), extra...)...)
}

// register POSTs DAVx5's push-register for sub to path as user: the body
// as DAVx5's PushRegistrationManager sends it (no trigger; expires in
// three days). It returns the status and the Location.
func register(t *testing.T, d *daemon, user, path string, sub *pushtest.Subscription) (int, string) {
	t.Helper()
	body := `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>` +
		`<n0:push-register xmlns:n0="https://bitfire.at/webdav-push"><n0:subscription><n0:web-push-subscription>` +
		`<n0:push-resource>` + sub.Resource + `</n0:push-resource>` +
		`<n0:subscription-public-key type="p256dh">` + sub.PublicKey + `</n0:subscription-public-key>` +
		`<n0:auth-secret>` + sub.AuthSecret + `</n0:auth-secret>` +
		`</n0:web-push-subscription></n0:subscription>` +
		`<n0:expires>` + time.Now().Add(72*time.Hour).UTC().Format(http.TimeFormat) + `</n0:expires></n0:push-register>`
	code, hdr, _ := d.req(t, "POST", path, user, user+" password", body,
		"Content-Type: application/xml; charset=utf-8", "User-Agent: "+davx5UA)
	return code, hdr.Get("Location")
}

// mustRegister registers sub and returns the registration's path.
func mustRegister(t *testing.T, d *daemon, user, path string, sub *pushtest.Subscription) (loc, regPath string) {
	t.Helper()
	code, loc := register(t, d, user, path, sub)
	if code != http.StatusCreated || !strings.HasPrefix(loc, d.url+"/dav/push/") {
		t.Fatalf("push-register on %s: %d, Location %q", path, code, loc)
	}
	return loc, strings.TrimPrefix(loc, d.url)
}

// pushState is what PROPFIND says of a collection: its topic, its sync
// token and the server's VAPID public key.
type pushState struct{ topic, token, vapid string }

func propfindPush(t *testing.T, d *daemon, user, path string) pushState {
	t.Helper()
	code, _, body := d.req(t, "PROPFIND", path, user, user+" password",
		`<D:propfind xmlns:D="DAV:" xmlns:P="`+pushNS+`"><D:prop><P:topic/><D:sync-token/><P:transports/></D:prop></D:propfind>`,
		"Depth: 0", "Content-Type: application/xml")
	if code != http.StatusMultiStatus {
		t.Fatalf("PROPFIND %s: %d\n%s", path, code, body)
	}
	s := pushState{
		topic: xmlText(t, body, pushNS, "topic"),
		token: xmlText(t, body, "DAV:", "sync-token"),
		vapid: xmlText(t, body, pushNS, "vapid-public-key"),
	}
	if s.topic == "" || s.token == "" || s.vapid == "" {
		t.Fatalf("PROPFIND %s lacks topic, sync-token or the VAPID key:\n%s", path, body)
	}
	return s
}

// xmlText is the text of the first element space:local in doc.
func xmlText(t *testing.T, doc, space, local string) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	in := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch e := tok.(type) {
		case xml.StartElement:
			in = e.Name.Space == space && e.Name.Local == local
		case xml.CharData:
			if in {
				return strings.TrimSpace(string(e))
			}
		case xml.EndElement:
			in = false
		}
	}
}

// checkMessage checks that m passed the stand-in's checks (decryption,
// VAPID signature, aud, exp, sub) and is an update of want: a content
// update carrying want.token, or (want.token "") a property update.
func checkMessage(t *testing.T, what string, m pushtest.Message, want pushState) {
	t.Helper()
	if m.Err != nil || m.Status != http.StatusCreated {
		t.Fatalf("%s: message %d failed the push service's checks: status %d, %v", what, m.Seq, m.Status, m.Err)
	}
	if m.Claims.Sub != pushContact || m.VAPIDKey != want.vapid {
		t.Errorf("%s: VAPID sub %q key %q, want %q and the advertised %q", what, m.Claims.Sub, m.VAPIDKey, pushContact, want.vapid)
	}
	p, err := pushtest.Parse(m.Body)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, m.Body)
	}
	if p.Topic != want.topic {
		t.Errorf("%s: topic %q, want %q", what, p.Topic, want.topic)
	}
	if want.token != "" && (!p.Content || p.SyncToken != want.token || p.Property) {
		t.Errorf("%s: %+v, want a content update with the sync token %q", what, p, want.token)
	}
	if want.token == "" && (!p.Property || p.Content) {
		t.Errorf("%s: %+v, want a property update", what, p)
	}
}

// counter follows the messages to some subscriptions.
type counter struct {
	ps   *pushtest.Server
	seen map[*pushtest.Subscription]int
}

func newCounter(ps *pushtest.Server, subs ...*pushtest.Subscription) *counter {
	c := &counter{ps: ps, seen: map[*pushtest.Subscription]int{}}
	for _, s := range subs {
		c.seen[s] = len(ps.MessagesTo(s))
	}
	return c
}

// next waits for the next message to sub and checks it against want; it
// returns the time from since to its arrival.
func (c *counter) next(t *testing.T, what string, sub *pushtest.Subscription, since time.Time, want pushState) time.Duration {
	t.Helper()
	msgs := c.ps.WaitFor(t, sub, c.seen[sub]+1, pushArrive)
	m := msgs[c.seen[sub]]
	c.seen[sub]++
	checkMessage(t, what, m, want)
	return m.Received.Sub(since)
}

// quiet waits pushQuiet and fails when any followed subscription got a
// message not taken by next.
func (c *counter) quiet(t *testing.T, what string) {
	t.Helper()
	time.Sleep(pushQuiet)
	for s, n := range c.seen {
		if got := c.ps.MessagesTo(s); len(got) != n {
			t.Errorf("%s: %d messages to %s, want %d; the extra ones: %s", what, len(got), s.ID, n, bodies(got[min(n, len(got)):]))
			c.seen[s] = len(got)
		}
	}
}

func bodies(msgs []pushtest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  %s %s", m.Received.Format("15:04:05.000"), m.Body)
	}
	return b.String()
}

func vevent(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\n" +
		"DTSTART:20250301T100000Z\r\nDTEND:20250301T110000Z\r\nSUMMARY:" + summary + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func displayName(name string) string {
	return `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>` + name + `</D:displayname></D:prop></D:set></D:propertyupdate>`
}

// ann is a card that the duplicates finder puts in the auto band with
// another ann of the same fn and tel.
func ann(uid, note string) string {
	return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:Ann Miller\r\nN:Miller;Ann;;;\r\nTEL:+49 151 12345678\r\n" +
		"EMAIL:ann.miller@example.org\r\nBDAY:1980-04-01\r\n" + note + "END:VCARD\r\n"
}

// Every kind of change, made by the server or by another process (the
// command line), gives each subscription of the collection exactly one
// message, with the collection's topic and its sync token after the
// change.
func TestPushEachChangeOneMessage(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice")
	d := pushServe(t, data)
	const book, cal = "/dav/addressbooks/alice/contacts/", "/dav/calendars/alice/calendar/"
	const pw = "alice password"
	// The first half of a duplicate pair, before anyone listens.
	if code, _, _ := d.req(t, "PUT", book+"ann-1.vcf", "alice", pw, ann("ann-1", "")); code != http.StatusCreated {
		t.Fatalf("PUT ann-1: %d", code)
	}
	ps := pushtest.Start(t)
	bookSub, calSub := ps.Subscribe(t), ps.Subscribe(t)
	mustRegister(t, d, "alice", book, bookSub)
	mustRegister(t, d, "alice", cal, calSub)
	c := newCounter(ps, bookSub, calSub)
	var lat []time.Duration
	content := func(path string) pushState { return propfindPush(t, d, "alice", path) }
	property := func(path string) pushState { s := propfindPush(t, d, "alice", path); s.token = ""; return s }

	t0 := time.Now()
	if code, _, _ := d.req(t, "PUT", book+"x.vcf", "alice", pw, vcard("x")); code != http.StatusCreated {
		t.Fatalf("PUT card: %d", code)
	}
	if code, _, _ := d.req(t, "PUT", cal+"e.ics", "alice", pw, vevent("e", "Meeting")); code != http.StatusCreated {
		t.Fatalf("PUT event: %d", code)
	}
	lat = append(lat, c.next(t, "PUT card", bookSub, t0, content(book)), c.next(t, "PUT event", calSub, t0, content(cal)))
	c.quiet(t, "PUT")

	t0 = time.Now()
	if code, _, _ := d.req(t, "DELETE", book+"x.vcf", "alice", pw, ""); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	lat = append(lat, c.next(t, "DELETE", bookSub, t0, content(book)))
	c.quiet(t, "DELETE")

	t0 = time.Now()
	for _, p := range []string{book, cal} {
		if code, _, body := d.req(t, "PROPPATCH", p, "alice", pw, displayName("Renamed"), "Content-Type: application/xml"); code != http.StatusMultiStatus || !strings.Contains(body, "200") {
			t.Fatalf("PROPPATCH %s: %d\n%s", p, code, body)
		}
	}
	lat = append(lat, c.next(t, "PROPPATCH book", bookSub, t0, property(book)), c.next(t, "PROPPATCH calendar", calSub, t0, property(cal)))
	c.quiet(t, "PROPPATCH")

	// One card: an import writes card by card, and a longer file may
	// rightly give two messages when the sender's poll falls between.
	file := filepath.Join(t.TempDir(), "ann.vcf")
	os.WriteFile(file, []byte(ann("ann-2", "NOTE:the fuller card\r\n")), 0o600)
	t0 = time.Now()
	if out, errOut, code := cli(t, "", "import", "--user", "alice", "--data", data, file); code != 0 || !strings.Contains(out, "added 1") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	lat = append(lat, c.next(t, "import", bookSub, t0, content(book)))
	c.quiet(t, "import")

	t0 = time.Now()
	out, errOut, code := cli(t, "", "duplicates", "merge", "--user", "alice", "--auto", "--data", data)
	m := regexp.MustCompile(`\(merge (\d+);`).FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "merged 1 of 1 groups") {
		t.Fatalf("merge: %d %q %q", code, out, errOut)
	}
	lat = append(lat, c.next(t, "merge", bookSub, t0, content(book)))
	c.quiet(t, "merge")

	t0 = time.Now()
	if out, errOut, code := cli(t, "", "duplicates", "undo", "--user", "alice", "--merge", m[1], "--data", data); code != 0 {
		t.Fatalf("undo: %d %q %q", code, out, errOut)
	}
	lat = append(lat, c.next(t, "undo", bookSub, t0, content(book)))
	c.quiet(t, "undo")
	t.Logf("change to message: %v (PUT card, PUT event, DELETE, PROPPATCH book, calendar, import, merge, undo)", lat)
}

// A burst of writes gives one or two messages, the last with the final
// sync token.
func TestPushCoalesces(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice")
	d := pushServe(t, data)
	const book = "/dav/addressbooks/alice/contacts/"
	ps := pushtest.Start(t)
	sub := ps.Subscribe(t)
	mustRegister(t, d, "alice", book, sub)
	t0 := time.Now()
	for i := range 10 {
		if code, _, _ := d.req(t, "PUT", fmt.Sprintf("%sb%d.vcf", book, i), "alice", "alice password", vcard(fmt.Sprint("b", i))); code != http.StatusCreated {
			t.Fatalf("PUT %d: %d", i, code)
		}
	}
	if took := time.Since(t0); took > time.Second {
		t.Logf("the ten PUTs took %v, more than the second the burst should last", took)
	}
	want := propfindPush(t, d, "alice", book)
	time.Sleep(pushQuiet + pushSpacing)
	msgs := ps.MessagesTo(sub)
	if len(msgs) < 1 || len(msgs) > 2 {
		t.Fatalf("%d messages for ten PUTs, want one or two:%s", len(msgs), bodies(msgs))
	}
	for i, m := range msgs {
		if m.Err != nil {
			t.Errorf("message %d: %v", i+1, m.Err)
		}
	}
	checkMessage(t, "the last message", msgs[len(msgs)-1], want)
	t.Logf("ten PUTs in %v gave %d messages", time.Since(t0)-pushQuiet-pushSpacing, len(msgs))
}

// Push-Dont-Notify with a registration URL spares that registration;
// with * it spares all.
func TestPushDontNotify(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice")
	d := pushServe(t, data)
	const book = "/dav/addressbooks/alice/contacts/"
	ps := pushtest.Start(t)
	a, b := ps.Subscribe(t), ps.Subscribe(t)
	locA, _ := mustRegister(t, d, "alice", book, a)
	mustRegister(t, d, "alice", book, b)
	c := newCounter(ps, a, b)

	t0 := time.Now()
	if code, _, _ := d.req(t, "PUT", book+"a.vcf", "alice", "alice password", vcard("a"), `Push-Dont-Notify: "`+locA+`"`); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	c.next(t, "PUT from device A", b, t0, propfindPush(t, d, "alice", book))
	c.quiet(t, "PUT from device A") // and nothing to A

	if code, _, _ := d.req(t, "PUT", book+"b.vcf", "alice", "alice password", vcard("b"), "Push-Dont-Notify: *"); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	c.quiet(t, "PUT with Push-Dont-Notify: *")

	// Without the header both hear of the next change: the silence above
	// was the header's doing.
	t0 = time.Now()
	if code, _, _ := d.req(t, "PUT", book+"c.vcf", "alice", "alice password", vcard("c")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	want := propfindPush(t, d, "alice", book)
	c.next(t, "PUT without the header, A", a, t0, want)
	c.next(t, "PUT without the header, B", b, t0, want)
}

// pushList is `rolodav push list` for user.
func pushList(t *testing.T, data, user string) string {
	t.Helper()
	out, errOut, code := cli(t, "", "push", "list", "--user", user, "--data", data)
	if code != 0 {
		t.Fatalf("push list: %d %s", code, errOut)
	}
	return out
}

// A push service's 410 Gone removes the registration.
func TestPushGoneRemovesRegistration(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice")
	d := pushServe(t, data)
	const book = "/dav/addressbooks/alice/contacts/"
	ps := pushtest.Start(t)
	sub := ps.Subscribe(t)
	_, reg := mustRegister(t, d, "alice", book, sub)
	if out := pushList(t, data, "alice"); strings.Count(out, "\nalice") != 1 {
		t.Fatalf("push list after registering:\n%s", out)
	}
	ps.Answer(sub, pushtest.Reply{Status: http.StatusGone})
	if code, _, _ := d.req(t, "PUT", book+"a.vcf", "alice", "alice password", vcard("a")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	if m := ps.WaitFor(t, sub, 1, pushArrive)[0]; m.Err != nil || m.Status != http.StatusGone {
		t.Fatalf("the message: status %d, %v", m.Status, m.Err)
	}
	// The 410 is answered before the sender records it: wait for that.
	waitLog(t, d, "push registration removed")
	if code, _, _ := d.req(t, "DELETE", reg, "alice", "alice password", ""); code != http.StatusNotFound {
		t.Errorf("DELETE of the registration after 410: %d, want 404", code)
	}
	if out := pushList(t, data, "alice"); strings.Contains(out, "\nalice") {
		t.Errorf("push list still shows the registration:\n%s", out)
	}
	// Nothing more is sent to it.
	if code, _, _ := d.req(t, "PUT", book+"b.vcf", "alice", "alice password", vcard("b")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	time.Sleep(pushQuiet)
	if n := len(ps.MessagesTo(sub)); n != 1 {
		t.Errorf("%d messages to the gone subscription, want 1", n)
	}
}

// Bob can neither register on alice's book nor end her registration.
func TestPushOtherUserRefused(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice", "bob")
	d := pushServe(t, data)
	const book = "/dav/addressbooks/alice/contacts/"
	ps := pushtest.Start(t)
	bobs := ps.Subscribe(t)
	code, loc := register(t, d, "bob", book, bobs)
	if code/100 == 2 || loc != "" {
		t.Errorf("bob's push-register on alice's book: %d, Location %q", code, loc)
	}
	t.Logf("bob's push-register on alice's book: %d", code)
	if out := pushList(t, data, ""); strings.Contains(out, "\nalice") || strings.Contains(out, "\nbob") {
		t.Errorf("a registration was stored:\n%s", out)
	}
	alices := ps.Subscribe(t)
	_, reg := mustRegister(t, d, "alice", book, alices)
	if code, _, _ := d.req(t, "DELETE", reg, "bob", "bob password", ""); code != http.StatusNotFound {
		t.Errorf("bob's DELETE of alice's registration: %d, want 404", code)
	}
	c := newCounter(ps, alices, bobs)
	t0 := time.Now()
	if code, _, _ := d.req(t, "PUT", book+"a.vcf", "alice", "alice password", vcard("a")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	c.next(t, "alice's registration after bob's DELETE", alices, t0, propfindPush(t, d, "alice", book))
	c.quiet(t, "after alice's PUT") // and nothing to bob's subscription
}

// A message the queue holds when the server is killed goes out after the
// restart. The push service first answers 503 with Retry-After, so that
// the message waits in the queue, unclaimed, while the server is killed
// (a kill during a delivery would leave a claim that holds for the
// lease, a minute, before the restarted server may take it).
func TestPushSurvivesKill(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice")
	d := pushServe(t, data)
	const book = "/dav/addressbooks/alice/contacts/"
	ps := pushtest.Start(t)
	sub := ps.Subscribe(t)
	mustRegister(t, d, "alice", book, sub)
	// Retry-After is the time the kill must land in: far above the
	// milliseconds it takes.
	ps.Answer(sub, pushtest.Reply{Status: http.StatusServiceUnavailable, RetryAfter: "4", Times: 1})
	if code, _, _ := d.req(t, "PUT", book+"a.vcf", "alice", "alice password", vcard("a")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	want := propfindPush(t, d, "alice", book)
	waitLog(t, d, "push message not delivered; will retry")
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
	killed := time.Now()
	first := ps.MessagesTo(sub)
	if len(first) != 1 || first[0].Status != http.StatusServiceUnavailable || first[0].Err != nil {
		t.Fatalf("before the kill: %d messages%s", len(first), bodies(first))
	}

	d2 := pushServe(t, data)
	msgs := ps.WaitFor(t, sub, 2, pushArrive)
	checkMessage(t, "after the restart", msgs[1], want)
	if !msgs[1].Received.After(killed) {
		t.Errorf("the message arrived at %v, before the kill at %v", msgs[1].Received, killed)
	}
	if got := propfindPush(t, d2, "alice", book); got != want {
		t.Errorf("after the restart PROPFIND says %+v, before the kill %+v", got, want)
	}
	time.Sleep(pushQuiet)
	if n := len(ps.MessagesTo(sub)); n != 2 {
		t.Errorf("%d messages, want the refused one and one after the restart", n)
	}
	t.Logf("delivered %v after the kill", msgs[1].Received.Sub(killed))
}

// Two servers on one PostgreSQL database: each change, through either,
// gives one message, not one per sender. Each step writes the book through
// one server and then the calendar through the other, whose sender so
// wakes and claims while the first one's delivery of the book's message
// is held up by the push service: a message leased by one sender must not
// be claimed by the other.
func TestPushTwoProcessesOnPostgres(t *testing.T) {
	t.Parallel()
	db, a, b := twoServersWith(t, pushFlags...)
	const cal = "/dav/calendars/frank/calendar/"
	ps := pushtest.Start(t)
	books := []*pushtest.Subscription{ps.Subscribe(t), ps.Subscribe(t)}
	calSub := ps.Subscribe(t)
	mustRegister(t, a, "frank", frankBook, books[0])
	mustRegister(t, b, "frank", frankBook, books[1])
	mustRegister(t, a, "frank", cal, calSub)
	if out, _, _ := cli(t, "", "push", "list", "--database", db); strings.Count(out, "\nfrank") != 3 {
		t.Fatalf("push list:\n%s", out)
	}
	ps.SetDelay(200 * time.Millisecond)
	const writes = 20
	var bookTokens, calTokens []string
	var lat []time.Duration
	c := newCounter(ps, books[0], books[1], calSub)
	for i := range writes {
		d, other := a, b
		if i%2 == 1 {
			d, other = b, a
		}
		t0 := time.Now()
		if code, _, _ := d.req(t, "PUT", fmt.Sprintf("%sp%d.vcf", frankBook, i), "frank", "frank password", vcard(fmt.Sprint("p", i))); code != http.StatusCreated {
			t.Fatalf("PUT card %d: %d", i, code)
		}
		if code, _, _ := other.req(t, "PUT", fmt.Sprintf("%se%d.ics", cal, i), "frank", "frank password", vevent(fmt.Sprint("e", i), "Meeting")); code != http.StatusCreated {
			t.Fatalf("PUT event %d: %d", i, code)
		}
		wantBook, wantCal := propfindPush(t, d, "frank", frankBook), propfindPush(t, other, "frank", cal)
		bookTokens, calTokens = append(bookTokens, wantBook.token), append(calTokens, wantCal.token)
		for _, s := range books {
			lat = append(lat, c.next(t, fmt.Sprintf("card %d", i), s, t0, wantBook))
		}
		c.next(t, fmt.Sprintf("event %d", i), calSub, t0, wantCal)
		// Beyond the spacing, so that each change is a message of its own.
		time.Sleep(pushSpacing + 100*time.Millisecond)
	}
	c.quiet(t, "after the last write")
	for s, want := range map[*pushtest.Subscription][]string{books[0]: bookTokens, books[1]: bookTokens, calSub: calTokens} {
		var got []string
		for _, m := range ps.MessagesTo(s) {
			p, _ := pushtest.Parse(m.Body)
			got = append(got, p.SyncToken)
		}
		if !slices.Equal(got, want) {
			t.Errorf("sync tokens of the messages:\n%v\nwant one per write:\n%v", got, want)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("%d steps through two servers: %d messages to each of 3 subscriptions; PUT to message median %v, max %v",
		writes, writes, lat[len(lat)/2], lat[len(lat)-1])
}

// --push-contact is refused unless it is mailto:ADDRESS or https://HOST,
// and what serve signs with is written anew from its parts.
func TestPushContactFlag(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"ops@example.org", "https:ops", "http://example.org", "mailto:", "mailto:Ops <ops@example.org>", "https://user@example.org/"} {
		_, stderr, code := cli(t, "", "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--push-contact", bad)
		if code != 2 || !strings.Contains(stderr, "--push-contact") {
			t.Errorf("--push-contact %q: exit %d, %q", bad, code, stderr)
		}
	}
	for contact, want := range map[string]string{
		"MAILTO:ops@example.org":          `contact=mailto:ops@example.org`,
		"HTTPS://Ops.Example.org/rolodav": `contact=https://ops.example.org/rolodav`,
	} {
		d := start(t, t.TempDir(), "--push-contact", contact)
		for end := time.Now().Add(10 * time.Second); !strings.Contains(d.log(), "WebDAV-Push is on") && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(d.log(), want) {
			t.Errorf("--push-contact %q: the log does not say %s:\n%s", contact, want, d.log())
		}
	}
}

// rolodav push rotate-key: a registered device gets the draft's key
// rotation message (no topic, a property update of transports) signed
// with the old key, and keeps getting messages signed with it; the
// server advertises the new key, and a device that registers again gets
// messages signed with that.
func TestPushRotateKey(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	pushUsers(t, data, "alice")
	d := pushServe(t, data)
	const book = "/dav/addressbooks/alice/contacts/"
	ps := pushtest.Start(t)
	sub := ps.Subscribe(t)
	mustRegister(t, d, "alice", book, sub)
	old := propfindPush(t, d, "alice", book).vapid

	out, errOut, code := cli(t, "", "push", "rotate-key", "--data", data)
	if code != 0 || !strings.Contains(out, "new VAPID public key: ") {
		t.Fatalf("push rotate-key: exit %d\n%s%s", code, out, errOut)
	}
	newKey := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(out, "new VAPID public key: "), "\n", 2)[0])
	if newKey == old || newKey == "" {
		t.Fatalf("new key %q, old %q", newKey, old)
	}
	m := ps.WaitFor(t, sub, 1, pushArrive)[0] // the command line queues; the server's poll sends
	pm, err := pushtest.Parse(m.Body)
	if m.Err != nil || err != nil || !pm.Transports || pm.Topic != "" || pm.Content || m.VAPIDKey != old {
		t.Fatalf("rotation message: %+v (err %v, %v), signed with %s, old key %s", pm, m.Err, err, m.VAPIDKey, old)
	}
	// Until it registers again, the device's messages are signed with the
	// key its subscription is bound to.
	if code, _, _ := d.req(t, "PUT", book+"a.vcf", "alice", "alice password", vcard("a")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	if m := ps.WaitFor(t, sub, 2, pushArrive)[1]; m.Err != nil || m.VAPIDKey != old {
		t.Fatalf("after the rotation: signed with %s, want the old %s (%v)", m.VAPIDKey, old, m.Err)
	}
	// A restarted server advertises the new key at once (a running one
	// within a minute); registering again binds to it.
	d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.done
	d = pushServe(t, data)
	if got := propfindPush(t, d, "alice", book).vapid; got != newKey {
		t.Fatalf("advertised key %s, want the new %s", got, newKey)
	}
	fresh := ps.Subscribe(t)
	mustRegister(t, d, "alice", book, fresh)
	if code, _, _ := d.req(t, "PUT", book+"b.vcf", "alice", "alice password", vcard("b")); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	if m := ps.WaitFor(t, fresh, 1, pushArrive)[0]; m.Err != nil || m.VAPIDKey != newKey {
		t.Fatalf("a new registration's message: signed with %s, want %s (%v)", m.VAPIDKey, newKey, m.Err)
	}
}
