package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Namespaces the server speaks.
const (
	nsDAV     = "DAV:"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsCS      = "http://calendarserver.org/ns/"
	nsApple   = "http://apple.com/ns/ical/"
	nsInfIT   = "http://inf-it.com/ns/ab/"
	nsRolodav = "https://rolodav.org/ns/"
)

// Limits on request documents: a client needs far less, an attacker more.
// Markup the tree drops (comments, processing instructions, directives)
// and attributes count as tokens too, so that every part of a document
// costs its share of the budget.
const (
	maxXMLDepth  = 64
	maxXMLNodes  = 50000 // elements; a multiget of 50 000 hrefs is far more than clients send
	maxXMLTokens = 4 * maxXMLNodes
	// maxXMLText bounds the character data and attribute values kept, and
	// the bytes the decoder may read for one token: Go's decoder holds a
	// whole start tag, with all its attributes, in memory at once.
	maxXMLText = 1 << 20
	// ctxEvery is how many tokens are read between looks at the context.
	ctxEvery = 256
)

// node is one element of a request document, with names resolved to their
// namespaces. Requests are small, so a tree is simpler than streaming.
type node struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*node
	Text     string // character data directly inside this element
	// parts keeps text and children in document order, so that a dead
	// property with mixed content is stored exactly as sent.
	parts []part
}

type part struct {
	text  string
	child *node
}

const nsXML = "http://www.w3.org/XML/1998/namespace"

// validName reports whether s is an XML NCName. Go's decoder accepts names
// such as ":x" or "1st" that namespace-aware clients reject, and property
// names from requests end up in answers.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd)):
		default:
			return false
		}
	}
	return true
}

var (
	errBadXML   = errors.New("malformed XML")
	errXMLLimit = errors.New("XML document over limits")
)

// tokenReader feeds the decoder at most left bytes until the next reset, so
// that no single token (a start tag with a million attributes, a text run
// of entities) costs more than maxXMLText. The decoder reads ahead through
// a 4 KiB buffer, which only makes the limit that much looser.
type tokenReader struct {
	r    io.Reader
	left int
}

func (t *tokenReader) Read(p []byte) (int, error) {
	if t.left <= 0 {
		return 0, fmt.Errorf("%w: a tag or text run longer than %d bytes", errXMLLimit, maxXMLText)
	}
	if len(p) > t.left {
		p = p[:t.left]
	}
	n, err := t.r.Read(p)
	t.left -= n
	return n, err
}

// frame is an open element and the text read since its last child; text is
// gathered in one buffer and cut into parts only at child boundaries, as
// string concatenation per token is quadratic in text split by comments.
type frame struct {
	n   *node
	run []byte
}

// flush ends the current text run.
func (f *frame) flush() {
	if len(f.run) > 0 {
		f.n.parts = append(f.n.parts, part{text: string(f.run)})
		f.run = f.run[:0]
	}
}

// finish sets Text from the text parts once the element is closed.
func (f *frame) finish() {
	f.flush()
	size, count, last := 0, 0, ""
	for _, p := range f.n.parts {
		if p.child == nil {
			size, count, last = size+len(p.text), count+1, p.text
		}
	}
	if count <= 1 {
		f.n.Text = last
		return
	}
	var b strings.Builder
	b.Grow(size)
	for _, p := range f.n.parts {
		if p.child == nil {
			b.WriteString(p.text)
		}
	}
	f.n.Text = b.String()
}

