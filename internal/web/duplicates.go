package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// duplicateRoutes registers the duplicates manager. It calls package
// merges, like the CLI, so that both follow the same rules.
func (s *Server) duplicateRoutes() {
	s.handle("GET /account/duplicates", s.dupBooks)
	s.handle("GET /account/duplicates/{book}", s.dupGroups)
	s.handle("GET /account/duplicates/{book}/groups/{id}", s.dupGroup)
	s.handle("POST /account/duplicates/{book}/groups/{id}/merge", s.dupMerge)
	s.handle("POST /account/duplicates/{book}/groups/{id}/hide", s.dupHide)
	s.handle("GET /account/duplicates/{book}/merges", s.dupMerges)
	s.handle("POST /account/duplicates/{book}/merges/{id}/undo", s.dupUndo)
}

// dupBook is an address book as the duplicates pages name it.
type dupBook struct {
	Name, Title string
	Cards       int64
}

func newDupBook(c *store.Collection) dupBook {
	title := c.DisplayName
	if title == "" {
		title = c.Name
	}
	return dupBook{Name: c.Name, Title: title, Cards: c.Count}
}

// URL is the book's groups page (without the prefix).
func (b dupBook) URL() string { return "/account/duplicates/" + url.PathEscape(b.Name) }

func (s *Server) dupBooks(w http.ResponseWriter, r *http.Request, c *call) {
	cs, err := s.st.ListCollections(r.Context(), c.User.Login, store.KindCard)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing address books: %w", err))
		return
	}
	// Counting groups would run the matcher over every book: only the
	// number of cards is shown here.
	books := make([]dupBook, len(cs))
	for i := range cs {
		books[i] = newDupBook(&cs[i])
	}
	s.render(w, r, c, http.StatusOK, "duplicates_books", page{Title: "Duplicates", Nav: "duplicates",
		Data: dupBooksData{Books: books, Region: s.regionForm(r, c.User)}})
}

// dupCollection returns the signed-in user's address book named in the URL,
// or writes the 404 (another user's book is not found either).
func (s *Server) dupCollection(w http.ResponseWriter, r *http.Request, c *call) *store.Collection {
	coll, err := s.st.GetCollection(r.Context(), c.User.Login, store.KindCard, r.PathValue("book"))
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, c, http.StatusNotFound, "There is no such address book.", nil)
		return nil
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading address book: %w", err))
		return nil
	}
	return coll
}

// dupLoad reads the book and finds its groups: once per request, it is
// the expensive part.
func (s *Server) dupLoad(w http.ResponseWriter, r *http.Request, c *call) (*store.Collection, *merges.Book) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return nil, nil
	}
	b, err := merges.Load(r.Context(), s.st, coll, s.userRegion(c.User))
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("finding duplicates in %s: %w", coll.Name, err))
		return nil, nil
	}
	return coll, b
}

// dupGroupItem is one group in the book's list.
type dupGroupItem struct {
	ID    string
	Band  string
	Auto  bool
	Names []string
	Why   string // merges.Explain of the group, "" when dedup gave no reasons
}

type dupGroupsData struct {
	Book   dupBook
	Groups []dupGroupItem
}

func (s *Server) dupGroups(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b := s.dupLoad(w, r, c)
	if b == nil {
		return
	}
	d := dupGroupsData{Book: newDupBook(coll)}
	// merges keeps the groups strongest first.
	for _, g := range b.Groups() {
		it := dupGroupItem{ID: g.ID, Band: bandText(g.Band), Auto: g.Band == dedup.BandAuto, Why: merges.Explain(g.Why)}
		for _, uid := range g.UIDs {
			it.Names = append(it.Names, cardFN(b.Card(uid)))
		}
		d.Groups = append(d.Groups, it)
	}
	s.render(w, r, c, http.StatusOK, "duplicates", page{Title: "Duplicates in " + d.Book.Title, Nav: "duplicates", Data: d})
}

func bandText(b dedup.Band) string {
	if b == dedup.BandAuto {
		return "likely the same"
	}
	return "maybe the same"
}

// cardFN is the name a card shows, "(no name)" when it has none.
func cardFN(o *store.Object) string {
	if o == nil {
		return ""
	}
	if fn := strings.TrimSpace(merges.CardName(o)); fn != "" {
		return fn
	}
	return "(no name)"
}

// dupGone says the group is no longer proposed: its cards changed (which
// changes the groups), it was merged or hidden meanwhile.
func (s *Server) dupGone(w http.ResponseWriter, r *http.Request, c *call, coll *store.Collection) {
	d := dupGroupData{Book: newDupBook(coll), GroupID: r.PathValue("id"), Gone: true}
	s.render(w, r, c, http.StatusNotFound, "duplicates_group", page{Title: "These duplicates changed", Nav: "duplicates",
		Error: "These duplicates are no longer proposed: the cards changed, or the group was merged or hidden meanwhile.", Data: d})
}

