package transforms

// Kafka's field-value transformations, each as $Key and $Value: Cast,
// MaskField, ReplaceField and SetSchemaMetadata.

import (
	"encoding/base64"
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
)

// Class names of the field-value transformations (without $Key/$Value).
const (
	CastClass              = "org.apache.kafka.connect.transforms.Cast"
	MaskFieldClass         = "org.apache.kafka.connect.transforms.MaskField"
	ReplaceFieldClass      = "org.apache.kafka.connect.transforms.ReplaceField"
	SetSchemaMetadataClass = "org.apache.kafka.connect.transforms.SetSchemaMetadata"
)

const replaceNullDoc = "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."

func replaceNullKey() config.Key {
	return config.Key{Name: "replace.null.with.default", Type: config.Bool, Default: "true", HasDefault: true, Doc: replaceNullDoc}
}

// valueClasses: Cast, MaskField, ReplaceField, SetSchemaMetadata.
var valueClasses = concatClasses(
	sides(CastClass, class{keys: []config.Key{
		{Name: "spec", Type: config.List, Required: true,
			Doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of " +
				"Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, " +
				"int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
			Validate: func(v any) error {
				_, err := parseCastSpec(v.([]string))
				return err
			}},
		replaceNullKey(),
	}}, newCast),
	sides(MaskFieldClass, class{keys: []config.Key{
		{Name: "fields", Type: config.List, Required: true, Doc: "Names of fields to mask.",
			Validate: func(v any) error {
				if len(v.([]string)) == 0 {
					return errors.New("Empty list") //nolint:staticcheck // Kafka's message
				}
				return nil
			}},
		{Name: "replacement", Type: config.String,
			Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
			Validate: func(v any) error {
				if v.(string) == "" {
					return errors.New("String must be non-empty") //nolint:staticcheck // Kafka's message
				}
				return nil
			}},
		replaceNullKey(),
	}}, newMaskField),
	sides(ReplaceFieldClass, class{keys: []config.Key{
		{Name: "exclude", Type: config.List, Default: "", HasDefault: true,
			Doc: "Fields to exclude. This takes precedence over the fields to include."},
		{Name: "blacklist", Type: config.List, Doc: "Deprecated. Use exclude instead."},
		{Name: "include", Type: config.List, Default: "", HasDefault: true,
			Doc: "Fields to include. If specified, only these fields will be used."},
		{Name: "whitelist", Type: config.List, Doc: "Deprecated. Use include instead."},
		{Name: "renames", Type: config.List, Default: "", HasDefault: true, Doc: "Field rename mappings.",
			Validate: func(v any) error {
				_, err := parseRenames(v.([]string))
				return err
			}},
		replaceNullKey(),
	}}, newReplaceField),
	sides(SetSchemaMetadataClass, class{keys: []config.Key{
		{Name: "schema.name", Type: config.String, Doc: "Schema name to set."},
		{Name: "schema.version", Type: config.Int, Doc: "Schema version to set."},
		replaceNullKey(),
	}}, newSetSchemaMetadata),
)

