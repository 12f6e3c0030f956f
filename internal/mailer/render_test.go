package mailer

import (
	htmlpkg "html"
	"strings"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

var (
	testLinks = Links{
		Activity:  "https://dav.example.org/account/activity",
		Passwords: "https://dav.example.org/account/passwords",
		Security:  "https://dav.example.org/account/security",
	}
	testTime = time.Date(2026, 12, 5, 14, 3, 27, 0, time.UTC)
	davx5    = "DAVx5/4.4.3-ose (dav4jvm; okhttp/4.12.0) Android/14"
)

var allKinds = []string{store.NoticeNewSignIn, store.NoticeFailedSignIns, store.NoticeTwoFactor, store.NoticeAppPassword, store.NoticePassword, store.NoticeMigration}

func testNotice(kind, lang, detail string) store.Notice {
	return store.Notice{ID: 1, Login: "alice@example.org", Kind: kind, To: "alice@example.org", Language: lang,
		Time: testTime, Addr: "203.0.113.7:51234", Client: davx5, Detail: detail}
}

func render(t *testing.T, n store.Notice) (string, string, string) {
	t.Helper()
	subject, text, html, err := Render(n, testLinks)
	if err != nil {
		t.Fatalf("Render(%s, %q): %v", n.Kind, n.Language, err)
	}
	return subject, text, html
}

func contains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, s)
		}
	}
}

// Every mail says what, when, from where, and what to do, in its
// language, in both bodies.
func TestRenderLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang, subject, when, client string
		body                        []string
	}{
		{"en", "New sign-in to your rolodav account", "5 December 2026, 14:03 UTC", "DAVx5 on Android 14",
			[]string{"Someone signed in to your account alice@example.org", "by a sync app", "If it was not you", "Recent activity:",
				"This is an automatic security message from rolodav about your account"}},
		{"fr", "Nouvelle connexion à votre compte rolodav", "5 décembre 2026 à 14:03 UTC", "DAVx5 sur Android 14",
			[]string{"Quelqu'un s'est connecté à votre compte alice@example.org", "application de synchronisation", "Si ce n'était pas vous", "Activité récente\u00a0:",
				"Ce message de sécurité concernant votre compte a été envoyé automatiquement par rolodav"}},
		{"de", "Neue Anmeldung bei Ihrem rolodav-Konto", "5. Dezember 2026, 14:03 UTC", "DAVx5 auf Android 14",
			[]string{"Bei Ihrem Konto alice@example.org hat sich jemand", "Synchronisations-App", "Wenn Sie das nicht waren", "Letzte Aktivitäten:",
				"Dies ist eine automatische Sicherheitsnachricht von rolodav zu Ihrem Konto"}},
		{"it", "Nuovo accesso al tuo account rolodav", "5 dicembre 2026, ore 14:03 UTC", "DAVx5 su Android 14",
			[]string{"Qualcuno ha effettuato l'accesso al tuo account alice@example.org", "app di sincronizzazione", "Se non eri tu", "Attività recente:",
				"Questo è un messaggio di sicurezza automatico di rolodav sul tuo account"}},
		{"", "New sign-in to your rolodav account", "5 December 2026, 14:03 UTC", "DAVx5 on Android 14", nil},
		{"es", "New sign-in to your rolodav account", "5 December 2026, 14:03 UTC", "DAVx5 on Android 14", nil},
	} {
		subject, text, html := render(t, testNotice(store.NoticeNewSignIn, tc.lang, "dav"))
		if subject != tc.subject {
			t.Errorf("%q: subject %q, want %q", tc.lang, subject, tc.subject)
		}
		common := append([]string{tc.when, "203.0.113.7", tc.client, testLinks.Activity, testLinks.Passwords, testLinks.Security}, tc.body...)
		contains(t, tc.lang+" text", text, common...)
		contains(t, tc.lang+" HTML", htmlpkg.UnescapeString(html), common...)
		lang := tc.lang
		if lang == "" || lang == "es" {
			lang = "en"
		}
		contains(t, tc.lang+" HTML", html, `<html lang="`+lang+`">`, `<a href="`+testLinks.Activity+`">`)
		if strings.Contains(text, "51234") || strings.Contains(html, "51234") {
			t.Errorf("%q: the client's port is shown", tc.lang)
		}
	}
}

