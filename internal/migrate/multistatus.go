package migrate

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds of the XML read from a source: a hostile or broken server must
// not make the migration hold more than one object (and some margin) in
// memory, nor parse forever inside one response.
const (
	maxXMLDepth = 24
	// maxResponseTokens bounds the tokens (elements, text, comments) of
	// one DAV:response, and those between two responses.
	maxResponseTokens = 10_000
	// smallToken bounds a token outside an object's data (an href, an
	// ETag, markup): a few KiB in practice.
	smallToken = 64 << 10
	// dataSlack is what an object's data may exceed MaxObjectSize by in
	// the XML before reading stops: its escapes (&amp;) and markup.
	dataSlack = 64 << 10
	// maxSmallText bounds the text of a property that is not an object.
	maxSmallText = 16 << 10
)

// XML names read from sources.
const (
	nsDAV     = "DAV:"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsApple   = "http://apple.com/ns/ical/"
	nsInfIT   = "http://inf-it.com/ns/ab/"
)

var (
	errTooLarge   = errors.New("an XML token or text over the size limit")
	errXMLTooDeep = fmt.Errorf("XML nested deeper than %d elements", maxXMLDepth)
	errXMLTokens  = fmt.Errorf("more than %d XML tokens in one response", maxResponseTokens)
)

// boundedReader is what the XML decoder reads through: it counts the
// bytes read since the decoder's last token (reset) and fails past limit,
// so that no single token (a text, a tag with its attributes) is buffered
// whole when it is too big; and the bytes of the whole answer, past
// maxTotal when that is set.
type boundedReader struct {
	r          *bufio.Reader
	n, limit   int64
	total, max int64 // max 0: no bound on the whole answer
}

func newBoundedReader(r io.Reader, maxTotal int64) *boundedReader {
	return &boundedReader{r: bufio.NewReaderSize(r, 32<<10), limit: smallToken, max: maxTotal}
}

func (b *boundedReader) count(k int) error {
	b.n += int64(k)
	b.total += int64(k)
	if b.n > b.limit {
		return errTooLarge
	}
	if b.max > 0 && b.total > b.max {
		return fmt.Errorf("an answer longer than %d bytes", b.max)
	}
	return nil
}

// ReadByte is what encoding/xml reads with (it uses an io.ByteReader as is).
func (b *boundedReader) ReadByte() (byte, error) {
	c, err := b.r.ReadByte()
	if err != nil {
		return c, err
	}
	return c, b.count(1)
}

func (b *boundedReader) Read(p []byte) (int, error) {
	k, err := b.r.Read(p)
	if err == nil {
		err = b.count(k)
	}
	return k, err
}

// davResponse is one DAV:response of a multistatus.
type davResponse struct {
	hrefs  []string
	status int // the response's own status; 0 when it has propstats
	props  []davProp
}

// davProp is a property of a response (with the status of its propstat),
// or an element inside one.
type davProp struct {
	name     xml.Name
	status   int
	attrs    []xml.Attr
	text     []byte // its character data, children's left out
	children []davProp
}

// prop returns r's property n with a 2xx status, nil when it has none.
func (r *davResponse) prop(space, local string) *davProp {
	for i := range r.props {
		p := &r.props[i]
		if p.name.Space == space && p.name.Local == local && p.status/100 == 2 {
			return p
		}
	}
	return nil
}

// child returns p's first child element n, nil when none.
func (p *davProp) child(space, local string) *davProp {
	for i := range p.children {
		c := &p.children[i]
		if c.name.Space == space && c.name.Local == local {
			return c
		}
	}
	return nil
}

// str is p's text without surrounding white space.
func (p *davProp) str() string {
	if p == nil {
		return ""
	}
	return string(bytes.TrimSpace(p.text))
}

// msReader reads a DAV:multistatus one response at a time, holding only
// that response.
type msReader struct {
	d *xml.Decoder
	b *boundedReader
	// maxData bounds the text of the properties in dataProps (an
	// object's data); any other text is bounded by maxSmallText.
	maxData   int64
	dataProps map[xml.Name]bool
	depth     int
	tokens    int
	started   bool
	// syncToken is the multistatus's DAV:sync-token, once read.
	syncToken string
}

// newMSReader reads the multistatus r. maxTotal bounds the whole answer
// (0: no bound, for the streamed listings).
func newMSReader(r io.Reader, maxTotal, maxData int64, dataProps ...xml.Name) *msReader {
	b := newBoundedReader(r, maxTotal)
	d := xml.NewDecoder(b)
	// Sources declare utf-8 or nothing; a declared ISO-8859-1 is read as
	// is rather than refused (its bytes are then not UTF-8, and the
	// import reports the object).
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	m := &msReader{d: d, b: b, maxData: maxData, dataProps: map[xml.Name]bool{}}
	for _, n := range dataProps {
		m.dataProps[n] = true
	}
	return m
}

