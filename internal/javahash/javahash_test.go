package javahash

import "testing"

// TestString: values Java's "...".hashCode() gives.
func TestString(t *testing.T) {
	for s, want := range map[string]int32{
		"":                   0,
		"a":                  97,
		"hello":              99162322,
		"Aa":                 2112, // Java's best-known collision
		"BB":                 2112,
		"polygenelubricants": -2147483648,      // hashes to Integer.MIN_VALUE
		"😀":                  55357*31 + 56832, // UTF-16: 0xD83D, 0xDE00
	} {
		if got := int32(String(s)); got != want {
			t.Errorf("String(%q) = %d, want %d", s, got, want)
		}
	}
}
