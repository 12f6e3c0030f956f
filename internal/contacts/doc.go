// Package contacts handles vCard data for rolodav: validation, UID
// insertion, conversion between vCard 3.0 (RFC 2426) and 4.0 (RFC 6350),
// property selection and addressbook-query filters for CardDAV (RFC 6352),
// and splitting of .vcf streams.
//
// The package is pure: cards in, values out; it knows neither HTTP nor SQL.
//
// Cards are handled at the content-line level, with the lexer of internal/contentline
// rather than the decoder and encoder of github.com/emersion/go-vcard: the
// server must keep every byte of a card it does not change (AddUID, Select),
// report errors with line numbers, keep the order of properties, quote
// parameter values that need it and fold long lines. The names of properties
// and parameters come from go-vcard.
//
// Lines may end in CRLF or LF; folded continuation lines (starting with a
// space or a tab) are unfolded before a line is interpreted. Output written
// by this package (Convert) always uses CRLF and folds lines at 75 octets
// without splitting a UTF-8 sequence.
package contacts
