package merges

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rolodav/rolodav/internal/contacts"
	"github.com/rolodav/rolodav/internal/dedup"
	"github.com/rolodav/rolodav/internal/store"
)

// Refusals of Undo, said so that a person knows what to do.
var (
	ErrAlreadyUndone    = errors.New("this merge was undone already")
	ErrReferenceChanged = errors.New("the surviving card was edited or deleted after the merge; undo would drop that change (force it to undo anyway)")
)

// MergedSinceError refuses to undo a merge whose surviving card a later
// merge took away: its cards would come back beside a merge still in
// effect. Undoing the later merge first makes it possible.
type MergedSinceError struct {
	Merge int64 // the later merge
}

func (e *MergedSinceError) Error() string {
	return fmt.Sprintf("the surviving card was merged into another card since, by merge %d: undo merge %d first", e.Merge, e.Merge)
}

// undoRecord is what a merge keeps to be undone: dedup's record of the
// merged cards and, per group card the merge rewrote, the member lines
// that stood for the merged cards before. Its JSON holds dedup.Undo's, so
// a record written before Groups existed reads as one without them.
type undoRecord struct {
	dedup.Undo
	Groups []groupMembers `json:",omitempty"`
}

// groupMembers are the member lines of group card Name (a resource name)
// that listed cards of the merge, in order, before the merge made them one
// line for the reference.
type groupMembers struct {
	Name    string
	Members []memberLine
}

// memberLine is a MEMBER or X-ADDRESSBOOKSERVER-MEMBER line.
type memberLine struct {
	Group  string           `json:",omitempty"`
	Name   string           // property name
	Params []contacts.Param `json:",omitempty"`
	Value  string           // raw
}

// isMember tells the properties that list a group's members.
func isMember(p *contacts.Prop) bool {
	return p.Name == "MEMBER" || p.Name == "X-ADDRESSBOOKSERVER-MEMBER"
}

// lists reports whether a member line names the card with this UID, as
// dedup.RewriteMembers compares them.
func lists(p *contacts.Prop, uid string) bool {
	v := strings.TrimSpace(contacts.UnescapeText(p.Value))
	if len(v) >= 9 && strings.EqualFold(v[:9], "urn:uuid:") {
		return strings.EqualFold(v[9:], uid)
	}
	return v == uid
}

func listsAny(p *contacts.Prop, uids []string) bool {
	for _, u := range uids {
		if lists(p, u) {
			return true
		}
	}
	return false
}

// membersOf returns the member lines of a group card that list any of uids.
func membersOf(group []byte, uids []string) []memberLine {
	_, props, err := contacts.ParseProps(group)
	if err != nil {
		return nil
	}
	var out []memberLine
	for i := range props {
		p := &props[i]
		if isMember(p) && listsAny(p, uids) {
			out = append(out, memberLine{Group: p.Group, Name: p.Name, Params: p.Params, Value: p.Value})
		}
	}
	return out
}

// restoreMembers undoes a merge's rewrite of a group card as it is now:
// the line listing the reference becomes again the lines that listed the
// merge's cards before. Every other line stays as it is now, so edits made
// since are kept; a group that no longer lists the reference (someone took
// it out since) is left alone, and a line that is back already is not
// doubled.
func restoreMembers(group []byte, before []memberLine, ref string) (out []byte, changed bool, err error) {
	version, props, err := contacts.ParseProps(group)
	if err != nil {
		return nil, false, err
	}
	at := -1
	for i := range props {
		if isMember(&props[i]) && lists(&props[i], ref) {
			at = i
			break
		}
	}
	if at < 0 {
		return group, false, nil
	}
	line := props[at]
	rest := append(props[:at:at], props[at+1:]...)
	lines := make([]contacts.Prop, 0, len(before))
	for _, l := range before {
		p := contacts.Prop{Group: l.Group, Name: l.Name, Params: l.Params, Value: l.Value}
		if holds(rest, &p) {
			continue
		}
		if p.Name == line.Name && p.Value == line.Value {
			p = line // the reference's own line: keep its bytes
		}
		lines = append(lines, p)
	}
	props = append(rest[:at:at], append(lines, rest[at:]...)...)
	return contacts.FormatProps(props, version, contacts.LineEnding(group)), true, nil
}

// memberUID is the UID a member line names.
func memberUID(p *contacts.Prop) string {
	v := strings.TrimSpace(contacts.UnescapeText(p.Value))
	if len(v) >= 9 && strings.EqualFold(v[:9], "urn:uuid:") {
		return v[9:]
	}
	return v
}

// holds reports whether props has a line of p's property listing p's member.
func holds(props []contacts.Prop, p *contacts.Prop) bool {
	uid := memberUID(p)
	for i := range props {
		if props[i].Name == p.Name && lists(&props[i], uid) {
			return true
		}
	}
	return false
}

