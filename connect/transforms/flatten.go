package transforms

// Kafka's Flatten and TimestampConverter (this file and
// timestampconverter.go), each as $Key and $Value.

import (
	"slices"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
)

// Class names of the field-level transformations of this file.
const (
	FlattenClass            = "org.apache.kafka.connect.transforms.Flatten"
	TimestampConverterClass = "org.apache.kafka.connect.transforms.TimestampConverter"
)

// flattenClasses: Flatten, TimestampConverter.
var flattenClasses = slices.Concat(
	sides(FlattenClass, class{keys: []config.Key{
		{Name: "delimiter", Type: config.String, Default: ".", HasDefault: true,
			Doc: "Delimiter to insert between field names from the input record when generating field names for the output record"},
	}}, newFlatten),
	sides(TimestampConverterClass, class{keys: timestampConverterKeys}, newTimestampConverter),
)

const flattenPurpose = "flattening"

// flatten is Kafka's Flatten: the fields of nested structs (with a schema)
// or maps (without) become fields of the top level, named by their path
// joined with the delimiter; arrays are kept as they are.
type flatten struct {
	side      side
	delimiter string
	cache     schemaCache
}

func newFlatten(s side, v keyValues) (Transformation, error) {
	return &flatten{side: s, delimiter: v.String("delimiter")}, nil
}

func (t *flatten) name(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + t.delimiter + field
}

func (t *flatten) Apply(r *Record) (bool, error) {
	schema, v := t.side.get(r)
	if v == nil {
		return true, nil // a tombstone passes as it is, schema and all
	}
	if schema == nil {
		m, err := requireMap(v, flattenPurpose)
		if err != nil {
			return false, err
		}
		out := &data.Map{Linked: true}
		if err := t.flattenMap(m, "", out); err != nil {
			return false, err
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(v, flattenPurpose)
	if err != nil {
		return false, err
	}
	updated, err := t.cache.get(schema, func() (*data.Schema, error) {
		out := copySchemaBasics(schema)
		out.Type = data.StructType
		def, _ := schema.Default.(*data.Struct)
		if err := t.flattenSchema(schema, "", out, schema.Optional, def); err != nil {
			return nil, err
		}
		return out, nil
	})
	if err != nil {
		return false, err
	}
	out := data.NewStruct(updated)
	if err := t.flattenStruct(st, "", out); err != nil {
		return false, err
	}
	t.side.set(r, updated, out)
	return true, nil
}

// flattenMap puts m's entries, in the order Java iterates them, into out.
func (t *flatten) flattenMap(m *data.Map, prefix string, out *data.Map) error {
	for _, i := range m.Order() {
		key, ok := m.Keys[i].(string)
		if !ok {
			c := data.JavaClass(m.Keys[i])
			return data.Errorf("class %s cannot be cast to class java.lang.String", c)
		}
		name := t.name(prefix, key)
		switch x := m.Values[i].(type) {
		case nil, int8, int16, int32, int64, float32, float64, bool, string, []byte, []any:
			out.Put(name, x)
		case *data.Map:
			if err := t.flattenMap(x, name, out); err != nil {
				return err
			}
		case *data.Struct:
			return data.Errorf("Flatten transformation does not support class %s for record without schemas (for field %s).", data.JavaClass(x), name)
		default:
			return data.Errorf("Flatten transformation was passed a value of type class %s which is not supported by Connect's data API", data.JavaClass(x))
		}
	}
	return nil
}

// flattenSchema adds the flattened fields of schema to out. optional says
// whether schema or one of its ancestors is optional (then every field
// under it is); def is the default the ancestors give schema, or nil.
func (t *flatten) flattenSchema(schema *data.Schema, prefix string, out *data.Schema, optional bool, def *data.Struct) error {
	for _, f := range schema.Fields {
		name := t.name(prefix, f.Name)
		fieldOptional := optional || f.Schema.Optional
		fieldDefault := f.Schema.Default
		if fieldDefault == nil && def != nil {
			var err error
			if fieldDefault, err = def.Get(f.Name); err != nil {
				return err
			}
		}
		switch f.Schema.Type {
		case data.StructType:
			sub, _ := fieldDefault.(*data.Struct)
			if err := t.flattenSchema(f.Schema, name, out, fieldOptional, sub); err != nil {
				return err
			}
		case data.MapType:
			return data.Errorf("Flatten transformation does not support %s for record with schemas (for field %s).", f.Schema.Type, name)
		default:
			fs := copySchemaBasics(f.Schema)
			fs.Optional = fieldOptional
			fs.Default = fieldDefault
			if err := out.AddField(name, fs); err != nil {
				return err
			}
		}
	}
	return nil
}

// flattenStruct puts st's fields (their defaults for nulls) into out; a
// null nested struct leaves its fields null.
func (t *flatten) flattenStruct(st *data.Struct, prefix string, out *data.Struct) error {
	if st == nil {
		return nil
	}
	for _, f := range st.Schema.Fields {
		name := t.name(prefix, f.Name)
		v, err := st.Get(f.Name)
		if err != nil {
			return err
		}
		switch f.Schema.Type {
		case data.StructType:
			sub, err := requireStructOrNull(v, flattenPurpose)
			if err != nil {
				return err
			}
			if err := t.flattenStruct(sub, name, out); err != nil {
				return err
			}
		case data.MapType:
			return data.Errorf("Flatten transformation does not support %s for record with schemas (for field %s).", f.Schema.Type, name)
		default:
			if err := out.Put(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}
