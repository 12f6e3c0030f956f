package mailer

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/useragent"
)

//go:embed templates
var templates embed.FS

var (
	textMail = texttemplate.Must(texttemplate.ParseFS(templates, "templates/mail.txt"))
	htmlMail = htmltemplate.Must(htmltemplate.ParseFS(templates, "templates/mail.html"))
)

// Links are the absolute URLs of the account pages a mail points to.
type Links struct {
	Activity  string // recent sign-ins
	Passwords string // app passwords
	Security  string // password, two-factor, and which mails to get
}

// NewLinks are the pages under base, the server's public URL
// ("https://dav.example.org" or "https://example.org/dav").
func NewLinks(base string) (Links, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return Links{}, fmt.Errorf("mail links: %q is not an http(s) URL without query", base)
	}
	b := strings.TrimSuffix(u.String(), "/")
	return Links{
		Activity:  b + "/account/activity",
		Passwords: b + "/account/passwords",
		Security:  b + "/account/security",
	}, nil
}

// codeFailures starts the Detail of a NoticeFailedSignIns about wrong
// two-factor codes given after the right password: "code:<n>".
const codeFailures = "code:"

// maxDetail bounds the user-given text a mail repeats (an app password's
// name), in characters.
const maxDetail = 100

type fact struct{ Label, Value string }
type link struct{ Label, URL string }

// mailData is what the templates show; every string is text (the HTML
// template escapes it).
type mailData struct {
	Lang, Subject, Greeting string
	Paragraphs              []string
	Facts                   []fact
	IfYou, IfNotYou         string
	Links                   []link
	Footer                  string
	Security                link
}

// Render writes the mail for n in n.Language (English when unknown): the
// subject, a plain-text body and an HTML body. The subject is one line:
// whatever the notice holds, no CR or LF gets into a header.
func Render(n store.Notice, ls Links) (subject, text, html string, err error) {
	cat, ok := catalogs[n.Language]
	if !ok {
		cat = catalogs["en"]
		n.Language = "en"
	}
	key, count := n.Kind, n.Detail
	if n.Kind == store.NoticeFailedSignIns {
		if c, ok := strings.CutPrefix(n.Detail, codeFailures); ok {
			key, count = failedCodes, c
		}
	}
	k, ok := cat.kinds[key]
	if !ok {
		return "", "", "", fmt.Errorf("render: unknown kind of notice %q", n.Kind)
	}
	detail := clean(n.Detail, maxDetail)
	vars := []string{"{login}", clean(n.Login, 320), "{name}", detail, "{count}", clean(count, maxDetail)}
	migrated := store.MigrationDone
	if n.Kind == store.NoticeMigration {
		var counts []string
		migrated, counts = migrationDetail(n.Detail)
		vars = append(vars, "{added}", counts[0], "{updated}", counts[1], "{skipped}", counts[2], "{rejected}", counts[3], "{host}", counts[4])
	}
	fill := strings.NewReplacer(vars...).Replace

	summary, ifNotYou := k.summary, k.ifNotYou
	subject = k.subject
	var paras []string
	switch n.Kind {
	case store.NoticeTwoFactor:
		if n.Detail == "off" {
			subject, summary, ifNotYou = k.subjectAlt, k.summaryAlt, k.ifNotYouAlt
		}
	case store.NoticeFailedSignIns:
		if c, err := strconv.Atoi(count); err != nil || c < 2 {
			summary = k.summaryAlt
		}
	case store.NoticeMigration:
		if migrated != store.MigrationDone {
			subject, summary = k.subjectAlt, k.summaryAlt
		}
	}
	paras = append(paras, fill(summary))
	switch {
	case n.Kind == store.NoticeNewSignIn && n.Detail == "web":
		paras = append(paras, k.viaWeb)
	case n.Kind == store.NoticeNewSignIn && n.Detail == "dav":
		paras = append(paras, k.viaDAV)
	case k.more != "":
		paras = append(paras, k.more)
	}
	links := []link{{cat.activity, ls.Activity}, {cat.passwords, ls.Passwords}}
	if k.securityLink {
		links = append([]link{{cat.security, ls.Security}}, links...)
	}
	ifYou := cat.ifYou
	if k.ifYou != "" {
		ifYou = k.ifYou
	}
	d := mailData{
		Lang:       n.Language,
		Subject:    fill(subject),
		Greeting:   cat.greeting,
		Paragraphs: paras,
		Facts: []fact{
			{cat.when, cat.formatTime(n.Time)},
			{cat.addr, cat.address(n.Addr)},
			{cat.client, cat.describe(n.Client)},
		},
		IfYou:    ifYou,
		IfNotYou: ifNotYou,
		Links:    links,
		Footer:   cat.footer,
		Security: link{cat.security, ls.Security},
	}
	var tb, hb strings.Builder
	if err := textMail.Execute(&tb, d); err != nil {
		return "", "", "", fmt.Errorf("render %s notice: %w", n.Kind, err)
	}
	if err := htmlMail.Execute(&hb, d); err != nil {
		return "", "", "", fmt.Errorf("render %s notice: %w", n.Kind, err)
	}
	return d.Subject, tb.String(), hb.String(), nil
}

// migrationDetail reads a NoticeMigration's Detail: the migration's final
// state, and its counts and source host (in that order, as text to show;
// "0" and "?" for what is missing).
func migrationDetail(detail string) (state string, counts []string) {
	f := strings.Fields(detail)
	counts = []string{"0", "0", "0", "0", "?"}
	if len(f) > 0 {
		state = f[0]
	}
	for i := range 4 {
		if i+1 < len(f) {
			if n, err := strconv.Atoi(f[i+1]); err == nil && n >= 0 {
				counts[i] = strconv.Itoa(n)
			}
		}
	}
	if len(f) > 5 {
		counts[4] = clean(f[5], maxDetail)
	}
	return state, counts
}

// formatTime writes t in UTC: "5 December 2026, 14:03 UTC".
func (c *catalog) formatTime(t time.Time) string {
	t = t.UTC()
	day := strconv.Itoa(t.Day())
	day1 := day
	if t.Day() == 1 {
		day1 = "1er"
	}
	return strings.NewReplacer("{day1}", day1, "{day}", day, "{month}", c.months[t.Month()-1],
		"{year}", strconv.Itoa(t.Year()), "{time}", t.Format("15:04")).Replace(c.date)
}

// address is the client's address without its port.
func (c *catalog) address(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if addr = clean(addr, 64); addr == "" {
		return c.unknownAddr
	}
	return addr
}

// describe names the client in the catalog's language, when it is one
// useragent knows: an unknown one's name is whatever its sender wrote, and
// a security mail must not carry that (a link, "Your bank").
func (c *catalog) describe(ua string) string {
	cl := useragent.Parse(ua)
	switch {
	case !cl.Known || cl.App == "":
		return c.unknownClient
	case cl.OS == "":
		return cl.App
	}
	return cl.App + " " + c.on + " " + cl.OS
}

// clean makes s one line of at most max characters: control and format
// characters become spaces.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}
