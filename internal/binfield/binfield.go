// Package binfield reads and writes the big-endian fields of the broker's
// own state logs (the group offsets log, the transaction state log): fixed
// integers and strings prefixed with their length.
package binfield

import "encoding/binary"

// Reader takes fields from the front of B; a field that B is too short for
// sets Bad, and every later one reads as zero.
type Reader struct {
	B   []byte
	Bad bool
}

// Take returns the next n bytes.
func (r *Reader) Take(n int) []byte {
	if r.Bad || n < 0 || n > len(r.B) {
		r.Bad = true
		return nil
	}
	v := r.B[:n]
	r.B = r.B[n:]
	return v
}

// U8 reads one byte.
func (r *Reader) U8() uint8 {
	if v := r.Take(1); v != nil {
		return v[0]
	}
	return 0
}

// U16 reads a big-endian uint16.
func (r *Reader) U16() uint16 {
	if v := r.Take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

// U32 reads a big-endian uint32.
func (r *Reader) U32() uint32 {
	if v := r.Take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// U64 reads a big-endian uint64.
func (r *Reader) U64() uint64 {
	if v := r.Take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Str reads a string with a uint16 length before it (AppendStr).
func (r *Reader) Str() string { return string(r.Take(int(r.U16()))) }

// Blob reads bytes with a uint32 length before them, as a string.
func (r *Reader) Blob() string { return string(r.Take(int(r.U32()))) }

// AppendStr appends s with its length as a uint16 before it.
func AppendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
