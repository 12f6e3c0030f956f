package main_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
)

// twoServers starts two `rolodav serve` processes on one new PostgreSQL
// database, with user frank.
func twoServers(t *testing.T) (db string, a, b *daemon) {
	t.Helper()
	return twoServersWith(t)
}

// twoServersWith is twoServers with extra serve flags.
func twoServersWith(t *testing.T, extra ...string) (db string, a, b *daemon) {
	t.Helper()
	db = pgtest.URL(t)
	if _, errOut, code := cli(t, "frank password\n", "user", "add", "frank", "--database", db, "--password-stdin"); code != 0 {
		t.Fatal(errOut)
	}
	args := append([]string{"--database", db}, extra...)
	a = start(t, t.TempDir(), args...)
	b = start(t, t.TempDir(), args...)
	return db, a, b
}

const frankBook = "/dav/addressbooks/frank/contacts/"

// syncState is what one sync-collection answered: the token, and per
// href its ETag, or "" for a deletion.
type syncState struct {
	token string
	items map[string]string
}

func syncCollection(t *testing.T, d *daemon, token string) (syncState, error) {
	body := fmt.Sprintf(`<D:sync-collection xmlns:D="DAV:"><D:sync-token>%s</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`, token)
	req, _ := http.NewRequest("REPORT", d.url+frankBook, strings.NewReader(body))
	req.SetBasicAuth("frank", "frank password")
	req.Header.Set("Content-Type", "application/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return syncState{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return syncState{}, fmt.Errorf("sync-collection: %d", resp.StatusCode)
	}
	var ms struct {
		Token     string `xml:"sync-token"`
		Responses []struct {
			Href   string `xml:"href"`
			Status string `xml:"status"`
			ETag   string `xml:"propstat>prop>getetag"`
		} `xml:"response"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&ms); err != nil {
		return syncState{}, err
	}
	st := syncState{token: ms.Token, items: map[string]string{}}
	for _, r := range ms.Responses {
		name := strings.TrimPrefix(r.Href, frankBook)
		if _, dup := st.items[name]; dup {
			return syncState{}, fmt.Errorf("sync lists %s twice", name)
		}
		if strings.Contains(r.Status, "404") {
			st.items[name] = ""
		} else {
			st.items[name] = strings.Trim(r.ETag, `"`)
		}
	}
	return st, nil
}

// A card written through one server is in the other's next sync.
func TestTwoServersShareChanges(t *testing.T) {
	_, a, b := twoServers(t)
	before, err := syncCollection(t, b, "")
	if err != nil {
		t.Fatal(err)
	}
	code, hdr, _ := a.req(t, "PUT", frankBook+"ann.vcf", "frank", "frank password", vcard("ann"))
	if code != 201 {
		t.Fatalf("PUT through A: %d", code)
	}
	after, err := syncCollection(t, b, before.token)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after.items["ann.vcf"], strings.Trim(hdr.Get("ETag"), `"`); len(after.items) != 1 || got != want {
		t.Fatalf("B's sync after A's PUT: %v, want ann.vcf with ETag %s", after.items, want)
	}
	// And back: B deletes, A's next sync says so.
	if code, _, _ := b.req(t, "DELETE", frankBook+"ann.vcf", "frank", "frank password", ""); code != 204 {
		t.Fatalf("DELETE through B: %d", code)
	}
	gone, err := syncCollection(t, a, after.token)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := gone.items["ann.vcf"]; !ok || v != "" || len(gone.items) != 1 {
		t.Fatalf("A's sync after B's DELETE: %v", gone.items)
	}
}

// writeLoad runs writers clients, each on one of servers in turn, until
// stop is closed: each creates cards of its own, replaces some with
// If-Match and deletes some. It returns the state every acknowledged write
// leaves: name → ETag (deleted names absent).
type writeLoad struct {
	prefix string // of the card names, unique per load
	// unknown holds the names of requests that got no answer (the server
	// died): they may or may not have been written.
	unknown map[string]bool
	errs    []string // unexpected answers
	mu      sync.Mutex
	state   map[string]string // acknowledged: name → ETag, "" = deleted
	acks    int
}

