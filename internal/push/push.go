// Package push is rolodav's side of WebDAV-Push (draft-bitfire-webdav-push)
// over Web Push (RFC 8030): the topics that name collections and homes to
// push services and clients, the VAPID key (RFC 8292), the push message,
// the checks a push resource must pass before the server sends anything
// to it, and the Sender that delivers what the store's queue holds,
// encrypted (RFC 8291) and signed.
//
// Messages are queued by the store in the write transaction of each change
// (store.Push), so nothing here is on a request's path but the wake-up.
// Encryption and VAPID signing are github.com/SherClockHolmes/webpush-go's.
//
// A push resource is a URL a client chose: the Sender connects only to
// public addresses, checked after DNS resolution on every connection;
// through a proxy it resolves and checks the name itself and has the proxy
// CONNECT to the checked address, so that the proxy resolves nothing.
package push

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/rolodav/rolodav/internal/store"
)

// Namespace is the XML namespace of WebDAV-Push.
const Namespace = "https://bitfire.at/webdav-push"

// Registration expiry: a client may ask for less; asking for more, or for
// nothing, gets MaxExpiry. The draft wants servers to allow at least three
// days; DAVx5 asks for three and registers again every day.
const MaxExpiry = 7 * 24 * time.Hour

// Store is what push needs of the store.
type Store interface {
	store.Secrets
	store.Push
}

// topicSecret names the secret topics are derived from (store.Secrets).
const topicSecret = "push-topic"

// Service answers what the DAV layer asks about push: the topic of a
// target, the current VAPID public key, whether a push resource may be
// used. It is safe for concurrent use.
type Service struct {
	st  Store
	opt Options

	mu       sync.Mutex
	topicKey []byte
	key      store.PushKey
	keyRead  time.Time
}

// Options configure a Service and its Sender.
type Options struct {
	// AllowPrivate lets push resources name loopback, private and
	// link-local addresses, and plain http: for tests and self-hosted push
	// servers on a local network.
	AllowPrivate bool
	// Proxy is the HTTP proxy push messages go through (nil: direct).
	Proxy func(*http.Request) (*url.URL, error)
	// Subject is the VAPID "sub" claim: a mailto: or https: URL the push
	// services can reach the server's operator at.
	Subject string
	// Spacing is the least time between two messages to one registration;
	// changes within it join the next message.
	Spacing time.Duration
}

// keyRefresh is how long a Service trusts the VAPID key it read: a key
// rotated by another process (rolodav push rotate-key) is advertised within
// this time.
const keyRefresh = time.Minute

// NewService returns a Service over st. It reads (or creates) the topic
// secret and the VAPID key at once, so that a store that cannot give them
// fails at start, not at the first request.
func NewService(ctx context.Context, st Store, opt Options) (*Service, error) {
	s := &Service{st: st, opt: opt}
	secret, err := st.Secret(ctx, topicSecret, randomSecret)
	if err != nil {
		return nil, fmt.Errorf("push: topic secret: %w", err)
	}
	s.topicKey, err = base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(s.topicKey) < 16 {
		return nil, fmt.Errorf("push: the stored topic secret is not 16 or more bytes of base64url")
	}
	if _, err := s.Key(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewKey generates a VAPID key pair.
func NewKey() (store.PushKey, error) {
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		return store.PushKey{}, fmt.Errorf("push: generate VAPID key: %w", err)
	}
	return store.PushKey{Private: priv, Public: pub}, nil
}

// Key returns the current VAPID key, created on first use.
func (s *Service) Key(ctx context.Context) (store.PushKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key.ID != 0 && time.Since(s.keyRead) < keyRefresh {
		return s.key, nil
	}
	k, err := s.st.PushKey(ctx, NewKey)
	if err != nil {
		return store.PushKey{}, fmt.Errorf("push: VAPID key: %w", err)
	}
	s.key, s.keyRead = k, time.Now()
	return k, nil
}

// CollectionTopic is the topic of collection id: stable, and unguessable
// without the server's secret.
func (s *Service) CollectionTopic(id int64) string {
	return s.topic("collection:" + strconv.FormatInt(id, 10))
}

// HomeTopic is the topic of login's home of kind.
func (s *Service) HomeTopic(login string, kind store.Kind) string {
	return s.topic("home:" + string(kind) + ":" + login)
}

// Topic is the topic of r's target, or of the collection it watched
// until it was deleted.
func (s *Service) Topic(r *store.PushRegistration) string {
	switch {
	case r.Collection != 0:
		return s.CollectionTopic(r.Collection)
	case r.Gone != 0:
		return s.CollectionTopic(r.Gone)
	}
	return s.HomeTopic(r.Login, r.Home)
}

func (s *Service) topic(name string) string {
	m := hmac.New(sha256.New, s.topicKey)
	m.Write([]byte(name))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Message is the push-message for a registration's topic: a content update
// with the sync token (empty for a home, which has none) and/or a property
// update.
func Message(topic string, content bool, syncToken string, property bool) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<P:push-message xmlns:D="DAV:" xmlns:P="` + Namespace + `">`)
	b.WriteString(`<P:topic>` + escape(topic) + `</P:topic>`)
	if content {
		if syncToken != "" {
			b.WriteString(`<P:content-update><D:sync-token>` + escape(syncToken) + `</D:sync-token></P:content-update>`)
		} else {
			b.WriteString(`<P:content-update/>`)
		}
	}
	if property {
		b.WriteString(`<P:property-update/>`)
	}
	b.WriteString(`</P:push-message>`)
	return []byte(b.String())
}

// RotationMessage tells a client that the VAPID key changed: a property
// update of transports, without a topic (the draft's key rotation message).
func RotationMessage() []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<P:push-message xmlns:D="DAV:" xmlns:P="` + Namespace + `">` +
		`<P:property-update><D:prop><P:transports/></D:prop></P:property-update></P:push-message>`)
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
