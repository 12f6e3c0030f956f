package contacts

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-vcard"
)

// Pairs that convert exactly into each other: 3.0 → 4.0 gives v4 and
// 4.0 → 3.0 gives v3 back.
var convertPairs = []struct {
	name   string
	v3, v4 string
}{
	{
		name: "Apple group",
		v3: `BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//Mac OS X 10.15.7//EN
N:Friends
FN:Friends
X-ADDRESSBOOKSERVER-KIND:group
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:a1b2
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:c3d4
UID:grp-1
END:VCARD
`,
		v4: `BEGIN:VCARD
VERSION:4.0
PRODID:-//Apple Inc.//Mac OS X 10.15.7//EN
N:Friends
FN:Friends
KIND:group
MEMBER:urn:uuid:a1b2
MEMBER:urn:uuid:c3d4
UID:grp-1
END:VCARD
`,
	},
	{
		name: "photos",
		v3: `BEGIN:VCARD
VERSION:3.0
UID:p-1
FN:Zoë Ångström
N:Ångström;Zoë;;;
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f
 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVl
 dYWVpbXF1eXw==
LOGO;ENCODING=b;TYPE=PNG:iVBORw0KGgoAAQIDBAUGBwgJ
PHOTO;VALUE=uri;TYPE=PNG:https://example.com/zoe.png
END:VCARD
`,
		v4: `BEGIN:VCARD
VERSION:4.0
UID:p-1
FN:Zoë Ångström
N:Ångström;Zoë;;;
PHOTO:data:image/jpeg;base64,/9j/4AABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR
 4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RV
 VldYWVpbXF1eXw==
LOGO:data:image/png;base64,iVBORw0KGgoAAQIDBAUGBwgJ
PHOTO;VALUE=uri;MEDIATYPE=image/png:https://example.com/zoe.png
END:VCARD
`,
	},
	{
		name: "pref",
		v3: `BEGIN:VCARD
VERSION:3.0
FN:Ann
item1.EMAIL;TYPE=INTERNET,pref:ann@example.com
item1.X-ABLabel:_$!<Other>!$_
EMAIL;TYPE=INTERNET,HOME:ann@example.org
TEL;TYPE=CELL,VOICE,pref:+46 70 123 45 67
TEL;TYPE=pref:+46 8 123
UID:pref-1
END:VCARD
`,
		v4: `BEGIN:VCARD
VERSION:4.0
FN:Ann
item1.EMAIL;TYPE=INTERNET;PREF=1:ann@example.com
item1.X-ABLabel:_$!<Other>!$_
EMAIL;TYPE=INTERNET,HOME:ann@example.org
TEL;TYPE=CELL,VOICE;PREF=1:+46 70 123 45 67
TEL;PREF=1:+46 8 123
UID:pref-1
END:VCARD
`,
	},
	{
		name: "non-ASCII text, label, geo, time zone, long lines",
		v3: `BEGIN:VCARD
VERSION:3.0
FN:Zoë Ångström
N:Ångström;Zoë;;;
ORG:Ålands Sjöfart\, Kontor;Försäljning
ADR;TYPE=work:;;Storgatan 1;Stockholm;;111 22;Sverige
LABEL;TYPE=work:Storgatan 1\n111 22 Stockholm\, Sverige
GEO:59.3293;18.0686
TZ:+01:00
BDAY:--0415
NOTE:öööööööööööööööööööööööööööööö€€€
 €€€€€€€€€€€€€€€€€😀😀😀😀😀
 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀
UID:zoe
END:VCARD
`,
		v4: `BEGIN:VCARD
VERSION:4.0
FN:Zoë Ångström
N:Ångström;Zoë;;;
ORG:Ålands Sjöfart\, Kontor;Försäljning
ADR;TYPE=work;LABEL="Storgatan 1^n111 22 Stockholm, Sverige":;;Storgatan 1;
 Stockholm;;111 22;Sverige
GEO:geo:59.3293,18.0686
TZ;VALUE=utc-offset:+0100
BDAY:--0415
NOTE:öööööööööööööööööööööööööööööö€€€
 €€€€€€€€€€€€€€€€€😀😀😀😀😀
 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀
UID:zoe
END:VCARD
`,
	},
	{
		name: "DAVx5 style 4.0 card",
		v3: `BEGIN:VCARD
VERSION:3.0
PRODID:DAVx5/4.3.4-ose ez-vcard/0.11.3
UID:urn:uuid:4e1c0f22-7d1b-4f0e-9d3a-1c2b3a4d5e6f
FN:Müller\, Jürgen
N:Müller;Jürgen;;;
EMAIL;TYPE=work,pref:jm@example.de
EMAIL;TYPE=home:j@example.org
TEL;TYPE=cell:+49 151 1234567
BDAY:--0229
X-ADDRESSBOOKSERVER-KIND:individual
REV:20240101T120000Z
END:VCARD
`,
		v4: `BEGIN:VCARD
VERSION:4.0
PRODID:DAVx5/4.3.4-ose ez-vcard/0.11.3
UID:urn:uuid:4e1c0f22-7d1b-4f0e-9d3a-1c2b3a4d5e6f
FN:Müller\, Jürgen
N:Müller;Jürgen;;;
EMAIL;TYPE=work;PREF=1:jm@example.de
EMAIL;TYPE=home:j@example.org
TEL;TYPE=cell:+49 151 1234567
BDAY:--0229
KIND:individual
REV:20240101T120000Z
END:VCARD
`,
	},
}

