package web

// Times on the pages: every page writes a time with the "when" template
// function, in the user's time zone (store.User.TimeZone) when they chose
// one, else in UTC, always naming the zone; inside <time datetime>, so
// that app.js shows it in the browser's zone when the user chose none.

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones even where the system has no zoneinfo

	"github.com/rolodav/rolodav/internal/store"
)

// maxZoneName bounds a time zone name: the longest IANA name is 32
// characters.
const maxZoneName = 64

// errZone is a time zone name that is not one.
var errZone = errors.New("not a time zone")

// zones caches the zones loaded by name (time.LoadLocation reads the
// zone's file each time). Names come from the time zone setting, which
// takes only IANA names, so the cache stays as small as their list.
var zones sync.Map // name → *time.Location

// loadZone is the IANA zone of name: "Europe/Berlin", "UTC". It refuses
// "" and "Local" (the server's zone, which says nothing to the user), and
// anything not made of the characters of zone names.
func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "" || name == "Local" || len(name) > maxZoneName || strings.Trim(name, zoneChars) != "" ||
		strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return nil, errZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errZone
	}
	zones.Store(name, loc)
	return loc, nil
}

const zoneChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-"

// userZone is the zone u chose and its name, or UTC and "" when they
// chose none (or a name this server no longer knows).
func userZone(u *store.User) (*time.Location, string) {
	if u == nil || u.TimeZone == "" {
		return time.UTC, ""
	}
	loc, err := loadZone(u.TimeZone)
	if err != nil {
		return time.UTC, ""
	}
	return loc, u.TimeZone
}

// formatWhen is t in loc for people, with its zone: "5 Dec 2026, 14:03
// CET"; "never" for the zero time.
func formatWhen(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	t = t.In(loc)
	return t.Format("2 Jan 2006, 15:04") + " " + zoneAbbrev(t)
}

// zoneAbbrev is the abbreviation of t's zone ("CET", "EDT", "UTC"), or
// its offset as "UTC+3", "UTC+5:45" where the zone has no abbreviation
// (the zone database then writes "+03").
func zoneAbbrev(t time.Time) string {
	name, offset := t.Zone()
	if name != "" && name[0] != '+' && name[0] != '-' {
		return name
	}
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	h, m := offset/3600, offset%3600/60
	if m != 0 {
		return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("UTC%s%d", sign, h)
}

// isoTime is t for <time datetime> and for scripts: RFC 3339 in UTC.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// maxZonedSets bounds how many zones keep their own templates: each set
// costs memory, and a server's users live in a few zones. Beyond it, a
// page in another zone is made for its request only.
const maxZonedSets = 32

// zonedTemplates are the pages' templates with "when" writing times in
// one zone, made from the parsed templates (which are never executed, so
// that they can be cloned) when a page is first shown in that zone.
type zonedTemplates struct {
	mu   sync.Mutex
	sets map[string]map[string]*template.Template // zone name → page → template
}

// zonedTemplate is page name with times in loc (named zone).
func (s *Server) zonedTemplate(name string, loc *time.Location, zone string) (*template.Template, error) {
	base, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no template %s", name)
	}
	z := &s.zoned
	z.mu.Lock()
	t := z.sets[zone][name]
	z.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: cloning template %s: %w", name, err)
	}
	t.Funcs(template.FuncMap{"when": func(t time.Time) string { return formatWhen(t, loc) }})
	z.mu.Lock()
	defer z.mu.Unlock()
	set := z.sets[zone]
	switch {
	case set == nil && len(z.sets) >= maxZonedSets:
		return t, nil
	case set == nil:
		set = map[string]*template.Template{}
		z.sets[zone] = set
	case set[name] != nil:
		return set[name], nil // made meanwhile by another request
	}
	set[name] = t
	return t, nil
}

// timeZoneRoutes registers the time zone setting, which the activity page
// shows.
func (s *Server) timeZoneRoutes() {
	s.handle("POST "+AccountPath+"timezone", s.saveTimeZone)
}

// saveTimeZone stores the zone the pages show times in; an empty name
// goes back to the browser's zone.
func (s *Server) saveTimeZone(w http.ResponseWriter, r *http.Request, c *call) {
	name := strings.TrimSpace(r.PostFormValue("zone"))
	if name != "" {
		if _, err := loadZone(name); err != nil {
			msg := fmt.Sprintf("“%s” is not a time zone this server knows. Give a name such as Europe/Berlin, America/New_York or UTC, or leave it empty to use your browser's zone.", name)
			if len(name) > maxZoneName {
				msg = "That is not a time zone: names such as Europe/Berlin are short."
			}
			s.showActivity(w, r, c, http.StatusBadRequest, msg, name)
			return
		}
	}
	err := s.st.UpdateUserSettings(r.Context(), c.User.Login, func(u *store.User) error {
		u.TimeZone = name
		return nil
	})
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("saving the time zone: %w", err))
		return
	}
	notice := "Times are now shown in your browser's time zone."
	if name != "" {
		notice = "Times are now shown in " + name + "."
	}
	s.done(w, r, AccountPath+"activity#time-zone", notice)
}
