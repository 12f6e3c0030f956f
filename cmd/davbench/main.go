// Command davbench measures a real `rolodav serve` process the way clients
// load it: it builds the binary, fills an address book over HTTP and times
// the requests phones and desktops send, then reports the server's peak
// memory. Usage: go run ./cmd/davbench [--cards 10000] [--writers 4]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	login    = "bench@example.org"
	password = "bench password"
)

func main() {
	cards := flag.Int("cards", 10000, "cards in the address book")
	writers := flag.Int("writers", 4, "concurrent PUT clients")
	binary := flag.String("binary", "", "rolodav binary to run (default: build ./cmd/rolodav)")
	flag.Parse()
	if err := run(*cards, *writers, *binary); err != nil {
		fmt.Fprintln(os.Stderr, "davbench:", err)
		os.Exit(1)
	}
}

func run(cards, writers int, binary string) error {
	dir, err := os.MkdirTemp("", "davbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if binary == "" {
		binary = filepath.Join(dir, "rolodav")
		if out, err := exec.Command("go", "build", "-o", binary, "./cmd/rolodav").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	add := exec.Command(binary, "user", "add", login, "--data", data, "--password-stdin")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("user add: %v\n%s", err, out)
	}
	srv, base, err := startServer(binary, data)
	if err != nil {
		return err
	}
	defer srv.Process.Kill()
	b := &bench{base: base, book: "/dav/addressbooks/" + login + "/contacts/", client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: writers * 2},
	}}

	fmt.Printf("rolodav benchmark: %d cards, %d writers, SQLite\n\n", cards, writers)
	fmt.Printf("%-44s %12s %14s\n", "phase", "time", "rate / size")

	names := make([]string, cards)
	for i := range names {
		names[i] = fmt.Sprintf("card-%06d.vcf", i)
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for {
				i := int(next.Add(1) - 1)
				if i >= cards {
					return
				}
				if err := b.put(names[i], genCard(rng, i)); err != nil {
					errc <- err
					return
				}
			}
		}(int64(w))
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	d := time.Since(start)
	report(fmt.Sprintf("PUT %d cards (%d writers)", cards, writers), d, fmt.Sprintf("%.0f PUT/s", float64(cards)/d.Seconds()))
	hwm, _ := memory(srv.Process.Pid)
	fmt.Printf("%-44s %27s\n", "  server peak memory so far (incl. argon2)", hwm)
	// Reset the peak so what follows measures the read path alone.
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", srv.Process.Pid), []byte("5"), 0)

	body, d, err := b.do("PROPFIND", b.book, `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>`, "Depth: 1")
	if err != nil {
		return err
	}
	report("PROPFIND Depth 1 (getetag, getcontenttype)", d, size(len(body)))

	body, d, err = b.do("REPORT", b.book, syncReq(""), "Depth: 1")
	if err != nil {
		return err
	}
	report("sync-collection, initial (getetag)", d, size(len(body)))
	token := tokenRE.FindStringSubmatch(string(body))
	if token == nil {
		return fmt.Errorf("no sync token in the initial sync")
	}

	for _, batch := range []int{10, 100} {
		start := time.Now()
		total := 0
		for i := 0; i < cards; i += batch {
			end := min(i+batch, cards)
			body, _, err := b.do("REPORT", b.book, multigetReq(b.book, names[i:end]), "Depth: 1")
			if err != nil {
				return err
			}
			total += len(body)
		}
		d := time.Since(start)
		reqs := (cards + batch - 1) / batch
		report(fmt.Sprintf("multiget all, batches of %d (%d requests)", batch, reqs), d,
			fmt.Sprintf("%.2f ms/req", float64(d.Microseconds())/1000/float64(reqs)))
	}

	rng := rand.New(rand.NewSource(99))
	for i := 0; i < 10; i++ {
		n := rng.Intn(cards)
		if err := b.put(names[n], genCard(rng, n)); err != nil {
			return err
		}
	}
	body, d, err = b.do("REPORT", b.book, syncReq(token[1]), "Depth: 1")
	if err != nil {
		return err
	}
	report("sync-collection after 10 changes", d, fmt.Sprintf("%d members", strings.Count(string(body), "<D:response>")))

	q := `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>` +
		`<C:filter><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">müller</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`
	body, d, err = b.do("REPORT", b.book, q, "Depth: 1")
	if err != nil {
		return err
	}
	report("addressbook-query text-match FN contains", d, fmt.Sprintf("%d matches", strings.Count(string(body), "<D:response>")))

	hwm, rss := memory(srv.Process.Pid)
	fmt.Printf("\nserver peak memory during the reads (VmHWM) %s, resident now %s\n", hwm, rss)
	return nil
}