func TestConvertPairs(t *testing.T) {
	for _, tt := range convertPairs {
		t.Run(tt.name, func(t *testing.T) {
			v3, v4 := crlf(tt.v3), crlf(tt.v4)
			got4, err := Convert(v3, "4.0")
			if err != nil {
				t.Fatalf("Convert to 4.0: %v", err)
			}
			if !bytes.Equal(got4, v4) {
				t.Errorf("3.0 → 4.0 =\n%s\nwant\n%s", got4, v4)
			}
			got3, err := Convert(v4, "3.0")
			if err != nil {
				t.Fatalf("Convert to 3.0: %v", err)
			}
			if !bytes.Equal(got3, v3) {
				t.Errorf("4.0 → 3.0 =\n%s\nwant\n%s", got3, v3)
			}
			// And the full round trip from the 3.0 side.
			back, err := Convert(got4, "3.0")
			if err != nil || !bytes.Equal(back, v3) {
				t.Errorf("3.0 → 4.0 → 3.0 = %v\n%s\nwant\n%s", err, back, v3)
			}
			i3, _ := Validate(v3)
			i4, err := Validate(got4)
			if err != nil || i4.UID != i3.UID || i4.Kind != i3.Kind || i4.FN != i3.FN || i4.Version != "4.0" {
				t.Errorf("Validate(4.0) = %+v, %v; 3.0 had %+v", i4, err, i3)
			}
		})
	}
}

