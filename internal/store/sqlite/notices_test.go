package sqlite

import (
	"testing"
	"time"

	"github.com/rolodav/rolodav/internal/store"
)

// BenchmarkQueueNotice: one security event, rate-limited (every call after
// the first finds a notice of its kind within the hour).
func BenchmarkQueueNotice(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	if err := s.CreateUser(ctx, &store.User{Login: "u@example.org", PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 14, 3, 0, 0, time.UTC)
	for b.Loop() {
		n := store.Notice{Login: "u@example.org", Kind: store.NoticeFailedSignIns, To: "u@example.org", Time: at}
		if _, err := s.QueueNotice(ctx, &n, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
