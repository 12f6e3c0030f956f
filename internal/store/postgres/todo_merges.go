package postgres

import (
	"context"

	"github.com/rolodav/rolodav/internal/store"
)

func (s *Store) ApplyMerge(ctx context.Context, w *store.MergeWrite) (*store.Merge, error) {
	return nil, errTODO
}

func (s *Store) ListMerges(ctx context.Context, coll int64) ([]store.Merge, error) {
	return nil, errTODO
}

func (s *Store) GetMerge(ctx context.Context, coll, id int64) (*store.Merge, error) {
	return nil, errTODO
}

func (s *Store) UndoMerge(ctx context.Context, coll, id int64, originals []store.Object, force bool) error {
	return errTODO
}

func (s *Store) MergedInto(ctx context.Context, coll int64, name, uid string) (string, int64, error) {
	return "", 0, errTODO
}

func (s *Store) FoldInto(ctx context.Context, survivor *store.Object, cond store.Conditions, foldedName string, merge int64, prevUndo, undo []byte) (string, error) {
	return "", errTODO
}

func (s *Store) HideGroup(ctx context.Context, coll int64, uids []string) error {
	return errTODO
}

func (s *Store) HiddenGroups(ctx context.Context, coll int64) ([][]string, error) {
	return nil, errTODO
}
