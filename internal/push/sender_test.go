package push

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/push/pushtest"
	"github.com/rolodav/rolodav/internal/store"
)

// storelessSender is a Sender whose send can be tried without a store.
func storelessSender(t *testing.T, opt Options) *Sender {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	return NewSender(nil, &Service{opt: opt, topicKey: key}, opt, nil)
}

func delivery(t *testing.T, sub *pushtest.Subscription) *store.PushDelivery {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return &store.PushDelivery{
		Registration: store.PushRegistration{ID: 3, Login: "ann", Collection: 7, Resource: sub.Resource,
			PublicKey: sub.PublicKey, AuthSecret: sub.AuthSecret, Content: true},
		Key: k, SyncSeq: 42, Content: true, Lease: time.Now().Add(lease),
	}
}

// What send delivers is what the draft and the RFCs ask for, read as the
// client reads it: the topic and the sync token in the encrypted message,
// signed with the registration's key, the subject once "mailto:", a short
// Topic header, the record size 4096.
func TestSend(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	s := storelessSender(t, Options{AllowPrivate: true, Subject: "mailto:ops@example.org"})
	d := delivery(t, sub)
	srv.ExpectVAPIDKey(d.Key.Public)
	if o := s.send(context.Background(), d); o.status != 201 || o.err != nil {
		t.Fatalf("%+v", o)
	}
	m := srv.Wait(t, 1, 10*time.Second)[0]
	if m.Err != nil {
		t.Fatal(m.Err)
	}
	p, err := pushtest.Parse(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	topic := s.svc.CollectionTopic(7)
	if p != (pushtest.PushMessage{Topic: topic, Content: true, SyncToken: store.SyncToken(7, 42)}) {
		t.Errorf("%+v", p)
	}
	if m.Claims.Sub != "mailto:ops@example.org" || m.Claims.Aud != srv.URL || m.VAPIDKey != d.Key.Public {
		t.Errorf("claims %+v, key %s", m.Claims, m.VAPIDKey)
	}
	if m.Topic != topicHeader(topic) || len(m.Topic) > 32 || strings.Contains(m.Topic, topic) || m.Urgency != "normal" || m.TTL != "86400" {
		t.Errorf("Topic %q Urgency %q TTL %q", m.Topic, m.Urgency, m.TTL)
	}
	if m.ContentType != contentType {
		t.Errorf("Content-Type %q", m.ContentType)
	}
	// The record size Tink takes, and webpush-go pads the body to it
	// whatever the message's length.
	if m.RecordSize != 4096 || m.Size != 4096 {
		t.Errorf("a message of %d bytes took %d (record size %d)", len(m.Body), m.Size, m.RecordSize)
	}

	// Properties of a home, and a key rotation: two messages, the second
	// without a Topic header (it must not replace the update).
	d.Registration.Collection, d.Registration.Home = 0, store.KindCard
	d.Content, d.Property, d.Rotation = true, true, true
	if o := s.send(context.Background(), d); o.status != 201 || o.err != nil {
		t.Fatalf("%+v", o)
	}
	ms := srv.Wait(t, 3, 10*time.Second)
	home, _ := pushtest.Parse(ms[1].Body)
	rot, _ := pushtest.Parse(ms[2].Body)
	if home != (pushtest.PushMessage{Topic: s.svc.HomeTopic("ann", store.KindCard), Content: true, Property: true}) {
		t.Errorf("home update %+v", home)
	}
	if rot != (pushtest.PushMessage{Property: true, Transports: true}) || ms[2].Topic != "" || ms[2].Err != nil {
		t.Errorf("rotation %+v, Topic %q, %v", rot, ms[2].Topic, ms[2].Err)
	}
}

// captureRT answers 201 to every request, and keeps the last.
type captureRT struct{ got *http.Request }

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.got = r
	return &http.Response{StatusCode: 201, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

// The VAPID audience is the push resource's origin as RFC 6454 serializes
// it (RFC 8292 section 2), also for a registration stored before
// CheckResource normalised resources: lower case, no default port.
func TestSendAudienceIsTheOrigin(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	for resource, origin := range map[string]string{
		"https://Push.Example.COM/wpush/x":      "https://push.example.com",
		"https://push.example.com:443/wpush/x":  "https://push.example.com",
		"https://push.example.com:8443/wpush/x": "https://push.example.com:8443",
	} {
		s := storelessSender(t, Options{Subject: "mailto:ops@example.org"})
		rt := &captureRT{}
		s.client.hc.Transport = rt
		d := delivery(t, sub)
		d.Registration.Resource = resource
		if o := s.send(context.Background(), d); o.status != 201 {
			t.Fatalf("%s: %+v", resource, o)
		}
		tok, _, _ := strings.Cut(strings.TrimPrefix(rt.got.Header.Get("Authorization"), "vapid t="), ",")
		parts := strings.Split(tok, ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct{ Aud string }
		if err := json.Unmarshal(b, &c); err != nil || c.Aud != origin || rt.got.URL.Host != strings.TrimPrefix(origin, "https://") {
			t.Errorf("resource %s: sent to %s with aud %q, want the origin %q (%v)", resource, rt.got.URL, c.Aud, origin, err)
		}
	}
	// The stand-in checks the audience against the origin it was reached
	// at, serialized.
	s := storelessSender(t, Options{AllowPrivate: true, Subject: "mailto:ops@example.org"})
	d := delivery(t, sub)
	d.Registration.Resource = strings.Replace(sub.Resource, "127.0.0.1", "LOCALHOST", 1)
	if o := s.send(context.Background(), d); o.status != 201 {
		t.Fatalf("%s: %s", d.Registration.Resource, describe(o))
	}
}

// A message goes out only while the claim's lease leaves time for its
// request and for recording the outcome; otherwise the delivery stops,
// and the message is left for another claim once the lease has run out.
func TestSendWithinTheLease(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	s := storelessSender(t, Options{AllowPrivate: true, Subject: "mailto:ops@example.org"})
	base := time.Now()
	// The clock says 25 s passed once a message is in: the update took
	// that long.
	s.Now = func() time.Time {
		if len(srv.Messages()) > 0 {
			return base.Add(25 * time.Second)
		}
		return base
	}
	d := delivery(t, sub)
	d.Rotation = true
	d.Lease = base.Add(40 * time.Second)
	if o := s.send(context.Background(), d); o.err == nil || len(srv.Messages()) != 1 {
		t.Fatalf("%+v; %d messages, want the update only", o, len(srv.Messages()))
	}
	// A lease almost run out already: nothing is sent.
	s.Now = time.Now
	d.Lease = time.Now().Add(15 * time.Second)
	if o := s.send(context.Background(), d); o.err == nil || len(srv.Messages()) != 1 {
		t.Fatalf("%+v; %d messages", o, len(srv.Messages()))
	}
}

// A subject that is an https: URL is kept as it is.
func TestSendHTTPSSubject(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	s := storelessSender(t, Options{AllowPrivate: true, Subject: "https://dav.example.org/"})
	s.send(context.Background(), delivery(t, sub))
	if m := srv.Wait(t, 1, 10*time.Second)[0]; m.Err != nil || m.Claims.Sub != "https://dav.example.org/" {
		t.Fatalf("%+v", m)
	}
}

// send reports the push service's status and Retry-After; keys that
// cannot be used send nothing.
func TestSendOutcome(t *testing.T) {
	srv := pushtest.Start(t)
	sub := srv.Subscribe(t)
	s := storelessSender(t, Options{AllowPrivate: true, Subject: "mailto:ops@example.org"})
	srv.Answer(sub, pushtest.Reply{Status: 429, RetryAfter: "7", Times: 1})
	srv.Answer(sub, pushtest.Reply{Status: 503, Times: 1})
	if o := s.send(context.Background(), delivery(t, sub)); o.status != 429 || o.retryAfter != 7*time.Second {
		t.Errorf("%+v", o)
	}
	if o := s.send(context.Background(), delivery(t, sub)); o.status != 503 || o.retryAfter != 0 || o.answer == "" {
		t.Errorf("%+v", o)
	}
	for _, keys := range [][2]string{
		{"not base64!", sub.AuthSecret},
		{strings.Repeat("A", 87), sub.AuthSecret}, // 65 bytes, not a point
		{sub.PublicKey, ""},
	} {
		d := delivery(t, sub)
		d.Registration.PublicKey, d.Registration.AuthSecret = keys[0], keys[1]
		if o := s.send(context.Background(), d); o.err != errKeys {
			t.Errorf("keys %q: %+v", keys, o)
		}
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages reached the push service", n)
	}
}

// A failure is described without the push resource's path.
func TestSendFailureHidesResource(t *testing.T) {
	// A push service that hangs up on every connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sub := pushtest.Start(t).Subscribe(t)
	d := delivery(t, sub)
	d.Registration.Resource = "http://" + ln.Addr().String() + "/push/" + sub.ID
	s := storelessSender(t, Options{AllowPrivate: true, Subject: "mailto:ops@example.org"})
	o := s.send(context.Background(), d)
	if o.err == nil || strings.Contains(describe(o), sub.ID) {
		t.Fatalf("%v: %q", o.err, describe(o))
	}
	// Without AllowPrivate the resource is refused before any connection.
	s = storelessSender(t, Options{Subject: "mailto:ops@example.org"})
	if o := s.send(context.Background(), delivery(t, sub)); !strings.Contains(describe(o), "refused") || strings.Contains(describe(o), sub.ID) {
		t.Fatalf("%q", describe(o))
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second,
		320 * time.Second, 640 * time.Second, 1280 * time.Second, 2560 * time.Second, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if Backoff(100) != time.Hour {
		t.Error("no cap")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "120": 2 * time.Minute, " 5 ": 5 * time.Second, "0": time.Second, "soon": 0,
		"Fri, 02 Jan 2026 03:05:05 GMT": time.Minute,
		"Fri, 02 Jan 2026 03:00:00 GMT": time.Second,
		// Beyond what time.Duration holds in nanoseconds: capped, not
		// wrapped round to a second.
		"9999999999": time.Hour, "99999999999999999999999": time.Hour, "-9999999999": time.Second,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}
