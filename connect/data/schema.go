package data

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Type is a schema's type, as Kafka's Schema.Type.
type Type uint8

// Kafka's schema types.
const (
	Int8 Type = iota + 1
	Int16
	Int32
	Int64
	Float32
	Float64
	Boolean
	String
	Bytes
	Array
	MapType
	StructType
)

var typeNames = [...]string{"", "INT8", "INT16", "INT32", "INT64", "FLOAT32", "FLOAT64", "BOOLEAN", "STRING", "BYTES", "ARRAY", "MAP", "STRUCT"}

// jsonTypeNames are the JsonConverter's names of the types.
var jsonTypeNames = [...]string{"", "int8", "int16", "int32", "int64", "float", "double", "boolean", "string", "bytes", "array", "map", "struct"}

// String is Kafka's name of the type: INT8, STRING, STRUCT.
func (t Type) String() string {
	if int(t) < len(typeNames) && t > 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// IsPrimitive says whether t is neither ARRAY, MAP nor STRUCT.
func (t Type) IsPrimitive() bool { return t >= Int8 && t <= Bytes }

// ParseType reads a type by Kafka's name, in any case (int8, STRING).
func ParseType(name string) (Type, bool) {
	for i, n := range typeNames {
		if i > 0 && strings.EqualFold(n, name) {
			return Type(i), true
		}
	}
	return 0, false
}

// Names of Kafka's logical types.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"
	// DecimalScale is the Decimal schema's parameter holding its scale.
	DecimalScale = "scale"
)

// Schema is a Connect schema. Schemas are compared by value (Equal); a
// Schema is not changed once a value uses it.
type Schema struct {
	Type     Type
	Optional bool
	Default  any // nil: none
	Name     string
	Version  *int32
	Doc      string
	// Parameters are the schema's parameters (a Decimal's scale).
	Parameters map[string]string
	Fields     []Field // STRUCT
	Key        *Schema // MAP
	Value      *Schema // MAP and ARRAY
}

// Field is one field of a STRUCT schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// The schemas of Kafka's Schema constants (Schema.STRING_SCHEMA and
// Schema.OPTIONAL_STRING_SCHEMA, and so on). They must not be changed.
var (
	Int8Schema            = &Schema{Type: Int8}
	Int16Schema           = &Schema{Type: Int16}
	Int32Schema           = &Schema{Type: Int32}
	Int64Schema           = &Schema{Type: Int64}
	Float32Schema         = &Schema{Type: Float32}
	Float64Schema         = &Schema{Type: Float64}
	BooleanSchema         = &Schema{Type: Boolean}
	StringSchema          = &Schema{Type: String}
	BytesSchema           = &Schema{Type: Bytes}
	OptionalInt8Schema    = &Schema{Type: Int8, Optional: true}
	OptionalInt16Schema   = &Schema{Type: Int16, Optional: true}
	OptionalInt32Schema   = &Schema{Type: Int32, Optional: true}
	OptionalInt64Schema   = &Schema{Type: Int64, Optional: true}
	OptionalFloat32Schema = &Schema{Type: Float32, Optional: true}
	OptionalFloat64Schema = &Schema{Type: Float64, Optional: true}
	OptionalBooleanSchema = &Schema{Type: Boolean, Optional: true}
	OptionalStringSchema  = &Schema{Type: String, Optional: true}
	OptionalBytesSchema   = &Schema{Type: Bytes, Optional: true}
)

// PrimitiveSchema returns the schema of a primitive type, optional or not.
func PrimitiveSchema(t Type, optional bool) *Schema {
	return &Schema{Type: t, Optional: optional}
}

// DecimalSchema is the Decimal logical type's schema of a scale.
func DecimalSchema(scale int32, optional bool) *Schema {
	return &Schema{Type: Bytes, Name: DecimalName, Version: version(1), Optional: optional,
		Parameters: map[string]string{DecimalScale: fmt.Sprint(scale)}}
}

// DateSchema, TimeSchema and TimestampSchema are the schemas of the date
// and time logical types.
func DateSchema(optional bool) *Schema {
	return &Schema{Type: Int32, Name: DateName, Version: version(1), Optional: optional}
}

