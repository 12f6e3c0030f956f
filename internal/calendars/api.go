package calendars

import "time"

// Components a calendar collection can hold.
const (
	VEVENT   = "VEVENT"
	VTODO    = "VTODO"
	VJOURNAL = "VJOURNAL"
)

// Info is what the server needs to know about a valid calendar object.
type Info struct {
	UID       string
	Component string // VEVENT, VTODO or VJOURNAL
	// Start and End bound every occurrence of the object (the whole
	// recurrence set, overrides included) for the store's range index.
	// Zero Start means unbounded in the past, zero End unbounded in the
	// future. Floating times are widened so that any time zone fits.
	Start, End time.Time
}

// ValidationError says why data is not an acceptable calendar object.
// Condition is the CalDAV precondition it fails: "valid-calendar-data",
// "valid-calendar-object-resource" or "supported-calendar-component".
type ValidationError struct {
	Line      int // 1-based, 0 when it concerns the whole object
	Condition string
	Msg       string
}

// TimeRange is a CalDAV time-range; a zero bound is unbounded.
type TimeRange struct{ Start, End time.Time }

// TextMatch is a CalDAV text-match (RFC 4791 9.7.5).
type TextMatch struct {
	Text      string
	Collation string // "i;ascii-casemap" (default), "i;octet"; "i;unicode-casemap" accepted too
	Negate    bool
}

// CompFilter is a CalDAV comp-filter (RFC 4791 9.7.1); the query's filter
// is a CompFilter named VCALENDAR.
type CompFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	Props        []PropFilter
	Comps        []CompFilter
}

// PropFilter is a CalDAV prop-filter (RFC 4791 9.7.2).
type PropFilter struct {
	Name         string
	IsNotDefined bool
	TimeRange    *TimeRange
	TextMatch    *TextMatch
	Params       []ParamFilter
}

// ParamFilter is a CalDAV param-filter (RFC 4791 9.7.3).
type ParamFilter struct {
	Name         string
	IsNotDefined bool
	TextMatch    *TextMatch
}

// CompRequest selects parts of calendar-data (RFC 4791 9.6.1): which
// properties and sub-components to return.
type CompRequest struct {
	Name     string
	AllProps bool
	Props    []string
	AllComps bool
	Comps    []CompRequest
}

// Period is one busy time in a free-busy answer.
type Period struct {
	Start, End time.Time
	Type       string // BUSY, BUSY-TENTATIVE or BUSY-UNAVAILABLE
}
