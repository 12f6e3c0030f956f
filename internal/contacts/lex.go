package contacts

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/rolodav/rolodav/internal/contentline"
)

// vcardSyntax is the grammar of vCard content lines as contacts reads them:
// groups, and the bare parameters (TEL;CELL:) and quotes inside unquoted
// parameter values of vCard 2.1 and 3.0 cards, which real address books hold.
var vcardSyntax = contentline.Syntax{Groups: true, BareParams: true, QuoteInValues: true}

// faultMsg words a fault of the content line b.
func faultMsg(b []byte, f contentline.Fault) string {
	switch f.Code {
	case contentline.EmptyGroup:
		return "empty group name"
	case contentline.BadName:
		if bytes.IndexByte(b, ':') < 0 {
			return "property without a colon"
		}
		end := 0
		for b[end] != ';' && b[end] != ':' {
			end++
		}
		return "invalid property name " + quoteForMsg(b[:end])
	case contentline.EmptyName:
		return "empty property name"
	case contentline.BadParamName:
		switch {
		case f.ParamEnd == f.Param:
			return "empty parameter name"
		case f.At >= len(b):
			return "property without a colon"
		}
		return "invalid parameter name " + quoteForMsg(b[f.Param:f.At+1])
	case contentline.Unterminated:
		return "unterminated quoted parameter value"
	case contentline.AfterQuote:
		if f.At < len(b) {
			return "unexpected character after quoted parameter value"
		}
	}
	return "property without a colon"
}

func quoteForMsg(b []byte) string {
	const max = 40
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return "\"" + strings.ToValidUTF8(s, "\uFFFD") + "\""
}

// asciiEqualFold compares b with an upper-case ASCII string s, ignoring the
// case of ASCII letters in b.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func asciiHasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// appendUnescaped appends the text value src with vCard escapes resolved:
// \\ \n \N \, \; and \: (the last is not standard but common). Other
// backslashes are kept as they are.
func appendUnescaped(dst, src []byte) []byte {
	for {
		i := bytes.IndexByte(src, '\\')
		if i < 0 || i == len(src)-1 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		switch c := src[i+1]; c {
		case 'n', 'N':
			dst = append(dst, '\n')
		case '\\', ',', ';', ':':
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', c)
		}
		src = src[i+2:]
	}
}

func unescapeText(src []byte) string {
	if bytes.IndexByte(src, '\\') < 0 {
		return string(src)
	}
	return string(appendUnescaped(nil, src))
}

var textEscaper = strings.NewReplacer(`\`, `\\`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`, ",", `\,`, ";", `\;`)

// escapeText escapes a text value for a content line.
func escapeText(s string) string { return textEscaper.Replace(s) }

// splitStructured splits a raw structured value (N, ADR, ORG) at the
// semicolons that are not escaped.
func splitStructured(raw string) []string { return splitUnescaped(raw, ';') }

// splitUnescaped splits a raw value at the separators that are not escaped.
func splitUnescaped(raw string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, raw[start:i])
			start = i + 1
		}
	}
	return append(parts, raw[start:])
}

// badByte finds a byte that must not occur in a card: NUL, a C0 control other
// than tab and the line terminators, or a CR that does not end a line. It
// returns the offset or -1. Every byte of every card goes through it: it
// skips eight bytes at a time while none of them is below 0x20.
func badByte(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			// A byte below 0x20 sets its high bit in x-0x20…20 (borrows only
			// run upwards from such a byte), and no byte of 0x80 or more counts.
			x := binary.LittleEndian.Uint64(b[i:])
			if (x-0x20*ones)&^x&highs == 0 {
				i += 8
				continue
			}
		}
		for end := min(i+8, len(b)); i < end; i++ {
			c := b[i]
			if c >= 0x20 || c == '\t' || c == '\n' {
				continue
			}
			if c == '\r' && (i+1 == len(b) || b[i+1] == '\n') {
				continue
			}
			return i
		}
	}
	return -1
}

// hasNonXMLRune finds the noncharacters U+FFFE and U+FFFF, which XML cannot carry.
func hasNonXMLRune(b []byte) bool {
	return bytes.Contains(b, nonCharFFFE) || bytes.Contains(b, nonCharFFFF)
}

var nonCharFFFE, nonCharFFFF = []byte("\uFFFE"), []byte("\uFFFF")
