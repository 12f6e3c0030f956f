package migrate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/notices"
	"github.com/rolodav/rolodav/internal/store"
)

// A tracked migration keeps a store.Migration current while it runs: the
// pages show its progress from that record, from any server process and
// for the command line's runs alike, and the activity page lists it
// afterwards. When it ends, the user gets a confirmation mail (package
// notices, kind store.NoticeMigration; none for a dry run).

// ErrRunning refuses a migration while the user has one running.
var ErrRunning = errors.New("a migration from another provider is already running for this account")

// Timing of the writes of a tracked migration's record.
const (
	// ReportEvery is the least time between two writes of its progress.
	ReportEvery = time.Second
	// HeartbeatEvery is the most time between two writes while it runs,
	// progress or not: well within store.MigrationStale, after which it
	// would count as interrupted.
	HeartbeatEvery = 30 * time.Second
)

// StoppedError is Migration.Error of a migration whose context ended: the
// server shut down, or the command line was interrupted. Its State is
// store.MigrationInterrupted, as for a process that died.
const StoppedError = "Stopped before the end: the server shut down or the command was interrupted. " +
	"Start it again: what was brought over stays, and nothing is added twice."

// Bounds of what a Report keeps, so that it stays within
// store.MaxMigrationReport whatever the source serves.
const (
	reportProblems = 100 // problems listed per collection
	reportText     = 500 // bytes of one name, URL or message
	finishTimeout  = 30 * time.Second
)

// Statuses of a ReportCollection.
const (
	StatusWaiting    = "waiting"     // not started
	StatusRunning    = "running"     // being read
	StatusDone       = "done"        // every object was read
	StatusStopped    = "stopped"     // the migration ended while it was read
	StatusNotReached = "not reached" // the migration ended before it
	StatusCounted    = "counted"     // dry run
)

// Report is a tracked migration's Migration.Report (JSON): its progress
// while it runs, what it did once Ended.
type Report struct {
	Only        string             `json:"only,omitempty"` // Options.Only
	DryRun      bool               `json:"dry_run,omitempty"`
	Principal   string             `json:"principal,omitempty"` // the source account's
	Collections []ReportCollection `json:"collections"`
	// MoreCollections counts the collections left out to keep the report
	// within store.MaxMigrationReport.
	MoreCollections int `json:"more_collections,omitempty"`
	// Ended: the counts are final.
	Ended bool `json:"ended"`
}

// ReportCollection is one source collection, where it goes, and what
// became of its objects so far.
type ReportCollection struct {
	Source     string     `json:"source"`      // its URL at the source
	SourceName string     `json:"source_name"` // its display name, else its name
	Kind       store.Kind `json:"kind"`
	Dest       string     `json:"dest"`      // the name of the user's collection
	DestName   string     `json:"dest_name"` // its display name
	Created    bool       `json:"created,omitempty"`
	Why        string     `json:"why,omitempty"` // Planned.Why
	Status     string     `json:"status"`
	Read       int        `json:"read"` // objects read from the source so far
	// The counts of imports.Result; while it runs, only Rejected and
	// Skipped (told as they happen) are known.
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Skipped   int `json:"skipped"`
	Rejected  int `json:"rejected"`
	Folded    int `json:"folded,omitempty"`
	Absorbed  int `json:"absorbed,omitempty"`
	OverQuota int `json:"over_quota,omitempty"`
	// Before, Incremental, DeletedAtSource and Unreadable: see
	// CollectionResult.
	Before          int64 `json:"before"`
	Incremental     bool  `json:"incremental,omitempty"`
	DeletedAtSource int   `json:"deleted_at_source,omitempty"`
	Unreadable      int   `json:"unreadable,omitempty"`
	DryRunCount     int   `json:"dry_run_count,omitempty"`
	// OfferDuplicates: see CollectionResult.OfferDuplicates.
	OfferDuplicates bool `json:"offer_duplicates,omitempty"`
	// Routed is where objects went that Dest does not take, by name
	// (CollectionResult.Routed); they are in the counts above too.
	Routed       []ReportRoute   `json:"routed,omitempty"`
	Problems     []ReportProblem `json:"problems,omitempty"`
	MoreProblems int             `json:"more_problems,omitempty"`
}

// ReportRoute is the user's collection that some objects of a source
// collection went to, because their component is not one Dest takes.
type ReportRoute struct {
	Dest       string   `json:"dest"`       // the name of the user's collection
	DestName   string   `json:"dest_name"`  // its display name
	Components []string `json:"components"` // the components that went there: "VTODO"…
	Objects    int      `json:"objects"`
}

