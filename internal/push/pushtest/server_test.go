package pushtest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/rolodav/rolodav/internal/push/pushtest"
)

type vapid struct{ priv, pub string }

func newVAPID(t *testing.T) vapid {
	t.Helper()
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	return vapid{priv, pub}
}

// clientFunc lets a test change a request webpush-go built before it goes
// out: a man in the middle.
type clientFunc func(*http.Request) (*http.Response, error)

func (f clientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// send has webpush-go encrypt and sign msg for sub and POST it to
// endpoint (sub.Resource when ""), through edit when not nil, and returns
// the status.
func send(t *testing.T, sub *pushtest.Subscription, endpoint string, key vapid, msg string, edit func(*http.Request)) int {
	t.Helper()
	if endpoint == "" {
		endpoint = sub.Resource
	}
	client := clientFunc(func(r *http.Request) (*http.Response, error) {
		if edit != nil {
			edit(r)
		}
		return http.DefaultClient.Do(r)
	})
	resp, err := webpush.SendNotificationWithContext(context.Background(), []byte(msg),
		&webpush.Subscription{Endpoint: endpoint, Keys: webpush.Keys{Auth: sub.AuthSecret, P256dh: sub.PublicKey}},
		&webpush.Options{HTTPClient: client, Subscriber: "ops@example.org", TTL: 60, Topic: "abc_-1", Urgency: webpush.UrgencyNormal,
			VAPIDPrivateKey: key.priv, VAPIDPublicKey: key.pub})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// What webpush-go encrypts and signs, the stand-in decrypts and verifies.
func TestReceivesWebpushGo(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	key := newVAPID(t)
	srv.ExpectVAPIDKey(key.pub)
	if st := send(t, sub, "", key, "hello, phone", nil); st != http.StatusCreated {
		t.Fatalf("status %d", st)
	}
	m := srv.WaitFor(t, sub, 1, 10*time.Second)[0]
	if m.Err != nil || m.Status != 201 || string(m.Body) != "hello, phone" {
		t.Fatalf("%+v", m)
	}
	if m.TTL != "60" || m.Topic != "abc_-1" || m.Urgency != "normal" || m.ContentEncoding != "aes128gcm" ||
		m.Size != 4096 || m.RecordSize != 4096 || m.VAPIDKey != key.pub || m.Claims.Aud != srv.URL ||
		m.Claims.Sub != "mailto:ops@example.org" || m.Subscription != sub.ID || m.Seq != 1 {
		t.Fatalf("%+v", m)
	}
	if d := time.Until(m.Claims.Exp); d < 11*time.Hour || d > 13*time.Hour {
		t.Errorf("exp in %v; webpush-go signs for 12 h", d)
	}
}

// signJWT signs claims with the VAPID private key, as a sender would that
// sets them itself.
func signJWT(t *testing.T, key vapid, claims map[string]any) string {
	t.Helper()
	d, err := base64.RawURLEncoding.DecodeString(key.priv)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	body, _ := json.Marshal(claims)
	signed := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`)) + "." + enc.EncodeToString(body)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + signed + "." + enc.EncodeToString(sig) + ", k=" + key.pub
}

// Tampered, misdirected and badly signed messages are refused and recorded
// with the reason.
func TestRefuses(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	other := srv.Subscribe(t)
	key := newVAPID(t)
	exp := func(d time.Duration) int64 { return time.Now().Add(d).Unix() }
	claims := func(aud, sub string, exp int64) map[string]any {
		return map[string]any{"aud": aud, "sub": sub, "exp": exp}
	}
	setAuth := func(h string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", h) }
	}
	localhost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, c := range []struct {
		name     string
		endpoint string // "" for sub.Resource
		edit     func(*http.Request)
		status   int
		why      string
	}{
		{name: "tampered body", edit: func(r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			b[len(b)-30] ^= 0x40
			r.Body = io.NopCloser(bytes.NewReader(b))
		}, status: 400, why: "decryption"},
		{name: "encrypted for another subscription", endpoint: other.Resource, status: 400, why: "decryption"},
		{name: "record size not 4096", edit: func(r *http.Request) {
			// rs is outside the encryption: the record still decrypts.
			b, _ := io.ReadAll(r.Body)
			binary.BigEndian.PutUint32(b[16:20], 4095)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}, status: 400, why: "record size 4095"},
		{name: "no Content-Encoding", edit: func(r *http.Request) { r.Header.Del("Content-Encoding") }, status: 415, why: "Content-Encoding"},
		{name: "no TTL", edit: func(r *http.Request) { r.Header.Del("TTL") }, status: 400, why: "TTL"},
		{name: "Topic too long", edit: func(r *http.Request) { r.Header.Set("Topic", strings.Repeat("a", 33)) }, status: 400, why: "Topic"},
		{name: "no Authorization", edit: func(r *http.Request) { r.Header.Del("Authorization") }, status: 401, why: "vapid"},
		{name: "bad signature", edit: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			i := strings.Index(h, ", k=") - 5
			c := byte('A')
			if h[i] == 'A' {
				c = 'B'
			}
			r.Header.Set("Authorization", h[:i]+string(c)+h[i+1:])
		}, status: 401, why: "signature"},
		{name: "signed by another key", edit: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:strings.Index(h, ", k=")]+", k="+newVAPID(t).pub)
		}, status: 401, why: "signature"},
		{name: "aud of another origin", edit: setAuth(signJWT(t, key, claims(localhost, "mailto:ops@example.org", exp(time.Hour)))), status: 401, why: "aud"},
		// webpush-go signs for scheme://host as the URL spells it.
		{name: "aud not serialized", endpoint: strings.Replace(srv.URL, "127.0.0.1", "LocalHost", 1) + "/push/" + sub.ID, status: 401, why: "aud"},
		{name: "expired", edit: setAuth(signJWT(t, key, claims(srv.URL, "mailto:ops@example.org", exp(-time.Minute)))), status: 401, why: "expired"},
		{name: "exp over 24 h ahead", edit: setAuth(signJWT(t, key, claims(srv.URL, "mailto:ops@example.org", exp(25*time.Hour)))), status: 401, why: "24h"},
		{name: "sub no URL", edit: setAuth(signJWT(t, key, claims(srv.URL, "ops@example.org", exp(time.Hour)))), status: 401, why: "sub"},
		{name: "sub mailto: twice", edit: setAuth(signJWT(t, key, claims(srv.URL, "mailto:mailto:ops@example.org", exp(time.Hour)))), status: 401, why: "sub"},
	} {
		n := len(srv.Messages())
		st := send(t, sub, c.endpoint, key, "secret", c.edit)
		ms := srv.Wait(t, n+1, 10*time.Second)
		m := ms[len(ms)-1]
		if st != c.status || m.Status != c.status || m.Err == nil || !strings.Contains(m.Err.Error(), c.why) {
			t.Errorf("%s: answered %d, recorded %d %v; want %d saying %q", c.name, st, m.Status, m.Err, c.status, c.why)
		}
	}
	// A good one after all that is taken.
	if st := send(t, sub, "", key, "fine", nil); st != 201 {
		t.Errorf("a good message after the bad ones: %d", st)
	}
}

// Replies queued with Answer are given in order, then 201 again; a reply
// without Times lasts; Unsubscribe makes 410.
func TestAnswer(t *testing.T) {
	srv := pushtest.Start(t)
	sub, other := srv.Subscribe(t), srv.Subscribe(t)
	key := newVAPID(t)
	srv.Answer(sub, pushtest.Reply{Status: 500, Times: 2})
	srv.Answer(sub, pushtest.Reply{Status: 429, RetryAfter: "7", Times: 1})
	var got []int
	for range 4 {
		got = append(got, send(t, sub, "", key, "x", nil))
	}
	got = append(got, send(t, other, "", key, "x", nil))
	if want := []int{500, 500, 429, 201, 201}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for _, m := range srv.MessagesTo(sub) {
		if m.Err != nil || string(m.Body) != "x" {
			t.Errorf("a refused message is still checked and recorded: %+v", m)
		}
	}

	srv.Answer(sub, pushtest.Reply{Status: 404})
	if a, b := send(t, sub, "", key, "x", nil), send(t, sub, "", key, "x", nil); a != 404 || b != 404 {
		t.Errorf("a lasting reply: %d %d", a, b)
	}
	srv.Answer(sub, pushtest.Reply{})
	if st := send(t, sub, "", key, "x", nil); st != 201 {
		t.Errorf("after Answer(Reply{}): %d", st)
	}
	srv.Unsubscribe(sub)
	if st := send(t, sub, "", key, "x", nil); st != 410 {
		t.Errorf("after Unsubscribe: %d", st)
	}
	if n := len(srv.MessagesTo(sub)); n != 8 {
		t.Errorf("%d messages to sub recorded, want 8", n)
	}
}

// The Retry-After of a reply reaches the client.
func TestRetryAfter(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	srv.Answer(sub, pushtest.Reply{Status: 429, RetryAfter: "7"})
	key := newVAPID(t)
	var ra string
	client := clientFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultClient.Do(r)
		if err == nil {
			ra = resp.Header.Get("Retry-After")
		}
		return resp, err
	})
	resp, err := webpush.SendNotification([]byte("x"), &webpush.Subscription{Endpoint: sub.Resource,
		Keys: webpush.Keys{Auth: sub.AuthSecret, P256dh: sub.PublicKey}},
		&webpush.Options{HTTPClient: client, Subscriber: "ops@example.org", TTL: 1, VAPIDPrivateKey: key.priv, VAPIDPublicKey: key.pub})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || ra != "7" {
		t.Fatalf("%d Retry-After %q", resp.StatusCode, ra)
	}
}

// With an expected VAPID key, a message signed (validly) by another key is
// refused with 403.
func TestExpectVAPIDKey(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	srv.ExpectVAPIDKey(newVAPID(t).pub)
	if st := send(t, sub, "", newVAPID(t), "x", nil); st != 403 {
		t.Fatalf("status %d", st)
	}
	if m := srv.Messages()[0]; m.Err == nil || !strings.Contains(m.Err.Error(), "expected VAPID") {
		t.Fatalf("%+v", m)
	}
}

// A delayed answer that the client does not wait for is recorded as such.
func TestDelay(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	srv.SetDelay(time.Hour)
	key := newVAPID(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for srv.Held() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := webpush.SendNotificationWithContext(ctx, []byte("x"), &webpush.Subscription{Endpoint: sub.Resource,
		Keys: webpush.Keys{Auth: sub.AuthSecret, P256dh: sub.PublicKey}},
		&webpush.Options{Subscriber: "ops@example.org", TTL: 1, VAPIDPrivateKey: key.priv, VAPIDPublicKey: key.pub})
	if err == nil {
		t.Fatal("answered before the delay")
	}
	m := srv.Wait(t, 1, 10*time.Second)[0]
	if m.Err == nil || !strings.Contains(m.Err.Error(), "went away") || string(m.Body) != "x" || srv.Held() != 0 || srv.Peak() != 1 {
		t.Fatalf("%+v, %d held, at most %d", m, srv.Held(), srv.Peak())
	}
}

// Wait returns once enough messages arrived, also when they come after
// it started waiting; WaitFor counts one subscription's.
func TestWait(t *testing.T) {
	srv := pushtest.Start(t)
	a, b := srv.Subscribe(t), srv.Subscribe(t)
	key := newVAPID(t)
	send(t, a, "", key, "1", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(50 * time.Millisecond)
		send(t, b, "", key, "2", nil)
		send(t, a, "", key, "3", nil)
	}()
	got := srv.WaitFor(t, a, 2, 10*time.Second)
	<-done
	if len(got) != 2 || string(got[0].Body) != "1" || string(got[1].Body) != "3" || got[1].Seq != 3 {
		t.Fatalf("%+v", got)
	}
	if all := srv.Wait(t, 3, time.Second); len(all) != 3 {
		t.Fatalf("%d messages", len(all))
	}
}

// Parse reads the messages of the draft's examples.
func TestParse(t *testing.T) {
	p, err := pushtest.Parse([]byte(`<?xml version="1.0" encoding="utf-8"?>
<P:push-message xmlns:D="DAV:" xmlns:P="https://bitfire.at/webdav-push">
  <P:topic>O7M1nQ7cKkKTKsoS_j6Z3w</P:topic>
  <P:content-update><D:sync-token>http://example.com/sync/10</D:sync-token></P:content-update>
  <P:property-update/>
</P:push-message>`))
	if err != nil || p != (pushtest.PushMessage{Topic: "O7M1nQ7cKkKTKsoS_j6Z3w", Content: true, SyncToken: "http://example.com/sync/10", Property: true}) {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = pushtest.Parse([]byte(`<push-message xmlns="https://bitfire.at/webdav-push" xmlns:D="DAV:"><property-update><D:prop><transports/></D:prop></property-update></push-message>`))
	if err != nil || p != (pushtest.PushMessage{Property: true, Transports: true}) {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := pushtest.Parse([]byte(`<push-message/>`)); err == nil {
		t.Fatal("a push-message without the namespace parsed")
	}
}
