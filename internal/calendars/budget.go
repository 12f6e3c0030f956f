package calendars

// The work budget. Every loop that computes occurrences is bounded: by
// year 9999, by a work budget per object that also ends with the request,
// and by a cap on the number of instances visited. Callers learn when a
// bound cut the enumeration short and then answer conservatively.

import (
	"context"
	"errors"
	"sync/atomic"
)

// ruleWork is the work one operation may spend on one object, in units:
// a period, a day, a month skipped or an instance of a rule examined. A
// unit costs some tens of nanoseconds, so the budget holds an object to
// about a tenth of a second; yet a rule that never matches can be scanned
// month by month (day by day where its months pass) up to year 9999.
const ruleWork = 4_000_000

// validateWork is what a PUT may spend. It is half of what a query may
// spend, so that a COUNT rule found to end within it at PUT leaves a query
// the other half for the instances of its window.
const validateWork = ruleWork / 2

// RequestWork is the work budget this package suggests for a whole
// request (see WithWorkBudget): eight objects' worth, about 0.8 s of CPU,
// so that no request costs more than a second however many costly objects
// it meets. A month's calendar-query with expand over 50 000 events, 10%
// recurring, spends about 160 000 units: 200 times less.
const RequestWork = 8 * ruleWork

// ErrBudgetSpent is the error of an operation cut short because the
// request's work budget (WithWorkBudget) ran out.
var ErrBudgetSpent = errors.New("the request's work budget is spent")

// budget is the work a request may still spend on all its objects.
type budget struct{ left atomic.Int64 }

type budgetKey struct{}

// WithWorkBudget returns a context under which Match, Expand,
// BusyPeriods, LimitRecurrenceSet and Validate together spend at most
// units of work, each still within its own limit: a request over many
// costly objects then costs a few objects' worth, not one per object.
// Once it is spent they fail with ErrBudgetSpent. Only the rules of
// recurrences and VTIMEZONEs spend work: objects without them cost
// nothing. The budget may be shared by goroutines.
func WithWorkBudget(ctx context.Context, units int64) context.Context {
	b := &budget{}
	b.left.Store(units)
	return context.WithValue(ctx, budgetKey{}, b)
}

// workCheck is how often, at most, in units, the request's context and
// budget are looked at.
const workCheck = 1 << 12

// firstDraw is the units an object first takes from the request's budget;
// each further draw doubles, up to workCheck. An object is charged for at
// most twice the units it spends, or firstDraw, and rules as clients
// write them spend a few dozen.
const firstDraw = 64

// work is the budget of one operation on one object, tied to the request:
// it runs out when the units are spent, when the request's budget is, or
// when the client has gone.
type work struct {
	ctx    context.Context
	budget *budget // the request's, or nil
	left   int64   // units to spend before the next draw
	rest   int64   // the object's units not drawn yet
	draw   int64   // the size of the next draw
	err    error   // the context's error or ErrBudgetSpent, once seen
}

func newWork(ctx context.Context, units int64) *work {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return &work{ctx: ctx, budget: b, rest: units, draw: firstDraw}
}

// spend takes n units; false when the budget or the request has ended.
func (w *work) spend(n int64) bool {
	w.left -= n
	return w.left >= 0 || w.refill()
}

// refill draws the next units from the object's and the request's
// budgets after a spend left w.left short, and looks at the context.
func (w *work) refill() bool {
	need := -w.left
	if w.err != nil || need > w.rest {
		w.rest, w.left = 0, -1 // spent for good
		return false
	}
	if w.err = w.ctx.Err(); w.err != nil {
		w.left = -1
		return false
	}
	d := max(min(w.draw, w.rest), need)
	if w.budget != nil && w.budget.left.Add(-d) < 0 {
		w.err = ErrBudgetSpent
		w.left = -1
		return false
	}
	w.rest -= d
	w.left += d
	w.draw = min(2*w.draw, workCheck)
	return true
}