func concatClasses(groups ...[]class) []class {
	var out []class
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// fieldValue returns a struct field's value: with replaceNull, its
// default when null (Kafka's Struct.get), else as set.
func fieldValue(st *data.Struct, name string, replaceNull bool) (any, error) {
	if replaceNull {
		return st.Get(name)
	}
	return st.GetWithoutDefault(name)
}

// javaSplitColon is Java's s.split(":"): trailing empty parts dropped.
func javaSplitColon(s string) []string {
	parts := strings.Split(s, ":")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// javaClassOf is value.getClass()'s text: "class java.lang.Integer".
func javaClassOf(v any) string { return "class " + data.JavaClass(v) }

// ---- Cast ----

var (
	castInputTypes  = []data.Type{data.Int8, data.Int16, data.Int32, data.Int64, data.Float32, data.Float64, data.Boolean, data.String, data.Bytes}
	castOutputTypes = castInputTypes[:len(castInputTypes)-1]
)

func typeList(ts []data.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.String()
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func hasType(ts []data.Type, t data.Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// castSpec is a parsed spec: the whole value's type (0: casts by field),
// or the fields' types.
type castSpec struct {
	whole  data.Type
	fields map[string]data.Type
	order  []string
}

func parseCastSpec(mappings []string) (castSpec, error) {
	spec := castSpec{fields: map[string]data.Type{}}
	if len(mappings) == 0 {
		return spec, errors.New("Must specify at least one field to cast.") //nolint:staticcheck // Kafka's message
	}
	parseType := func(name string) (data.Type, error) {
		name = strings.TrimSpace(name)
		t, ok := data.ParseType(name)
		if !ok {
			return 0, errors.New("Invalid type found in casting spec: " + name) //nolint:staticcheck // Kafka's message
		}
		if !hasType(castOutputTypes, t) {
			return 0, errors.New("Cast transformation does not support casting to " + t.String() + "; supported types are " + typeList(castOutputTypes)) //nolint:staticcheck // Kafka's message
		}
		return t, nil
	}
	for _, m := range mappings {
		parts := javaSplitColon(m)
		switch len(parts) {
		case 1:
			t, err := parseType(parts[0])
			if err != nil {
				return spec, err
			}
			spec.whole = t
		case 2:
			t, err := parseType(parts[1])
			if err != nil {
				return spec, err
			}
			f := strings.TrimSpace(parts[0])
			if _, dup := spec.fields[f]; !dup {
				spec.order = append(spec.order, f)
			}
			spec.fields[f] = t
		default:
			return spec, errors.New("Invalid cast mapping: " + m) //nolint:staticcheck // Kafka's message
		}
	}
	if spec.whole != 0 && len(mappings) > 1 {
		return spec, errors.New("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec") //nolint:staticcheck // Kafka's message
	}
	return spec, nil
}

type castT struct {
	side        side
	spec        castSpec
	replaceNull bool
}

func newCast(s side, v keyValues) (Transformation, error) {
	spec, err := parseCastSpec(v.List("spec"))
	if err != nil {
		return nil, &config.Error{Source: v.Source(), Key: v.Key("spec"), Value: strings.Join(v.List("spec"), ","), Reason: err.Error()}
	}
	return &castT{side: s, spec: spec, replaceNull: v.Bool("replace.null.with.default")}, nil
}

const castPurpose = "cast types"

func (t *castT) Apply(r *Record) (bool, error) {
	schema, value := t.side.get(r)
	if value == nil {
		return true, nil
	}
	if schema == nil {
		if t.spec.whole != 0 {
			out, err := castValue(nil, value, t.spec.whole)
			if err != nil {
				return false, err
			}
			t.side.set(r, nil, out)
			return true, nil
		}
		m, err := requireMap(value, castPurpose)
		if err != nil {
			return false, err
		}
		out := data.CopyMap(m)
		for _, f := range t.spec.order {
			old, _ := m.Get(f)
			nv, err := castValue(nil, old, t.spec.fields[f])
			if err != nil {
				return false, err
			}
			out.Put(f, nv)
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	newSchema, err := t.buildSchema(schema)
	if err != nil {
		return false, err
	}
	if t.spec.whole != 0 {
		out, err := castValue(schema, value, t.spec.whole)
		if err != nil {
			return false, err
		}
		t.side.set(r, newSchema, out)
		return true, nil
	}
	st, err := requireStruct(value, castPurpose)
	if err != nil {
		return false, err
	}
	out := data.NewStruct(newSchema)
	for _, f := range st.Schema.Fields {
		fv, err := fieldValue(st, f.Name, t.replaceNull)
		if err != nil {
			return false, err
		}
		if target, ok := t.spec.fields[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, target); err != nil {
				return false, err
			}
		}
		if err := out.Put(f.Name, fv); err != nil {
			return false, err
		}
	}
	t.side.set(r, newSchema, out)
	return true, nil
}

// buildSchema is the schema of the cast value: Kafka's getOrBuildSchema.
func (t *castT) buildSchema(s *data.Schema) (*data.Schema, error) {
	var out *data.Schema
	if t.spec.whole != 0 {
		out = copySchemaBasics(s)
		out.Type, out.Value = t.spec.whole, nil
	} else {
		if s.Type != data.StructType {
			return nil, data.Errorf("Cannot list fields on non-struct type")
		}
		out = copySchemaBasics(s)
		for _, f := range s.Fields {
			fs := f.Schema
			if target, ok := t.spec.fields[f.Name]; ok {
				nfs := &data.Schema{Type: target, Optional: f.Schema.Optional}
				if f.Schema.Default != nil {
					d, err := castValue(f.Schema, f.Schema.Default, target)
					if err != nil {
						return nil, err
					}
					nfs.Default = d
				}
				fs = nfs
			}
			if err := out.AddField(f.Name, fs); err != nil {
				return nil, err
			}
		}
	}
	out.Optional = s.Optional
	if s.Default != nil {
		d, err := castValue(s, s.Default, out.Type)
		if err != nil {
			return nil, err
		}
		out.Default = d
	}
	return out, nil
}

// schemalessType is Kafka's ConnectSchema.schemaType of a value's class;
// false for a logical type's value (BigDecimal, Date), which has none.
func schemalessType(v any) (data.Type, bool) {
	switch v.(type) {
	case int8:
		return data.Int8, true
	case int16:
		return data.Int16, true
	case int32:
		return data.Int32, true
	case int64:
		return data.Int64, true
	case float32:
		return data.Float32, true
	case float64:
		return data.Float64, true
	case bool:
		return data.Boolean, true
	case string:
		return data.String, true
	case []byte:
		return data.Bytes, true
	case []any:
		return data.Array, true
	case *data.Map:
		return data.MapType, true
	case *data.Struct:
		return data.StructType, true
	}
	return 0, false
}

const millisPerDay = 24 * 60 * 60 * 1000

// encodeLogical is the logical value's internal form: days for a Date,
// milliseconds of the day for a Time, since the epoch for a Timestamp.
func encodeLogical(s *data.Schema, v any) (any, error) {
	tm, ok := v.(time.Time)
	if !ok {
		return v, nil
	}
	ms := tm.UnixMilli()
	switch s.Name {
	case data.DateName:
		if ms%millisPerDay != 0 {
			return nil, data.Errorf("Kafka Connect Date type should not have any time fields set to non-zero values.")
		}
		return int32(ms / millisPerDay), nil
	case data.TimeName:
		if ms < 0 || ms >= millisPerDay {
			return nil, data.Errorf("Kafka Connect Time type should not have any date fields set to non-zero values.")
		}
		return int32(ms), nil
	case data.TimestampName:
		return ms, nil
	}
	return v, nil
}

// castValue is Kafka's Cast.castValueToType: v (of schema s, nil when
// schemaless) as a value of type target.
func castValue(s *data.Schema, v any, target data.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var from data.Type
	if s != nil {
		from = s.Type
	} else {
		var ok bool
		if from, ok = schemalessType(v); !ok {
			return nil, data.Errorf("Cast transformation was passed a value of type %s which is not supported by Connect's data API", javaClassOf(v))
		}
	}
	if !hasType(castInputTypes, from) {
		return nil, data.Errorf("Cast transformation does not support casting from %s; supported types are %s", from, typeList(castInputTypes))
	}
	if s != nil && s.Name != "" && target != data.String {
		var err error
		if v, err = encodeLogical(s, v); err != nil {
			return nil, err
		}
	}
	out, err := castTo(v, target)
	if errors.Is(err, errNumberFormat) {
		return nil, data.Errorf("Value (%s) was out of range for requested data type", data.AppendJava(nil, v))
	}
	return out, err
}

// errNumberFormat stands for Java's NumberFormatException.
var errNumberFormat = errors.New("number format")

// javaNumber is a value of a java.lang.Number: an integer (i), a
// floating-point number (f, isFloat) or a BigDecimal (dec).
type javaNumber struct {
	i       int64
	f       float64
	isFloat bool
	dec     *data.Decimal
}

func asJavaNumber(v any) (javaNumber, bool) {
	switch x := v.(type) {
	case int8:
		return javaNumber{i: int64(x)}, true
	case int16:
		return javaNumber{i: int64(x)}, true
	case int32:
		return javaNumber{i: int64(x)}, true
	case int64:
		return javaNumber{i: x}, true
	case float32:
		return javaNumber{f: float64(x), isFloat: true}, true
	case float64:
		return javaNumber{f: x, isFloat: true}, true
	case data.Decimal:
		return javaNumber{dec: &x}, true
	}
	return javaNumber{}, false
}

// long is Number.longValue: a float saturates (NaN is 0), a BigDecimal
// keeps the low 64 bits of its integer part.
func (n javaNumber) long() int64 {
	switch {
	case n.dec != nil:
		return decimalInt(*n.dec).Int64() // low 64 bits, two's complement
	case n.isFloat:
		return javaF2L(n.f)
	}
	return n.i
}

// int is Number.intValue: the low 32 bits of an integer, a float
// saturated to an int.
func (n javaNumber) int() int32 {
	if n.isFloat {
		return javaF2I(n.f)
	}
	return int32(n.long())
}

func (n javaNumber) double() float64 {
	switch {
	case n.dec != nil:
		f, _ := n.dec.Rat().Float64()
		return f
	case n.isFloat:
		return n.f
	}
	return float64(n.i)
}

func (n javaNumber) float() float32 {
	switch {
	case n.dec != nil:
		f, _ := n.dec.Rat().Float32()
		return f
	case n.isFloat:
		return float32(n.f)
	}
	return float32(n.i)
}

// decimalInt is BigDecimal.toBigInteger: the integer part, truncated.
func decimalInt(d data.Decimal) *big.Int {
	r := d.Rat()
	q := new(big.Int).Quo(r.Num(), r.Denom())
	// Int64 of a big.Int is undefined past 64 bits: keep the low bits.
	mask := new(big.Int).Lsh(big.NewInt(1), 64)
	low := new(big.Int).Mod(q, mask) // in [0, 2^64)
	if low.Cmp(new(big.Int).Lsh(big.NewInt(1), 63)) >= 0 {
		low.Sub(low, mask)
	}
	return low
}

func javaF2L(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func javaF2I(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

func castTo(v any, target data.Type) (any, error) {
	if target == data.String {
		return castToString(v), nil
	}
	if n, ok := asJavaNumber(v); ok {
		switch target {
		case data.Int8:
			return int8(n.int()), nil
		case data.Int16:
			return int16(n.int()), nil
		case data.Int32:
			return n.int(), nil
		case data.Int64:
			return n.long(), nil
		case data.Float32:
			return n.float(), nil
		case data.Float64:
			return n.double(), nil
		case data.Boolean:
			return n.long() != 0, nil
		}
	}
	if b, ok := v.(bool); ok {
		var one int64
		if b {
			one = 1
		}
		switch target {
		case data.Int8:
			return int8(one), nil
		case data.Int16:
			return int16(one), nil
		case data.Int32:
			return int32(one), nil
		case data.Int64:
			return one, nil
		case data.Float32:
			return float32(one), nil
		case data.Float64:
			return float64(one), nil
		case data.Boolean:
			return b, nil
		}
	}
	if s, ok := v.(string); ok {
		switch target {
		case data.Int8, data.Int16, data.Int32, data.Int64:
			bits := map[data.Type]int{data.Int8: 8, data.Int16: 16, data.Int32: 32, data.Int64: 64}[target]
			n, err := strconv.ParseInt(s, 10, bits)
			if err != nil {
				return nil, errNumberFormat
			}
			switch target {
			case data.Int8:
				return int8(n), nil
			case data.Int16:
				return int16(n), nil
			case data.Int32:
				return int32(n), nil
			}
			return n, nil
		case data.Float32:
			f, err := javaParseFloat(s, 32)
			return float32(f), err
		case data.Float64:
			return javaParseFloat(s, 64)
		case data.Boolean:
			return strings.EqualFold(s, "true"), nil
		}
	}
	if !hasType(castOutputTypes, target) {
		return nil, data.Errorf("%s is not supported in the Cast transformation.", target)
	}
	return nil, data.Errorf("Unexpected type in Cast transformation: %s", javaClassOf(v))
}

// javaParseFloat approximates Java's Double.parseDouble (and
// Float.parseFloat): surrounding whitespace and a type suffix allowed,
// NaN and Infinity spelled as Java does, a too large value infinite.
func javaParseFloat(s string, bits int) (float64, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	switch strings.TrimLeft(s, "+-") {
	case "NaN", "Infinity":
		f, _ := strconv.ParseFloat(s, bits)
		return f, nil
	}
	hex := strings.HasPrefix(strings.ToLower(strings.TrimLeft(s, "+-")), "0x")
	if len(s) > 0 && strings.ContainsRune("fFdD", rune(s[len(s)-1])) && (!hex || strings.ContainsAny(s, "pP")) {
		s = s[:len(s)-1]
	}
	if strings.Contains(s, "_") || (!hex && strings.ContainsAny(strings.ToLower(s), "inatyu")) { // Go's inf/nan spellings and digit separators
		return 0, errNumberFormat
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, nil
		}
		return 0, errNumberFormat
	}
	return f, nil
}

// castToString is Kafka's: a date in ISO 8601 (Values.dateFormatFor, in
// the local time zone as the JVM's default), bytes in base64, anything
// else its toString.
func castToString(v any) string {
	switch x := v.(type) {
	case time.Time:
		ms := x.UnixMilli()
		lt := x.Local()
		switch {
		case ms < millisPerDay:
			return lt.Format("15:04:05.000Z")
		case ms%millisPerDay == 0:
			return lt.Format("2006-01-02")
		}
		return lt.Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return string(data.AppendJava(nil, v))
}

// ---- MaskField ----

type maskField struct {
	side        side
	fields      []string
	set         map[string]bool
	replacement string // "": none
	replaceNull bool
}

func newMaskField(s side, v keyValues) (Transformation, error) {
	t := &maskField{side: s, set: map[string]bool{}, replacement: v.String("replacement"), replaceNull: v.Bool("replace.null.with.default")}
	for _, f := range v.List("fields") {
		if !t.set[f] {
			t.set[f] = true
			t.fields = append(t.fields, f)
		}
	}
	return t, nil
}

const maskPurpose = "mask fields"

func (t *maskField) Apply(r *Record) (bool, error) {
	schema, value := t.side.get(r)
	if schema == nil {
		m, err := requireMap(value, maskPurpose)
		if err != nil {
			return false, err
		}
		out := data.CopyMap(m)
		for _, f := range t.fields {
			old, _ := m.Get(f)
			nv, err := t.masked(old)
			if err != nil {
				return false, err
			}
			out.Put(f, nv)
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(value, maskPurpose)
	if err != nil {
		return false, err
	}
	out := data.NewStruct(st.Schema)
	for _, f := range st.Schema.Fields {
		fv, err := fieldValue(st, f.Name, t.replaceNull)
		if err != nil {
			return false, err
		}
		if t.set[f.Name] {
			if fv, err = t.masked(fv); err != nil {
				return false, err
			}
		}
		if err := out.Put(f.Name, fv); err != nil {
			return false, err
		}
	}
	t.side.set(r, schema, out)
	return true, nil
}

func (t *maskField) masked(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.replacement != "" {
		return maskWithReplacement(v, t.replacement)
	}
	return maskEmpty(v)
}

// maskEmpty is the empty value of v's class: 0, false, "", an empty list
// or map, BigDecimal.ZERO, new Date(0).
func maskEmpty(v any) (any, error) {
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case data.Decimal:
		return data.Decimal{Unscaled: new(big.Int), Scale: 0}, nil
	case time.Time:
		return time.UnixMilli(0), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case *data.Map:
		return data.NewMap(0), nil
	}
	return nil, data.Errorf("Cannot mask value of type: %s", javaClassOf(v))
}

// maskWithReplacement converts the replacement to v's class: numbers (by
// Values.convertTo*, through BigDecimal) and strings only.
func maskWithReplacement(v any, repl string) (any, error) {
	switch v.(type) {
	case string:
		return repl, nil
	case data.Decimal:
		d, ok := parseBigDecimal(repl)
		if !ok {
			return nil, data.Errorf("Unable to convert %s (class java.lang.String) to number", repl)
		}
		return d, nil
	case int8, int16, int32, int64, float32, float64:
	default:
		return nil, data.Errorf("Cannot mask value of type %s with custom replacement.", javaClassOf(v))
	}
	d, ok := parseBigDecimal(repl)
	if !ok {
		return nil, data.Errorf("Unable to convert %s (class java.lang.String) to a number", repl)
	}
	n := javaNumber{dec: &d}
	switch v.(type) {
	case int8:
		return int8(n.long()), nil
	case int16:
		return int16(n.long()), nil
	case int32:
		return int32(n.long()), nil
	case int64:
		return n.long(), nil
	case float32:
		return float32(n.double()), nil
	}
	return n.double(), nil
}

// parseBigDecimal is Java's new BigDecimal(String): a sign, digits with
// an optional point, an optional exponent.
func parseBigDecimal(s string) (data.Decimal, bool) {
	mant, exp := s, int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return data.Decimal{}, false
		}
		exp = e
	}
	neg := false
	if mant != "" && (mant[0] == '+' || mant[0] == '-') {
		neg = mant[0] == '-'
		mant = mant[1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" {
		return data.Decimal{}, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return data.Decimal{}, false
		}
	}
	u, _ := new(big.Int).SetString(digits, 10)
	if neg {
		u.Neg(u)
	}
	scale := int64(len(frac)) - exp
	if scale > math.MaxInt32 || scale < math.MinInt32 {
		return data.Decimal{}, false
	}
	return data.Decimal{Unscaled: u, Scale: int32(scale)}, true
}

// ---- ReplaceField ----

type replaceField struct {
	side             side
	exclude, include map[string]bool
	renames, reverse map[string]string
	replaceNull      bool
}

func parseRenames(mappings []string) (map[string]string, error) {
	m := map[string]string{}
	for _, mapping := range mappings {
		parts := javaSplitColon(mapping)
		if len(parts) != 2 {
			return nil, errors.New("Invalid rename mapping: " + mapping) //nolint:staticcheck // Kafka's message
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

func newReplaceField(s side, v keyValues) (Transformation, error) {
	// The deprecated aliases count only when the key itself is not set.
	list := func(key, alias string) map[string]bool {
		l := v.List(key)
		if !v.IsSet(key) && v.IsSet(alias) {
			l = v.List(alias)
		}
		set := map[string]bool{}
		for _, f := range l {
			set[f] = true
		}
		return set
	}
	renames, err := parseRenames(v.List("renames"))
	if err != nil {
		return nil, &config.Error{Source: v.Source(), Key: v.Key("renames"), Value: strings.Join(v.List("renames"), ","), Reason: err.Error()}
	}
	t := &replaceField{side: s, exclude: list("exclude", "blacklist"), include: list("include", "whitelist"),
		renames: renames, reverse: map[string]string{}, replaceNull: v.Bool("replace.null.with.default")}
	for k, n := range renames {
		t.reverse[n] = k
	}
	return t, nil
}

func (t *replaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *replaceField) renamed(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

func (t *replaceField) reverseRenamed(name string) string {
	if n, ok := t.reverse[name]; ok {
		return n
	}
	return name
}

const replacePurpose = "field replacement"

func (t *replaceField) Apply(r *Record) (bool, error) {
	schema, value := t.side.get(r)
	if value == nil {
		return true, nil
	}
	if schema == nil {
		m, err := requireMap(value, replacePurpose)
		if err != nil {
			return false, err
		}
		// new HashMap<>(value.size()), filled in the map's (Java) order.
		out := data.NewMap(m.Len())
		out.Capacity = 1
		for out.Capacity < m.Len() {
			out.Capacity <<= 1
		}
		for _, i := range m.Order() {
			name, ok := m.Keys[i].(string)
			if !ok {
				return false, data.Errorf("class %s cannot be cast to class java.lang.String", data.JavaClass(m.Keys[i]))
			}
			if t.keep(name) {
				out.Put(t.renamed(name), m.Values[i])
			}
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(value, replacePurpose)
	if err != nil {
		return false, err
	}
	ns := copySchemaBasics(st.Schema)
	ns.Type = data.StructType
	for _, f := range st.Schema.Fields {
		if t.keep(f.Name) {
			if err := ns.AddField(t.renamed(f.Name), f.Schema); err != nil {
				return false, err
			}
		}
	}
	out := data.NewStruct(ns)
	for _, f := range ns.Fields {
		fv, err := fieldValue(st, t.reverseRenamed(f.Name), t.replaceNull)
		if err != nil {
			return false, err
		}
		if err := out.Put(f.Name, fv); err != nil {
			return false, err
		}
	}
	t.side.set(r, ns, out)
	return true, nil
}

// ---- SetSchemaMetadata ----

type setSchemaMetadata struct {
	side        side
	name        string // "": keep
	version     *int32 // nil: keep
	replaceNull bool
}

func newSetSchemaMetadata(s side, v keyValues) (Transformation, error) {
	t := &setSchemaMetadata{side: s, name: v.String("schema.name"), replaceNull: v.Bool("replace.null.with.default")}
	if v.vals.Has(v.Key("schema.version")) {
		n := int32(v.Int("schema.version"))
		t.version = &n
	}
	if t.name == "" && t.version == nil {
		return nil, &config.Error{Source: v.Source(), Key: v.Key("schema.name"), Value: v.String("schema.name"),
			Reason: "Neither schema name nor version configured"}
	}
	return t, nil
}

func (t *setSchemaMetadata) Apply(r *Record) (bool, error) {
	schema, value := t.side.get(r)
	if schema == nil && value == nil {
		return true, nil
	}
	if err := requireSchema(schema, "updating schema metadata"); err != nil {
		return false, err
	}
	ns := schema.Clone()
	if t.name != "" {
		ns.Name = t.name
	}
	if t.version != nil {
		n := *t.version
		ns.Version = &n
	}
	if ns.Type != data.MapType {
		ns.Key = nil
		if ns.Type != data.Array {
			ns.Value = nil
		}
	}
	if st, ok := value.(*data.Struct); ok {
		out := data.NewStruct(ns)
		for _, f := range ns.Fields {
			fv, err := fieldValue(st, f.Name, t.replaceNull)
			if err != nil {
				return false, err
			}
			if err := out.Put(f.Name, fv); err != nil {
				return false, err
			}
		}
		value = out
	}
	t.side.set(r, ns, value)
	return true, nil
}
