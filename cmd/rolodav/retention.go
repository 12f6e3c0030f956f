package main

import (
	"errors"
	"flag"
	"strconv"
	"strings"
	"time"

	"github.com/rolodav/rolodav/internal/maintenance"
)

// retentionFlag is --tombstone-retention of serve.
func retentionFlag(fs *flag.FlagSet) *days {
	d := days(maintenance.DefaultRetention)
	fs.Var(&d, "tombstone-retention", "how long deletions are kept for syncing phones, e.g. 90d or 720h; a phone that has not synced for longer downloads everything again; 0 or never: kept for ever")
	return &d
}

// days is a flag value for a duration that is usually days long: "90d",
// a Go duration ("720h"), or "never" for 0.
type days time.Duration

var errDays = errors.New("want a duration such as 90d or 720h, or never")

func (d *days) Set(s string) error {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "never" || v == "0" {
		*d = 0
		return nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil || i < 0 || i > int64(1<<63-1)/int64(24*time.Hour) {
			return errDays
		}
		*d = days(time.Duration(i) * 24 * time.Hour)
		return nil
	}
	t, err := time.ParseDuration(v)
	if err != nil || t < 0 {
		return errDays
	}
	*d = days(t)
	return nil
}

// String gives whole days as "90d".
func (d *days) String() string {
	t := time.Duration(*d)
	switch {
	case t == 0:
		return "never"
	case t%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(t/(24*time.Hour)), 10) + "d"
	}
	return t.String()
}
