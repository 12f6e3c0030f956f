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
	// Back is the query of the list page the person came from, carried
	// through the page and posted with the merge: "" for the first page.
	Back string
	// Next is the group after this one in that list, where the list opens
	// after a merge or a hide; "" when this is the last.
	Next      string
	Cards     []dupCardView
	Identical []dupValue // values on every card, as the reference writes them
	Added     []dupValue
	// NameChoice is the one choice of the name, in full and in parts
	// (which follow it, see dedup.Merge); nil when the cards agree.
	NameChoice *dupConflict
	Conflicts  []dupConflict
}

// ListURL is the list page the person came from (without the prefix).
func (d dupGroupData) ListURL() string {
	if d.Back == "" {
		return d.Book.URL()
	}
	return d.Book.URL() + "?" + d.Back
}

type dupCardView struct {
	Name      string
	Number    int
	Reference bool
	Pick      string // the link that makes it the reference
	Values    []dupValue
}

// dupValue is one value for display: unescaped text, never HTML. With More
// set it stands for that many values of Label not shown.
type dupValue struct {
	Label, Text, Types, From string
	Shared                   string // on how many cards it is, in words; "" when on this one only
	More                     int
}

type dupConflict struct {
	Field, Label string
	Options      []dupOption
	More         int // options not shown
}

type dupOption struct {
	Value, Text, From string
	Hint              string // more about the value, in words
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
	"NOTE": "Note", "PHOTO": "Photo", "LOGO": "Logo", "SOUND": "Sound", "KEY": "Encryption key", "GENDER": "Gender",
	"X-GENDER": "Gender", "RELATED": "Related", "TZ": "Time zone", "GEO": "Location", "X-ABLABEL": "Label",
	"KIND": "Kind of card", "X-ADDRESSBOOKSERVER-KIND": "Kind of card", "MEMBER": "Member",
	"X-ADDRESSBOOKSERVER-MEMBER": "Member", "SORT-STRING": "Sort as", "X-ABSHOWAS": "Show as",
	"X-PHONETIC-FIRST-NAME": "First name as spoken", "X-PHONETIC-MIDDLE-NAME": "Middle name as spoken",
	"X-PHONETIC-LAST-NAME": "Last name as spoken", "X-PHONETIC-ORG": "Organisation as spoken",
	"X-MAIDENNAME": "Maiden name", "X-ABADR": "Address format", "LANG": "Language", "SOURCE": "Source",
	"CALURI": "Calendar", "FBURL": "Free/busy", "CALADRURI": "Meeting requests",
}

// propLabel names a property for people; one without a label reads as
// its name in words ("X-SPOUSE" is "Spouse").
func propLabel(name string) string {
	if l, ok := dupLabels[name]; ok {
		return l
	}
	w := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "X-"), "-", " "))
	if w == "" {
		return name
	}
	return strings.ToUpper(w[:1]) + w[1:]
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

// nameParts are the parts of a name (N: family;given;additional;prefix;
// suffix) in the order a name is read, with what each is called.
var nameParts = []struct {
	index int
	word  string
}{{3, "prefix"}, {1, "first name"}, {2, "middle name"}, {0, "last name"}, {4, "suffix"}}

// readName reads the parts of a name (a raw N) as a name, "Jane M. Doe",
// and says what each part is: "first name Jane, middle name M., last
// name Doe".
func readName(raw string) (read, parts string) {
	comps := contacts.SplitRaw(raw, ';')
	var words, said []string
	for _, np := range nameParts {
		if np.index >= len(comps) {
			continue
		}
		var vals []string
		for _, v := range contacts.SplitRaw(comps[np.index], ',') {
			if t := strings.TrimSpace(contacts.UnescapeText(v)); t != "" {
				vals = append(vals, t)
			}
		}
		if len(vals) > 0 {
			words = append(words, vals...)
			said = append(said, np.word+" "+strings.Join(vals, " "))
		}
	}
	return strings.Join(words, " "), strings.Join(said, ", ")
}

