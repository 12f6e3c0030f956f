package contacts

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/rolodav/rolodav/internal/contentline"
)

// Filter is a CardDAV addressbook-query filter (RFC 6352 §10.5), evaluated
// on one card.
//
// Note the zero values: AnyOf false means test="allof" for the filter, while
// PropFilter.AllOf false means test="anyof" for a prop-filter. RFC 6352 makes
// anyof the default for both, so a parser must set AnyOf to true when the
// filter element has no test attribute.
//
// Check (or the first Match) prepares the filter; do not change a Filter
// after that. A prepared Filter may be used by several goroutines at once.
type Filter struct {
	AnyOf bool // test="anyof" (the default in RFC 6352 is anyof!)
	Props []PropFilter

	prep atomic.Value // *prepared; atomic.Value keeps Filter copyable without vet complaints
}

// PropFilter tests one property (RFC 6352 §10.5.1). Name is case-insensitive
// and matches the property in any group; "group.NAME" matches only that group.
type PropFilter struct {
	Name         string // e.g. "FN", "EMAIL", "X-…"; case-insensitive
	AllOf        bool   // test="allof"; default anyof
	IsNotDefined bool
	TextMatches  []TextMatch
	Params       []ParamFilter
}

// ParamFilter tests one parameter of a property (RFC 6352 §10.5.2).
type ParamFilter struct {
	Name         string
	IsNotDefined bool
	TextMatch    *TextMatch
}

// TextMatch compares text (RFC 6352 §10.5.4).
type TextMatch struct {
	Text      string
	Collation string // "i;unicode-casemap" (default), "i;ascii-casemap", "i;octet"
	MatchType string // "equals", "contains" (default), "starts-with", "ends-with"
	Negate    bool
}

// ErrUnsupportedCollation is returned by Filter.Check for an unknown
// collation (→ CARDDAV:supported-collation).
var ErrUnsupportedCollation = errors.New("contacts: unsupported collation")

// ErrInvalidFilter is returned by Filter.Check for an unknown match type or
// an empty property or parameter name (→ CARDDAV:supported-filter or 400).
var ErrInvalidFilter = errors.New("contacts: invalid filter")

type collation uint8

const (
	collUnicode collation = iota
	collASCII
	collOctet
)

type matchType uint8

const (
	matchContains matchType = iota
	matchEquals
	matchStartsWith
	matchEndsWith
)

type prepared struct {
	anyOf bool
	props []prepProp
}

type prepProp struct {
	group      string // "" for any group
	name       string // upper-case
	notDefined bool
	allOf      bool
	texts      []prepText
	params     []prepParam
}

type prepParam struct {
	name       string // upper-case
	notDefined bool
	text       *prepText
}

type prepText struct {
	pattern []byte // folded with the collation
	coll    collation
	match   matchType
	negate  bool
}

// Check validates the filter and prepares it for Match. It returns an error
// wrapping ErrUnsupportedCollation or ErrInvalidFilter.
func (f *Filter) Check() error {
	_, err := f.prepare()
	return err
}

func (f *Filter) prepare() (*prepared, error) {
	if p, ok := f.prep.Load().(*prepared); ok {
		return p, nil
	}
	p := &prepared{anyOf: f.AnyOf}
	var sc matchScratch
	for _, pf := range f.Props {
		group, name := splitGroup(pf.Name)
		if name == "" {
			return nil, fmt.Errorf("%w: prop-filter without a name", ErrInvalidFilter)
		}
		pp := prepProp{group: group, name: name, notDefined: pf.IsNotDefined, allOf: pf.AllOf}
		for i := range pf.TextMatches {
			t, err := prepareText(&pf.TextMatches[i], &sc)
			if err != nil {
				return nil, err
			}
			pp.texts = append(pp.texts, t)
		}
		for _, q := range pf.Params {
			n := strings.ToUpper(strings.TrimSpace(q.Name))
			if n == "" {
				return nil, fmt.Errorf("%w: param-filter without a name", ErrInvalidFilter)
			}
			qp := prepParam{name: n, notDefined: q.IsNotDefined}
			if q.TextMatch != nil {
				t, err := prepareText(q.TextMatch, &sc)
				if err != nil {
					return nil, err
				}
				qp.text = &t
			}
			pp.params = append(pp.params, qp)
		}
		p.props = append(p.props, pp)
	}
	f.prep.Store(p)
	return p, nil
}

func splitGroup(s string) (group, name string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		group, s = s[:i], s[i+1:]
	}
	return group, strings.ToUpper(s)
}

