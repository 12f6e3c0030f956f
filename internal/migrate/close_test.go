package migrate

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Close lets go of the connections a Source keeps open to the source
// between requests.
func TestCloseDropsIdleConnections(t *testing.T) {
	var (
		mu   sync.Mutex
		open = map[net.Conn]bool{}
	)
	srv := httptest.NewUnstartedServer(&fakeBook{objects: map[string]string{"/book/a.vcf": card("a", "A")}})
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	opened := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}
	src, c := fakeSource(t, srv, false, 0)
	collect(t, src, c, "")
	if opened() == 0 {
		t.Fatal("no connection kept open to begin with")
	}
	src.Close()
	for deadline := time.Now().Add(10 * time.Second); opened() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := opened(); n > 0 {
		t.Errorf("%d connections still open after Close", n)
	}
}