// sameWords tells whether two texts have the same words, whatever the case
// and the blanks.
func sameWords(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// sharedText says on how many of the group's cards a value is.
func sharedText(n, total int) string {
	switch {
	case n < 2:
		return ""
	case n == total && total == 2:
		return "on both cards"
	case n == total:
		return fmt.Sprintf("on all %d cards", total)
	}
	return fmt.Sprintf("on %d of %d cards", n, total)
}

// dupKey tells a card's values apart as the merge plan does, so that what
// the cards highlight as shared agrees with the plan.
func dupKey(p *contacts.Prop) string {
	return p.Name + "\x00" + dedup.ValueKey(p)
}

// dupBackMax bounds the list query a review page carries: it is repeated
// in the link of every card, and a list's query (page, filter) is short.
const dupBackMax = 512

// dupBack is the list query a review page carries back ("back"), read as
// the list reads it (its band and page); the default list when it is not
// a query or too long for one.
func dupBack(raw string) dupQuery {
	q, err := url.ParseQuery(raw)
	if err != nil || len(raw) > dupBackMax {
		q = nil
	}
	return dupParseQuery(q)
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
	back := dupBack(r.URL.Query().Get("back"))
	d, err := s.dupGroupView(b, coll, g, ref, back.Encode())
	if err != nil {
		s.fail(w, r, c, http.StatusInternalServerError, "", err)
		return
	}
	d.Next = dupNextGroup(b.Groups(), g.ID, back)
	s.render(w, r, c, http.StatusOK, "duplicates_group", page{Title: "Review duplicates", Nav: "duplicates", Data: d})
}

// dupCardName is what the name choice says of a card.
type dupCardName struct {
	n     string // raw N
	hasN  bool
	which string // "card 2", or "the reference, card 1"
}

func (s *Server) dupGroupView(b *merges.Book, coll *store.Collection, g dedup.Group, ref, back string) (*dupGroupData, error) {
	plan, err := b.Plan(g.ID, ref)
	if err != nil {
		return nil, fmt.Errorf("planning merge of group %s into %s: %w", g.ID, ref, err)
	}
	d := &dupGroupData{Book: newDupBook(coll), GroupID: g.ID, Reference: ref, Version: b.Version(g), Why: merges.Explain(g.Why), Back: back}
	names := map[string]string{}          // UID → what "from …" says
	cardNames := map[string]dupCardName{} // UID → its name
	refText := map[string]string{}        // dupKey → the reference's own text of the value
	// Values of every card, then on how many cards each is.
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
		cn := dupCardName{which: fmt.Sprintf("card %d", i+1)}
		if uid == ref {
			cn.which = "the reference, " + cn.which
		}
		for j := range props {
			p := &props[j]
			if p.Name == "N" && !cn.hasN {
				cn.n, cn.hasN = p.Value, true
			}
			if uid == ref {
				refValues(refText, p)
			}
		}
		cardNames[uid] = cn
		pick := "?reference=" + url.QueryEscape(uid)
		if back != "" {
			pick += "&back=" + url.QueryEscape(back)
		}
		cv := dupCardView{Name: fn, Number: i + 1, Reference: uid == ref, Pick: pick + "#cards"}
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
			d.Cards[i].Values[j].Shared = sharedText(bits.OnesCount64(holders[keys[i][j]]), len(g.UIDs))
		}
	}
	d.Identical = onEveryCard(plan, refText, len(g.UIDs)-1)
	added := newDupList()
	for _, v := range plan.Added {
		added.add(v.Name, func() dupValue {
			return dupValue{Label: propLabel(v.Name), Text: displayText(v.Name, v.Value), From: names[v.From]}
		})
	}
	d.Added = added.values()
	from := func(uid string) string {
		if uid == ref {
			return "the reference"
		}
		return names[uid]
	}
	var fnConflict, nConflict *dedup.Conflict
	for i := range plan.Conflicts {
		cf := &plan.Conflicts[i]
		switch cf.Name {
		case "FN":
			fnConflict = cf
		case "N":
			nConflict = cf
		default:
			d.Conflicts = append(d.Conflicts, conflictView(cf, ref, func(v dedup.PropValue) (string, string) { return displayText(v.Name, v.Value), "" }, from))
		}
	}
	d.NameChoice = nameChoiceView(fnConflict, nConflict, ref, cardNames)
	return d, nil
}

