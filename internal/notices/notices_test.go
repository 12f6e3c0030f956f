package notices

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

var ctx = context.Background()

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func user(t *testing.T, s *sqlite.Store, login, lang string, off ...string) {
	t.Helper()
	if err := s.CreateUser(ctx, &store.User{Login: login, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateUserSettings(ctx, login, func(u *store.User) error {
		u.Language, u.MailOff = lang, off
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func queued(t *testing.T, s *sqlite.Store, login string) []store.Notice {
	t.Helper()
	list, err := s.ListNotices(ctx, login, 0)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestQueue(t *testing.T) {
	s := open(t)
	user(t, s, "alice@example.org", "fr", store.NoticeNewSignIn)
	at := time.Date(2026, 12, 5, 14, 3, 0, 0, time.UTC)
	ok, err := Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticeAppPassword, Time: at,
		Addr: "192.0.2.1", Client: "curl/8.5.0", Detail: "Phone"})
	if err != nil || !ok {
		t.Fatalf("Queue: %v, %v", ok, err)
	}
	list := queued(t, s, "alice@example.org")
	if len(list) != 1 {
		t.Fatalf("%d notices", len(list))
	}
	n := list[0]
	if n.To != "alice@example.org" || n.Language != "fr" || !n.Time.Equal(at) || n.Addr != "192.0.2.1" || n.Client != "curl/8.5.0" || n.Detail != "Phone" {
		t.Fatalf("queued %+v", n)
	}

	// A kind the user turned off is not queued.
	ok, err = Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticeNewSignIn, Time: at})
	if err != nil || ok {
		t.Fatalf("a kind turned off: %v, %v", ok, err)
	}
	// Ten within the hour: one.
	for i := range 10 {
		ok, err := Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticeFailedSignIns,
			Time: at.Add(time.Duration(i) * 5 * time.Minute), Detail: "10"})
		if err != nil || ok != (i == 0) {
			t.Fatalf("failed sign-ins %d: %v, %v", i, ok, err)
		}
	}
	// No time: now.
	if ok, err := Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticePassword}); err != nil || !ok {
		t.Fatalf("without a time: %v, %v", ok, err)
	}
	list = queued(t, s, "alice@example.org")
	if len(list) != 3 {
		t.Fatalf("notices: %+v", list)
	}
	for _, n := range list {
		if n.Kind == store.NoticePassword && time.Since(n.Time).Abs() > time.Minute {
			t.Fatalf("notice without a time: %+v", n)
		}
	}

	// Logins that are not addresses get nothing.
	for _, login := range []string{"bob", "bob@localhost"} {
		user(t, s, login, "")
		if ok, err := Queue(ctx, s, store.Notice{Login: login, Kind: store.NoticePassword, Time: at}); err != nil || ok {
			t.Fatalf("%s: %v, %v", login, ok, err)
		}
		if n := len(queued(t, s, login)); n != 0 {
			t.Fatalf("%s: %d notices", login, n)
		}
	}

	_, err = Queue(ctx, s, store.Notice{Login: "nobody@example.org", Kind: store.NoticePassword, Time: at})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: "surprise", Time: at}); err == nil {
		t.Fatal("unknown kind: no error")
	}
}

func TestDeliverable(t *testing.T) {
	for login, want := range map[string]bool{
		"alice@example.org":                true,
		"a.b+tag@mail.example.co.uk":       true,
		"alice@example.org.":               false,
		"alice":                            false,
		"alice@localhost":                  false,
		"alice@.org":                       false,
		"":                                 false,
		"Alice <alice@example.org>":        false,
		"<alice@example.org>":              false,
		"alice@example.org, b@example.org": false,
		"alice@example.org\r\nBcc: x@example.org": false,
	} {
		if got := Deliverable(login); got != want {
			t.Errorf("Deliverable(%q) = %v, want %v", login, got, want)
		}
	}
}

func TestKinds(t *testing.T) {
	want := []string{store.NoticeNewSignIn, store.NoticeFailedSignIns, store.NoticeTwoFactor, store.NoticeAppPassword, store.NoticePassword, store.NoticeMigration}
	if len(Kinds) != len(want) {
		t.Fatalf("%d kinds", len(Kinds))
	}
	for i, k := range Kinds {
		if k.Kind != want[i] || k.Label == "" || !Known(k.Kind) {
			t.Errorf("kind %d: %+v", i, k)
		}
	}
	if Known("surprise") {
		t.Error("Known(surprise)")
	}
}

func TestQueueWakes(t *testing.T) {
	s := open(t)
	user(t, s, "alice@example.org", "")
	woken := 0
	wctx := WithWake(ctx, func() { woken++ })
	for range 3 {
		if _, err := Queue(wctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticePassword}); err != nil {
			t.Fatal(err)
		}
	}
	if woken != 1 {
		t.Fatalf("woken %d times for one notice queued", woken)
	}
	// Without a sender to wake, queueing works the same.
	if ok, err := Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticeAppPassword}); !ok || err != nil {
		t.Fatalf("Queue without a wake: %v, %v", ok, err)
	}
}

// Each migration's end is mailed, however close together: the user started
// each run and waits for its confirmation.
func TestQueueMigrationsUnlimited(t *testing.T) {
	s := open(t)
	user(t, s, "alice@example.org", "")
	at := time.Date(2026, 12, 5, 14, 3, 0, 0, time.UTC)
	for i := range 3 {
		ok, err := Queue(ctx, s, store.Notice{Login: "alice@example.org", Kind: store.NoticeMigration,
			Time: at.Add(time.Duration(i) * time.Minute), Detail: "done 1 0 0 0 dav.example.com"})
		if err != nil || !ok {
			t.Fatalf("migration notice %d: %v, %v", i, ok, err)
		}
	}
	if n := len(queued(t, s, "alice@example.org")); n != 3 {
		t.Fatalf("%d notices queued, want 3", n)
	}
	// Turned off, none.
	user(t, s, "bob@example.org", "", store.NoticeMigration)
	if ok, err := Queue(ctx, s, store.Notice{Login: "bob@example.org", Kind: store.NoticeMigration, Time: at}); err != nil || ok {
		t.Fatalf("turned off: %v, %v", ok, err)
	}
}
