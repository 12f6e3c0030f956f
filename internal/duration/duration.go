// Package duration words a length of time for people: "15 minutes", not
// Go's "15m0s". Every message a person reads (pages, mails, command
// output, DAV error bodies) says a duration through Words.
package duration

import (
	"strconv"
	"time"
)

// Words says d in the largest units that fit, at most two of them: "1
// second", "40 seconds", "15 minutes", "1 hour 30 minutes", "2 days 3
// hours". It rounds up to the smallest unit it names, so that a wait is
// never told shorter than it is ("Try again in 2 minutes" for 61 s), and
// says "0 seconds" for d <= 0.
func Words(d time.Duration) string {
	if d <= 0 {
		return "0 seconds"
	}
	if s := ceil(d, time.Second); s < 60 {
		return count(s, "second")
	}
	m := ceil(d, time.Minute)
	switch {
	case m < 60:
		return count(m, "minute")
	case m < 24*60:
		return pair(m/60, "hour", m%60, "minute")
	}
	h := ceil(d, time.Hour)
	return pair(h/24, "day", h%24, "hour")
}

// ceil is how many units d holds, rounded up.
func ceil(d, unit time.Duration) int64 {
	n := int64(d / unit)
	if d%unit != 0 {
		n++ // without overflowing d + unit - 1 near the largest duration
	}
	return n
}

func pair(n int64, unit string, rest int64, restUnit string) string {
	if rest == 0 {
		return count(n, unit)
	}
	return count(n, unit) + " " + count(rest, restUnit)
}

func count(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
