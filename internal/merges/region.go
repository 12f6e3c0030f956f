package merges

import (
	"strings"

	"github.com/rolodav/rolodav/internal/store"
)

// Region is the phone region the books of u are matched with (Load's
// region): u's own setting, else server, the server's default (serve
// --region), else "" (a number without a country code then matches only
// the same number written without one). Every matcher run for a user's
// books takes its region from here, so that their setting counts
// wherever their books are matched.
func Region(u *store.User, server string) string {
	if u != nil && u.Region != "" {
		return u.Region
	}
	return strings.ToUpper(server)
}
