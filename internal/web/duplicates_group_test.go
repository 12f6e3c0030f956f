package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// dupText is a page's text as read: tags dropped, entities resolved,
// blanks collapsed.
func dupText(page string) string {
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " "))
	return strings.Join(strings.Fields(text), " ")
}

// dupSection is the text of the page from heading from to heading to.
func dupSection(t *testing.T, page, from, to string) string {
	t.Helper()
	text := dupText(page)
	_, after, ok := strings.Cut(text, from)
	if !ok {
		t.Fatalf("no %q in the page:\n%s", from, text)
	}
	section, _, ok := strings.Cut(after, to)
	if !ok {
		t.Fatalf("no %q after %q in the page:\n%s", to, from, text)
	}
	return section
}

// dupReview opens the review page of the group holding uid.
func dupReview(t *testing.T, s *testSession, query string) (group, body string) {
	t.Helper()
	_, body = s.get(t, "/account/duplicates/contacts")
	group = dupGroupLink(t, body)
	resp, body := s.get(t, group+query)
	dupStatus(t, resp, http.StatusOK, body)
	return group, body
}

// "Same on all cards" lists what every card of the group has, as the
// reference writes it; what only some cards share is highlighted on them
// with how many have it.
func TestReviewSameOnAllCardsMeansAll(t *testing.T) {
	ts := newTestServer(t)
	dupPut(t, ts.Store, testLogin, map[string]string{
		"jane-1": dupCard("jane-1", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33 6 12 34 56 78", "EMAIL:jane@example.org", "BDAY:1980-05-17"),
		"jane-2": dupCard("jane-2", "FN:Jane Doe", "N:Doe;Jane;;;", "TEL:+33612345678", "EMAIL:JANE@Example.org", "BDAY:1980-05-17"),
		"jane-3": dupCard("jane-3", "FN:Jane Doe", "N:Doe;Jane;;;", "EMAIL:Jane@example.ORG", "BDAY:1980-05-17", "ORG:Acme"),
	})
	s := ts.signedIn(t, testLogin)
	_, body := dupReview(t, s, "?reference=jane-1")

	same := dupSection(t, body, "Same on all cards", "Will be added")
	if strings.Contains(same, "Phone") || strings.Contains(same, "12 34") {
		t.Errorf("the phone of two of the three cards is listed as on all cards: %q", same)
	}
	for _, want := range []string{"E-mail: jane@example.org", "Birthday: 1980-05-17", "Name: Jane Doe"} {
		if !strings.Contains(same, want) {
			t.Errorf("same on all cards lacks %q: %q", want, same)
		}
	}
	if strings.Contains(strings.ToLower(same), "jane@example.org") && strings.Contains(same, "JANE@") || strings.Contains(same, "ORG") {
		t.Errorf("same on all cards not in the reference's own writing: %q", same)
	}
	text := dupText(body)
	for _, want := range []string{
		"Phone +33 6 12 34 56 78 on 2 of 3 cards", "Phone +33612345678 on 2 of 3 cards",
		"E-mail jane@example.org on all 3 cards", "E-mail JANE@Example.org on all 3 cards",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the cards lack %q:\n%s", want, text)
		}
	}
}

