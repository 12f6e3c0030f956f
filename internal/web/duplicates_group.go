package web

import (
	"errors"
	"fmt"
	"math/bits"
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

// The review page of one group of duplicates: the cards side by side, the
// plan of a merge into the chosen reference, and the merge itself.

// dupGroupData is the group page: the cards side by side and the plan of
// a merge into the chosen reference.
type dupGroupData struct {
	Book      dupBook
	GroupID   string
	Gone      bool // the group is no longer proposed
	Reference string
	Version   string
	Why       string // merges.Explain of the group
	Cards     []dupCardView
	Identical []dupValue
	Added     []dupValue
	Conflicts []dupConflict
}

type dupCardView struct {
	UID, Name string
	Number    int
	Reference bool
	Values    []dupValue
}

// dupValue is one value for display: unescaped text, never HTML. With More
// set it stands for that many values of Label not shown.
type dupValue struct {
	Label, Text, Types, From string
	Identical                bool
	More                     int
}

type dupConflict struct {
	Name, Label string
	Options     []dupOption
	More        int // options not shown
}

type dupOption struct {
	Value, Text, From string
	Checked           bool
}

// dupShownPerField is how many values of one property the group page
// shows per card and per list, with "and N more" for the rest: a card of
// 100 000 phones must not make a page of megabytes. A person's card has
// far fewer; the merge itself takes every value.
const dupShownPerField = 50

// dupShown are the properties a card column shows, in this order.
var dupShown = []string{"TEL", "EMAIL", "ADR", "ORG", "TITLE", "BDAY", "ANNIVERSARY", "URL", "NICKNAME", "IMPP", "X-SOCIALPROFILE", "CATEGORIES", "NOTE"}

var dupLabels = map[string]string{
	"FN": "Name", "N": "Name parts", "TEL": "Phone", "EMAIL": "E-mail", "ADR": "Address", "ORG": "Organisation",
	"TITLE": "Job title", "ROLE": "Role", "BDAY": "Birthday", "ANNIVERSARY": "Anniversary", "URL": "Website",
	"NICKNAME": "Nickname", "IMPP": "Chat", "X-SOCIALPROFILE": "Social profile", "CATEGORIES": "Categories",
	"NOTE": "Note", "PHOTO": "Photo", "LOGO": "Logo", "GENDER": "Gender", "RELATED": "Related", "TZ": "Time zone",
	"GEO": "Location", "X-ABLABEL": "Label",
}

func propLabel(name string) string {
	if l, ok := dupLabels[name]; ok {
		return l
	}
	return name
}

// displayText turns a raw value into text for a person: escapes resolved,
// structured values joined, binary data summarised.
func displayText(name, raw string) string {
	switch name {
	case "PHOTO", "LOGO", "SOUND", "KEY":
		return fmt.Sprintf("(%s, %s)", strings.ToLower(propLabel(name)), humanBytes(int64(len(raw))))
	case "N", "ADR", "ORG", "GENDER":
		return joinParts(contacts.SplitRaw(raw, ';'))
	case "CATEGORIES", "NICKNAME":
		return joinParts(contacts.SplitRaw(raw, ','))
	}
	return contacts.UnescapeText(raw)
}

func joinParts(raw []string) string {
	var parts []string
	for _, p := range raw {
		if t := strings.TrimSpace(contacts.UnescapeText(p)); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, ", ")
}

// dupKey tells a card's values apart as the merge plan does, so that what
// the cards highlight as shared agrees with the plan.
func dupKey(p *contacts.Prop) string {
	return p.Name + "\x00" + dedup.ValueKey(p)
}

func (s *Server) dupGroup(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b, g, ok := s.dupLoadGroup(w, r, c)
	if !ok {
		return
	}
	ref := r.URL.Query().Get("reference")
	if ref == "" {
		ref = b.DefaultReference(g)
	}
	if !slices.Contains(g.UIDs, ref) {
		s.fail(w, r, c, http.StatusBadRequest, "That card is not in this group.", nil)
		return
	}
	d, err := s.dupGroupView(b, coll, g, ref)
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	s.render(w, r, c, http.StatusOK, "duplicates_group", page{Title: "Review duplicates", Nav: "duplicates", Data: d})
}

func (s *Server) dupGroupView(b *merges.Book, coll *store.Collection, g dedup.Group, ref string) (*dupGroupData, error) {
	plan, err := b.Plan(g.ID, ref)
	if err != nil {
		return nil, fmt.Errorf("planning merge of group %s into %s: %w", g.ID, ref, err)
	}
	d := &dupGroupData{Book: newDupBook(coll), GroupID: g.ID, Reference: ref, Version: b.Version(g), Why: merges.Explain(g.Why)}
	names := map[string]string{} // UID → what "from …" says
	// Values of every card, then which are on more than one card.
	holders := map[string]uint64{} // dupKey → the cards holding it, one bit each (dedup caps a group at 50 cards)
	keys := make([][]string, len(g.UIDs))
	for i, uid := range g.UIDs {
		o := b.Card(uid)
		fn := cardFN(o)
		// Duplicates often share a name: the number tells them apart.
		names[uid] = fmt.Sprintf("card %d, %s", i+1, fn)
		_, props, err := contacts.ParseProps(o.Data)
		if err != nil {
			return nil, fmt.Errorf("reading card %s: %w", uid, err)
		}
		cv := dupCardView{UID: uid, Name: fn, Number: i + 1, Reference: uid == ref}
		for _, name := range dupShown {
			shown, more := 0, 0
			for j := range props {
				p := &props[j]
				if p.Name != name {
					continue
				}
				text := displayText(name, p.Value)
				if strings.TrimSpace(text) == "" {
					continue
				}
				// Every value counts for the highlighting, shown or not.
				k := dupKey(p)
				holders[k] |= 1 << (i % 64)
				if shown == dupShownPerField {
					more++
					continue
				}
				shown++
				keys[i] = append(keys[i], k)
				cv.Values = append(cv.Values, dupValue{Label: propLabel(name), Text: text, Types: strings.ToLower(strings.Join(p.Param("TYPE"), ", "))})
			}
			if more > 0 {
				keys[i] = append(keys[i], "")
				cv.Values = append(cv.Values, dupValue{Label: propLabel(name), More: more})
			}
		}
		d.Cards = append(d.Cards, cv)
	}
	for i := range d.Cards {
		for j := range d.Cards[i].Values {
			d.Cards[i].Values[j].Identical = bits.OnesCount64(holders[keys[i][j]]) > 1
		}
	}
	view := func(v dedup.PropValue) dupValue {
		return dupValue{Label: propLabel(v.Name), Text: displayText(v.Name, v.Value), From: names[v.From]}
	}
	// The plan lists a shared value once per other card: show it once.
	seen := map[string]bool{}
	identical := newDupList()
	for _, v := range plan.Identical {
		if k := dupKey(&contacts.Prop{Name: v.Name, Value: v.Value}); !seen[k] {
			seen[k] = true
			identical.add(v.Name, func() dupValue { return view(v) })
		}
	}
	d.Identical = identical.values()
	added := newDupList()
	for _, v := range plan.Added {
		added.add(v.Name, func() dupValue { return view(v) })
	}
	d.Added = added.values()
	for _, cf := range plan.Conflicts {
		dc := dupConflict{Name: cf.Name, Label: propLabel(cf.Name)}
		// With no reference value the first other value is the default
		// (dedup.Merge's rule), so there is no "keep" option then.
		if cf.Reference != "" {
			dc.Options = append(dc.Options, dupOption{Value: "-1", Text: displayText(cf.Name, cf.Reference), From: "the reference", Checked: true})
		}
		for i, o := range cf.Others {
			if i == dupShownPerField {
				dc.More = len(cf.Others) - i
				break
			}
			dc.Options = append(dc.Options, dupOption{Value: strconv.Itoa(i), Text: displayText(cf.Name, o.Value), From: names[o.From],
				Checked: cf.Reference == "" && i == 0})
		}
		d.Conflicts = append(d.Conflicts, dc)
	}
	return d, nil
}

// dupList is a list of the group page that shows at most dupShownPerField
// values of each property and then says how many more there are.
type dupList struct {
	shown map[string]int // property → values shown
	more  map[string]int // property → values not shown
	order []string       // properties with values not shown, in order
	vals  []dupValue
}

func newDupList() *dupList { return &dupList{shown: map[string]int{}, more: map[string]int{}} }

// add adds a value of property name; view makes it, only when it is shown.
func (l *dupList) add(name string, view func() dupValue) {
	if l.shown[name] < dupShownPerField {
		l.shown[name]++
		l.vals = append(l.vals, view())
		return
	}
	if l.more[name] == 0 {
		l.order = append(l.order, name)
	}
	l.more[name]++
}

// values are the values shown, then one "and N more" per property.
func (l *dupList) values() []dupValue {
	for _, name := range l.order {
		l.vals = append(l.vals, dupValue{Label: propLabel(name), More: l.more[name]})
	}
	return l.vals
}

// choicePrefix starts the form field of a conflict's choice: "choice.BDAY".
const choicePrefix = "choice."

// dupChoices reads the conflict choices of the merge form (the value is
// merges.KeepReference or an index in the conflict's others); merges
// checks them against the plan.
func dupChoices(form url.Values) ([]merges.Choice, error) {
	var cs []merges.Choice
	for field, vals := range form {
		name, ok := strings.CutPrefix(field, choicePrefix)
		if !ok {
			continue
		}
		for _, v := range vals {
			keep, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("choice %q for %s: %w", v, name, err)
			}
			cs = append(cs, merges.Choice{Field: name, Keep: keep})
		}
	}
	return cs, nil
}

