package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// --- accounts: app passwords, sessions, sign-ins -------------------------

func testRequireAppPasswords(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx, &store.User{Login: "strict", PasswordHash: "h", RequireAppPasswords: true}); err != nil {
		t.Fatal(err)
	}
	mkUser(t, s, "lax")
	get := func(login string) bool {
		t.Helper()
		u, err := s.GetUser(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		return u.RequireAppPasswords
	}
	eq(t, "created with flag", get("strict"), true)
	eq(t, "default", get("lax"), false)

	if err := s.SetRequireAppPasswords(ctx, "lax", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRequireAppPasswords(ctx, "strict", false); err != nil {
		t.Fatal(err)
	}
	eq(t, "lax after set", get("lax"), true)
	eq(t, "strict after clear", get("strict"), false)
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListUsers flags", []bool{users[0].RequireAppPasswords, users[1].RequireAppPasswords}, []bool{true, false}) // lax, strict
	// Setting it again to the same value is fine.
	if err := s.SetRequireAppPasswords(ctx, "lax", true); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetRequireAppPasswords missing", s.SetRequireAppPasswords(ctx, "nobody", true), store.ErrNotFound)
}

func testUserSettings(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx, &store.User{Login: "mailer@example.org", Backend: store.BackendIMAP, Language: "fr"}); err != nil {
		t.Fatal(err)
	}
	mkUser(t, s, "local")
	get := func(login string) *store.User {
		t.Helper()
		u, err := s.GetUser(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := get("mailer@example.org")
	eq(t, "backend", u.Backend, store.BackendIMAP)
	eq(t, "language", u.Language, "fr")
	eq(t, "mail off", len(u.MailOff), 0)
	eq(t, "two factor", u.TwoFactor, false)
	eq(t, "local backend", get("local").Backend, store.BackendLocal)

	err := s.UpdateUserSettings(ctx, "mailer@example.org", func(u *store.User) error {
		u.Language = "de"
		u.MailOff = []string{"new-sign-in", "app-password"}
		u.Backend = "ignored" // not a setting
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u = get("mailer@example.org")
	eq(t, "language updated", u.Language, "de")
	eq(t, "mail off updated", u.MailOff, []string{"new-sign-in", "app-password"})
	eq(t, "backend kept", u.Backend, store.BackendIMAP)
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListUsers settings", users[1].MailOff, []string{"new-sign-in", "app-password"})

	// An error from fn changes nothing.
	boom := errors.New("boom")
	err = s.UpdateUserSettings(ctx, "mailer@example.org", func(u *store.User) error {
		u.Language = "it"
		return boom
	})
	wantErr(t, "fn error", err, boom)
	eq(t, "language after abort", get("mailer@example.org").Language, "de")
	err = s.UpdateUserSettings(ctx, "mailer@example.org", func(u *store.User) error {
		u.MailOff = nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "mail off cleared", len(get("mailer@example.org").MailOff), 0)

	// Region and time zone: none at first, then what fn set, kept by an
	// update of another setting, and cleared again.
	eq(t, "region and time zone at first", []string{u.Region, u.TimeZone}, []string{"", ""})
	err = s.UpdateUserSettings(ctx, "mailer@example.org", func(u *store.User) error {
		u.Region, u.TimeZone = "DE", "Europe/Berlin"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u = get("mailer@example.org")
	eq(t, "region and time zone saved", []string{u.Region, u.TimeZone}, []string{"DE", "Europe/Berlin"})
	eq(t, "other user's region", get("local").Region, "")
	err = s.UpdateUserSettings(ctx, "mailer@example.org", func(u *store.User) error {
		eq(t, "region loaded for fn", u.Region, "DE")
		u.Language = "it"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u = get("mailer@example.org")
	eq(t, "region and time zone kept", []string{u.Region, u.TimeZone}, []string{"DE", "Europe/Berlin"})
	users, err = s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ListUsers region", users[1].Region, "DE")
	err = s.UpdateUserSettings(ctx, "mailer@example.org", func(u *store.User) error {
		u.Region, u.TimeZone = "", ""
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u = get("mailer@example.org")
	eq(t, "region and time zone cleared", []string{u.Region, u.TimeZone}, []string{"", ""})
	if err := s.CreateUser(ctx, &store.User{Login: "created", Region: "CH", TimeZone: "Europe/Zurich"}); err != nil {
		t.Fatal(err)
	}
	u = get("created")
	eq(t, "CreateUser region and time zone", []string{u.Region, u.TimeZone}, []string{"CH", "Europe/Zurich"})
	wantErr(t, "unknown login", s.UpdateUserSettings(ctx, "nobody", func(*store.User) error { return nil }), store.ErrNotFound)
}

func findApp(t *testing.T, s store.Store, owner, digest string) *store.AppPassword {
	t.Helper()
	p, err := s.FindAppPassword(ctx, owner, digest)
	if err != nil {
		t.Fatalf("FindAppPassword(%s, %s): %v", owner, digest, err)
	}
	return p
}

func appNames(t *testing.T, s store.Store, owner string) []string {
	t.Helper()
	list, err := s.ListAppPasswords(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list {
		eq(t, "listed owner", p.Owner, owner)
		out = append(out, p.Name)
	}
	return out
}

func testAppPasswords(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	phone := &store.AppPassword{Owner: "alice", Name: "phone", Digest: "d-phone", Created: base}
	laptop := &store.AppPassword{Owner: "alice", Name: "laptop", Digest: "d-laptop", Created: base.Add(time.Hour)}
	// Same Created as laptop: the later ID comes first.
	tablet := &store.AppPassword{Owner: "alice", Name: "tablet", Digest: "d-tablet", Created: base.Add(time.Hour)}
	bobs := &store.AppPassword{Owner: "bob", Name: "bob's", Digest: "d-bob"}
	for _, p := range []*store.AppPassword{phone, laptop, tablet, bobs} {
		if err := s.CreateAppPassword(ctx, p); err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 {
			t.Fatalf("%s: ID not set", p.Name)
		}
	}
	if tablet.ID <= laptop.ID || laptop.ID <= phone.ID {
		t.Fatalf("IDs not increasing: %d %d %d", phone.ID, laptop.ID, tablet.ID)
	}
	recent(t, "default Created", bobs.Created)

	wantErr(t, "duplicate digest", s.CreateAppPassword(ctx,
		&store.AppPassword{Owner: "alice", Name: "again", Digest: "d-phone"}), store.ErrExists)
	wantErr(t, "duplicate digest of another user", s.CreateAppPassword(ctx,
		&store.AppPassword{Owner: "bob", Name: "again", Digest: "d-phone"}), store.ErrExists)
	wantErr(t, "unknown owner", s.CreateAppPassword(ctx,
		&store.AppPassword{Owner: "nobody", Name: "x", Digest: "d-x"}), store.ErrNotFound)

	eq(t, "ListAppPasswords alice", appNames(t, s, "alice"), []string{"tablet", "laptop", "phone"})
	eq(t, "ListAppPasswords bob", appNames(t, s, "bob"), []string{"bob's"})
	eq(t, "ListAppPasswords nobody", len(appNames(t, s, "nobody")), 0)

	got := findApp(t, s, "alice", "d-phone")
	if got.ID != phone.ID || got.Owner != "alice" || got.Name != "phone" || got.Digest != "d-phone" ||
		!got.Created.Equal(base) || !got.LastUsed.IsZero() || got.LastAddr != "" || got.LastClient != "" {
		t.Fatalf("found %+v", got)
	}

	// Bob cannot see or delete Alice's passwords, and vice versa.
	_, err := s.FindAppPassword(ctx, "bob", "d-phone")
	wantErr(t, "bob finds alice's", err, store.ErrNotFound)
	_, err = s.FindAppPassword(ctx, "alice", "d-bob")
	wantErr(t, "alice finds bob's", err, store.ErrNotFound)
	_, err = s.FindAppPassword(ctx, "alice", "d-none")
	wantErr(t, "unknown digest", err, store.ErrNotFound)
	wantErr(t, "bob deletes alice's", s.DeleteAppPassword(ctx, "bob", phone.ID), store.ErrNotFound)
	findApp(t, s, "alice", "d-phone") // still there

	if err := s.DeleteAppPassword(ctx, "alice", laptop.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete again", s.DeleteAppPassword(ctx, "alice", laptop.ID), store.ErrNotFound)
	_, err = s.FindAppPassword(ctx, "alice", "d-laptop")
	wantErr(t, "find deleted", err, store.ErrNotFound)
	eq(t, "after delete", appNames(t, s, "alice"), []string{"tablet", "phone"})
	eq(t, "bob untouched", appNames(t, s, "bob"), []string{"bob's"})

	// The digest of a deleted password can be used again.
	if err := s.CreateAppPassword(ctx, &store.AppPassword{Owner: "bob", Name: "reuse", Digest: "d-laptop"}); err != nil {
		t.Fatal(err)
	}
	eq(t, "reused digest owner", findApp(t, s, "bob", "d-laptop").Name, "reuse")
}

func testEndOtherSessions(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	exp := time.Now().Add(time.Hour)
	for _, x := range []store.Session{{ID: "a1", Owner: "alice"}, {ID: "a2", Owner: "alice"}, {ID: "a3", Owner: "alice"}, {ID: "b1", Owner: "bob"}} {
		x.Expires = exp
		if err := s.CreateSession(ctx, &x); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.EndOtherSessions(ctx, "alice", "a2")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "ended", n, 2)
	for id, live := range map[string]bool{"a1": false, "a2": true, "a3": false, "b1": true} {
		_, err := s.GetSession(ctx, id)
		if got := err == nil; got != live {
			t.Errorf("session %s live %v, want %v (%v)", id, got, live, err)
		}
	}
	// Bob's session is not alice's to keep.
	n, err = s.EndOtherSessions(ctx, "alice", "b1")
	if err != nil || n != 1 {
		t.Fatalf("keeping another user's session: %d, %v", n, err)
	}
	if _, err := s.GetSession(ctx, "b1"); err != nil {
		t.Errorf("bob's session ended by alice's sign-out: %v", err)
	}
	if n, err := s.EndOtherSessions(ctx, "nobody", ""); n != 0 || err != nil {
		t.Errorf("unknown owner: %d, %v", n, err)
	}
}

func testSessions(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	created := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	exp := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	x := &store.Session{ID: "sid1", Owner: "alice", CSRF: "tok", Created: created, Expires: exp,
		LastSeen: created.Add(time.Minute), Addr: "192.0.2.1", Client: "Firefox"}
	if err := s.CreateSession(ctx, x); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "duplicate id", s.CreateSession(ctx, &store.Session{ID: "sid1", Owner: "alice", Expires: exp}), store.ErrExists)
	wantErr(t, "unknown owner", s.CreateSession(ctx, &store.Session{ID: "sid9", Owner: "nobody", Expires: exp}), store.ErrNotFound)

	got, err := s.GetSession(ctx, "sid1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "sid1" || got.Owner != "alice" || got.CSRF != "tok" || !got.Created.Equal(created) ||
		!got.Expires.Equal(exp) || !got.LastSeen.Equal(created.Add(time.Minute)) ||
		got.Addr != "192.0.2.1" || got.Client != "Firefox" {
		t.Fatalf("got %+v", got)
	}
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, "unknown session", err, store.ErrNotFound)

	seen := time.Now().UTC().Truncate(time.Second)
	exp2 := exp.Add(24 * time.Hour)
	if err := s.TouchSession(ctx, "sid1", seen, exp2); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetSession(ctx, "sid1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeen.Equal(seen) || !got.Expires.Equal(exp2) || !got.Created.Equal(created) || got.CSRF != "tok" {
		t.Fatalf("after touch: %+v", got)
	}
	wantErr(t, "touch unknown", s.TouchSession(ctx, "nope", seen, exp2), store.ErrNotFound)

	// An expired session is gone for GetSession and cannot be touched back.
	old := &store.Session{ID: "old", Owner: "alice", CSRF: "t2", Expires: time.Now().Add(-time.Second)}
	if err := s.CreateSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	recent(t, "default Created", old.Created)
	_, err = s.GetSession(ctx, "old")
	wantErr(t, "expired session", err, store.ErrNotFound)
	wantErr(t, "touch expired", s.TouchSession(ctx, "old", seen, exp2), store.ErrNotFound)
	// Creating another session of the owner drops the expired one, so its
	// id is free again.
	if err := s.CreateSession(ctx, &store.Session{ID: "sid2", Owner: "alice", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, &store.Session{ID: "old", Owner: "alice", CSRF: "t3", Expires: exp}); err != nil {
		t.Fatalf("re-using an expired session's id: %v", err)
	}
	got, err = s.GetSession(ctx, "old")
	if err != nil || got.CSRF != "t3" {
		t.Fatalf("re-created session: %+v %v", got, err)
	}

	if err := s.DeleteSession(ctx, "sid1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSession(ctx, "sid1")
	wantErr(t, "deleted session", err, store.ErrNotFound)
	if err := s.DeleteSession(ctx, "sid1"); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
	if _, err := s.GetSession(ctx, "sid2"); err != nil {
		t.Fatalf("other session: %v", err)
	}
}

func signIns(t *testing.T, s store.Store, login string, limit int) []store.SignIn {
	t.Helper()
	list, err := s.ListSignIns(ctx, login, limit)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func testSignIns(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		ok             bool
		addr, client   string
		newAddr, newDv bool
	}
	steps := []step{
		{false, "198.51.100.1", "Evil", false, false},  // failure: never flagged
		{true, "192.0.2.1", "Firefox", true, true},     // first success: both new
		{true, "192.0.2.1", "Firefox", false, false},   // same address and client
		{true, "192.0.2.1", "DAVx5", false, true},      // new client only
		{false, "203.0.113.7", "curl", false, false},   // failure
		{true, "203.0.113.7", "curl", true, true},      // the failure did not count as seen
		{true, "192.0.2.1", "curl", false, false},      // both seen, though not together
		{true, "198.51.100.1", "Firefox", true, false}, // new address only; the failure did not count
		{true, "192.0.2.1", "", false, true},           // an empty client is a value
		{true, "192.0.2.1", "", false, false},
	}
	var ids []int64
	for i, st := range steps {
		e := &store.SignIn{Login: "alice", Time: base.Add(time.Duration(i) * time.Minute), OK: st.ok, Via: "web",
			Addr: st.addr, Network: "net-" + st.addr, Client: st.client, NewAddress: true, NewDevice: true} // flags are outputs
		if st.ok {
			e.Credential = "password"
		}
		if err := s.RecordSignIn(ctx, e, 0, 0); err != nil {
			t.Fatal(err)
		}
		if e.ID == 0 {
			t.Fatalf("step %d: ID not set", i)
		}
		if e.NewAddress != st.newAddr || e.NewDevice != st.newDv {
			t.Fatalf("step %d (%+v): NewAddress %v NewDevice %v", i, st, e.NewAddress, e.NewDevice)
		}
		// Only the first success is the first; step 5 is new in both ways
		// but not the first.
		if e.First != (i == 1) {
			t.Fatalf("step %d (%+v): First %v", i, st, e.First)
		}
		ids = append(ids, e.ID)
	}
	// Bob's sign-ins are his own: Alice's history does not make his new
	// address known, nor does his show up in her list.
	b := &store.SignIn{Login: "bob", Time: base, OK: true, Via: "dav", Credential: "password", Addr: "192.0.2.1", Network: "net-192.0.2.1", Client: "Firefox"}
	if err := s.RecordSignIn(ctx, b, 0, 0); err != nil {
		t.Fatal(err)
	}
	if !b.NewAddress || !b.NewDevice || !b.First {
		t.Fatalf("bob's first sign-in not new: %+v", b)
	}

	list := signIns(t, s, "alice", 0)
	eq(t, "all listed", len(list), len(steps))
	for i, e := range list {
		j := len(steps) - 1 - i // newest first
		st := steps[j]
		if e.ID != ids[j] || e.Login != "alice" || !e.Time.Equal(base.Add(time.Duration(j)*time.Minute)) ||
			e.OK != st.ok || e.Via != "web" || e.Addr != st.addr || e.Network != "net-"+st.addr || e.Client != st.client ||
			e.NewAddress != st.newAddr || e.NewDevice != st.newDv {
			t.Fatalf("listed %d: %+v, want step %d %+v", i, e, j, st)
		}
	}
	eq(t, "credential of a success", list[0].Credential, "password")
	eq(t, "credential of a failure", list[len(list)-1].Credential, "")
	eq(t, "limit", len(signIns(t, s, "alice", 3)), 3)
	eq(t, "limit picks newest", signIns(t, s, "alice", 3)[0].ID, ids[len(ids)-1])
	eq(t, "bob's", len(signIns(t, s, "bob", 0)), 1)
	eq(t, "nobody's", len(signIns(t, s, "nobody", 0)), 0)

	// SignedInFrom: successes with the account password only, per login,
	// by network.
	for _, c := range []struct {
		login, network string
		want           bool
	}{
		{"alice", "net-192.0.2.1", true},
		{"alice", "net-203.0.113.7", true},  // a failure, then a success
		{"alice", "net-198.51.100.1", true}, // the success after the failure
		{"alice", "net-198.51.100.99", false},
		{"alice", "192.0.2.1", false}, // the address is not the network
		{"bob", "net-192.0.2.1", true},
		{"bob", "net-203.0.113.7", false}, // alice's network, not bob's
		{"nobody", "net-192.0.2.1", false},
	} {
		got, err := s.SignedInFrom(ctx, c.login, c.network)
		if err != nil || got != c.want {
			t.Fatalf("SignedInFrom(%s, %s) = %v, %v; want %v", c.login, c.network, got, err, c.want)
		}
	}
	for _, e := range []*store.SignIn{
		{Login: "bob", Time: base.Add(-2 * time.Minute), Via: "dav", Addr: "198.51.100.7", Network: "net-198.51.100.7"},
		{Login: "bob", Time: base.Add(-time.Minute), OK: true, Via: "dav", Credential: "app:phone", Addr: "198.51.100.8", Network: "net-198.51.100.8"},
	} {
		if err := s.RecordSignIn(ctx, e, 0, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SignedInFrom(ctx, "bob", e.Network); err != nil || got {
			t.Fatalf("SignedInFrom after %+v = %v, %v; want false", e, got, err)
		}
	}

	// Equal times: the later record comes first.
	t1 := &store.SignIn{Login: "bob", Time: base.Add(time.Hour), OK: false, Via: "dav", Addr: "a"}
	t2 := &store.SignIn{Login: "bob", Time: base.Add(time.Hour), OK: false, Via: "dav", Addr: "b"}
	for _, e := range []*store.SignIn{t1, t2} {
		if err := s.RecordSignIn(ctx, e, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	bl := signIns(t, s, "bob", 0)
	eq(t, "tie order", []int64{bl[0].ID, bl[1].ID, bl[2].ID}, []int64{t2.ID, t1.ID, b.ID})

	// Default time.
	d := &store.SignIn{Login: "bob", OK: false, Via: "web"}
	if err := s.RecordSignIn(ctx, d, 0, 0); err != nil {
		t.Fatal(err)
	}
	recent(t, "default Time", d.Time)
}

func testSignInLimitDefault(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 105 {
		e := &store.SignIn{Login: "alice", Time: base.Add(time.Duration(i) * time.Second), Via: "dav"}
		if err := s.RecordSignIn(ctx, e, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	list := signIns(t, s, "alice", 0)
	eq(t, "default limit", len(list), 100)
	eq(t, "newest first", list[0].Time, base.Add(104*time.Second))
	eq(t, "negative limit", len(signIns(t, s, "alice", -1)), 100)
	eq(t, "large limit", len(signIns(t, s, "alice", 1000)), 105)
}

func testSignInAppPassword(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	p := &store.AppPassword{Owner: "alice", Name: "phone", Digest: "d1"}
	q := &store.AppPassword{Owner: "bob", Name: "bob's", Digest: "d2"}
	for _, x := range []*store.AppPassword{p, q} {
		if err := s.CreateAppPassword(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	when := time.Date(2025, 4, 5, 6, 7, 8, 9000, time.UTC)
	e := &store.SignIn{Login: "alice", Time: when, OK: true, Via: "dav", Credential: "app:phone",
		Addr: "192.0.2.9", Client: "DAVx5/4.4"}
	if err := s.RecordSignIn(ctx, e, p.ID, 0); err != nil {
		t.Fatal(err)
	}
	got := findApp(t, s, "alice", "d1")
	if !got.LastUsed.Equal(when) || got.LastAddr != "192.0.2.9" || got.LastClient != "DAVx5/4.4" {
		t.Fatalf("after use: %+v", got)
	}
	list := signIns(t, s, "alice", 0)
	eq(t, "credential", list[0].Credential, "app:phone")

	// A sign-in of Alice cannot mark Bob's app password as used.
	if err := s.RecordSignIn(ctx, &store.SignIn{Login: "alice", Time: when, OK: true, Via: "dav", Addr: "x", Client: "y"}, q.ID, 0); err != nil {
		t.Fatal(err)
	}
	got = findApp(t, s, "bob", "d2")
	if !got.LastUsed.IsZero() || got.LastAddr != "" || got.LastClient != "" {
		t.Fatalf("bob's password touched by alice's sign-in: %+v", got)
	}
	// Nor does a sign-in without an app password touch Alice's.
	later := when.Add(time.Hour)
	if err := s.RecordSignIn(ctx, &store.SignIn{Login: "alice", Time: later, OK: true, Via: "web", Addr: "z"}, 0, 0); err != nil {
		t.Fatal(err)
	}
	got = findApp(t, s, "alice", "d1")
	if !got.LastUsed.Equal(when) || got.LastAddr != "192.0.2.9" {
		t.Fatalf("password touched by a password sign-in: %+v", got)
	}
	// The listing shows the use too.
	apps, err := s.ListAppPasswords(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || !apps[0].LastUsed.Equal(when) || apps[0].LastClient != "DAVx5/4.4" {
		t.Fatalf("listed: %+v", apps)
	}
}

func testSignInPrune(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	base := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	rec := func(login string, at time.Time, ok bool, addr string, keep time.Duration) *store.SignIn {
		t.Helper()
		e := &store.SignIn{Login: login, Time: at, OK: ok, Via: "web", Addr: addr, Client: "c"}
		if err := s.RecordSignIn(ctx, e, 0, keep); err != nil {
			t.Fatal(err)
		}
		return e
	}
	rec("alice", base, true, "a0", 0)
	rec("alice", base.Add(1*day), false, "a1", 0)
	rec("alice", base.Add(2*day), true, "a2", 0)
	rec("bob", base, true, "b0", 0)
	eq(t, "kept with keep 0", len(signIns(t, s, "alice", 0)), 3)
	rec("alice", base.Add(3*day), false, "a3", -day)
	eq(t, "kept with negative keep", len(signIns(t, s, "alice", 0)), 4)

	// keep just under 3 days at day 4: drops day 0 and day 1.
	rec("alice", base.Add(4*day), true, "a4", 3*day-time.Second)
	var addrs []string
	for _, e := range signIns(t, s, "alice", 0) {
		addrs = append(addrs, e.Addr)
	}
	eq(t, "after prune", addrs, []string{"a4", "a3", "a2"})
	eq(t, "bob's not pruned", len(signIns(t, s, "bob", 0)), 1)
	// An entry exactly keep old stays.
	rec("alice", base.Add(5*day), false, "a5", 3*day)
	eq(t, "entry at the cut kept", len(signIns(t, s, "alice", 0)), 4)

	// A pruned success no longer counts as seen.
	e := rec("alice", base.Add(6*day), true, "a0", 0)
	eq(t, "address of a pruned success is new", e.NewAddress, true)
	eq(t, "client still seen", e.NewDevice, false)
}

func testSignInUnknownLogin(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	e := &store.SignIn{Login: "nobody", OK: false, Via: "dav", Addr: "192.0.2.1"}
	if err := s.RecordSignIn(ctx, e, 0, time.Hour); err != nil {
		t.Fatalf("unknown login: %v", err)
	}
	eq(t, "ID of unrecorded sign-in", e.ID, int64(0))
	eq(t, "nothing listed", len(signIns(t, s, "nobody", 0)), 0)
	// Creating that user later shows no inherited history.
	mkUser(t, s, "nobody")
	eq(t, "nothing inherited", len(signIns(t, s, "nobody", 0)), 0)
	eq(t, "alice's empty", len(signIns(t, s, "alice", 0)), 0)
}

func testDeleteUserAccounts(t *testing.T, s store.Store) {
	mkUser(t, s, "gone")
	mkUser(t, s, "stays")
	exp := time.Now().Add(time.Hour)
	for _, login := range []string{"gone", "stays"} {
		p := &store.AppPassword{Owner: login, Name: "p", Digest: "d-" + login}
		if err := s.CreateAppPassword(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, &store.Session{ID: "s-" + login, Owner: login, CSRF: "c", Expires: exp}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSignIn(ctx, &store.SignIn{Login: login, OK: true, Via: "web", Addr: "192.0.2.1", Client: "F"}, p.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUser(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetSession(ctx, "s-gone")
	wantErr(t, "session of deleted user", err, store.ErrNotFound)
	_, err = s.FindAppPassword(ctx, "gone", "d-gone")
	wantErr(t, "app password of deleted user", err, store.ErrNotFound)

	// Re-registered, the login starts with nothing, and its old digest and
	// session id are free.
	mkUser(t, s, "gone")
	eq(t, "app passwords", len(appNames(t, s, "gone")), 0)
	eq(t, "sign-ins", len(signIns(t, s, "gone", 0)), 0)
	if err := s.CreateAppPassword(ctx, &store.AppPassword{Owner: "gone", Name: "p", Digest: "d-gone"}); err != nil {
		t.Fatalf("digest of deleted user: %v", err)
	}
	if err := s.CreateSession(ctx, &store.Session{ID: "s-gone", Owner: "gone", CSRF: "c", Expires: exp}); err != nil {
		t.Fatalf("session id of deleted user: %v", err)
	}
	e := &store.SignIn{Login: "gone", OK: true, Via: "web", Addr: "192.0.2.1", Client: "F"}
	if err := s.RecordSignIn(ctx, e, 0, 0); err != nil {
		t.Fatal(err)
	}
	if !e.NewAddress || !e.NewDevice {
		t.Fatalf("old history still counts: %+v", e)
	}

	// The other user keeps everything.
	if _, err := s.GetSession(ctx, "s-stays"); err != nil {
		t.Fatal(err)
	}
	findApp(t, s, "stays", "d-stays")
	eq(t, "other user's sign-ins", len(signIns(t, s, "stays", 0)), 1)
}

func testPasswordChangeEndsSessions(t *testing.T, s store.Store) {
	mkUser(t, s, "alice")
	mkUser(t, s, "bob")
	exp := time.Now().UTC().Add(time.Hour)
	for _, x := range []*store.Session{{ID: "a1", Owner: "alice"}, {ID: "a2", Owner: "alice"}, {ID: "b1", Owner: "bob"}} {
		x.Expires = exp
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPasswordHash(ctx, "alice", "new hash"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "a2"} {
		_, err := s.GetSession(ctx, id)
		wantErr(t, "alice's session after her password changed", err, store.ErrNotFound)
	}
	if _, err := s.GetSession(ctx, "b1"); err != nil {
		t.Errorf("bob's session after alice's password changed: %v", err)
	}
}
