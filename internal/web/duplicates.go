package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/merges"
	"github.com/rolodav/rolodav/internal/store"
)

// duplicateRoutes registers the duplicates manager. It calls package
// merges, like the CLI, so that both follow the same rules.
func (s *Server) duplicateRoutes() {
	s.dupCache = merges.NewCache(dupCacheBooks, dupCacheBytes)
	s.handle("GET /account/duplicates", s.dupBooks)
	s.handle("GET /account/duplicates/{book}", s.dupGroups)
	s.handle("POST /account/duplicates/{book}/merge-all", s.dupMergeAll)
	s.handle("GET /account/duplicates/{book}/groups/{id}", s.dupGroup)
	s.handle("POST /account/duplicates/{book}/groups/{id}/merge", s.dupMerge)
	s.handle("POST /account/duplicates/{book}/groups/{id}/hide", s.dupHide)
	s.handle("GET /account/duplicates/{book}/merges", s.dupMerges)
	s.handle("POST /account/duplicates/{book}/merges/{id}/undo", s.dupUndo)
	s.handle("POST /account/duplicates/{book}/batches/{batch}/undo", s.dupUndoBatch)
	s.handle("GET /account/duplicates/{book}/hidden", s.dupHidden)
	s.handle("POST /account/duplicates/{book}/hidden/{id}/unhide", s.dupUnhide)
}

// The cache of groups found keeps a few books: those being worked on.
// Its bytes bound what it holds of cards (a 10 000-card book is about
// 5 MB).
const (
	dupCacheBooks = 8
	dupCacheBytes = 256 << 20
)

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

// dupLoad reads the book and its groups. The groups found come from the
// server's cache while the book is unchanged (see merges.Cache): paging
// and the list after a merge do not run the matcher again.
func (s *Server) dupLoad(w http.ResponseWriter, r *http.Request, c *call) (*store.Collection, *merges.Book) {
	coll := s.dupCollection(w, r, c)
	if coll == nil {
		return nil, nil
	}
	b, err := s.dupCache.Load(r.Context(), s.st, coll, s.userRegion(c.User))
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("finding duplicates in %s: %w", coll.Name, err))
		return nil, nil
	}
	return coll, b
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

// dupPerPage is how many groups a page of the list shows.
const dupPerPage = 25

// dupQuery is where a person is in a book's list: the band shown and the
// page. Forms of the list send it back ("back") so that the answer returns
// there.
type dupQuery struct {
	Band string // "likely", "maybe" or "all"
	Page int    // from 1
}

// dupBands are the list's filters, as the query names them.
var dupBands = []struct{ Value, Label string }{
	{"all", "All"}, {"likely", "Likely the same"}, {"maybe", "Maybe the same"},
}

// dupParseQuery reads a list query; anything it does not know reads as
// the default (all groups, the first page).
func dupParseQuery(q url.Values) dupQuery {
	d := dupQuery{Band: "all", Page: 1}
	switch b := q.Get("band"); b {
	case "likely", "maybe":
		d.Band = b
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		d.Page = n
	}
	return d
}

// dupListQuery reads the "back" field of a list form (the list query it
// came from, or the review page carried).
func dupListQuery(r *http.Request) dupQuery {
	q, _ := url.ParseQuery(r.PostFormValue("back"))
	return dupParseQuery(q)
}

