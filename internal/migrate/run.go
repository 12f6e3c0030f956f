package migrate

import (
	"context"
)

// Run migrates the account opt names into owner's collections: it opens
// the source, plans (MakePlan), makes the collections to be made, and
// adds every object through package imports, one source collection after
// the other, keeping each one's sync token once its pass is complete.
// A *SourceError says what is wrong with the source; the Summary counts
// what was done before an error.
func Run(ctx context.Context, st Store, owner string, opt Options) (*Summary, error) {
	return nil, errStub
}

// MakePlan decides where each of src's collections goes (see
// Options.Map).
func MakePlan(ctx context.Context, st Store, owner string, src *Source, opt Options) (*Plan, error) {
	return nil, errStub
}