func (l *writeLoad) run(servers []*daemon, writers int, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	do := func(d *daemon, method, name, body string, hdr ...string) (int, string, error) {
		req, _ := http.NewRequest(method, d.url+frankBook+name, strings.NewReader(body))
		req.SetBasicAuth("frank", "frank password")
		for _, h := range hdr {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		resp.Body.Close()
		return resp.StatusCode, strings.Trim(resp.Header.Get("ETag"), `"`), nil
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := servers[w%len(servers)]
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []string // live names of this writer, with ETags in l.state
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch r := rng.IntN(10); {
				case r < 2 && len(mine) > 0: // replace one with If-Match
					name := mine[rng.IntN(len(mine))]
					l.mu.Lock()
					etag := l.state[name]
					l.mu.Unlock()
					uid := strings.TrimSuffix(name, ".vcf")
					code, newTag, err := do(d, "PUT", name, strings.Replace(vcard(uid), "END:VCARD", "NOTE:"+fmt.Sprint(i)+"\r\nEND:VCARD", 1), `If-Match: "`+etag+`"`)
					if err != nil {
						l.lost(name)
						return // the server is gone
					}
					if code != 204 {
						l.fail(fmt.Sprintf("If-Match PUT of %s: %d", name, code))
						return
					}
					l.ack(name, newTag)
				case r < 3 && len(mine) > 0: // delete one
					k := rng.IntN(len(mine))
					name := mine[k]
					code, _, err := do(d, "DELETE", name, "")
					if err != nil {
						l.lost(name)
						return
					}
					if code != 204 {
						l.fail(fmt.Sprintf("DELETE of %s: %d", name, code))
						return
					}
					mine = append(mine[:k], mine[k+1:]...)
					l.ack(name, "")
				default: // create
					uid := fmt.Sprintf("%sw%d-%d", l.prefix, w, i)
					code, etag, err := do(d, "PUT", uid+".vcf", vcard(uid), "If-None-Match: *")
					if err != nil {
						l.lost(uid + ".vcf")
						return
					}
					if code != 201 {
						l.fail(fmt.Sprintf("create %s: %d", uid, code))
						return
					}
					mine = append(mine, uid+".vcf")
					l.ack(uid+".vcf", etag)
				}
			}
		}()
	}
	return &wg
}

// fail records an answer the load did not expect; the writer stops.
func (l *writeLoad) fail(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, msg)
}

// check fails t for every unexpected answer.
func (l *writeLoad) check(t *testing.T) {
	t.Helper()
	for _, e := range l.errs {
		t.Error(e)
	}
}

func (l *writeLoad) lost(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unknown == nil {
		l.unknown = map[string]bool{}
	}
	l.unknown[name] = true
}

func (l *writeLoad) ack(name, etag string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		l.state = map[string]string{}
	}
	l.state[name] = etag
	l.acks++
}

// count is how many writes were acknowledged so far.
func (l *writeLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acks
}

// live is the acknowledged state without deletions.
func (l *writeLoad) live() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for k, v := range l.state {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func sameState(t *testing.T, what string, got, want map[string]string, unknown ...map[string]bool) {
	t.Helper()
	for _, u := range unknown {
		for k := range u {
			delete(got, k)
			delete(want, k)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s has ETag %q, want %q", what, k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s was never acknowledged, or was deleted", what, k)
		}
	}
}

