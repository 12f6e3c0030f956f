package calendars

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Joiner streams many calendar objects into one .ics (the export of a whole
// calendar): the VCALENDAR header once (VERSION:2.0, a rolodav PRODID,
// CALSCALE:GREGORIAN, X-WR-CALNAME when a name is given), then per object
// the VTIMEZONEs it holds that were not written yet (distinct by TZID; the
// first definition wins) followed by its other components, and END:VCALENDAR
// on Close. The objects' own calendar properties (PRODID, METHOD, …) are
// dropped. Output uses CRLF and lines folded at 75 octets. Split reverses
// it.
type Joiner struct {
	w       io.Writer
	name    string
	started bool
	closed  bool
	tzids   map[string]bool
	err     error // the first write error, returned from then on
	buf     bytes.Buffer
}

// NewJoiner returns a Joiner writing to w; name becomes X-WR-CALNAME
// (omitted when empty). Nothing is written before the first Add or Close.
func NewJoiner(w io.Writer, name string) *Joiner {
	return &Joiner{w: w, name: name, tzids: map[string]bool{}}
}

func (j *Joiner) header() {
	if j.started {
		return
	}
	j.started = true
	writeLine(&j.buf, "BEGIN:VCALENDAR")
	writeLine(&j.buf, "VERSION:2.0")
	writeLine(&j.buf, "PRODID:"+sjProdID)
	writeLine(&j.buf, "CALSCALE:GREGORIAN")
	if j.name != "" {
		writeLine(&j.buf, "X-WR-CALNAME:"+sjEscapeText(j.name))
	}
}

// Add writes the components of one calendar object (a single VCALENDAR).
// An object that does not parse is an error and nothing of it is written;
// the Joiner stays usable. A write error is returned by this and every
// later call.
func (j *Joiner) Add(obj []byte) error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return errors.New("calendars: Joiner.Add after Close")
	}
	cals, err := sjParse(obj)
	if err != nil {
		return err
	}
	if len(cals) != 1 {
		return fmt.Errorf("calendars: a calendar object holds exactly one VCALENDAR, not %d", len(cals))
	}
	j.buf.Reset()
	j.header()
	var newTZ []string
	for _, c := range cals[0].comps {
		if c.name != "VTIMEZONE" {
			continue
		}
		p, ok := c.prop("TZID")
		if !ok {
			continue
		}
		id := string(p.value())
		if j.tzids[id] || sjContains(newTZ, id) {
			continue
		}
		newTZ = append(newTZ, id)
		sjWriteComp(&j.buf, c)
	}
	for _, c := range cals[0].comps {
		if c.name != "VTIMEZONE" {
			sjWriteComp(&j.buf, c)
		}
	}
	if err := j.flush(); err != nil {
		return err
	}
	for _, id := range newTZ {
		j.tzids[id] = true
	}
	return nil
}

// Close writes the end of the calendar (and its header when nothing was
// added). It does not close the underlying writer. Later calls do nothing.
func (j *Joiner) Close() error {
	if j.err != nil {
		return j.err
	}
	if j.closed {
		return nil
	}
	j.closed = true
	j.buf.Reset()
	j.header()
	writeLine(&j.buf, "END:VCALENDAR")
	return j.flush()
}

func (j *Joiner) flush() error {
	if _, err := j.w.Write(j.buf.Bytes()); err != nil {
		j.err = err
		return err
	}
	j.buf.Reset()
	return nil
}

var sjTextEscaper = strings.NewReplacer(`\`, `\\`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`, ",", `\,`, ";", `\;`)

// sjEscapeText escapes a TEXT value (RFC 5545 3.3.11).
func sjEscapeText(s string) string { return sjTextEscaper.Replace(s) }
