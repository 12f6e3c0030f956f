package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rolodav/rolodav/internal/loadtest"
	"github.com/rolodav/rolodav/internal/store"
)

// pushArgs reads --push: off, on, or a number of devices to register.
func pushArgs(mode string) (devices int, serveArgs []string, err error) {
	switch mode {
	case "off":
		return 0, []string{"--push=false"}, nil
	case "on":
		return 0, nil, nil
	}
	n, err := strconv.Atoi(mode)
	if err != nil || n < 1 {
		return 0, nil, fmt.Errorf("--push %q: off, on or a number of devices", mode)
	}
	if n > store.MaxPushRegistrationsPerTarget {
		return 0, nil, fmt.Errorf("--push %d: at most %d devices may register on one address book", n, store.MaxPushRegistrationsPerTarget)
	}
	// The push service below listens on loopback, and its messages need a
	// contact for their VAPID signature.
	return n, []string{"--push-allow-private", "--push-contact", "mailto:bench@example.org"}, nil
}

// pushService stands in for the push services of the devices: it takes
// every message (201) without decrypting it, so that what is measured is
// the server's side.
type pushService struct {
	ln       net.Listener
	srv      *http.Server
	messages atomic.Int64
	arrived  chan struct{} // one per message, for the latency phase
}

func startPushService() (*pushService, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ps := &pushService{ln: ln, arrived: make(chan struct{}, 1<<16)}
	ps.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.messages.Add(1)
		select {
		case ps.arrived <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusCreated)
	})}
	go func() { _ = ps.srv.Serve(ln) }()
	return ps, nil
}

func (ps *pushService) Close() { _ = ps.srv.Close() }

// register makes n devices register a subscription on book, as DAVx5
// does.
func (ps *pushService) register(c *loadtest.Client, book string, n int) error {
	for i := range n {
		key, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		auth := make([]byte, 16)
		if _, err := rand.Read(auth); err != nil {
			return err
		}
		body := `<?xml version="1.0" encoding="UTF-8"?>` +
			`<push-register xmlns="https://bitfire.at/webdav-push"><subscription><web-push-subscription>` +
			`<push-resource>http://` + ps.ln.Addr().String() + `/device-` + strconv.Itoa(i) + `</push-resource>` +
			`<subscription-public-key type="p256dh">` + base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()) + `</subscription-public-key>` +
			`<auth-secret>` + base64.RawURLEncoding.EncodeToString(auth) + `</auth-secret>` +
			`</web-push-subscription></subscription></push-register>`
		if _, _, err := c.Do("POST", book, body, "Content-Type: application/xml; charset=utf-8"); err != nil {
			return fmt.Errorf("register push device %d: %w", i, err)
		}
	}
	return nil
}

// report waits for the messages to settle and says how many the PUTs
// caused: bursts coalesce, so far fewer than one per PUT.
func (ps *pushService) report(devices int) {
	for prev := int64(-1); prev != ps.messages.Load(); {
		prev = ps.messages.Load()
		time.Sleep(4 * time.Second) // beyond the default spacing and poll
	}
	fmt.Printf("%-44s %27d\n", fmt.Sprintf("  push messages to %d devices", devices), ps.messages.Load())
}

// latency PUTs n cards one at a time and times each from the start of
// its PUT to the first message at the push service after it (every
// registered device gets one; the first to arrive counts). spacing is
// waited out between PUTs, so that each message is one PUT's, not a
// coalesced burst's.
func (ps *pushService) latency(c *loadtest.Client, book string, n int, spacing time.Duration) error {
	time.Sleep(spacing)
	for len(ps.arrived) > 0 {
		<-ps.arrived
	}
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		card := fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:push-%d\r\nFN:Push %d\r\nN:%d;Push;;;\r\nEND:VCARD\r\n", i, i, i)
		if err := c.Put(fmt.Sprintf("%spush-%d.vcf", book, i), "text/vcard; charset=utf-8", []byte(card)); err != nil {
			return err
		}
		select {
		case <-ps.arrived:
			ds = append(ds, time.Since(start))
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no push message within 30 s of PUT %d", i)
		}
		time.Sleep(spacing)
		for len(ps.arrived) > 0 {
			<-ps.arrived
		}
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	fmt.Printf("%-44s %27s\n", fmt.Sprintf("  PUT to push message (%d PUTs)", n),
		fmt.Sprintf("median %.1f ms, p99 %.1f ms", float64(q(0.5).Microseconds())/1000, float64(q(0.99).Microseconds())/1000))
	return nil
}
