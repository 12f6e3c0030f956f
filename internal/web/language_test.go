package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

func TestBrowserLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"de-CH,de;q=0.9,en;q=0.5": "de",
		"fr-FR":                   "fr",
		"it":                      "it",
		"en-GB,en;q=0.8":          "en",
		"es-ES,es;q=0.9":          "",
		"ja, fr;q=0.3":            "fr",
		"":                        "",
		";;;garbage":              "",
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", header)
		if got := browserLanguage(r); got != want {
			t.Errorf("Accept-Language %q: %q, want %q", header, got, want)
		}
	}
}

// The first sign-in to the pages learns the user's language from the
// browser; later ones do not change it.
func TestSignInLearnsLanguage(t *testing.T) {
	ts := newTestServer(t)
	signInWith := func(lang string) {
		t.Helper()
		token, pre := signinForm(t, ts)
		form := url.Values{"csrf": {token}, "login": {testLogin}, "password": {testPassword}}
		resp, body := postSignin(t, ts, form, []*http.Cookie{pre}, http.Header{"Accept-Language": {lang}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
		}
	}
	language := func() string {
		u, err := ts.Store.GetUser(context.Background(), testLogin)
		if err != nil {
			t.Fatal(err)
		}
		return u.Language
	}
	signInWith("es-ES")
	if got := language(); got != "" {
		t.Fatalf("a language mails are not written in was kept: %q", got)
	}
	signInWith("de-AT,de;q=0.9")
	if got := language(); got != "de" {
		t.Fatalf("language after signing in from a German browser: %q", got)
	}
	signInWith("it-IT")
	if got := language(); got != "de" {
		t.Errorf("a later sign-in changed the language to %q", got)
	}
}
