package main

import (
	"testing"
	"time"
)

func TestDays(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"90d": 90 * day, " 7D ": 7 * day, "0d": 0, "0": 0, "never": 0, "Never": 0, "720h": 30 * day, "90m": 90 * time.Minute,
	} {
		var d days
		if err := d.Set(in); err != nil || time.Duration(d) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"", "-1d", "-5h", "1.5d", "d", "ten", "90", "999999999999d", "5x"} {
		var d days
		if err := d.Set(in); err == nil {
			t.Errorf("Set(%q) accepted: %v", in, time.Duration(d))
		}
	}
	for v, want := range map[time.Duration]string{0: "never", 90 * day: "90d", 36 * time.Hour: "36h0m0s"} {
		d := days(v)
		if got := d.String(); got != want {
			t.Errorf("String(%v) = %q, want %q", v, got, want)
		}
	}
}
