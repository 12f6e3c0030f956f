package dedup

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/rolodav/rolodav/internal/contacts"
)

// Plan is what merging others into reference would do, per property, for
// the UI and the CLI's --dry-run. Values are raw, as written in the cards
// (escaped; structured values keep their ';' separators), after the other
// cards were converted to the reference's vCard version.
type Plan struct {
	Reference string      // UID of the reference card
	Identical []PropValue // values the others share with the reference (shown highlighted)
	Added     []PropValue // values only others have, which will be added to the reference
	Conflicts []Conflict  // single-valued properties that differ (reference wins unless chosen otherwise)
}

// PropValue is one property value of a card.
type PropValue struct {
	Name   string // upper-case property name
	Value  string // raw value
	Params string // the parameters as in a content line (";TYPE=work,voice"), "" when none
	From   string // UID of the card it comes from
}

// Conflict is a single-valued property on which the cards differ. The
// reference's value is kept unless the caller chooses one of Others (by
// index, see Merge). When the reference has no value (Reference is ""),
// Others[0] is taken by default and is listed in Plan.Added as well.
type Conflict struct {
	Name      string
	Reference string
	Others    []PropValue
}

// Undo holds what is needed to restore the originals byte for byte: the
// reference's original bytes and each other card's bytes (with UID).
// Every value that does not make it into the merged card is in here.
type Undo struct {
	Reference Card
	Others    []Card
}

