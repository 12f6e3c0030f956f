package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/rolodav/rolodav/internal/store"
	"github.com/rolodav/rolodav/internal/store/postgres/pgtest"
)

// An app password created with its ID (as a copy from another store is)
// keeps it, and the IDs handed out later come after it, as with SQLite's
// AUTOINCREMENT: an ID is never given twice.
func TestAppPasswordGivenID(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(ctx, &store.User{Login: "alice", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	create := func(id int64, digest string) (int64, error) {
		p := &store.AppPassword{ID: id, Owner: "alice", Name: digest, Digest: digest}
		err := s.CreateAppPassword(ctx, p)
		return p.ID, err
	}
	if id, err := create(100, "copied"); err != nil || id != 100 {
		t.Fatalf("given ID 100: got %d, %v", id, err)
	}
	next, err := create(0, "new")
	if err != nil || next <= 100 {
		t.Fatalf("after ID 100: got %d, %v", next, err)
	}
	if _, err := create(100, "again"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("ID 100 again: %v, want store.ErrExists", err)
	}
	// A lower ID given does not move the identity back.
	if id, err := create(50, "lower"); err != nil || id != 50 {
		t.Fatalf("given ID 50: got %d, %v", id, err)
	}
	if id, err := create(0, "last"); err != nil || id <= next {
		t.Fatalf("after ID 50: got %d, %v; want more than %d", id, err, next)
	}
}
