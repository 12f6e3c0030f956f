package duration

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                      "0 seconds",
		0:                                 "0 seconds",
		time.Millisecond:                  "1 second",
		time.Second:                       "1 second",
		40 * time.Second:                  "40 seconds",
		59*time.Second + time.Millisecond: "1 minute",
		time.Minute:                       "1 minute",
		time.Minute + time.Second:         "2 minutes",
		2 * time.Minute:                   "2 minutes",
		15 * time.Minute:                  "15 minutes",
		14*time.Minute + 59*time.Second:   "15 minutes",
		time.Hour:                         "1 hour",
		time.Hour + time.Second:           "1 hour 1 minute",
		90 * time.Minute:                  "1 hour 30 minutes",
		2 * time.Hour:                     "2 hours",
		24 * time.Hour:                    "1 day",
		25 * time.Hour:                    "1 day 1 hour",
		48 * time.Hour:                    "2 days",
		14*24*time.Hour - time.Minute:     "14 days",
		3*24*time.Hour + 90*time.Minute:   "3 days 2 hours",
	} {
		if got := Words(d); got != want {
			t.Errorf("Words(%v) = %q, want %q", d, got, want)
		}
	}
}

// The largest durations read as days, not as a negative number of seconds.
func TestWordsHuge(t *testing.T) {
	for _, d := range []time.Duration{math.MaxInt64, math.MaxInt64 - time.Millisecond, time.Duration(math.MaxInt64/time.Second) * time.Second} {
		if got := Words(d); strings.HasPrefix(got, "-") || !strings.Contains(got, "day") {
			t.Errorf("Words(%d) = %q, want days", int64(d), got)
		}
	}
}
