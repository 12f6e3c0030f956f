package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// testListObjectsReentrant proves the rule of store.Objects.ListObjects:
// the callback of a streaming read (ListObjects, ListObjectsInRange,
// ChangesSince) may call the store again. More streams run at once than
// any sane connection pool holds, and each waits in its first callback
// until all of them are in theirs before it reads and writes through the
// store: a driver that keeps a connection (or a lock) while its callback
// runs cannot give the callbacks what they ask for. The deadline turns
// such a deadlock into a failure instead of a hung test.
func testListObjectsReentrant(t *testing.T, s store.Store) {
	const (
		streams = 40
		objects = 300 // more than one page of a paging driver
		every   = 100 // a callback writes on its first object and every so many
	)
	c := book(t, s, "u", "book")
	scratch := mkColl(t, s, "u", store.KindCard, "scratch")
	var want []string
	for i := range objects {
		name := fmt.Sprintf("%04d.vcf", i)
		put(t, s, c.ID, name, name, name)
		want = append(want, name)
	}

	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var inside sync.WaitGroup // the streams not yet in a callback
	inside.Add(streams)
	all := make(chan struct{})
	go func() { inside.Wait(); close(all) }()

	// visit is what every callback does with the object it is given.
	visit := func(g, i int, o *store.Object, seen *[]string) error {
		if i == 0 {
			inside.Done()
			select {
			case <-all:
			case <-dctx.Done():
				return fmt.Errorf("waiting for the other streams to be in a callback: %w", dctx.Err())
			}
		}
		*seen = append(*seen, o.Name)
		got, err := s.GetObject(dctx, c.ID, o.Name)
		if err != nil {
			return fmt.Errorf("GetObject(%s): %w", o.Name, err)
		}
		if string(got.Data) != string(vcard(o.Name, o.Name)) {
			return fmt.Errorf("GetObject(%s): data %q", o.Name, got.Data)
		}
		if i%every != 0 {
			return nil
		}
		if cs, err := s.ListCollections(dctx, "u", store.KindCard); err != nil || len(cs) != 2 {
			return fmt.Errorf("ListCollections: %d collections, %v", len(cs), err)
		}
		name := fmt.Sprintf("g%02d-%04d.vcf", g, i)
		if _, _, err := s.PutObject(dctx, &store.Object{Collection: scratch.ID, Name: name, UID: name,
			Data: vcard(name, name)}, store.Conditions{IfNoneMatch: true}); err != nil {
			return fmt.Errorf("PutObject(%s): %w", name, err)
		}
		other := want[0]
		if other == o.Name {
			other = want[1]
		}
		objs, err := s.GetObjects(dctx, c.ID, []string{o.Name, other}, false)
		if err != nil || len(objs) != 2 {
			return fmt.Errorf("GetObjects: %d objects, %v", len(objs), err)
		}
		return nil
	}

	errs := make(chan error, streams)
	var wg sync.WaitGroup
	for g := range streams {
		wg.Go(func() {
			var seen []string
			var err error
			i := 0
			switch g % 3 {
			case 0:
				err = s.ListObjects(dctx, c.ID, true, func(o *store.Object) error {
					defer func() { i++ }()
					return visit(g, i, o, &seen)
				})
			case 1:
				err = s.ListObjectsInRange(dctx, c.ID, "", time.Time{}, time.Time{}, true, func(o *store.Object) error {
					defer func() { i++ }()
					return visit(g, i, o, &seen)
				})
				slices.Sort(seen) // the order is unspecified
			case 2:
				var next int64
				next, _, err = s.ChangesSince(dctx, c.ID, 0, 0, true, func(ch *store.Change) error {
					defer func() { i++ }()
					return visit(g, i, ch.Object, &seen)
				})
				slices.Sort(seen)
				if err == nil && next != objects {
					err = fmt.Errorf("next %d, want %d", next, objects)
				}
			}
			if err == nil && !slices.Equal(seen, want) {
				err = fmt.Errorf("streamed %d names, want %d", len(seen), len(want))
			}
			if err != nil {
				errs <- fmt.Errorf("stream %d: %w", g, err)
				if i == 0 {
					inside.Done() // never got in: do not keep the others waiting
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	eq(t, "objects written from callbacks", getColl(t, s, scratch).Count, int64(streams*objects/every))
}
