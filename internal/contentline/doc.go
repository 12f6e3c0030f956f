// Package contentline reads the content lines that vCard (RFC 6350, and the
// 3.0 and 2.1 forms real address books still hold) and iCalendar (RFC 5545)
// share, and folds them for writing: physical lines ended by LF or CRLF,
// folded with a leading space or tab, and unfolded into
//
//	[group "."] name *(";" param-name ["=" param-value *("," param-value)]) ":" value
//
// with parameter values either quoted (DQUOTE … DQUOTE) or free of
// ';', ':' and ','. How a parameter value is quoted on the way out differs
// by format and stays with the callers.
//
// rolodav reads both formats with this package rather than with go-vcard's
// or go-ical's decoders because it needs three things they do not give:
//
//   - The bytes are kept. A Line is made of offsets into the data and a
//     Prop is made of sub-slices of its line, so a card or an event can be
//     served, cut down, split and joined with every line as the client wrote
//     it; the decoders build maps (properties grouped by name, parameters
//     sorted) and write their own form back.
//   - Errors name a line. Each Line carries the physical line number it
//     starts on, which the callers put in their error messages; the decoders
//     report none.
//   - Work is bounded on hostile input. Reading is one forward pass without
//     backtracking or recursion, and allocates nothing: an unfolded line is
//     assembled in a buffer the caller reuses, and everything else points
//     into the data. (go-ical's decoder also panicked on some malformed lines.)
//
// The package knows the grammar only. What a property means, text escaping,
// the component tree and the errors a format reports stay with the callers
// (contacts, calendars); a Fault says where a line breaks the grammar and
// each caller words it. The readers of the two formats differ in details real
// data depends on (vCard groups and bare parameters, iCalendar names with
// dots); Syntax selects them.
package contentline
