package calendars

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// The request's work budget, counted in units: what each object is
// charged, and what happens once it is spent.
func TestRequestWorkBudget(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse("20060102T150405Z", s); return t }
	from, to := day("20260301T000000Z"), day("20260401T000000Z")
	month := tcQuery(CompFilter{Name: VEVENT, TimeRange: &TimeRange{Start: from, End: to}})
	// No instance after DTSTART, found out only by walking the window.
	costly := tcCal(tcEvent("DTSTART:20250105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1")...)
	plain := tcCal(tcEvent("DTSTART:20260310T090000Z", "DURATION:PT1H")...)
	weekly := tcCal(tcEvent("DTSTART;TZID=Europe/Berlin:20200106T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR")...)

	ctx := WithWorkBudget(bg, 3*ruleWork+ruleWork/2)
	left := func() int64 { return ctx.Value(budgetKey{}).(*budget).left.Load() }
	match := func(what string, data []byte) (bool, error) {
		t.Helper()
		before := left()
		ok, err := Match(ctx, data, month, nil)
		t.Logf("%s: matches %v, error %v, %d units", what, ok, err, before-left())
		return ok, err
	}

	start := left()
	if ok, err := match("plain", plain); !ok || err != nil || left() != start {
		t.Errorf("an event without recurrence: matches %v, error %v, charged %d units, want 0", ok, err, start-left())
	}
	if ok, err := match("weekly", weekly); !ok || err != nil || start-left() > firstDraw {
		t.Errorf("a weekly rule: matches %v, error %v, charged %d units, want at most %d", ok, err, start-left(), firstDraw)
	}
	// Each costly object spends its own budget, all of it, and is taken
	// to match (a spurious match is the lesser evil) ...
	for i := range 3 {
		before := left()
		if ok, err := match("costly", costly); !ok || err != nil || before-left() != ruleWork {
			t.Fatalf("costly object %d: matches %v, error %v, charged %d units, want %d", i, ok, err, before-left(), ruleWork)
		}
	}
	// ... until the request's budget runs out within the fourth.
	if _, err := match("costly", costly); !errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("the fourth costly object: error %v, want ErrBudgetSpent", err)
	}
	// From then on, what needs work fails at once and what needs none is
	// still answered.
	if ok, err := match("plain", plain); !ok || err != nil {
		t.Errorf("an event without recurrence, budget spent: matches %v, error %v", ok, err)
	}
	for _, data := range [][]byte{costly, weekly} {
		if _, err := Match(ctx, data, month, nil); !errors.Is(err, ErrBudgetSpent) {
			t.Errorf("Match: %v", err)
		}
		if _, _, err := Expand(ctx, data, from, to, nil); !errors.Is(err, ErrBudgetSpent) {
			t.Errorf("Expand: %v", err)
		}
		if _, err := BusyPeriods(ctx, data, from, to, nil); !errors.Is(err, ErrBudgetSpent) {
			t.Errorf("BusyPeriods: %v", err)
		}
	}
	// A VTIMEZONE's rules need work too (the zone is new, not cached).
	tz := tcCal("BEGIN:VTIMEZONE", "TZID:Budget/Test", "BEGIN:STANDARD", "DTSTART:19701025T030000", "TZOFFSETFROM:+0200",
		"TZOFFSETTO:+0100", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD", "END:VTIMEZONE",
		"BEGIN:VEVENT", "UID:tz", "DTSTAMP:20260101T000000Z", "DTSTART;TZID=Budget/Test:20260310T090000", "END:VEVENT")
	if _, err := Match(ctx, tz, month, nil); !errors.Is(err, ErrBudgetSpent) {
		t.Errorf("custom zone: %v", err)
	}
	if ok, err := Match(bg, tz, month, nil); !ok || err != nil {
		t.Errorf("custom zone without a request budget: matches %v, error %v", ok, err)
	}
}

// Goroutines may share a request's budget: together they spend no more
// than it holds, and no more than their own budgets allow.
func TestRequestWorkBudgetShared(t *testing.T) {
	costly := tcCal(tcEvent("DTSTART:20250105T090000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1")...)
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	const units = ruleWork / 4
	ctx := WithWorkBudget(bg, units)
	var wg sync.WaitGroup
	var spent sync.Map
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := BusyPeriods(ctx, costly, from, to, nil)
			spent.Store(i, errors.Is(err, ErrBudgetSpent))
		}()
	}
	wg.Wait()
	n := 0
	spent.Range(func(_, v any) bool {
		if v.(bool) {
			n++
		}
		return true
	})
	if n != 4 {
		t.Errorf("%d of 4 operations ran out of the shared budget", n)
	}
	// A draw that failed is charged too: one per operation at most.
	if left := ctx.Value(budgetKey{}).(*budget).left.Load(); left > 0 || left < -4*workCheck {
		t.Errorf("budget left %d", left)
	}
}
