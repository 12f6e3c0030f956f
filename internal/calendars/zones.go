package calendars

// Time zones: IANA names, and the custom zones of VTIMEZONE definitions,
// whose transitions are computed with the RRULE engine and loaded as TZif
// data.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones even where the system has no zoneinfo
)

var (
	zoneCacheMu sync.Mutex
	ianaCache   = map[string]*time.Location{} // nil value: not an IANA name
	customCache = map[string]*time.Location{}
)

const (
	maxIANACache   = 4096
	maxCustomCache = 512
)

// ianaZone returns the Go zone for an IANA name, nil when there is none.
func ianaZone(name string) *time.Location {
	if name == "" || name == "Local" || len(name) > 128 {
		return nil
	}
	zoneCacheMu.Lock()
	loc, ok := ianaCache[name]
	zoneCacheMu.Unlock()
	if ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = nil
	}
	zoneCacheMu.Lock()
	if len(ianaCache) < maxIANACache {
		ianaCache[name] = loc
	}
	zoneCacheMu.Unlock()
	return loc
}

// zoneResolver resolves the TZIDs of one object.
type zoneResolver struct {
	vtz  map[string]*calComp
	locs map[string]*time.Location
	w    *work // for the rules of VTIMEZONEs
}

func newZoneResolver(root *calComp, w *work) *zoneResolver {
	z := &zoneResolver{w: w}
	for _, c := range root.Children {
		if c.Name != "VTIMEZONE" {
			continue
		}
		if p := c.prop("TZID"); p != nil {
			if z.vtz == nil {
				z.vtz = map[string]*calComp{}
			}
			z.vtz[p.Value] = c
		}
	}
	return z
}

// resolve returns the zone of a TZID: an IANA name, else the object's
// VTIMEZONE of that TZID, else an IANA name found as a suffix of a
// "/vendor/…/Area/City" style TZID.
func (z *zoneResolver) resolve(tzid string) (*time.Location, error) {
	if loc, ok := z.locs[tzid]; ok {
		return loc, nil
	}
	loc := ianaZone(tzid)
	if loc == nil {
		if vt := z.vtz[tzid]; vt != nil {
			var err error
			loc, err = customZone(tzid, vt, z.w)
			if err != nil {
				return nil, err
			}
		}
	}
	if loc == nil && strings.Contains(tzid, "/") {
		for i := 0; i < len(tzid) && loc == nil; i++ {
			if tzid[i] == '/' && i+1 < len(tzid) {
				loc = ianaZone(tzid[i+1:])
			}
		}
	}
	if loc == nil {
		return nil, fmt.Errorf("unknown time zone %q", tzid)
	}
	if z.locs == nil {
		z.locs = map[string]*time.Location{}
	}
	z.locs[tzid] = loc
	return loc, nil
}

// customZone builds a *time.Location from a VTIMEZONE definition by
// computing its transitions (STANDARD/DAYLIGHT onsets from DTSTART, RRULE
// and RDATE, up to 2200) and loading them as TZif data.
func customZone(tzid string, vt *calComp, w *work) (*time.Location, error) {
	var key strings.Builder
	key.WriteString(tzid)
	for _, ch := range vt.Children {
		key.WriteString("\x00" + ch.Name)
		for _, p := range ch.Props {
			key.WriteString("\x01" + p.Name + "\x02" + p.Value)
		}
	}
	k := key.String()
	zoneCacheMu.Lock()
	loc, ok := customCache[k]
	zoneCacheMu.Unlock()
	if ok {
		return loc, nil
	}
	loc, err := buildCustomZone(tzid, vt, w)
	if err != nil {
		return nil, err
	}
	zoneCacheMu.Lock()
	if len(customCache) >= maxCustomCache {
		customCache = map[string]*time.Location{}
	}
	customCache[k] = loc
	zoneCacheMu.Unlock()
	return loc, nil
}

type zoneTransition struct {
	when   int64 // unix seconds
	offset int
	dst    bool
	name   string
}

var (
	zoneHorizon = daysFromCivil(2200, 1, 1) * 86400
	zoneFrom    = daysFromCivil(1850, 1, 1) * 86400
)

