package data

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"
)

var errEnvelope = errors.New(`JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields; if you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration`)

// DecodeJSON is the JsonConverter's toConnectData: with schemas, b is the
// envelope {"schema":...,"payload":...} and the value follows its schema;
// without, the value is schemaless (nil schema). A null (nil b, or JSON
// null without schemas) is a nil value.
func DecodeJSON(b []byte, schemas bool) (*Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	n, err := parseJSON(bytes.Trim(b, " \t\r\n"))
	if err != nil {
		return nil, nil, err
	}
	if !schemas {
		return nil, schemaless(&n), nil
	}
	schema, payload := n.get("schema"), n.get("payload")
	if n.kind != 'o' || len(n.keys) != 2 || schema == nil || payload == nil {
		return nil, nil, errEnvelope
	}
	s, err := parseSchema(schema)
	if err != nil {
		return nil, nil, fmt.Errorf("converting the envelope's schema: %w", err)
	}
	v, err := fromJSON(s, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("converting the payload: %w", err)
	}
	return s, v, nil
}

// schemaless converts a JSON value without a schema: an integer is a Long,
// another number a Double, an object a HashMap, an array an ArrayList.
func schemaless(n *jnode) any {
	switch n.kind {
	case 'n':
		return nil
	case 'b':
		return n.text == "true"
	case 's':
		return n.text
	case '0':
		if isIntegral(n.text) {
			return int64Of(n.text)
		}
		f, _ := strconv.ParseFloat(n.text, 64) // ±Inf when out of range, as Java's
		return f
	case 'a':
		out := make([]any, len(n.items))
		for i := range n.items {
			out[i] = schemaless(&n.items[i])
		}
		return out
	}
	m := NewMap(len(n.keys))
	for i, k := range n.keys {
		m.Keys = append(m.Keys, k)
		m.Values = append(m.Values, schemaless(&n.items[i]))
	}
	return m
}

