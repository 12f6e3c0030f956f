package web

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/rolodav/rolodav/internal/calendars"
	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/exports"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
)

// collectionRoutes registers the address books and calendars pages.
func (s *Server) collectionRoutes() {
	const base = AccountPath + "collections"
	const one = base + "/{kind}/{name}"
	s.handle("GET "+base, s.collections)
	s.handle("POST "+base, s.createCollection)
	s.handle("GET "+one, s.collection)
	s.handle("POST "+one, s.saveCollection)
	s.handle("POST "+one+"/import", s.importCollection)
	s.handle("GET "+one+"/export", s.exportCollection)
	s.handle("GET "+one+"/delete", s.confirmDeleteCollection)
	s.handle("POST "+one+"/delete", s.deleteCollection)
}

// The kinds offered when creating a collection; the value is the form's.
var newKinds = []struct{ Value, Label string }{
	{"addressbook", "Address book"},
	{"calendar", "Calendar"},
	{"tasks", "Task list"},
}

// defaultColour fills the colour input of a collection that has none;
// saving it unchanged leaves the colour unset.
const defaultColour = "#3a7bd5"

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$`)

// collView is a collection as the pages show it.
type collView struct {
	Name, DisplayName string
	KindLabel         string // "Address book", "Calendar", "Task list", "Calendar and tasks"
	Size              string // "3 cards"
	Noun              string // "Card", "Event", "Task" or "Item": one of its objects
	Bytes             int64
	Colour            string       // #rrggbb for the colour input
	Swatch            template.URL // a data: image of the colour; "" when unset
	Href              string       // the edit page
}

func (s *Server) view(c *store.Collection) collView {
	v := collView{Name: c.Name, DisplayName: c.DisplayName, Bytes: c.Bytes, Colour: defaultColour,
		Href: s.path(collPath(c))}
	if v.DisplayName == "" {
		v.DisplayName = c.Name
	}
	if colourRE.MatchString(c.Color) {
		v.Colour = strings.ToLower(c.Color[:7])
		// The CSP forbids inline styles; a data: image is allowed.
		v.Swatch = template.URL("data:image/svg+xml," + url.PathEscape(
			`<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" rx="3" fill="`+v.Colour+`"/></svg>`))
	}
	noun := "card"
	switch {
	case c.Kind == store.KindCard:
		v.KindLabel = "Address book"
	case len(c.Components) == 1 && c.Components[0] == calendars.VEVENT:
		v.KindLabel, noun = "Calendar", "event"
	case len(c.Components) == 1 && c.Components[0] == calendars.VTODO:
		v.KindLabel, noun = "Task list", "task"
	default:
		v.KindLabel, noun = "Calendar and tasks", "item"
	}
	v.Noun = strings.ToUpper(noun[:1]) + noun[1:]
	v.Size = strconv.FormatInt(c.Count, 10) + " " + noun
	if c.Count != 1 {
		v.Size += "s"
	}
	return v
}

// collPath is the edit page of c, without the prefix.
func collPath(c *store.Collection) string {
	kind := "addressbooks"
	if c.Kind == store.KindCal {
		kind = "calendars"
	}
	return AccountPath + "collections/" + kind + "/" + url.PathEscape(c.Name)
}

type collectionsData struct {
	Books, Calendars collTable
	Kinds            []struct{ Value, Label string }
	Colour           string
	Usage            store.Usage
	// Import from another provider.
	Migrate migrateForm
	Only    []struct{ Value, Label string }
}

// collTable is one table of the list; Kind adds the kind column.
type collTable struct {
	Rows []collView
	Kind bool
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request, c *call) {
	s.showCollections(w, r, c, http.StatusOK, "", migrateForm{})
}