func buildCustomZone(tzid string, vt *calComp, w *work) (*time.Location, error) {
	var trans []zoneTransition
	for _, ob := range vt.Children {
		if ob.Name != "STANDARD" && ob.Name != "DAYLIGHT" {
			continue
		}
		dp, fp, tp := ob.prop("DTSTART"), ob.prop("TZOFFSETFROM"), ob.prop("TZOFFSETTO")
		if dp == nil || fp == nil || tp == nil {
			return nil, dataError(ob.Line, "VTIMEZONE %s: %s needs DTSTART, TZOFFSETFROM and TZOFFSETTO", tzid, ob.Name)
		}
		start, err := parseDTString(dp.Value, "", nil)
		if err != nil {
			return nil, dataError(dp.Line, "VTIMEZONE %s: bad DTSTART %q", tzid, dp.Value)
		}
		from, ok1 := parseUTCOffset(fp.Value)
		to, ok2 := parseUTCOffset(tp.Value)
		if !ok1 || !ok2 {
			return nil, dataError(fp.Line, "VTIMEZONE %s: bad UTC offset", tzid)
		}
		name := sanitizeAbbrev(ob.text("TZNAME"), to)
		dst := ob.Name == "DAYLIGHT"
		add := func(wall int64) {
			trans = append(trans, zoneTransition{when: wall - int64(from), offset: to, dst: dst, name: name})
		}
		onsetWall := start.Wall
		add(onsetWall)
		n := 0
		for i := range ob.Props {
			p := &ob.Props[i]
			switch p.Name {
			case "RRULE":
				r, err := parseRRule(p.Value)
				if err != nil {
					return nil, dataError(p.Line, "VTIMEZONE %s: RRULE: %v", tzid, err)
				}
				it := newRuleIter(r, dtValue{Wall: onsetWall, Loc: time.FixedZone("", from)}, w)
				if onsetWall < zoneFrom {
					it.seek(zoneFrom)
				}
				for n < 2000 {
					t, ok := it.next()
					if !ok || t > zoneHorizon {
						break
					}
					if t != onsetWall {
						add(t)
						n++
					}
				}
				if it.Exhausts {
					if w.err != nil {
						return nil, w.err
					}
					return nil, dataError(p.Line, "VTIMEZONE %s: RRULE %s cannot be expanded within the server's limits", tzid, ruleText(p.Value))
				}
			case "RDATE":
				for _, s := range strings.Split(p.Value, ",") {
					v, err := parseDTString(s, "", nil)
					if err != nil || n >= 2000 {
						continue
					}
					add(v.Wall)
					n++
				}
			}
		}
	}
	if len(trans) == 0 {
		return nil, dataError(vt.Line, "VTIMEZONE %s has no STANDARD or DAYLIGHT", tzid)
	}
	sort.SliceStable(trans, func(i, j int) bool { return trans[i].when < trans[j].when })
	// Offset before the first transition: the TZOFFSETFROM of the earliest
	// onset, i.e. the instant plus the wall difference.
	first := trans[0]
	initial := zoneTransition{offset: first.offset, dst: !first.dst}
	for _, ob := range vt.Children {
		if ob.Name != "STANDARD" && ob.Name != "DAYLIGHT" {
			continue
		}
		if f, ok := parseUTCOffset(ob.prop("TZOFFSETFROM").Value); ok {
			if v, err := parseDTString(ob.prop("DTSTART").Value, "", nil); err == nil && v.Wall-int64(f) == first.when {
				initial.offset = f
				break
			}
		}
	}
	initial.name = sanitizeAbbrev("", initial.offset)
	data, err := tzifData(initial, trans)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocationFromTZData(tzid, data)
	if err != nil {
		return nil, dataError(vt.Line, "VTIMEZONE %s: %v", tzid, err)
	}
	return loc, nil
}

func sanitizeAbbrev(s string, offset int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 10; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' {
			b.WriteByte(c)
		}
	}
	if b.Len() >= 3 {
		return b.String()
	}
	sign := '+'
	if offset < 0 {
		sign = '-'
		offset = -offset
	}
	if offset%3600 == 0 {
		return fmt.Sprintf("%c%02d", sign, offset/3600)
	}
	return fmt.Sprintf("%c%02d%02d", sign, offset/3600, offset/60%60)
}

// tzifData encodes transitions as TZif version 2 data. Type 0 is the
// initial offset and is never the target of a transition, so Go uses it
// for instants before the first transition.
func tzifData(initial zoneTransition, trans []zoneTransition) ([]byte, error) {
	type ttinfo struct {
		off  int
		dst  bool
		name string
	}
	types := []ttinfo{{initial.offset, initial.dst, initial.name}}
	index := map[ttinfo]int{}
	var chars []byte
	charIdx := map[string]int{}
	abbr := func(s string) int {
		if i, ok := charIdx[s]; ok {
			return i
		}
		i := len(chars)
		chars = append(chars, s...)
		chars = append(chars, 0)
		charIdx[s] = i
		return i
	}
	abbr(initial.name)
	var times []int64
	var idx []byte
	for _, t := range trans {
		tt := ttinfo{t.offset, t.dst, t.name}
		i, ok := index[tt]
		if !ok {
			if len(types) >= 250 {
				return nil, errors.New("VTIMEZONE has too many distinct offsets")
			}
			i = len(types)
			types = append(types, tt)
			index[tt] = i
			abbr(t.name)
		}
		if n := len(times); n > 0 && times[n-1] == t.when {
			idx[n-1] = byte(i)
			continue
		}
		times = append(times, t.when)
		idx = append(idx, byte(i))
	}
	if len(chars) > 255 {
		return nil, errors.New("VTIMEZONE has too many names")
	}
	var b bytes.Buffer
	put32 := func(v uint32) { _ = binary.Write(&b, binary.BigEndian, v) }
	header := func(timecnt, typecnt, charcnt int) {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		put32(0) // isutcnt
		put32(0) // isstdcnt
		put32(0) // leapcnt
		put32(uint32(timecnt))
		put32(uint32(typecnt))
		put32(uint32(charcnt))
	}
	// Version 1 part: a single type, no transitions.
	header(0, 1, 1)
	b.Write([]byte{0, 0, 0, 0, 0, 0})
	b.WriteByte(0)
	// Version 2 part.
	header(len(times), len(types), len(chars))
	for _, t := range times {
		_ = binary.Write(&b, binary.BigEndian, t)
	}
	b.Write(idx)
	for _, t := range types {
		put32(uint32(int32(t.off)))
		if t.dst {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
		b.WriteByte(byte(charIdx[t.name]))
	}
	b.Write(chars)
	b.WriteString("\n\n")
	return b.Bytes(), nil
}