// TimeSchema is the Time logical type's schema: milliseconds of the day.
func TimeSchema(optional bool) *Schema {
	return &Schema{Type: Int32, Name: TimeName, Version: version(1), Optional: optional}
}

// TimestampSchema is the Timestamp logical type's schema: milliseconds
// since the epoch.
func TimestampSchema(optional bool) *Schema {
	return &Schema{Type: Int64, Name: TimestampName, Version: version(1), Optional: optional}
}

func version(v int32) *int32 { return &v }

// Field returns the field called name of a STRUCT schema, or nil.
func (s *Schema) Field(name string) *Field {
	if s == nil {
		return nil
	}
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Clone returns a copy of s that may be changed: its fields, parameters
// and version are its own (the schemas under it are shared).
func (s *Schema) Clone() *Schema {
	c := *s
	c.Fields = slices.Clone(s.Fields)
	c.Parameters = maps.Clone(s.Parameters)
	if s.Version != nil {
		v := *s.Version
		c.Version = &v
	}
	return &c
}

// Equal says whether two schemas are the same, as Kafka's
// ConnectSchema.equals: type, optionality, default, name, version, doc,
// parameters, and the schemas under them.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.Type != o.Type || s.Optional != o.Optional || s.Name != o.Name || s.Doc != o.Doc ||
		(s.Version == nil) != (o.Version == nil) || (s.Version != nil && *s.Version != *o.Version) ||
		!maps.Equal(s.Parameters, o.Parameters) || !defaultsEqual(s.Default, o.Default) ||
		len(s.Fields) != len(o.Fields) || !s.Key.Equal(o.Key) || !s.Value.Equal(o.Value) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i].Name != o.Fields[i].Name || !s.Fields[i].Schema.Equal(o.Fields[i].Schema) {
			return false
		}
	}
	return true
}

// defaultsEqual compares two schemas' defaults. A STRUCT schema's default
// is a Struct of that schema, whose schema is not compared again (it
// would never end).
func defaultsEqual(a, b any) bool {
	x, ok := a.(*Struct)
	y, ok2 := b.(*Struct)
	if ok && ok2 {
		return slices.EqualFunc(x.Values, y.Values, Equal)
	}
	return Equal(a, b)
}

// String is a schema's short description, as Kafka's: its type, or its
// name for a named schema (Schema{STRING}, Schema{org...Decimal:BYTES}).
func (s *Schema) String() string {
	if s == nil {
		return "null"
	}
	if s.Name != "" {
		return "Schema{" + s.Name + ":" + s.Type.String() + "}"
	}
	return "Schema{" + s.Type.String() + "}"
}

// Struct builds a STRUCT schema of the fields given as name and schema in
// turn.
func StructSchema(name string, optional bool, fields ...any) *Schema {
	s := &Schema{Type: StructType, Name: name, Optional: optional}
	for i := 0; i+1 < len(fields); i += 2 {
		s.Fields = append(s.Fields, Field{Name: fields[i].(string), Index: i / 2, Schema: fields[i+1].(*Schema)})
	}
	return s
}

// AddField appends a field to a STRUCT schema being built. It fails, as
// Kafka's SchemaBuilder does, when the name is taken.
func (s *Schema) AddField(name string, fs *Schema) error {
	if s.Field(name) != nil {
		return &Error{"Cannot create field because of field name duplication " + name}
	}
	s.Fields = append(s.Fields, Field{Name: name, Index: len(s.Fields), Schema: fs})
	return nil
}

// ArraySchema and MapSchema build the container schemas.
func ArraySchema(items *Schema, optional bool) *Schema {
	return &Schema{Type: Array, Value: items, Optional: optional}
}

// MapSchema is a MAP schema of its key and value schemas.
func MapSchema(key, value *Schema, optional bool) *Schema {
	return &Schema{Type: MapType, Key: key, Value: value, Optional: optional}
}

// Error is a failure of the data model, Kafka's DataException; its text
// is Kafka's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error.
func Errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }
