package storetest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- WebDAV-Push ---------------------------------------------------------
//
// Writes queue with the clock's time (expiry and Queued), so registrations
// expire relative to time.Now() and claims are made around it.

const (
	pushLease = time.Minute
	pushLimit = 100
)

// pushKeyGen returns a generator of fake VAPID keys, numbered from 1, and
// how many it made: the store keeps the halves as opaque strings.
func pushKeyGen() (func() (store.PushKey, error), *atomic.Int64) {
	var n atomic.Int64
	return func() (store.PushKey, error) {
		i := n.Add(1)
		return store.PushKey{Private: fmt.Sprint("private-", i), Public: fmt.Sprint("public-", i)}, nil
	}, &n
}

func currentPushKey(t *testing.T, s store.Store) store.PushKey {
	t.Helper()
	gen, _ := pushKeyGen()
	k, err := s.PushKey(ctx, gen)
	if err != nil {
		t.Fatalf("PushKey: %v", err)
	}
	return k
}

// subscription is a registration of login on collection coll (0: the
// home of kind home) for resource, both triggers on, expiring in a month.
func subscription(login string, coll int64, home store.Kind, resource string) *store.PushRegistration {
	return &store.PushRegistration{Login: login, Collection: coll, Home: home,
		Resource:  "https://push.example.net/" + resource,
		PublicKey: "BPublicKeyOf-" + resource, AuthSecret: "auth-" + resource,
		Content: true, Property: true, Client: "DAVx5/4.4.10-ose",
		Expires: time.Now().Add(30 * 24 * time.Hour).Truncate(time.Microsecond)}
}

func registerPush(t *testing.T, s store.Store, r *store.PushRegistration) *store.PushRegistration {
	t.Helper()
	if _, err := s.RegisterPush(ctx, r); err != nil {
		t.Fatalf("RegisterPush(%s on %d/%s for %s): %v", r.Login, r.Collection, r.Home, r.Resource, err)
	}
	return r
}

func getPush(t *testing.T, s store.Store, login, token string) *store.PushRegistration {
	t.Helper()
	r, err := s.GetPushRegistration(ctx, login, token)
	if err != nil {
		t.Fatalf("GetPushRegistration(%s): %v", login, err)
	}
	return r
}

func claimPushes(t *testing.T, s store.Store, now time.Time, spacing time.Duration, limit int) ([]store.PushDelivery, time.Time) {
	t.Helper()
	ds, next, err := s.ClaimPushes(ctx, now, pushLease, spacing, limit)
	if err != nil {
		t.Fatalf("ClaimPushes(%v): %v", now, err)
	}
	lease := now.Add(pushLease).Truncate(time.Microsecond) // what a store keeps
	for _, d := range ds {
		if !d.Lease.Equal(lease) {
			t.Fatalf("claimed delivery's Lease %v, want %v", d.Lease, lease)
		}
	}
	return ds, next
}

// owed describes what the deliveries owe, by registration ID: "c" for
// content, "p" for property, "r" for rotation.
func owed(t *testing.T, ds []store.PushDelivery) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, d := range ds {
		var b strings.Builder
		for _, f := range []struct {
			on bool
			c  string
		}{{d.Content, "c"}, {d.Property, "p"}, {d.Rotation, "r"}} {
			if f.on {
				b.WriteString(f.c)
			}
		}
		if _, dup := out[d.Registration.ID]; dup {
			t.Fatalf("registration %d delivered twice in one claim", d.Registration.ID)
		}
		out[d.Registration.ID] = b.String()
	}
	return out
}

// deliverAll claims every due message at the clock's time and finishes
// each: what they owed.
func deliverAll(t *testing.T, s store.Store) map[int64]string {
	t.Helper()
	now := time.Now()
	ds, _ := claimPushes(t, s, now, 0, pushLimit)
	for i := range ds {
		if err := s.FinishPush(ctx, &ds[i], now); err != nil {
			t.Fatalf("FinishPush(%d): %v", ds[i].Registration.ID, err)
		}
	}
	return owed(t, ds)
}

func pushIDs(ds []store.PushDelivery) []int64 {
	ids := []int64{}
	for _, d := range ds {
		ids = append(ids, d.Registration.ID)
	}
	return ids
}

// tableRows counts the rows of a table through store.Rows, which every
// driver implements: what no method of store.Push shows (retired keys).
func tableRows(t *testing.T, s store.Store, name string) int64 {
	t.Helper()
	rs, ok := s.(store.Rows)
	if !ok {
		t.Fatalf("%T does not implement store.Rows", s)
	}
	i := slices.IndexFunc(store.Tables, func(tb store.Table) bool { return tb.Name == name })
	if i < 0 {
		t.Fatalf("no table %s", name)
	}
	var n int64
	err := rs.ReadRows(ctx, func(r store.RowReader) error {
		var err error
		n, err = r.Count(ctx, &store.Tables[i])
		return err
	})
	if err != nil {
		t.Fatalf("counting %s: %v", name, err)
	}
	return n
}

// testPushSecrets: a secret is made once; whoever asks, even at once, gets
// the value stored first.
func testPushSecrets(t *testing.T, s store.Store) {
	if _, err := s.Secret(ctx, "", func() (string, error) { return "x", nil }); err == nil {
		t.Fatal("Secret with an empty name: no error")
	}
	failing := errors.New("no entropy")
	if _, err := s.Secret(ctx, "topic", func() (string, error) { return "", failing }); !errors.Is(err, failing) {
		t.Fatalf("Secret with a failing generator: %v, want %v", err, failing)
	}
	v, err := s.Secret(ctx, "topic", func() (string, error) { return "first", nil })
	if err != nil || v != "first" {
		t.Fatalf("Secret after a failed generation = %q, %v; want the new value", v, err)
	}
	v, err = s.Secret(ctx, "topic", func() (string, error) {
		t.Error("generator called for a secret kept")
		return "second", nil
	})
	if err != nil || v != "first" {
		t.Fatalf("Secret again = %q, %v; want the kept value", v, err)
	}
	const n = 8
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			got[i], err = s.Secret(ctx, "other", func() (string, error) { return fmt.Sprint("value-", i), nil })
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] || !strings.HasPrefix(v, "value-") {
			t.Fatalf("Secret at once: %q, want one value for all", got)
		}
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func samePushKey(t *testing.T, what string, got, want store.PushKey) {
	t.Helper()
	if !got.Created.Equal(want.Created) || !got.Retired.Equal(want.Retired) {
		t.Fatalf("%s: key created %v retired %v, want %v and %v", what, got.Created, got.Retired, want.Created, want.Retired)
	}
	got.Created, got.Retired = want.Created, want.Retired
	eq(t, what, got, want)
}

// samePush compares registrations, times with Equal.
func samePush(t *testing.T, what string, got, want store.PushRegistration) {
	t.Helper()
	for _, tt := range [][2]time.Time{{got.Created, want.Created}, {got.Expires, want.Expires}, {got.LastSent, want.LastSent}} {
		if !tt[0].Equal(tt[1]) {
			t.Fatalf("%s: times (created, expires, last sent) %v, %v, %v; want %v, %v, %v", what,
				got.Created, got.Expires, got.LastSent, want.Created, want.Expires, want.LastSent)
		}
	}
	got.Created, got.Expires, got.LastSent = want.Created, want.Expires, want.LastSent
	eq(t, what, got, want)
}

// testPushKeys: the current key is made once; whoever asks, even at
// once, gets the key stored first.
func testPushKeys(t *testing.T, s store.Store) {
	failing := errors.New("no entropy")
	if _, err := s.PushKey(ctx, func() (store.PushKey, error) { return store.PushKey{}, failing }); !errors.Is(err, failing) {
		t.Fatalf("PushKey with a failing generator: %v, want %v", err, failing)
	}
	if _, err := s.PushKey(ctx, func() (store.PushKey, error) { return store.PushKey{Public: "only-public"}, nil }); err == nil {
		t.Fatal("PushKey with a key without its private half: no error")
	}
	const n = 8
	gen, made := pushKeyGen()
	got := make([]store.PushKey, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if got[i], err = s.PushKey(ctx, gen); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	k := got[0]
	if k.ID == 0 || !strings.HasPrefix(k.Public, "public-") || k.Private != "private-"+strings.TrimPrefix(k.Public, "public-") ||
		!k.Retired.IsZero() || made.Load() < 1 {
		t.Fatalf("PushKey = %+v after %d generated", k, made.Load())
	}
	recent(t, "key's Created", k.Created)
	for _, g := range got {
		samePushKey(t, "PushKey at once", g, k)
	}
	again, err := s.PushKey(ctx, func() (store.PushKey, error) {
		t.Error("generator called for a key kept")
		return store.PushKey{Private: "p", Public: "q"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	samePushKey(t, "PushKey again", again, k)
}

// pushBooks makes login's address books book-0, book-1, ...: enough that
// MaxPushRegistrations fit on them, MaxPushRegistrationsPerTarget each.
func pushBooks(t *testing.T, s store.Store, login string) []int64 {
	t.Helper()
	per := store.MaxPushRegistrationsPerTarget
	ids := make([]int64, (store.MaxPushRegistrations+per-1)/per)
	for i := range ids {
		ids[i] = mkColl(t, s, login, store.KindCard, fmt.Sprint("book-", i)).ID
	}
	return ids
}

// fillPush registers login's resources prefix-0, prefix-1, ... on colls
// (per target at most), up to MaxPushRegistrations, and returns them.
func fillPush(t *testing.T, s store.Store, login string, colls []int64, prefix string) []*store.PushRegistration {
	t.Helper()
	out := make([]*store.PushRegistration, store.MaxPushRegistrations)
	for i := range out {
		out[i] = registerPush(t, s, subscription(login, colls[i/store.MaxPushRegistrationsPerTarget], "", fmt.Sprint(prefix, "-", i)))
	}
	return out
}

// wantTooMany checks that err is the refusal of a registration by the
// cap of its target (target) or of its user.
func wantTooMany(t *testing.T, what string, err error, target bool) {
	t.Helper()
	wantErr(t, what, err, store.ErrTooManyRegistrations)
	want := store.TooManyRegistrationsError{Limit: store.MaxPushRegistrations}
	if target {
		want = store.TooManyRegistrationsError{Limit: store.MaxPushRegistrationsPerTarget, Target: true}
	}
	var e *store.TooManyRegistrationsError
	if !errors.As(err, &e) || *e != want {
		t.Fatalf("%s: %v, want a %#v", what, err, want)
	}
}

// expirePush registers r again expired a minute ago: an update, allowed
// at any cap.
func expirePush(t *testing.T, s store.Store, r *store.PushRegistration) {
	t.Helper()
	r.Expires = time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	if created, err := s.RegisterPush(ctx, r); err != nil || created {
		t.Fatalf("expiring %s by registering it again: created %v, %v", r.Resource, created, err)
	}
}

// testPushRegistrationCap: a user has at most MaxPushRegistrations that
// have not expired; updating one of them, another user, and registering
// again once one expired still work.
func testPushRegistrationCap(t *testing.T, s store.Store) {
	other := book(t, s, "v", "book")
	book(t, s, "u", "book")
	colls := pushBooks(t, s, "u")
	currentPushKey(t, s)
	regs := fillPush(t, s, "u", colls, "device")
	_, err := s.RegisterPush(ctx, subscription("u", 0, store.KindCard, "one-too-many"))
	wantTooMany(t, "a registration beyond the cap", err, false)
	again := subscription("u", colls[0], "", "device-7")
	if created, err := s.RegisterPush(ctx, again); err != nil || created {
		t.Fatalf("updating a registration at the cap: created %v, %v", created, err)
	}
	registerPush(t, s, subscription("v", other.ID, "", "device-0"))
	expirePush(t, s, regs[0])
	registerPush(t, s, subscription("u", 0, store.KindCard, "after-one-expired"))
}

// testPushCapExpired: RegisterPush deletes its user's expired
// registrations, which no cap counts, so that they pile up no rows, and
// one registered again is a new registration, refused at the cap.
func testPushCapExpired(t *testing.T, s store.Store) {
	vb := book(t, s, "v", "book")
	book(t, s, "u", "book")
	colls := pushBooks(t, s, "u")
	currentPushKey(t, s)
	expired := func(r *store.PushRegistration) *store.PushRegistration {
		t.Helper()
		r.Expires = time.Now().Add(-time.Minute).Truncate(time.Microsecond)
		return registerPush(t, s, r)
	}
	others := expired(subscription("v", vb.ID, "", "old")) // another user's, kept until PrunePush
	var old []*store.PushRegistration
	for _, home := range []store.Kind{store.KindCard, store.KindCal} {
		old = append(old, expired(subscription("u", 0, home, "old")))
	}
	old = append(old, expired(subscription("u", colls[0], "", "old")))
	fillPush(t, s, "u", colls, "device")
	_, err := s.RegisterPush(ctx, subscription("u", 0, store.KindCard, "old"))
	wantTooMany(t, "an expired registration registered again at the cap", err, false)
	eq(t, "rows: the cap and another user's expired one", tableRows(t, s, "push_registrations"), int64(store.MaxPushRegistrations+1))
	for _, r := range old {
		_, err := s.GetPushRegistration(ctx, "u", r.Token)
		wantErr(t, "an expired registration after registering again", err, store.ErrNotFound)
	}
	getPush(t, s, "v", others.Token)
}

// testPushTargetCap: a collection or a home has at most
// MaxPushRegistrationsPerTarget registrations that have not expired;
// updating one of them, other targets, and registering again once one
// expired still work.
func testPushTargetCap(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	other := mkColl(t, s, "u", store.KindCard, "other")
	currentPushKey(t, s)
	per := store.MaxPushRegistrationsPerTarget
	for _, to := range []struct {
		coll int64
		home store.Kind
	}{{c.ID, ""}, {0, store.KindCard}} {
		var first *store.PushRegistration
		for i := range per {
			r := registerPush(t, s, subscription("u", to.coll, to.home, fmt.Sprint("device-", i)))
			if i == 0 {
				first = r
			}
		}
		what := fmt.Sprintf("on %d/%s", to.coll, to.home)
		_, err := s.RegisterPush(ctx, subscription("u", to.coll, to.home, "one-too-many"))
		wantTooMany(t, "a registration beyond the cap "+what, err, true)
		if created, err := s.RegisterPush(ctx, subscription("u", to.coll, to.home, "device-7")); err != nil || created {
			t.Fatalf("updating a registration at the cap %s: created %v, %v", what, created, err)
		}
		expirePush(t, s, first)
		registerPush(t, s, subscription("u", to.coll, to.home, "after-one-expired"))
	}
	registerPush(t, s, subscription("u", other.ID, "", "one-too-many"))
	registerPush(t, s, subscription("u", 0, store.KindCal, "one-too-many"))
}

func testPushRegister(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	if _, err := s.RegisterPush(ctx, subscription("u", c.ID, "", "phone")); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RegisterPush without a key: %v, want an error of its own", err)
	}
	key := currentPushKey(t, s)
	for what, bad := range map[string]func(r *store.PushRegistration){
		"no login":                func(r *store.PushRegistration) { r.Login = "" },
		"no resource":             func(r *store.PushRegistration) { r.Resource = "" },
		"no public key":           func(r *store.PushRegistration) { r.PublicKey = "" },
		"no auth secret":          func(r *store.PushRegistration) { r.AuthSecret = "" },
		"no expiry":               func(r *store.PushRegistration) { r.Expires = time.Time{} },
		"a collection and a home": func(r *store.PushRegistration) { r.Home = store.KindCard },
		"no target":               func(r *store.PushRegistration) { r.Collection = 0 },
		"a home of no kind":       func(r *store.PushRegistration) { r.Collection, r.Home = 0, "tasks" },
		"a negative collection":   func(r *store.PushRegistration) { r.Collection = -1 },
	} {
		r := subscription("u", c.ID, "", "phone")
		bad(r)
		if ok, err := s.RegisterPush(ctx, r); err == nil || ok || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("RegisterPush with %s = %v, %v; want an error of its own", what, ok, err)
		}
	}
	list, err := s.ListPushRegistrations(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "registrations after refusals", len(list), 0)

	r := subscription("u", c.ID, "", "phone")
	r.LastSent = time.Now() // ignored: nothing was sent yet
	created, err := s.RegisterPush(ctx, r)
	if err != nil || !created {
		t.Fatalf("RegisterPush = %v, %v; want created", created, err)
	}
	if r.ID == 0 || !regexp.MustCompile(`^[A-Za-z0-9_-]{22,}$`).MatchString(r.Token) || r.KeyID != key.ID || !r.LastSent.IsZero() {
		t.Fatalf("registered: %+v (key %d)", r, key.ID)
	}
	recent(t, "registration's Created", r.Created)
	samePush(t, "registration read back", *getPush(t, s, "u", r.Token), *r)

	// The same resource on the same target again: an update.
	up := subscription("u", c.ID, "", "phone")
	up.PublicKey, up.AuthSecret, up.Content, up.Property, up.Client = "BNewKey", "new-auth", false, true, "DAVx5/4.5.0-ose"
	up.Expires = r.Expires.Add(time.Hour)
	created, err = s.RegisterPush(ctx, up)
	if err != nil || created {
		t.Fatalf("RegisterPush again = %v, %v; want an update", created, err)
	}
	if up.ID != r.ID || up.Token != r.Token || !up.Created.Equal(r.Created) || up.KeyID != key.ID {
		t.Fatalf("updated registration %+v; want ID %d, token %s, created %v kept", up, r.ID, r.Token, r.Created)
	}
	samePush(t, "updated registration read back", *getPush(t, s, "u", r.Token), *up)

	// The same resource on other targets, another resource: new ones.
	others := []*store.PushRegistration{
		subscription("u", 0, store.KindCard, "phone"),
		subscription("u", 0, store.KindCal, "phone"),
		subscription("u", c.ID, "", "tablet"),
		subscription("u", mkColl(t, s, "u", store.KindCal, "calendar").ID, "", "phone"),
	}
	tokens := map[string]bool{r.Token: true}
	for _, o := range others {
		created, err := s.RegisterPush(ctx, o)
		if err != nil || !created || tokens[o.Token] {
			t.Fatalf("RegisterPush(%d/%s for %s) = %v, %v, token %s; want a new registration", o.Collection, o.Home, o.Resource, created, err, o.Token)
		}
		tokens[o.Token] = true
		samePush(t, "registration read back", *getPush(t, s, "u", o.Token), *o)
	}
	home := subscription("u", 0, store.KindCard, "phone")
	home.Property = false
	if created, err := s.RegisterPush(ctx, home); err != nil || created || home.ID != others[0].ID {
		t.Fatalf("RegisterPush on the home again = %v, %v, ID %d; want an update of %d", created, err, home.ID, others[0].ID)
	}
	list, err = s.ListPushRegistrations(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, l := range list {
		ids = append(ids, l.ID)
	}
	eq(t, "ListPushRegistrations newest first", ids, []int64{others[3].ID, others[2].ID, others[1].ID, others[0].ID, r.ID})
	samePush(t, "listed home registration", list[3], *home)
}

// testPushOwnership: only the owner registers on a collection or home,
// and reads or deletes the registration.
func testPushOwnership(t *testing.T, s store.Store) {
	a := book(t, s, "a", "book")
	book(t, s, "b", "book")
	currentPushKey(t, s)
	ra := registerPush(t, s, subscription("a", a.ID, "", "phone-a"))
	for what, r := range map[string]*store.PushRegistration{
		"b on a's collection":               subscription("b", a.ID, "", "phone-b"),
		"b on a's collection, a's resource": subscription("b", a.ID, "", "phone-a"),
		"on no collection":                  subscription("b", a.ID+1000, "", "phone-b"),
		"an unknown user's home":            subscription("ghost", 0, store.KindCard, "phone-g"),
		"an unknown user on a collection":   subscription("ghost", a.ID, "", "phone-g"),
	} {
		_, err := s.RegisterPush(ctx, r)
		wantErr(t, "RegisterPush of "+what, err, store.ErrNotFound)
	}
	samePush(t, "a's registration after b's attempts", *getPush(t, s, "a", ra.Token), *ra)
	_, err := s.GetPushRegistration(ctx, "b", ra.Token)
	wantErr(t, "GetPushRegistration of another's", err, store.ErrNotFound)
	wantErr(t, "DeletePushRegistration of another's", s.DeletePushRegistration(ctx, "b", ra.Token), store.ErrNotFound)
	list, err := s.ListPushRegistrations(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "b's registrations", len(list), 0)
	getPush(t, s, "a", ra.Token)

	if err := s.DeletePushRegistration(ctx, "a", ra.Token); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPushRegistration(ctx, "a", ra.Token)
	wantErr(t, "GetPushRegistration deleted", err, store.ErrNotFound)
	wantErr(t, "DeletePushRegistration twice", s.DeletePushRegistration(ctx, "a", ra.Token), store.ErrNotFound)
	_, err = s.GetPushRegistration(ctx, "a", "no-such-token")
	wantErr(t, "GetPushRegistration unknown", err, store.ErrNotFound)
}

// testPushWrites: every write that changes what a registration watches
// queues one message for it, owing what the change is about, and nothing
// for the others; the delivery carries the registration, its key and the
// collection's sync sequence number at the claim.
func testPushWrites(t *testing.T, s store.Store) {
	f := newMergeFixture(t, s)
	a := f.c
	b := mkColl(t, s, "u", store.KindCard, "second")
	vb := book(t, s, "v", "book")
	colls := map[int64]*store.Collection{a.ID: a, b.ID: b, vb.ID: vb}
	key := currentPushKey(t, s)
	both := registerPush(t, s, subscription("u", a.ID, "", "both"))
	contentOnly := subscription("u", a.ID, "", "content")
	contentOnly.Property = false
	registerPush(t, s, contentOnly)
	propertyOnly := subscription("u", a.ID, "", "property")
	propertyOnly.Content = false
	registerPush(t, s, propertyOnly)
	onB := registerPush(t, s, subscription("u", b.ID, "", "b"))
	cards := registerPush(t, s, subscription("u", 0, store.KindCard, "cards"))
	cals := registerPush(t, s, subscription("u", 0, store.KindCal, "cals"))
	cardsProperty := subscription("u", 0, store.KindCard, "cards-property") // a home has no property update
	cardsProperty.Content = false
	registerPush(t, s, cardsProperty)
	registerPush(t, s, subscription("v", 0, store.KindCard, "v-cards"))
	onV := registerPush(t, s, subscription("v", vb.ID, "", "v"))
	regs := map[int64]*store.PushRegistration{}
	for _, login := range []string{"u", "v"} {
		list, err := s.ListPushRegistrations(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			regs[r.ID] = &r
		}
	}

	content := map[int64]string{both.ID: "c", contentOnly.ID: "c"}
	var m *store.Merge
	steps := []struct {
		what  string
		write func() error
		fails bool
		want  map[int64]string
	}{
		{"PutObject", func() error {
			_, _, err := s.PutObject(ctx, &store.Object{Collection: a.ID, Name: "new.vcf", UID: "uid-new", Data: vcard("uid-new", "New")}, store.Conditions{})
			return err
		}, false, content},
		{"PutObject refused", func() error {
			_, _, err := s.PutObject(ctx, &store.Object{Collection: a.ID, Name: "new.vcf", UID: "uid-new", Data: vcard("uid-new", "Newer")}, store.Conditions{IfNoneMatch: true})
			return err
		}, true, map[int64]string{}},
		{"DeleteObject", func() error { return s.DeleteObject(ctx, a.ID, "new.vcf", store.Conditions{}) }, false, content},
		{"MoveObject in a collection", func() error {
			_, err := s.MoveObject(ctx, a.ID, "other.vcf", a.ID, "moved.vcf", false, store.Conditions{})
			return err
		}, false, content},
		{"MoveObject to another collection", func() error {
			_, err := s.MoveObject(ctx, a.ID, "moved.vcf", b.ID, "moved.vcf", false, store.Conditions{})
			return err
		}, false, map[int64]string{both.ID: "c", contentOnly.ID: "c", onB.ID: "c"}},
		{"ApplyMerge", func() error {
			var err error
			m, err = s.ApplyMerge(ctx, f.write())
			return err
		}, false, content},
		{"UndoMerge", func() error { return s.UndoMerge(ctx, a.ID, m.ID, undoOf(t, s, a.ID, m.ID), f.originals(), false) }, false, content},
		{"ApplyMerge again", func() error {
			var err error
			m, err = s.ApplyMerge(ctx, f.write())
			return err
		}, false, content},
		{"FoldInto", func() error {
			ref, err := s.GetObject(ctx, a.ID, "a.vcf")
			if err != nil {
				return err
			}
			survivor := &store.Object{Collection: a.ID, Name: "a.vcf", UID: "uid-a", Data: vcard("uid-a", "Ann Smith, folded")}
			_, err = s.FoldInto(ctx, survivor, store.Conditions{IfMatch: ref.ETag}, "b.vcf", m.ID, undoOf(t, s, a.ID, m.ID), []byte("new undo"))
			return err
		}, false, content},
		{"UpdateCollection", func() error {
			return s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error {
				c.DisplayName = "Renamed"
				return nil
			})
		}, false, map[int64]string{both.ID: "p", propertyOnly.ID: "p", cards.ID: "c"}},
		{"UpdateCollection of a property", func() error {
			return s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error {
				c.Props["{urn:x}color"] = "<x:color xmlns:x=\"urn:x\">red</x:color>"
				return nil
			})
		}, false, map[int64]string{both.ID: "p", propertyOnly.ID: "p", cards.ID: "c"}},
		// No change of properties, no message.
		{"UpdateCollection changing nothing", func() error {
			return s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error { return nil })
		}, false, map[int64]string{}},
		{"UpdateCollection refused", func() error {
			return s.UpdateCollection(ctx, a.ID, func(c *store.Collection) error {
				c.DisplayName = "Refused"
				return errors.New("refused")
			})
		}, true, map[int64]string{}},
		{"CreateCollection of cards", func() error {
			return s.CreateCollection(ctx, &store.Collection{Owner: "u", Kind: store.KindCard, Name: "third"})
		}, false, map[int64]string{cards.ID: "c"}},
		{"CreateCollection of a calendar", func() error {
			return s.CreateCollection(ctx, &store.Collection{Owner: "u", Kind: store.KindCal, Name: "calendar"})
		}, false, map[int64]string{cals.ID: "c"}},
		{"DeleteCollection", func() error {
			// onB is told, without a token (SyncSeq 0), and goes once told.
			regs[onB.ID].Collection, regs[onB.ID].Gone = 0, b.ID
			return s.DeleteCollection(ctx, b.ID)
		}, false, map[int64]string{cards.ID: "c", onB.ID: "c"}},
		{"another user's write", func() error {
			_, _, err := s.PutObject(ctx, &store.Object{Collection: vb.ID, Name: "v.vcf", UID: "uid-v", Data: vcard("uid-v", "V")}, store.Conditions{})
			return err
		}, false, map[int64]string{onV.ID: "c"}},
	}
	for _, st := range steps {
		if err := st.write(); (err != nil) != st.fails {
			t.Fatalf("%s: %v", st.what, err)
		}
		eq(t, st.what+": messages queued", tableRows(t, s, "push_queue"), int64(len(st.want)))
		now := time.Now()
		ds, next := claimPushes(t, s, now, 0, pushLimit)
		eq(t, st.what+": messages owed", owed(t, ds), st.want)
		if !next.IsZero() {
			t.Fatalf("%s: next %v with every message claimed", st.what, next)
		}
		for i := range ds {
			d := &ds[i]
			samePush(t, st.what+": delivered registration", d.Registration, *regs[d.Registration.ID])
			samePushKey(t, st.what+": delivery's key", d.Key, key)
			var seq int64
			if c := colls[d.Registration.Collection]; c != nil {
				seq = syncSeq(t, s, c)
			}
			eq(t, st.what+": delivery's SyncSeq", d.SyncSeq, seq)
			recent(t, st.what+": delivery's Queued", d.Queued)
			if d.Attempts != 0 || d.Rotation {
				t.Fatalf("%s: delivery %+v", st.what, d)
			}
			if err := s.FinishPush(ctx, d, now); err != nil {
				t.Fatalf("%s: FinishPush: %v", st.what, err)
			}
			regs[d.Registration.ID].LastSent = now.Truncate(time.Microsecond)
		}
		eq(t, st.what+": messages left", tableRows(t, s, "push_queue"), int64(0))
	}
	_, err := s.GetPushRegistration(ctx, "u", onB.Token)
	wantErr(t, "registration on a deleted collection, told", err, store.ErrNotFound)
}

