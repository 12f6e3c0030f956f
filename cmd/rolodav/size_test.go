package main

import "testing"

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "unlimited": 0, "Unlimited": 0, "1073741824": 1 << 30, "500MB": 500 << 20, "500M": 500 << 20,
		"2GiB": 2 << 30, "2g": 2 << 30, "64k": 64 << 10, "1TB": 1 << 40, "100B": 100, " 3 MiB ": 3 << 20,
	} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5G", "ten", "5X", "9999999T", "G", "1GiBB", "5i", "5ib", "k"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted: %d", in, b)
		}
	}
	for n, want := range map[int64]string{0: "unlimited", 1 << 30: "1GiB", 500 << 20: "500MiB", 1000: "1000", 3 << 10: "3KiB"} {
		b := byteSize(n)
		if got := b.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
	}
}
