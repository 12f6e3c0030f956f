package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

func TestSecurityMailSettings(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MailEnabled = true })
	browser := ts.signedIn(t, testLogin)
	_, body := browser.get(t, "/account/security")
	for _, want := range []string{"Mails go to <strong>ann@example.org</strong>", `value="new-sign-in" checked`, `value="password" checked`, `<option value="de" lang="de">Deutsch</option>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("security page lacks %q:\n%s", want, body)
		}
	}
	resp, _ := browser.post(t, "/account/security/mails", url.Values{"on": {"password", "two-factor"}, "language": {"it"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	u, _ := ts.Store.GetUser(context.Background(), testLogin)
	slices.Sort(u.MailOff)
	if u.Language != "it" || !slices.Equal(u.MailOff, []string{"app-password", "failed-sign-ins", "migration", "new-sign-in"}) {
		t.Errorf("saved language %q, off %v", u.Language, u.MailOff)
	}
	_, body = browser.get(t, "/account/security")
	if !strings.Contains(body, "Security mail settings saved") || strings.Contains(body, `value="new-sign-in" checked`) ||
		!strings.Contains(body, `value="two-factor" checked`) || !strings.Contains(body, `lang="it" selected`) {
		t.Errorf("page after saving:\n%s", body)
	}
	for _, bad := range []url.Values{{"language": {"xx"}}, {"on": {"spam"}}} {
		if resp, _ := browser.post(t, "/account/security/mails", bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", bad, resp.StatusCode)
		}
	}
	if u2, _ := ts.Store.GetUser(context.Background(), testLogin); u2.Language != "it" {
		t.Error("a refused form changed the settings")
	}
	// What was queued is listed.
	if _, err := ts.Store.QueueNotice(context.Background(), &store.Notice{Login: testLogin, Kind: store.NoticePassword, To: testLogin, Time: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	if _, body = browser.get(t, "/account/security"); !strings.Contains(body, "A password change — waiting to be sent") {
		t.Errorf("recent mails not listed:\n%s", body)
	}
}

func TestSecurityMailsWithoutRelayOrAddress(t *testing.T) {
	ts := newTestServer(t)
	_, body := ts.signedIn(t, testLogin).get(t, "/account/security")
	if !strings.Contains(body, "This server sends no mail") || strings.Contains(body, `name="on"`) {
		t.Errorf("without a relay:\n%s", body)
	}
	ts2 := newTestServer(t, func(c *Config) { c.MailEnabled = true })
	ts2.addUser(t, "bob")
	if _, body := ts2.signedIn(t, "bob").get(t, "/account/security"); !strings.Contains(body, "not a mail address") {
		t.Errorf("login without a mail address:\n%s", body)
	}
}
