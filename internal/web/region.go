package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// The phone region of the duplicates pages: the country a user's phone
// numbers written without a country code are from, so that "030 1234567"
// matches "+49 30 1234567".

func (s *Server) regionRoutes() {
	s.handle("POST /account/duplicates/region", s.saveRegion)
}

// country is a choice of the region setting.
type country struct{ Code, Name string }

// phoneCountries are the regions the matcher reads numbers of: by
// English name, and their names by code.
type phoneCountries struct {
	list  []country
	names map[string]string
}

var countries = sync.OnceValue(func() phoneCountries {
	namer := display.English.Regions()
	pc := phoneCountries{names: map[string]string{}}
	for _, code := range contacts.PhoneRegions() {
		name := code
		if r, err := language.ParseRegion(code); err == nil && namer.Name(r) != "" {
			name = namer.Name(r)
		}
		pc.list = append(pc.list, country{code, name})
		pc.names[code] = name
	}
	// Folded, "Åland Islands" comes before "Albania", as people expect.
	slices.SortFunc(pc.list, func(a, b country) int {
		return strings.Compare(contacts.FoldName(a.Name), contacts.FoldName(b.Name))
	})
	return pc
})

// knownCountry reports whether code is a region the matcher knows.
func knownCountry(code string) bool {
	_, ok := countries().names[code]
	return ok
}

// countryName is the name of a region code, or the code itself when it
// is none the matcher knows (a mistyped --region).
func countryName(code string) string {
	if n, ok := countries().names[code]; ok {
		return n
	}
	return code
}

// userRegion is the phone region the books of u are matched with; for
// nil, the server's default.
func (s *Server) userRegion(u *store.User) string { return merges.Region(u, s.cfg.Region) }

// regionGuess is the country of the browser's language ("de-DE" → "DE"),
// or "" when it names none ("de" alone could be Austria as well).
func regionGuess(r *http.Request) string {
	prefs, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil {
		return ""
	}
	for _, t := range prefs {
		reg, conf := t.Region()
		if conf != language.Exact || !reg.IsCountry() {
			continue
		}
		if knownCountry(reg.String()) {
			return reg.String()
		}
	}
	return ""
}

// regionForm is the region setting as the duplicates page shows it. The
// names are "" when there is none.
type regionForm struct {
	Countries []regionOption
	Saved     string // the user's setting
	Server    string // the server's default (--region)
	// Guess is the country of the browser's language, pre-selected when
	// neither the user nor the server has one. It is not used for
	// matching until the user saves it: the groups must not change with
	// the browser, nor differ from the command line's.
	Guess string
}

type regionOption struct {
	Code, Name string
	Selected   bool
}

func (s *Server) regionForm(r *http.Request, u *store.User) regionForm {
	f := regionForm{}
	if server := s.userRegion(nil); server != "" {
		f.Server = countryName(server)
	}
	chosen := u.Region
	switch {
	case u.Region != "":
		f.Saved = countryName(u.Region)
	case f.Server == "":
		chosen = regionGuess(r)
		if chosen != "" {
			f.Guess = countryName(chosen)
		}
	}
	for _, c := range countries().list {
		f.Countries = append(f.Countries, regionOption{Code: c.Code, Name: c.Name, Selected: c.Code == chosen})
	}
	return f
}

// dupBooksData is the duplicates page: the address books, and the region
// setting.
type dupBooksData struct {
	Books  []dupBook
	Region regionForm
}

func (s *Server) saveRegion(w http.ResponseWriter, r *http.Request, c *call) {
	if !r.PostForm.Has("region") {
		s.fail(w, r, c, http.StatusBadRequest, "The form could not be read: nothing was saved.", nil)
		return
	}
	code := strings.ToUpper(strings.TrimSpace(r.PostFormValue("region")))
	if code != "" && !knownCountry(code) {
		s.fail(w, r, c, http.StatusBadRequest, "That is not one of the countries offered: nothing was saved. Choose a country from the list.", nil)
		return
	}
	err := s.st.UpdateUserSettings(r.Context(), c.User.Login, func(u *store.User) error {
		u.Region = code
		return nil
	})
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("saving the phone region: %w", err))
		return
	}
	used := s.userRegion(&store.User{Region: code})
	msg := "Saved: phone numbers without a country code are read as numbers of " + countryName(used) + "."
	switch {
	case used == "":
		msg = "Saved: no country is set, so a phone number without a country code matches only the same number written without one."
	case code == "":
		msg = "Saved: phone numbers without a country code are read as numbers of " + countryName(used) + ", this server's default."
	}
	s.done(w, r, AccountPath+"duplicates", msg)
}
