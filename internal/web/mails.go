package web

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
)

// recentMailsShown is how many recent security mails the security page
// lists.
const recentMailsShown = 5

type mailKind struct {
	Kind, Label string
	On          bool
}

type mailLanguage struct {
	Code, Name string
	Chosen     bool
}

// mailSettings is the "Security mails" part of the security page.
type mailSettings struct {
	Enabled     bool // the server has an SMTP relay
	Deliverable bool // the login is a mail address to send them to
	To          string
	Kinds       []mailKind
	Languages   []mailLanguage
	Recent      []store.Notice
}

func (s *Server) mailSettingsOf(r *http.Request, u *store.User) (mailSettings, error) {
	m := mailSettings{Enabled: s.cfg.MailEnabled, Deliverable: notices.Deliverable(u.Login), To: u.Login}
	for _, k := range notices.Kinds {
		m.Kinds = append(m.Kinds, mailKind{Kind: k.Kind, Label: k.Label, On: !slices.Contains(u.MailOff, k.Kind)})
	}
	for _, l := range languageNames {
		m.Languages = append(m.Languages, mailLanguage{Code: l.Code, Name: l.Name, Chosen: l.Code == u.Language})
	}
	if m.Enabled && m.Deliverable {
		list, err := s.st.ListNotices(r.Context(), u.Login, recentMailsShown)
		if err != nil {
			return m, fmt.Errorf("listing security mails: %w", err)
		}
		m.Recent = list
	}
	return m, nil
}

// saveMails stores which security mails the user gets, and in which
// language. A kind not sent in the form ("on" values) is turned off.
func (s *Server) saveMails(w http.ResponseWriter, r *http.Request, c *call) {
	lang := r.PostFormValue("language")
	if lang != "" && !slices.ContainsFunc(languageNames, func(l struct{ Code, Name string }) bool { return l.Code == lang }) {
		s.showSecurity(w, r, c, http.StatusBadRequest, "Choose one of the languages offered.")
		return
	}
	on := r.PostForm["on"]
	for _, k := range on {
		if !notices.Known(k) {
			s.showSecurity(w, r, c, http.StatusBadRequest, "That is not a kind of security mail.")
			return
		}
	}
	for _, k := range notices.Kinds {
		turnsOff := !slices.Contains(on, k.Kind) && !slices.Contains(c.User.MailOff, k.Kind)
		if turnsOff && !s.signedInRecently(w, r, c, AccountPath+"security", "Turning security mails off would keep you from hearing of changes to your account.") {
			return
		}
	}
	err := s.st.UpdateUserSettings(r.Context(), c.User.Login, func(u *store.User) error {
		u.Language = lang
		u.MailOff = nil
		for _, k := range notices.Kinds {
			if !slices.Contains(on, k.Kind) {
				u.MailOff = append(u.MailOff, k.Kind)
			}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("saving mail settings: %w", err))
		return
	}
	s.done(w, r, AccountPath+"security", "Security mail settings saved.")
}