// Each kind says its own thing.
func TestRenderKinds(t *testing.T) {
	for _, tc := range []struct {
		kind, lang, detail, subject string
		body                        []string
	}{
		{store.NoticeNewSignIn, "en", "web", "New sign-in to your rolodav account", []string{"on the account pages"}},
		{store.NoticeNewSignIn, "en", "", "New sign-in to your rolodav account", []string{"not used with it before"}},
		// The mail goes at the n-th failure, later ones are not counted: "at
		// least n", and the details are those of the n-th.
		{store.NoticeFailedSignIns, "en", "10", "Several failed sign-ins to your account", []string{"There were at least 10 attempts", "the attempt that triggered this mail"}},
		{store.NoticeFailedSignIns, "en", "", "Several failed sign-ins to your account", []string{"There were several attempts"}},
		{store.NoticeFailedSignIns, "fr", "7", "Plusieurs échecs de connexion à votre compte", []string{"Il y a eu au moins 7\u00a0tentatives", "la tentative qui a déclenché ce message"}},
		{store.NoticeFailedSignIns, "de", "5", "Mehrere fehlgeschlagene Anmeldeversuche bei Ihrem Konto", []string{"Es gab mindestens 5 Versuche", "den Versuch, der diese Nachricht ausgelöst hat"}},
		{store.NoticeFailedSignIns, "it", "5", "Diversi tentativi di accesso non riusciti al tuo account", []string{"almeno 5 tentativi", "al tentativo che ha generato questo messaggio"}},
		// The right password, then wrong two-factor codes ("code:<n>").
		{store.NoticeFailedSignIns, "en", "code:6", "Wrong two-factor codes after a correct password",
			[]string{"the right password for your account alice@example.org, then a wrong two-factor code, at least 6 times", "someone else knows your password: change it at once on the security page"}},
		{store.NoticeFailedSignIns, "en", "code:", "Wrong two-factor codes after a correct password", []string{"then wrong two-factor codes."}},
		{store.NoticeFailedSignIns, "fr", "code:5", "Codes de connexion en deux étapes erronés après un mot de passe correct",
			[]string{"le bon mot de passe de votre compte alice@example.org, puis un mauvais code de connexion en deux étapes, au moins 5\u00a0fois", "changez-le immédiatement sur la page de sécurité"}},
		{store.NoticeFailedSignIns, "de", "code:5", "Falsche Zwei-Faktor-Codes nach richtigem Passwort",
			[]string{"das richtige Passwort und danach mindestens 5-mal einen falschen Zwei-Faktor-Code", "Ändern Sie es sofort auf der Sicherheitsseite"}},
		{store.NoticeFailedSignIns, "it", "code:5", "Codici di verifica in due passaggi errati dopo una password corretta",
			[]string{"la password corretta del tuo account alice@example.org e poi un codice di verifica in due passaggi errato, almeno 5 volte", "cambiala subito nella pagina della sicurezza"}},
		{store.NoticeTwoFactor, "en", "on", "Two-factor sign-in turned on", []string{"sync apps need app passwords"}},
		{store.NoticeTwoFactor, "de", "on", "Zwei-Faktor-Anmeldung eingeschaltet", []string{"verlangen die Kontoseiten bei der Anmeldung außer Ihrem Passwort einen Code"}},
		{store.NoticeTwoFactor, "en", "off", "Two-factor sign-in turned off", []string{"turn two-factor sign-in back on"}},
		{store.NoticeTwoFactor, "de", "off", "Zwei-Faktor-Anmeldung ausgeschaltet", []string{"wieder ein"}},
		{store.NoticeTwoFactor, "it", "on", "Verifica in due passaggi attivata", []string{"password per app"}},
		{store.NoticeAppPassword, "en", "Phone", "New app password: Phone", []string{"named “Phone”"}},
		{store.NoticeAppPassword, "fr", "Téléphone", "Nouveau mot de passe d'application\u00a0: Téléphone", []string{"«\u00a0Téléphone\u00a0»"}},
		{store.NoticeAppPassword, "de", "Handy", "Neues App-Passwort: Handy", []string{"„Handy“"}},
		{store.NoticePassword, "en", "", "Your password was changed", []string{"was signed out"}},
		{store.NoticePassword, "it", "", "La tua password è stata modificata", []string{"sono stati disconnessi"}},
		// A migration's mail has its counts and the source's host.
		{store.NoticeMigration, "en", "done 1998 3 12 2 dav.example.com", "Import from dav.example.com finished",
			[]string{"from dav.example.com into your account alice@example.org is finished: 1998 added, 3 updated, 12 already here, 2 not imported.",
				"If you did not start it", "lists each address book and calendar"}},
		{store.NoticeMigration, "en", "interrupted 5 0 0 0 dav.example.com", "Import from dav.example.com stopped before the end",
			[]string{"stopped before the end. Until then: 5 added, 0 updated, 0 already here, 0 not imported.", "adds nothing twice"}},
		{store.NoticeMigration, "en", "failed 0 0 0 0 dav.example.com", "Import from dav.example.com stopped before the end", []string{"Until then: 0 added"}},
		{store.NoticeMigration, "fr", "done 7 1 0 0 dav.example.com", "Importation depuis dav.example.com terminée",
			[]string{"est terminée\u00a0: 7\u00a0ajoutés, 1\u00a0mis à jour, 0\u00a0déjà présents, 0\u00a0non importés."}},
		{store.NoticeMigration, "de", "done 7 1 0 0 dav.example.com", "Import von dav.example.com abgeschlossen",
			[]string{"ist abgeschlossen: 7 hinzugefügt, 1 aktualisiert, 0 bereits vorhanden, 0 nicht importiert."}},
		{store.NoticeMigration, "it", "failed 7 1 0 0 dav.example.com", "Importazione da dav.example.com interrotta prima della fine",
			[]string{"Fin lì: 7 aggiunti, 1 aggiornati, 0 già presenti, 0 non importati."}},
		// A Detail that is not the store's form shows no raw text.
		{store.NoticeMigration, "en", "done x", "Import from ? finished", []string{"0 added, 0 updated, 0 already here, 0 not imported."}},
	} {
		subject, text, html := render(t, testNotice(tc.kind, tc.lang, tc.detail))
		if subject != tc.subject {
			t.Errorf("%s %s %q: subject %q, want %q", tc.kind, tc.lang, tc.detail, subject, tc.subject)
		}
		contains(t, tc.kind+" text", text, tc.body...)
		contains(t, tc.kind+" HTML", htmlpkg.UnescapeString(html), tc.body...)
	}
	// A mail about wrong codes links to the security page (to change the
	// password) first; it never says "wrong password", nor repeats the
	// Detail's form.
	for _, lang := range Languages {
		_, text, html := render(t, testNotice(store.NoticeFailedSignIns, lang, "code:5"))
		sec := catalogs[lang].security
		contains(t, lang+" text", text, "\n\n"+sec+" "+testLinks.Security+"\n"+catalogs[lang].activity)
		contains(t, lang+" HTML", html, "<ul>\n<li>"+htmlpkg.EscapeString(sec)+` <a href="`+testLinks.Security+`">`)
		for _, bad := range []string{"code:", "wrong password", "mauvais mot de passe", "falschen Passwort", "password errata"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s mail about wrong codes says %q:\n%s", lang, bad, text)
			}
		}
	}
	if _, _, _, err := Render(testNotice("surprise", "en", ""), testLinks); err == nil {
		t.Fatal("Render of an unknown kind: no error")
	}
}