// testPushJoin: a change queued while a message is queued joins it, also
// while it is claimed: then FinishPush keeps it queued.
func testPushJoin(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	r := registerPush(t, s, subscription("u", c.ID, "", "phone"))
	before := time.Now().Truncate(time.Microsecond)
	put(t, s, c.ID, "1.vcf", "uid-1", "One")
	after := time.Now()
	put(t, s, c.ID, "2.vcf", "uid-2", "Two")
	eq(t, "messages queued by two writes", tableRows(t, s, "push_queue"), int64(1))
	now := time.Now()
	ds, _ := claimPushes(t, s, now, 0, pushLimit)
	eq(t, "claimed after two writes", owed(t, ds), map[int64]string{r.ID: "c"})
	first := ds[0]
	eq(t, "SyncSeq: the newest", first.SyncSeq, syncSeq(t, s, c))
	if first.Queued.Before(before) || first.Queued.After(after) {
		t.Fatalf("Queued %v, want the first write's time, within %v and %v", first.Queued, before, after)
	}

	// A change of properties joins the claimed message.
	if err := s.UpdateCollection(ctx, c.ID, func(c *store.Collection) error { c.Color = "#ff0000ff"; return nil }); err != nil {
		t.Fatal(err)
	}
	eq(t, "messages queued after a change joined", tableRows(t, s, "push_queue"), int64(1))
	if err := s.FinishPush(ctx, &first, now); err != nil {
		t.Fatal(err)
	}
	if got := getPush(t, s, "u", r.Token).LastSent; !got.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("LastSent %v, want %v", got, now)
	}
	// What was delivered stays owed with what joined: the store cannot
	// tell them apart.
	ds, _ = claimPushes(t, s, now, 0, pushLimit)
	eq(t, "claimed after the finished delivery", owed(t, ds), map[int64]string{r.ID: "cp"})
	second := ds[0]
	if second.Version == first.Version {
		t.Fatalf("Version %d unchanged by a change that joined", second.Version)
	}
	eq(t, "SyncSeq after a change of properties", second.SyncSeq, first.SyncSeq)
	if err := s.FinishPush(ctx, &second, now); err != nil {
		t.Fatal(err)
	}
	ds, next := claimPushes(t, s, now.Add(pushLease), 0, pushLimit)
	if len(ds) != 0 || !next.IsZero() {
		t.Fatalf("after the last delivery: %v owed, next %v; want nothing", owed(t, ds), next)
	}
	// Changes of content and properties before a claim: one message.
	put(t, s, c.ID, "3.vcf", "uid-3", "Three")
	if err := s.UpdateCollection(ctx, c.ID, func(c *store.Collection) error { c.Description = "joined"; return nil }); err != nil {
		t.Fatal(err)
	}
	eq(t, "two kinds of change before a claim", deliverAll(t, s), map[int64]string{r.ID: "cp"})
}

