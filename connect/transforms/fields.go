package transforms

// What the field-level transformations share: which side of the record
// they work on ($Key or $Value), and Kafka's Requirements and SchemaUtil.

import (
	"sync"

	"github.com/tributary-io/tributary/connect/data"
)

// side is the part of a record a $Key or $Value transformation works on.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

// get returns the side's schema and value.
func (s side) get(r *Record) (*data.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.KeyData
	}
	return r.ValueSchema, r.ValueData
}

// set replaces the side's schema and value.
func (s side) set(r *Record, schema *data.Schema, v any) {
	if s == keySide {
		r.KeySchema, r.KeyData = schema, v
		return
	}
	r.ValueSchema, r.ValueData = schema, v
}

// sides builds a class for each of Kafka's $Key and $Value variants of a
// transformation: name$Key and name$Value, typed, with the same keys.
func sides(name string, c class, build func(s side, v keyValues) (Transformation, error)) []class {
	k, v := c, c
	k.name, v.name = name+"$Key", name+"$Value"
	k.typed, v.typed = true, true
	k.transform = func(kv keyValues) (Transformation, error) { return build(keySide, kv) }
	v.transform = func(kv keyValues) (Transformation, error) { return build(valueSide, kv) }
	return []class{k, v}
}

// requireSchema, requireMap and requireStruct are Kafka's Requirements,
// with its messages; purpose names the transformation's work ("field
// extraction").
func requireSchema(s *data.Schema, purpose string) error {
	if s == nil {
		return data.Errorf("Schema required for [%s]", purpose)
	}
	return nil
}

func requireMap(v any, purpose string) (*data.Map, error) {
	m, ok := v.(*data.Map)
	if !ok {
		return nil, data.Errorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, data.JavaClass(v))
	}
	return m, nil
}

func requireStruct(v any, purpose string) (*data.Struct, error) {
	st, ok := v.(*data.Struct)
	if !ok {
		return nil, data.Errorf("Only Struct objects supported for [%s], found: %s", purpose, data.JavaClass(v))
	}
	return st, nil
}

// requireMapOrNull and requireStructOrNull accept a null as well.
func requireMapOrNull(v any, purpose string) (*data.Map, error) {
	if v == nil {
		return nil, nil
	}
	return requireMap(v, purpose)
}

func requireStructOrNull(v any, purpose string) (*data.Struct, error) {
	if v == nil {
		return nil, nil
	}
	return requireStruct(v, purpose)
}

// copySchemaBasics is Kafka's SchemaUtil.copySchemaBasics: a new schema of
// source's type (an ARRAY's items kept) with its name, version, doc and
// parameters, but neither its optionality, default, fields nor key schema.
func copySchemaBasics(source *data.Schema) *data.Schema {
	c := &data.Schema{Type: source.Type, Name: source.Name, Doc: source.Doc}
	if source.Type == data.Array {
		c.Value = source.Value
	}
	if source.Version != nil {
		v := *source.Version
		c.Version = &v
	}
	if source.Parameters != nil {
		c.Parameters = map[string]string{}
		for k, v := range source.Parameters {
			c.Parameters[k] = v
		}
	}
	return c
}

// schemaCache remembers the schemas a transformation made of the last few
// it was given (Kafka's LRU cache of 16), by identity.
type schemaCache struct {
	mu sync.Mutex
	m  map[*data.Schema]*data.Schema
}

func (c *schemaCache) get(in *data.Schema, build func() (*data.Schema, error)) (*data.Schema, error) {
	c.mu.Lock()
	out, ok := c.m[in]
	c.mu.Unlock()
	if ok {
		return out, nil
	}
	out, err := build()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 16 {
		c.m = map[*data.Schema]*data.Schema{}
	}
	c.m[in] = out
	c.mu.Unlock()
	return out, nil
}