// One-way conversions with their exact output.
var convertOneWay = []struct {
	name, in, to, want string
}{
	{
		name: "FN built from N, bare 2.1 parameters",
		to:   "4.0",
		in: `BEGIN:VCARD
VERSION:3.0
N:Doe\, Sr;John;Q.,R.;Dr.;Jr.
TEL;CELL;PREF:123
PHOTO;BASE64:iVBORw0KGgoAAQIDBAUGBwgJ
END:VCARD
`,
		want: `BEGIN:VCARD
VERSION:4.0
FN:Dr. John Q. R. Doe\, Sr Jr.
N:Doe\, Sr;John;Q.,R.;Dr.;Jr.
TEL;TYPE=CELL;PREF=1:123
PHOTO:data:image/png;base64,iVBORw0KGgoAAQIDBAUGBwgJ
END:VCARD
`,
	},
	{
		name: "4.0 only forms",
		to:   "3.0",
		in: `BEGIN:VCARD
VERSION:4.0
KIND:group
X-ADDRESSBOOKSERVER-KIND:individual
FN:Team
MEMBER:urn:uuid:1
MEMBER:mailto:bob@example.com
EMAIL;TYPE=home;PREF=2:z@example.org
TEL;VALUE=uri;TYPE="cell,voice";PREF=1:tel:+1-555-0100
LOGO:data:image/gif,GIF89a
KEY:data:application/pgp-keys;base64,AAEC
SOUND;MEDIATYPE=audio/ogg:https://example.com/team.ogg
TZ:Europe/Stockholm
ADR;LABEL="a ^'b^' c^nd";TYPE=home:;;a;d;;;
URL;VALUE=uri:https://example.com/
GENDER:O
ANNIVERSARY:20090808
END:VCARD
`,
		want: `BEGIN:VCARD
VERSION:3.0
X-ADDRESSBOOKSERVER-KIND:group
FN:Team
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:1
X-ADDRESSBOOKSERVER-MEMBER:mailto:bob@example.com
EMAIL;TYPE=home:z@example.org
TEL;TYPE=cell,voice,pref:+1-555-0100
LOGO;ENCODING=b;TYPE=GIF:R0lGODlh
KEY;ENCODING=b;TYPE=PGP:AAEC
SOUND;VALUE=uri;TYPE=OGG:https://example.com/team.ogg
TZ;VALUE=text:Europe/Stockholm
ADR;TYPE=home:;;a;d;;;
LABEL;TYPE=home:a "b" c\nd
URL;VALUE=uri:https://example.com/
GENDER:O
ANNIVERSARY:20090808
END:VCARD
`,
	},
	{
		name: "3.0 only forms",
		to:   "4.0",
		in: `BEGIN:VCARD
VERSION:3.0
FN:A
X-ADDRESSBOOKSERVER-KIND:group
KIND:org
LABEL;TYPE=home:not after an ADR
PHOTO;ENCODING=b:AAEC
TZ;VALUE=text:Europe/Paris
X-PARAM;X-A=a^b:v
END:VCARD
`,
		want: `BEGIN:VCARD
VERSION:4.0
FN:A
KIND:org
LABEL;TYPE=home:not after an ADR
PHOTO:data:application/octet-stream;base64,AAEC
TZ:Europe/Paris
X-PARAM;X-A=a^^b:v
END:VCARD
`,
	},
	{
		name: "3.0 media types, spaces in base64, short offsets",
		to:   "4.0",
		in: `BEGIN:VCARD
VERSION:3.0
FN:A
PHOTO;ENCODING=b:/9j/4AAB
  AgME
LOGO;ENCODING=b:R0lGODlh
LOGO;ENCODING=b;TYPE=image/svg+xml:AAEC
SOUND;ENCODING=b;TYPE=OGG:AAEC
KEY;ENCODING=B;TYPE=X509:AAEC
KEY;ENCODING=b;TYPE=PGP:AAEC
TZ:+01
END:VCARD
`,
		want: `BEGIN:VCARD
VERSION:4.0
FN:A
PHOTO:data:image/jpeg;base64,/9j/4AABAgME
LOGO:data:image/gif;base64,R0lGODlh
LOGO:data:image/svg+xml;base64,AAEC
SOUND:data:audio/ogg;base64,AAEC
KEY:data:application/x509;base64,AAEC
KEY:data:application/pgp-keys;base64,AAEC
TZ;VALUE=utc-offset:+0100
END:VCARD
`,
	},
	{
		name: "4.0 geo with altitude, offset without VALUE, escaped data URI",
		to:   "3.0",
		in: `BEGIN:VCARD
VERSION:4.0
FN:A
GEO:geo:1.5,2.5,100;u=10
TZ:-0500
PHOTO:data:image/png\;base64\,iVBORw0K
SOUND:data:audio/ogg;base64,
END:VCARD
`,
		want: `BEGIN:VCARD
VERSION:3.0
FN:A
GEO:1.5;2.5
TZ:-05:00
PHOTO;ENCODING=b;TYPE=PNG:iVBORw0K
SOUND;ENCODING=b;TYPE=OGG:
END:VCARD
`,
	},
}