// testPushHints: Push-Dont-Notify skips registrations of the writer's
// user only; Wake is called once a write that queued committed.
func testPushHints(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	vc := book(t, s, "v", "book")
	quiet := mkColl(t, s, "u", store.KindCard, "quiet")
	currentPushKey(t, s)
	phone := registerPush(t, s, subscription("u", c.ID, "", "phone"))
	laptop := registerPush(t, s, subscription("u", c.ID, "", "laptop"))
	onV := registerPush(t, s, subscription("v", vc.ID, "", "v-phone"))
	noContent := subscription("u", quiet.ID, "", "props")
	noContent.Content = false
	registerPush(t, s, noContent)

	i := 0
	for _, tc := range []struct {
		what  string
		hints store.PushHints
		coll  int64
		fails bool
		want  map[int64]string
	}{
		{"no hints", store.PushHints{}, c.ID, false, map[int64]string{phone.ID: "c", laptop.ID: "c"}},
		{"SkipAll", store.PushHints{SkipAll: true, Login: "u", Skip: []string{phone.Token}}, c.ID, false, map[int64]string{}},
		{"Skip one", store.PushHints{Login: "u", Skip: []string{phone.Token}}, c.ID, false, map[int64]string{laptop.ID: "c"}},
		{"Skip both and an unknown", store.PushHints{Login: "u", Skip: []string{laptop.Token, "unknown", phone.Token}}, c.ID, false, map[int64]string{}},
		{"Skip another user's", store.PushHints{Login: "u", Skip: []string{onV.Token}}, vc.ID, false, map[int64]string{onV.ID: "c"}},
		{"Skip as another user", store.PushHints{Login: "v", Skip: []string{phone.Token, laptop.Token}}, c.ID, false, map[int64]string{phone.ID: "c", laptop.ID: "c"}},
		{"Skip without a login", store.PushHints{Skip: []string{phone.Token}}, c.ID, false, map[int64]string{phone.ID: "c", laptop.ID: "c"}},
		{"no registration wants content", store.PushHints{}, quiet.ID, false, map[int64]string{}},
		{"a refused write", store.PushHints{}, c.ID, true, map[int64]string{}},
	} {
		i++
		name := fmt.Sprintf("%d.vcf", i)
		cond := store.Conditions{}
		if tc.fails {
			name, cond = "1.vcf", store.Conditions{IfNoneMatch: true}
		}
		var woken atomic.Int32
		var seen error
		h := tc.hints
		h.Wake = func() {
			woken.Add(1)
			// Called after the commit: a reader sees the write.
			_, seen = s.GetObject(ctx, tc.coll, name)
		}
		_, _, err := s.PutObject(store.WithPushHints(ctx, h), &store.Object{Collection: tc.coll, Name: name, UID: name, Data: vcard(name, name)}, cond)
		if (err != nil) != tc.fails {
			t.Fatalf("%s: PutObject: %v", tc.what, err)
		}
		wantWake := int32(0)
		if len(tc.want) > 0 {
			wantWake = 1
		}
		eq(t, tc.what+": Wake calls", woken.Load(), wantWake)
		if seen != nil {
			t.Fatalf("%s: Wake did not see the write: %v", tc.what, seen)
		}
		eq(t, tc.what+": messages owed", deliverAll(t, s), tc.want)
	}
}