// showCollections renders the list; msg and f show a refused import form
// again.
func (s *Server) showCollections(w http.ResponseWriter, r *http.Request, c *call, status int, msg string, f migrateForm) {
	f.Running = s.runningMigration(r.Context(), c.User.Login)
	d := collectionsData{Kinds: newKinds, Colour: defaultColour, Calendars: collTable{Kind: true}, Migrate: f, Only: onlyChoices}
	u, err := s.st.Usage(r.Context(), c.User.Login)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("usage: %w", err))
		return
	}
	d.Usage = u
	for _, k := range []store.Kind{store.KindCard, store.KindCal} {
		cs, err := s.st.ListCollections(r.Context(), c.User.Login, k)
		if err != nil {
			s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("list collections: %w", err))
			return
		}
		for i := range cs {
			if k == store.KindCard {
				d.Books.Rows = append(d.Books.Rows, s.view(&cs[i]))
			} else {
				d.Calendars.Rows = append(d.Calendars.Rows, s.view(&cs[i]))
			}
		}
	}
	s.render(w, r, c, status, "collections", page{Title: "Address books and calendars", Nav: "collections", Error: msg, Data: d})
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request, c *call) {
	display := strings.TrimSpace(r.PostFormValue("name"))
	colour, ok := formColour(r.PostFormValue("colour"))
	switch {
	case !ok:
		s.fail(w, r, c, http.StatusBadRequest, badColour, nil)
		return
	case display == "" || len(display) > 200:
		s.fail(w, r, c, http.StatusBadRequest, "Give the new address book or calendar a name (at most 200 characters).", nil)
		return
	}
	coll := &store.Collection{Owner: c.User.Login, DisplayName: display, Color: colour}
	switch r.PostFormValue("kind") {
	case "addressbook":
		coll.Kind = store.KindCard
	case "calendar":
		coll.Kind, coll.Components = store.KindCal, []string{calendars.VEVENT}
	case "tasks":
		coll.Kind, coll.Components = store.KindCal, []string{calendars.VTODO}
	default:
		s.fail(w, r, c, http.StatusBadRequest, "Choose whether to create an address book, a calendar or a task list.", nil)
		return
	}
	existing, err := s.st.ListCollections(r.Context(), c.User.Login, coll.Kind)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("list collections: %w", err))
		return
	}
	taken := map[string]bool{}
	for _, e := range existing {
		taken[e.Name] = true
	}
	base := slug(display)
	if base == "" {
		base = strings.ToLower(contacts.NewUID())
	}
	// A client may create the same name meanwhile: try the next one.
	for n := 1; ; n++ {
		coll.Name = base
		if n > 1 {
			coll.Name = base + "-" + strconv.Itoa(n)
		}
		if taken[coll.Name] {
			continue
		}
		err = s.st.CreateCollection(r.Context(), coll)
		if !errors.Is(err, store.ErrExists) || n > 100 {
			break
		}
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("create collection %q: %w", coll.Name, err))
		return
	}
	s.done(w, r, AccountPath+"collections", "Created "+display+".")
}

// slug makes a URL segment of a display name: lower-case ASCII letters and
// digits, other runs of characters turned into one '-'.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 60 {
				break
			}
			continue
		}
		dash = true
	}
	return b.String()
}

// formColour checks a colour input's value (#rrggbb) and returns it as
// clients store it.
func formColour(v string) (string, bool) {
	if len(v) != 7 || !colourRE.MatchString(v) {
		return "", false
	}
	return strings.ToUpper(v), true
}

const badColour = "Choose a colour as #RRGGBB."

// own returns the signed-in user's collection named by the URL, or
// answers 404 (another user's collection is not found either).
func (s *Server) own(w http.ResponseWriter, r *http.Request, c *call) *store.Collection {
	kind := store.KindCard
	switch r.PathValue("kind") {
	case "addressbooks":
	case "calendars":
		kind = store.KindCal
	default:
		s.fail(w, r, c, http.StatusNotFound, "There is no such address book or calendar.", nil)
		return nil
	}
	coll, err := s.st.GetCollection(r.Context(), c.User.Login, kind, r.PathValue("name"))
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, c, http.StatusNotFound, "There is no such address book or calendar.", nil)
		return nil
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("get collection: %w", err))
		return nil
	}
	return coll
}