// Undo restores the cards a merge combined, under their names and UIDs,
// and gives the group cards it rewrote their members back. Unless force,
// it refuses when the surviving card changed since; it always refuses when
// a later merge took the surviving card away (MergedSinceError).
//
// A client may re-upload a merged-away card while the undo is prepared:
// the server folds it into the survivor and replaces the merge's undo
// record, and the store refuses the undo decoded from the older one. Undo
// then starts again from the new record, a few times at most.
func Undo(ctx context.Context, st Store, coll *store.Collection, id int64, force bool) error {
	return undoWith(ctx, st, coll, id, force, nil)
}

// undoWith is Undo. list, when not nil, are the collection's merges as
// ListMerges gave them (the caller keeps their Undone up to date), so that
// undoing many does not read them all again for each.
func undoWith(ctx context.Context, st Store, coll *store.Collection, id int64, force bool, list []store.Merge) error {
	for attempt := 1; ; attempt++ {
		record, err := undo(ctx, st, coll, id, force, list)
		if err == nil || attempt == undoAttempts || !errors.Is(err, store.ErrPrecondition) {
			return err
		}
		m, gerr := st.GetMerge(ctx, coll.ID, id)
		if gerr != nil || !m.Undone.IsZero() || bytes.Equal(m.Undo, record) {
			return err // not a fold: the refusal stands
		}
	}
}

// undoAttempts bounds how often Undo starts again after folds.
const undoAttempts = 3

// undo is one attempt of Undo; it returns the undo record it decoded.
func undo(ctx context.Context, st Store, coll *store.Collection, id int64, force bool, list []store.Merge) ([]byte, error) {
	m, err := st.GetMerge(ctx, coll.ID, id)
	if err != nil {
		return nil, err
	}
	if !m.Undone.IsZero() {
		return nil, ErrAlreadyUndone
	}
	var u undoRecord
	if err := json.Unmarshal(m.Undo, &u); err != nil {
		return nil, fmt.Errorf("merge %d: unreadable undo record: %w", id, err)
	}
	if len(u.Others) != len(m.Removed) {
		return nil, fmt.Errorf("merge %d: undo record does not match the merge", id)
	}
	later, err := mergedSince(ctx, st, coll, m, list)
	if err != nil {
		return nil, err
	}
	if later != 0 {
		return nil, &MergedSinceError{Merge: later}
	}
	if !force {
		ref, err := st.GetObject(ctx, coll.ID, m.Reference)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if ref == nil || ref.ETag != m.ReferenceETag {
			return nil, ErrReferenceChanged
		}
	}
	originals := []store.Object{{Collection: coll.ID, Name: m.Reference, UID: u.Reference.UID, Data: u.Reference.Data}}
	for i, o := range u.Others {
		originals = append(originals, store.Object{Collection: coll.ID, Name: m.Removed[i], UID: o.UID, Data: o.Data})
	}
	groups, err := groupsBack(ctx, st, coll, &u)
	if err != nil {
		return nil, fmt.Errorf("merge %d: %w", id, err)
	}
	return m.Undo, st.UndoMerge(ctx, coll.ID, id, m.Undo, append(originals, groups...), force)
}

// mergedSince returns the newest merge in effect that took m's surviving
// card away after m (0 when none), whether or not its own survivor is
// still there: undoing m first would bring cards back beside it. It reads
// the merges unless given them (list).
func mergedSince(ctx context.Context, st store.Merges, coll *store.Collection, m *store.Merge, list []store.Merge) (int64, error) {
	if list == nil {
		var err error
		if list, err = st.ListMerges(ctx, coll.ID); err != nil {
			return 0, err
		}
	}
	for _, l := range list {
		if l.ID > m.ID && l.Undone.IsZero() && slices.Contains(l.Removed, m.Reference) {
			return l.ID, nil
		}
	}
	return 0, nil
}

// groupsBack returns the group cards a merge rewrote as they are now, with
// the merge's members back. A group card deleted since stays deleted; one
// that cannot be read is left as it is.
func groupsBack(ctx context.Context, st store.Objects, coll *store.Collection, u *undoRecord) ([]store.Object, error) {
	if len(u.Groups) == 0 {
		return nil, nil
	}
	names := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		names[i] = g.Name
	}
	now, err := st.GetObjects(ctx, coll.ID, names, true)
	if err != nil {
		return nil, fmt.Errorf("reading its group cards: %w", err)
	}
	byName := make(map[string]*store.Object, len(now))
	for i := range now {
		byName[now[i].Name] = &now[i]
	}
	var out []store.Object
	for _, g := range u.Groups {
		cur := byName[g.Name]
		if cur == nil {
			continue
		}
		data, changed, err := restoreMembers(cur.Data, g.Members, u.Reference.UID)
		if err != nil || !changed {
			continue
		}
		out = append(out, store.Object{Collection: coll.ID, Name: cur.Name, UID: cur.UID, Data: data})
	}
	return out, nil
}