// One "Name" choice sets the full name and its parts: picking the other
// card's name writes both from that card (the defect: FN:Tina Krüger with
// N:kruger;tina;X.;;).
func TestReviewNameChoiceSetsBothParts(t *testing.T) {
	ts := newTestServer(t)
	tina := func(uid string, lines ...string) string {
		return dupCard(uid, append(lines, "EMAIL:tina@example.org", "TEL:+49 30 1234567", "BDAY:1985-03-10")...)
	}
	coll := dupPut(t, ts.Store, testLogin, map[string]string{
		"tina-1": tina("tina-1", "FN:Tina Krueger", "N:kruger;tina;X.;;", "NOTE:the fullest card, the default reference"),
		"tina-2": tina("tina-2", "FN:Tina Krüger", "N:Krüger;Tina;;;"),
	})
	s := ts.signedIn(t, testLogin)
	group, body := dupReview(t, s, "")

	if n := strings.Count(body, "<legend>Name</legend>"); n != 1 {
		t.Errorf("%d groups called Name, want 1:\n%s", n, body)
	}
	if strings.Contains(body, "<legend>Name parts") {
		t.Error("the name parts are chosen apart from the name")
	}
	text := dupText(body)
	if !strings.Contains(text, "Tina Krueger (from the reference, card 1; first name tina, middle name X., last name kruger)") {
		t.Errorf("the reference's name does not say how its parts read:\n%s", text)
	}
	m := regexp.MustCompile(`<input type="radio" name="([^"]+)" value="([^"]+)"[^>]*> Tina Krüger `).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no radio for the name Tina Krüger:\n%s", body)
	}
	resp, body := s.post(t, group+"/merge", url.Values{m[1]: {m[2]},
		"reference": {dupInput(t, body, "reference")}, "version": {dupInput(t, body, "version")}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	o := dupObject(t, ts.Store, coll, "tina-1.vcf")
	if o == nil {
		t.Fatal("the reference is gone")
	}
	if s := string(o.Data); !strings.Contains(s, "\r\nFN:Tina Krüger\r\n") || !strings.Contains(s, "\r\nN:Krüger;Tina;;;\r\n") {
		t.Errorf("the survivor's name is not card 2's, full and in parts:\n%s", s)
	}
}

// Legends and labels name properties in words, never by their vCard names.
func TestReviewPlainLabels(t *testing.T) {
	ts := newTestServer(t)
	dupPut(t, ts.Store, testLogin, map[string]string{
		"ann-1": dupCard("ann-1", "FN:Ann Lee", "N:Lee;Ann;;;", "EMAIL:ann@example.org", "BDAY:1980-05-17",
			"ORG:Acme", "TITLE:Boss", "X-MAIDENNAME:Smith", "NOTE:the fullest card, the default reference"),
		"ann-2": dupCard("ann-2", "FN:Ann B. Lee", "N:Lee;Ann;B.;;", "EMAIL:ann@example.org", "BDAY:1980-05-17",
			"ORG:Globex", "TITLE:Chief", "X-MAIDENNAME:Brown", "X-SPOUSE:Bob"),
	})
	s := ts.signedIn(t, testLogin)
	_, body := dupReview(t, s, "")
	dupHas(t, body, "<legend>Name</legend>", "<legend>Organisation</legend>", "<legend>Job title</legend>", "<legend>Maiden name</legend>")
	text := dupText(body)
	if !strings.Contains(text, "Spouse: Bob") {
		t.Errorf("an unknown property is not named in words:\n%s", text)
	}
	if m := regexp.MustCompile(`\b(FN|N|UID|ORG|TITLE|BDAY|X-[A-Z-]+)\b`).FindString(text); m != "" {
		t.Errorf("the page says %q:\n%s", m, text)
	}
}

// Every card but the reference is one link to make it the reference, with
// a name that says which card; it leads back to the cards (#cards) and
// keeps where the list was (back).
func TestReviewWholeCardLink(t *testing.T) {
	ts := newTestServer(t)
	dupSeed(t, ts.Store, testLogin)
	s := ts.signedIn(t, testLogin)
	_, body := dupReview(t, s, "?reference=jane-1")
	dupHas(t, body, `id="cards"`,
		`<a class="dup-pick" href="?reference=jane-2#cards">Keep card 2 as the reference<span class="visually-hidden"> (Jane Doe)</span></a>`,
		`<a class="dup-pick" href="?reference=jane-3#cards">Keep card 3 as the reference<span class="visually-hidden"> (Jane Doe)</span></a>`,
		`<span class="badge ok">Reference</span>`)
	if strings.Contains(body, "?reference=jane-1") || strings.Contains(body, "Keep card 1") {
		t.Error("the reference offers to be made the reference")
	}
	if strings.Contains(body, " as reference") {
		t.Error("the old small link is still there")
	}
	if strings.Contains(body, `name="back"`) {
		t.Error("a back field without a list to go back to")
	}

	_, body = dupReview(t, s, "?reference=jane-2&back="+url.QueryEscape("page=2&band=likely"))
	dupHas(t, body,
		`<a class="dup-pick" href="?reference=jane-1&amp;back=band%3Dlikely%26page%3D2#cards">Keep card 1`,
		`<input type="hidden" name="back" value="band=likely&amp;page=2">`,
		`href="/account/duplicates/contacts?band=likely&amp;page=2">Back to the duplicates`)
	for _, bad := range []string{"%25zz", url.QueryEscape("page=" + strings.Repeat("long", dupBackMax))} {
		_, body = dupReview(t, s, "?reference=jane-2&back="+bad)
		if strings.Contains(body, `name="back"`) || strings.Contains(body, "%zz") || strings.Contains(body, "longlong") {
			t.Errorf("back=%.20s… is carried on:\n%s", bad, body)
		}
	}
}

// When the cards agree on the full name but not on its parts, the parts
// are the "Name" choice, read as names.
func TestReviewNameChoiceWhenOnlyThePartsDiffer(t *testing.T) {
	ts := newTestServer(t)
	coll := dupPut(t, ts.Store, testLogin, map[string]string{
		"jo-1": dupCard("jo-1", "FN:Jo Park", "N:Park;Jo;;;", "EMAIL:jo@example.org", "BDAY:1980-05-17", "NOTE:the fullest card, the default reference"),
		"jo-2": dupCard("jo-2", "FN:Jo Park", "N:Park;Jo;Min;;", "EMAIL:jo@example.org", "BDAY:1980-05-17"),
	})
	s := ts.signedIn(t, testLogin)
	group, body := dupReview(t, s, "")
	if n := strings.Count(body, "<legend>"); n != 1 || !strings.Contains(body, "<legend>Name</legend>") {
		t.Errorf("want one choice, Name:\n%s", body)
	}
	text := dupText(body)
	for _, want := range []string{"Jo Park (from the reference, card 1; first name Jo, last name Park)",
		"Jo Min Park (from card 2; first name Jo, middle name Min, last name Park)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	m := regexp.MustCompile(`<input type="radio" name="([^"]+)" value="([^"]+)"[^>]*> Jo Min Park `).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no radio for Jo Min Park:\n%s", body)
	}
	resp, body := s.post(t, group+"/merge", url.Values{m[1]: {m[2]},
		"reference": {dupInput(t, body, "reference")}, "version": {dupInput(t, body, "version")}})
	dupStatus(t, resp, http.StatusSeeOther, body)
	if o := dupObject(t, ts.Store, coll, "jo-1.vcf"); o == nil || !strings.Contains(string(o.Data), "\r\nN:Park;Jo;Min;;\r\n") {
		t.Errorf("the chosen parts are not kept: %+v", o)
	}
}