// ReportProblem is an object rejected, or skipped because its content is
// here under another UID.
type ReportProblem struct {
	Ref     string `json:"ref,omitempty"` // its name at the source
	Skipped bool   `json:"skipped,omitempty"`
	Msg     string `json:"msg"`
}

// Totals are a report's counts over its collections, as the confirmation
// mail gives them.
type Totals struct {
	Added       int
	Updated     int // updated, folded into a merged card, or absorbed by one
	Skipped     int // already here
	NotImported int // rejected, unreadable or over the quota
}

// Totals adds up the counts of r's collections.
func (r *Report) Totals() Totals {
	var t Totals
	for _, c := range r.Collections {
		t.Added += c.Added
		t.Updated += c.Updated + c.Folded + c.Absorbed
		t.Skipped += c.Skipped
		t.NotImported += c.Rejected + c.OverQuota
	}
	return t
}

// ParseReport reads a Migration.Report.
func ParseReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("migration report: %w", err)
	}
	return &r, nil
}

// TrackStore is what a tracked migration needs of the store: Run's, and
// the outbox of its confirmation mail.
type TrackStore interface {
	Store
	notices.Store
}

// Tracked is a migration recorded in the store, to be run once.
type Tracked struct {
	st  TrackStore
	opt Options
	id  int64
	m   store.Migration // written by the writer while it runs, then by finish
	// every and beat are ReportEvery and HeartbeatEvery (tests shorten
	// them).
	every, beat time.Duration

	mu    sync.Mutex
	rep   Report
	dirty bool // rep changed since the last write
}

// Track records a migration of opt's source account into owner's
// collections as running (store.StartMigration), with its source URL
// (without credentials) and login; the password is neither stored nor put
// in the report. ErrRunning: owner has one running.
func Track(ctx context.Context, st TrackStore, owner string, opt Options) (*Tracked, error) {
	t := &Tracked{st: st, opt: opt, every: ReportEvery, beat: HeartbeatEvery,
		rep: Report{Only: opt.Only, DryRun: opt.DryRun, Collections: []ReportCollection{}}}
	t.m = store.Migration{Owner: owner, Source: t.clean(withoutCredentials(opt.URL)),
		SourceUser: t.clean(opt.User), Started: time.Now()}
	t.m.Report = t.encode()
	if err := st.StartMigration(ctx, &t.m); errors.Is(err, store.ErrExists) {
		return nil, ErrRunning
	} else if err != nil {
		return nil, fmt.Errorf("migrate: recording the migration: %w", err)
	}
	t.id = t.m.ID
	return t, nil
}

// ID is the migration's store.Migration ID; it may be read while the
// migration runs.
func (t *Tracked) ID() int64 { return t.id }

// Run runs the migration (the function Run) and keeps its record current:
// the progress at most every ReportEvery, and at least every
// HeartbeatEvery; then the summary and the final state, done or failed
// (Error: the error's text, a *SourceError's sentence), or interrupted
// with StoppedError when ctx ended; then it queues the confirmation mail.
// It returns Run's answer, joined with any failure to record the end or
// to queue the mail.
func (t *Tracked) Run(ctx context.Context) (*Summary, error) {
	opt := t.opt
	opt.OnPlan = func(p *Plan) {
		t.plan(p)
		if t.opt.OnPlan != nil {
			t.opt.OnPlan(p)
		}
	}
	opt.Progress = func(p Progress) {
		t.progress(p)
		if t.opt.Progress != nil {
			t.opt.Progress(p)
		}
	}
	opt.OnProblem = func(c *Planned, p imports.Problem) {
		t.problem(c, p)
		if t.opt.OnProblem != nil {
			t.opt.OnProblem(c, p)
		}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		defer close(stopped)
		t.write(ctx, stop, cancel)
	}()
	sum, err := Run(runCtx, t.st, t.m.Owner, opt)
	if err != nil && errors.Is(context.Cause(runCtx), ErrTakenOver) {
		err = ErrTakenOver
	}
	close(stop)
	<-stopped
	return sum, errors.Join(err, t.finish(ctx, sum, err))
}

// ErrTakenOver stops a run whose record another start marked
// interrupted: it had stalled past store.MigrationStale, and a new run
// took its place.
var ErrTakenOver = errors.New("migrate: this run stalled and another took its place")