// values is the query of the list page, without its defaults.
func (q dupQuery) values() url.Values {
	v := url.Values{}
	if q.Band != "all" {
		v.Set("band", q.Band)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// Encode is the query as a form's "back" field carries it.
func (q dupQuery) Encode() string { return q.values().Encode() }

// in reports whether the band shown holds g.
func (q dupQuery) in(g dedup.Group) bool {
	switch q.Band {
	case "likely":
		return g.Band == dedup.BandAuto
	case "maybe":
		return g.Band != dedup.BandAuto
	}
	return true
}

// dupListURL is the book's list at q (without the prefix), with extra
// parameters (what was just done), and at the message of what was done.
func dupListURL(coll *store.Collection, q dupQuery, extra url.Values) string {
	v := q.values()
	for k, vs := range extra {
		v[k] = vs
	}
	u := newDupBook(coll).URL()
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	if len(extra) > 0 {
		u += "#done"
	}
	return u
}

// isGroupID tells a group ID (dedup.GroupID: 32 hex digits) from anything
// else a form or a URL may carry.
func isGroupID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// dupGroupItem is one group in the book's list.
type dupGroupItem struct {
	ID        string
	Band      string
	Auto      bool
	Cards     []dupCardLine
	Why       string // merges.Explain of the group, "" when dedup gave no reasons
	Version   string // merges.Book.Version, for the merge form
	Reference string // the card a merge from the list keeps
	Next      string // the group after this one in the list ("" for the last)
	NoteHere  bool   // the message of what was just done goes before this group
}

// dupCardLine is a card of a group in the list: its name and its first
// e-mail and phone, as plain text.
type dupCardLine struct {
	Name string
	Keys []string
}

// dupNote is the message of what was just done on the list, with the
// button that takes it back.
type dupNote struct {
	Text   string
	Action string // the path the button posts to (without the prefix)
	Button string
}

type dupGroupsData struct {
	Book dupBook
	// Country is the country phone numbers without a country code are
	// read as, by name; "" when there is none (they match only as written).
	Country string
	Query   dupQuery
	Bands   []dupBandLink
	Groups  []dupGroupItem
	// Shown are the positions of the groups shown (from 1) of Total in
	// the band; Prev and Next the other pages ("" when none).
	First, Last, Total int
	Page, Pages        int
	Prev, Next         string
	Auto               int    // groups of the auto band in the book
	AutoVersion        string // dupAutoVersion, for the merge all form
	Hidden             int    // groups hidden in the book
	Note               *dupNote
	NoteTop            bool // the note goes before the list, not before a group
}

type dupBandLink struct {
	Label, URL string
	Groups     int
	Current    bool
}

func (s *Server) dupGroups(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b := s.dupLoad(w, r, c)
	if b == nil {
		return
	}
	ctx := r.Context()
	query := r.URL.Query()
	q := dupParseQuery(query)
	d := dupGroupsData{Book: newDupBook(coll), Query: q}
	counts := map[string]int{}
	var shown []dedup.Group
	for _, g := range b.Groups() { // strongest first
		for _, band := range dupBands {
			if (dupQuery{Band: band.Value}).in(g) {
				counts[band.Value]++
			}
		}
		if q.in(g) {
			shown = append(shown, g)
		}
	}
	d.Auto = counts["likely"]
	d.AutoVersion = dupAutoVersion(b)
	if r := s.userRegion(c.User); r != "" {
		d.Country = countryName(r)
	}
	for _, band := range dupBands {
		d.Bands = append(d.Bands, dupBandLink{Label: band.Label, Groups: counts[band.Value], Current: band.Value == q.Band,
			URL: dupListURL(coll, dupQuery{Band: band.Value, Page: 1}, nil)})
	}
	// A page past the end (after merges emptied it) shows the last one.
	d.Total = len(shown)
	d.Pages = max(1, (d.Total+dupPerPage-1)/dupPerPage)
	d.Page = min(q.Page, d.Pages)
	d.Query.Page = d.Page
	from, to := (d.Page-1)*dupPerPage, min(d.Page*dupPerPage, d.Total)
	if d.Total > 0 {
		d.First, d.Last = from+1, to
	}
	if d.Page > 1 {
		d.Prev = dupListURL(coll, dupQuery{Band: q.Band, Page: d.Page - 1}, nil)
	}
	if d.Page < d.Pages {
		d.Next = dupListURL(coll, dupQuery{Band: q.Band, Page: d.Page + 1}, nil)
	}
	at := query.Get("at") // the group the message goes before
	for i := from; i < to; i++ {
		g := shown[i]
		it := dupGroupItem{ID: g.ID, Band: bandText(g.Band), Auto: g.Band == dedup.BandAuto, Why: merges.Explain(g.Why),
			Version: b.Version(g), Reference: b.DefaultReference(g), NoteHere: g.ID == at}
		if i+1 < len(shown) {
			it.Next = shown[i+1].ID
		}
		for _, uid := range g.UIDs {
			o := b.Card(uid)
			it.Cards = append(it.Cards, dupCardLine{Name: cardFN(o), Keys: dupKeyValues(o)})
		}
		d.Groups = append(d.Groups, it)
	}
	hidden, err := s.st.HiddenGroups(ctx, coll.ID)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("listing hidden groups of %s: %w", coll.Name, err))
		return
	}
	d.Hidden = len(hidden)
	if d.Note, err = s.dupNote(r, coll, b, hidden, query); err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	d.NoteTop = d.Note != nil && !slices.ContainsFunc(d.Groups, func(it dupGroupItem) bool { return it.NoteHere })
	s.render(w, r, c, http.StatusOK, "duplicates", page{Title: "Duplicates in " + d.Book.Title, Nav: "duplicates", Data: d})
}

