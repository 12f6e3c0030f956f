package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rolodav/rolodav/internal/dedup"
)

// The "why" of a group, when dedup gives one, is a line of the text output
// and a field of the JSON; without it neither shows.
func TestPrintGroupsWhy(t *testing.T) {
	groups := []dedup.Group{
		{ID: "g1", Band: dedup.BandAuto, Score: 0.99, UIDs: []string{"a", "b"}, Why: []dedup.Reason{
			{Field: "family", Level: "close", Weight: 4.2}, {Field: "birthday", Level: "exact", Weight: 9.1}, {Field: "given", Level: "different", Weight: -3}}},
		{ID: "g2", Band: dedup.BandReview, Score: 0.5, UIDs: []string{"c", "d"}},
	}
	name := func(uid string) string { return "Card " + uid }
	var text strings.Builder
	if err := printGroups(&text, "text", 4, groups, name); err != nil {
		t.Fatal(err)
	}
	want := "  why: birthday identical (+9.1), family name nearly the same (+4.2), given name different (−3.0)\n"
	if strings.Count(text.String(), "why:") != 1 || !strings.Contains(text.String(), "  Card b"+strings.Repeat(" ", 26)+" b\n"+want) {
		t.Errorf("text output:\n%s", text.String())
	}
	var js strings.Builder
	if err := printGroups(&js, "json", 4, groups, name); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Groups []struct {
			ID  string `json:"id"`
			Why *[]struct {
				Field  string  `json:"field"`
				Level  string  `json:"level"`
				Weight float64 `json:"weight"`
			} `json:"why"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(js.String()), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Groups) != 2 || out.Groups[0].Why == nil || len(*out.Groups[0].Why) != 3 || (*out.Groups[0].Why)[1].Field != "birthday" ||
		(*out.Groups[0].Why)[2].Weight != -3 || out.Groups[1].Why != nil {
		t.Errorf("JSON output: %s", js.String())
	}
}