// testPushExpired: an expired registration gets nothing queued, and what
// it had queued is deleted by the next claim.
func testPushExpired(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	gone := subscription("u", c.ID, "", "gone")
	gone.Expires = time.Now().Add(-time.Minute).Truncate(time.Microsecond) // kept until PrunePush
	registerPush(t, s, gone)
	goneHome := subscription("u", 0, store.KindCard, "gone")
	goneHome.Expires = gone.Expires
	registerPush(t, s, goneHome)
	var woken atomic.Int32
	wake := store.WithPushHints(ctx, store.PushHints{Wake: func() { woken.Add(1) }})
	if _, _, err := s.PutObject(wake, &store.Object{Collection: c.ID, Name: "1.vcf", UID: "1", Data: vcard("1", "One")}, store.Conditions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCollection(wake, &store.Collection{Owner: "u", Kind: store.KindCard, Name: "new"}); err != nil {
		t.Fatal(err)
	}
	eq(t, "messages queued for an expired registration", tableRows(t, s, "push_queue"), int64(0))
	eq(t, "Wake calls", woken.Load(), int32(0))

	now := time.Now()
	soon := subscription("u", c.ID, "", "soon")
	soon.Expires = now.Add(time.Hour).Truncate(time.Microsecond)
	registerPush(t, s, soon)
	put(t, s, c.ID, "2.vcf", "2", "Two")
	eq(t, "messages queued", tableRows(t, s, "push_queue"), int64(1))
	ds, next := claimPushes(t, s, soon.Expires, 0, pushLimit)
	if len(ds) != 0 || !next.IsZero() {
		t.Fatalf("claim as the registration expires: %v owed, next %v; want nothing", owed(t, ds), next)
	}
	eq(t, "messages kept for an expired registration", tableRows(t, s, "push_queue"), int64(0))
	// Registered again, it owes nothing: the message was deleted.
	soon.Expires = now.Add(3 * time.Hour).Truncate(time.Microsecond)
	registerPush(t, s, soon)
	ds, _ = claimPushes(t, s, now.Add(2*time.Hour), 0, pushLimit)
	eq(t, "claimed after registering again", owed(t, ds), map[int64]string{})

	// A message that becomes due only once its registration expired is
	// not awaited.
	put(t, s, c.ID, "3.vcf", "3", "Three")
	ds, _ = claimPushes(t, s, now, 0, pushLimit)
	eq(t, "claimed", owed(t, ds), map[int64]string{soon.ID: "c"})
	if err := s.RetryPush(ctx, &ds[0], soon.Expires, "503"); err != nil {
		t.Fatal(err)
	}
	ds, next = claimPushes(t, s, now, 0, pushLimit)
	if len(ds) != 0 || !next.IsZero() {
		t.Fatalf("claim with a retry due at the expiry: %v owed, next %v; want nothing", owed(t, ds), next)
	}
}

// pushOrder queues one message each for n registrations, on collections
// of their own, oldest first, and returns the registrations in that order.
func pushOrder(t *testing.T, s store.Store, n int) []*store.PushRegistration {
	t.Helper()
	book(t, s, "u", "book")
	currentPushKey(t, s)
	var regs []*store.PushRegistration
	for i := range n {
		c := mkColl(t, s, "u", store.KindCard, fmt.Sprint("book-", i))
		regs = append(regs, registerPush(t, s, subscription("u", c.ID, "", "phone")))
	}
	// Queued in the reverse order of the IDs, a little apart.
	slices.Reverse(regs)
	for _, r := range regs {
		put(t, s, r.Collection, "1.vcf", "uid-1", "One")
		time.Sleep(2 * time.Millisecond)
	}
	return regs
}

// testPushClaims: a claim takes the due messages, oldest first, and
// leases them; a claim that no longer holds changes nothing.
func testPushClaims(t *testing.T, s store.Store) {
	if _, _, err := s.ClaimPushes(ctx, time.Now(), pushLease, 0, 0); err == nil {
		t.Fatal("ClaimPushes with limit 0: no error")
	}
	if _, _, err := s.ClaimPushes(ctx, time.Now(), 0, 0, 1); err == nil {
		t.Fatal("ClaimPushes with lease 0: no error")
	}
	regs := pushOrder(t, s, 5)
	var order []int64
	for _, r := range regs {
		order = append(order, r.ID)
	}
	now := time.Now().Truncate(time.Microsecond)
	c1, next := claimPushes(t, s, now, 0, 2)
	eq(t, "first claim: oldest first", pushIDs(c1), order[:2])
	if next.IsZero() || next.After(now) {
		t.Fatalf("next %v with messages due at %v", next, now)
	}
	c2, _ := claimPushes(t, s, now, 0, 2)
	eq(t, "second claim", pushIDs(c2), order[2:4])
	c3, next := claimPushes(t, s, now, 0, 10)
	eq(t, "third claim", pushIDs(c3), order[4:])
	sameTime(t, "next: the first lease's end", next, now.Add(pushLease))
	c4, next := claimPushes(t, s, now.Add(pushLease-time.Microsecond), 0, 10)
	eq(t, "claim while leased", pushIDs(c4), []int64{})
	sameTime(t, "next while leased", next, now.Add(pushLease))

	// Leases run out (their claimer died): the messages come back.
	later := now.Add(pushLease)
	c5, _ := claimPushes(t, s, later, 0, 10)
	eq(t, "claim after the leases ran out", pushIDs(c5), order)
	for what, err := range map[string]error{
		"FinishPush with a lost lease": s.FinishPush(ctx, &c1[0], now),
		"RetryPush with a lost lease":  s.RetryPush(ctx, &c1[1], now, "timeout"),
	} {
		wantErr(t, what, err, store.ErrPrecondition)
	}
	unclaimed := c5[0]
	unclaimed.Lease = time.Time{}
	wantErr(t, "FinishPush without a lease", s.FinishPush(ctx, &unclaimed, later), store.ErrPrecondition)
	if r := getPush(t, s, "u", c5[0].Registration.Token); !r.LastSent.IsZero() {
		t.Fatalf("LastSent %v after refused outcomes", r.LastSent)
	}
	for i := range c5 {
		if err := s.FinishPush(ctx, &c5[i], later); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "FinishPush twice", s.FinishPush(ctx, &c5[0], later), store.ErrPrecondition)
	ds, next := claimPushes(t, s, later.Add(pushLease), 0, 10)
	if len(ds) != 0 || !next.IsZero() {
		t.Fatalf("after every delivery: %v owed, next %v; want nothing", owed(t, ds), next)
	}
}

// testPushClaimsConcurrent: claims at once take each message once.
func testPushClaimsConcurrent(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	const total, workers = 40, 8
	for i := range total {
		registerPush(t, s, subscription("u", c.ID, "", fmt.Sprint("phone-", i)))
	}
	put(t, s, c.ID, "1.vcf", "uid-1", "One")
	seen := claimAtOnce(t, workers, total, s, s)
	eq(t, "messages claimed", len(seen), total)
}

// claimAtOnce claims through a and b alternately, from workers goroutines
// at once, until nothing is left, and returns how often each registration
// was delivered; it fails when one was delivered twice.
func claimAtOnce(t *testing.T, workers, total int, a, b store.Store) map[int64]int {
	var mu sync.Mutex
	seen := map[int64]int{}
	now := time.Now()
	atOnce(workers, a, b, func(_ int, s store.Store) {
		for range total { // bounded: a store that never leases would loop
			ds, _, err := s.ClaimPushes(ctx, now, pushLease, 0, 3)
			if err != nil {
				t.Error(err)
				return
			}
			if len(ds) == 0 {
				return
			}
			mu.Lock()
			for _, d := range ds {
				seen[d.Registration.ID]++
			}
			mu.Unlock()
		}
	})
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("registration %d claimed %d times", id, n)
		}
	}
	return seen
}

