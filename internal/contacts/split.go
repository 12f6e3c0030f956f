package contacts

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"

	"github.com/rolodav/rolodav/internal/contentline"
)

// Split reads a .vcf stream holding any number of cards and calls fn with
// each card's bytes (a complete BEGIN:VCARD…END:VCARD block with CRLF line
// ends; fn may keep the slice) and the 1-based line where it starts. Blank
// lines between cards and a leading UTF-8 BOM are skipped. It stops at fn's
// first error and returns it unchanged. Anything else between cards, a
// BEGIN:VCARD inside a card and a card without END:VCARD are reported as a
// *ValidationError naming the line; the last one also matches
// ErrUnterminated (errors.Is), its Line being where that card starts.
// Split only frames the cards (folded
// lines are unfolded to find BEGIN and END, as Validate does): check each
// card with Validate.
//
// Split holds a whole card in memory, however big: a caller that refuses
// cards over a size uses SplitMax.
func Split(r io.Reader, fn func(card []byte, line int) error) error {
	return split(r, math.MaxInt64, readBufferSize, fn, nil)
}

// SplitMax is Split for a reader that refuses cards over max bytes (as fn
// would get them, with CRLF line ends): such a card is never held in
// memory, whatever its lines look like. It is still framed to its
// END:VCARD, then tooBig is called with its first line and its size
// instead of fn, and its error stops SplitMax as fn's does. SplitMax
// holds O(max + 64 KiB) bytes at any time.
func SplitMax(r io.Reader, max int64, fn func(card []byte, line int) error, tooBig func(line int, size int64) error) error {
	return split(r, max, readBufferSize, fn, tooBig)
}

// ErrUnterminated is matched by Split's error for input that ends inside a
// card: its cards before that one were framed, and only it is cut.
var ErrUnterminated = errors.New("vCard not terminated")

// readBufferSize is the size of the pieces lines are read in.
const readBufferSize = 64 << 10

// split is SplitMax reading through a buffer of bufSize bytes, so that tests
// can make the pieces of a line small.
func split(r io.Reader, max int64, bufSize int, fn func(card []byte, line int) error, tooBig func(line int, size int64) error) error {
	sp := splitter{fn: fn, tooBig: tooBig, max: max}
	lr := lineReader{r: bufio.NewReaderSize(r, bufSize)}
	num := 0
	for {
		piece, more, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		num++
		if num == 1 {
			piece = bytes.TrimPrefix(piece, []byte(contentline.BOM))
		}
		if num > 1 && len(piece) > 0 && (piece[0] == ' ' || piece[0] == '\t') {
			// A continuation of the pending logical line.
			sp.add(piece)
			sp.kind.feed(piece[1:])
		} else {
			if num > 1 {
				if err := sp.flush(); err != nil {
					return err
				}
			}
			sp.num = num
			sp.raw, sp.rawSize = sp.raw[:0], 0
			sp.kind = lineKind{}
			sp.add(piece)
			sp.kind.feed(piece)
		}
		for more {
			if piece, more, err = lr.next(); err != nil {
				return err
			}
			sp.add(piece)
			sp.kind.feed(piece)
		}
		sp.add(lineEnd)
	}
	if num > 0 {
		if err := sp.flush(); err != nil {
			return err
		}
	}
	if sp.in {
		e := verr(sp.start, "vCard not terminated: missing END:VCARD")
		e.err = ErrUnterminated
		return e
	}
	return nil
}

var lineEnd = []byte("\r\n")

// splitter frames cards from logical lines. It keeps the bytes of a card
// and of its pending line only while the card stays within max; beyond, it
// only counts them.
type splitter struct {
	fn     func(card []byte, line int) error
	tooBig func(line int, size int64) error
	max    int64

	in    bool   // inside a card
	card  []byte // the card so far, while size <= max
	size  int64  // the card's size so far
	start int    // its first line

	num     int    // first line of the pending logical line
	raw     []byte // its physical lines with CRLF, while size+rawSize <= max
	rawSize int64
	kind    lineKind
}

// add appends a piece of the pending logical line's raw bytes.
func (sp *splitter) add(b []byte) {
	sp.rawSize += int64(len(b))
	if sp.size+sp.rawSize <= sp.max {
		sp.raw = append(sp.raw, b...)
	}
}

func (sp *splitter) flush() error {
	begin, end := sp.kind.delimiter()
	if !sp.in {
		if sp.kind.blank() {
			return nil
		}
		if !begin {
			return verr(sp.num, "expected BEGIN:VCARD (data outside a vCard)")
		}
		sp.in, sp.start = true, sp.num
		if sp.card == nil {
			sp.card = make([]byte, 0, 1024)
		}
	} else if begin {
		return verr(sp.num, "BEGIN:VCARD inside the vCard started on line %d (missing END:VCARD?)", sp.start)
	}
	sp.size += sp.rawSize
	if sp.size <= sp.max {
		sp.card = append(sp.card, sp.raw...)
	}
	if !end {
		return nil
	}
	size := sp.size
	sp.in, sp.size = false, 0
	if size > sp.max {
		sp.card = sp.card[:0]
		return sp.tooBig(sp.start, size)
	}
	card := sp.card
	sp.card = nil // fn may keep it
	return sp.fn(card, sp.start)
}