func prepareText(tm *TextMatch, sc *matchScratch) (prepText, error) {
	t := prepText{negate: tm.Negate}
	switch strings.ToLower(strings.TrimSpace(tm.Collation)) {
	case "", "i;unicode-casemap":
		t.coll = collUnicode
	case "i;ascii-casemap":
		t.coll = collASCII
	case "i;octet":
		t.coll = collOctet
	default:
		return t, fmt.Errorf("%w: %q", ErrUnsupportedCollation, tm.Collation)
	}
	switch strings.ToLower(strings.TrimSpace(tm.MatchType)) {
	case "", "contains":
		t.match = matchContains
	case "equals":
		t.match = matchEquals
	case "starts-with":
		t.match = matchStartsWith
	case "ends-with":
		t.match = matchEndsWith
	default:
		return t, fmt.Errorf("%w: match-type %q", ErrInvalidFilter, tm.MatchType)
	}
	t.pattern = append([]byte(nil), sc.fold(t.coll, []byte(tm.Text))...)
	return t, nil
}

// matchScratch holds the buffers one Match call works in.
type matchScratch struct {
	line, unesc, value []byte
	a, b, c            []byte
	state              []propState
}

type propState struct{ defined, matched bool }

var scratchPool = sync.Pool{New: func() any { return new(matchScratch) }}

// release returns sc to the pool, dropping buffers that an unusual card
// (say, an unfolded photo) made large.
func (sc *matchScratch) release() {
	const max = 64 << 10
	for _, b := range []*[]byte{&sc.line, &sc.unesc, &sc.value, &sc.a, &sc.b, &sc.c} {
		if cap(*b) > max {
			*b = nil
		}
	}
	scratchPool.Put(sc)
}

// folder is stateless and safe for concurrent use (see cases.Fold). It is
// kept as an interface value so that using it does not allocate.
var folder transform.Transformer = cases.Fold()

