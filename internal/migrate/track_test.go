package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/accounts"
	"github.com/rolodav/rolodav/internal/auth"
	"github.com/rolodav/rolodav/internal/dav"
	"github.com/rolodav/rolodav/internal/imports"
	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/sqlite"
)

// The account at the source, and the user migrating into this server (a
// mail address, so that the confirmation is queued).
const (
	trackSrcLogin = "ann@old.example"
	trackSrcPW    = "ann's password at the old provider"
	trackOwner    = "ann@example.org"
)

// trackOpen opens a new SQLite store in a temporary directory with login.
func trackOpen(t *testing.T, login, password string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "rolodav.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := auth.HashPassword(password, auth.Params{Time: 1, MemoryKiB: 1024, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{Login: login, PasswordHash: hash, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := accounts.EnsureDefaults(ctx, st, login); err != nil {
		t.Fatal(err)
	}
	return st
}

// trackSource serves a rolodav DAV server whose trackSrcLogin has cards
// cards in "contacts" and events events in "calendar" (and an empty
// "tasks"); wrap, when set, goes around its handler. It returns its URL.
func trackSource(t *testing.T, cards, events int, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	st := trackOpen(t, trackSrcLogin, trackSrcPW)
	ctx := context.Background()
	var vcf, ics strings.Builder
	for i := range cards {
		fmt.Fprintf(&vcf, "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:src-%d\r\nFN:Person %d\r\nEMAIL:p%d@old.example\r\nEND:VCARD\r\n", i, i, i)
	}
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n")
	for i := range events {
		fmt.Fprintf(&ics, "BEGIN:VEVENT\r\nUID:ev-%d\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:202601%02dT090000Z\r\nSUMMARY:Event %d\r\nEND:VEVENT\r\n", i, i%28+1, i)
	}
	ics.WriteString("END:VCALENDAR\r\n")
	for _, f := range []struct {
		kind       store.Kind
		name, data string
	}{{store.KindCard, "contacts", vcf.String()}, {store.KindCal, "calendar", ics.String()}} {
		c, err := st.GetCollection(ctx, trackSrcLogin, f.kind, f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := imports.Run(ctx, st, c, strings.NewReader(f.data), imports.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var h http.Handler = dav.New(dav.Config{Store: st, Auth: auth.NewAuthenticator(st, auth.Options{
		Sleep: func(context.Context, time.Duration) error { return nil },
	})})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// trackDelay delays the source's requests for which slow says so by d, or
// until the request is given up.
func trackDelay(d time.Duration, slow func(r *http.Request) bool) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slow(r) {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
}

// trackRecorder keeps a copy of every write of a migration's record.
type trackRecorder struct {
	TrackStore
	mu     sync.Mutex
	writes []store.Migration
}

func (r *trackRecorder) UpdateMigration(ctx context.Context, m *store.Migration) error {
	r.mu.Lock()
	c := *m
	c.Report = bytes.Clone(m.Report)
	r.writes = append(r.writes, c)
	r.mu.Unlock()
	return r.TrackStore.UpdateMigration(ctx, m)
}

func trackOptions(src, password string) Options {
	return Options{SourceOptions: SourceOptions{URL: src, User: trackSrcLogin, Password: password, AllowPrivate: true}}
}

func trackNotices(t *testing.T, st store.Store) []store.Notice {
	t.Helper()
	list, err := st.ListNotices(context.Background(), trackOwner, 0)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func trackReport(t *testing.T, m *store.Migration) *Report {
	t.Helper()
	r, err := ParseReport(m.Report)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A tracked migration records its source without credentials, refuses a
// second one while it runs, ends done with the summary as its report, and
// queues the mail with the counts; the password is in none of it.
func TestTrack(t *testing.T) {
	src := trackSource(t, 30, 3, nil)
	st := trackOpen(t, trackOwner, "owner password")
	ctx := context.Background()
	u, _ := url.Parse(src)
	u.User = url.UserPassword("x", "y")
	opt := trackOptions(u.String()+"#frag", trackSrcPW)
	tr, err := Track(ctx, st, trackOwner, opt)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMigration(ctx, trackOwner, tr.ID())
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.MigrationRunning || m.Source != src || m.SourceUser != trackSrcLogin || m.Started.IsZero() {
		t.Fatalf("recorded %s", trackDesc(m))
	}
	if _, err := Track(ctx, st, trackOwner, trackOptions(src, trackSrcPW)); !errors.Is(err, ErrRunning) {
		t.Fatalf("a second start while one runs: %v", err)
	}

	tr.opt.URL = src // the credentials in the URL were for the record's test
	sum, err := tr.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err = st.GetMigration(ctx, trackOwner, tr.ID())
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.MigrationDone || m.Finished.IsZero() || m.Error != "" || m.Heartbeat.Before(m.Started) {
		t.Fatalf("ended %s", trackDesc(m))
	}
	rep := trackReport(t, m)
	if !rep.Ended || len(rep.Collections) != len(sum.Collections) || len(rep.Collections) != 3 {
		t.Fatalf("report %+v, summary %+v", rep, sum)
	}
	for i, c := range rep.Collections {
		r := sum.Collections[i]
		if c.Status != StatusDone || c.Added != r.Added || c.Read != r.Objects || c.Source != r.Source.URL || c.Dest != r.Dest.Name || c.Kind != r.Dest.Kind {
			t.Errorf("collection %d: report %+v, summary %+v", i, c, r)
		}
	}
	if got := rep.Totals(); got != (Totals{Added: 33}) {
		t.Errorf("totals %+v", got)
	}
	list := trackNotices(t, st)
	if len(list) != 1 || list[0].Kind != store.NoticeMigration || list[0].Detail != "done 33 0 0 0 127.0.0.1" {
		t.Fatalf("notices %+v", list)
	}
	if strings.Contains(string(m.Report)+m.Source+m.SourceUser+m.Error, trackSrcPW) {
		t.Error("the password is in the record")
	}

	// Ended: the next one may start, and adds nothing.
	tr2, err := Track(ctx, st, trackOwner, trackOptions(src, trackSrcPW))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ = st.GetMigration(ctx, trackOwner, tr2.ID())
	if got := trackReport(t, m).Totals(); got.Added != 0 {
		t.Errorf("a second run: %+v", got)
	}
	if n := len(trackNotices(t, st)); n != 2 {
		t.Errorf("%d mails after two runs, want 2", n)
	}
}

// While it runs, the record shows the plan and each collection's
// progress, written at most every ReportEvery, and at least every
// HeartbeatEvery when nothing moves (a source slow to answer).
func TestTrackHeartbeat(t *testing.T) {
	src := trackSource(t, 20, 0, trackDelay(1500*time.Millisecond, func(r *http.Request) bool {
		return r.Method == "REPORT" // the listing and the multigets
	}))
	st := &trackRecorder{TrackStore: trackOpen(t, trackOwner, "owner password")}
	ctx := context.Background()
	tr, err := Track(ctx, st, trackOwner, trackOptions(src, trackSrcPW))
	if err != nil {
		t.Fatal(err)
	}
	tr.every, tr.beat = 10*time.Millisecond, 50*time.Millisecond
	began := time.Now()
	if _, err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	st.mu.Lock()
	writes := st.writes
	st.mu.Unlock()
	if len(writes) < 3 {
		t.Fatalf("%d writes", len(writes))
	}
	last := writes[len(writes)-1]
	if last.State != store.MigrationDone || last.Finished.IsZero() {
		t.Fatalf("last write %+v", last)
	}
	planned, progressed, same := false, false, 0
	for i, w := range writes[:len(writes)-1] {
		if w.State != store.MigrationRunning || !w.Finished.IsZero() {
			t.Fatalf("write %d while running: %+v", i, w)
		}
		if i > 0 && !w.Heartbeat.After(writes[i-1].Heartbeat) {
			t.Errorf("write %d: heartbeat %v not after %v", i, w.Heartbeat, writes[i-1].Heartbeat)
		}
		if i > 0 && bytes.Equal(w.Report, writes[i-1].Report) {
			same++
		}
		rep := trackReport(t, &w)
		if rep.Ended {
			t.Errorf("write %d while running says it ended", i)
		}
		planned = planned || len(rep.Collections) == 3
		for _, c := range rep.Collections {
			progressed = progressed || (c.Status == StatusRunning && c.Read > 0)
		}
	}
	if !planned || !progressed {
		t.Errorf("the writes while running never showed the plan (%v) or progress (%v)", planned, progressed)
	}
	// A REPORT takes 1.5 s: heartbeats, every 50 ms, with nothing new.
	if same < 10 {
		t.Errorf("%d heartbeats without progress, want ≥ 10 over %v", same, took)
	}
	// At most one write per tick, whatever the progress.
	if max := int(took/tr.every) + 2; len(writes) > max {
		t.Errorf("%d writes in %v, want at most %d", len(writes), took, max)
	}
}

// A migration whose context ends is recorded as interrupted, with
// StoppedError, and mailed as such.
func TestTrackStopped(t *testing.T) {
	src := trackSource(t, 50, 0, trackDelay(100*time.Millisecond, func(*http.Request) bool { return true }))
	st := trackOpen(t, trackOwner, "owner password")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := trackOptions(src, trackSrcPW)
	opt.Progress = func(Progress) { cancel() }
	tr, err := Track(ctx, st, trackOwner, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	m, err := st.GetMigration(context.Background(), trackOwner, tr.ID())
	if err != nil {
		t.Fatal(err)
	}
	if m.State != store.MigrationInterrupted || m.Error != StoppedError || m.Finished.IsZero() {
		t.Fatalf("stopped: %s", trackDesc(m))
	}
	rep := trackReport(t, m)
	if !rep.Ended || len(rep.Collections) == 0 || rep.Collections[0].Status != StatusStopped {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Collections[1:] {
		if c.Status != StatusNotReached {
			t.Errorf("collection after the stop: %+v", c)
		}
	}
	if list := trackNotices(t, st); len(list) != 1 || !strings.HasPrefix(list[0].Detail, "interrupted ") {
		t.Fatalf("notices %+v", list)
	}
}

// A source that refuses the password: failed, with the SourceError's
// sentence, and mailed.
func TestTrackSourceError(t *testing.T) {
	src := trackSource(t, 1, 0, nil)
	st := trackOpen(t, trackOwner, "owner password")
	ctx := context.Background()
	tr, err := Track(ctx, st, trackOwner, trackOptions(src, "not the password"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Run(ctx)
	var se *SourceError
	if !errors.As(err, &se) || se.Problem != Unauthorized {
		t.Fatalf("Run: %v, want an Unauthorized *SourceError", err)
	}
	m, _ := st.GetMigration(ctx, trackOwner, tr.ID())
	if m.State != store.MigrationFailed || m.Error != se.Error() || m.Finished.IsZero() {
		t.Fatalf("failed: %s, want Error %q", trackDesc(m), se.Error())
	}
	if list := trackNotices(t, st); len(list) != 1 || list[0].Detail != "failed 0 0 0 0 127.0.0.1" {
		t.Fatalf("notices %+v", list)
	}
}

// A dry run is recorded with its counts, and mails nothing: nothing
// changed.
func TestTrackDryRun(t *testing.T) {
	src := trackSource(t, 4, 2, nil)
	st := trackOpen(t, trackOwner, "owner password")
	ctx := context.Background()
	opt := trackOptions(src, trackSrcPW)
	opt.DryRun = true
	tr, err := Track(ctx, st, trackOwner, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	m, _ := st.GetMigration(ctx, trackOwner, tr.ID())
	rep := trackReport(t, m)
	if m.State != store.MigrationDone || !rep.DryRun || len(rep.Collections) != 3 {
		t.Fatalf("dry run: %s %+v", trackDesc(m), rep)
	}
	counts := map[string]int{}
	for _, c := range rep.Collections {
		if c.Status != StatusCounted {
			t.Errorf("dry run collection %+v", c)
		}
		counts[c.Dest] = c.DryRunCount
	}
	if counts["contacts"] != 4 || counts["calendar"] != 2 {
		t.Errorf("dry run counts %v", counts)
	}
	if list := trackNotices(t, st); len(list) != 0 {
		t.Fatalf("a dry run mailed %+v", list)
	}
}

// Whatever the source serves (many problems, long messages, thousands of
// collections), the report stays within store.MaxMigrationReport and
// says what it left out; a password the source echoes is blanked.
func TestTrackReportBounded(t *testing.T) {
	const pw = "s3cret-password"
	tr := &Tracked{opt: Options{SourceOptions: SourceOptions{Password: pw}}}
	for i := range 60 {
		tr.rep.Collections = append(tr.rep.Collections, ReportCollection{Source: fmt.Sprintf("https://x.example/c%d/", i), Status: StatusRunning})
	}
	for i := range 60 {
		p := &Planned{Source: SourceCollection{URL: fmt.Sprintf("https://x.example/c%d/", i)}}
		for j := range 150 {
			tr.problem(p, imports.Problem{Msg: fmt.Sprintf("%d: you sent %s %s", j, pw, strings.Repeat("é", 400))})
		}
	}
	b := tr.encode()
	if len(b) > store.MaxMigrationReport {
		t.Fatalf("report of %d bytes", len(b))
	}
	if bytes.Contains(b, []byte(pw)) {
		t.Fatal("the password is in the report")
	}
	rep, err := ParseReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Collections) != 60 || rep.MoreCollections != 0 {
		t.Fatalf("%d collections, %d more", len(rep.Collections), rep.MoreCollections)
	}
	for _, c := range rep.Collections {
		if c.Rejected != 150 || len(c.Problems)+c.MoreProblems != 150 || len(c.Problems) >= reportProblems {
			t.Fatalf("collection %s: %d rejected, %d problems listed, %d more", c.Source, c.Rejected, len(c.Problems), c.MoreProblems)
		}
		if c.Problems[0].Msg == "" || !strings.Contains(c.Problems[0].Msg, "you sent ***") || len(c.Problems[0].Msg) > reportText+len("…") {
			t.Fatalf("problem %q", c.Problems[0].Msg)
		}
	}

	many := &Tracked{}
	for i := range 5000 {
		many.rep.Collections = append(many.rep.Collections, ReportCollection{Source: fmt.Sprintf("https://x.example/%s/%d/", strings.Repeat("a", 200), i),
			SourceName: strings.Repeat("n", 200)})
	}
	b = many.encode()
	if len(b) > store.MaxMigrationReport {
		t.Fatalf("report of %d bytes", len(b))
	}
	rep, err = ParseReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MoreCollections == 0 || len(rep.Collections)+rep.MoreCollections != 5000 {
		t.Fatalf("%d collections and %d more, want 5000", len(rep.Collections), rep.MoreCollections)
	}
}

// trackDesc shows a migration with its report as text.
func trackDesc(m *store.Migration) string {
	c := *m
	c.Report = nil
	return fmt.Sprintf("%+v, report %s", c, m.Report)
}
