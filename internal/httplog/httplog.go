// Package httplog writes one structured log line per HTTP request.
package httplog

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

type ctxKey struct{}

// info is filled in by handlers while the request runs.
type info struct{ user string }

// SetUser records the authenticated login for the request's log line.
func SetUser(ctx context.Context, login string) {
	if i, ok := ctx.Value(ctxKey{}).(*info); ok {
		i.user = login
	}
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Middleware logs method, path, status, bytes, duration and user. It never
// logs headers, so credentials cannot leak into logs.
func Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		i := &info{}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, i)))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.EscapedPath()),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("user", i.user),
			slog.String("remote", r.RemoteAddr),
		)
	})
}
