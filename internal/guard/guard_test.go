package guard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serve runs h behind the guard on a real listener (deadlines need real
// connections) and returns its address.
func serve(t *testing.T, opt Options, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(Handler(opt, h))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// send writes a raw request head to addr and returns the connection.
func send(t *testing.T, addr, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// response reads one response from c, failing after limit (far above what
// the behaviour under test needs).
func response(t *testing.T, c net.Conn, limit time.Duration) *http.Response {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", limit, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// closed reports whether the server closed c (within limit).
func closed(c net.Conn, limit time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF, not a timeout
}

func TestAnswerWithoutReadingIsNotHeldByTheBody(t *testing.T) {
	// A handler that refuses at once (as authentication does) must answer
	// at once, though the client declared a body it never sends.
	addr := serve(t, Options{Grace: time.Hour}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
	})
	c := send(t, addr, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	resp := response(t, c, 20*time.Second)
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("status %d, close %v; want 401 and the connection closed", resp.StatusCode, resp.Close)
	}
	if !closed(c, 20*time.Second) {
		t.Fatal("connection left open")
	}
}

func TestSilentBodyTimesOut(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, Options{Grace: 200 * time.Millisecond, MinRate: 1000}, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
		if errors.Is(err, ErrBodyTimeout) {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
		}
	})
	c := send(t, addr, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
	select {
	case err := <-got:
		if !errors.Is(err, ErrBodyTimeout) || !strings.Contains(err.Error(), "10 bytes") {
			t.Fatalf("read error %v, want ErrBodyTimeout after 10 bytes", err)
		}
		// DAV clients show this text: the wait in words, not Go's "0s".
		if !strings.Contains(err.Error(), "1 second of waiting") {
			t.Errorf("read error %q does not say the wait in words", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the handler is still waiting for the body")
	}
	if resp := response(t, c, 20*time.Second); resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	if !closed(c, 20*time.Second) {
		t.Fatal("connection left open")
	}
}

func TestChunkedSilentBodyTimesOut(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, Options{Grace: 200 * time.Millisecond, MinRate: 1000}, func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	})
	send(t, addr, "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	select {
	case err := <-got:
		if !errors.Is(err, ErrBodyTimeout) {
			t.Fatalf("read error %v, want ErrBodyTimeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the handler is still waiting for the body")
	}
}

func TestArrivingBodyExtendsTheDeadline(t *testing.T) {
	// 1000 bytes at once earn 10 s at 100 bytes/s on top of the 2 s grace:
	// the rest, sent 4 s later (past the grace alone), is still read.
	got := make(chan int, 1)
	addr := serve(t, Options{Grace: 2 * time.Second, MinRate: 100}, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		got <- len(b)
	})
	c := send(t, addr, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1100\r\n\r\n"+strings.Repeat("x", 1000))
	time.Sleep(4 * time.Second)
	if _, err := io.WriteString(c, strings.Repeat("x", 100)); err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != 1100 {
		t.Fatalf("read %d bytes, want 1100", n)
	}
	if resp := response(t, c, 20*time.Second); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("status %d, close %v; want 200 on a kept connection", resp.StatusCode, resp.Close)
	}
}

func TestDeadlineLiftedOnceBodyRead(t *testing.T) {
	// Work that outlasts the body's deadline after reading it must not see
	// the client as gone (net/http watches the connection then).
	addr := serve(t, Options{Grace: 100 * time.Millisecond, MinRate: 1 << 20}, func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("read: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
		if err := r.Context().Err(); err != nil {
			t.Errorf("request context ended: %v", err)
		}
		fmt.Fprint(w, "done")
	})
	c := send(t, addr, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
	resp := response(t, c, 20*time.Second)
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
	}
	// The connection serves a next request, with a fresh deadline.
	io.WriteString(c, "GET /y HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp := response(t, c, 20*time.Second); resp.StatusCode != http.StatusOK {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
}

func TestHeaders(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		h := Handler(Options{HSTS: hsts}, http.NotFoundHandler())
		for _, method := range []string{"GET", "PUT"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, "/x", strings.NewReader("body")))
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q", method, got)
			}
			got := rec.Header().Get("Strict-Transport-Security")
			if hsts && got != "max-age=31536000" || !hsts && got != "" {
				t.Errorf("HSTS %v, %s: Strict-Transport-Security %q", hsts, method, got)
			}
		}
	}
}

func TestSlowHandlerIsNotChargedToTheClient(t *testing.T) {
	// The whole body is sent at once; the handler takes 1.5 s per 10 KB
	// (an import storing each card as it comes). Only the time spent
	// waiting for the client counts, so this is no timeout, though the
	// body as a whole took longer than Grace plus its size at MinRate.
	got := make(chan error, 1)
	addr := serve(t, Options{Grace: 200 * time.Millisecond, MinRate: 10_000}, func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 10_000)
		for range 3 {
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				got <- err
				return
			}
			time.Sleep(1500 * time.Millisecond)
		}
		got <- nil
	})
	send(t, addr, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 30000\r\n\r\n"+strings.Repeat("x", 30_000))
	if err := <-got; err != nil {
		t.Fatalf("read: %v", err)
	}
}

func TestEarlyAnswerToALargeUploadArrives(t *testing.T) {
	// A client still sending a large body reads the early answer rather
	// than a connection reset: net/http closes such connections gently,
	// which it does only for its own request body.
	srv := httptest.NewServer(Handler(Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "authentication required", http.StatusUnauthorized)
	})))
	t.Cleanup(srv.Close)
	big := strings.Repeat("x", 16<<20)
	for i := range 5 {
		resp, err := srv.Client().Post(srv.URL, "text/vcard", strings.NewReader(big))
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("upload %d: %d", i, resp.StatusCode)
		}
	}
}

// A User-Agent that is not UTF-8 reaches the handler as valid UTF-8.
func TestUserAgentMadeValidUTF8(t *testing.T) {
	got := make(chan string, 1)
	addr := serve(t, Options{}, func(w http.ResponseWriter, r *http.Request) { got <- r.UserAgent() })
	c := send(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: DAVx5 caf\xe9 \xff\r\n\r\n")
	if resp := response(t, c, 10*time.Second); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ua := <-got; ua != "DAVx5 caf\uFFFD \uFFFD" {
		t.Fatalf("User-Agent %q", ua)
	}
}
