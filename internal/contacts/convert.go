package contacts

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/emersion/go-vcard"

	"github.com/rolodav/rolodav/internal/contentline"
)

// property is one content line of a card being converted.
type property struct {
	group    string
	name     string // upper-case
	spelling string // the name as written in the card, kept in the output
	params   []Param
	value    string // raw: escaped exactly as in the card
}

func (p *property) param(name string) *Param {
	for i := range p.params {
		if p.params[i].Name == name {
			return &p.params[i]
		}
	}
	return nil
}

func (p *property) paramIndex(name string) int {
	for i := range p.params {
		if p.params[i].Name == name {
			return i
		}
	}
	return -1
}

// first returns the first value of the first parameter called name.
func (p *property) first(name string) string {
	if q := p.param(name); q != nil && len(q.Values) > 0 {
		return q.Values[0]
	}
	return ""
}

func (p *property) removeParam(name string) {
	out := p.params[:0]
	for _, q := range p.params {
		if q.Name != name {
			out = append(out, q)
		}
	}
	p.params = out
}

func (p *property) insertParam(at int, q Param) {
	p.params = append(p.params, Param{})
	copy(p.params[at+1:], p.params[at:])
	p.params[at] = q
}

// Convert re-encodes a card as vCard "3.0" or "4.0". A card already in that
// version is returned unchanged. The card must pass Validate; its UID, kind
// and the order of its properties are kept. The output uses CRLF line ends
// and lines folded at 75 octets.
//
// 4.0 → 3.0: KIND → X-ADDRESSBOOKSERVER-KIND, MEMBER → X-ADDRESSBOOKSERVER-MEMBER,
// data: URIs in PHOTO/LOGO/SOUND/KEY → ENCODING=b;TYPE=JPEG (and so on),
// other media URIs get VALUE=uri and MEDIATYPE becomes TYPE, PREF=1 →
// TYPE=pref (other PREF values are dropped), TEL;VALUE=uri:tel:… → plain
// number, ADR;LABEL=… → ADR plus a LABEL property, GEO geo: URI →
// "lat;lon", TZ utc-offset → "±HH:MM" (text zones get VALUE=text). BDAY and
// every other property (year-less --MMDD dates included) are kept as is.
//
// 3.0 → 4.0: the reverse; a LABEL that directly follows an ADR with the
// same TYPE becomes that ADR's LABEL parameter, and a missing FN is built
// from N (or ORG).
func Convert(data []byte, version string) ([]byte, error) {
	if version != "3.0" && version != "4.0" {
		return nil, fmt.Errorf("contacts: cannot convert to vCard version %q", version)
	}
	info, err := Validate(data)
	if err != nil {
		return nil, err
	}
	if info.Version == version {
		return data, nil
	}
	props := parseProperties(data, info.Version == "4.0")
	if version == "3.0" {
		props = to3(props)
	} else {
		props = to4(props)
	}
	return encodeCard(props, version, len(data)), nil
}

// parseProperties reads the properties of a valid card, leaving out BEGIN,
// END and VERSION.
func parseProperties(data []byte, v4 bool) []*property {
	var props []*property
	s := contentline.NewScanner(data)
	var buf []byte
	for {
		l, ok := s.Next()
		if !ok {
			break
		}
		c := s.Text(l, buf)
		if l.Folded {
			buf = c
		}
		if contentline.IsBlank(c) {
			continue
		}
		pl, f := contentline.Parse(string(c), vcardSyntax)
		if f.Code != contentline.OK {
			continue
		}
		name := strings.ToUpper(pl.Name)
		if name == fieldBegin || name == fieldEnd || name == vcard.FieldVersion {
			continue
		}
		p := newProperty(pl, v4)
		props = append(props, &p)
	}
	return props
}

// normalizeParams turns bare parameters into ENCODING or TYPE and merges
// every TYPE parameter into the first one.
func normalizeParams(p *property) {
	typeAt := -1
	out := p.params[:0]
	for _, q := range p.params {
		if q.Values == nil {
			switch q.Name {
			case "B", "BASE64", "QUOTED-PRINTABLE", "8BIT":
				q = Param{Name: paramEncoding, Values: []string{q.Name}}
				if q.Values[0] == "BASE64" {
					q.Values[0] = "b"
				}
			default:
				q = Param{Name: paramType, Values: []string{q.Name}}
			}
		}
		if q.Name == paramType {
			if typeAt >= 0 {
				out[typeAt].Values = append(out[typeAt].Values, q.Values...)
				continue
			}
			typeAt = len(out)
		}
		out = append(out, q)
	}
	p.params = out
}

