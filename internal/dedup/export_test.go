package dedup

// FindStats is Find that also returns the number of candidate pairs
// compared (for the benchmark).
var FindStats = find

// Blocked returns a test of whether two cards (by index) share a block,
// that is whether Find compares them at all.
func Blocked(cards []Card, opt Options) func(i, j int) bool {
	if opt.MaxBlock <= 0 {
		opt.MaxBlock = 200
	}
	b := extract(cards, opt.Region).blocks(opt.MaxBlock)
	return func(i, j int) bool {
		x, y := b.blk[b.off[i]:b.off[i+1]], b.blk[b.off[j]:b.off[j+1]]
		for len(x) > 0 && len(y) > 0 {
			switch {
			case x[0] == y[0]:
				return true
			case x[0] < y[0]:
				x = x[1:]
			default:
				y = y[1:]
			}
		}
		return false
	}
}