// testPushSpacing: a registration gets one message per spacing; changes
// within it wait, and next says until when.
func testPushSpacing(t *testing.T, s store.Store) {
	const spacing = 10 * time.Second
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	r := registerPush(t, s, subscription("u", c.ID, "", "phone"))
	put(t, s, c.ID, "1.vcf", "uid-1", "One")
	sent := time.Now().Truncate(time.Microsecond)
	ds, _ := claimPushes(t, s, sent, spacing, pushLimit)
	eq(t, "first claim", owed(t, ds), map[int64]string{r.ID: "c"})
	if err := s.FinishPush(ctx, &ds[0], sent); err != nil {
		t.Fatal(err)
	}
	put(t, s, c.ID, "2.vcf", "uid-2", "Two")
	for _, at := range []time.Time{sent, sent.Add(spacing - time.Microsecond)} {
		ds, next := claimPushes(t, s, at, spacing, pushLimit)
		eq(t, fmt.Sprintf("claim %v after a delivery", at.Sub(sent)), owed(t, ds), map[int64]string{})
		sameTime(t, "next within the spacing", next, sent.Add(spacing))
	}
	ds, _ = claimPushes(t, s, sent.Add(spacing), spacing, pushLimit)
	eq(t, "claim after the spacing", owed(t, ds), map[int64]string{r.ID: "c"})
	sameTime(t, "delivered registration's LastSent", ds[0].Registration.LastSent, sent)
}

// testPushRetry: a failed attempt is counted once and due again at its
// retry time; a success forgets the attempts.
func testPushRetry(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	r := registerPush(t, s, subscription("u", c.ID, "", "phone"))
	put(t, s, c.ID, "1.vcf", "uid-1", "One")
	now := time.Now().Truncate(time.Microsecond)
	ds, _ := claimPushes(t, s, now, 0, pushLimit)
	first := ds[0]
	retry := now.Add(time.Minute)
	if err := s.RetryPush(ctx, &first, retry, "503 Service Unavailable"); err != nil {
		t.Fatal(err)
	}
	ds, next := claimPushes(t, s, retry.Add(-time.Microsecond), 0, pushLimit)
	eq(t, "claim before the retry", owed(t, ds), map[int64]string{})
	sameTime(t, "next: the retry", next, retry)
	ds, _ = claimPushes(t, s, retry, 0, pushLimit)
	eq(t, "claim at the retry", owed(t, ds), map[int64]string{r.ID: "c"})
	second := ds[0]
	eq(t, "Attempts", second.Attempts, 1)
	wantErr(t, "RetryPush of a retried claim", s.RetryPush(ctx, &first, retry, "again"), store.ErrPrecondition)
	wantErr(t, "FinishPush of a retried claim", s.FinishPush(ctx, &first, retry), store.ErrPrecondition)
	if err := s.RetryPush(ctx, &second, time.Time{}, "timeout"); err != nil { // due at once
		t.Fatal(err)
	}
	ds, _ = claimPushes(t, s, retry, 0, pushLimit)
	third := ds[0]
	eq(t, "Attempts after two", third.Attempts, 2)
	// A change joins; the delivery succeeds: the message left has no
	// failed attempt.
	put(t, s, c.ID, "2.vcf", "uid-2", "Two")
	if err := s.FinishPush(ctx, &third, retry); err != nil {
		t.Fatal(err)
	}
	ds, _ = claimPushes(t, s, retry, 0, pushLimit)
	eq(t, "claim of what joined", owed(t, ds), map[int64]string{r.ID: "c"})
	eq(t, "Attempts after a success", ds[0].Attempts, 0)

	// A message being retried waits behind one never tried, however much
	// older it is: a failing push service does not hold up the others.
	if err := s.RetryPush(ctx, &ds[0], time.Time{}, "timeout"); err != nil {
		t.Fatal(err)
	}
	other := mkColl(t, s, "u", store.KindCard, "other")
	fresh := registerPush(t, s, subscription("u", other.ID, "", "tablet"))
	put(t, s, other.ID, "1.vcf", "uid-1", "One")
	ds, _ = claimPushes(t, s, retry, 0, 1)
	eq(t, "the one claim of two", owed(t, ds), map[int64]string{fresh.ID: "c"})
	ds, _ = claimPushes(t, s, retry, 0, 1)
	eq(t, "the next claim", owed(t, ds), map[int64]string{r.ID: "c"})
}

