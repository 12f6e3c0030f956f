package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// The past merges of a book with their undo, and its hidden groups with
// their unhide.

type dupMergesData struct {
	Book    dupBook
	Merges  []dupMergeRow
	Refused int64 // the merge whose undo was refused for a later edit: offer to force it
}

// dupMergeRow is a merge, or a batch of them (a "merge all") with its
// merges inside.
type dupMergeRow struct {
	ID    int64
	Name  string   // the kept card as it is now, or was
	Names []string // the cards merged, by name, when known
	Cards int
	// Batch is the token of a "merge all"; then Merges are its merges,
	// InEffect how many of them are not undone.
	Batch    string
	Merges   []dupMergeRow
	InEffect int
	Created  time.Time
	Undone   time.Time // zero while in effect (a batch: while any is)
}

func (s *Server) dupMerges(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return
	}
	s.showMerges(w, r, c, coll, http.StatusOK, "", 0)
}

func (s *Server) showMerges(w http.ResponseWriter, r *http.Request, c *call, coll *store.Collection, status int, msg string, refused int64) {
	ctx := r.Context()
	ms, err := s.st.ListMerges(ctx, coll.ID)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing merges of %s: %w", coll.Name, err))
		return
	}
	// The kept cards as they are now and, for undone merges (whose undo
	// record is emptied), the cards back under their names.
	var names []string
	for _, m := range ms {
		names = append(names, m.Reference)
		if !m.Undone.IsZero() {
			names = append(names, m.Removed...)
		}
	}
	now, err := s.st.GetObjects(ctx, coll.ID, names, true)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading merged cards of %s: %w", coll.Name, err))
		return
	}
	current := map[string]string{} // resource name → the card's name now
	for i := range now {
		current[now[i].Name] = cardFN(&now[i])
	}
	d := dupMergesData{Book: newDupBook(coll), Refused: refused}
	batches := map[string]int{} // batch → its row in d.Merges
	for i := range ms {
		m := &ms[i]
		row := dupMergeRow{ID: m.ID, Name: current[m.Reference], Names: merges.CardNames(m), Cards: len(m.Removed) + 1,
			Created: m.Created, Undone: m.Undone}
		if row.Names == nil && !m.Undone.IsZero() {
			for _, n := range append([]string{m.Reference}, m.Removed...) {
				if fn, ok := current[n]; ok {
					row.Names = append(row.Names, fn)
				}
			}
		}
		switch {
		case row.Name == "" && len(row.Names) > 0:
			row.Name = row.Names[0]
		case row.Name == "":
			row.Name = "a card no longer in this book"
		}
		if m.Batch == "" {
			d.Merges = append(d.Merges, row)
			continue
		}
		// Listed newest first: a batch's row is where its newest merge is.
		at, ok := batches[m.Batch]
		if !ok {
			at = len(d.Merges)
			batches[m.Batch] = at
			d.Merges = append(d.Merges, dupMergeRow{Batch: m.Batch})
		}
		b := &d.Merges[at]
		b.Merges = append(b.Merges, row)
		b.Cards += row.Cards
		b.Created = m.Created // the oldest, once all are read
		if m.Undone.IsZero() {
			b.InEffect++
		} else if m.Undone.After(b.Undone) {
			b.Undone = m.Undone
		}
	}
	for i := range d.Merges {
		if b := &d.Merges[i]; b.Batch != "" && b.InEffect > 0 {
			b.Undone = time.Time{}
		}
	}
	s.render(w, r, c, status, "duplicates_merges", page{Title: "Past merges", Nav: "duplicates", Error: msg, Data: d})
}

// undoRefusal says why merges.Undo refused, for a person; "" for an error
// that is not a refusal. force is whether "Undo anyway" would do it.
func undoRefusal(err error) (msg string, force bool) {
	switch {
	case errors.As(err, new(*merges.MergedSinceError)):
		return "The card kept by this merge was merged into another card by a later merge. Undo the later merge first (the newest are listed first).", false
	case errors.Is(err, merges.ErrReferenceChanged):
		return "The card kept by this merge was edited or deleted since. Undoing brings back the original cards and loses that change. Choose “Undo anyway” to do it.", true
	case errors.Is(err, merges.ErrAlreadyUndone):
		return "This merge was undone already.", false
	case errors.Is(err, store.ErrPrecondition):
		return "This merge cannot be undone: a card it removed is back under the same name or UID, or it was undone meanwhile.", false
	}
	return "", false
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
	if err == nil {
		// From the list's message, back to the list; else to past merges.
		to := newDupBook(coll).URL() + "/merges"
		if r.PostForm.Has("back") {
			to = dupListURL(coll, dupListQuery(r), nil)
		}
		s.done(w, r, to, "Merge undone: the original cards are back.")
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, c, http.StatusNotFound, "There is no such merge.", nil)
		return
	}
	msg, canForce := undoRefusal(err)
	if msg == "" {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("undoing merge %d of %s: %w", id, coll.Name, err))
		return
	}
	var refused int64
	if canForce {
		refused = id
	}
	s.showMerges(w, r, c, coll, http.StatusConflict, msg, refused)
}

