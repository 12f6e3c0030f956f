// Package pushtest is a Web Push service (RFC 8030) for tests: a real HTTP
// server on 127.0.0.1 that hands out subscriptions, and for every message
// POSTed to one decrypts it as the user agent would (RFC 8291, aes128gcm),
// verifies its VAPID authorization (RFC 8292), records it and answers as
// the test told it to.
//
// It holds each subscription's private key, so what it records is what
// the client would read. It must not import package push: push's own
// tests use it.
package pushtest

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxBody bounds a request body: push services take at least 4096 bytes
// (RFC 8030 section 7.2) and answer 413 above their limit.
const maxBody = 4096

// tinkRecordSize is the only record size Tink's WebPushHybridDecrypt takes
// unless told another.
const tinkRecordSize = 4096

// Server is a running push service stand-in.
type Server struct {
	URL string // scheme://host:port: the origin of its push resources

	hs *httptest.Server

	mu       sync.Mutex
	subs     map[string]*Subscription
	msgs     []Message
	arrived  chan struct{} // closed and replaced when a message is recorded
	vapidKey string
	delay    time.Duration
	held     int // POSTs waiting out the delay
	peak     int // the most held at once
}

// Subscription is what a user agent registers with an application server:
// the push resource and the keys to encrypt for.
type Subscription struct {
	ID         string
	Resource   string // the push resource URL
	PublicKey  string // the P-256 ECDH public key (p256dh), base64url without padding
	AuthSecret string // the 16-byte authentication secret, base64url without padding

	priv    *ecdh.PrivateKey
	auth    []byte
	replies []Reply // consumed from the first; nil answers 201
	gone    bool
}

// Reply is an answer the server gives instead of 201 Created.
type Reply struct {
	Status     int
	RetryAfter string // the Retry-After header; "" for none
	// Times is how many POSTs get this reply; 0 means every one, until
	// the next Answer.
	Times int
}

// Message is a POST the server received for a subscription.
type Message struct {
	Seq          int    // 1 for the first POST to any subscription
	Subscription string // the ID of the subscription POSTed to
	Received     time.Time
	Status       int // the status the server answered

	Body       []byte // the decrypted message, padding removed
	Size       int    // the length of the encrypted body
	RecordSize int    // the rs of the aes128gcm header

	ContentEncoding, ContentType string
	TTL, Topic, Urgency          string // the headers as sent; "" when absent

	VAPIDKey string // the k of the Authorization header
	Claims   Claims

	// Err says why the message failed verification (its decryption, its
	// headers or its VAPID authorization), or why it was not taken; nil
	// for a message that passed every check.
	Err error
}

// Start starts a server on 127.0.0.1 and closes it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{subs: map[string]*Subscription{}, arrived: make(chan struct{})}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	t.Cleanup(s.hs.Close)
	return s
}

// Subscribe creates a subscription with a fresh key pair and auth secret.
func (s *Server) Subscribe(t testing.TB) *Subscription {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	id := make([]byte, 16)
	rand.Read(auth)
	rand.Read(id)
	enc := base64.RawURLEncoding
	sub := &Subscription{
		ID:         enc.EncodeToString(id),
		PublicKey:  enc.EncodeToString(priv.PublicKey().Bytes()),
		AuthSecret: enc.EncodeToString(auth),
		priv:       priv,
		auth:       auth,
	}
	sub.Resource = s.URL + "/push/" + sub.ID
	s.mu.Lock()
	s.subs[sub.ID] = sub
	s.mu.Unlock()
	return sub
}

// Unsubscribe ends sub: later POSTs to it get 410 Gone, as a user agent's
// unsubscription makes real push services answer.
func (s *Server) Unsubscribe(sub *Subscription) {
	s.mu.Lock()
	s.subs[sub.ID].gone = true
	s.mu.Unlock()
}

