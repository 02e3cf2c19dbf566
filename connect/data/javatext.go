package data

// The Java text of values. Kafka's FileStreamSink writes each record's
// value with PrintStream.println, that is its toString(): a String as
// itself, a Long as 42, a Double as 1.5 or 1.0E10, a List as [a, b], a Map
// as {k=v, k2=v2} and a Struct as Struct{a=1,b=x}.

import (
	"cmp"
	"github.com/tributary-io/tributary/internal/javahash"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AppendJava appends the Java text of v (toString) to dst: null for nil.
// Java prints a byte[] as its identity ([B@1b6d3586), which says nothing;
// the bytes themselves are written instead.
func AppendJava(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return append(dst, x...)
	case []byte:
		return append(dst, x...)
	case bool:
		return strconv.AppendBool(dst, x)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float32:
		return AppendJavaDouble(dst, float64(x), 32)
	case float64:
		return AppendJavaDouble(dst, x, 64)
	case Decimal:
		return appendBigDecimal(dst, x.Unscaled, int(x.Scale))
	case time.Time:
		return x.Local().AppendFormat(dst, JavaDateLayout)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = AppendJava(dst, e)
		}
		return append(dst, ']')
	case *Map:
		dst = append(dst, '{')
		for i, at := range x.Order() {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = AppendJava(dst, x.Keys[at])
			dst = append(dst, '=')
			dst = AppendJava(dst, x.Values[at])
		}
		return append(dst, '}')
	case *Struct:
		// Struct.toString: fields in the schema's order, nulls left out.
		dst = append(dst, "Struct{"...)
		first := true
		for i, f := range x.Schema.Fields {
			if x.Values[i] == nil {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, f.Name...)
			dst = append(dst, '=')
			dst = AppendJava(dst, x.Values[i])
		}
		return append(dst, '}')
	}
	return dst
}

// JavaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz yyyy".
const JavaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// AppendJavaDouble appends f as Java's Double.toString (bits 64) or
// Float.toString (bits 32) print it since JDK 19: the shortest digits that
// read back (of two digits or one, the closest), as 1.5 or 100.0 from
// 10^-3 up to 10^7, else as 1.0E10 or 1.5E-5.
func AppendJavaDouble(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // d.ddde±x
	if len(e) > 1 && e[1] == 'e' {
		// One digit is shortest: Java (since JDK 19) prints the closest
		// decimal of up to two digits instead, 4.9E-324 rather than 5E-324.
		if two := strconv.FormatFloat(f, 'e', 1, bits); parsesTo(two, f, bits) {
			e = two
		}
	}
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
	if digits == "" {
		digits = "0"
	}
	if f >= 1e-3 && f < 1e7 {
		if exp >= 0 {
			for len(digits) <= exp {
				digits += "0"
			}
			dst = append(dst, digits[:exp+1]...)
			dst = append(dst, '.')
			if rest := digits[exp+1:]; rest != "" {
				return append(dst, rest...)
			}
			return append(dst, '0')
		}
		dst = append(dst, "0."...)
		dst = append(dst, strings.Repeat("0", -exp-1)...)
		return append(dst, digits...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) > 1 {
		dst = append(dst, digits[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

func parsesTo(s string, f float64, bits int) bool {
	g, err := strconv.ParseFloat(s, bits)
	return err == nil && g == f
}

// appendBigDecimal appends Java's BigDecimal.toString of unscaled×10^-scale:
// plain (12.30, 0.000123) when the scale is not negative and the adjusted
// exponent is at least -6, else scientific (1.5E+3, 1.23E-7).
func appendBigDecimal(dst []byte, unscaled *big.Int, scale int) []byte {
	coeff := new(big.Int).Abs(unscaled).String()
	if unscaled.Sign() < 0 {
		dst = append(dst, '-')
	}
	adjusted := -scale + len(coeff) - 1
	if scale >= 0 && adjusted >= -6 {
		switch {
		case scale == 0:
			return append(dst, coeff...)
		case len(coeff) > scale:
			dst = append(dst, coeff[:len(coeff)-scale]...)
			dst = append(dst, '.')
			return append(dst, coeff[len(coeff)-scale:]...)
		}
		dst = append(dst, "0."...)
		dst = append(dst, strings.Repeat("0", scale-len(coeff))...)
		return append(dst, coeff...)
	}
	dst = append(dst, coeff[0])
	if len(coeff) > 1 {
		dst = append(dst, '.')
		dst = append(dst, coeff[1:]...)
	}
	dst = append(dst, 'E')
	if adjusted > 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(adjusted), 10)
}

// Order returns the order in which Java iterates m. A LinkedHashMap, or a
// map with a key whose Java hash is not known here, keeps insertion
// order. A java.util.HashMap iterates by bucket (the hash's low bits; the
// table starts at Capacity buckets and doubles past 3/4 full or when a
// bucket reaches 9 keys in a table under 64), and within a bucket by
// insertion. A bucket that Java turns into a tree (9 keys or more in a
// table of 64 or more) keeps insertion order here, where Java's may
// differ.
func (m *Map) Order() []int {
	order := make([]int, len(m.Keys))
	for i := range order {
		order[i] = i
	}
	if m.Linked || len(m.Keys) < 2 {
		return order
	}
	hashes := make([]uint32, len(m.Keys))
	for i, k := range m.Keys {
		h, ok := javaHash(k)
		if !ok {
			return order
		}
		hashes[i] = h ^ h>>16
	}
	size := m.Capacity
	if size == 0 {
		size = 16
	}
	for {
		if grown := hashMapSize(hashes, size); grown == size {
			break
		} else {
			size = grown
		}
	}
	mask := uint32(size - 1)
	// Stable: within a bucket, insertion order.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(hashes[a]&mask, hashes[b]&mask) })
	return order
}

// hashMapSize replays the insertions into a table of at least size
// buckets and returns the table size the map ends with.
func hashMapSize(hashes []uint32, size int) int {
	counts := make([]int, size)
	threshold := size * 3 / 4
	for i, h := range hashes {
		b := int(h & uint32(size-1))
		counts[b]++
		if counts[b] >= 9 && size < 64 {
			return size * 2 // treeifyBin resizes instead
		}
		if i+1 > threshold {
			return size * 2
		}
	}
	return size
}

// javaHash is the hashCode of a map key's Java class.
func javaHash(k any) (uint32, bool) {
	switch x := k.(type) {
	case string:
		return javahash.String(x), true
	case int8:
		return uint32(int32(x)), true
	case int16:
		return uint32(int32(x)), true
	case int32:
		return uint32(x), true
	case int64:
		return uint32(uint64(x) ^ uint64(x)>>32), true
	case bool:
		if x {
			return 1231, true
		}
		return 1237, true
	case float32:
		if x == 0 && !math.Signbit(float64(x)) {
			return 0, true
		}
		if x != x {
			return 0x7fc00000, true
		}
		return math.Float32bits(x), true
	case float64:
		b := math.Float64bits(x)
		if x != x {
			b = 0x7ff8000000000000
		}
		return uint32(b ^ b>>32), true
	}
	return 0, false
}
