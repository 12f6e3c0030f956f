package contacts

import (
	"errors"
	"strings"
	"testing"
)

// crlf turns the LF line ends of a test literal into CRLF.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want Info
	}{
		{"minimal 4.0", crlf("BEGIN:VCARD\nVERSION:4.0\nUID:abc\nFN:Ann\nEND:VCARD\n"),
			Info{UID: "abc", Version: "4.0", FN: "Ann"}},
		{"3.0 with N only, LF line ends", []byte("BEGIN:VCARD\nVERSION:3.0\nN:Doe;John;;;\nEND:VCARD\n"),
			Info{Version: "3.0"}},
		{"no final line end", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD"),
			Info{Version: "4.0", FN: "A"}},
		{"folded lines, tab and space", crlf("BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:1234\n 5678\nFN:Zo\n\të Ångström\nEND:VCARD\n"),
			Info{UID: "urn:uuid:12345678", Version: "4.0", FN: "Zoë Ångström"}},
		{"fold splits a UTF-8 sequence", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zo\xc3\r\n \xab\r\nEND:VCARD\r\n"),
			Info{Version: "4.0", FN: "Zoë"}},
		{"BOM, blank lines around", append([]byte("\xef\xbb\xbf\r\n"), crlf("BEGIN:VCARD\nVERSION:3.0\nFN:A\n\nEND:VCARD\n\n\n")...),
			Info{Version: "3.0", FN: "A"}},
		{"lower-case names and values", []byte("begin:vcard\nversion:4.0\nfn:a\nend:vcard\n"),
			Info{Version: "4.0", FN: "a"}},
		{"VERSION not second, groups", crlf("BEGIN:VCARD\nitem1.EMAIL;type=INTERNET:a@b.c\nitem1.X-ABLabel:_$!<Other>!$_\nVERSION:3.0\nFN:A\nEND:VCARD\n"),
			Info{Version: "3.0", FN: "A"}},
		{"KIND group", crlf("BEGIN:VCARD\nVERSION:4.0\nKIND:Group\nFN:Friends\nMEMBER:urn:uuid:1\nEND:VCARD\n"),
			Info{Version: "4.0", Kind: "group", FN: "Friends"}},
		{"X-ADDRESSBOOKSERVER-KIND", crlf("BEGIN:VCARD\nVERSION:3.0\nX-ADDRESSBOOKSERVER-KIND:group\nFN:Friends\nEND:VCARD\n"),
			Info{Version: "3.0", Kind: "group", FN: "Friends"}},
		{"KIND wins over X-ADDRESSBOOKSERVER-KIND", crlf("BEGIN:VCARD\nVERSION:3.0\nX-ADDRESSBOOKSERVER-KIND:group\nKIND:individual\nFN:A\nEND:VCARD\n"),
			Info{Version: "3.0", Kind: "individual", FN: "A"}},
		{"escaped UID and FN", crlf("BEGIN:VCARD\nVERSION:4.0\nUID:a\\,b\\;c\\\\d\nFN:Doe\\, John\\nJr.\nEND:VCARD\n"),
			Info{UID: `a,b;c\d`, Version: "4.0", FN: "Doe, John\nJr."}},
		{"quoted parameter with colon and semicolon", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nADR;LABEL=\"1 Main St:Apt;2\";TYPE=home:;;1 Main St;;;;\nEND:VCARD\n"),
			Info{Version: "4.0", FN: "A"}},
		{"bare 2.1-style parameter", crlf("BEGIN:VCARD\nVERSION:3.0\nFN:A\nTEL;CELL;PREF:123\nEND:VCARD\n"),
			Info{Version: "3.0", FN: "A"}},
		{"empty FN value", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:\nEND:VCARD\n"),
			Info{Version: "4.0"}},
		{"parameters on BEGIN, trailing blanks", crlf("BEGIN;X-A=1:VCARD \nVERSION:4.0 \nFN:A\nEND:vcard\t\n"),
			Info{Version: "4.0", FN: "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Validate(tt.data)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got != tt.want {
				t.Errorf("Validate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		line int
		msg  string
	}{
		{"empty", nil, 0, "no vCard (BEGIN:VCARD missing)"},
		{"only blank lines", []byte("\r\n  \r\n"), 0, "no vCard (BEGIN:VCARD missing)"},
		{"junk before", crlf("hello\nBEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n"), 1, "expected BEGIN:VCARD"},
		{"calendar", crlf("BEGIN:VCALENDAR\nEND:VCALENDAR\n"), 1, "expected BEGIN:VCARD"},
		{"line without colon", crlf("BEGIN:VCARD\nVERSION:4.0\nFN A\nEND:VCARD\n"), 3, "property without a colon"},
		{"empty property name", crlf("BEGIN:VCARD\nVERSION:4.0\n:value\nFN:A\nEND:VCARD\n"), 3, "empty property name"},
		{"invalid property name", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nX FOO:bar\nEND:VCARD\n"), 4, `invalid property name "X FOO"`},
		{"empty group", crlf("BEGIN:VCARD\nVERSION:4.0\n.FN:A\nEND:VCARD\n"), 3, "empty group name"},
		{"group without name", crlf("BEGIN:VCARD\nVERSION:4.0\nitem1.:A\nFN:A\nEND:VCARD\n"), 3, "empty property name"},
		{"empty parameter name", crlf("BEGIN:VCARD\nVERSION:4.0\nFN;=x:A\nEND:VCARD\n"), 3, "empty parameter name"},
		{"invalid parameter name", crlf("BEGIN:VCARD\nVERSION:4.0\nFN;A B=x:A\nEND:VCARD\n"), 3, `invalid parameter name "A "`},
		{"unterminated quote", crlf("BEGIN:VCARD\nVERSION:4.0\nFN;X=\"abc:A\nEND:VCARD\n"), 3, "unterminated quoted parameter value"},
		{"junk after quote", crlf("BEGIN:VCARD\nVERSION:4.0\nFN;X=\"a\"b:A\nEND:VCARD\n"), 3, "unexpected character after quoted parameter value"},
		{"NUL byte", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nNOTE:a\x00b\r\nEND:VCARD\r\n"), 4, "NUL byte"},
		{"NUL in a continuation line", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nNOTE:a\r\n b\x00\r\nEND:VCARD\r\n"), 5, "NUL byte"},
		{"control character", []byte("BEGIN:VCARD\nVERSION:4.0\nFN:A\x01\nEND:VCARD\n"), 3, "control character 0x01"},
		{"bare CR", []byte("BEGIN:VCARD\rVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n"), 1, "carriage return without line feed"},
		{"invalid UTF-8", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zo\xeb\r\nEND:VCARD\r\n"), 3, "invalid UTF-8"},
		{"noncharacter", []byte("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:\uffff\r\nEND:VCARD\r\n"), 3, "noncharacter U+FFFE or U+FFFF"},
		{"second card", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nFN:B\nEND:VCARD\n"), 5, "more than one vCard (only one is allowed)"},
		{"junk after END", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\ntrailing junk\n"), 5, "data after END:VCARD"},
		{"property after END", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\nNOTE:x\n"), 5, "data after END:VCARD"},
		{"nested BEGIN", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nBEGIN:VCARD\nEND:VCARD\nEND:VCARD\n"), 4, "BEGIN inside the vCard started on line 1"},
		{"wrong END", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCALENDAR\n"), 4, `END:"VCALENDAR" does not close BEGIN:VCARD`},
		{"missing END", crlf("BEGIN:VCARD\nVERSION:4.0\nFN:A\n"), 3, "missing END:VCARD for the vCard started on line 1"},
		{"VERSION 2.1", crlf("BEGIN:VCARD\nVERSION:2.1\nFN:A\nEND:VCARD\n"), 2, `unsupported VERSION "2.1" (want 3.0 or 4.0)`},
		{"two VERSIONs", crlf("BEGIN:VCARD\nVERSION:4.0\nVERSION:4.0\nFN:A\nEND:VCARD\n"), 3, "more than one VERSION"},
		{"missing VERSION", crlf("BEGIN:VCARD\nFN:A\nEND:VCARD\n"), 0, "missing VERSION"},
		{"4.0 without FN", crlf("BEGIN:VCARD\nVERSION:4.0\nN:Doe;John;;;\nEND:VCARD\n"), 0, "missing FN (required in vCard 4.0)"},
		{"3.0 without FN and N", crlf("BEGIN:VCARD\nVERSION:3.0\nEMAIL:a@b.c\nEND:VCARD\n"), 0, "missing FN and N (vCard 3.0 needs one of them)"},
		{"two UIDs", crlf("BEGIN:VCARD\nVERSION:4.0\nUID:a\nFN:A\nUID:b\nEND:VCARD\n"), 5, "more than one UID"},
		{"continuation at start", crlf(" BEGIN:VCARD\nVERSION:4.0\nFN:A\nEND:VCARD\n"), 1, "expected BEGIN:VCARD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(tt.data)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate error = %v, want a *ValidationError", err)
			}
			if ve.Line != tt.line || ve.Msg != tt.msg {
				t.Errorf("Validate error = line %d %q, want line %d %q", ve.Line, ve.Msg, tt.line, tt.msg)
			}
		})
	}
}

func TestValidationErrorString(t *testing.T) {
	if got := (&ValidationError{Line: 3, Msg: "property without a colon"}).Error(); got != "line 3: property without a colon" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&ValidationError{Msg: "missing VERSION"}).Error(); got != "missing VERSION" {
		t.Errorf("Error() = %q", got)
	}
}

func TestAddUID(t *testing.T) {
	tests := []struct {
		name string
		data string
		uid  string
		want string
	}{
		{"CRLF", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n", "u-1",
			"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u-1\r\nFN:A\r\nEND:VCARD\r\n"},
		{"LF kept", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n", "u-1",
			"BEGIN:VCARD\nVERSION:3.0\nUID:u-1\nFN:A\nEND:VCARD\n"},
		{"VERSION later, folded", "BEGIN:VCARD\r\nFN:A\r\nVERSION:\r\n 3.0\r\nNOTE:x\nEND:VCARD", "u-1",
			"BEGIN:VCARD\r\nFN:A\r\nVERSION:\r\n 3.0\r\nUID:u-1\r\nNOTE:x\nEND:VCARD"},
		{"odd bytes elsewhere are kept", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A  \r\nNOTE:a\\,b\r\nEND:VCARD\r\n\r\n", "u",
			"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u\r\nFN:A  \r\nNOTE:a\\,b\r\nEND:VCARD\r\n\r\n"},
		{"escaped", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n", "a,b;c",
			"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\\,b\\;c\r\nFN:A\r\nEND:VCARD\r\n"},
		{"no VERSION: after BEGIN", "BEGIN:VCARD\r\nFN:A\r\nEND:VCARD\r\n", "u",
			"BEGIN:VCARD\r\nUID:u\r\nFN:A\r\nEND:VCARD\r\n"},
		{"not a card", "hello", "u", "hello"},
		{"empty UID replaced in place", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nUID:\nEND:VCARD\r\n", "u",
			"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nUID:u\nEND:VCARD\r\n"},
		{"folded UID replaced", "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:\r\n old\r\nFN:A\r\nEND:VCARD\r\n", "new",
			"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:new\r\nFN:A\r\nEND:VCARD\r\n"},
		{"long UID folded", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD\r\n", strings.Repeat("x", 80),
			"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:" + strings.Repeat("x", 71) + "\r\n " + strings.Repeat("x", 9) + "\r\nFN:A\r\nEND:VCARD\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AddUID([]byte(tt.data), tt.uid))
			if got != tt.want {
				t.Errorf("AddUID =\n%q\nwant\n%q", got, tt.want)
			}
			if info, err := Validate([]byte(got)); err == nil && info.UID != tt.uid {
				t.Errorf("UID after AddUID = %q, want %q", info.UID, tt.uid)
			}
		})
	}
}
