package contacts

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Split reads a .vcf stream holding any number of cards and calls fn with
// each card's bytes (a complete BEGIN:VCARD…END:VCARD block with CRLF line
// ends; fn may keep the slice) and the 1-based line where it starts. Blank
// lines between cards and a leading UTF-8 BOM are skipped. It stops at fn's
// first error and returns it unchanged. Anything else between cards, a
// BEGIN:VCARD inside a card and a card without END:VCARD are reported as a
// *ValidationError naming the line. Split only frames the cards (folded
// lines are unfolded to find BEGIN and END, as Validate does): check each
// card with Validate.
func Split(r io.Reader, fn func(card []byte, line int) error) error {
	sp := splitter{fn: fn}
	lr := lineReader{r: bufio.NewReaderSize(r, 64<<10)}
	num := 0
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		num++
		if num == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if num > 1 && len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			// A continuation of the pending logical line.
			sp.raw = append(sp.raw, line...)
			sp.raw = append(sp.raw, '\r', '\n')
			sp.unfolded = append(sp.unfolded, line[1:]...)
			continue
		}
		if num > 1 {
			if err := sp.flush(); err != nil {
				return err
			}
		}
		sp.num = num
		sp.raw = append(append(sp.raw[:0], line...), '\r', '\n')
		sp.unfolded = append(sp.unfolded[:0], line...)
	}
	if num > 0 {
		if err := sp.flush(); err != nil {
			return err
		}
	}
	if sp.card != nil {
		return verr(sp.start, "vCard not terminated: missing END:VCARD")
	}
	return nil
}

// splitter frames cards from logical lines.
type splitter struct {
	fn            func(card []byte, line int) error
	card          []byte // the card being read; nil between cards
	start         int    // its first line
	num           int    // first line of the pending logical line
	raw, unfolded []byte // the pending logical line: physical lines with CRLF, and unfolded
}

func (sp *splitter) flush() error {
	begin := isCardDelimiter(sp.unfolded, fieldBegin)
	if sp.card == nil {
		if isBlank(sp.unfolded) {
			return nil
		}
		if !begin {
			return verr(sp.num, "expected BEGIN:VCARD (data outside a vCard)")
		}
		sp.card = make([]byte, 0, 1024)
		sp.start = sp.num
	} else if begin {
		return verr(sp.num, "BEGIN:VCARD inside the vCard started on line %d (missing END:VCARD?)", sp.start)
	}
	sp.card = append(sp.card, sp.raw...)
	if isCardDelimiter(sp.unfolded, fieldEnd) {
		card := sp.card
		sp.card = nil
		return sp.fn(card, sp.start)
	}
	return nil
}

// isCardDelimiter reports whether a physical line is BEGIN:VCARD or
// END:VCARD (word is BEGIN or END), ignoring case, a group prefix,
// parameters and trailing blanks.
func isCardDelimiter(line []byte, word string) bool {
	p, msg := parseProp(line)
	return msg == "" && asciiEqualFold(p.name, word) && isVCARD(p.value)
}

// lineReader reads physical lines of any length, without their terminator.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
}

func (lr *lineReader) next() ([]byte, error) {
	line, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.buf = append(lr.buf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lr.r.ReadSlice('\n')
			lr.buf = append(lr.buf, line...)
		}
		line = lr.buf
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}