func TestConvertOneWay(t *testing.T) {
	for _, tt := range convertOneWay {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Convert(crlf(tt.in), tt.to)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if want := crlf(tt.want); !bytes.Equal(got, want) {
				t.Errorf("Convert =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestConvertSameVersionUnchanged(t *testing.T) {
	in := []byte("BEGIN:VCARD\nVERSION:3.0\nfn:a\nEND:VCARD\n")
	got, err := Convert(in, "3.0")
	if err != nil || !bytes.Equal(got, in) {
		t.Errorf("Convert same version = %q, %v", got, err)
	}
}

func TestConvertErrors(t *testing.T) {
	var ve *ValidationError
	if _, err := Convert([]byte("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"), "4.0"); !errors.As(err, &ve) {
		t.Errorf("invalid card: err = %v, want *ValidationError", err)
	}
	if _, err := Convert(crlf("BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n"), "2.1"); err == nil {
		t.Error("version 2.1: no error")
	}
}

// TestConvertFolding checks that long lines of multibyte text are folded
// at 75 octets without splitting a character, and unfold to the original.
func TestConvertFolding(t *testing.T) {
	values := []string{
		strings.Repeat("Zoë Ångström ", 20),
		strings.Repeat("€", 100),
		strings.Repeat("😀", 50) + "x",
		"x" + strings.Repeat("日本語", 40),
		strings.Repeat("a", 300),
	}
	for _, v := range values {
		in := crlf("BEGIN:VCARD\nVERSION:3.0\nFN:" + v + "\nNOTE:" + v + "\nEND:VCARD\n")
		for _, to := range []string{"4.0", "3.0"} {
			src := in
			if to == "3.0" {
				src, _ = Convert(in, "4.0")
			}
			out, err := Convert(src, to)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if !bytes.HasSuffix(out, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("output is not CRLF-terminated throughout: %q", out)
			}
			for _, line := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
				if len(line) > 75 {
					t.Errorf("line of %d octets: %q", len(line), line)
				}
				if !utf8.ValidString(line) {
					t.Errorf("line splits a UTF-8 sequence: %q", line)
				}
			}
			info, err := Validate(out)
			if err != nil || info.FN != v {
				t.Errorf("FN after unfolding = %q, %v; want %q", info.FN, err, v)
			}
		}
	}
}

// TestConvertReadableByGoVcard checks our output with an independent parser.
func TestConvertReadableByGoVcard(t *testing.T) {
	for _, tt := range convertPairs {
		for _, to := range []string{"3.0", "4.0"} {
			src := crlf(tt.v3)
			if to == "3.0" {
				src = crlf(tt.v4)
			}
			out, err := Convert(src, to)
			if err != nil {
				t.Fatalf("%s: Convert: %v", tt.name, err)
			}
			card, err := vcard.NewDecoder(bytes.NewReader(out)).Decode()
			if err != nil {
				t.Fatalf("%s: go-vcard cannot decode our %s output: %v", tt.name, to, err)
			}
			info, _ := Validate(out)
			if got := card.Value(vcard.FieldUID); got != info.UID {
				t.Errorf("%s %s: go-vcard UID = %q, want %q", tt.name, to, got, info.UID)
			}
			if got := card.Value(vcard.FieldVersion); got != to {
				t.Errorf("%s %s: go-vcard VERSION = %q", tt.name, to, got)
			}
			if to == "4.0" && info.Kind != "" && string(card.Kind()) != info.Kind {
				t.Errorf("%s: go-vcard KIND = %q, want %q", tt.name, card.Kind(), info.Kind)
			}
		}
	}
	out, _ := Convert(crlf(convertPairs[0].v3), "4.0")
	card, _ := vcard.NewDecoder(bytes.NewReader(out)).Decode()
	if got := card.Values(vcard.FieldMember); len(got) != 2 || got[0] != "urn:uuid:a1b2" || got[1] != "urn:uuid:c3d4" {
		t.Errorf("go-vcard MEMBER = %q", got)
	}
	out, _ = Convert(crlf(convertPairs[3].v3), "4.0")
	card, _ = vcard.NewDecoder(bytes.NewReader(out)).Decode()
	if got := card.Value(vcard.FieldNote); !strings.HasPrefix(got, "öööö") || !strings.HasSuffix(got, "😀😀") || strings.ContainsAny(got, "\r\n") {
		t.Errorf("go-vcard NOTE = %q", got)
	}
}
