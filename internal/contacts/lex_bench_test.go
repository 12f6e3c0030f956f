package contacts

import "testing"

// The benchmarks below measure the paths that read content lines: Validate
// (every PUT and import), EachProperty (the matching keys of every card a
// duplicate search reads), Select (address-data with named properties) and
// ParseProps (merges). Each iteration reads 1 000 cards.

func BenchmarkValidate(b *testing.B) {
	cards := benchCards(1000)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cards {
			if _, err := Validate(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEachProperty(b *testing.B) {
	cards := benchCards(1000)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, c := range cards {
			EachProperty(c, func(name string, params, value []byte) bool {
				n += len(value)
				return true
			})
		}
	}
	if n == 0 {
		b.Fatal("no property read")
	}
}

func BenchmarkSelect(b *testing.B) {
	cards := benchCards(1000)
	names := []string{"FN", "EMAIL", "item1.X-ABLabel"}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cards {
			Select(c, names)
		}
	}
}

func BenchmarkParseProps(b *testing.B) {
	cards := benchCards(1000)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cards {
			if _, _, err := ParseProps(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}