// lineKind tells whether an unfolded content line, fed to it in pieces, is
// blank, BEGIN:VCARD or END:VCARD, as contentline.IsBlank and
// contentline.Parse would on the whole line (ignoring case, a group prefix,
// parameters and trailing blanks) but in constant memory: any of these
// lines may be long.
type lineKind struct {
	notBlank bool
	state    uint8
	name     [6]byte // the first bytes of the current group or property name
	n        int     // the length of that name, or of a parameter name
	word     string  // fieldBegin or fieldEnd, once the property name is one
	value    int     // how many bytes of "VCARD" the value has matched
}

const (
	lkName       = iota // the group or the property name
	lkNameAfter         // the property name after a group
	lkParam             // a parameter name
	lkParamValue        // the start of a parameter value
	lkUnquoted
	lkQuoted
	lkAfterQuote
	lkValue
	lkOther // not a delimiter
)

func (k *lineKind) blank() bool { return !k.notBlank }

func (k *lineKind) delimiter() (begin, end bool) {
	ok := k.state == lkValue && k.value == len("VCARD")
	return ok && k.word == fieldBegin, ok && k.word == fieldEnd
}

func (k *lineKind) feed(b []byte) {
	for _, c := range b {
		if k.state == lkOther && k.notBlank {
			return
		}
		if c != ' ' && c != '\t' {
			k.notBlank = true
		}
		k.step(c)
	}
}

func (k *lineKind) step(c byte) {
	switch k.state {
	case lkName, lkNameAfter:
		switch {
		case contentline.IsNameChar(c):
			if k.n < len(k.name) {
				k.name[k.n] = c
			}
			k.n++
		case c == '.' && k.state == lkName && k.n > 0:
			k.state, k.n = lkNameAfter, 0
		case (c == ';' || c == ':') && k.n > 0:
			name := k.name[:min(k.n, len(k.name))]
			switch {
			case asciiEqualFold(name, fieldBegin):
				k.word = fieldBegin
			case asciiEqualFold(name, fieldEnd):
				k.word = fieldEnd
			default:
				k.state = lkOther
				return
			}
			k.afterName(c)
		default:
			k.state = lkOther
		}
	case lkParam:
		switch {
		case contentline.IsNameChar(c):
			k.n++
		case k.n == 0:
			k.state = lkOther
		case c == ';' || c == ':':
			k.afterName(c) // a bare parameter
		case c == '=':
			k.state = lkParamValue
		default:
			k.state = lkOther
		}
	case lkParamValue, lkUnquoted, lkAfterQuote:
		switch {
		case c == '"' && k.state == lkParamValue:
			k.state = lkQuoted
		case c == ',':
			k.state = lkParamValue
		case c == ';' || c == ':':
			k.afterName(c)
		case k.state == lkAfterQuote:
			k.state = lkOther
		default:
			k.state = lkUnquoted
		}
	case lkQuoted:
		if c == '"' {
			k.state = lkAfterQuote
		}
	case lkValue:
		if k.value < len("VCARD") && upper(c) == "VCARD"[k.value] {
			k.value++
		} else if k.value < len("VCARD") || (c != ' ' && c != '\t') {
			k.state = lkOther
		}
	}
}

// afterName moves on after the ';' or ':' that ends a name or a parameter.
func (k *lineKind) afterName(c byte) {
	if c == ';' {
		k.state, k.n = lkParam, 0
	} else {
		k.state = lkValue
	}
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// lineReader reads physical lines in pieces of at most its buffer's size,
// so that a line of any length costs no more than the buffer.
type lineReader struct {
	r      *bufio.Reader
	inLine bool // the current line has more pieces to come
	// heldCR is a CR that ended the previous piece: it is part of the
	// line unless the line ends right after it (it is then the CR of its
	// CRLF), which only the next piece tells.
	heldCR bool
	// after is the piece to return after a held CR found to be content.
	after     []byte
	afterMore bool
	hasAfter  bool
}

// next returns the next piece of a physical line, without the line's
// terminator (LF, CRLF or the end of the stream), and whether more pieces
// of the same line follow. The first piece of a line is empty only for an
// empty line. The piece is valid until the next call. next returns io.EOF
// when no line is left.
func (lr *lineReader) next() (piece []byte, more bool, err error) {
	if lr.hasAfter {
		lr.hasAfter = false
		return lr.after, lr.afterMore, nil
	}
	b, err := lr.r.ReadSlice('\n')
	more = errors.Is(err, bufio.ErrBufferFull)
	if err == io.EOF {
		if len(b) == 0 && !lr.inLine {
			return nil, false, io.EOF
		}
		err = nil
	}
	if err != nil && !more {
		return nil, false, err
	}
	held := lr.heldCR
	lr.heldCR, lr.inLine = false, more
	if more {
		if b[len(b)-1] == '\r' {
			lr.heldCR = true
			b = b[:len(b)-1]
		}
	} else {
		b = bytes.TrimSuffix(b, []byte{'\n'})
		if len(b) == 0 {
			held = false // the held CR ended the line
		}
		b = bytes.TrimSuffix(b, []byte{'\r'})
	}
	if held {
		lr.after, lr.afterMore, lr.hasAfter = b, more, true
		return lineEnd[:1], true, nil
	}
	return b, more, nil
}