// write writes the progress while the migration runs, until stop. When
// the store says the record is no longer running (another start took its
// place), it stops the run with ErrTakenOver.
func (t *Tracked) write(ctx context.Context, stop <-chan struct{}, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		dirty := t.dirty
		t.mu.Unlock()
		if !dirty && time.Since(last) < t.beat {
			continue
		}
		last = time.Now()
		t.m.Heartbeat, t.m.Report = last, t.encode()
		// A failed write is tried again at the next tick; the end is
		// written whatever happened meanwhile.
		if err := t.st.UpdateMigration(ctx, &t.m); errors.Is(err, store.ErrPrecondition) {
			cancel(ErrTakenOver)
			return
		}
	}
}

func (t *Tracked) plan(p *Plan) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rep.Principal = t.clean(p.Principal)
	t.rep.Collections = make([]ReportCollection, len(p.Collections))
	for i := range p.Collections {
		t.rep.Collections[i] = t.planned(&p.Collections[i])
	}
	t.dirty = true
}

func (t *Tracked) planned(p *Planned) ReportCollection {
	return ReportCollection{
		Source:     t.clean(p.Source.URL),
		SourceName: t.clean(cmp.Or(p.Source.DisplayName, p.Source.Name)),
		Kind:       p.Dest.Kind,
		Dest:       t.clean(p.Dest.Name),
		DestName:   t.clean(cmp.Or(p.Dest.DisplayName, p.Dest.Name)),
		Created:    p.Create,
		Why:        p.Why,
		Status:     StatusWaiting,
	}
}

func (t *Tracked) progress(p Progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.rep.Collections
	if p.Collection < 0 || p.Collection >= len(cs) {
		return // not in the plan told: the summary will say
	}
	for i := range p.Collection {
		if cs[i].Status == StatusWaiting || cs[i].Status == StatusRunning {
			cs[i].Status = StatusDone
		}
	}
	cs[p.Collection].Status, cs[p.Collection].Read = StatusRunning, p.Done
	t.dirty = true
}

func (t *Tracked) problem(c *Planned, p imports.Problem) {
	t.mu.Lock()
	defer t.mu.Unlock()
	src := t.clean(c.Source.URL)
	for i := range t.rep.Collections {
		rc := &t.rep.Collections[i]
		if rc.Source != src {
			continue
		}
		if p.Skipped {
			rc.Skipped++
		} else {
			rc.Rejected++
		}
		if len(rc.Problems) < reportProblems {
			rc.Problems = append(rc.Problems, t.reportProblem(p))
		} else {
			rc.MoreProblems++
		}
		t.dirty = true
		return
	}
}

func (t *Tracked) reportProblem(p imports.Problem) ReportProblem {
	msg := p.Msg
	if p.Line > 1 {
		msg = fmt.Sprintf("line %d: %s", p.Line, msg)
	}
	return ReportProblem{Ref: t.clean(p.Ref), Skipped: p.Skipped, Msg: t.clean(msg)}
}

// finish writes the end of the migration, and queues its mail.
func (t *Tracked) finish(ctx context.Context, sum *Summary, runErr error) error {
	stopped := runErr != nil && ctx.Err() != nil
	// The run's context may have ended: the end is written all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	t.mu.Lock()
	t.summarize(sum, runErr)
	t.rep.Ended = true
	totals := t.rep.Totals()
	t.mu.Unlock()
	now := time.Now()
	t.m.Heartbeat, t.m.Finished, t.m.Report = now, now, t.encode()
	switch {
	case runErr == nil:
		t.m.State = store.MigrationDone
	case stopped:
		t.m.State, t.m.Error = store.MigrationInterrupted, StoppedError
	default:
		msg := runErr.Error()
		var se *SourceError
		if errors.As(runErr, &se) {
			msg = se.Error() // the sentence, without what wraps it
		}
		t.m.State, t.m.Error = store.MigrationFailed, t.clean(msg)
	}
	var errs []error
	err := t.st.UpdateMigration(ctx, &t.m)
	if err != nil {
		errs = append(errs, fmt.Errorf("migrate: recording the end of migration %d: %w", t.m.ID, err))
	}
	// A --map that does not fit the source is the caller's mistake, told
	// at once; the run did nothing worth a mail. Nor did a run whose place
	// another took (its record is no longer its own).
	var me *MapError
	if !t.opt.DryRun && !errors.As(runErr, &me) && !errors.Is(err, store.ErrPrecondition) {
		host := ""
		if u, err := url.Parse(t.m.Source); err == nil {
			host = u.Hostname()
		}
		_, err := notices.Queue(ctx, t.st, store.Notice{Login: t.m.Owner, Kind: store.NoticeMigration, Time: now,
			Detail: fmt.Sprintf("%s %d %d %d %d %s", t.m.State, totals.Added, totals.Updated, totals.Skipped, totals.NotImported, host)})
		if err != nil {
			errs = append(errs, fmt.Errorf("migrate: the confirmation mail: %w", err))
		}
	}
	return errors.Join(errs...)
}

