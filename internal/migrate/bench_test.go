package migrate

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// BenchmarkObjects streams a 20 000-card address book from our own server
// (in the same process: the figures include the server's work) and
// reports the peak of the live heap while it runs.
func BenchmarkObjects(b *testing.B) {
	const cards = 20_000
	s := newOurServer(b, nil)
	ctx := context.Background()
	coll := s.collection(store.Collection{Kind: store.KindCard, Name: "big", DisplayName: "Big"})
	for i := range cards {
		uid := fmt.Sprintf("card-%05d", i)
		data := card(uid, "Person "+uid) // ~100 bytes; with a note, ~600
		data = strings.Replace(data, "END:VCARD", "NOTE:"+strings.Repeat("x", 500)+"\r\nEND:VCARD", 1)
		if _, _, err := s.st.PutObject(ctx, &store.Object{Collection: coll.ID, Name: uid + ".vcf", UID: uid, Data: []byte(data)}, store.Conditions{}); err != nil {
			b.Fatal(err)
		}
	}
	src := open(b, s.URL)
	cs, err := src.Collections(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c := find(b, cs, store.KindCard, "big")
	peak := peakHeap()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n := 0
		if _, _, err := src.Objects(ctx, c, "", func(f *Fetched) error {
			if f.Err != nil || f.Data == nil {
				return fmt.Errorf("%s: %v", f.Href, f.Err)
			}
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != cards {
			b.Fatalf("%d cards", n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
}

// peakHeap samples the live heap every few milliseconds until the
// returned function is called, which returns the peak.
func peakHeap() func() uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		mu   sync.Mutex
		peak uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
