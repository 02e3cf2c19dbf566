package data

import (
	"bytes"
	"math/big"
	"slices"
	"time"
)

// Decimal is a value of the Decimal logical type: Unscaled × 10^-Scale,
// as Java's BigDecimal.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// Rat returns d as an exact fraction.
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat).SetInt(d.Unscaled)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.Scale))), nil)
	if d.Scale >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(p))
	}
	return r.Mul(r, new(big.Rat).SetInt(p))
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// Map is a map value: its entries in insertion order, and the Java class
// that holds them, which decides the order Java prints them in.
type Map struct {
	Keys, Values []any
	// Linked: a java.util.LinkedHashMap (insertion order). Otherwise a
	// java.util.HashMap whose table started with Capacity buckets (0: 16,
	// new HashMap<>()).
	Linked   bool
	Capacity int
}

// NewMap returns an empty java.util.HashMap of room for n entries.
func NewMap(n int) *Map {
	return &Map{Keys: make([]any, 0, n), Values: make([]any, 0, n)}
}

// CopyMap is Java's new HashMap<>(m): m's entries in m's (Java) order, in
// a table sized for them.
func CopyMap(m *Map) *Map {
	c := NewMap(m.Len())
	for _, i := range m.Order() {
		c.Keys = append(c.Keys, m.Keys[i])
		c.Values = append(c.Values, m.Values[i])
	}
	c.Capacity = tableSizeFor(int(float32(m.Len())/0.75 + 1))
	return c
}

// tableSizeFor is HashMap's: the power of two at least n (1 for n < 1).
func tableSizeFor(n int) int {
	size := 1
	for size < n {
		size <<= 1
	}
	return size
}

// Len is the number of entries.
func (m *Map) Len() int { return len(m.Keys) }

func (m *Map) find(k any) int {
	for i, mk := range m.Keys {
		if Equal(mk, k) {
			return i
		}
	}
	return -1
}

// Get returns the value of key k.
func (m *Map) Get(k any) (any, bool) {
	if i := m.find(k); i >= 0 {
		return m.Values[i], true
	}
	return nil, false
}

// Put sets the value of key k, in place when k is there.
func (m *Map) Put(k, v any) {
	if i := m.find(k); i >= 0 {
		m.Values[i] = v
		return
	}
	m.Keys = append(m.Keys, k)
	m.Values = append(m.Values, v)
}

// Delete removes key k.
func (m *Map) Delete(k any) {
	if i := m.find(k); i >= 0 {
		m.Keys = slices.Delete(m.Keys, i, i+1)
		m.Values = slices.Delete(m.Values, i, i+1)
	}
}

// Struct is a STRUCT value: one value per field of its schema.
type Struct struct {
	Schema *Schema
	Values []any
}

// NewStruct returns a Struct of schema s with every field null.
func NewStruct(s *Schema) *Struct {
	return &Struct{Schema: s, Values: make([]any, len(s.Fields))}
}

// Get returns the value of the field called name: its default when it is
// null and the field has one, as Kafka's Struct.get.
func (s *Struct) Get(name string) (any, error) {
	f := s.Schema.Field(name)
	if f == nil {
		return nil, Errorf("%s is not a valid field name", name)
	}
	if v := s.Values[f.Index]; v != nil {
		return v, nil
	}
	return f.Schema.Default, nil
}

// GetWithoutDefault returns the field's value as set, nil when not set.
func (s *Struct) GetWithoutDefault(name string) (any, error) {
	f := s.Schema.Field(name)
	if f == nil {
		return nil, Errorf("%s is not a valid field name", name)
	}
	return s.Values[f.Index], nil
}

// Put sets the field called name to v, checked against the field's
// schema.
func (s *Struct) Put(name string, v any) error {
	f := s.Schema.Field(name)
	if f == nil {
		return Errorf("%s is not a valid field name", name)
	}
	if err := validate(f.Schema, v, `field: "`+name+`"`); err != nil {
		return err
	}
	s.Values[f.Index] = v
	return nil
}

// Validate checks every field, as Kafka's Struct.validate.
func (s *Struct) Validate() error {
	for _, f := range s.Schema.Fields {
		v := s.Values[f.Index]
		if v == nil {
			v = f.Schema.Default
		}
		if err := validate(f.Schema, v, `field: "`+f.Name+`"`); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks that v may be a value of schema s, with Kafka's
// messages (ConnectSchema.validateValue).
func Validate(s *Schema, v any) error { return validate(s, v, "value") }

func validate(s *Schema, v any, where string) error {
	if v == nil {
		if !s.Optional {
			return Errorf("Invalid value: null used for required %s, schema type: %s", where, s.Type)
		}
		return nil
	}
	if !fits(s, v) {
		msg := "Invalid Java object for schema"
		if s.Name != "" {
			msg += ` "` + s.Name + `"`
		}
		return Errorf("%s with type %s: class %s for %s", msg, s.Type, JavaClass(v), where)
	}
	switch x := v.(type) {
	case *Struct:
		if !x.Schema.Equal(s) {
			return Errorf("Struct schemas do not match.")
		}
		return x.Validate()
	case []any:
		if s.Value == nil {
			return Errorf("No schema defined for element of array %s", where)
		}
		for _, e := range x {
			if err := validate(s.Value, e, "element of array "+where); err != nil {
				return err
			}
		}
	case *Map:
		if s.Key == nil || s.Value == nil {
			return Errorf("No schema defined for key of map %s", where)
		}
		for i := range x.Keys {
			if err := validate(s.Key, x.Keys[i], "key of map "+where); err != nil {
				return err
			}
			if err := validate(s.Value, x.Values[i], "value of map "+where); err != nil {
				return err
			}
		}
	}
	return nil
}

// fits says whether v is of the Go type that schema s's values have.
func fits(s *Schema, v any) bool {
	switch s.Name {
	case DecimalName:
		_, ok := v.(Decimal)
		return ok
	case DateName, TimeName, TimestampName:
		_, ok := v.(time.Time)
		return ok
	}
	switch v.(type) {
	case int8:
		return s.Type == Int8
	case int16:
		return s.Type == Int16
	case int32:
		return s.Type == Int32
	case int64:
		return s.Type == Int64
	case float32:
		return s.Type == Float32
	case float64:
		return s.Type == Float64
	case bool:
		return s.Type == Boolean
	case string:
		return s.Type == String
	case []byte:
		return s.Type == Bytes
	case []any:
		return s.Type == Array
	case *Map:
		return s.Type == MapType
	case *Struct:
		return s.Type == StructType
	}
	return false
}

// JavaClass is the name of the Java class that holds a value in Kafka
// Connect, for messages: java.lang.String, java.util.HashMap.
func JavaClass(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	case *Map:
		if x.Linked {
			return "java.util.LinkedHashMap"
		}
		return "java.util.HashMap"
	case *Struct:
		return "org.apache.kafka.connect.data.Struct"
	case Decimal:
		return "java.math.BigDecimal"
	case time.Time:
		return "java.util.Date"
	}
	return "java.lang.Object"
}

// Equal compares two values as Java's equals does for their classes: by
// content for bytes, lists, maps and structs.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, Equal)
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i, k := range x.Keys {
			if v, ok := y.Get(k); !ok || !Equal(x.Values[i], v) {
				return false
			}
		}
		return true
	case *Struct:
		y, ok := b.(*Struct)
		return ok && x.Schema.Equal(y.Schema) && slices.EqualFunc(x.Values, y.Values, Equal)
	case Decimal:
		y, ok := b.(Decimal)
		return ok && x.Scale == y.Scale && x.Unscaled.Cmp(y.Unscaled) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}
