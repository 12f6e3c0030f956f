// Command davbench measures a real `rolodav serve` process the way clients
// load it: it builds the binary, fills an address book over HTTP and times
// the requests phones and desktops send, then reports the server's peak
// memory. Usage: go run ./cmd/davbench [--cards 10000] [--writers 4]
package main

import (
	"cmp"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/loadtest"
	"github.com/rolodav/rolodav/internal/push"
)

const (
	login    = "bench@example.org"
	password = "bench password"
)

func main() {
	cards := flag.Int("cards", 10000, "cards in the address book")
	writers := flag.Int("writers", 4, "concurrent PUT clients")
	binary := flag.String("binary", "", "rolodav binary to run (default: build ./cmd/rolodav)")
	db := flag.String("database", "", "database for the server (an empty postgres://… database, say; default: SQLite in a temporary directory)")
	pushMode := flag.String("push", "on", "WebDAV-Push: off (serve --push=false), on (no device registered), or N: N devices registered on the book, each PUT a message to a local push service")
	pushSpacing := flag.Duration("push-spacing", 0, "serve --push-spacing (default: the server's); with --push N, a small one makes the latency phase short")
	latency := flag.Int("push-latency", 0, "with --push N: time this many single PUTs, one at a time, from the PUT to its message at the push service")
	flag.Parse()
	if err := run(*cards, *writers, *binary, *db, *pushMode, *pushSpacing, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "davbench:", err)
		os.Exit(1)
	}
}

func run(cards, writers int, binary, database, pushMode string, pushSpacing time.Duration, latency int) error {
	devices, serveArgs, err := pushArgs(pushMode)
	if err != nil {
		return err
	}
	if pushSpacing > 0 {
		serveArgs = append(serveArgs, "--push-spacing", pushSpacing.String())
	}
	srv, err := loadtest.StartOn(binary, database, login, password, serveArgs...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	c := srv.Client(writers * 2)
	const book = "/dav/addressbooks/" + login + "/contacts/"
	var ps *pushService
	if devices > 0 {
		if ps, err = startPushService(); err != nil {
			return err
		}
		defer ps.Close()
		if err := ps.register(c, book, devices); err != nil {
			return err
		}
	}

	fmt.Printf("rolodav benchmark: %d cards, %d writers, %s, push %s\n\n", cards, writers, loadtest.Engine(database), pushMode)
	fmt.Printf("%-44s %12s %14s\n", "phase", "time", "rate / size")

	names := make([]string, cards)
	for i := range names {
		names[i] = fmt.Sprintf("card-%06d.vcf", i)
	}
	d, err := loadtest.Parallel(cards, writers, func(i int) error {
		return c.Put(book+names[i], vcardType, genCard(rand.New(rand.NewSource(int64(i))), i))
	})
	if err != nil {
		return err
	}
	report(fmt.Sprintf("PUT %d cards (%d writers)", cards, writers), d, fmt.Sprintf("%.0f PUT/s", float64(cards)/d.Seconds()))
	if ps != nil {
		ps.report(devices)
		if latency > 0 {
			if err := ps.latency(c, book, latency, cmp.Or(pushSpacing, push.DefaultSpacing)+50*time.Millisecond); err != nil {
				return err
			}
		}
	}
	peak, _ := srv.Memory()
	fmt.Printf("%-44s %27s\n", "  server peak memory so far (incl. argon2)", peak)
	srv.ResetPeak()

	body, d, err := c.Do("PROPFIND", book, `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>`, "Depth: 1")
	if err != nil {
		return err
	}
	report("PROPFIND Depth 1 (getetag, getcontenttype)", d, loadtest.MB(int64(len(body))))

	body, d, err = c.Do("REPORT", book, syncReq(""), "Depth: 1")
	if err != nil {
		return err
	}
	report("sync-collection, initial (getetag)", d, loadtest.MB(int64(len(body))))
	token := tokenRE.FindStringSubmatch(string(body))
	if token == nil {
		return fmt.Errorf("no sync token in the initial sync")
	}

	for _, batch := range []int{10, 100} {
		start := time.Now()
		for i := 0; i < cards; i += batch {
			if _, _, err := c.Do("REPORT", book, multigetReq(book, names[i:min(i+batch, cards)]), "Depth: 1"); err != nil {
				return err
			}
		}
		d := time.Since(start)
		reqs := (cards + batch - 1) / batch
		report(fmt.Sprintf("multiget all, batches of %d (%d requests)", batch, reqs), d,
			fmt.Sprintf("%.2f ms/req", float64(d.Microseconds())/1000/float64(reqs)))
	}

	rng := rand.New(rand.NewSource(99))
	for i := 0; i < 10; i++ {
		n := rng.Intn(cards)
		if err := c.Put(book+names[n], vcardType, genCard(rng, n)); err != nil {
			return err
		}
	}
	body, d, err = c.Do("REPORT", book, syncReq(token[1]), "Depth: 1")
	if err != nil {
		return err
	}
	report("sync-collection after 10 changes", d, fmt.Sprintf("%d members", strings.Count(string(body), "<D:response>")))

	q := `<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>` +
		`<C:filter><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">müller</C:text-match></C:prop-filter></C:filter></C:addressbook-query>`
	body, d, err = c.Do("REPORT", book, q, "Depth: 1")
	if err != nil {
		return err
	}
	report("addressbook-query text-match FN contains", d, fmt.Sprintf("%d matches", strings.Count(string(body), "<D:response>")))

	peak, now := srv.Memory()
	fmt.Printf("\nserver peak memory during the reads (VmHWM) %s, resident now %s\n", peak, now)
	return nil
}

const vcardType = "text/vcard; charset=utf-8"

func report(phase string, d time.Duration, extra string) {
	fmt.Printf("%-44s %12s %14s\n", phase, d.Round(time.Millisecond), extra)
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
