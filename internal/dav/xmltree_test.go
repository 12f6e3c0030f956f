package dav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// xmlAttack builds a PROPFIND body of about size bytes whose display name
// repeats unit: the shapes of input that cost Go's decoder, or our tree,
// more than their size.
func xmlAttack(unit string, size int) []byte {
	const head = `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>`
	const tail = `</D:displayname></D:prop></D:propfind>`
	var b bytes.Buffer
	b.WriteString(head)
	for b.Len()+len(unit)+len(tail) <= size {
		b.WriteString(unit)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// xmlAttackAttrs builds one element with as many attributes (or namespace
// declarations) as fit in size bytes.
func xmlAttackAttrs(format string, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<D:propfind xmlns:D="DAV:"><D:prop><D:displayname`)
	for i := 0; b.Len() < size-64; i++ {
		fmt.Fprintf(&b, format, i, i)
	}
	b.WriteString(`/></D:prop></D:propfind>`)
	return b.Bytes()
}

// xmlAttackNested declares a namespace on each of depth nested elements,
// repeated until size bytes.
func xmlAttackNested(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<D:propfind xmlns:D="DAV:"><D:prop>`)
	for i := 0; b.Len() < size-4096; i++ {
		for j := 0; j < 32; j++ {
			fmt.Fprintf(&b, `<p%d:x xmlns:p%d="urn:x:%d" xmlns:q="urn:q:%d">`, j, j, i, j)
		}
		for j := 31; j >= 0; j-- {
			fmt.Fprintf(&b, `</p%d:x>`, j)
		}
	}
	b.WriteString(`</D:prop></D:propfind>`)
	return b.Bytes()
}

type xmlAttackCase struct {
	name string
	body func(size int) []byte
}

var xmlAttacks = []xmlAttackCase{
	{name: "comments", body: func(n int) []byte { return xmlAttack("xxxxxxx<!---->", n) }},
	{name: "pis", body: func(n int) []byte { return xmlAttack("x<?p?>", n) }},
	{name: "cdata", body: func(n int) []byte { return xmlAttack("x<![CDATA[y]]>", n) }},
	{name: "directives", body: func(n int) []byte { return xmlAttack("x<!x>", n) }},
	{name: "amp", body: func(n int) []byte { return xmlAttack("&amp;", n) }},
	{name: "charref", body: func(n int) []byte { return xmlAttack("&#x41;", n) }},
	{name: "text", body: func(n int) []byte { return xmlAttack("xxxxxxxxxxxxxxxx", n) }},
	{name: "elements", body: func(n int) []byte { return xmlAttack("<a/>", n) }},
	{name: "attrs", body: func(n int) []byte { return xmlAttackAttrs(` a%d="%d"`, n) }},
	{name: "nsdecls", body: func(n int) []byte { return xmlAttackAttrs(` xmlns:p%d="urn:%d"`, n) }},
	{name: "nested-ns", body: xmlAttackNested},
	{name: "long-name", body: func(n int) []byte {
		return []byte(`<D:propfind xmlns:D="DAV:"><D:prop><D:` + strings.Repeat("n", n) + `/></D:prop></D:propfind>`)
	}},
}

// BenchmarkParseXMLAttack parses each attack at 256 KiB and at the 4 MiB
// body limit; linear parsing costs 16 times more for the larger one.
func BenchmarkParseXMLAttack(b *testing.B) {
	for _, size := range []int{256 << 10, maxXMLBody} {
		for _, a := range xmlAttacks {
			body := a.body(size)
			b.Run(fmt.Sprintf("%s/%dKiB", a.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					_, _ = parseXML(context.Background(), bytes.NewReader(body))
				}
			})
		}
	}
}

// cancelAfter cancels a context once n bytes have been read, and counts
// what was read.
type cancelAfter struct {
	r      io.Reader
	n      int
	read   int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.read += n; c.read >= c.n {
		c.cancel()
	}
	return n, err
}

// Parsing looks at the context as it goes, not only before it starts.
func TestParseXMLStopsWhenCancelled(t *testing.T) {
	body := xmlAttack("x<!---->", 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelAfter{r: bytes.NewReader(body), n: 64 << 10, cancel: cancel}
	_, err := parseXML(ctx, r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	// A look every ctxEvery tokens, 8 bytes each, plus the decoder's buffer.
	if slack := ctxEvery*8 + 8<<10; r.read > r.n+slack {
		t.Errorf("read %d bytes, want at most %d after the cancel at %d", r.read, r.n+slack, r.n)
	}
}

// sameTree reports whether two trees hold the same names, attributes and
// content in the same order.
func sameTree(a, b *node) bool {
	if a.Name != b.Name || a.Text != b.Text || len(a.Attr) != len(b.Attr) || len(a.parts) != len(b.parts) || len(a.Children) != len(b.Children) {
		return false
	}
	for i := range a.Attr {
		if a.Attr[i] != b.Attr[i] {
			return false
		}
	}
	for i := range a.parts {
		pa, pb := a.parts[i], b.parts[i]
		if pa.text != pb.text || (pa.child == nil) != (pb.child == nil) || (pa.child != nil && !sameTree(pa.child, pb.child)) {
			return false
		}
	}
	return true
}

// FuzzParseXML feeds the reader alone, from documents in the attack shapes:
// it must stay within budget, keep to its limits, and what it accepts must
// come back the same when written out and read again (dead properties are
// stored that way).
func FuzzParseXML(f *testing.F) {
	// Small seeds: the fuzzer minimises what it finds, which takes long
	// on large inputs. Size is tested by BenchmarkParseXMLAttack and
	// TestRequestXMLAttacksWithinBudget.
	for _, a := range xmlAttacks {
		f.Add(a.body(2 << 10))
	}
	f.Add([]byte(`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Q:dead xmlns:Q="urn:q" Q:attr="&amp;&#x41;" xml:lang="en">a<!--c-->b<?pi x?>c<![CDATA[<d>]]>&#65;<Q:kid xmlns="">mixed<Q:more/>text&lt;</Q:kid>tail</Q:dead></D:prop></D:set></D:propertyupdate>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "&#x26;#x41;">]><x xmlns="urn:x" a="1&#10;2&#9;3&#13;">` + strings.Repeat("&amp;&lt;&gt;&quot;&apos;&#x10FFFF;&#0065;<!-- -->", 100) + `</x>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n *node
		var err error
		WithinBudget(t, fmt.Sprintf("parsing %d bytes", len(data)), func() {
			n, err = parseXML(context.Background(), bytes.NewReader(data))
		})
		if err != nil {
			if !errors.Is(err, errBadXML) && !errors.Is(err, errXMLLimit) {
				t.Fatalf("error %v is neither malformed nor over limits", err)
			}
			return
		}
		var b strings.Builder
		n.writeTo(&b)
		again, err := parseXML(context.Background(), strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("written out, the document no longer parses: %v\n%s", err, b.String())
		}
		if !sameTree(n, again) {
			t.Fatalf("written out and read again, the document changed:\n%q\n%q", data, b.String())
		}
	})
}