// testPushDrop: DropPush deletes the message, or the registration too,
// whatever the claim.
func testPushDrop(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	kept := registerPush(t, s, subscription("u", c.ID, "", "kept"))
	gone := registerPush(t, s, subscription("u", c.ID, "", "gone"))
	put(t, s, c.ID, "1.vcf", "uid-1", "One")
	now := time.Now()
	ds, _ := claimPushes(t, s, now, 0, pushLimit)
	byID := map[int64]*store.PushDelivery{}
	for i := range ds {
		byID[ds[i].Registration.ID] = &ds[i]
	}
	// The message of kept: claimed again since; dropped all the same.
	again, _ := claimPushes(t, s, now.Add(pushLease), 0, pushLimit)
	eq(t, "claimed again", len(again), 2)
	if err := s.DropPush(ctx, byID[kept.ID], false); err != nil {
		t.Fatal(err)
	}
	getPush(t, s, "u", kept.Token)
	if err := s.DropPush(ctx, byID[gone.ID], true); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetPushRegistration(ctx, "u", gone.Token)
	wantErr(t, "GetPushRegistration dropped", err, store.ErrNotFound)
	wantErr(t, "FinishPush of a dropped message", s.FinishPush(ctx, byID[kept.ID], now), store.ErrPrecondition)
	wantErr(t, "FinishPush of a dropped registration", s.FinishPush(ctx, byID[gone.ID], now), store.ErrNotFound)
	wantErr(t, "RetryPush of a dropped registration", s.RetryPush(ctx, byID[gone.ID], now, "x"), store.ErrNotFound)
	if err := s.DropPush(ctx, byID[gone.ID], true); err != nil {
		t.Fatalf("DropPush of a dropped registration: %v", err)
	}
	if err := s.DropPush(ctx, byID[kept.ID], false); err != nil {
		t.Fatalf("DropPush of a dropped message: %v", err)
	}
	ds, next := claimPushes(t, s, now.Add(2*pushLease), 0, pushLimit)
	if len(ds) != 0 || !next.IsZero() {
		t.Fatalf("after the drops: %v owed, next %v; want nothing", owed(t, ds), next)
	}
	put(t, s, c.ID, "2.vcf", "uid-2", "Two")
	eq(t, "claimed after the drops", deliverAll(t, s), map[int64]string{kept.ID: "c"})

	// A change that joined the message since its claim survives the drop
	// of the message, claimable at once.
	put(t, s, c.ID, "3.vcf", "uid-3", "Three")
	now = time.Now()
	ds, _ = claimPushes(t, s, now, 0, pushLimit)
	eq(t, "claimed before the join", len(ds), 1)
	put(t, s, c.ID, "4.vcf", "uid-4", "Four")
	if err := s.DropPush(ctx, &ds[0], false); err != nil {
		t.Fatal(err)
	}
	again, _ = claimPushes(t, s, now, 0, pushLimit)
	eq(t, "claimed after dropping a message a change joined", owed(t, again), map[int64]string{kept.ID: "c"})
	eq(t, "its attempts", again[0].Attempts, 0)
}

// testPushRotate: a new key makes one rotation message per push resource
// bound to a retired key, signed with that key; registering again binds
// to the new one.
func testPushRotate(t *testing.T, s store.Store) {
	a := book(t, s, "u", "a")
	b := mkColl(t, s, "u", store.KindCard, "b")
	k1 := currentPushKey(t, s)
	onA := registerPush(t, s, subscription("u", a.ID, "", "shared"))
	onB := registerPush(t, s, subscription("u", b.ID, "", "shared"))
	home := registerPush(t, s, subscription("u", 0, store.KindCal, "other"))
	expired := subscription("u", a.ID, "", "expired")
	expired.Expires = time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	registerPush(t, s, expired)
	resources := map[int64]string{onA.ID: onA.Resource, onB.ID: onB.Resource, home.ID: home.Resource}

	now := time.Now().Truncate(time.Microsecond)
	if err := s.RotatePushKey(ctx, store.PushKey{Public: "public-only"}, now); err == nil {
		t.Fatal("RotatePushKey without a private half: no error")
	}
	if err := s.RotatePushKey(ctx, store.PushKey{Private: "private-next", Public: "public-next"}, now); err != nil {
		t.Fatal(err)
	}
	k2 := currentPushKey(t, s)
	if k2.ID == k1.ID || k2.Private != "private-next" || k2.Public != "public-next" || !k2.Created.Equal(now) || !k2.Retired.IsZero() {
		t.Fatalf("key after rotation %+v", k2)
	}
	eq(t, "rotation messages queued", tableRows(t, s, "push_queue"), int64(2))
	rotated := func(what string, at time.Time, keys map[int64]store.PushKey) {
		t.Helper()
		ds, _ := claimPushes(t, s, at, 0, pushLimit)
		got := map[string]bool{}
		for i := range ds {
			d := &ds[i]
			res := resources[d.Registration.ID]
			if res == "" || got[res] || !d.Rotation || d.Content || d.Property {
				t.Fatalf("%s: delivery %+v", what, d)
			}
			got[res] = true
			want := keys[d.Registration.ID]
			if d.Key.ID != want.ID || d.Key.Private != want.Private || d.Key.Retired.IsZero() {
				t.Fatalf("%s: delivery to %d signed with %+v, want the retired key %d", what, d.Registration.ID, d.Key, want.ID)
			}
			if err := s.FinishPush(ctx, d, at); err != nil {
				t.Fatal(err)
			}
		}
		eq(t, what+": resources", got, map[string]bool{onA.Resource: true, home.Resource: true})
	}
	rotated("first rotation", now, map[int64]store.PushKey{onA.ID: k1, onB.ID: k1, home.ID: k1})

	// Registering again binds to the current key.
	again := registerPush(t, s, subscription("u", a.ID, "", "shared"))
	eq(t, "registered again", []int64{again.ID, again.KeyID}, []int64{onA.ID, k2.ID})
	put(t, s, a.ID, "1.vcf", "uid-1", "One")
	ds, _ := claimPushes(t, s, now, 0, pushLimit)
	eq(t, "content after registering again", owed(t, ds), map[int64]string{onA.ID: "c"})
	eq(t, "its key", ds[0].Key.ID, k2.ID)
	if err := s.FinishPush(ctx, &ds[0], now); err != nil {
		t.Fatal(err)
	}

	// Another rotation: every registration is bound to a retired key.
	later := now.Add(time.Hour)
	if err := s.RotatePushKey(ctx, store.PushKey{Private: "private-3", Public: "public-3"}, later); err != nil {
		t.Fatal(err)
	}
	rotated("second rotation", later, map[int64]store.PushKey{onA.ID: k2, onB.ID: k1, home.ID: k1})
}

