// Package storecopy moves a whole store to another database, of either
// driver (`rolodav store copy`). It copies the rows of every table
// (store.Tables) as they are, beneath the methods of store.Store: ids and
// sync sequence numbers stay, so the sync tokens that clients hold
// ("<collection id>:<seq>") stay valid, and no id is handed out again.
//
// The copy reads one snapshot of the source and writes the target in one
// transaction, which it verifies before committing: it commits all or
// nothing. A target that already holds exactly the source's rows is left
// as it is, so that running the copy twice changes nothing.
package storecopy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rolodav/rolodav/internal/store"
)

// Options change what Copy does.
type Options struct {
	// Replace lets Copy empty a target that holds other rows, in the
	// transaction that copies: the target then holds the source's rows
	// only. Without it such a target is refused (*NotEmptyError).
	Replace bool
}

// Phases of a copy, as Event reports them.
const (
	// PhaseCompare reads a target that holds rows, to tell whether they
	// are the source's.
	PhaseCompare = "compare"
	PhaseCopy    = "copy"   // rows of the source written to the target
	PhaseVerify  = "verify" // the target read back and checked
)

// Event says how far a copy is: Done of the Total rows of Table in Phase.
// Copy reports each table as it starts (Done 0), every few rows, and as it
// ends (Done == Total).
type Event struct {
	Phase       string
	Table       string
	Done, Total int64
}

// progressEvery is how many rows pass between two events of one table.
const progressEvery = 100

// Count is how many rows a table has.
type Count struct {
	Table string
	Rows  int64
}

// Result is what Copy did.
type Result struct {
	Version int     // the schema version of both
	Counts  []Count // the source's rows, per table of store.Tables
	// Unchanged: the target held exactly the source's rows already, and
	// Copy wrote nothing.
	Unchanged bool
	// Replaced is what the target held before, when Options.Replace
	// emptied it (tables with rows only).
	Replaced []Count
	// ETags is how many objects' ETags were checked against their data.
	ETags int64
	// Cleaned is how many text values were not UTF-8, or held NUL, and
	// were mended on the way (see cleaned).
	Cleaned int64
}

// Rows is the number of rows of all tables.
func (r *Result) Rows() int64 { return sum(r.Counts) }

// NotEmptyError refuses a target that holds rows other than the source's,
// without Options.Replace.
type NotEmptyError struct {
	Holds []Count // its tables that have rows
}

func (e *NotEmptyError) Error() string {
	return "the target is not empty: it holds " + describe(e.Holds)
}

// VersionError refuses two stores whose schema versions differ.
type VersionError struct{ From, To int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("the source has schema version %d and the target %d: both must be at the same one", e.From, e.To)
}