// nameChoiceView is the one choice of the name. The full name brings its
// parts (see dedup.Merge), so the parts are chosen apart only when the
// cards agree on the full name; nil when they agree on both. Each option
// names its card by number (the name is the option) and says how its
// card writes the name in parts when that reads otherwise.
func nameChoiceView(fn, n *dedup.Conflict, ref string, cards map[string]dupCardName) *dupConflict {
	which := func(uid string) string { return cards[uid].which }
	var cv dupConflict
	switch {
	case fn != nil:
		cv = conflictView(fn, ref, func(v dedup.PropValue) (string, string) {
			text, cn := displayText(v.Name, v.Value), cards[v.From]
			read, parts := readName(cn.n)
			switch {
			case !cn.hasN:
				return text, "no separate first and last name"
			case !sameWords(read, text):
				return text, parts
			}
			return text, ""
		}, which)
	case n != nil:
		cv = conflictView(n, ref, func(v dedup.PropValue) (string, string) { return readName(v.Value) }, which)
		cv.Label = propLabel("FN")
	default:
		return nil
	}
	return &cv
}

// conflictView shows a conflict of the plan as a choice: the reference's
// value first (kept unless another is chosen), then the others', each
// said by text (the value and a hint) and from (its card).
func conflictView(cf *dedup.Conflict, ref string, text func(dedup.PropValue) (string, string), from func(uid string) string) dupConflict {
	dc := dupConflict{Field: cf.Name, Label: propLabel(cf.Name)}
	option := func(value string, v dedup.PropValue, checked bool) {
		t, hint := text(v)
		dc.Options = append(dc.Options, dupOption{Value: value, Text: t, Hint: hint, From: from(v.From), Checked: checked})
	}
	// With no reference value the first other value is the default
	// (dedup.Merge's rule), so there is no "keep" option then.
	if cf.Reference != "" {
		option(strconv.Itoa(merges.KeepReference), dedup.PropValue{Name: cf.Name, Value: cf.Reference, From: ref}, true)
	}
	for i, o := range cf.Others {
		if i == dupShownPerField {
			dc.More = len(cf.Others) - i
			break
		}
		option(strconv.Itoa(i), o, cf.Reference == "" && i == 0)
	}
	return dc
}

// refValues records the reference's own text of the values of p, by key.
func refValues(refText map[string]string, p *contacts.Prop) {
	if p.Name == "CATEGORIES" {
		// The plan compares categories item by item.
		for _, item := range contacts.SplitRaw(p.Value, ',') {
			if k := dupKey(&contacts.Prop{Name: p.Name, Value: item}); refText[k] == "" {
				refText[k] = displayText(p.Name, item)
			}
		}
		return
	}
	if k := dupKey(p); refText[k] == "" {
		refText[k] = displayText(p.Name, p.Value)
	}
}

// onEveryCard are the values of the plan that every other card shares
// with the reference, as the reference writes them. The plan lists a
// shared value once per other card that has it.
func onEveryCard(plan *dedup.Plan, refText map[string]string, others int) []dupValue {
	holders := map[string]map[string]bool{} // dupKey → the other cards that have it
	var order []dedup.PropValue
	for _, v := range plan.Identical {
		k := dupKey(&contacts.Prop{Name: v.Name, Value: v.Value})
		if holders[k] == nil {
			holders[k] = map[string]bool{}
			order = append(order, v)
		}
		holders[k][v.From] = true
	}
	l := newDupList()
	for _, v := range order {
		k := dupKey(&contacts.Prop{Name: v.Name, Value: v.Value})
		if len(holders[k]) < others {
			continue
		}
		l.add(v.Name, func() dupValue {
			text, ok := refText[k]
			if !ok {
				// A note shared with a paragraph of the reference's.
				text = displayText(v.Name, v.Value)
			}
			return dupValue{Label: propLabel(v.Name), Text: text}
		})
	}
	return l.values()
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

// dupNextGroup is the group after id among those the list shows (its
// band), "" when id is the last one there.
func dupNextGroup(groups []dedup.Group, id string, list dupQuery) string {
	found := false
	for _, g := range groups {
		if !list.in(g) {
			continue
		}
		if found {
			return g.ID
		}
		found = g.ID == id
	}
	return ""
}