// testPushPrune: PrunePush deletes expired registrations with their
// messages, and retired keys no registration is bound to.
func testPushPrune(t *testing.T, s store.Store) {
	c := book(t, s, "u", "book")
	currentPushKey(t, s)
	now := time.Now().Truncate(time.Microsecond)
	gone := subscription("u", c.ID, "", "gone")
	gone.Expires = now.Add(time.Hour)
	registerPush(t, s, gone)
	kept := subscription("u", c.ID, "", "kept")
	kept.Expires = now.Add(2 * time.Hour)
	registerPush(t, s, kept)
	put(t, s, c.ID, "1.vcf", "uid-1", "One")

	if n, err := s.PrunePush(ctx, now); err != nil || n != 0 {
		t.Fatalf("PrunePush before any expiry = %d, %v", n, err)
	}
	if err := s.RotatePushKey(ctx, store.PushKey{Private: "private-next", Public: "public-next"}, now); err != nil {
		t.Fatal(err)
	}
	eq(t, "keys after rotation", tableRows(t, s, "push_keys"), int64(2))
	if n, err := s.PrunePush(ctx, gone.Expires); err != nil || n != 1 {
		t.Fatalf("PrunePush at the first expiry = %d, %v; want 1", n, err)
	}
	_, err := s.GetPushRegistration(ctx, "u", gone.Token)
	wantErr(t, "GetPushRegistration pruned", err, store.ErrNotFound)
	getPush(t, s, "u", kept.Token)
	eq(t, "messages after pruning", tableRows(t, s, "push_queue"), int64(1))
	eq(t, "keys while the retired one is bound", tableRows(t, s, "push_keys"), int64(2))

	registerPush(t, s, kept) // bound to the current key now
	if n, err := s.PrunePush(ctx, gone.Expires); err != nil || n != 0 {
		t.Fatalf("PrunePush again = %d, %v; want 0", n, err)
	}
	eq(t, "keys once the retired one is unbound", tableRows(t, s, "push_keys"), int64(1))
	// The current key stays, bound or not.
	if err := s.DeletePushRegistration(ctx, "u", kept.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PrunePush(ctx, now.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	eq(t, "current key", currentPushKey(t, s).Public, "public-next")
	eq(t, "keys", tableRows(t, s, "push_keys"), int64(1))
	eq(t, "messages", tableRows(t, s, "push_queue"), int64(0))
}

// testPushCascade: a deleted collection's registrations that want content
// updates, not expired and not skipped, are told with a last message (no
// sync token: SyncSeq 0), and go once it is delivered or dropped; the
// others go at once. A collection created again under its name inherits
// none of them, and a key rotation passes them over. Registrations and
// their messages go with their user.
func testPushCascade(t *testing.T, s store.Store) {
	a := book(t, s, "u", "a")
	b := mkColl(t, s, "u", store.KindCard, "b")
	vb := book(t, s, "v", "book")
	currentPushKey(t, s)
	phone := registerPush(t, s, subscription("u", a.ID, "", "phone"))
	tablet := registerPush(t, s, subscription("u", a.ID, "", "tablet"))
	props := subscription("u", a.ID, "", "props")
	props.Content = false
	registerPush(t, s, props)
	skipped := registerPush(t, s, subscription("u", a.ID, "", "skipped"))
	onB := registerPush(t, s, subscription("u", b.ID, "", "phone"))
	home := registerPush(t, s, subscription("u", 0, store.KindCard, "phone"))
	onV := registerPush(t, s, subscription("v", vb.ID, "", "phone"))
	expired := subscription("u", a.ID, "", "expired") // last: RegisterPush deletes expired ones
	expired.Expires = time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	registerPush(t, s, expired)
	put(t, s, a.ID, "1.vcf", "uid-1", "One")
	put(t, s, vb.ID, "1.vcf", "uid-1", "One")
	if err := s.DeleteCollection(store.WithPushHints(ctx, store.PushHints{Login: "u", Skip: []string{skipped.Token}}), a.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*store.PushRegistration{props, skipped, expired} {
		_, err := s.GetPushRegistration(ctx, "u", r.Token)
		wantErr(t, "registration of a deleted collection, "+r.Resource, err, store.ErrNotFound)
	}
	for _, r := range []*store.PushRegistration{phone, tablet} {
		r.Collection, r.Gone = 0, a.ID
		samePush(t, "registration of a deleted collection, to be told", *getPush(t, s, "u", r.Token), *r)
	}
	list, err := s.ListPushRegistrations(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "registrations listed", len(list), 4)

	// The collection again, changed: not what they watched.
	again := mkColl(t, s, "u", store.KindCard, "a")
	put(t, s, again.ID, "1.vcf", "uid-1", "One")
	if err := s.UpdateCollection(ctx, again.ID, func(c *store.Collection) error { c.DisplayName = "Again"; return nil }); err != nil {
		t.Fatal(err)
	}
	// A rotation goes through the oldest registration of phone's
	// resource that is not going: onB; tablet's has none left.
	if err := s.RotatePushKey(ctx, store.PushKey{Private: "private-next", Public: "public-next"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ds, _ := claimPushes(t, s, now, 0, pushLimit)
	eq(t, "after deleting a collection", owed(t, ds),
		map[int64]string{phone.ID: "c", tablet.ID: "c", onB.ID: "r", home.ID: "c", onV.ID: "c"})
	for i := range ds {
		d := &ds[i]
		switch d.Registration.ID {
		case phone.ID, tablet.ID:
			eq(t, "a deleted collection's SyncSeq", d.SyncSeq, int64(0))
			eq(t, "a deleted collection's registration's Gone", d.Registration.Gone, a.ID)
		}
		switch d.Registration.ID {
		case phone.ID:
			stale := *d
			stale.Lease = d.Lease.Add(-time.Second)
			wantErr(t, "FinishPush of a claim that no longer holds", s.FinishPush(ctx, &stale, now), store.ErrPrecondition)
			getPush(t, s, "u", phone.Token)
			if err := s.FinishPush(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		case tablet.ID:
			if err := s.RetryPush(ctx, d, now, "503"); err != nil {
				t.Fatal(err)
			}
		default:
			if err := s.FinishPush(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = s.GetPushRegistration(ctx, "u", phone.Token)
	wantErr(t, "a deleted collection's registration once told", err, store.ErrNotFound)
	getPush(t, s, "u", tablet.Token)
	ds, _ = claimPushes(t, s, now, 0, pushLimit)
	eq(t, "retried", owed(t, ds), map[int64]string{tablet.ID: "c"})
	if err := s.DropPush(ctx, &ds[0], false); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPushRegistration(ctx, "u", tablet.Token)
	wantErr(t, "a deleted collection's registration once its message was dropped", err, store.ErrNotFound)
	put(t, s, again.ID, "2.vcf", "uid-2", "Two")
	eq(t, "messages queued by a write to the collection created again", tableRows(t, s, "push_queue"), int64(0))

	put(t, s, b.ID, "1.vcf", "uid-1", "One")
	if err := s.DeleteUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	list, err = s.ListPushRegistrations(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "registrations of a deleted user", len(list), 0)
	for _, token := range []string{onB.Token, home.Token} {
		_, err := s.GetPushRegistration(ctx, "u", token)
		wantErr(t, "registration of a deleted user", err, store.ErrNotFound)
	}
	eq(t, "messages of a deleted user", tableRows(t, s, "push_queue"), int64(0))
	eq(t, "registrations left", tableRows(t, s, "push_registrations"), int64(1))
	put(t, s, vb.ID, "2.vcf", "uid-2", "Two")
	eq(t, "another user's", deliverAll(t, s), map[int64]string{onV.ID: "c"})
}

// --- through two processes -----------------------------------------------

// Secrets and the key asked for at once through both processes: one
// value each for all.
func testSharedPushKeys(t *testing.T, a, b store.Store) {
	const n = 8
	gen, _ := pushKeyGen()
	secrets := make([]string, n)
	keys := make([]store.PushKey, n)
	errs := make([]error, 2*n)
	atOnce(n, a, b, func(i int, s store.Store) {
		secrets[i], errs[i] = s.Secret(ctx, "topic", func() (string, error) { return fmt.Sprint("secret-", i), nil })
		keys[i], errs[n+i] = s.PushKey(ctx, gen)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if secrets[i] != secrets[0] || keys[i].ID != keys[0].ID || keys[i].Private != keys[0].Private {
			t.Fatalf("at once: secrets %q, keys %+v; want one of each", secrets, keys)
		}
	}
}

// Claims at once through both processes take each message once.
func testSharedPushClaims(t *testing.T, a, b store.Store) {
	c := book(t, a, "u", "book")
	currentPushKey(t, a)
	const total, workers = 40, 8
	for i := range total {
		registerPush(t, b, subscription("u", c.ID, "", fmt.Sprint("phone-", i)))
	}
	put(t, a, c.ID, "1.vcf", "uid-1", "One")
	seen := claimAtOnce(t, workers, total, a, b)
	eq(t, "messages claimed", len(seen), total)
}
