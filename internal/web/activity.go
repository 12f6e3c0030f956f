package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/store"
)

// activityData is the activity page: sign-ins, imports from another
// provider (which bring data into the account, so they belong with who
// came in), and the time zone its times are in.
type activityData struct {
	SignIns    []activityRow
	Migrations []migrationLine
	Zone       zoneForm
}

// activityRow is one sign-in worded for the activity page.
type activityRow struct {
	store.SignIn
	What, Where, Credential string
}

// zoneForm is the time zone setting.
type zoneForm struct {
	Chosen string // the user's setting; "" = the browser's zone
	Value  string // the field: the setting, or what was typed and refused
}

func (s *Server) activity(w http.ResponseWriter, r *http.Request, c *call) {
	s.showActivity(w, r, c, http.StatusOK, "", c.User.TimeZone)
}

// showActivity renders the activity page; msg and zone re-show a refused
// time zone.
func (s *Server) showActivity(w http.ResponseWriter, r *http.Request, c *call, status int, msg, zone string) {
	list, err := s.st.ListSignIns(r.Context(), c.User.Login, signInsShown)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing sign-ins: %w", err))
		return
	}
	rows := make([]activityRow, len(list))
	for i, e := range list {
		rows[i] = activityRowOf(e)
	}
	migrations, err := s.migrationLines(r.Context(), c.User.Login)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	_, chosen := userZone(c.User)
	s.render(w, r, c, status, "activity", page{Title: "Activity", Nav: "activity", Error: msg,
		Data: activityData{SignIns: rows, Migrations: migrations, Zone: zoneForm{Chosen: chosen, Value: zone}}})
}

// activityRowOf words a sign-in.
func activityRowOf(e store.SignIn) activityRow {
	row := activityRow{SignIn: e, What: "Failed sign-in", Where: e.Via, Credential: "—"}
	if e.OK {
		row.What = "Signed in"
	}
	switch e.Via {
	case auth.ViaWeb:
		row.Where = "web page"
	case auth.ViaDAV:
		row.Where = "device (DAV)"
	}
	if e.Credential == "password" {
		row.Credential = "account password"
	} else if e.Credential == "code" {
		row.Credential = "right password, wrong two-factor code"
	} else if name, ok := strings.CutPrefix(e.Credential, "app:"); ok {
		row.Credential = "app password: " + name
	}
	return row
}