// Answer queues r for the next POSTs to sub, after those queued before; a
// reply with Times 0 answers every POST from then on (until the next
// Answer). Answer(sub, Reply{}) makes sub take messages again.
func (s *Server) Answer(sub *Subscription, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub = s.subs[sub.ID]
	if r.Status == 0 {
		sub.replies = nil
		return
	}
	if len(sub.replies) > 0 && sub.replies[len(sub.replies)-1].Times == 0 {
		sub.replies = sub.replies[:len(sub.replies)-1]
	}
	sub.replies = append(sub.replies, r)
}

// ExpectVAPIDKey makes the server refuse (403) messages whose VAPID key is
// not key (base64url); "" accepts any key whose signature verifies.
func (s *Server) ExpectVAPIDKey(key string) {
	s.mu.Lock()
	s.vapidKey = key
	s.mu.Unlock()
}

// SetDelay makes the server wait d before answering each POST (or until
// the client gives up).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Held is how many POSTs are waiting out the delay (SetDelay) now.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Peak is the most POSTs that waited out the delay (SetDelay) at once.
func (s *Server) Peak() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// Messages returns the messages received, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// MessagesTo returns the messages received for sub, in order.
func (s *Server) MessagesTo(sub *Subscription) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return filter(s.msgs, sub)
}

func filter(msgs []Message, sub *Subscription) []Message {
	var out []Message
	for _, m := range msgs {
		if sub == nil || m.Subscription == sub.ID {
			out = append(out, m)
		}
	}
	return out
}

// Wait waits until at least n messages were received, for any
// subscription, and returns them all; it fails the test after timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	return s.wait(t, nil, n, timeout)
}

// WaitFor is Wait for the messages to sub.
func (s *Server) WaitFor(t testing.TB, sub *Subscription, n int, timeout time.Duration) []Message {
	t.Helper()
	return s.wait(t, sub, n, timeout)
}

func (s *Server) wait(t testing.TB, sub *Subscription, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := filter(s.msgs, sub), s.arrived
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("push stand-in: %d of %d messages arrived within %v", len(got), n, timeout)
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := Message{Received: time.Now()}
	id, ok := strings.CutPrefix(r.URL.Path, "/push/")
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "not a push resource", http.StatusNotFound)
		return
	}
	m.Subscription = id
	m.ContentEncoding = r.Header.Get("Content-Encoding")
	m.ContentType = r.Header.Get("Content-Type")
	m.TTL, m.Topic, m.Urgency = r.Header.Get("TTL"), r.Header.Get("Topic"), r.Header.Get("Urgency")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	m.Size = len(body)

	s.mu.Lock()
	sub := s.subs[id]
	var reply Reply
	if sub != nil && len(sub.replies) > 0 {
		reply = sub.replies[0]
		if reply.Times > 0 {
			if reply.Times--; reply.Times == 0 {
				sub.replies = sub.replies[1:]
			} else {
				sub.replies[0].Times = reply.Times
			}
		}
	}
	gone := sub != nil && sub.gone
	wantKey, delay := s.vapidKey, s.delay
	s.mu.Unlock()

	m.Status = http.StatusCreated
	switch {
	case err != nil:
		m.Status, m.Err = http.StatusBadRequest, fmt.Errorf("reading the body: %w", err)
	case sub == nil:
		m.Status, m.Err = http.StatusNotFound, errors.New("no such subscription")
	case len(body) > maxBody:
		m.Status, m.Err = http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxBody)
	default:
		m.Status, m.Err = s.check(r, sub, body, wantKey, &m)
	}
	if gone {
		m.Status = http.StatusGone
	} else if reply.Status != 0 {
		m.Status = reply.Status
		if reply.RetryAfter != "" {
			w.Header().Set("Retry-After", reply.RetryAfter)
		}
	}

	if delay > 0 {
		s.mu.Lock()
		s.held++
		s.peak = max(s.peak, s.held)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.held--
			s.mu.Unlock()
		}()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			if m.Err == nil {
				m.Err = errors.New("the client went away before the answer")
			}
		}
	}
	s.mu.Lock()
	m.Seq = len(s.msgs) + 1
	s.msgs = append(s.msgs, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()

	if m.Status == http.StatusCreated {
		w.Header().Set("Location", s.URL+"/message/"+strconv.Itoa(m.Seq))
		w.WriteHeader(m.Status)
		return
	}
	msg := http.StatusText(m.Status)
	if m.Err != nil {
		msg = m.Err.Error()
	}
	http.Error(w, msg, m.Status)
}