// Copy copies every row of from into to, as Options say, and reports
// progress to progress (which may be nil). A failure, cancelling ctx
// included, leaves the target as it was.
func Copy(ctx context.Context, from, to store.Rows, opt Options, progress func(Event)) (*Result, error) {
	if progress == nil {
		progress = func(Event) {}
	}
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if fv != tv {
		return nil, &VersionError{From: fv, To: tv}
	}
	res := &Result{Version: fv}
	err = from.ReadRows(ctx, func(src store.RowReader) error {
		var err error
		if res.Counts, err = counts(ctx, src); err != nil {
			return fmt.Errorf("source: %w", err)
		}
		ids, err := src.Identities(ctx)
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		return to.WriteRows(ctx, func(dst store.RowWriter) error {
			held, err := counts(ctx, dst)
			if err != nil {
				return fmt.Errorf("target: %w", err)
			}
			if sum(held) > 0 {
				same, err := sameRows(ctx, src, dst, res.Counts, held, progress)
				if err != nil {
					return err
				}
				if same {
					res.Unchanged = true
					return raise(ctx, dst, ids)
				}
				if !opt.Replace {
					return &NotEmptyError{Holds: nonEmpty(held)}
				}
				if err := dst.Empty(ctx); err != nil {
					return fmt.Errorf("target: %w", err)
				}
				res.Replaced = nonEmpty(held)
			}
			digests, cleaned, err := copyRows(ctx, src, dst, res.Counts, progress)
			res.Cleaned = cleaned
			if err != nil {
				return err
			}
			if err := raise(ctx, dst, ids); err != nil {
				return err
			}
			res.ETags, err = verify(ctx, dst, res.Counts, digests, progress)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func raise(ctx context.Context, dst store.RowWriter, ids map[string]int64) error {
	if err := dst.RaiseIdentities(ctx, ids); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	return nil
}

// counts counts the rows of every table.
func counts(ctx context.Context, r store.RowReader) ([]Count, error) {
	out := make([]Count, len(store.Tables))
	for i := range store.Tables {
		t := &store.Tables[i]
		n, err := r.Count(ctx, t)
		if err != nil {
			return nil, err
		}
		out[i] = Count{Table: t.Name, Rows: n}
	}
	return out, nil
}

func sum(cs []Count) int64 {
	var n int64
	for _, c := range cs {
		n += c.Rows
	}
	return n
}

func nonEmpty(cs []Count) []Count {
	var out []Count
	for _, c := range cs {
		if c.Rows > 0 {
			out = append(out, c)
		}
	}
	return out
}

// describe says what cs hold, for messages: "3 in users, 40 in objects".
func describe(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d in %s", c.Rows, c.Table)
	}
	return strings.Join(parts, ", ")
}

// sameRows reports whether the target (dst, holding held) holds exactly
// the source's rows (src, holding want).
func sameRows(ctx context.Context, src, dst store.RowReader, want, held []Count, progress func(Event)) (bool, error) {
	if !slices.Equal(want, held) {
		return false, nil
	}
	for i := range store.Tables {
		t := &store.Tables[i]
		if want[i].Rows == 0 {
			continue
		}
		var n int64
		a, err := scan(ctx, cleaned(src.Scan(ctx, t), t, &n), t.Name, want[i].Rows, PhaseCompare, nil, progress)
		if err != nil {
			return false, fmt.Errorf("source: %w", err)
		}
		b, err := scan(ctx, dst.Scan(ctx, t), t.Name, want[i].Rows, PhaseCompare, nil, progress)
		if err != nil {
			return false, fmt.Errorf("target: %w", err)
		}
		if a != b {
			return false, nil
		}
	}
	return true, nil
}

// copyRows inserts the source's rows into the target, table by table, and
// returns the digest of each table's rows. It checks the objects' ETags on
// the way, so that a source whose data does not match its ETags is
// reported as such.
func copyRows(ctx context.Context, src store.RowReader, dst store.RowWriter, want []Count, progress func(Event)) ([]digest, int64, error) {
	digests := make([]digest, len(store.Tables))
	var cleanedValues int64
	for i := range store.Tables {
		t := &store.Tables[i]
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		total := want[i].Rows
		d := newDigest()
		check := etagCheck(t)
		var done int64
		var srcErr error // an error of the source's rows, as opposed to the target's
		progress(Event{PhaseCopy, t.Name, 0, total})
		rows := func(yield func([]any, error) bool) {
			for row, err := range cleaned(src.Scan(ctx, t), t, &cleanedValues) {
				if err == nil {
					if err = d.add(row); err == nil && check != nil {
						err = check(row)
					}
				}
				if err != nil {
					srcErr = fmt.Errorf("source: %w", err)
					yield(nil, srcErr)
					return
				}
				if !yield(row, nil) {
					return
				}
				if done++; done%progressEvery == 0 {
					progress(Event{PhaseCopy, t.Name, done, total})
				}
			}
		}
		n, err := dst.Insert(ctx, t, rows)
		if srcErr != nil {
			return nil, 0, srcErr
		}
		if err != nil {
			return nil, 0, fmt.Errorf("target: %w", err)
		}
		if n != total || done != total {
			return nil, 0, fmt.Errorf("%s: the source has %d rows, %d were read and %d written", t.Name, total, done, n)
		}
		progress(Event{PhaseCopy, t.Name, total, total})
		digests[i] = d.sum
	}
	return digests, cleanedValues, nil
}

// verify reads the target back: each table must have the source's number
// of rows and the same rows (by digest, in whatever order the engine
// returns them), and every object the ETag of its data. It returns how
// many ETags it checked.
func verify(ctx context.Context, dst store.RowReader, want []Count, digests []digest, progress func(Event)) (int64, error) {
	var etags int64
	for i := range store.Tables {
		t := &store.Tables[i]
		n, err := dst.Count(ctx, t)
		if err != nil {
			return 0, fmt.Errorf("target: %w", err)
		}
		if n != want[i].Rows {
			return 0, fmt.Errorf("verify: the target's %s has %d rows after the copy, the source's %d", t.Name, n, want[i].Rows)
		}
		d, err := scan(ctx, dst.Scan(ctx, t), t.Name, n, PhaseVerify, etagCheck(t), progress)
		if err != nil {
			return 0, fmt.Errorf("verify: target: %w", err)
		}
		if d != digests[i] {
			return 0, fmt.Errorf("verify: the target's %s differs from the source's after the copy", t.Name)
		}
		if t.Name == "objects" {
			etags = n
		}
	}
	return etags, nil
}

// etagCheck returns the check of a row of t: for objects, that the ETag
// is that of the data; nil for other tables.
func etagCheck(t *store.Table) func(row []any) error {
	if t.Name != "objects" {
		return nil
	}
	col := func(name string) int {
		return slices.IndexFunc(t.Columns, func(c store.Column) bool { return c.Name == name })
	}
	coll, name, etag, data := col("collection"), col("name"), col("etag"), col("data")
	return func(row []any) error {
		if got := store.ETag(row[data].([]byte)); got != row[etag].(string) {
			return fmt.Errorf("object %q of collection %d has ETag %s, but its data has %s",
				row[name], row[coll], row[etag], got)
		}
		return nil
	}
}

// digest sums the SHA-256 of every row of a table, in four 64-bit lanes:
// the sum does not depend on the order of the rows, and a row twice counts
// twice.
type digest [4]uint64

type digester struct {
	h   hash.Hash
	sum digest
}

func newDigest() *digester { return &digester{h: sha256.New()} }

// add adds row: each value with a tag of its type and, for text and bytes,
// its length, so that no two different rows encode alike.
func (d *digester) add(row []any) error {
	d.h.Reset()
	var head [9]byte
	for _, v := range row {
		switch x := v.(type) {
		case nil:
			d.h.Write([]byte{0})
		case int64:
			head[0] = 1
			binary.BigEndian.PutUint64(head[1:], uint64(x))
			d.h.Write(head[:])
		case bool:
			if x {
				d.h.Write([]byte{2, 1})
			} else {
				d.h.Write([]byte{2, 0})
			}
		case string:
			head[0] = 3
			binary.BigEndian.PutUint64(head[1:], uint64(len(x)))
			d.h.Write(head[:])
			io.WriteString(d.h, x)
		case []byte:
			head[0] = 4
			binary.BigEndian.PutUint64(head[1:], uint64(len(x)))
			d.h.Write(head[:])
			d.h.Write(x)
		default:
			return fmt.Errorf("a %T among the values", v)
		}
	}
	var s [sha256.Size]byte
	d.h.Sum(s[:0])
	for i := range d.sum {
		d.sum[i] += binary.BigEndian.Uint64(s[8*i:])
	}
	return nil
}

// scan reads every row of t (total of them) from r, checks each with
// check (nil: no check) and returns their digest.
func scan(ctx context.Context, rows store.RowSeq, table string, total int64, phase string, check func([]any) error, progress func(Event)) (digest, error) {
	d := newDigest()
	var done int64
	progress(Event{phase, table, 0, total})
	for row, err := range rows {
		if err == nil {
			if err = d.add(row); err == nil && check != nil {
				err = check(row)
			}
		}
		if err != nil {
			return digest{}, err
		}
		if done++; done%progressEvery == 0 {
			progress(Event{phase, table, done, total})
		}
	}
	progress(Event{phase, table, done, total})
	return d.sum, nil
}

// cleaned is rows with every text value made UTF-8 without NUL, which is
// all PostgreSQL stores: invalid bytes become U+FFFD and NUL is dropped,
// counted in n. Such values came from older versions, which stored a
// client's User-Agent as it was sent; a key (a login, a card's name) is
// not changed but refused, naming its row, for the admin to mend first.
func cleaned(rows store.RowSeq, t *store.Table, n *int64) store.RowSeq {
	key := map[string]bool{}
	for _, k := range t.Key {
		key[k] = true
	}
	return func(yield func([]any, error) bool) {
		for row, err := range rows {
			if err == nil {
				for i, c := range t.Columns {
					v, ok := row[i].(string)
					if !ok || (utf8.ValidString(v) && !strings.ContainsRune(v, 0)) {
						continue
					}
					if key[c.Name] {
						err = fmt.Errorf("%s: the row %s has a %s that is not UTF-8 text; change or delete it in the source first", t.Name, keyOf(t, row), c.Name)
						break
					}
					row[i] = strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "")
					*n++
				}
			}
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}

// keyOf describes row by its key, for messages.
func keyOf(t *store.Table, row []any) string {
	var parts []string
	for _, k := range t.Key {
		for i, c := range t.Columns {
			if c.Name == k {
				parts = append(parts, fmt.Sprintf("%s=%q", k, row[i]))
			}
		}
	}
	return strings.Join(parts, " ")
}