func (s *Server) dupMerge(w http.ResponseWriter, r *http.Request, c *call) {
	coll, b, g, ok := s.dupLoadGroup(w, r, c)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, c, http.StatusBadRequest, "The form could not be read.", err)
		return
	}
	choices, err := dupChoices(r.PostForm)
	version := r.PostFormValue("version")
	if err != nil || version == "" {
		s.fail(w, r, c, http.StatusBadRequest, "The form could not be read.", err)
		return
	}
	o, err := b.Merge(r.Context(), merges.Request{Group: g.ID, Version: version, Reference: r.PostFormValue("reference"), Choices: choices}, s.cfg.Now())
	switch {
	case err == nil:
		s.dupMerged(w, r, coll, o)
	case errors.Is(err, store.ErrPrecondition):
		s.fail(w, r, c, http.StatusConflict, "A card of this group was changed (by a device, perhaps) while merging; nothing was merged. Review the group again.", err)
	case errors.Is(err, merges.ErrGroupChanged):
		s.fail(w, r, c, http.StatusConflict, "A card of this group changed since the page was shown. Review the group again before merging.", nil)
	case errors.Is(err, merges.ErrNotInGroup):
		s.fail(w, r, c, http.StatusBadRequest, "The card to keep is not in this group.", nil)
	case errors.Is(err, merges.ErrBadChoice):
		s.fail(w, r, c, http.StatusBadRequest, "A choice of the form is not one this merge offers. Review the group again.", err)
	case errors.Is(err, merges.ErrCannotMerge):
		s.fail(w, r, c, http.StatusUnprocessableEntity, "These cards cannot be merged: one of them could not be read.", err)
	default:
		s.fail(w, r, c, http.StatusInternalServerError, "", fmt.Errorf("merging group %s of %s: %w", g.ID, coll.Name, err))
	}
}