// dupLoadGroup loads the book and the group named in the URL, or writes
// the answer (404, or the "changed" page) and returns ok false.
func (s *Server) dupLoadGroup(w http.ResponseWriter, r *http.Request, c *call) (coll *store.Collection, b *merges.Book, g dedup.Group, ok bool) {
	coll, b = s.dupLoad(w, r, c)
	if b == nil {
		return nil, nil, g, false
	}
	g, err := b.Group(r.PathValue("id"))
	if err != nil {
		s.dupGone(w, r, c, coll)
		return nil, nil, g, false
	}
	return coll, b, g, true
}

// dupMerged answers a merge just done, from the review page or the list:
// back to the list where the person was (the form's "back", the list's
// query), at the next group, with the merged message and its Undo.
func (s *Server) dupMerged(w http.ResponseWriter, r *http.Request, coll *store.Collection, o *merges.Outcome) {
	s.done(w, r, newDupBook(coll).URL(), fmt.Sprintf("Merged %d cards into %s.", len(o.Merge.Removed)+1, cardFN(o.Survivor)))
}

func (s *Server) dupHide(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b := s.dupLoad(w, r, c)
	if b == nil {
		return
	}
	err := b.Hide(r.Context(), r.PathValue("id"))
	if errors.Is(err, merges.ErrNoGroup) {
		s.dupGone(w, r, c, coll)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("hiding group of %s: %w", coll.Name, err))
		return
	}
	s.done(w, r, newDupBook(coll).URL(), "Hidden: these cards will not be proposed as duplicates again.")
}

type dupMergesData struct {
	Book    dupBook
	Merges  []dupMergeRow
	Refused int64 // the merge whose undo was refused for a later edit: offer to force it
}

type dupMergeRow struct {
	ID      int64
	Name    string
	Cards   int
	Created time.Time
	Undone  time.Time // zero while in effect
}

func (s *Server) dupMerges(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return
	}
	s.showMerges(w, r, c, coll, http.StatusOK, "", 0)
}

func (s *Server) showMerges(w http.ResponseWriter, r *http.Request, c *call, coll *store.Collection, status int, msg string, refused int64) {
	ms, err := s.st.ListMerges(r.Context(), coll.ID)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing merges of %s: %w", coll.Name, err))
		return
	}
	var refs []string
	for _, m := range ms {
		refs = append(refs, m.Reference)
	}
	survivors, err := s.st.GetObjects(r.Context(), coll.ID, refs, true)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading merged cards of %s: %w", coll.Name, err))
		return
	}
	names := map[string]string{} // UID → what "from …" says
	for i := range survivors {
		names[survivors[i].Name] = cardFN(&survivors[i])
	}
	d := dupMergesData{Book: newDupBook(coll), Refused: refused}
	for _, m := range ms {
		row := dupMergeRow{ID: m.ID, Name: names[m.Reference], Cards: len(m.Removed) + 1, Created: m.Created, Undone: m.Undone}
		if row.Name == "" {
			row.Name = m.Reference // the card is gone: its resource name is all there is
		}
		d.Merges = append(d.Merges, row)
	}
	s.render(w, r, c, status, "duplicates_merges", page{Title: "Past merges", Nav: "duplicates", Error: msg, Data: d})
}

func (s *Server) dupUndo(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, c, http.StatusNotFound, "There is no such merge.", nil)
		return
	}
	force := r.PostFormValue("force") == "1"
	err = merges.Undo(r.Context(), s.st, coll, id, force)
	switch {
	case err == nil:
		s.done(w, r, newDupBook(coll).URL()+"/merges", "Merge undone: the original cards are back.")
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, c, http.StatusNotFound, "There is no such merge.", nil)
	case errors.As(err, new(*merges.MergedSinceError)):
		s.showMerges(w, r, c, coll, http.StatusConflict,
			"The card kept by this merge was merged into another card by a later merge. Undo the later merge first (the newest are listed first).", 0)
	case errors.Is(err, merges.ErrReferenceChanged):
		s.showMerges(w, r, c, coll, http.StatusConflict,
			"The card kept by this merge was edited or deleted since. Undoing brings back the original cards and loses that change. Choose “Undo anyway” to do it.", id)
	case errors.Is(err, merges.ErrAlreadyUndone):
		s.showMerges(w, r, c, coll, http.StatusConflict, "This merge was undone already.", 0)
	case errors.Is(err, store.ErrPrecondition):
		s.showMerges(w, r, c, coll, http.StatusConflict,
			"This merge cannot be undone: a card it removed is back under the same name or UID, or it was undone meanwhile.", 0)
	default:
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("undoing merge %d of %s: %w", id, coll.Name, err))
	}
}