func decodeCaret(s string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '^' && i+1 < len(s) {
			switch s[i+1] {
			case '^':
				b.WriteByte('^')
				i++
				continue
			case 'n', 'N':
				b.WriteByte('\n')
				i++
				continue
			case '\'':
				b.WriteByte('"')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hasProp(props []*property, name string) bool {
	for _, p := range props {
		if p.name == name {
			return true
		}
	}
	return false
}

func to3(props []*property) []*property {
	hasKind := hasProp(props, vcard.FieldKind)
	out := make([]*property, 0, len(props)+2)
	for _, p := range props {
		switch p.name {
		case vcard.FieldKind:
			p.name = fieldXKind
		case fieldXKind:
			if hasKind {
				continue
			}
		case vcard.FieldMember:
			p.name = fieldXMember
		case vcard.FieldPhoto, vcard.FieldLogo, vcard.FieldSound, vcard.FieldKey:
			media4to3(p)
		case vcard.FieldTelephone:
			if strings.EqualFold(p.first(paramValue), "uri") && asciiHasPrefixFold(p.value, "tel:") {
				p.value = p.value[len("tel:"):]
				p.removeParam(paramValue)
			}
		case vcard.FieldGeolocation:
			geo4to3(p)
		case vcard.FieldTimezone:
			tz4to3(p)
		}
		pref4to3(p)
		out = append(out, p)
		if p.name == vcard.FieldAddress {
			if label := p.param(paramLabel); label != nil {
				text := strings.Join(label.Values, ",")
				p.removeParam(paramLabel)
				l := &property{group: p.group, name: fieldLabel, value: escapeText(text)}
				if t := p.param(paramType); t != nil {
					l.params = []Param{{Name: paramType, Values: append([]string(nil), t.Values...)}}
				}
				out = append(out, l)
			}
		}
	}
	return out
}

func to4(props []*property) []*property {
	hasKind := hasProp(props, vcard.FieldKind)
	hasFN := hasProp(props, vcard.FieldFormattedName)
	out := make([]*property, 0, len(props)+1)
	for _, p := range props {
		switch p.name {
		case fieldXKind:
			if hasKind {
				continue
			}
			p.name = vcard.FieldKind
		case fieldXMember:
			p.name = vcard.FieldMember
		case vcard.FieldPhoto, vcard.FieldLogo, vcard.FieldSound, vcard.FieldKey:
			media3to4(p)
		case vcard.FieldGeolocation:
			geo3to4(p)
		case vcard.FieldTimezone:
			tz3to4(p)
		case fieldLabel:
			if n := len(out); n > 0 {
				adr := out[n-1]
				if adr.name == vcard.FieldAddress && adr.group == p.group && adr.param(paramLabel) == nil &&
					sameTypes(adr, p) && len(p.params) == countParams(p, paramType) {
					adr.params = append(adr.params, Param{Name: paramLabel, Values: []string{unescapeText([]byte(p.value))}})
					continue
				}
			}
		}
		pref3to4(p)
		out = append(out, p)
	}
	if !hasFN {
		fn := &property{name: vcard.FieldFormattedName, value: escapeText(displayName(out))}
		at := 0
		for i, p := range out {
			if p.name == vcard.FieldName {
				at = i
				break
			}
		}
		out = append(out, nil)
		copy(out[at+1:], out[at:])
		out[at] = fn
	}
	return out
}

func countParams(p *property, name string) int {
	n := 0
	for _, q := range p.params {
		if q.Name == name {
			n++
		}
	}
	return n
}

// sameTypes compares the TYPE values of two properties, ignoring case and "pref".
func sameTypes(a, b *property) bool {
	set := func(p *property) map[string]bool {
		m := map[string]bool{}
		if t := p.param(paramType); t != nil {
			for _, v := range t.Values {
				if v = strings.ToLower(v); v != "pref" {
					m[v] = true
				}
			}
		}
		return m
	}
	x, y := set(a), set(b)
	if len(x) != len(y) {
		return false
	}
	for k := range x {
		if !y[k] {
			return false
		}
	}
	return true
}

// displayName builds an FN for a 3.0 card that has none: from N (prefix,
// given, additional, family, suffix), else from the first ORG component.
func displayName(props []*property) string {
	for _, p := range props {
		if p.name != vcard.FieldName {
			continue
		}
		parts := splitStructured(p.value)
		var words []string
		for _, i := range []int{3, 1, 2, 0, 4} {
			if i >= len(parts) {
				continue
			}
			for _, item := range splitUnescaped(parts[i], ',') {
				if w := strings.TrimSpace(unescapeText([]byte(item))); w != "" {
					words = append(words, w)
				}
			}
		}
		if len(words) > 0 {
			return strings.Join(words, " ")
		}
	}
	for _, p := range props {
		if p.name == vcard.FieldOrganization {
			return strings.TrimSpace(unescapeText([]byte(splitStructured(p.value)[0])))
		}
	}
	return ""
}

// pref3to4 turns TYPE=pref into PREF=1.
func pref3to4(p *property) {
	at := p.paramIndex(paramType)
	if at < 0 {
		return
	}
	t := &p.params[at]
	kept := t.Values[:0]
	found := false
	for _, v := range t.Values {
		if strings.EqualFold(v, "pref") {
			found = true
			continue
		}
		kept = append(kept, v)
	}
	t.Values = kept
	if !found {
		return
	}
	hasPref := p.param(paramPref) != nil
	switch {
	case len(kept) == 0 && hasPref:
		p.params = append(p.params[:at], p.params[at+1:]...)
	case len(kept) == 0:
		p.params[at] = Param{Name: paramPref, Values: []string{"1"}}
	case !hasPref:
		p.insertParam(at+1, Param{Name: paramPref, Values: []string{"1"}})
	}
}

// pref4to3 turns PREF=1 into TYPE=pref and drops other PREF values.
func pref4to3(p *property) {
	at := p.paramIndex(paramPref)
	if at < 0 {
		return
	}
	pref := strings.TrimSpace(p.params[at].Values[0]) == "1"
	p.params = append(p.params[:at], p.params[at+1:]...)
	if !pref {
		return
	}
	if t := p.param(paramType); t != nil {
		for _, v := range t.Values {
			if strings.EqualFold(v, "pref") {
				return
			}
		}
		t.Values = append(t.Values, "pref")
		return
	}
	p.insertParam(at, Param{Name: paramType, Values: []string{"pref"}})
}

func isBase64Encoding(enc string) bool {
	return strings.EqualFold(enc, "b") || strings.EqualFold(enc, "base64")
}

func removeSpace(s string) string {
	if !strings.ContainsAny(s, " \t") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// media3to4 turns inline binary data into a data: URI and TYPE into MEDIATYPE.
func media3to4(p *property) {
	if isBase64Encoding(p.first(paramEncoding)) {
		data := removeSpace(p.value)
		mt := mediaType(p.name, p.first(paramType), data)
		p.value = "data:" + mt + ";base64," + data
		p.removeParam(paramEncoding)
		p.removeParam(paramType)
		p.removeParam(paramValue) // VALUE=binary has no meaning for a URI
		return
	}
	if p.param(paramEncoding) != nil {
		return
	}
	if at := p.paramIndex(paramType); at >= 0 && p.param(paramMediaType) == nil {
		if t := p.first(paramType); t != "" {
			p.params[at] = Param{Name: paramMediaType, Values: []string{mediaType(p.name, t, "")}}
		}
	}
}

// media4to3 turns a data: URI into inline binary data, and gives other URIs
// VALUE=uri (the 3.0 default is binary) with MEDIATYPE as TYPE.
func media4to3(p *property) {
	v := p.value
	if strings.Contains(v, `\`) {
		v = unescapeText([]byte(v))
	}
	if asciiHasPrefixFold(v, "data:") {
		if mt, data, ok := parseDataURI(v); ok {
			p.removeParam(paramValue)
			p.removeParam(paramMediaType)
			p.removeParam(paramType)
			p.removeParam(paramEncoding)
			head := []Param{{Name: paramEncoding, Values: []string{"b"}}}
			if t := typeFromMediaType(mt); t != "" {
				head = append(head, Param{Name: paramType, Values: []string{t}})
			}
			p.params = append(head, p.params...)
			p.value = data
			return
		}
	}
	if p.param(paramEncoding) != nil {
		return // inline binary already (not valid 4.0, but seen)
	}
	if p.param(paramValue) == nil {
		p.insertParam(0, Param{Name: paramValue, Values: []string{"uri"}})
	}
	if at := p.paramIndex(paramMediaType); at >= 0 {
		if t := typeFromMediaType(p.params[at].Values[0]); t != "" && p.param(paramType) == nil {
			p.params[at] = Param{Name: paramType, Values: []string{t}}
		} else {
			p.params = append(p.params[:at], p.params[at+1:]...)
		}
	}
}

// parseDataURI splits a data: URI into its media type and base64 payload.
func parseDataURI(v string) (mediaType, b64 string, ok bool) {
	rest := v[len("data:"):]
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return "", "", false
	}
	header, payload := rest[:comma], rest[comma+1:]
	isB64 := false
	if n := len(header); n >= 7 && strings.EqualFold(header[n-7:], ";base64") {
		isB64 = true
		header = header[:n-7]
	}
	if i := strings.IndexByte(header, ';'); i >= 0 {
		header = header[:i]
	}
	mediaType = strings.ToLower(strings.TrimSpace(header))
	if isB64 {
		return mediaType, removeSpace(payload), true
	}
	raw, err := url.PathUnescape(payload)
	if err != nil {
		raw = payload
	}
	return mediaType, base64.StdEncoding.EncodeToString([]byte(raw)), true
}

// mediaType gives the media type for a 3.0 TYPE value of a PHOTO, LOGO,
// SOUND or KEY property; without TYPE it looks at the data.
func mediaType(prop, t, b64 string) string {
	t = strings.TrimSpace(t)
	if strings.Contains(t, "/") {
		return strings.ToLower(t)
	}
	if strings.EqualFold(t, "PGP") {
		return "application/pgp-keys"
	}
	major := "image"
	switch prop {
	case vcard.FieldSound:
		major = "audio"
	case vcard.FieldKey:
		major = "application"
	}
	if t != "" {
		return major + "/" + strings.ToLower(t)
	}
	if len(b64) > 16 {
		b64 = b64[:16]
	}
	head, _ := base64.StdEncoding.DecodeString(b64)
	switch {
	case strings.HasPrefix(string(head), "\xff\xd8\xff"):
		return "image/jpeg"
	case strings.HasPrefix(string(head), "\x89PNG"):
		return "image/png"
	case strings.HasPrefix(string(head), "GIF8"):
		return "image/gif"
	}
	return "application/octet-stream"
}

// typeFromMediaType gives the 3.0 TYPE value for a media type.
func typeFromMediaType(mt string) string {
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "", "application/octet-stream":
		return ""
	case "application/pgp-keys":
		return "PGP"
	}
	if i := strings.IndexByte(mt, '/'); i >= 0 {
		mt = mt[i+1:]
	}
	return strings.ToUpper(mt)
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && s != ""
}

func geo3to4(p *property) {
	parts := splitStructured(p.value)
	if len(parts) == 2 && isNumber(parts[0]) && isNumber(parts[1]) {
		p.value = "geo:" + strings.TrimSpace(parts[0]) + "," + strings.TrimSpace(parts[1])
	}
}

func geo4to3(p *property) {
	if !asciiHasPrefixFold(p.value, "geo:") {
		return
	}
	coords := p.value[len("geo:"):]
	if i := strings.IndexAny(coords, `;\`); i >= 0 {
		coords = coords[:i]
	}
	parts := strings.Split(coords, ",")
	if len(parts) >= 2 && isNumber(parts[0]) && isNumber(parts[1]) {
		p.value = strings.TrimSpace(parts[0]) + ";" + strings.TrimSpace(parts[1])
	}
}

// utcOffset parses "+HH:MM", "+HHMM" or "+HH" into sign, hours and minutes.
func utcOffset(s string) (sign byte, hh, mm string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, "", "", false
	}
	digits := strings.Replace(s[1:], ":", "", 1)
	if len(digits) == 2 {
		digits += "00"
	}
	if len(digits) != 4 {
		return 0, "", "", false
	}
	for i := 0; i < 4; i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, "", "", false
		}
	}
	return s[0], digits[:2], digits[2:], true
}

func tz3to4(p *property) {
	switch v := p.first(paramValue); {
	case v == "" && p.param(paramValue) == nil:
		if sign, hh, mm, ok := utcOffset(p.value); ok {
			p.insertParam(0, Param{Name: paramValue, Values: []string{"utc-offset"}})
			p.value = string(sign) + hh + mm
		}
	case strings.EqualFold(v, "text"):
		p.removeParam(paramValue)
	}
}

func tz4to3(p *property) {
	switch v := p.first(paramValue); {
	case p.param(paramValue) == nil:
		if sign, hh, mm, ok := utcOffset(p.value); ok {
			p.value = string(sign) + hh + ":" + mm
		} else {
			p.insertParam(0, Param{Name: paramValue, Values: []string{"text"}})
		}
	case strings.EqualFold(v, "utc-offset"):
		if sign, hh, mm, ok := utcOffset(p.value); ok {
			p.removeParam(paramValue)
			p.value = string(sign) + hh + ":" + mm
		}
	}
}

// encodeCard writes the properties as a card of the given version.
func encodeCard(props []*property, version string, sizeHint int) []byte {
	v4 := version == "4.0"
	out := make([]byte, 0, sizeHint+sizeHint/32+64)
	out = append(out, "BEGIN:VCARD\r\nVERSION:"...)
	out = append(out, version...)
	out = append(out, "\r\n"...)
	var line []byte
	for _, p := range props {
		line = formatProp(line[:0], p, v4)
		out = contentline.AppendFolded(out, line, "\r\n")
	}
	return append(out, "END:VCARD\r\n"...)
}

func formatProp(b []byte, p *property, v4 bool) []byte {
	if p.group != "" {
		b = append(b, p.group...)
		b = append(b, '.')
	}
	if strings.EqualFold(p.spelling, p.name) {
		b = append(b, p.spelling...)
	} else {
		b = append(b, p.name...)
	}
	for _, q := range p.params {
		b = append(b, ';')
		b = append(b, q.Name...)
		if q.Values == nil {
			continue
		}
		b = append(b, '=')
		for i, v := range q.Values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendParamValue(b, v, v4)
		}
	}
	b = append(b, ':')
	return append(b, p.value...)
}

// appendParamValue writes one parameter value: caret-encoded (RFC 6868) for
// 4.0; for 3.0, which cannot carry them, newlines become spaces and double
// quotes single quotes. Values holding ',', ';' or ':' are quoted.
func appendParamValue(b []byte, v string, v4 bool) []byte {
	if strings.ContainsAny(v, "^\n\r\"") {
		var r *strings.Replacer
		if v4 {
			r = caretEncoder
		} else {
			r = param3Cleaner
		}
		v = r.Replace(v)
	}
	if strings.ContainsAny(v, ",;:") {
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	return append(b, v...)
}

var (
	caretEncoder  = strings.NewReplacer("^", "^^", "\r\n", "^n", "\n", "^n", "\r", "^n", `"`, "^'")
	param3Cleaner = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", `"`, "'")
)

// newProperty builds a property from a parsed line: parameter names
// upper-cased, values unescaped (caret encoding in 4.0), TYPE lists split.
func newProperty(pl contentline.Prop[string], v4 bool) property {
	p := property{group: pl.Group, name: strings.ToUpper(pl.Name), spelling: pl.Name, value: pl.Value}
	contentline.EachParam(pl.Params, vcardSyntax, func(n, raw string, bare bool) bool {
		pn := strings.ToUpper(n)
		if bare {
			p.params = append(p.params, Param{Name: pn})
			return true
		}
		vals := []string{}
		contentline.EachValue(raw, func(v string) bool {
			if v4 {
				v = decodeCaret(v)
			}
			if pn == paramType && strings.Contains(v, ",") {
				vals = append(vals, strings.Split(v, ",")...)
			} else {
				vals = append(vals, v)
			}
			return true
		})
		p.params = append(p.params, Param{Name: pn, Values: vals})
		return true
	})
	normalizeParams(&p)
	return p
}
