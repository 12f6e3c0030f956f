package main

import (
	"errors"
	"flag"
	"math"
	"strconv"
	"strings"
)

// defaultQuota is --quota-per-user unless set: generous for contacts and
// calendars (a card is a few KB), small next to a disk.
const defaultQuota = 1 << 30

// quotaFlag is --quota-per-user, for the commands that write what users
// store.
func quotaFlag(fs *flag.FlagSet) *byteSize {
	q := byteSize(defaultQuota)
	fs.Var(&q, "quota-per-user", "storage each user may fill, e.g. 500MB or 2GiB (K, M, G, T are powers of 1024); 0 or unlimited: no limit")
	return &q
}

// byteSize is a flag value in bytes: a whole number with an optional unit
// K, M, G or T (powers of 1024; KB, KiB and so on mean the same), or
// "unlimited" for 0.
type byteSize int64

// unitShifts maps a lower-case unit to its power of two.
var unitShifts = map[string]uint{"": 0, "b": 0}

func init() {
	for shift, u := range map[uint]string{10: "k", 20: "m", 30: "g", 40: "t"} {
		unitShifts[u], unitShifts[u+"b"], unitShifts[u+"ib"] = shift, shift, shift
	}
}

var errSize = errors.New("want a size such as 500MB, 2GiB or 1073741824, or unlimited")

func (b *byteSize) Set(s string) error {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "unlimited" {
		*b = 0
		return nil
	}
	i := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(v)
	}
	shift, ok := unitShifts[strings.TrimSpace(v[i:])]
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if !ok || err != nil || n > math.MaxInt64>>shift {
		return errSize
	}
	*b = byteSize(n << shift)
	return nil
}

// String gives the largest unit that is exact: 1073741824 is "1GiB".
func (b *byteSize) String() string {
	n := int64(*b)
	if n == 0 {
		return "unlimited"
	}
	for _, u := range []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