// parseSchema reads an envelope's schema, Kafka's asConnectSchema; nil for
// a JSON null (no schema).
func parseSchema(n *jnode) (*Schema, error) {
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
	s := &Schema{}
	for i, name := range jsonTypeNames {
		if i > 0 && name == t.text {
			s.Type = Type(i)
		}
	}
	if s.Type == 0 {
		return nil, fmt.Errorf("unknown schema type: %s", t.text)
	}
	if nm := n.get("name"); nm != nil && nm.kind == 's' {
		s.Name = nm.text
	}
	if o := n.get("optional"); o != nil && o.kind == 'b' {
		s.Optional = o.text == "true"
	}
	if v := n.get("version"); v != nil && v.kind == '0' && isIntegral(v.text) {
		s.Version = version(int32(int64Of(v.text)))
	}
	if d := n.get("doc"); d != nil && d.kind == 's' {
		s.Doc = d.text
	}
	if ps := n.get("parameters"); ps != nil && ps.kind == 'o' {
		s.Parameters = map[string]string{}
		for i, k := range ps.keys {
			if ps.items[i].kind != 's' {
				return nil, errors.New("schema parameters must have string values")
			}
			s.Parameters[k] = ps.items[i].text
		}
	}
	if s.Name == DecimalName {
		if _, err := decimalScale(s); err != nil {
			return nil, err
		}
	}
	sub := func(name string) (*Schema, error) {
		c := n.get(name)
		if c == nil || c.kind == 'n' {
			return nil, fmt.Errorf("%s schema must contain '%s' field", t.text, name)
		}
		return parseSchema(c)
	}
	var err error
	switch s.Type {
	case Array:
		s.Value, err = sub("items")
	case MapType:
		if s.Key, err = sub("keys"); err == nil {
			s.Value, err = sub("values")
		}
	case StructType:
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
			if err := s.AddField(name.text, fsch); err != nil {
				return nil, err
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if d := n.get("default"); d != nil && d.kind != 'n' {
		if s.Default, err = fromJSON(s, d); err != nil {
			return nil, fmt.Errorf("the schema's default: %w", err)
		}
	}
	return s, nil
}

// decimalScale reads a Decimal schema's scale parameter.
func decimalScale(s *Schema) (int32, error) {
	sc, ok := s.Parameters[DecimalScale]
	if !ok {
		return 0, errors.New("invalid Decimal schema: scale parameter not found")
	}
	v, err := strconv.ParseInt(sc, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid Decimal schema: scale %q", sc)
	}
	return int32(v), nil
}

// fromJSON converts a payload with its schema, Kafka's convertToConnect. A
// required value that is null takes the schema's default or is an error.
func fromJSON(s *Schema, n *jnode) (any, error) {
	if s == nil {
		if n == nil {
			return nil, nil
		}
		return schemaless(n), nil
	}
	if n == nil || n.kind == 'n' {
		switch {
		case s.Default != nil:
			return s.Default, nil
		case s.Optional:
			return nil, nil
		}
		return nil, fmt.Errorf("invalid null value for required %s field", s.Type)
	}
	mismatch := func() (any, error) {
		return nil, fmt.Errorf("a %s value does not match the schema's type %s", kindName(n.kind), jsonTypeNames[s.Type])
	}
	switch s.Name {
	case DecimalName:
		switch {
		case n.kind == '0': // decimal.format=NUMERIC
			unscaled, scale, ok := parseDecimal(n.text)
			if !ok {
				return nil, fmt.Errorf("invalid Decimal value %s", n.text)
			}
			return Decimal{unscaled, int32(scale)}, nil
		case n.kind == 's' && s.Type == Bytes:
			b, err := base64.StdEncoding.DecodeString(n.text)
			if err != nil || len(b) == 0 {
				return nil, fmt.Errorf("invalid Decimal value %q", n.text)
			}
			scale, err := decimalScale(s)
			if err != nil {
				return nil, err
			}
			return Decimal{fromTwosComplement(b), scale}, nil
		}
		return mismatch()
	case DateName, TimeName, TimestampName:
		if n.kind != '0' {
			return mismatch()
		}
		ms := int64Of(n.text)
		switch s.Name {
		case DateName:
			ms = int64(int32(ms)) * 86400000
		case TimeName:
			ms = int64(int32(ms))
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	switch s.Type {
	case Boolean:
		if n.kind != 'b' {
			return mismatch()
		}
		return n.text == "true", nil
	case String:
		if n.kind != 's' {
			return mismatch()
		}
		return n.text, nil
	case Int8, Int16, Int32, Int64:
		if n.kind != '0' {
			return mismatch()
		}
		v := int64Of(n.text)
		switch s.Type {
		case Int8:
			return int8(v), nil
		case Int16:
			return int16(v), nil
		case Int32:
			return int32(v), nil
		}
		return v, nil
	case Float32:
		if n.kind != '0' {
			return mismatch()
		}
		f, _ := strconv.ParseFloat(n.text, 32)
		return float32(f), nil
	case Float64:
		if n.kind != '0' {
			return mismatch()
		}
		f, _ := strconv.ParseFloat(n.text, 64)
		return f, nil
	case Bytes:
		if n.kind != 's' {
			return mismatch()
		}
		b, err := base64.StdEncoding.DecodeString(n.text)
		if err != nil {
			return nil, fmt.Errorf("invalid bytes field: %w", err)
		}
		return b, nil
	case Array:
		if n.kind != 'a' {
			return mismatch()
		}
		out := make([]any, len(n.items))
		for i := range n.items {
			v, err := fromJSON(s.Value, &n.items[i])
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case MapType:
		return mapFromJSON(s, n)
	}
	if n.kind != 'o' {
		return mismatch()
	}
	st := NewStruct(s)
	for i, f := range s.Fields {
		v, err := fromJSON(f.Schema, n.get(f.Name))
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		st.Values[i] = v
	}
	return st, nil
}

// mapFromJSON converts a map: a JSON object when the keys are strings,
// else an array of [key, value] pairs.
func mapFromJSON(s *Schema, n *jnode) (any, error) {
	m := NewMap(len(n.items))
	if s.Key != nil && s.Key.Type == String {
		if n.kind != 'o' {
			return nil, fmt.Errorf("maps with string fields should be encoded as JSON objects, but found a %s", kindName(n.kind))
		}
		for i, k := range n.keys { // the parser keeps a key once
			v, err := fromJSON(s.Value, &n.items[i])
			if err != nil {
				return nil, err
			}
			m.Keys = append(m.Keys, k)
			m.Values = append(m.Values, v)
		}
		return m, nil
	}
	if n.kind != 'a' {
		return nil, fmt.Errorf("maps with non-string fields should be encoded as JSON array of tuples, but found a %s", kindName(n.kind))
	}
	for i := range n.items {
		p := &n.items[i]
		if p.kind != 'a' || len(p.items) != 2 {
			return nil, errors.New("found invalid map entry instead of array tuple")
		}
		k, err := fromJSON(s.Key, &p.items[0])
		if err != nil {
			return nil, err
		}
		v, err := fromJSON(s.Value, &p.items[1])
		if err != nil {
			return nil, err
		}
		m.Put(k, v)
	}
	return m, nil
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

func fromTwosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v
}

// twosComplement is BigInteger.toByteArray: the shortest big-endian two's
// complement bytes of v.
func twosComplement(v *big.Int) []byte {
	if v.Sign() >= 0 {
		b := v.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -v-1 has the complement bits of v.
	n := new(big.Int).Not(v).Bytes() // |v|-1
	out := make([]byte, len(n))
	for i, c := range n {
		out[i] = ^c
	}
	if len(out) == 0 || out[0]&0x80 == 0 {
		out = append([]byte{0xff}, out...)
	}
	return out
}

// AppendJSON is the JsonConverter's fromConnectData: v as JSON, inside the
// envelope {"schema":...,"payload":...} with schemas. It returns nil for a
// null without a schema, which Kafka stores as a null.
func AppendJSON(dst []byte, s *Schema, v any, schemas bool) ([]byte, error) {
	if s == nil && v == nil {
		return nil, nil
	}
	if !schemas {
		return appendValueJSON(dst, s, v)
	}
	dst = append(dst, `{"schema":`...)
	dst = AppendSchemaJSON(dst, s)
	dst = append(dst, `,"payload":`...)
	dst, err := appendValueJSON(dst, s, v)
	if err != nil {
		return nil, err
	}
	return append(dst, '}'), nil
}

// AppendSchemaJSON appends a schema as the JsonConverter's envelope states
// it (asJsonSchema): null for no schema.
func AppendSchemaJSON(dst []byte, s *Schema) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"type":"`...)
	dst = append(dst, jsonTypeNames[s.Type]...)
	dst = append(dst, '"')
	switch s.Type {
	case Array:
		dst = append(dst, `,"items":`...)
		dst = AppendSchemaJSON(dst, s.Value)
	case MapType:
		dst = append(dst, `,"keys":`...)
		dst = AppendSchemaJSON(dst, s.Key)
		dst = append(dst, `,"values":`...)
		dst = AppendSchemaJSON(dst, s.Value)
	case StructType:
		dst = append(dst, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			fs := AppendSchemaJSON(nil, f.Schema)
			dst = append(dst, fs[:len(fs)-1]...)
			dst = append(dst, `,"field":`...)
			dst = AppendJSONString(dst, []byte(f.Name))
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, s.Optional)
	if s.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = AppendJSONString(dst, []byte(s.Name))
	}
	if s.Version != nil {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(*s.Version), 10)
	}
	if s.Doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = AppendJSONString(dst, []byte(s.Doc))
	}
	if len(s.Parameters) > 0 {
		dst = append(dst, `,"parameters":{`...)
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, []byte(k))
			dst = append(dst, ':')
			dst = AppendJSONString(dst, []byte(s.Parameters[k]))
		}
		dst = append(dst, '}')
	}
	if s.Default != nil {
		if d, err := appendValueJSON(nil, s, s.Default); err == nil {
			dst = append(dst, `,"default":`...)
			dst = append(dst, d...)
		}
	}
	return append(dst, '}')
}

// appendValueJSON is Kafka's convertToJson: v following schema s, or
// following its own Go type when s is nil.
func appendValueJSON(dst []byte, s *Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil || s.Optional && s.Default == nil:
			return append(dst, "null"...), nil
		case s.Default != nil:
			v = s.Default
		default:
			return nil, errors.New("Conversion error: null value for field that is required and has no default value") //nolint:staticcheck // Kafka's message
		}
	}
	if s != nil && !fits(s, v) {
		return nil, Errorf("Invalid type for %s: class %s", s.Type, JavaClass(v))
	}
	var err error
	switch x := v.(type) {
	case string:
		return AppendJSONString(dst, []byte(x)), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case float32, float64:
		// Jackson writes the non-numbers as strings (WRITE_NAN_AS_STRINGS).
		if f := toFloat64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			dst = append(dst, '"')
			dst = AppendJava(dst, x)
			return append(dst, '"'), nil
		}
		return AppendJava(dst, x), nil
	case int8, int16, int32, int64:
		return AppendJava(dst, x), nil
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case Decimal:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, twosComplement(x.Unscaled))
		return append(dst, '"'), nil
	case time.Time:
		ms := x.UnixMilli()
		name := ""
		if s != nil {
			name = s.Name
		}
		switch name {
		case DateName:
			if ms%86400000 != 0 {
				return nil, errors.New("Kafka Connect Date type should not have any time fields set to non-zero values.") //nolint:staticcheck // Kafka's message
			}
			ms /= 86400000
		case TimeName:
			if ms < 0 || ms >= 86400000 {
				return nil, errors.New("Kafka Connect Time type should not have any date fields set to non-zero values.") //nolint:staticcheck // Kafka's message
			}
		}
		return strconv.AppendInt(dst, ms, 10), nil
	case []any:
		var items *Schema
		if s != nil {
			items = s.Value
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendValueJSON(dst, items, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case *Map:
		return appendMapJSON(dst, s, x)
	case *Struct:
		if s == nil {
			return nil, errors.New("Mismatching schema.") //nolint:staticcheck // Kafka's message
		}
		dst = append(dst, '{')
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, []byte(f.Name))
			dst = append(dst, ':')
			fv := x.Values[i]
			if dst, err = appendValueJSON(dst, f.Schema, fv); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	return nil, fmt.Errorf("Couldn't convert %v to JSON.", v) //nolint:staticcheck // Kafka's message
}

