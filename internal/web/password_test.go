package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

func TestChangePassword(t *testing.T) {
	ts := newTestServer(t)
	browser := ts.signedIn(t, testLogin)
	other := ts.signedIn(t, testLogin)

	resp, body := browser.get(t, "/account/password")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `autocomplete="current-password"`) {
		t.Fatalf("form: %d\n%s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name                 string
		current, new, repeat string
		status               int
		says                 string
	}{
		{"wrong current", "not it", "a new password", "a new password", http.StatusUnauthorized, "current password is not right"},
		{"repeat differs", testPassword, "a new password", "a new passwort", http.StatusBadRequest, "differ"},
		{"too short", testPassword, "short", "short", http.StatusBadRequest, "at least 8 characters"},
	} {
		resp, body := browser.post(t, "/account/password", url.Values{"current": {tc.current}, "new": {tc.new}, "repeat": {tc.repeat}})
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, resp.StatusCode, tc.status, tc.says, body)
		}
	}
	u, _ := ts.Store.GetUser(context.Background(), testLogin)
	if ok, _ := auth.VerifyPassword(u.PasswordHash, testPassword); !ok {
		t.Fatal("a refused change changed the password")
	}

	resp, _ = browser.post(t, "/account/password", url.Values{"current": {testPassword}, "new": {"a new password"}, "repeat": {"a new password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d, want 303", resp.StatusCode)
	}
	u, _ = ts.Store.GetUser(context.Background(), testLogin)
	if ok, _ := auth.VerifyPassword(u.PasswordHash, "a new password"); !ok {
		t.Fatal("the new password does not verify")
	}
	// This browser got a new session; the other one was signed out.
	if resp, body := browser.get(t, "/account/password"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Password changed") {
		t.Errorf("after the change, this browser: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := other.get(t, "/account/devices"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the change, another browser: %d, want 303 to the sign-in page", resp.StatusCode)
	}
	// The old session's cookie opens nothing any more, even sent again.
	if _, err := ts.Store.GetSession(context.Background(), sessionID(browser.Cookie.Value)); err == nil {
		t.Error("the session of before the change is still there")
	}
}

func TestChangePasswordOfMailUser(t *testing.T) {
	ts := newTestServer(t)
	if err := ts.Store.CreateUser(context.Background(), &store.User{Login: "mia@mail.example", Backend: store.BackendIMAP}); err != nil {
		t.Fatal(err)
	}
	browser := ts.signedIn(t, "mia@mail.example")
	if _, body := browser.get(t, "/account/password"); !strings.Contains(body, "Change it with your mail provider") || strings.Contains(body, `name="new"`) {
		t.Errorf("form for a mail user:\n%s", body)
	}
	resp, body := browser.post(t, "/account/password", url.Values{"current": {"x"}, "new": {"a new password"}, "repeat": {"a new password"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "mail provider") {
		t.Errorf("change for a mail user: %d\n%s", resp.StatusCode, body)
	}
}