type collectionData struct {
	collView
	Import *imports.Result // the summary of an import just done
	File   string
	// MaxUpload is the largest file the import form takes, in bytes: the
	// script tells a file over it before sending it.
	MaxUpload int64
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, c *call) {
	if coll := s.own(w, r, c); coll != nil {
		s.showCollection(w, r, c, http.StatusOK, "", collectionData{collView: s.view(coll)})
	}
}

// showCollection renders a collection's page; msg is an error of its
// forms, d.Import the summary of an import.
func (s *Server) showCollection(w http.ResponseWriter, r *http.Request, c *call, status int, msg string, d collectionData) {
	d.MaxUpload = s.cfg.MaxUpload
	s.render(w, r, c, status, "collection", page{Title: d.DisplayName, Nav: "collections", Error: msg, Data: d})
}

func (s *Server) saveCollection(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.own(w, r, c)
	if coll == nil {
		return
	}
	display := strings.TrimSpace(r.PostFormValue("displayname"))
	if display == "" || len(display) > 200 {
		s.fail(w, r, c, http.StatusBadRequest, "Give a display name (at most 200 characters).", nil)
		return
	}
	colour, ok := formColour(r.PostFormValue("colour"))
	if !ok {
		s.fail(w, r, c, http.StatusBadRequest, badColour, nil)
		return
	}
	shown := s.view(coll).Colour
	err := s.st.UpdateCollection(r.Context(), coll.ID, func(x *store.Collection) error {
		x.DisplayName = display
		// The input shows #rrggbb only: an unchanged value keeps what a
		// client set (an alpha, or no colour at all).
		if !strings.EqualFold(colour, shown) {
			x.Color = colour
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("update collection %d: %w", coll.ID, err))
		return
	}
	s.done(w, r, collPath(coll), "Saved.")
}

func (s *Server) confirmDeleteCollection(w http.ResponseWriter, r *http.Request, c *call) {
	if coll := s.own(w, r, c); coll != nil {
		v := s.view(coll)
		s.render(w, r, c, http.StatusOK, "collection_delete", page{Title: "Delete " + v.DisplayName + "?", Nav: "collections", Data: v})
	}
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.own(w, r, c)
	if coll == nil {
		return
	}
	if err := s.st.DeleteCollection(r.Context(), coll.ID); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("delete collection %d: %w", coll.ID, err))
		return
	}
	s.done(w, r, AccountPath+"collections", "Deleted "+s.view(coll).DisplayName+".")
}

