package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// regionCards are one person's two cards whose only link is a phone
// number, written once with and once without the country code: they are
// the same person only when "030 …" is read as a German number.
func regionCards(t *testing.T, ts *testServer, login string) {
	t.Helper()
	dupPut(t, ts.Store, login, map[string]string{
		"tina-1": dupCard("tina-1", "FN:Tina Krüger", "N:Krüger;Tina;;;", "TEL:+49 30 1234567"),
		"tina-2": dupCard("tina-2", "FN:Tina", "N:;Tina;;;", "TEL:030 1234567"),
	})
}

// regionGrouped reports whether the duplicates page of s's book proposes
// Tina's two cards.
func regionGrouped(t *testing.T, s *testSession) bool {
	t.Helper()
	resp, body := s.get(t, "/account/duplicates/contacts")
	dupStatus(t, resp, http.StatusOK, body)
	return strings.Contains(body, "Tina Krüger")
}

func regionOf(t *testing.T, ts *testServer, login string) string {
	t.Helper()
	u, err := ts.Store.GetUser(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.Region
}

// getAccepting is s.get with the browser's Accept-Language.
func getAccepting(t *testing.T, s *testSession, path, lang string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", lang)
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	dupStatus(t, resp, http.StatusOK, string(b))
	return string(b)
}

// The region a user saves is the one their books are matched with, and
// only theirs.
func TestRegionSetting(t *testing.T) {
	ts := newTestServer(t)
	const other = "bob@example.org"
	ts.addUser(t, other)
	regionCards(t, ts, testLogin)
	regionCards(t, ts, other)
	ann, bob := ts.signedIn(t, testLogin), ts.signedIn(t, other)

	if regionGrouped(t, ann) {
		t.Fatal("the two cards are proposed before any country is set")
	}
	// The list of groups says how numbers without a country code are read.
	resp, body := ann.get(t, "/account/duplicates/contacts")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "Phone numbers without a country code match only when written the same way.", `#phone-region">Set their country</a>`)
	resp, body = ann.get(t, "/account/duplicates")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, `<label for="region">Phone numbers without a country code are from</label>`,
		`<select id="region" name="region"`, `<option value="">No country</option>`, `<option value="DE">Germany</option>`,
		"No country is set, so a number such as 030 1234567 matches only the same number written without a country code.")
	if strings.Contains(body, " selected>") {
		t.Error("a country is selected though none is set or guessed")
	}
	// By name, accents folded: Åland before Albania, Côte d’Ivoire
	// between Costa Rica and Croatia.
	order := []string{`value="AX">Åland Islands<`, `value="AL">Albania<`, `value="CR">Costa Rica<`,
		`value="CI">Côte d’Ivoire<`, `value="HR">Croatia<`, `value="ZW">Zimbabwe<`}
	for i := 1; i < len(order); i++ {
		a, b := strings.Index(body, order[i-1]), strings.Index(body, order[i])
		if a < 0 || b < 0 || a > b {
			t.Errorf("%s (at %d) is not listed before %s (at %d)", order[i-1], a, order[i], b)
		}
	}

	resp, body = ann.post(t, "/account/duplicates/region", url.Values{"region": {"DE"}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	if got := resp.Header.Get("Location"); got != "/account/duplicates" {
		t.Errorf("saving goes to %q", got)
	}
	if got := regionOf(t, ts, testLogin); got != "DE" {
		t.Fatalf("saved region %q, want DE", got)
	}
	resp, body = ann.get(t, "/account/duplicates")
	dupStatus(t, resp, http.StatusOK, body)
	dupHas(t, body, "Saved: phone numbers without a country code are read as numbers of Germany.",
		`<option value="DE" selected>Germany</option>`, "A number such as 030 1234567 is read as a number of Germany")
	if !regionGrouped(t, ann) {
		t.Fatal("the two cards are not proposed once the user chose Germany")
	}
	// The review page finds the group too (every page of the book
	// matches with the same region).
	_, body = ann.get(t, "/account/duplicates/contacts")
	dupHas(t, body, "Phone numbers without a country code are read as numbers of Germany.", `#phone-region">Change the country</a>`)
	resp, body = ann.get(t, dupGroupLink(t, body))
	dupStatus(t, resp, http.StatusOK, body)
	if regionGrouped(t, bob) {
		t.Error("another user's cards are matched with Germany")
	}

	// No country again: only numbers written alike match.
	resp, body = ann.post(t, "/account/duplicates/region", url.Values{"region": {""}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	if got := regionOf(t, ts, testLogin); got != "" {
		t.Fatalf("region %q after choosing none", got)
	}
	if regionGrouped(t, ann) {
		t.Error("the two cards are still proposed after the country was cleared")
	}
}

// Without a setting of their own, users get the server's --region; their
// own setting wins over it.
func TestRegionServerDefault(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Region = "de" })
	regionCards(t, ts, testLogin)
	ann := ts.signedIn(t, testLogin)
	if !regionGrouped(t, ann) {
		t.Fatal("the server's region is not used for a user without one")
	}
	body := getAccepting(t, ann, "/account/duplicates", "fr-FR")
	dupHas(t, body, `<option value="">This server's default (Germany)</option>`,
		"A number such as 030 1234567 is read as a number of Germany, this server's default.")
	if strings.Contains(body, " selected>") || strings.Contains(body, "guess") {
		t.Error("a country is guessed though the server has a default")
	}
	resp, body := ann.post(t, "/account/duplicates/region", url.Values{"region": {"FR"}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	if regionGrouped(t, ann) {
		t.Error("the server's region is used although the user chose France")
	}
	resp, body = ann.post(t, "/account/duplicates/region", url.Values{"region": {""}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	_, body = ann.get(t, "/account/duplicates")
	dupHas(t, body, "Saved: phone numbers without a country code are read as numbers of Germany, this server&#39;s default.")
	if !regionGrouped(t, ann) {
		t.Error("the server's region is not used again after the user cleared theirs")
	}
}

// With no region anywhere, the browser's language suggests one: shown
// chosen, said to be a guess, and not used until saved.
func TestRegionGuess(t *testing.T) {
	ts := newTestServer(t)
	regionCards(t, ts, testLogin)
	ann := ts.signedIn(t, testLogin)
	body := getAccepting(t, ann, "/account/duplicates", "de-DE,de;q=0.9,en;q=0.5")
	dupHas(t, body, `<option value="DE" selected>Germany</option>`,
		"Germany is a guess from your browser's language and is not used yet: save it")
	if body := getAccepting(t, ann, "/account/duplicates/contacts", "de-DE"); strings.Contains(body, "Tina Krüger") {
		t.Error("the guess is used for matching before it is saved")
	}
	if got := regionOf(t, ts, testLogin); got != "" {
		t.Errorf("the guess was saved: %q", got)
	}
	for _, lang := range []string{"de", "es-419", "en;q=0.9, fr", "", "x-garbage;;"} {
		body := getAccepting(t, ann, "/account/duplicates", lang)
		if strings.Contains(body, " selected>") || strings.Contains(body, "guess") {
			t.Errorf("Accept-Language %q: a country is guessed", lang)
		}
	}
	// A language without a country comes after one with it.
	body = getAccepting(t, ann, "/account/duplicates", "fr, fr-CH;q=0.8")
	dupHas(t, body, `<option value="CH" selected>Switzerland</option>`)
	// Saved, the setting replaces the guess.
	resp, body := ann.post(t, "/account/duplicates/region", url.Values{"region": {"AT"}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	body = getAccepting(t, ann, "/account/duplicates", "de-DE")
	dupHas(t, body, `<option value="AT" selected>Austria</option>`)
	if strings.Contains(body, "guess") || strings.Contains(body, `value="DE" selected`) {
		t.Error("the guess is shown over the saved setting")
	}
}

// A code that is not offered is refused with a clear message and changes
// nothing.
func TestRegionBadCode(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.signedIn(t, testLogin)
	if resp, body := ann.post(t, "/account/duplicates/region", url.Values{"region": {"CH"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving CH: %d\n%s", resp.StatusCode, body)
	}
	for _, bad := range []url.Values{{"region": {"XX"}}, {"region": {"Germany"}}, {"region": {"<b>DE</b>"}}, {"region": {"001"}}, {}} {
		resp, body := ann.post(t, "/account/duplicates/region", bad)
		dupStatus(t, resp, http.StatusBadRequest, body)
		if !strings.Contains(body, "nothing was saved") || strings.Contains(body, "<b>DE") {
			t.Errorf("%v: the page does not say it clearly:\n%s", bad, body)
		}
		if got := regionOf(t, ts, testLogin); got != "CH" {
			t.Fatalf("%v: the region became %q", bad, got)
		}
	}
	// Without the form's token nothing is saved either.
	resp, body := ann.post(t, "/account/duplicates/region", url.Values{"region": {"DE"}, "csrf": {"forged"}})
	dupStatus(t, resp, http.StatusForbidden, body)
	if got := regionOf(t, ts, testLogin); got != "CH" {
		t.Fatalf("a forged form set the region to %q", got)
	}
}