// dupUndoBatch undoes a "merge all": its merges, newest first.
func (s *Server) dupUndoBatch(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return
	}
	undone, err := merges.UndoBatch(r.Context(), s.st, coll, r.PathValue("batch"))
	if err == nil {
		to := newDupBook(coll).URL() + "/merges"
		if r.PostForm.Has("back") {
			to = dupListURL(coll, dupListQuery(r), nil)
		}
		s.done(w, r, to, fmt.Sprintf("Undid %s: the original cards are back.", plural(len(undone), "merge", "merges")))
		return
	}
	var be *merges.BatchUndoError
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, c, http.StatusNotFound, "There is no such merge.", nil)
	case errors.As(err, &be):
		why, canForce := undoRefusal(be.Err)
		if why == "" {
			s.log.ErrorContext(r.Context(), "undoing a merge of a batch", "book", coll.ID, "merge", be.Merge, "err", be.Err)
			why = "Something went wrong on the server."
		}
		var refused int64
		if canForce {
			refused = be.Merge
		}
		msg := fmt.Sprintf("Undid %s of this “merge all”, then one could not be undone. %s", plural(len(be.Undone), "merge", "merges"), why)
		if len(be.Undone) == 0 {
			msg = "Nothing of this “merge all” was undone. " + why
		}
		s.showMerges(w, r, c, coll, http.StatusConflict, msg, refused)
	case errors.Is(err, merges.ErrAlreadyUndone):
		s.showMerges(w, r, c, coll, http.StatusConflict, "These merges were undone already.", 0)
	default:
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("undoing batch of %s: %w", coll.Name, err))
	}
}

type dupHiddenData struct {
	Book   dupBook
	Groups []dupHiddenGroup
}

type dupHiddenGroup struct {
	ID    string // dedup.GroupID of the hidden UIDs
	Names []string
}

// dupHiddenName names a card of a hidden group.
func dupHiddenName(o *store.Object) string {
	if o == nil {
		return "a card no longer in this book"
	}
	return cardFN(o)
}

func (s *Server) dupHidden(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return
	}
	ctx := r.Context()
	hidden, err := s.st.HiddenGroups(ctx, coll.ID)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing hidden groups of %s: %w", coll.Name, err))
		return
	}
	// Hidden groups are few; the cards are found by UID in one pass, with
	// no matching.
	want := map[string]*store.Object{}
	for _, set := range hidden {
		for _, uid := range set {
			want[uid] = nil
		}
	}
	if len(want) > 0 {
		err = s.st.ListObjects(ctx, coll.ID, true, func(o *store.Object) error {
			if _, ok := want[o.UID]; ok {
				c := *o
				want[o.UID] = &c
			}
			return nil
		})
		if err != nil {
			s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("reading the cards of %s: %w", coll.Name, err))
			return
		}
	}
	d := dupHiddenData{Book: newDupBook(coll)}
	for _, set := range hidden {
		g := dupHiddenGroup{ID: dedup.GroupID(set)}
		for _, uid := range set {
			g.Names = append(g.Names, dupHiddenName(want[uid]))
		}
		d.Groups = append(d.Groups, g)
	}
	s.render(w, r, c, http.StatusOK, "duplicates_hidden", page{Title: "Hidden groups", Nav: "duplicates", Data: d})
}

// dupUnhide forgets a hidden group, so that it is proposed again; back to
// the list when the form came from its message, else to the hidden groups.
func (s *Server) dupUnhide(w http.ResponseWriter, r *http.Request, c *call) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return
	}
	ctx := r.Context()
	hidden, err := s.st.HiddenGroups(ctx, coll.ID)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing hidden groups of %s: %w", coll.Name, err))
		return
	}
	id := r.PathValue("id")
	var set []string
	for _, h := range hidden {
		if dedup.GroupID(h) == id {
			set = h
			break
		}
	}
	if set != nil {
		err = s.st.UnhideGroup(ctx, coll.ID, set)
	}
	switch {
	case set == nil || errors.Is(err, store.ErrNotFound):
		s.fail(w, r, c, http.StatusNotFound, "This group is not hidden (any more).", nil)
		return
	case err != nil:
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("unhiding a group of %s: %w", coll.Name, err))
		return
	}
	to := newDupBook(coll).URL() + "/hidden"
	if r.PostForm.Has("back") {
		to = dupListURL(coll, dupListQuery(r), nil)
	}
	s.done(w, r, to, "Unhidden: these cards can be proposed as duplicates again.")
}