// Eight writers split across two servers for 10 s: nothing acknowledged is
// lost, and a client that syncs incrementally during the load, from either
// server in turn, ends with exactly the acknowledged state.
func TestTwoServersConcurrentWriters(t *testing.T) {
	_, a, b := twoServers(t)
	initial, err := syncCollection(t, a, "")
	if err != nil {
		t.Fatal(err)
	}
	var load writeLoad
	stop := make(chan struct{})
	wg := load.run([]*daemon{a, b}, 8, stop)

	// A phone syncing every 300 ms, from A and B in turn.
	phone := map[string]string{}
	token := initial.token
	syncs := 0
	apply := func(d *daemon) {
		st, err := syncCollection(t, d, token)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range st.items {
			if v == "" {
				delete(phone, k)
			} else {
				phone[k] = v
			}
		}
		token = st.token
		syncs++
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		apply([]*daemon{a, b}[syncs%2])
		time.Sleep(300 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	load.check(t)
	if len(load.unknown) > 0 {
		t.Fatalf("requests failed without an answer: %v", load.unknown)
	}
	want := load.live()
	apply(a)
	sameState(t, "incremental syncs", phone, want)
	for _, d := range []*daemon{a, b} {
		full, err := syncCollection(t, d, "")
		if err != nil {
			t.Fatal(err)
		}
		sameState(t, "full sync of "+d.url, full.items, want)
	}
	// Each writer's own sync from the token it held when the load began,
	// through the server it wrote to: the deletions of cards it never
	// had are listed too, the rest is exactly what was acknowledged.
	for w := range 8 {
		d := []*daemon{a, b}[w%2]
		st, err := syncCollection(t, d, initial.token)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range st.items {
			if v == "" {
				delete(st.items, k)
			}
		}
		sameState(t, fmt.Sprintf("writer %d's final sync", w), st.items, want)
	}
	t.Logf("%d acknowledged writes, %d live cards, %d incremental syncs", load.acks, len(want), syncs)
	if load.acks < 100 {
		t.Errorf("only %d writes in 10 s", load.acks)
	}
}

// kill -9 of one server in the middle of the load loses no acknowledged
// write, and the other goes on serving.
func TestTwoServersKillOne(t *testing.T) {
	_, a, b := twoServers(t)
	onA, onB := writeLoad{prefix: "a-"}, writeLoad{prefix: "b-"}
	stop := make(chan struct{})
	wgA := onA.run([]*daemon{a}, 4, stop)
	wgB := onB.run([]*daemon{b}, 4, stop)
	// Kill A once it has acknowledged a good number of writes (the race
	// detector makes the first sign-ins slow), with more on their way.
	deadline := time.Now().Add(60 * time.Second)
	for onA.count() < 100 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	wgA.Wait() // A's writers stop at their first failed request
	atKill := onB.count()
	time.Sleep(2 * time.Second)
	close(stop)
	wgB.Wait()
	onA.check(t)
	onB.check(t)
	if onA.acks < 100 {
		t.Fatalf("A acknowledged only %d writes before kill -9", onA.acks)
	}
	if onB.acks <= atKill {
		t.Fatalf("B acknowledged nothing after A was killed (%d before, %d after)", atKill, onB.acks)
	}
	want := onA.live()
	for k, v := range onB.live() {
		want[k] = v
	}
	full, err := syncCollection(t, b, "")
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "B after A's kill", full.items, want, onA.unknown)
	t.Logf("A acknowledged %d writes before kill -9 (%d in flight), B %d (%d after)", onA.acks, len(onA.unknown), onB.acks, onB.acks-atKill)
}

var appPasswordRE = regexp.MustCompile(`<code id="new-app-password" class="secret">([^<]+)</code>`)
var revokeRE = regexp.MustCompile(`href="(/account/passwords/\d+/revoke)"`)

// An app password revoked through A is refused by B at once; so is a
// password changed on the command line, and the web sessions it ends.
func TestTwoServersRevocation(t *testing.T) {
	db, a, b := twoServers(t)
	web, csrf := webClient(t, a, "frank", "frank password", "/account/passwords")
	resp, err := web.PostForm(a.url+"/account/passwords", url.Values{"name": {"phone"}, "csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	m := appPasswordRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no app password shown: %d\n%s", resp.StatusCode, body)
	}
	phone := m[1]
	for _, d := range []*daemon{b, a, b} {
		if code, _, _ := d.req(t, "PROPFIND", frankBook, "frank", phone, "", "Depth: 0"); code != 207 {
			t.Fatalf("app password on %s: %d", d.url, code)
		}
	}
	resp, err = web.Get(a.url + "/account/passwords")
	if err != nil {
		t.Fatal(err)
	}
	list := readBody(t, resp)
	rv := revokeRE.FindStringSubmatch(list)
	tok := csrfRE.FindStringSubmatch(list)
	if rv == nil || tok == nil {
		t.Fatalf("no revoke form:\n%s", list)
	}
	resp, err = web.PostForm(a.url+rv[1], url.Values{"csrf": {tok[1]}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if code, _, _ := b.req(t, "PROPFIND", frankBook, "frank", phone, "", "Depth: 0"); code != 401 {
		t.Fatalf("revoked app password on B: %d, want 401", code)
	}

	// The session signed in on A opens B's pages (cookies are per host,
	// not per port).
	if code := pageStatus(t, web, b.url+"/account/passwords"); code != 200 {
		t.Fatalf("A's session on B: %d", code)
	}
	// The account password, changed on the command line, stops working on
	// B at once, though B verified the old one a moment ago; the change
	// ends the sessions, on B too.
	if code, _, _ := b.req(t, "PROPFIND", frankBook, "frank", "frank password", "", "Depth: 0"); code != 207 {
		t.Fatalf("password on B: %d", code)
	}
	if _, errOut, code := cli(t, "new frank password\n", "user", "passwd", "frank", "--database", db, "--password-stdin"); code != 0 {
		t.Fatal(errOut)
	}
	if code := pageStatus(t, web, b.url+"/account/passwords"); code != http.StatusSeeOther {
		t.Fatalf("ended session on B: %d, want a redirect to sign in", code)
	}
	if code, _, _ := b.req(t, "PROPFIND", frankBook, "frank", "frank password", "", "Depth: 0"); code != 401 {
		t.Fatalf("old password on B after the change: %d, want 401", code)
	}
	if code, _, _ := b.req(t, "PROPFIND", frankBook, "frank", "new frank password", "", "Depth: 0"); code != 207 {
		t.Fatalf("new password on B: %d", code)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pageStatus is the status of GET u, redirects not followed.
func pageStatus(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	return resp.StatusCode
}

// A phone that synced with the SQLite server, moved to PostgreSQL with
// `store copy`, gets only what changed after its last sync, with the
// ETags it knows for the rest; its app password still works.
func TestStoreCopyKeepsSyncTokens(t *testing.T) {
	data := t.TempDir()
	if _, errOut, code := cli(t, "frank password\n", "user", "add", "frank", "--data", data, "--password-stdin"); code != 0 {
		t.Fatal(errOut)
	}
	old := start(t, data)
	web, csrf := webClient(t, old, "frank", "frank password", "/account/passwords")
	resp, err := web.PostForm(old.url+"/account/passwords", url.Values{"name": {"phone"}, "csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	m := appPasswordRE.FindStringSubmatch(readBody(t, resp))
	if m == nil {
		t.Fatal("no app password shown")
	}
	phone := m[1]
	for _, n := range []string{"ann", "bob", "cat"} {
		if code, _, _ := old.req(t, "PUT", frankBook+n+".vcf", "frank", phone, vcard(n)); code != 201 {
			t.Fatalf("PUT %s: %d", n, code)
		}
	}
	synced, err := syncCollection(t, old, "")
	if err != nil {
		t.Fatal(err)
	}
	// After the phone's sync: one new card, one changed, one deleted.
	old.req(t, "PUT", frankBook+"dan.vcf", "frank", phone, vcard("dan"))
	_, hdr, _ := old.req(t, "PUT", frankBook+"bob.vcf", "frank", phone, strings.Replace(vcard("bob"), "END:VCARD", "NOTE:moved\r\nEND:VCARD", 1))
	old.req(t, "DELETE", frankBook+"cat.vcf", "frank", phone, "")
	dan, err := syncCollection(t, old, synced.token)
	if err != nil {
		t.Fatal(err)
	}
	old.cmd.Process.Signal(syscall.SIGTERM)
	<-old.done

	db := pgtest.URL(t)
	out, errOut, code := cli(t, "", "store", "copy", "--from", "sqlite:"+data, "--to", db)
	if code != 0 {
		t.Fatalf("store copy: %d\n%s%s", code, out, errOut)
	}
	d := start(t, t.TempDir(), "--database", db)
	got, err := syncCollection(t, d, synced.token)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"dan.vcf": dan.items["dan.vcf"], "bob.vcf": strings.Trim(hdr.Get("ETag"), `"`), "cat.vcf": ""}
	if fmt.Sprint(got.items) != fmt.Sprint(want) {
		t.Fatalf("the phone's sync on PostgreSQL: %v, want only the later changes %v", got.items, want)
	}
	if got.token != dan.token {
		t.Errorf("sync token on PostgreSQL %s, on SQLite %s", got.token, dan.token)
	}
	if code, _, _ := d.req(t, "PUT", frankBook+"eve.vcf", "frank", phone, vcard("eve")); code != 201 {
		t.Fatalf("the phone's app password on PostgreSQL: %d", code)
	}
	next, err := syncCollection(t, d, got.token)
	if err != nil || len(next.items) != 1 || next.items["eve.vcf"] == "" {
		t.Fatalf("next sync: %v %v", next.items, err)
	}
}

// Two servers started at once on an empty database both start; one of
// them creates the admin user and prints its password.
func TestTwoServersFirstStart(t *testing.T) {
	for round := range 3 {
		db := pgtest.URL(t)
		a, foundA := spawn(t, t.TempDir(), "--database", db)
		b, foundB := spawn(t, t.TempDir(), "--database", db)
		a.await(t, foundA)
		b.await(t, foundB)
		printed := 0
		for _, d := range []*daemon{a, b} {
			if passwordRE.MatchString(d.stdout.String()) {
				printed++
			}
		}
		if printed != 1 {
			t.Fatalf("round %d: %d servers printed an admin password, want 1", round, printed)
		}
	}
}