// dupNote is the message of what the list's URL says was just done: a
// merge (merged=ID), a merge of all likely duplicates (batch=TOKEN,
// skipped=N) or a hide (hidden=GROUP). The merge, the batch or the hidden
// group is looked up in this book, so a URL naming another's shows
// nothing; so does one already undone.
func (s *Server) dupNote(r *http.Request, coll *store.Collection, b *merges.Book, hidden [][]string, q url.Values) (*dupNote, error) {
	ctx := r.Context()
	base := newDupBook(coll).URL()
	switch {
	case q.Has("merged"):
		id, err := strconv.ParseInt(q.Get("merged"), 10, 64)
		if err != nil || id <= 0 {
			return nil, nil
		}
		m, err := s.st.GetMerge(ctx, coll.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading merge %d of %s: %w", id, coll.Name, err)
		}
		if !m.Undone.IsZero() {
			return nil, nil
		}
		name := ""
		if o, err := s.st.GetObject(ctx, coll.ID, m.Reference); err == nil {
			name = cardFN(o)
		} else if names := merges.CardNames(m); len(names) > 0 {
			name = names[0]
		}
		return &dupNote{Text: fmt.Sprintf("Merged %d cards into %s.", len(m.Removed)+1, name),
			Action: base + "/merges/" + strconv.FormatInt(m.ID, 10) + "/undo", Button: "Undo"}, nil
	case q.Has("batch"):
		batch := q.Get("batch")
		ms, err := s.st.ListMerges(ctx, coll.ID)
		if err != nil {
			return nil, fmt.Errorf("listing merges of %s: %w", coll.Name, err)
		}
		groups, cards := 0, 0
		for _, m := range ms {
			if batch != "" && m.Batch == batch && m.Undone.IsZero() {
				groups++
				cards += len(m.Removed) + 1
			}
		}
		if groups == 0 {
			return nil, nil
		}
		text := fmt.Sprintf("Merged %s (%s).", plural(groups, "group", "groups"), plural(cards, "card", "cards"))
		if n, err := strconv.Atoi(q.Get("skipped")); err == nil && n > 0 {
			text += fmt.Sprintf(" %s not merged: their cards changed meanwhile, or could not be read. They are still listed.", plural(n, "group was", "groups were"))
		}
		return &dupNote{Text: text, Action: base + "/batches/" + url.PathEscape(batch) + "/undo", Button: "Undo all"}, nil
	case q.Has("hidden"):
		id := q.Get("hidden")
		for _, set := range hidden {
			if dedup.GroupID(set) != id {
				continue
			}
			names := make([]string, len(set))
			for i, uid := range set {
				names[i] = dupHiddenName(b.Card(uid))
			}
			return &dupNote{Text: "Hidden: " + joinNames(names) + " will not be proposed as duplicates again.",
				Action: base + "/hidden/" + id + "/unhide", Button: "Unhide"}, nil
		}
	}
	return nil, nil
}