// check verifies a message to sub and fills in m; it returns the status a
// push service would answer and why.
func (s *Server) check(r *http.Request, sub *Subscription, body []byte, wantKey string, m *Message) (int, error) {
	var err error
	m.Body, m.RecordSize, err = decrypt(body, sub.priv, sub.auth)
	if err != nil {
		return http.StatusBadRequest, err
	}
	// Stricter than RFC 8291, as Tink's WebPushHybridDecrypt (what
	// UnifiedPush's connector library decrypts with) is by default: the
	// record size must be 4096, the size it was built with. (Its other
	// check, a body of at most rs bytes, is maxBody.)
	if m.RecordSize != tinkRecordSize {
		return http.StatusBadRequest, fmt.Errorf("record size %d: Tink's decrypter takes %d only", m.RecordSize, tinkRecordSize)
	}
	if m.ContentEncoding != "aes128gcm" {
		return http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q, want aes128gcm", m.ContentEncoding)
	}
	if ttl, err := strconv.Atoi(m.TTL); err != nil || ttl < 0 {
		return http.StatusBadRequest, fmt.Errorf("TTL %q is not a number of seconds (RFC 8030 section 5.2)", m.TTL)
	}
	if len(m.Topic) > 32 || strings.Trim(m.Topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return http.StatusBadRequest, fmt.Errorf("Topic %q is not up to 32 base64url characters (RFC 8030 section 5.4)", m.Topic)
	}
	switch m.Urgency {
	case "", "very-low", "low", "normal", "high":
	default:
		return http.StatusBadRequest, fmt.Errorf("Urgency %q", m.Urgency)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	aud := audience(scheme, r.Host)
	m.VAPIDKey, m.Claims, err = checkVAPID(r.Header.Get("Authorization"), aud, wantKey, time.Now())
	switch {
	case errors.Is(err, errWrongKey):
		return http.StatusForbidden, err
	case err != nil:
		return http.StatusUnauthorized, err
	}
	return http.StatusCreated, nil
}

// audience is the VAPID aud of a push resource (RFC 8292 section 2: its
// origin) at scheme and host (host[:port], as the request's Host): the
// origin serialized as RFC 6454 section 6.2 says, scheme and host in lower
// case, the port left out when it is the scheme's default.
func audience(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil &&
		(port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return scheme + "://" + host
}

// PushMessage is a WebDAV-Push push-message taken apart.
type PushMessage struct {
	Topic     string
	Content   bool   // content-update
	SyncToken string // its DAV:sync-token
	Property  bool   // property-update
	// Transports: the property-update names the transports property, as
	// a VAPID key rotation message does.
	Transports bool
}

// Parse reads a push-message (draft-bitfire-webdav-push, "Push Message").
func Parse(body []byte) (PushMessage, error) {
	var x struct {
		XMLName xml.Name `xml:"https://bitfire.at/webdav-push push-message"`
		Topic   string   `xml:"https://bitfire.at/webdav-push topic"`
		Content *struct {
			SyncToken string `xml:"DAV: sync-token"`
		} `xml:"https://bitfire.at/webdav-push content-update"`
		Property *struct {
			Prop *struct {
				Transports *struct{} `xml:"https://bitfire.at/webdav-push transports"`
			} `xml:"DAV: prop"`
		} `xml:"https://bitfire.at/webdav-push property-update"`
	}
	if err := xml.Unmarshal(body, &x); err != nil {
		return PushMessage{}, fmt.Errorf("push-message: %w", err)
	}
	p := PushMessage{Topic: x.Topic, Content: x.Content != nil, Property: x.Property != nil}
	if x.Content != nil {
		p.SyncToken = x.Content.SyncToken
	}
	if x.Property != nil && x.Property.Prop != nil && x.Property.Prop.Transports != nil {
		p.Transports = true
	}
	return p, nil
}
