package web

import (
	"errors"
	"net/http"

	"golang.org/x/text/language"

	"github.com/rolodav/rolodav/internal/store"
)

// mailLanguages are the languages security mails are written in, the
// first being the default.
var mailLanguages = []language.Tag{language.English, language.French, language.German, language.Italian}

var mailLanguageMatcher = language.NewMatcher(mailLanguages)

// languageNames are the choices of the language setting, by the code
// store.User.Language holds, each in its own language.
var languageNames = []struct{ Code, Name string }{
	{"en", "English"}, {"fr", "Français"}, {"de", "Deutsch"}, {"it", "Italiano"},
}

// browserLanguage is the mail language closest to what the browser asks
// for (Accept-Language), or "" when none comes close.
func browserLanguage(r *http.Request) string {
	prefs, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(prefs) == 0 {
		return ""
	}
	_, i, conf := mailLanguageMatcher.Match(prefs...)
	if conf < language.High {
		return ""
	}
	base, _ := mailLanguages[i].Base()
	return base.String()
}

var errLanguageKnown = errors.New("the language is known")

// learnLanguage sets the user's language from the browser's the first time
// they sign in to the pages, so that mails come in it before they choose
// one. A failure only costs that guess: it is logged, not shown.
func (s *Server) learnLanguage(r *http.Request, login string) {
	lang := browserLanguage(r)
	if lang == "" {
		return
	}
	err := s.st.UpdateUserSettings(r.Context(), login, func(u *store.User) error {
		if u.Language != "" {
			return errLanguageKnown // nothing to write
		}
		u.Language = lang
		return nil
	})
	if err != nil && !errors.Is(err, errLanguageKnown) {
		s.log.WarnContext(r.Context(), "saving the language of the browser", "login", login, "err", err)
	}
}
