// Package javahash is Java's hashCode of the values whose Java hash
// decides something Tributary must reproduce: the iteration order of a
// java.util.HashMap, and the __consumer_offsets partition of a group.
package javahash

import "unicode/utf16"

// String is Java's String.hashCode: s*31 over its UTF-16 code units.
func String(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = 31*h + uint32(r1)
			h = 31*h + uint32(r2)
			continue
		}
		h = 31*h + uint32(r)
	}
	return h
}