// parseXML reads one XML document within the limits above, and stops when
// ctx ends. Go's decoder does not expand entities declared in a DOCTYPE, so
// entity bombs fail as undefined entities.
func parseXML(ctx context.Context, r io.Reader) (*node, error) {
	tr := &tokenReader{r: r}
	d := xml.NewDecoder(tr)
	var stack []frame
	var root *node
	elements, tokens, text, nextCheck := 0, 0, 0, 0
	for ; ; tokens++ {
		if tokens >= nextCheck {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("reading XML: %w", err)
			}
			nextCheck = tokens + ctxEvery
		}
		if tokens > maxXMLTokens {
			return nil, fmt.Errorf("%w: more than %d tokens (elements, attributes, text runs, comments)", errXMLLimit, maxXMLTokens)
		}
		tr.left = maxXMLText
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errXMLLimit) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			tokens += len(t.Attr)
			switch {
			case elements > maxXMLNodes:
				return nil, fmt.Errorf("%w: more than %d elements", errXMLLimit, maxXMLNodes)
			case len(stack) >= maxXMLDepth:
				return nil, fmt.Errorf("%w: elements nested more than %d deep", errXMLLimit, maxXMLDepth)
			case !validName(t.Name.Local) || t.Name.Space == nsXML:
				return nil, fmt.Errorf("%w: invalid element name %q", errBadXML, t.Name.Local)
			}
			n := &node{Name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if !validName(a.Name.Local) {
					return nil, fmt.Errorf("%w: invalid attribute name %q", errBadXML, a.Name.Local)
				}
				if text += len(a.Value); text > maxXMLText {
					return nil, fmt.Errorf("%w: more than %d bytes of text", errXMLLimit, maxXMLText)
				}
				n.Attr = append(n.Attr, a)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errBadXML)
				}
				root = n
			} else {
				p := &stack[len(stack)-1]
				p.flush()
				p.n.Children = append(p.n.Children, n)
				p.n.parts = append(p.n.parts, part{child: n})
			}
			stack = append(stack, frame{n: n})
		case xml.EndElement:
			stack[len(stack)-1].finish()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, fmt.Errorf("%w: text outside the root element", errBadXML)
				}
				continue
			}
			if text += len(t); text > maxXMLText {
				return nil, fmt.Errorf("%w: more than %d bytes of text", errXMLLimit, maxXMLText)
			}
			p := &stack[len(stack)-1]
			p.run = append(p.run, t...)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: empty document", errBadXML)
	}
	return root, nil
}

func (n *node) is(space, local string) bool {
	return n != nil && n.Name.Space == space && n.Name.Local == local
}

// child returns the first child with the given name, or nil.
func (n *node) child(space, local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.is(space, local) {
			return c
		}
	}
	return nil
}

func (n *node) attr(local string) string {
	for _, a := range n.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

func (n *node) text() string { return strings.TrimSpace(n.Text) }

// innerXML re-serialises the element's content with every namespace declared
// where it is used, so it stays valid wherever it is written later.
func (n *node) innerXML() string {
	var b strings.Builder
	n.writeParts(&b)
	return b.String()
}

func (n *node) writeParts(b *strings.Builder) {
	for _, p := range n.parts {
		if p.child != nil {
			p.child.writeTo(b)
		} else {
			xml.EscapeText(b, []byte(p.text))
		}
	}
}

// writeTo writes the element with its namespace as the default one, which
// also resets it to none for elements in no namespace.
func (n *node) writeTo(b *strings.Builder) {
	b.WriteString("<")
	b.WriteString(n.Name.Local)
	b.WriteString(` xmlns="`)
	xml.EscapeText(b, []byte(n.Name.Space))
	b.WriteString(`"`)
	for i, a := range n.Attr {
		switch a.Name.Space {
		case "":
			b.WriteString(" ")
		case nsXML:
			b.WriteString(" xml:")
		default:
			fmt.Fprintf(b, ` xmlns:a%d="`, i)
			xml.EscapeText(b, []byte(a.Name.Space))
			fmt.Fprintf(b, `" a%d:`, i)
		}
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
	if len(n.parts) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	n.writeParts(b)
	b.WriteString("</")
	b.WriteString(n.Name.Local)
	b.WriteString(">")
}

// propKey is how dead properties are keyed in the store: "{namespace}local".
func propKey(n xml.Name) string { return "{" + n.Space + "}" + n.Local }

func parsePropKey(k string) (xml.Name, bool) {
	if !strings.HasPrefix(k, "{") {
		return xml.Name{}, false
	}
	i := strings.IndexByte(k, '}')
	if i < 0 {
		return xml.Name{}, false
	}
	return xml.Name{Space: k[1:i], Local: k[i+1:]}, true
}
