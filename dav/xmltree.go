package dav

import (
	"bytes"
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
const (
	maxXMLDepth = 64
	maxXMLNodes = 200000
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

var errBadXML = errors.New("malformed XML")

// parseXML reads one XML document. Go's decoder does not expand entities
// declared in a DOCTYPE, so entity bombs fail as undefined entities.
func parseXML(r io.Reader) (*node, error) {
	d := xml.NewDecoder(r)
	var stack []*node
	var root *node
	count := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if count > maxXMLNodes || len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("%w: document too large or too deep", errBadXML)
			}
			if !validName(t.Name.Local) || t.Name.Space == nsXML {
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
				n.Attr = append(n.Attr, a)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", errBadXML)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
				p.parts = append(p.parts, part{child: n})
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, fmt.Errorf("%w: text outside the root element", errBadXML)
				}
				continue
			}
			p := stack[len(stack)-1]
			p.Text += string(t)
			if k := len(p.parts) - 1; k >= 0 && p.parts[k].child == nil {
				p.parts[k].text += string(t)
			} else {
				p.parts = append(p.parts, part{text: string(t)})
			}
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
