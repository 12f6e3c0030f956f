// Package calendars handles iCalendar objects (RFC 5545) for CalDAV
// (RFC 4791): validation, the time span of a recurrence set, query filters,
// expansion, free-busy, partial retrieval and .ics split/join. It is pure:
// bytes in, values out; no HTTP, no SQL.
//
// It uses neither github.com/emersion/go-ical nor
// github.com/teambition/rrule-go, for reasons a server has and their users
// mostly do not:
//
//   - Bytes are kept. An object is stored as the client sent it, and what
//     the server writes (a split .ics, a selected part, an expansion) changes
//     only what it must. go-ical decodes into maps and encodes anew.
//   - Errors name their line: content lines are read by
//     internal/contentline, which keeps physical line numbers and byte
//     offsets.
//   - Work is bounded. Every expansion spends from a budget per object and
//     per request (budget.go) and stops with the request's context. rrule-go
//     can loop for ever on a rule whose INTERVAL never meets its BYSECOND,
//     panics on some valid BYDAY values and scans a rule that selects
//     nothing to the year 9999.
//   - Queries seek. The rule iterator jumps to a time range instead of
//     walking from DTSTART.
//   - RFC 5545 as written: DTSTART counts as the first instance, skipped
//     and repeated wall times follow §3.3.5, VTIMEZONE definitions become
//     real zones (zones.go), and floating and date-only values stay what
//     they are.
//
// rrule_diff_test.go compares the RRULE engine with rrule-go on the rules
// both get right, and names each rule shape where rrule-go departs from the
// RFC; the oracle tests compare spans and expansions with a brute-force
// expander.
//
// Files: parse.go (the component tree and value types), validate.go,
// span.go (the span the store indexes), zones.go, rrule.go (RRULE parsing
// and the rule iterator), recurset.go (RDATE, EXDATE, overrides), budget.go,
// filter.go (calendar-query), expand.go, freebusy.go, select.go (partial
// retrieval), split.go and join.go (.ics files).
package calendars
