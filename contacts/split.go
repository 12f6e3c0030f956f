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
// *ValidationError naming the line. Split only frames the cards: check each
// one with Validate.
func Split(r io.Reader, fn func(card []byte, line int) error) error {
	lr := lineReader{r: bufio.NewReaderSize(r, 64<<10)}
	var (
		card  []byte
		start int
		num   int
	)
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
		if card == nil {
			if isBlank(line) {
				continue
			}
			if !isCardDelimiter(line, fieldBegin) {
				return verr(num, "expected BEGIN:VCARD (data outside a vCard)")
			}
			card = make([]byte, 0, 1024)
			start = num
		} else if isCardDelimiter(line, fieldBegin) {
			return verr(num, "BEGIN:VCARD inside the vCard started on line %d (missing END:VCARD?)", start)
		}
		card = append(card, line...)
		card = append(card, '\r', '\n')
		if isCardDelimiter(line, fieldEnd) {
			if err := fn(card, start); err != nil {
				return err
			}
			card = nil
		}
	}
	if card != nil {
		return verr(start, "vCard not terminated: missing END:VCARD")
	}
	return nil
}

// isCardDelimiter reports whether a physical line is BEGIN:VCARD or
// END:VCARD (word is BEGIN or END), ignoring case, a group prefix,
// parameters and trailing blanks.
func isCardDelimiter(line []byte, word string) bool {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return false
	}
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