// summarize puts what sum says into the report; the caller holds mu. The
// collections sum does not have (the run ended before them) stay as
// planned.
func (t *Tracked) summarize(sum *Summary, runErr error) {
	if sum == nil {
		return
	}
	if sum.Principal != "" {
		t.rep.Principal = t.clean(sum.Principal)
	}
	for i := range sum.Collections {
		cr := &sum.Collections[i]
		rc := t.planned(&cr.Planned)
		rc.Status = StatusDone
		switch {
		case sum.DryRun:
			rc.Status = StatusCounted
		case runErr != nil && i == len(sum.Collections)-1:
			rc.Status = StatusStopped
		}
		rc.Read = cr.Objects
		rc.Added, rc.Updated, rc.Skipped, rc.Rejected = cr.Added, cr.Updated, cr.Skipped, cr.Rejected
		rc.Folded, rc.Absorbed, rc.OverQuota = cr.Folded, cr.Absorbed, cr.OverQuota
		rc.Before, rc.Incremental, rc.DeletedAtSource, rc.Unreadable = cr.Before, cr.Incremental, cr.DeletedAtSource, cr.Unreadable
		rc.DryRunCount, rc.OfferDuplicates = cr.DryRunCount, cr.OfferDuplicates()
		rc.Routed = t.routed(cr)
		for _, p := range cr.Problems {
			if len(rc.Problems) == reportProblems {
				break
			}
			rc.Problems = append(rc.Problems, t.reportProblem(p))
		}
		rc.MoreProblems = len(cr.Problems) - len(rc.Problems) + cr.MoreProblems
		if i < len(t.rep.Collections) {
			t.rep.Collections[i] = rc
		} else {
			t.rep.Collections = append(t.rep.Collections, rc)
		}
	}
	for i := len(sum.Collections); i < len(t.rep.Collections); i++ {
		t.rep.Collections[i].Status = StatusNotReached
	}
}

// routed is cr.Routed for the report, by name, with each collection's
// display name and the components of cr.Routes that go to it.
func (t *Tracked) routed(cr *CollectionResult) []ReportRoute {
	var out []ReportRoute
	for _, name := range slices.Sorted(maps.Keys(cr.Routed)) {
		r := ReportRoute{Dest: t.clean(name), DestName: t.clean(name), Components: []string{}, Objects: cr.Routed[name]}
		for _, comp := range slices.Sorted(maps.Keys(cr.Routes)) {
			if c := cr.Routes[comp]; c.Name == name {
				r.DestName = t.clean(cmp.Or(c.DisplayName, c.Name))
				r.Components = append(r.Components, comp)
			}
		}
		out = append(out, r)
	}
	return out
}

// encode writes the report as JSON within store.MaxMigrationReport:
// fewer problems listed per collection, then fewer collections, as
// needed.
func (t *Tracked) encode() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dirty = false
	r := t.rep
	for _, limit := range []int{reportProblems, 20, 3, 0} {
		r.Collections = capProblems(t.rep.Collections, limit)
		if b, _ := json.Marshal(&r); len(b) <= store.MaxMigrationReport {
			return b
		}
	}
	for n := len(r.Collections) * 3 / 4; ; n = n * 3 / 4 {
		r.Collections, r.MoreCollections = r.Collections[:n], t.rep.MoreCollections+len(t.rep.Collections)-n
		if b, _ := json.Marshal(&r); len(b) <= store.MaxMigrationReport || n == 0 {
			return b
		}
	}
}

// capProblems copies cs with at most limit problems listed in each.
func capProblems(cs []ReportCollection, limit int) []ReportCollection {
	out := make([]ReportCollection, len(cs))
	for i, c := range cs {
		if len(c.Problems) > limit {
			c.MoreProblems += len(c.Problems) - limit
			c.Problems = c.Problems[:limit]
		}
		out[i] = c
	}
	return out
}

// clean bounds s for the report, and blanks out the source's password
// should the source have echoed it into a message.
func (t *Tracked) clean(s string) string {
	if pw := t.opt.Password; pw != "" {
		s = strings.ReplaceAll(s, pw, "***")
	}
	if len(s) > reportText {
		cut := reportText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// withoutCredentials is raw without user information or fragment. A URL
// that does not parse is kept only when it cannot hold credentials.
func withoutCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "(not a URL)"
		}
		return raw
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u.String()
}
