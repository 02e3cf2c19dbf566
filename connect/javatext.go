package connect

// The Java text of converted values. Kafka's FileStreamSink writes each
// record's value with PrintStream.println, that is its toString() after the
// converter: a String as itself, a Long as 42, a Double as 1.5 or 1.0E10, a
// List as [a, b], a Map as {k=v, k2=v2} and a Struct as Struct{a=1,b=x}.
// The JsonConverter produces java.util.HashMap for JSON objects, whose
// iteration order is the order of its hash buckets; javaMapOrder computes
// it, so that a map prints as Kafka prints it.

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// jnode is one parsed JSON value, objects keeping their keys in order.
type jnode struct {
	kind  byte     // 'n' null, 'b' boolean, '0' number, 's' string, 'a' array, 'o' object
	text  string   // a string's content, a number's literal, "true" or "false"
	items []jnode  // an array's items or an object's values
	keys  []string // an object's keys
}

// get returns an object's member, or nil.
func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return &n.items[i]
		}
	}
	return nil
}

// parseJSON parses one JSON value. Of a key given twice, the first place
// and the last value are kept, as Jackson's ObjectNode does.
func parseJSON(b []byte) (jnode, error) {
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return jnode{}, fmt.Errorf("converting bytes to JSON: %w", err)
	}
	p := jparser{b: b}
	return p.value()
}

// jparser reads JSON that json.Valid accepted, so it checks no syntax.
type jparser struct {
	b []byte
	i int
}

func (p *jparser) skip() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

func (p *jparser) value() (jnode, error) {
	p.skip()
	switch c := p.b[p.i]; c {
	case 'n':
		p.i += 4
		return jnode{kind: 'n'}, nil
	case 't':
		p.i += 4
		return jnode{kind: 'b', text: "true"}, nil
	case 'f':
		p.i += 5
		return jnode{kind: 'b', text: "false"}, nil
	case '"':
		s, err := p.str()
		return jnode{kind: 's', text: s}, err
	case '[', '{':
		n := jnode{kind: 'a'}
		if c == '{' {
			n.kind = 'o'
		}
		p.i++
		for {
			p.skip()
			if p.b[p.i] == ']' || p.b[p.i] == '}' {
				p.i++
				return n, nil
			}
			if p.b[p.i] == ',' {
				p.i++
				p.skip()
			}
			var key string
			if n.kind == 'o' {
				k, err := p.str()
				if err != nil {
					return jnode{}, err
				}
				key = k
				p.skip()
				p.i++ // ':'
			}
			v, err := p.value()
			if err != nil {
				return jnode{}, err
			}
			if n.kind == 'o' {
				if old := n.get(key); old != nil {
					*old = v
					continue
				}
				n.keys = append(n.keys, key)
			}
			n.items = append(n.items, v)
		}
	}
	start := p.i
	for p.i < len(p.b) && strings.IndexByte("+-.0123456789eE", p.b[p.i]) >= 0 {
		p.i++
	}
	return jnode{kind: '0', text: string(p.b[start:p.i])}, nil
}

// str reads a string literal at p.i.
func (p *jparser) str() (string, error) {
	start := p.i
	p.i++
	escaped := false
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			escaped = true
			p.i++
		}
		p.i++
	}
	p.i++
	lit := p.b[start:p.i]
	if s, ok := plainJSONString(lit); ok && !escaped {
		return string(s), nil
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", fmt.Errorf("converting bytes to JSON: %w", err)
	}
	return s, nil
}

// appendSchemaless appends the Java text of a JSON value that the
// JsonConverter converted without a schema: an integer is a Long, another
// number a Double, an object a HashMap, an array an ArrayList.
func appendSchemaless(dst []byte, n *jnode) []byte {
	switch n.kind {
	case 'n':
		return append(dst, "null"...)
	case 'b', 's':
		return append(dst, n.text...)
	case '0':
		if isIntegral(n.text) {
			return strconv.AppendInt(dst, int64Of(n.text), 10)
		}
		f, _ := strconv.ParseFloat(n.text, 64) // ±Inf when out of range, as Java's
		return AppendJavaDouble(dst, f, 64)
	case 'a':
		dst = append(dst, '[')
		for i := range n.items {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendSchemaless(dst, &n.items[i])
		}
		return append(dst, ']')
	}
	dst = append(dst, '{')
	for i, at := range javaMapOrder(n.keys) {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, n.keys[at]...)
		dst = append(dst, '=')
		dst = appendSchemaless(dst, &n.items[at])
	}
	return append(dst, '}')
}

