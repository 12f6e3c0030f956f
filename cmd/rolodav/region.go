package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rolodav/rolodav/internal/contacts"
)

// regionFlag checks a --region value: a typo would silently mean "no
// country", and numbers without a country code would then match nothing.
func regionFlag(v string) (string, error) {
	r := strings.ToUpper(strings.TrimSpace(v))
	if r == "" || slices.Contains(contacts.PhoneRegions(), r) {
		return r, nil
	}
	return "", usageError{fmt.Sprintf("--region %q is not a country code of phone numbers (two letters, e.g. DE, US or GB)", v)}
}