func report(phase string, d time.Duration, extra string) {
	fmt.Printf("%-44s %12s %14s\n", phase, d.Round(time.Millisecond), extra)
}

func size(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

var listenRE = regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)/dav/`)

func startServer(binary, data string) (*exec.Cmd, string, error) {
	cmd := exec.Command(binary, "serve", "--data", data, "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return cmd, u, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("server did not start")
	}
}

type bench struct {
	base, book string
	client     *http.Client
}

func (b *bench) do(method, path, body string, hdr ...string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, b.base+path, strings.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.SetBasicAuth(login, password)
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode >= 300 {
		return nil, 0, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out, d, nil
}

func (b *bench) put(name string, card []byte) error {
	req, err := http.NewRequest("PUT", b.base+b.book+name, bytes.NewReader(card))
	if err != nil {
		return err
	}
	req.SetBasicAuth(login, password)
	req.Header.Set("Content-Type", "text/vcard; charset=utf-8")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 && resp.StatusCode != 204 {
		return fmt.Errorf("PUT %s: %d", name, resp.StatusCode)
	}
	return nil
}

var tokenRE = regexp.MustCompile(`<D:sync-token>([^<]+)</D:sync-token>`)

func syncReq(token string) string {
	return `<D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token + `</D:sync-token><D:sync-level>1</D:sync-level>` +
		`<D:prop><D:getetag/></D:prop></D:sync-collection>`
}

func multigetReq(book string, names []string) string {
	var sb strings.Builder
	sb.WriteString(`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>`)
	for _, n := range names {
		sb.WriteString("<D:href>" + book + n + "</D:href>")
	}
	sb.WriteString("</C:addressbook-multiget>")
	return sb.String()
}

var (
	given  = []string{"Anna", "Jürgen", "Zoë", "Mohammed", "Li", "José", "Olga", "Peter", "Aiko", "Fatima", "John", "Marie"}
	family = []string{"Müller", "Smith", "García", "Nguyen", "Kowalski", "Ångström", "Rossi", "Dubois", "Tanaka", "Okafor"}
)

// genCard makes a realistic card of about 400–600 bytes.
func genCard(rng *rand.Rand, i int) []byte {
	g, f := given[rng.Intn(len(given))], family[rng.Intn(len(family))]
	var sb strings.Builder
	fmt.Fprintf(&sb, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-%06d\r\nFN:%s %s\r\nN:%s;%s;;;\r\n", i, g, f, f, g)
	fmt.Fprintf(&sb, "EMAIL;TYPE=INTERNET,HOME:%s.%s%d@example.org\r\n", strings.ToLower(g), strings.ToLower(f), i)
	fmt.Fprintf(&sb, "TEL;TYPE=CELL:+49 151 %07d\r\nTEL;TYPE=WORK:+49 30 %07d\r\n", rng.Intn(1e7), rng.Intn(1e7))
	fmt.Fprintf(&sb, "ADR;TYPE=HOME:;;Hauptstraße %d;Berlin;;10115;Germany\r\nORG:Example GmbH\r\nTITLE:Engineer\r\n", rng.Intn(200))
	fmt.Fprintf(&sb, "NOTE:Met at the conference in %d. Likes coffee.\r\nREV:2026-11-22T10:00:00Z\r\nEND:VCARD\r\n", 2000+rng.Intn(26))
	return []byte(sb.String())
}

// memory reads the server's peak and current resident size from /proc.
func memory(pid int) (hwm, rss string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?", "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
	}
	return hwm, rss
}
