package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/migrate"
	"github.com/rolodav/rolodav/internal/store"
)

// migrationRoutes registers "Import from another provider": the form is
// on the address books and calendars page, the progress page reads the
// store's record, so it shows runs of any server process and of the
// command line alike.
func (s *Server) migrationRoutes() {
	s.handle("POST "+AccountPath+"migrations", s.startMigration)
	s.handle("GET "+AccountPath+"migrations/{id}", s.migration)
}

// migrationRefresh is how often the progress page of a running migration
// reloads itself, in seconds.
const migrationRefresh = 2

// maxSourceURL bounds the server address typed, in bytes.
const maxSourceURL = 2000

// migrationPath is migration id's progress page, without the prefix.
func migrationPath(id int64) string {
	return AccountPath + "migrations/" + strconv.FormatInt(id, 10)
}

// migrateForm is the form's values shown again after a refusal (never
// the password), and the running migration the page links to.
type migrateForm struct {
	URL, User, Only string
	Running         int64 // a running migration's ID; 0 when none
}

// onlyChoices are the form's choices of what to bring.
var onlyChoices = []struct{ Value, Label string }{
	{"", "Contacts and calendars"},
	{migrate.OnlyContacts, "Only contacts"},
	{migrate.OnlyCalendars, "Only calendars and task lists"},
}

// startMigration records a migration and runs it in the server's
// background, then sends the browser to its progress page. The run does
// not end with the request (closing the page does not stop it), only
// with Config.Background. The password goes to the source and nowhere
// else: not the store, the report, the log, nor the form shown again.
func (s *Server) startMigration(w http.ResponseWriter, r *http.Request, c *call) {
	f := migrateForm{URL: strings.TrimSpace(r.PostFormValue("url")), User: strings.TrimSpace(r.PostFormValue("user")),
		Only: r.PostFormValue("only")}
	password := r.PostFormValue("password")
	source, msg := sourceURL(f.URL)
	switch {
	case msg != "":
	case f.User == "" || password == "":
		msg = "Give your login and password at the other provider."
	case len(f.User) > 320 || len(password) > 1024:
		msg = "The login or password is too long."
	case f.Only != "" && f.Only != migrate.OnlyContacts && f.Only != migrate.OnlyCalendars:
		msg = "Choose what to bring: contacts, calendars, or both."
	}
	if msg != "" {
		if strings.Contains(f.URL, "@") {
			f.URL = "" // it may hold a password: not shown again
		}
		s.showCollections(w, r, c, http.StatusBadRequest, msg, f)
		return
	}
	t, err := migrate.Track(r.Context(), s.st, c.User.Login, migrate.Options{
		SourceOptions: migrate.SourceOptions{URL: source, User: f.User, Password: password,
			AllowPrivate: s.cfg.MigrateAllowPrivate, MaxObjectSize: s.cfg.MaxResourceSize},
		Only: f.Only,
	})
	if errors.Is(err, migrate.ErrRunning) {
		if id := s.runningMigration(r.Context(), c.User.Login); id != 0 {
			s.done(w, r, migrationPath(id), "An import is already running: here it is. Start another once it has ended.")
			return
		}
		s.fail(w, r, c, http.StatusConflict, "An import is already running for your account. Try again once it has ended.", nil)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	// The request's values (the browser's address and client for the
	// mail, the mail and push senders' wakes) but not its end.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	unhook := context.AfterFunc(s.background, cancel)
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		defer cancel()
		defer unhook()
		_, err := t.Run(ctx)
		var se *migrate.SourceError
		switch {
		case err == nil, errors.As(err, &se):
			// The source's problem is the user's to read on the page.
		case ctx.Err() != nil:
			s.log.Info("import from another provider stopped by shutdown", "login", c.User.Login, "migration", t.ID())
		default:
			s.log.Error("import from another provider failed", "login", c.User.Login, "migration", t.ID(), "err", err)
		}
	}()
	s.done(w, r, migrationPath(t.ID()), "")
}

// sourceURL checks the server address typed: http(s), a host, no
// credentials (they have their own fields). A bare host name means
// https. It returns the URL, or why it is refused.
func sourceURL(raw string) (string, string) {
	if raw == "" {
		return "", "Give the address of the other provider's server."
	}
	if len(raw) > maxSourceURL {
		return "", "That server address is too long."
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return "", "That is not a server address: give one like https://dav.example.com/."
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "The server address must start with https:// (or http://)."
	case u.User != nil:
		return "", "Give the login and password in their own fields, not in the server address."
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), ""
}

// runningMigration returns the ID of login's running migration, 0 when
// none.
func (s *Server) runningMigration(ctx context.Context, login string) int64 {
	list, err := s.st.ListMigrations(ctx, login, store.MigrationsKept)
	if err != nil {
		s.log.ErrorContext(ctx, "listing migrations", "err", err)
		return 0
	}
	now := s.cfg.Now()
	for _, m := range list {
		if m.StateAt(now) == store.MigrationRunning {
			return m.ID
		}
	}
	return 0
}

// migrationView is a migration as the progress page and the activity
// page show it.
type migrationView struct {
	store.Migration
	Href       string
	State      string // as of now (store.Migration.StateAt)
	StateLabel string
	Running    bool
	Error      string
	Report     *migrate.Report // nil when it cannot be read
	Totals     migrate.Totals
	What       string // what it brings: "Contacts and calendars", …
	Rows       []migrationRow
}