// isIntegral says whether Jackson reads a JSON number as an integer: no
// fraction and no exponent.
func isIntegral(num string) bool { return !strings.ContainsAny(num, ".eE") }

// int64Of is Jackson's longValue() of a JSON number: the integer part, its
// low 64 bits when it does not fit (BigInteger.longValue, and
// BigDecimal.longValue for a number with a fraction or exponent).
func int64Of(num string) int64 {
	if len(num) <= 18 {
		if v, err := strconv.ParseInt(num, 10, 64); err == nil {
			return v
		}
	}
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > 1<<20 {
			return 0 // 10^e is a multiple of 2^64
		}
		if e < -1<<20 {
			return 0
		}
		exp = e
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		exp -= len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	if exp < 0 {
		if -exp >= len(mant) {
			return 0
		}
		mant = mant[:len(mant)+exp]
		exp = 0
	}
	if exp >= 64 {
		return 0
	}
	var x big.Int
	x.SetString(mant, 10)
	if exp > 0 {
		x.Mul(&x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
	}
	if neg {
		x.Neg(&x)
	}
	// Two's complement low 64 bits.
	mod := new(big.Int).Lsh(big.NewInt(1), 64)
	x.Mod(&x, mod)
	return int64(x.Uint64())
}

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

// javaMapOrder returns the order in which a java.util.HashMap, made with
// new HashMap<>() and given keys in order, iterates them: by bucket
// (the spread String.hashCode modulo the table size, which starts at 16
// and doubles past 3/4 full or when a bucket reaches 9 keys in a table
// under 64), and within a bucket by insertion. A bucket that Java turns
// into a tree (9 keys or more in a table of 64 or more) keeps insertion
// order here, where Java's may differ.
func javaMapOrder(keys []string) []int {
	order := make([]int, len(keys))
	if len(keys) < 2 {
		for i := range order {
			order[i] = i
		}
		return order
	}
	hashes := make([]uint32, len(keys))
	for i, k := range keys {
		h := javaStringHash(k)
		hashes[i] = h ^ h>>16
	}
	size := 16
	for {
		if grown := hashMapSize(hashes, size); grown == size {
			break
		} else {
			size = grown
		}
	}
	mask := uint32(size - 1)
	for i := range order {
		order[i] = i
	}
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

// javaStringHash is Java's String.hashCode: over UTF-16 code units.
func javaStringHash(s string) uint32 {
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

// jschema is a Connect schema as the JsonConverter's envelope states it.
type jschema struct {
	typ      string // boolean, int8, int16, int32, int64, float, double, bytes, string, array, map, struct
	name     string // a logical type's name, such as org.apache.kafka.connect.data.Decimal
	scale    int    // Decimal's scale parameter
	optional bool
	def      *jnode
	fields   []jfield // struct
	items    *jschema // array
	keys     *jschema // map
	values   *jschema // map
}

type jfield struct {
	name   string
	schema *jschema
}

// parseSchema reads an envelope's schema; nil for a JSON null (no schema).
func parseSchema(n *jnode) (*jschema, error) {
	if n == nil || n.kind == 'n' {
		return nil, nil
	}
	if n.kind != 'o' {
		return nil, errors.New("schema must be a JSON object")
	}
	t := n.get("type")
	if t == nil || t.kind != 's' {
		return nil, errors.New("schema must contain 'type' field")
	}
	s := &jschema{typ: t.text}
	if nm := n.get("name"); nm != nil && nm.kind == 's' {
		s.name = nm.text
	}
	if s.name == decimalName {
		var sc *jnode
		if ps := n.get("parameters"); ps != nil && ps.kind == 'o' {
			sc = ps.get("scale")
		}
		if sc == nil || sc.kind != 's' {
			return nil, errors.New("invalid Decimal schema: scale parameter not found")
		}
		v, err := strconv.Atoi(sc.text)
		if err != nil {
			return nil, fmt.Errorf("invalid Decimal schema: scale %q", sc.text)
		}
		s.scale = v
	}
	if o := n.get("optional"); o != nil && o.kind == 'b' {
		s.optional = o.text == "true"
	}
	sub := func(name string) (*jschema, error) {
		c := n.get(name)
		if c == nil || c.kind == 'n' {
			return nil, fmt.Errorf("%s schema must contain '%s' field", s.typ, name)
		}
		return parseSchema(c)
	}
	var err error
	switch s.typ {
	case "boolean", "int8", "int16", "int32", "int64", "float", "double", "bytes", "string":
	case "array":
		s.items, err = sub("items")
	case "map":
		if s.keys, err = sub("keys"); err == nil {
			s.values, err = sub("values")
		}
	case "struct":
		fs := n.get("fields")
		if fs == nil || fs.kind != 'a' {
			return nil, errors.New("struct schema's 'fields' argument is not an array")
		}
		for i := range fs.items {
			f := &fs.items[i]
			name := f.get("field")
			if f.kind != 'o' || name == nil || name.kind != 's' {
				return nil, errors.New("struct schema's field must contain a 'field' name")
			}
			fsch, err := parseSchema(f)
			if err != nil {
				return nil, err
			}
			s.fields = append(s.fields, jfield{name: name.text, schema: fsch})
		}
	default:
		return nil, fmt.Errorf("unknown schema type: %s", s.typ)
	}
	if err != nil {
		return nil, err
	}
	s.def = n.get("default")
	if s.def != nil && s.def.kind == 'n' {
		s.def = nil
	}
	return s, nil
}

// appendWithSchema appends the Java text of a payload converted with its
// schema, and reports a null (which a Struct leaves out). A required value
// that is null takes the schema's default or is an error, as in Kafka.
func appendWithSchema(dst []byte, s *jschema, n *jnode) ([]byte, bool, error) {
	if s == nil {
		if n == nil || n.kind == 'n' {
			return append(dst, "null"...), true, nil
		}
		return appendSchemaless(dst, n), false, nil
	}
	if n == nil || n.kind == 'n' {
		switch {
		case s.def != nil:
			n = s.def
		case s.optional:
			return append(dst, "null"...), true, nil
		default:
			return nil, false, fmt.Errorf("invalid null value for required %s field", strings.ToUpper(s.typ))
		}
	}
	mismatch := func() ([]byte, bool, error) {
		return nil, false, fmt.Errorf("a %s value does not match the schema's type %s", kindName(n.kind), s.typ)
	}
	if s.name != "" {
		if out, ok, err := appendLogical(dst, s, n); ok || err != nil {
			return out, false, err
		}
	}
	switch s.typ {
	case "boolean":
		if n.kind != 'b' {
			return mismatch()
		}
		return append(dst, n.text...), false, nil
	case "string":
		if n.kind != 's' {
			return mismatch()
		}
		return append(dst, n.text...), false, nil
	case "int8", "int16", "int32", "int64":
		if n.kind != '0' {
			return mismatch()
		}
		v := int64Of(n.text)
		switch s.typ {
		case "int8":
			v = int64(int8(v))
		case "int16":
			v = int64(int16(v))
		case "int32":
			v = int64(int32(v))
		}
		return strconv.AppendInt(dst, v, 10), false, nil
	case "float", "double":
		if n.kind != '0' {
			return mismatch()
		}
		bits := 64
		if s.typ == "float" {
			bits = 32
		}
		f, _ := strconv.ParseFloat(n.text, bits)
		return AppendJavaDouble(dst, f, bits), false, nil
	case "bytes":
		// Java prints a byte[] as its identity ([B@1b6d3586), which says
		// nothing; the bytes themselves are written instead.
		if n.kind != 's' {
			return mismatch()
		}
		b, err := base64.StdEncoding.DecodeString(n.text)
		if err != nil {
			return nil, false, fmt.Errorf("invalid bytes field: %w", err)
		}
		return append(dst, b...), false, nil
	case "array":
		if n.kind != 'a' {
			return mismatch()
		}
		dst = append(dst, '[')
		for i := range n.items {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			if dst, _, err = appendWithSchema(dst, s.items, &n.items[i]); err != nil {
				return nil, false, err
			}
		}
		return append(dst, ']'), false, nil
	case "map":
		return appendMap(dst, s, n)
	}
	// struct: Struct.toString, fields in the schema's order, nulls left out.
	if n.kind != 'o' {
		return mismatch()
	}
	dst = append(dst, "Struct{"...)
	first := true
	var val []byte
	for _, f := range s.fields {
		var null bool
		var err error
		val, null, err = appendWithSchema(val[:0], f.schema, n.get(f.name))
		if err != nil {
			return nil, false, fmt.Errorf("field %s: %w", f.name, err)
		}
		if null {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.name...)
		dst = append(dst, '=')
		dst = append(dst, val...)
	}
	return append(dst, '}'), false, nil
}

// appendMap appends a map's Java text: a HashMap, from a JSON object when
// the keys are strings, else from an array of [key, value] pairs. Keys that
// are not strings keep the JSON's order.
func appendMap(dst []byte, s *jschema, n *jnode) ([]byte, bool, error) {
	var keys []string
	var vals []*jnode
	if s.keys.typ == "string" {
		if n.kind != 'o' {
			return nil, false, fmt.Errorf("maps with string fields should be encoded as JSON objects, but found a %s", kindName(n.kind))
		}
		keys = n.keys
		for i := range n.items {
			vals = append(vals, &n.items[i])
		}
	} else {
		if n.kind != 'a' {
			return nil, false, fmt.Errorf("maps with non-string fields should be encoded as JSON array of tuples, but found a %s", kindName(n.kind))
		}
		for i := range n.items {
			p := &n.items[i]
			if p.kind != 'a' || len(p.items) != 2 {
				return nil, false, errors.New("found invalid map entry instead of array tuple")
			}
			k, _, err := appendWithSchema(nil, s.keys, &p.items[0])
			if err != nil {
				return nil, false, err
			}
			keys = append(keys, string(k))
			vals = append(vals, &p.items[1])
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	if s.keys.typ == "string" {
		order = javaMapOrder(keys)
	}
	dst = append(dst, '{')
	for i, at := range order {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, keys[at]...)
		dst = append(dst, '=')
		var err error
		if dst, _, err = appendWithSchema(dst, s.values, vals[at]); err != nil {
			return nil, false, err
		}
	}
	return append(dst, '}'), false, nil
}

func kindName(k byte) string {
	switch k {
	case 'n':
		return "null"
	case 'b':
		return "boolean"
	case '0':
		return "number"
	case 's':
		return "string"
	case 'a':
		return "array"
	}
	return "object"
}

// Kafka's logical types.
const (
	decimalName   = "org.apache.kafka.connect.data.Decimal"
	dateName      = "org.apache.kafka.connect.data.Date"
	timeName      = "org.apache.kafka.connect.data.Time"
	timestampName = "org.apache.kafka.connect.data.Timestamp"
)

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz yyyy".
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// appendLogical appends the Java text of a logical type's value: a Decimal
// as BigDecimal.toString, a Date, Time or Timestamp as java.util.Date's
// toString in the local time zone (the JVM's default). ok is false for a
// logical type that is not Kafka's, which is printed as its underlying
// type.
func appendLogical(dst []byte, s *jschema, n *jnode) (out []byte, ok bool, err error) {
	switch s.name {
	case decimalName:
		switch {
		case n.kind == '0': // decimal.format=NUMERIC
			unscaled, scale, ok := parseDecimal(n.text)
			if !ok {
				return nil, true, fmt.Errorf("invalid Decimal value %s", n.text)
			}
			return appendBigDecimal(dst, unscaled, scale), true, nil
		case n.kind == 's' && s.typ == "bytes":
			b, err := base64.StdEncoding.DecodeString(n.text)
			if err != nil || len(b) == 0 {
				return nil, true, fmt.Errorf("invalid Decimal value %q", n.text)
			}
			unscaled := new(big.Int).SetBytes(b)
			if b[0]&0x80 != 0 { // two's complement
				unscaled.Sub(unscaled, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
			return appendBigDecimal(dst, unscaled, s.scale), true, nil
		}
	case dateName, timeName, timestampName:
		if n.kind != '0' {
			return nil, false, nil
		}
		ms := int64Of(n.text)
		switch s.name {
		case dateName:
			ms = int64(int32(ms)) * 86400000
		case timeName:
			ms = int64(int32(ms))
		}
		return time.UnixMilli(ms).AppendFormat(dst, javaDateLayout), true, nil
	}
	return nil, false, nil
}

// parseDecimal reads a JSON number as a BigDecimal: its digits and scale
// (the number of digits after the point, less the exponent).
func parseDecimal(num string) (*big.Int, int, bool) {
	mant, exp := num, 0
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		mant = num[:i]
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > math.MaxInt32 || e < math.MinInt32 {
			return nil, 0, false
		}
		exp = e
	}
	scale := -exp
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		scale += len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	v, ok := new(big.Int).SetString(mant, 10)
	return v, scale, ok
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