// Property classes.
var (
	// identity properties of the other cards are not merged.
	identityProps = setOf("BEGIN", "END", "VERSION", "UID", "REV", "PRODID", "X-ABUID")
	// singleValued properties: the reference's value wins unless chosen otherwise.
	singleValued = setOf("N", "FN", "BDAY", "ANNIVERSARY", "ORG", "TITLE", "ROLE", "PHOTO", "LOGO",
		"SOUND", "GENDER", "KIND", "X-ADDRESSBOOKSERVER-KIND", "TZ", "GEO", "SORT-STRING",
		"X-PHONETIC-FIRST-NAME", "X-PHONETIC-MIDDLE-NAME", "X-PHONETIC-LAST-NAME",
		"X-PHONETIC-ORG", "X-MAIDENNAME", "X-ABSHOWAS", "X-GENDER")
	// companion properties describe the other properties of their group
	// (Apple's item1.TEL + item1.X-ABLabel) and follow them.
	companionProps = setOf("X-ABLABEL", "X-ABADR")
	// Every other property (TEL, EMAIL, ADR, URL, IMPP, X-SOCIALPROFILE,
	// RELATED, MEMBER, NICKNAME, unknown X- properties…) is multi-valued:
	// values are united. NOTE is concatenated, CATEGORIES united item by item.
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func isCompanion(p *contacts.Prop) bool { return p.Group != "" && companionProps[p.Name] }

// PlanMerge tells what Merge(reference, others, nil, …) would do.
func PlanMerge(reference Card, others []Card) (*Plan, error) {
	m, err := newMerger(reference, others, nil)
	if err != nil {
		return nil, err
	}
	return m.plan, nil
}

// Merge merges others into reference and returns the new bytes of the
// reference card and what is needed to undo the merge.
//
// The reference keeps its UID, its VERSION (values of a card of the other
// version are converted with contacts.Convert first), the order and the
// exact bytes of every line it does not change; new lines use its line
// ending and are folded at 75 octets, and are placed after the last
// reference property of the same name (else before END). REV is set to now
// (UTC, basic format). Multi-valued properties are united, dropping values
// equal after normalisation (see ValueKey) and adding the others' TYPE
// values to the kept value; grouped values (item1.TEL) bring their
// X-ABLabel/X-ABADR under a fresh group name. Single-valued properties keep
// the reference's value unless choices (property name → index in that
// Conflict's Others; -1 keeps the reference) picks another. The name is
// one choice: a full name (FN) chosen from another card brings that card's
// name parts (N), or leaves the merged card without parts when that card
// has none, and N may not be chosen besides. Distinct NOTEs
// (compared after normalisation, whole or with a paragraph of a note already
// there) are appended to the reference's first NOTE, separated by a blank line;
// CATEGORIES are united item by item. UID, REV, PRODID and X-ABUID of the
// others are not merged.
//
// Merging a card with itself changes nothing but REV: the output is the
// input byte for byte, except for the REV line (replaced, or added before
// END:VCARD when there was none; extra REV lines are dropped), blank lines
// (dropped) and lines whose line end differs from the first line's
// (rewritten with it). Merging the result again with the same others and
// the same now gives the same bytes.
//
// The undo record holds copies of all the inputs, which is enough to
// restore them byte for byte: it holds in particular every value that did
// not make it into the merged card (losing sides of conflicts, labels of
// grouped values that were already there, the others' UID, REV, PRODID).
func Merge(reference Card, others []Card, choices map[string]int, now time.Time) (merged []byte, undo *Undo, err error) {
	m, err := newMerger(reference, others, choices)
	if err != nil {
		return nil, nil, err
	}
	m.setREV(now)
	merged = contacts.FormatProps(m.props(), m.version, m.eol)
	if _, err := contacts.Validate(merged); err != nil {
		return nil, nil, fmt.Errorf("dedup: merged card is invalid: %w", err)
	}
	undo = &Undo{Reference: copyCard(reference)}
	for _, o := range others {
		undo.Others = append(undo.Others, copyCard(o))
	}
	return merged, undo, nil
}

func copyCard(c Card) Card {
	return Card{UID: c.UID, Data: append([]byte(nil), c.Data...)}
}

// holders are the props of the merged card that hold one value of a
// multi-valued property; fromRef says they are the reference's.
type holders struct {
	props   []*contacts.Prop
	fromRef bool
}

// merger holds the merged card being built.
type merger struct {
	version, eol string
	refUID       string
	out          []*contacts.Prop
	keys         map[string]holders // multi-valued: name+"\x00"+normalised value → the props holding it
	groups       map[string]bool    // group names in use (see groupKey)
	nextGroup    int
	notes        []*contacts.Prop
	noteAppend   []string                            // note texts to append to notes[0]
	catAppend    []string                            // raw items to append to cats
	drop         map[*contacts.Prop]bool             // props left out (extra REVs)
	after        map[*contacts.Prop][]*contacts.Prop // new props, placed after a prop
	beforeEnd    []*contacts.Prop                    // new props, placed before END
	inserted     int                                 // new props in all
	lastByName   map[string]*contacts.Prop           // the last prop of each name
	lastByGroup  map[string]*contacts.Prop           // the last prop of each group (see groupKey)
	noteKeys     map[string]bool                     // folded notes and paragraphs → whether from the reference
	cats         *contacts.Prop
	catKeys      map[string]bool
	plan         *Plan
}

func newMerger(reference Card, others []Card, choices map[string]int) (*merger, error) {
	version, refProps, err := contacts.ParseProps(reference.Data)
	if err != nil {
		return nil, fmt.Errorf("dedup: reference %s: %w", reference.UID, err)
	}
	m := &merger{
		version:     version,
		eol:         contacts.LineEnding(reference.Data),
		refUID:      reference.UID,
		keys:        map[string]holders{},
		groups:      map[string]bool{},
		catKeys:     map[string]bool{},
		noteKeys:    map[string]bool{},
		after:       map[*contacts.Prop][]*contacts.Prop{},
		drop:        map[*contacts.Prop]bool{},
		lastByName:  map[string]*contacts.Prop{},
		lastByGroup: map[string]*contacts.Prop{},
		plan:        &Plan{Reference: reference.UID},
	}
	for i := range refProps {
		p := &refProps[i]
		m.out = append(m.out, p)
		m.lastByName[p.Name] = p
		if p.Group != "" {
			m.groups[groupKey(p.Group)] = true
			m.lastByGroup[groupKey(p.Group)] = p
		}
		switch {
		case identityProps[p.Name], singleValued[p.Name], isCompanion(p):
		case p.Name == "NOTE":
			m.notes = append(m.notes, p)
			m.addNoteKeys(p.Text(), true)
		case p.Name == "CATEGORIES":
			if m.cats == nil {
				m.cats = p
			}
			for _, item := range contacts.SplitRaw(p.Value, ',') {
				m.catKeys[foldText(contacts.UnescapeText(item))] = true
			}
		default:
			k := p.Name + "\x00" + ValueKey(p)
			h := m.keys[k]
			m.keys[k] = holders{props: append(h.props, p), fromRef: true}
		}
	}

	// Parse the others in the reference's version.
	type otherCard struct {
		uid   string
		props []contacts.Prop
	}
	var os []otherCard
	for _, o := range others {
		v, props, err := contacts.ParseProps(o.Data)
		if err == nil && v != version {
			var data []byte
			if data, err = contacts.Convert(o.Data, version); err == nil {
				_, props, err = contacts.ParseProps(data)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("dedup: card %s: %w", o.UID, err)
		}
		os = append(os, otherCard{o.UID, props})
	}

	// Single-valued properties: find the conflicts first, so that choices can be checked.
	singles := map[string]*single{}
	var singleOrder []string
	refSingle := map[string]bool{} // name+"\x00"+normalised value of the reference's single-valued props
	for _, r := range m.out {
		if singleValued[r.Name] {
			refSingle[r.Name+"\x00"+ValueKey(r)] = true
		}
	}
	candKeys := map[string]bool{}
	for _, o := range os {
		for i := range o.props {
			p := &o.props[i]
			if !singleValued[p.Name] {
				continue
			}
			s := singles[p.Name]
			if s == nil {
				s = &single{conflict: Conflict{Name: p.Name}}
				for _, r := range m.out {
					if r.Name == p.Name {
						if !s.refHas {
							s.conflict.Reference = r.Value
						}
						s.refHas = true
					}
				}
				singles[p.Name] = s
				singleOrder = append(singleOrder, p.Name)
			}
			k := p.Name + "\x00" + ValueKey(p)
			pv := propValue(p, o.uid)
			if refSingle[k] {
				m.plan.Identical = append(m.plan.Identical, pv)
				continue
			}
			if candKeys[k] {
				continue
			}
			candKeys[k] = true
			s.conflict.Others = append(s.conflict.Others, pv)
			s.props = append(s.props, p)
		}
	}
	for _, name := range sortedKeys(choices) {
		idx, s := choices[name], singles[name]
		switch {
		case idx == -1:
		case s == nil || len(s.props) == 0:
			return nil, fmt.Errorf("dedup: no conflict on %s to choose from", name)
		case idx < 0 || idx >= len(s.props):
			return nil, fmt.Errorf("dedup: choice %d for %s out of range (0..%d)", idx, name, len(s.props)-1)
		}
	}
	nameFrom, err := nameChoice(singles["FN"], choices)
	if err != nil {
		return nil, err
	}
	for _, name := range singleOrder {
		s := singles[name]
		if len(s.props) == 0 || (name == "N" && nameFrom != "") {
			continue
		}
		idx, chosen := choices[name]
		if !s.refHas {
			if !chosen || idx < 0 {
				idx = 0
			}
			m.plan.Added = append(m.plan.Added, s.conflict.Others[0])
			if len(s.props) > 1 {
				m.plan.Conflicts = append(m.plan.Conflicts, s.conflict)
			}
			np := *s.props[idx]
			np.Group = m.newGroupFor(np.Group, map[string]string{})
			m.insert(&np)
			continue
		}
		m.plan.Conflicts = append(m.plan.Conflicts, s.conflict)
		if chosen && idx >= 0 {
			for _, r := range m.out {
				if r.Name == name {
					np := *s.props[idx]
					np.Group = r.Group
					*r = np
					break
				}
			}
		}
	}

	if nameFrom != "" {
		var parts *contacts.Prop
		for _, o := range os {
			if o.uid == nameFrom {
				parts = firstProp(o.props, "N")
				break
			}
		}
		m.setNameParts(parts)
	}

	// Everything else.
	for _, o := range os {
		m.mergeOther(o.uid, o.props)
	}
	if len(m.noteAppend) > 0 {
		first := m.notes[0]
		first.Value = contacts.EscapeText(strings.TrimRight(first.Text(), "\r\n") + "\n\n" + strings.Join(m.noteAppend, "\n\n"))
	}
	if len(m.catAppend) > 0 {
		if m.cats.Value != "" {
			m.cats.Value += ","
		}
		m.cats.Value += strings.Join(m.catAppend, ",")
	}
	return m, nil
}

// single is a single-valued property of the others while merging.
type single struct {
	conflict Conflict
	props    []*contacts.Prop // the candidates, parallel to conflict.Others
	refHas   bool
}

// nameChoice returns the UID of the other card whose full name (FN) is
// chosen, "" when the reference's is kept. A name is one choice: its parts
// (N) come from the same card, so a choice of N besides is refused.
func nameChoice(fn *single, choices map[string]int) (string, error) {
	idx, ok := choices["FN"]
	if !ok || idx < 0 {
		return "", nil
	}
	if _, both := choices["N"]; both {
		return "", errors.New("dedup: N is chosen with FN (the name parts come from the card of the chosen name)")
	}
	return fn.conflict.Others[idx].From, nil
}

// setNameParts makes parts, the N of the card whose name is chosen, the
// merged card's name parts: the reference's N is replaced, or parts added
// when it has none. When that card has no parts (nil), nothing is derived
// from the full name, which would guess where the family name is: a vCard
// 4.0 then has none, and an older one, which must have N, empty parts.
func (m *merger) setNameParts(parts *contacts.Prop) {
	if parts == nil && m.version != "4.0" {
		parts = &contacts.Prop{Name: "N", Value: ";;;;"}
	}
	var ref []*contacts.Prop
	for _, r := range m.out {
		if r.Name == "N" {
			ref = append(ref, r)
		}
	}
	for i, r := range ref {
		if i > 0 || parts == nil {
			m.drop[r] = true
			continue
		}
		np := *parts
		np.Group = r.Group
		*r = np
	}
	if len(ref) == 0 && parts != nil {
		np := *parts
		np.Group = m.newGroupFor(np.Group, map[string]string{})
		m.insert(&np)
	}
}

func firstProp(props []contacts.Prop, name string) *contacts.Prop {
	for i := range props {
		if props[i].Name == name {
			return &props[i]
		}
	}
	return nil
}

// mergeOther unites the multi-valued properties, notes and categories of
// one other card into the merged card.
func (m *merger) mergeOther(uid string, props []contacts.Prop) {
	rename := map[string]string{} // the other's group → the group in the merged card
	addedGroup := map[string]bool{}
	hasMain := map[string]bool{}
	for i := range props {
		p := &props[i]
		if p.Group != "" && !isCompanion(p) {
			hasMain[groupKey(p.Group)] = true
		}
	}
	for i := range props {
		p := &props[i]
		switch {
		case identityProps[p.Name], singleValued[p.Name]:
		case isCompanion(p) && hasMain[groupKey(p.Group)]:
			// handled below, with their group
		case p.Name == "NOTE":
			m.mergeNote(p, uid)
		case p.Name == "CATEGORIES":
			m.mergeCategories(p, uid)
		default:
			k := p.Name + "\x00" + ValueKey(p)
			if same, ok := m.keys[k]; ok {
				if same.fromRef {
					m.plan.Identical = append(m.plan.Identical, propValue(p, uid))
				}
				unionTypes(same.props, p)
				continue
			}
			np := *p
			np.Group = m.newGroupFor(p.Group, rename)
			m.insert(&np)
			m.keys[k] = holders{props: []*contacts.Prop{&np}}
			m.plan.Added = append(m.plan.Added, propValue(p, uid))
			if p.Group != "" {
				addedGroup[groupKey(p.Group)] = true
			}
		}
	}
	for i := range props {
		p := &props[i]
		if isCompanion(p) && hasMain[groupKey(p.Group)] && addedGroup[groupKey(p.Group)] {
			np := *p
			np.Group = m.newGroupFor(p.Group, rename)
			m.insert(&np)
			m.plan.Added = append(m.plan.Added, propValue(p, uid))
		}
	}
}

func (m *merger) mergeNote(p *contacts.Prop, uid string) {
	text := strings.TrimSpace(p.Text())
	k := foldText(text)
	if k == "" {
		return
	}
	if fromRef, ok := m.noteKeys[k]; ok {
		if fromRef {
			m.plan.Identical = append(m.plan.Identical, propValue(p, uid))
		}
		return
	}
	m.noteKeys[k] = false
	m.plan.Added = append(m.plan.Added, propValue(p, uid))
	if len(m.notes) == 0 {
		np := *p
		np.Group = ""
		m.insert(&np)
		m.notes = append(m.notes, &np)
		return
	}
	m.noteAppend = append(m.noteAppend, text)
}

func (m *merger) mergeCategories(p *contacts.Prop, uid string) {
	var add []string
	for _, item := range contacts.SplitRaw(p.Value, ',') {
		k := foldText(contacts.UnescapeText(item))
		if k == "" {
			continue
		}
		pv := PropValue{Name: p.Name, Value: item, Params: formatParams(p.Params), From: uid}
		if m.catKeys[k] {
			m.plan.Identical = append(m.plan.Identical, pv)
			continue
		}
		m.catKeys[k] = true
		add = append(add, item)
		m.plan.Added = append(m.plan.Added, pv)
	}
	if len(add) == 0 {
		return
	}
	if m.cats == nil {
		np := *p
		np.Group = ""
		np.Value = strings.Join(add, ",")
		m.insert(&np)
		m.cats = &np
		return
	}
	m.catAppend = append(m.catAppend, add...)
}

// insert places a new property after the last one of the same group (for a
// grouped property whose group is already there) or of the same name, else
// before END:VCARD.
func (m *merger) insert(np *contacts.Prop) {
	var anchor *contacts.Prop
	if np.Group != "" {
		anchor = m.lastByGroup[groupKey(np.Group)]
	}
	if anchor == nil {
		anchor = m.lastByName[np.Name]
	}
	m.inserted++
	if anchor != nil {
		m.after[anchor] = append(m.after[anchor], np)
	} else {
		m.beforeEnd = append(m.beforeEnd, np)
	}
	m.lastByName[np.Name] = np
	if np.Group != "" {
		m.lastByGroup[groupKey(np.Group)] = np
	}
}

// props returns the merged card's properties in order.
func (m *merger) props() []contacts.Prop {
	out := make([]contacts.Prop, 0, len(m.out)+m.inserted)
	// Each prop, then what was placed after it, depth first. New props
	// chain (each after the one added before it), so the walk keeps its
	// own stack rather than recursing once per added prop.
	var stack []*contacts.Prop
	emit := func(p *contacts.Prop) {
		stack = append(stack[:0], p)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !m.drop[p] {
				out = append(out, *p)
			}
			next := m.after[p]
			for i := len(next) - 1; i >= 0; i-- {
				stack = append(stack, next[i])
			}
		}
	}
	for _, p := range m.out {
		if p.Name == "END" {
			for _, q := range m.beforeEnd {
				emit(q)
			}
		}
		emit(p)
	}
	return out
}

// groupKey is a group name as the merger's maps key it: group names
// compare case-insensitively. Lower case, as clients write them ("item1"),
// costs no copy, which counts on a card of many grouped values.
func groupKey(g string) string { return strings.ToLower(g) }

// newGroupFor gives the group an added property of another card gets: ""
// for none, else a fresh "itemN" per group of that card.
func (m *merger) newGroupFor(g string, rename map[string]string) string {
	if g == "" {
		return ""
	}
	key := groupKey(g)
	if n, ok := rename[key]; ok {
		return n
	}
	for {
		m.nextGroup++
		n := fmt.Sprintf("item%d", m.nextGroup)
		if !m.groups[groupKey(n)] {
			m.groups[groupKey(n)] = true
			rename[key] = n
			return n
		}
	}
}

// setREV sets the first REV to now and drops any other.
func (m *merger) setREV(now time.Time) {
	value := now.UTC().Format("20060102T150405Z")
	found := false
	for _, p := range m.out {
		if p.Name != "REV" {
			continue
		}
		if found {
			m.drop[p] = true
			continue
		}
		found = true
		*p = contacts.Prop{Group: p.Group, Name: "REV", Value: value}
	}
	if !found {
		m.insert(&contacts.Prop{Name: "REV", Value: value})
	}
}

// unionTypes adds the TYPE values of p to the first of same unless one of
// them already has them all.
func unionTypes(same []*contacts.Prop, p *contacts.Prop) {
	types := p.Param("TYPE")
	if len(types) == 0 {
		return
	}
	missing := func(t *contacts.Prop) []string {
		have := map[string]bool{}
		for _, v := range t.Param("TYPE") {
			have[strings.ToLower(v)] = true
		}
		var miss []string
		for _, v := range types {
			if lv := strings.ToLower(v); !have[lv] {
				have[lv] = true
				miss = append(miss, v)
			}
		}
		return miss
	}
	for _, t := range same {
		if len(missing(t)) == 0 {
			return
		}
	}
	t := same[0]
	miss := missing(t)
	params := make([]contacts.Param, 0, len(t.Params)+1)
	done := false
	for _, q := range t.Params {
		if q.Name == "TYPE" && !done {
			q = contacts.Param{Name: "TYPE", Values: append(append([]string(nil), q.Values...), miss...)}
			done = true
		}
		params = append(params, q)
	}
	if !done {
		params = append(params, contacts.Param{Name: "TYPE", Values: miss})
	}
	t.Params = params // t is a Prop of the merged card: FormatProps sees it changed
}

func propValue(p *contacts.Prop, uid string) PropValue {
	return PropValue{Name: p.Name, Value: p.Value, Params: formatParams(p.Params), From: uid}
}

// formatParams writes parameters for display.
func formatParams(ps []contacts.Param) string {
	var b strings.Builder
	for _, q := range ps {
		b.WriteByte(';')
		b.WriteString(q.Name)
		if q.Values == nil {
			continue
		}
		b.WriteByte('=')
		for i, v := range q.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(v, ",;:") {
				v = `"` + v + `"`
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// ValueKey is the value of a property after the normalisation used to tell
// equal values: two values of a property with equal keys are the same for a
// merge. Phones are compared by their last 9 digits (so that national and
// international forms of a number match), e-mails case-insensitively,
// structured values component by component, other values after unescaping,
// trimming, collapsing blanks and case-folding.
func ValueKey(p *contacts.Prop) string {
	switch p.Name {
	case "TEL":
		v := strings.TrimSpace(p.Text())
		if len(v) >= 4 && strings.EqualFold(v[:4], "tel:") {
			v = v[4:]
		}
		d := make([]byte, 0, 16) // on the stack: a key is made for every phone of a card
		for i := 0; i < len(v); i++ {
			if '0' <= v[i] && v[i] <= '9' {
				d = append(d, v[i])
			}
		}
		if len(d) == 0 {
			return "text:" + foldText(v)
		}
		if len(d) > 9 {
			d = d[len(d)-9:]
		}
		return string(d)
	case "EMAIL":
		v := strings.TrimSpace(p.Text())
		if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
			v = v[7:]
		}
		return strings.ToLower(strings.TrimSpace(v))
	case "N", "ADR", "ORG", "GENDER":
		parts := contacts.SplitRaw(p.Value, ';')
		for i, s := range parts {
			parts[i] = foldText(contacts.UnescapeText(s))
		}
		// Trailing empty components do not count.
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		return strings.Join(parts, ";")
	case "URL":
		return strings.TrimRight(foldText(p.Text()), "/")
	case "PHOTO", "LOGO", "SOUND", "KEY":
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, p.Value)
	}
	return foldText(p.Text())
}

// addNoteKeys records a note and its paragraphs as present.
func (m *merger) addNoteKeys(note string, fromRef bool) {
	m.noteKeys[foldText(note)] = fromRef
	for _, para := range strings.Split(strings.ReplaceAll(note, "\r\n", "\n"), "\n\n") {
		if k := foldText(para); k != "" {
			if _, ok := m.noteKeys[k]; !ok {
				m.noteKeys[k] = fromRef
			}
		}
	}
}

// noteHas reports whether a note is, or has a paragraph (text between blank
// lines, as Merge joins notes) that is, key after foldText.
func noteHas(note, key string) bool {
	if foldText(note) == key {
		return true
	}
	for _, para := range strings.Split(strings.ReplaceAll(note, "\r\n", "\n"), "\n\n") {
		if foldText(para) == key {
			return true
		}
	}
	return false
}

// foldText trims, collapses runs of white space and lower-cases s.
func foldText(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// RewriteMembers updates a group card (KIND:group + MEMBER:urn:uuid:X, or
// X-ADDRESSBOOKSERVER-KIND:group + X-ADDRESSBOOKSERVER-MEMBER) so that
// members that were merged away point to the survivor, listing the
// survivor once. The prefix of the value ("urn:uuid:" or none) is kept.
// changed is false, and out is group, when the group lists none of them.
// Lines that are not changed keep their bytes. REV is not touched.
func RewriteMembers(group []byte, mergedAway []string, survivor string) (out []byte, changed bool, err error) {
	version, props, err := contacts.ParseProps(group)
	if err != nil {
		return nil, false, fmt.Errorf("dedup: group card: %w", err)
	}
	if survivor == "" {
		return nil, false, errors.New("dedup: empty survivor UID")
	}
	away := map[string]bool{}
	for _, u := range mergedAway {
		away[u] = true
		away[strings.ToLower(u)] = true
	}
	isMember := func(p *contacts.Prop) bool {
		return p.Name == "MEMBER" || p.Name == "X-ADDRESSBOOKSERVER-MEMBER"
	}
	split := func(v string) (prefix, uid string) {
		v = strings.TrimSpace(contacts.UnescapeText(v))
		if len(v) >= 9 && strings.EqualFold(v[:9], "urn:uuid:") {
			return v[:9], v[9:]
		}
		return "", v
	}
	matches := func(uid string, prefixed bool) bool {
		return away[uid] || (prefixed && away[strings.ToLower(uid)])
	}
	for i := range props {
		p := &props[i]
		if !isMember(p) {
			continue
		}
		prefix, uid := split(p.Value)
		if matches(uid, prefix != "") {
			changed = true
			p.Value = contacts.EscapeText(prefix + survivor)
		}
	}
	if !changed {
		return group, false, nil
	}
	// Drop duplicate members.
	seen := map[string]bool{}
	kept := props[:0]
	for _, p := range props {
		if isMember(&p) {
			_, uid := split(p.Value)
			k := p.Name + "\x00" + uid
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		kept = append(kept, p)
	}
	return contacts.FormatProps(kept, version, contacts.LineEnding(group)), true, nil
}

// sortedKeys returns the keys of m in order, for deterministic errors.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