// fold maps s for comparison under the collation. The result lives in the
// scratch buffers (or is s itself) and is valid until the next call.
func (sc *matchScratch) fold(c collation, s []byte) []byte {
	if c == collOctet {
		return s
	}
	ascii := true
	for _, ch := range s {
		if ch >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii || c == collASCII {
		sc.a = sc.a[:0]
		for _, ch := range s {
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			sc.a = append(sc.a, ch)
		}
		return sc.a
	}
	// i;unicode-casemap: compatibility composition first (so that ligatures
	// and compatibility forms compare as their plain letters), then full case
	// folding, then canonical composition.
	sc.a = norm.NFKC.Append(sc.a[:0], s...)
	var err error
	if cap(sc.b) == 0 {
		sc.b = make([]byte, 0, 2*len(sc.a)+16)
	}
	sc.b, _, err = transform.Append(folder, sc.b[:0], sc.a)
	if err != nil {
		return sc.a
	}
	if norm.NFC.IsNormal(sc.b) {
		return sc.b
	}
	sc.c = norm.NFC.Append(sc.c[:0], sc.b...)
	return sc.c
}

func (t *prepText) matches(sc *matchScratch, s []byte) bool {
	v := sc.fold(t.coll, s)
	var ok bool
	switch t.match {
	case matchEquals:
		ok = bytes.Equal(v, t.pattern)
	case matchStartsWith:
		ok = bytes.HasPrefix(v, t.pattern)
	case matchEndsWith:
		ok = bytes.HasSuffix(v, t.pattern)
	default:
		ok = bytes.Contains(v, t.pattern)
	}
	return ok != t.negate
}

// Match reports whether the card in data passes the filter. An empty filter
// matches everything. A card matches a prop-filter when any instance of the
// property passes the prop-filter's tests (text-matches on the unescaped
// value and param-filters, combined with allof/anyof); a prop-filter
// without tests needs the property to exist, one with is-not-defined needs
// it to be absent. A param-filter with a text-match needs the parameter to
// exist with a value that matches (negate-condition: none matches). Lines
// that cannot be parsed are skipped, so stored data that a later parser
// dislikes never fails a query. The error is that of Check.
func (f *Filter) Match(data []byte) (bool, error) {
	p, err := f.prepare()
	if err != nil {
		return false, err
	}
	if len(p.props) == 0 {
		return true, nil
	}
	sc := scratchPool.Get().(*matchScratch)
	defer sc.release()
	if cap(sc.state) < len(p.props) {
		sc.state = make([]propState, len(p.props))
	}
	state := sc.state[:len(p.props)]
	clear(state)

	s := contentline.NewScanner(data)
	for {
		l, ok := s.Next()
		if !ok {
			break
		}
		var full []byte // unfolded line, once needed
		group, name, ok := contentline.Name(data[l.Start:l.FirstEnd], vcardSyntax)
		if !ok {
			if !l.Folded {
				continue
			}
			full = s.Text(l, sc.line)
			sc.line = full
			if group, name, ok = contentline.Name(full, vcardSyntax); !ok {
				continue
			}
		}
		var (
			pl     contentline.Prop[[]byte]
			parsed bool
			bad    bool
		)
		for i := range p.props {
			pp := &p.props[i]
			if !asciiEqualFold(name, pp.name) || (pp.group != "" && !strings.EqualFold(string(group), pp.group)) {
				continue
			}
			st := &state[i]
			st.defined = true
			switch {
			case pp.notDefined:
				if !p.anyOf {
					return false, nil // allof: this prop-filter has failed
				}
				continue
			case len(pp.texts) == 0 && len(pp.params) == 0:
				if p.anyOf {
					return true, nil // anyof: this prop-filter has passed
				}
				continue
			case st.matched:
				continue
			}
			if !parsed {
				parsed = true
				if full == nil {
					full = s.Text(l, sc.line)
					if l.Folded {
						sc.line = full
					}
				}
				var f contentline.Fault
				pl, f = contentline.Parse(full, vcardSyntax)
				bad = f.Code != contentline.OK
			}
			if !bad && pp.matchInstance(sc, &pl) {
				if p.anyOf {
					return true, nil
				}
				st.matched = true
			}
		}
	}

	for i := range p.props {
		pp, st := &p.props[i], state[i]
		var ok bool
		switch {
		case pp.notDefined:
			ok = !st.defined
		case len(pp.texts) == 0 && len(pp.params) == 0:
			ok = st.defined
		default:
			ok = st.matched
		}
		if ok && p.anyOf {
			return true, nil
		}
		if !ok && !p.anyOf {
			return false, nil
		}
	}
	return !p.anyOf, nil
}

// matchInstance evaluates the tests of a prop-filter on one property.
func (pp *prepProp) matchInstance(sc *matchScratch, pl *contentline.Prop[[]byte]) bool {
	if len(pp.texts) > 0 {
		sc.unesc = appendUnescaped(sc.unesc[:0], pl.Value)
	}
	value := sc.unesc
	for i := range pp.texts {
		ok := pp.texts[i].matches(sc, value)
		if ok && !pp.allOf {
			return true
		}
		if !ok && pp.allOf {
			return false
		}
	}
	for i := range pp.params {
		ok := pp.params[i].match(sc, pl.Params)
		if ok && !pp.allOf {
			return true
		}
		if !ok && pp.allOf {
			return false
		}
	}
	return pp.allOf
}

// match evaluates a param-filter on the parameters of one property. A bare
// parameter (TEL;CELL:) counts as a TYPE value.
func (q *prepParam) match(sc *matchScratch, params []byte) bool {
	found, hit := false, false
	contentline.EachParam(params, vcardSyntax, func(name, raw []byte, bare bool) bool {
		if bare {
			if q.name != paramType {
				return true
			}
			found = true
			if q.text != nil && q.text.matchesPositive(sc, name) {
				hit = true
				return false
			}
			return true
		}
		if !asciiEqualFold(name, q.name) {
			return true
		}
		found = true
		if q.text == nil {
			return false
		}
		contentline.EachValue(raw, func(v []byte) bool {
			v = decodeCaretBytes(sc, v)
			if q.name == paramType {
				for len(v) > 0 {
					part := v
					if i := bytes.IndexByte(v, ','); i >= 0 {
						part, v = v[:i], v[i+1:]
					} else {
						v = nil
					}
					if q.text.matchesPositive(sc, part) {
						hit = true
						return false
					}
				}
				return true
			}
			if q.text.matchesPositive(sc, v) {
				hit = true
				return false
			}
			return true
		})
		return !hit
	})
	switch {
	case q.notDefined:
		return !found
	case q.text == nil:
		return found
	default:
		return found && hit != q.text.negate
	}
}

// matchesPositive is matches without negate-condition.
func (t *prepText) matchesPositive(sc *matchScratch, s []byte) bool {
	return t.matches(sc, s) != t.negate
}

// decodeCaretBytes resolves RFC 6868 escapes in a parameter value.
func decodeCaretBytes(sc *matchScratch, v []byte) []byte {
	if bytes.IndexByte(v, '^') < 0 {
		return v
	}
	sc.value = append(sc.value[:0], decodeCaret(string(v))...)
	return sc.value
}