// migrationRow is one source collection on the progress page.
type migrationRow struct {
	migrate.ReportCollection
	KindLabel   string
	StatusLabel string
	DestHref    string // the destination's page; "" while it is not made
	DupHref     string // its duplicates page, when worth a look
	Routes      []migrationRouted
}

// migrationRouted is a collection some objects of a row went to instead
// of its destination.
type migrationRouted struct {
	migrate.ReportRoute
	Href  string // its page; "" for a dry run
	Takes string // what it takes, for a person: "tasks"; "" when not known
}

// componentWords names the components for a person.
var componentWords = map[string]string{
	calendars.VEVENT:   "events",
	calendars.VTODO:    "tasks",
	calendars.VJOURNAL: "journal entries",
}

// takes says what a collection of components comps takes: "tasks",
// "events and tasks".
func takes(comps []string) string {
	words := make([]string, len(comps))
	for i, c := range comps {
		words[i] = cmp.Or(componentWords[c], c)
	}
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func (s *Server) migrationView(m *store.Migration) migrationView {
	v := migrationView{Migration: *m, Href: s.path(migrationPath(m.ID)), State: m.StateAt(s.cfg.Now()), Error: m.Error}
	switch v.State {
	case store.MigrationRunning:
		v.StateLabel, v.Running = "Running", true
	case store.MigrationDone:
		v.StateLabel = "Done"
	case store.MigrationFailed:
		v.StateLabel = "Failed"
	case store.MigrationInterrupted:
		v.StateLabel = "Interrupted"
		if v.Error == "" {
			v.Error = "The server running it stopped before the end. Start it again: what was brought over stays, and nothing is added twice."
		}
	default:
		v.StateLabel = v.State
	}
	rep, err := migrate.ParseReport(m.Report)
	if err != nil {
		return v
	}
	v.Report, v.Totals = rep, rep.Totals()
	for _, o := range onlyChoices {
		if o.Value == rep.Only {
			v.What = o.Label
		}
	}
	for _, c := range rep.Collections {
		if !v.Running && !rep.Ended {
			// Its process died: the last progress written is all there is.
			switch c.Status {
			case migrate.StatusRunning:
				c.Status = migrate.StatusStopped
			case migrate.StatusWaiting:
				c.Status = migrate.StatusNotReached
			}
		}
		row := migrationRow{ReportCollection: c, KindLabel: "Calendar or task list"}
		dest := &store.Collection{Kind: c.Kind, Name: c.Dest}
		if c.Kind == store.KindCard {
			row.KindLabel = "Address book"
		}
		switch c.Status {
		case migrate.StatusWaiting:
			row.StatusLabel = "Waiting"
		case migrate.StatusRunning:
			row.StatusLabel = "Reading"
		case migrate.StatusDone:
			row.StatusLabel = "Done"
		case migrate.StatusStopped:
			row.StatusLabel = "Stopped"
		case migrate.StatusNotReached:
			row.StatusLabel = "Not reached"
		case migrate.StatusCounted:
			row.StatusLabel = "Counted (dry run)"
		default:
			row.StatusLabel = c.Status
		}
		made := !c.Created || (c.Status != migrate.StatusWaiting && c.Status != migrate.StatusNotReached)
		if c.Dest != "" && made && !rep.DryRun {
			row.DestHref = s.path(collPath(dest))
		}
		if c.OfferDuplicates && c.Dest != "" {
			row.DupHref = s.path(newDupBook(dest).URL())
		}
		for _, to := range c.Routed {
			r := migrationRouted{ReportRoute: to, Takes: takes(to.Components)}
			if !rep.DryRun {
				r.Href = s.path(collPath(&store.Collection{Kind: c.Kind, Name: to.Dest}))
			}
			row.Routes = append(row.Routes, r)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

type migrationData struct {
	migrationView
	Refreshing bool   // the page reloads itself
	StopHref   string // the page without reloading
	ResumeHref string // the page reloading again
}

func (s *Server) migration(w http.ResponseWriter, r *http.Request, c *call) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var m *store.Migration
	if err == nil {
		m, err = s.st.GetMigration(r.Context(), c.User.Login, id)
	} else {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, c, http.StatusNotFound, "There is no such import.", nil)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading migration: %w", err))
		return
	}
	d := migrationData{migrationView: s.migrationView(m)}
	p := page{Title: "Import from another provider", Nav: "collections", Data: &d}
	if d.Running {
		// Reloading is a time limit of sorts (WCAG 2.2.1): the page offers
		// to stop it.
		d.Refreshing = r.URL.Query().Get("refresh") != "off"
		d.StopHref, d.ResumeHref = d.Href+"?refresh=off", d.Href
		if d.Refreshing {
			p.Refresh = migrationRefresh
		}
	}
	s.render(w, r, c, http.StatusOK, "migration", p)
}

// migrationsShown is how many migrations the activity page lists: all
// the store keeps.
const migrationsShown = store.MigrationsKept

// migrationLine is one migration on the activity page.
type migrationLine struct {
	migrationView
	Counts string // "3 added, 1 updated, …"; "" while running
}

func (s *Server) migrationLines(ctx context.Context, login string) ([]migrationLine, error) {
	list, err := s.st.ListMigrations(ctx, login, migrationsShown)
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	out := make([]migrationLine, len(list))
	for i := range list {
		v := s.migrationView(&list[i])
		out[i] = migrationLine{migrationView: v}
		if v.Report != nil && !v.Running {
			t := v.Totals
			out[i].Counts = fmt.Sprintf("%d added, %d updated, %d already here, %d not imported", t.Added, t.Updated, t.Skipped, t.NotImported)
		}
	}
	return out, nil
}