// plural is "1 card" or "3 cards".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// joinNames is "Ann", "Ann and Bob" or "Ann, Bob and Carl".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// dupKeyValues are what tells a card's person apart in the list: the first
// e-mail and the first phone, or the first two of either when the card
// has only one kind.
func dupKeyValues(o *store.Object) []string {
	if o == nil {
		return nil
	}
	_, props, err := contacts.ParseProps(o.Data)
	if err != nil {
		return nil
	}
	var emails, phones []string
	for i := range props {
		p := &props[i]
		if p.Name != "EMAIL" && p.Name != "TEL" {
			continue
		}
		v := strings.TrimSpace(contacts.UnescapeText(p.Value))
		if p.Name == "TEL" {
			v = strings.TrimPrefix(v, "tel:") // vCard 4's VALUE=uri
		}
		if v == "" {
			continue
		}
		if p.Name == "EMAIL" && len(emails) < 2 {
			emails = append(emails, v)
		} else if p.Name == "TEL" && len(phones) < 2 {
			phones = append(phones, v)
		}
	}
	switch {
	case len(emails) > 0 && len(phones) > 0:
		return []string{emails[0], phones[0]}
	case len(emails) > 0:
		return emails
	}
	return phones
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

// dupDone redirects to the list where the form was (its "back"), at the
// message of what was done (extra says what), which stands before the
// group that followed (the form's "next") when there is one.
func (s *Server) dupDone(w http.ResponseWriter, r *http.Request, coll *store.Collection, extra url.Values) {
	if next := r.PostFormValue("next"); isGroupID(next) {
		extra.Set("at", next)
	}
	http.Redirect(w, r, s.path(dupListURL(coll, dupListQuery(r), extra)), http.StatusSeeOther)
}

// dupMerged answers a merge just done, from the review page or the list:
// back to the list where the person was (the form's "back", the list's
// query), at the next group (the form's "next"), with the merged message
// and its Undo. The URL names the merge, not its message: the list reads
// the merge from the store, so the message is true and its Undo is the
// user's own.
func (s *Server) dupMerged(w http.ResponseWriter, r *http.Request, coll *store.Collection, o *merges.Outcome) {
	s.dupDone(w, r, coll, url.Values{"merged": {strconv.FormatInt(o.Merge.ID, 10)}})
}

func (s *Server) dupHide(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b := s.dupLoad(w, r, c)
	if b == nil {
		return
	}
	id := r.PathValue("id")
	err := b.Hide(r.Context(), id)
	if errors.Is(err, merges.ErrNoGroup) {
		s.dupGone(w, r, c, coll)
		return
	}
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("hiding group of %s: %w", coll.Name, err))
		return
	}
	s.dupDone(w, r, coll, url.Values{"hidden": {id}})
}

// dupAutoVersion is a token of the likely groups and their cards, so
// that "Merge all likely duplicates (N)" merges the N the page showed.
func dupAutoVersion(b *merges.Book) string {
	h := sha256.New()
	for _, g := range b.Groups() {
		if g.Band == dedup.BandAuto {
			h.Write([]byte(g.ID + b.Version(g)))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// dupMergeAll merges every group of the auto band of the book (not only
// those shown) into its default reference, as one batch that one Undo
// takes back.
func (s *Server) dupMergeAll(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b := s.dupLoad(w, r, c)
	if b == nil {
		return
	}
	if r.PostFormValue("version") != dupAutoVersion(b) {
		s.done(w, r, dupListURL(coll, dupListQuery(r), nil), "Nothing was merged: the likely duplicates changed since the page was shown. Look at them again.")
		return
	}
	batch := merges.NewBatch()
	outs, err := b.MergeAuto(r.Context(), batch, s.cfg.Now(), false)
	merged, skipped := 0, 0
	for _, o := range outs {
		if o.Merge != nil {
			merged++
		} else {
			skipped++
		}
	}
	if err != nil {
		if merged == 0 {
			s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("merging all of %s: %w", coll.Name, err))
			return
		}
		// The merges made stand, and the batch's Undo takes them back.
		s.log.ErrorContext(r.Context(), "merging all likely duplicates stopped", "book", coll.ID, "merged", merged, "err", err)
	}
	back := dupListQuery(r)
	back.Page = 1
	switch {
	case merged == 0 && skipped == 0:
		s.done(w, r, dupListURL(coll, back, nil), "There are no likely duplicates to merge.")
		return
	case merged == 0:
		s.done(w, r, dupListURL(coll, back, nil), "Nothing was merged: the cards of the likely duplicates changed meanwhile, or could not be read. Look at the list again.")
		return
	}
	http.Redirect(w, r, s.path(dupListURL(coll, back, url.Values{"batch": {batch}, "skipped": {strconv.Itoa(skipped)}})), http.StatusSeeOther)
}