// The time is written in UTC, whatever the notice's zone; French writes
// the first of the month "1er".
func TestRenderTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	n := testNotice(store.NoticePassword, "fr", "")
	n.Time = time.Date(2027, 3, 1, 9, 5, 0, 0, paris) // 08:05 UTC
	_, text, _ := render(t, n)
	contains(t, "text", text, "1er mars 2027 à 08:05 UTC")
	n.Language = "en"
	_, text, _ = render(t, n)
	contains(t, "text", text, "1 March 2027, 08:05 UTC")
}

// What comes from outside (an app password's name, a User-Agent, an
// address) is escaped in HTML and cannot start a header.
func TestRenderHostile(t *testing.T) {
	n := testNotice(store.NoticeAppPassword, "en", "<script>alert(1)</script>\r\nBcc: victim@example.org")
	n.Client = "<script>alert-ua</script>"
	n.Addr = "<b>203.0.113.9</b>"
	subject, text, html := render(t, n)
	if strings.ContainsAny(subject, "\r\n") {
		t.Fatalf("subject holds a line break: %q", subject)
	}
	if subject != "New app password: <script>alert(1)</script>  Bcc: victim@example.org" {
		t.Fatalf("subject %q", subject)
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "<b>203") {
		t.Fatalf("HTML holds markup from the notice:\n%s", html)
	}
	contains(t, "HTML", html, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;203.0.113.9&lt;/b&gt;")
	if strings.Contains(html, "alert-ua") || strings.Contains(text, "alert-ua") {
		t.Fatal("the mail shows an unknown User-Agent")
	}
	contains(t, "text", text, "<script>alert(1)</script>")
	if strings.Contains(text, "\r\nBcc") || strings.Contains(text, "\nBcc") {
		t.Fatalf("text holds the injected line:\n%s", text)
	}

	long := testNotice(store.NoticeAppPassword, "en", strings.Repeat("é", 300))
	subject, _, _ = render(t, long)
	if got := len([]rune(subject)); got > len("New app password: ")+maxDetail {
		t.Fatalf("subject of %d characters", got)
	}

	// A client not recognised is not named: its User-Agent is the
	// sender's text (a link, a fake name).
	for _, ua := range []string{"https://evil.example/login", "MyCalendarApp/2.1 (build 7; Linux)", "iOS/17.2 (21C62) www.evil.example/1.0"} {
		for _, lang := range Languages {
			n = testNotice(store.NoticeNewSignIn, lang, "dav")
			n.Client = ua
			_, text, html := render(t, n)
			for _, s := range []string{text, html} {
				if strings.Contains(s, "evil") || strings.Contains(s, "MyCalendarApp") {
					t.Errorf("%s mail shows the User-Agent %q:\n%s", lang, ua, s)
				}
			}
			contains(t, lang+" text", text, catalogs[lang].client+" "+catalogs[lang].unknownClient+"\n")
		}
	}

	// Unknown address and client.
	n = testNotice(store.NoticePassword, "de", "")
	n.Addr, n.Client = "", ""
	_, text, _ = render(t, n)
	contains(t, "text", text, "Adresse: unbekannt", "Gerät oder App: unbekannt")
}

// Every language has every text.
func TestCatalogsComplete(t *testing.T) {
	for _, lang := range Languages {
		c := catalogs[lang]
		if c == nil {
			t.Fatalf("no catalog for %s", lang)
		}
		for i, m := range c.months {
			if m == "" {
				t.Errorf("%s: month %d missing", lang, i+1)
			}
		}
		for name, s := range map[string]string{"date": c.date, "on": c.on, "greeting": c.greeting, "when": c.when, "addr": c.addr,
			"client": c.client, "unknownAddr": c.unknownAddr, "unknownClient": c.unknownClient, "activity": c.activity,
			"passwords": c.passwords, "security": c.security, "ifYou": c.ifYou, "footer": c.footer} {
			if s == "" {
				t.Errorf("%s: %s missing", lang, name)
			}
		}
		for _, kind := range allKinds {
			k, ok := c.kinds[kind]
			if !ok || k.subject == "" || k.summary == "" || k.ifNotYou == "" {
				t.Errorf("%s: %s incomplete", lang, kind)
			}
		}
		if k := c.kinds[store.NoticeTwoFactor]; k.subjectAlt == "" || k.summaryAlt == "" || k.ifNotYouAlt == "" {
			t.Errorf("%s: two-factor off incomplete", lang)
		}
		for _, key := range []string{store.NoticeFailedSignIns, failedCodes} {
			if k := c.kinds[key]; k.subject == "" || k.summaryAlt == "" || k.more == "" || k.ifYou == "" || k.ifNotYou == "" || !strings.Contains(k.summary, "{count}") {
				t.Errorf("%s: %s incomplete", lang, key)
			}
		}
		if k := c.kinds[store.NoticeNewSignIn]; k.viaWeb == "" || k.viaDAV == "" {
			t.Errorf("%s: new sign-in incomplete", lang)
		}
		if k := c.kinds[store.NoticeMigration]; k.subjectAlt == "" || k.more == "" || k.ifYou == "" ||
			!strings.Contains(k.subject, "{host}") || !strings.Contains(k.subjectAlt, "{host}") {
			t.Errorf("%s: migration incomplete", lang)
		} else {
			for _, v := range []string{"{host}", "{login}", "{added}", "{updated}", "{skipped}", "{rejected}"} {
				if !strings.Contains(k.summary, v) || !strings.Contains(k.summaryAlt, v) {
					t.Errorf("%s: migration summary lacks %s", lang, v)
				}
			}
		}
		if k := c.kinds[store.NoticeAppPassword]; !strings.Contains(k.subject, "{name}") || !strings.Contains(k.summary, "{name}") {
			t.Errorf("%s: app password does not name it", lang)
		}
	}
}

func TestNewLinks(t *testing.T) {
	for base, want := range map[string]string{
		"https://dav.example.org":       "https://dav.example.org/account/activity",
		"https://dav.example.org/":      "https://dav.example.org/account/activity",
		"http://example.org:8080/dav/":  "http://example.org:8080/dav/account/activity",
		"https://example.org/dav":       "https://example.org/dav/account/activity",
		"ftp://example.org":             "",
		"dav.example.org":               "",
		"https://example.org/?x=1":      "",
		"https://example.org/#fragment": "",
	} {
		l, err := NewLinks(base)
		if want == "" {
			if err == nil {
				t.Errorf("NewLinks(%q): no error", base)
			}
			continue
		}
		if err != nil || l.Activity != want || !strings.HasSuffix(l.Passwords, "/account/passwords") || !strings.HasSuffix(l.Security, "/account/security") {
			t.Errorf("NewLinks(%q) = %+v, %v", base, l, err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	n := testNotice(store.NoticeNewSignIn, "fr", "dav")
	for b.Loop() {
		if _, _, _, err := Render(n, testLinks); err != nil {
			b.Fatal(err)
		}
	}
}