func toFloat64(v any) float64 {
	if f, ok := v.(float32); ok {
		return float64(f)
	}
	return v.(float64)
}

// appendMapJSON writes a map as an object when its keys are strings, else
// as an array of [key, value] pairs, in Java's order.
func appendMapJSON(dst []byte, s *Schema, m *Map) ([]byte, error) {
	var ks, vs *Schema
	objectMode := true
	if s != nil {
		ks, vs = s.Key, s.Value
		objectMode = ks != nil && ks.Type == String
	} else {
		for _, k := range m.Keys {
			if _, ok := k.(string); !ok {
				objectMode = false
				break
			}
		}
	}
	open, close := byte('{'), byte('}')
	if !objectMode {
		open, close = '[', ']'
	}
	dst = append(dst, open)
	var err error
	for i, at := range m.Order() {
		if i > 0 {
			dst = append(dst, ',')
		}
		if objectMode {
			k, _ := m.Keys[at].(string)
			dst = AppendJSONString(dst, []byte(k))
			dst = append(dst, ':')
		} else {
			dst = append(dst, '[')
			if dst, err = appendValueJSON(dst, ks, m.Keys[at]); err != nil {
				return nil, err
			}
			dst = append(dst, ',')
		}
		if dst, err = appendValueJSON(dst, vs, m.Values[at]); err != nil {
			return nil, err
		}
		if !objectMode {
			dst = append(dst, ']')
		}
	}
	return append(dst, close), nil
}