// token returns the next token, counted and bounded.
func (m *msReader) token() (xml.Token, error) {
	m.b.n = 0
	t, err := m.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if errors.Is(err, errTooLarge) {
			return nil, errTooLarge
		}
		return nil, err
	}
	m.tokens++
	if m.tokens > maxResponseTokens {
		return nil, errXMLTokens
	}
	switch t.(type) {
	case xml.StartElement:
		m.depth++
		if m.depth > maxXMLDepth {
			return nil, errXMLTooDeep
		}
	case xml.EndElement:
		m.depth--
	}
	return t, nil
}

// next reads the next response into r (its slices reused), io.EOF at the
// end of the multistatus. A DAV:sync-token on the way is kept.
func (m *msReader) next(r *davResponse) error {
	if !m.started {
		if err := m.start(); err != nil {
			return err
		}
	}
	m.tokens = 0
	for {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == nsDAV && t.Name.Local == "response":
				return m.response(r)
			case t.Name.Space == nsDAV && t.Name.Local == "sync-token":
				b, err := m.text(maxSmallText)
				if err != nil {
					return err
				}
				m.syncToken = string(bytes.TrimSpace(b))
			default:
				if err := m.skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			return io.EOF // of the multistatus: the decoder checks that tags match
		}
	}
}

// start reads up to the multistatus element.
func (m *msReader) start() error {
	for {
		t, err := m.token()
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				return errors.New("an empty answer where a multistatus was expected")
			}
			return err
		}
		if s, ok := t.(xml.StartElement); ok {
			if s.Name.Space != nsDAV || s.Name.Local != "multistatus" {
				return fmt.Errorf("a <%s> where a DAV multistatus was expected", s.Name.Local)
			}
			m.started = true
			return nil
		}
	}
}

func (m *msReader) response(r *davResponse) error {
	r.hrefs, r.status, r.props = r.hrefs[:0], 0, r.props[:0]
	for {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			var err error
			switch {
			case t.Name.Space != nsDAV:
				err = m.skip()
			case t.Name.Local == "href":
				var b []byte
				if b, err = m.text(maxSmallText); err == nil {
					r.hrefs = append(r.hrefs, string(bytes.TrimSpace(b)))
				}
			case t.Name.Local == "status":
				r.status, err = m.status()
			case t.Name.Local == "propstat":
				err = m.propstat(r)
			default:
				err = m.skip()
			}
			if err != nil {
				return err
			}
		case xml.EndElement:
			if len(r.hrefs) == 0 {
				return errors.New("a response without an href")
			}
			return nil
		}
	}
}

func (m *msReader) propstat(r *davResponse) error {
	first := len(r.props)
	status := 0
	for {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == nsDAV && t.Name.Local == "prop":
				err = m.props(r)
			case t.Name.Space == nsDAV && t.Name.Local == "status":
				status, err = m.status()
			default:
				err = m.skip()
			}
			if err != nil {
				return err
			}
		case xml.EndElement:
			// The status may come before or after the prop (Xandikos
			// puts it first).
			for i := first; i < len(r.props); i++ {
				r.props[i].status = status
			}
			return nil
		}
	}
}

func (m *msReader) props(r *davResponse) error {
	for {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			p, err := m.element(t)
			if err != nil {
				return err
			}
			r.props = append(r.props, p)
		case xml.EndElement:
			return nil
		}
	}
}

// element reads the element s started, with its text and children.
func (m *msReader) element(s xml.StartElement) (davProp, error) {
	p := davProp{name: s.Name}
	if len(s.Attr) > 0 {
		p.attrs = append([]xml.Attr(nil), s.Attr...)
	}
	max := int64(maxSmallText)
	if m.dataProps[s.Name] {
		max = m.maxData
		m.b.limit = m.maxData + dataSlack
		defer func() { m.b.limit = smallToken }()
	}
	for {
		t, err := m.token()
		if err != nil {
			return p, err
		}
		switch t := t.(type) {
		case xml.CharData:
			if int64(len(p.text)+len(t)) > max {
				return p, errTooLarge
			}
			p.text = append(p.text, t...)
		case xml.StartElement:
			c, err := m.element(t)
			if err != nil {
				return p, err
			}
			p.children = append(p.children, c)
		case xml.EndElement:
			return p, nil
		}
	}
}

// text reads the text of the element just started, and its end.
func (m *msReader) text(max int) ([]byte, error) {
	var b []byte
	for {
		t, err := m.token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.CharData:
			if len(b)+len(t) > max {
				return nil, errTooLarge
			}
			b = append(b, t...)
		case xml.StartElement:
			if err := m.skip(); err != nil {
				return nil, err
			}
		case xml.EndElement:
			return b, nil
		}
	}
}

// status reads a DAV:status ("HTTP/1.1 200 OK") and returns its code.
func (m *msReader) status() (int, error) {
	b, err := m.text(maxSmallText)
	if err != nil {
		return 0, err
	}
	return parseStatusLine(string(b))
}

func parseStatusLine(s string) (int, error) {
	f := strings.Fields(s)
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		if code, err := strconv.Atoi(f[1]); err == nil && code >= 100 && code <= 999 {
			return code, nil
		}
	}
	return 0, fmt.Errorf("a status %q that does not read as HTTP/1.1 <code> <text>", s)
}

// skip reads past the element just started.
func (m *msReader) skip() error {
	for depth := 1; depth > 0; {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch t.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}
