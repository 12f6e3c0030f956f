package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

func open(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func names(t *testing.T, st store.Store, user string, kind store.Kind) []string {
	t.Helper()
	cs, err := st.ListCollections(context.Background(), user, kind)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestCreateGivesPasswordAndDefaults(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if err := accounts.Create(ctx, st, "ann@example.org", "first password"); err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUser(ctx, "ann@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(u.PasswordHash, "first password"); !ok || err != nil {
		t.Fatalf("the password does not verify: %v %v", ok, err)
	}
	if got := names(t, st, "ann@example.org", store.KindCard); len(got) != 1 || got[0] != accounts.DefaultBook {
		t.Errorf("address books %v, want [%s]", got, accounts.DefaultBook)
	}
	if got := names(t, st, "ann@example.org", store.KindCal); len(got) != 2 {
		t.Errorf("calendars %v, want a calendar and a task list", got)
	}
	err = accounts.Create(ctx, st, "ann@example.org", "other password")
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second Create: %v, want store.ErrExists", err)
	}
	if u2, _ := st.GetUser(ctx, "ann@example.org"); u2.PasswordHash != u.PasswordHash {
		t.Error("a refused Create changed the password")
	}
}

// EnsureDefaults gives back a kind the user has none of and leaves a kind
// alone while one collection of it remains.
func TestEnsureDefaultsOnlyForMissingKinds(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if err := accounts.Create(ctx, st, "bo@example.org", "first password"); err != nil {
		t.Fatal(err)
	}
	cals, _ := st.ListCollections(ctx, "bo@example.org", store.KindCal)
	books, _ := st.ListCollections(ctx, "bo@example.org", store.KindCard)
	if err := st.DeleteCollection(ctx, cals[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCollection(ctx, books[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, "bo@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, st, "bo@example.org", store.KindCal); len(got) != 1 {
		t.Errorf("calendars %v: one was left, none should have been added", got)
	}
	if got := names(t, st, "bo@example.org", store.KindCard); len(got) != 1 || got[0] != accounts.DefaultBook {
		t.Errorf("address books %v, want the default back", got)
	}
	if err := accounts.EnsureDefaults(ctx, st, "bo@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, st, "bo@example.org", store.KindCard); len(got) != 1 {
		t.Errorf("a second EnsureDefaults gave %v", got)
	}
}

func TestSetPasswordAndDelete(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if err := accounts.Create(ctx, st, "cy@example.org", "first password"); err != nil {
		t.Fatal(err)
	}
	if err := accounts.SetPassword(ctx, st, "cy@example.org", "second password"); err != nil {
		t.Fatal(err)
	}
	u, _ := st.GetUser(ctx, "cy@example.org")
	if ok, _ := auth.VerifyPassword(u.PasswordHash, "second password"); !ok {
		t.Error("the new password does not verify")
	}
	if err := accounts.SetPassword(ctx, st, "nobody@example.org", "second password"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword of an unknown login: %v, want store.ErrNotFound", err)
	}
	if err := accounts.Delete(ctx, st, "cy@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := names(t, st, "cy@example.org", store.KindCard); len(got) != 0 {
		t.Errorf("collections %v remain after Delete", got)
	}
	if err := accounts.Delete(ctx, st, "cy@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete: %v, want store.ErrNotFound", err)
	}
}

// A password shorter than MinPasswordLen is refused on every way in, and
// nothing is written.
func TestShortPasswordRefused(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	if err := accounts.Create(ctx, st, "dee@example.org", "short"); err == nil {
		t.Fatal("Create accepted a 5-character password")
	}
	if _, err := st.GetUser(ctx, "dee@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused Create left a user: %v", err)
	}
	if err := accounts.Create(ctx, st, "dee@example.org", "12345678"); err != nil {
		t.Fatalf("Create refused %d characters: %v", accounts.MinPasswordLen, err)
	}
	before, _ := st.GetUser(ctx, "dee@example.org")
	if err := accounts.SetPassword(ctx, st, "dee@example.org", "1234567"); err == nil {
		t.Fatal("SetPassword accepted a 7-character password")
	}
	if after, _ := st.GetUser(ctx, "dee@example.org"); after.PasswordHash != before.PasswordHash {
		t.Error("a refused SetPassword changed the password")
	}
}

func TestCreateRemote(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	u, err := accounts.CreateRemote(ctx, st, "bea@mail.example")
	if err != nil {
		t.Fatal(err)
	}
	if u.Backend != store.BackendIMAP || u.PasswordHash != "" {
		t.Errorf("created %+v, want an IMAP user without a password hash", u)
	}
	if got := names(t, st, "bea@mail.example", store.KindCard); len(got) != 1 {
		t.Errorf("address books %v, want the default one", got)
	}
	if _, err := accounts.CreateRemote(ctx, st, "bea@mail.example"); !errors.Is(err, store.ErrExists) {
		t.Errorf("second CreateRemote: %v, want store.ErrExists", err)
	}
	// Its password is the mail password: it is not set here.
	err = accounts.SetPassword(ctx, st, "bea@mail.example", "a local password")
	if !errors.Is(err, accounts.ErrRemotePassword) {
		t.Fatalf("SetPassword on an IMAP user: %v, want ErrRemotePassword", err)
	}
	if got, _ := st.GetUser(ctx, "bea@mail.example"); got.PasswordHash != "" {
		t.Error("a refused SetPassword stored a hash")
	}
}

// Every change of a credential queues the owner's security mail, with
// where it came from as the context tells it.
func TestCredentialChangesQueueMails(t *testing.T) {
	st := open(t)
	ctx := notices.WithOrigin(context.Background(), notices.Origin{Addr: "192.0.2.7:4321", Client: "Firefox"})
	if err := accounts.Create(ctx, st, "ann@example.org", "first password"); err != nil {
		t.Fatal(err)
	}
	if err := accounts.SetPassword(ctx, st, "ann@example.org", "second password"); err != nil {
		t.Fatal(err)
	}
	pw, err := accounts.CreateAppPassword(ctx, st, "ann@example.org", "Phone")
	if err != nil || pw == "" {
		t.Fatalf("CreateAppPassword: %q, %v", pw, err)
	}
	if err := st.SetPendingTOTP(ctx, "ann@example.org", "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.EnableTwoFactor(ctx, st, "ann@example.org", "JBSWY3DPEHPK3PXP", 1); err != nil {
		t.Fatal(err)
	}
	list, err := st.ListNotices(ctx, "ann@example.org", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Notice{}
	for _, n := range list {
		got[n.Kind] = n
	}
	for kind, detail := range map[string]string{store.NoticePassword: "", store.NoticeAppPassword: "Phone", store.NoticeTwoFactor: "on"} {
		n, ok := got[kind]
		if !ok {
			t.Errorf("no %s notice; queued %+v", kind, list)
			continue
		}
		if n.To != "ann@example.org" || n.Detail != detail || n.Addr != "192.0.2.7:4321" || n.Client != "Firefox" {
			t.Errorf("%s notice: %+v", kind, n)
		}
	}
	if len(list) != 3 {
		t.Errorf("%d notices, want 3 (creating the user is none)", len(list))
	}
}

// Turning off what was never on (an admin clearing a setup never
// confirmed) sends no "turned off" mail; turning off what was on does.
func TestDisableTwoFactorMailsOnlyWhenOn(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	if err := accounts.Create(ctx, st, "ann@example.org", "first password"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPendingTOTP(ctx, "ann@example.org", "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	if err := accounts.DisableTwoFactor(ctx, st, "ann@example.org"); err != nil {
		t.Fatal(err)
	}
	if list, _ := st.ListNotices(ctx, "ann@example.org", 0); len(list) != 0 {
		t.Fatalf("notices after clearing a pending setup: %+v", list)
	}
	if err := st.SetPendingTOTP(ctx, "ann@example.org", "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.EnableTwoFactor(ctx, st, "ann@example.org", "JBSWY3DPEHPK3PXP", 1); err != nil {
		t.Fatal(err)
	}
	if err := accounts.DisableTwoFactor(ctx, st, "ann@example.org"); err != nil {
		t.Fatal(err)
	}
	list, _ := st.ListNotices(ctx, "ann@example.org", 0)
	// On and off share a kind, so the hour's limit keeps only "on"; what
	// matters here is that clearing a setup queued nothing before it.
	if len(list) != 1 || list[0].Detail != "on" {
		t.Errorf("notices: %+v", list)
	}
	if err := accounts.DisableTwoFactor(ctx, st, "nobody@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown login: %v", err)
	}
}