func (s *Server) exportCollection(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.own(w, r, c)
	if coll == nil {
		return
	}
	ctype, ext := "text/vcard; charset=utf-8", ".vcf"
	if coll.Kind == store.KindCal {
		ctype, ext = "text/calendar; charset=utf-8", ".ics"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": coll.Name + ext}))
	h.Set("Cache-Control", "no-store")
	cw := &countingWriter{w: w}
	if err := exports.Write(r.Context(), s.st, coll, cw); err != nil {
		if cw.n == 0 {
			h.Del("Content-Disposition")
			s.fail(w, r, c, http.StatusInternalServerError, "", err)
			return
		}
		// Too late for an error page: the download ends short.
		s.log.ErrorContext(r.Context(), "export failed", "collection", coll.ID, "err", err)
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// importCollection imports the uploaded file and answers with the
// collection's page and the import's summary: the counts, each problem at
// its line, and, when the file could not be read to its end, where it
// stopped (Result.End). Each object is stored on its own, so what was
// imported before a problem stays, and importing the file again adds none
// of it twice. The status is 200 whenever the file was read, whatever it
// held: the page reports what was done, and a 4xx would tell a client
// that nothing was. A file refused before any of it is read is a 4xx on
// the same page: 400 for no file or one of the wrong kind, 413 for one
// whose Content-Length is over the limit (Config.MaxUpload).
func (s *Server) importCollection(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.own(w, r, c)
	if coll == nil {
		return
	}
	d := collectionData{collView: s.view(coll)}
	if c.upload == nil || c.upload.FormName() != "file" {
		s.showCollection(w, r, c, http.StatusBadRequest, "Choose a .vcf or .ics file to import.", d)
		return
	}
	d.File = c.upload.FileName()
	if c.uploadTooBig != nil {
		d.Import = &imports.Result{End: &imports.Problem{End: true, Msg: fmt.Sprintf(
			"%s is more than this server accepts (%s), so nothing was imported. Split it into smaller files", d.File, humanBytes(c.uploadTooBig.Limit))}}
		s.showCollection(w, r, c, http.StatusRequestEntityTooLarge, "", d)
		return
	}
	up := &uploadReader{r: c.upload}
	in := bufio.NewReaderSize(up, 64<<10)
	if msg := wrongKind(in, coll.Kind); msg != "" {
		s.showCollection(w, r, c, http.StatusBadRequest, msg, d)
		return
	}
	// One request's work for recurrence rules, as over DAV: an upload of
	// many costly rules must not cost the server more.
	ctx := calendars.WithWorkBudget(r.Context(), calendars.RequestWork)
	res, err := imports.Run(ctx, s.st, coll, in, imports.Options{
		KeepSameContent: r.PostFormValue("keep") != "",
		MaxObjectSize:   s.cfg.MaxResourceSize,
	})
	if res == nil {
		res = &imports.Result{}
	}
	status := http.StatusOK
	// A calendar is read whole before anything is stored: a cut one
	// stored nothing, and the page must not say otherwise.
	before := "What came before was imported"
	if res.Added+res.Updated+res.Absorbed == 0 {
		before = "Nothing was imported"
	}
	// The upload's own failures first: they cut the file short.
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(up.err, &tooBig):
		res.End = &imports.Problem{End: true, Msg: fmt.Sprintf(
			"the upload was cut off at %s, the most this server accepts. %s; to import the rest, split the file", humanBytes(tooBig.Limit), before)}
	case up.err != nil:
		res.End = &imports.Problem{End: true,
			Msg: "the upload stopped before the end of the file. " + before + "; importing the whole file again adds none of it twice"}
	case err != nil:
		s.log.ErrorContext(r.Context(), "import failed", "collection", coll.ID, "err", err)
		status = http.StatusInternalServerError
		res.End = &imports.Problem{End: true,
			Msg: "the server could not store the rest (the error is logged for the administrator). " + before + "; importing the whole file again later adds none of it twice"}
	}
	// The counts changed: read the collection again for its size.
	if fresh, err := s.st.GetCollection(r.Context(), c.User.Login, coll.Kind, coll.Name); err == nil {
		d.collView = s.view(fresh)
	}
	d.Import = res
	s.showCollection(w, r, c, status, "", d)
}

// uploadReader keeps the error of reading an upload, so that a file cut
// short (too big, or the client gone) is told from a file that is wrong.
type uploadReader struct {
	r   io.Reader
	err error
}

func (u *uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		u.err = err
	}
	return n, err
}

// wrongKind explains why the file cannot go into a collection of kind, by
// its first line, or returns "".
func wrongKind(in *bufio.Reader, kind store.Kind) string {
	head, _ := in.Peek(4096)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	line, _, _ := bytes.Cut(head, []byte("\n"))
	first := strings.ToUpper(strings.TrimSpace(string(line)))
	switch {
	case first == "BEGIN:VCARD" && kind == store.KindCal:
		return "This is a file of contacts (vCard, .vcf): import it into an address book, not a calendar."
	case first == "BEGIN:VCALENDAR" && kind == store.KindCard:
		return "This is a calendar file (iCalendar, .ics): import it into a calendar or task list, not an address book."
	case first == "BEGIN:VCARD" || first == "BEGIN:VCALENDAR":
		return ""
	}
	return "This is neither a vCard (.vcf) nor an iCalendar (.ics) file."
}
