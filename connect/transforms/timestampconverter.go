package transforms

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
)

// TimestampConverter's target types and Unix precisions, as Kafka names
// them.
const (
	tsString    = "string"
	tsUnix      = "unix"
	tsDate      = "Date"
	tsTime      = "Time"
	tsTimestamp = "Timestamp"

	tsPurpose = "converting timestamp formats"
)

var timestampConverterKeys = []config.Key{
	{Name: "field", Type: config.String, Default: "", HasDefault: true,
		Doc: "The field containing the timestamp, or empty if the entire value is a timestamp"},
	{Name: "target.type", Type: config.String, Required: true,
		Validate: validString(tsString, tsUnix, tsDate, tsTime, tsTimestamp),
		Doc:      "The desired timestamp representation: string, unix, Date, Time, or Timestamp"},
	{Name: "format", Type: config.String, Default: "", HasDefault: true,
		Doc: "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string " +
			"or used to parse the input if the input is a string."},
	{Name: "unix.precision", Type: config.String, Default: "milliseconds", HasDefault: true,
		Validate: validString("nanoseconds", "microseconds", "milliseconds", "seconds"),
		Doc: "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. " +
			"Used to generate the output when type=unix or used to parse the input if the input is a Long." +
			"Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components."},
	{Name: "replace.null.with.default", Type: config.Bool, Default: "true", HasDefault: true,
		Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."},
}

// validString is Kafka's ConfigDef.ValidString.in: one of the strings,
// case and all.
func validString(allowed ...string) config.Validator {
	return func(v any) error {
		s, _ := v.(string)
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		return errors.New("String must be one of: " + strings.Join(allowed, ", ")) //nolint:staticcheck // Kafka's message
	}
}

// timestampConverter is Kafka's TimestampConverter: the whole key or value,
// or one field of it, converted between Unix time (a long), a string of a
// SimpleDateFormat pattern and Connect's Date, Time and Timestamp, in UTC.
// Conversions go through milliseconds since the epoch, as Kafka's through
// a java.util.Date.
type timestampConverter struct {
	side        side
	field       string
	target      string
	pattern     string
	format      *data.DateFormat // nil: no format
	precision   string
	replaceNull bool
	cache       schemaCache
}

func newTimestampConverter(s side, v keyValues) (Transformation, error) {
	t := &timestampConverter{side: s, field: v.String("field"), target: v.String("target.type"),
		pattern: v.String("format"), precision: v.String("unix.precision"), replaceNull: v.Bool("replace.null.with.default")}
	blank := strings.TrimSpace(t.pattern) == ""
	if t.target == tsString && blank {
		return nil, &config.Error{Source: v.Source(), Key: v.Key("format"), Value: t.pattern,
			Reason: "TimestampConverter requires format option to be specified when using string timestamps"}
	}
	if !blank {
		f, err := data.ParseDateFormat(t.pattern)
		if err != nil {
			return nil, &config.Error{Source: v.Source(), Key: v.Key("format"), Value: t.pattern,
				Reason: "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: " + t.pattern + " (" + err.Error() + ")"}
		}
		t.format = f
	}
	return t, nil
}

func (t *timestampConverter) Apply(r *Record) (bool, error) {
	schema, v := t.side.get(r)
	if schema == nil {
		if v == nil || t.field == "" {
			out, err := t.convert(v, "")
			if err != nil {
				return false, err
			}
			t.side.set(r, nil, out)
			return true, nil
		}
		m, err := requireMap(v, tsPurpose)
		if err != nil {
			return false, err
		}
		old, _ := m.Get(t.field)
		conv, err := t.convert(old, "")
		if err != nil {
			return false, err
		}
		out := data.CopyMap(m)
		out.Put(t.field, conv)
		t.side.set(r, nil, out)
		return true, nil
	}
	if t.field == "" {
		kind, err := timestampKindOf(schema)
		if err != nil {
			return false, err
		}
		out, err := t.convert(v, kind)
		if err != nil {
			return false, err
		}
		t.side.set(r, timestampTypeSchema(t.target, schema.Optional), out)
		return true, nil
	}
	st, err := requireStructOrNull(v, tsPurpose)
	if err != nil {
		return false, err
	}
	if schema.Type != data.StructType {
		return false, data.Errorf("Cannot list fields on non-struct type")
	}
	updated, err := t.cache.get(schema, func() (*data.Schema, error) {
		out := copySchemaBasics(schema)
		out.Type = data.StructType
		for _, f := range schema.Fields {
			fs := f.Schema
			if f.Name == t.field {
				fs = timestampTypeSchema(t.target, f.Schema.Optional)
			}
			if err := out.AddField(f.Name, fs); err != nil {
				return nil, err
			}
		}
		out.Optional = schema.Optional
		if schema.Default != nil {
			def, err := requireStruct(schema.Default, tsPurpose)
			if err != nil {
				return nil, err
			}
			if out.Default, err = t.convertStruct(def, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
	if err != nil {
		return false, err
	}
	out, err := t.convertStruct(st, updated)
	if err != nil {
		return false, err
	}
	if out == nil {
		t.side.set(r, updated, nil)
	} else {
		t.side.set(r, updated, out)
	}
	return true, nil
}

// convertStruct makes a struct of schema updated of st with the field
// converted; nil for nil.
func (t *timestampConverter) convertStruct(st *data.Struct, updated *data.Schema) (*data.Struct, error) {
	if st == nil {
		return nil, nil
	}
	out := data.NewStruct(updated)
	for _, f := range st.Schema.Fields {
		var v any
		var err error
		if t.replaceNull {
			v, err = st.Get(f.Name)
		} else {
			v, err = st.GetWithoutDefault(f.Name)
		}
		if err != nil {
			return nil, err
		}
		if f.Name == t.field {
			kind, err := timestampKindOf(f.Schema)
			if err != nil {
				return nil, err
			}
			if v, err = t.convert(v, kind); err != nil {
				return nil, err
			}
		}
		if err := out.Put(f.Name, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// timestampKindOf is the timestamp type a schema's values are: its logical
// type, else string for STRING and unix for INT64.
func timestampKindOf(s *data.Schema) (string, error) {
	switch {
	case s.Name == data.TimestampName:
		return tsTimestamp, nil
	case s.Name == data.DateName:
		return tsDate, nil
	case s.Name == data.TimeName:
		return tsTime, nil
	case s.Type == data.String:
		return tsString, nil
	case s.Type == data.Int64:
		return tsUnix, nil
	}
	return "", fmt.Errorf("Schema %s does not correspond to a known timestamp type format", s) //nolint:staticcheck // Kafka's message
}

// timestampTypeSchema is the schema of a target type's values.
func timestampTypeSchema(kind string, optional bool) *data.Schema {
	switch kind {
	case tsString:
		return data.PrimitiveSchema(data.String, optional)
	case tsUnix:
		return data.PrimitiveSchema(data.Int64, optional)
	case tsDate:
		return data.DateSchema(optional)
	case tsTime:
		return data.TimeSchema(optional)
	}
	return data.TimestampSchema(optional)
}

// javaClassText is what Java prints of a value's getClass().
func javaClassText(v any) string { return "class " + data.JavaClass(v) }

// convert converts v, of timestamp type kind ("": inferred from v), to the
// target type; a null stays null.
func (t *timestampConverter) convert(v any, kind string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if kind == "" {
		switch v.(type) {
		case time.Time:
			kind = tsTimestamp
		case int64:
			kind = tsUnix
		case string:
			kind = tsString
		default:
			return nil, data.Errorf("TimestampConverter does not support %s objects as timestamps", javaClassText(v))
		}
	}
	ms, err := t.toMillis(v, kind)
	if err != nil {
		return nil, err
	}
	return t.fromMillis(ms)
}

// toMillis reads a value of timestamp type kind as milliseconds since the
// epoch.
func (t *timestampConverter) toMillis(v any, kind string) (int64, error) {
	switch kind {
	case tsString:
		s, ok := v.(string)
		if !ok {
			return 0, data.Errorf("Expected string timestamp to be a String, but found %s", javaClassText(v))
		}
		if t.format == nil {
			return 0, data.Errorf("TimestampConverter requires format option to be specified when using string timestamps")
		}
		tm, err := t.format.Parse(s)
		if err != nil {
			return 0, data.Errorf("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.pattern)
		}
		return tm.UnixMilli(), nil
	case tsUnix:
		n, ok := v.(int64)
		if !ok {
			return 0, data.Errorf("Expected Unix timestamp to be a Long, but found %s", javaClassText(v))
		}
		switch t.precision {
		case "seconds":
			return saturatingMul(n, 1000), nil
		case "microseconds":
			return n / 1000, nil
		case "nanoseconds":
			return n / 1000000, nil
		}
		return n, nil
	case tsDate, tsTime, tsTimestamp:
		tm, ok := v.(time.Time)
		if !ok {
			return 0, data.Errorf("Expected %s to be a java.util.Date, but found %s", kind, javaClassText(v))
		}
		return tm.UnixMilli(), nil
	}
	return 0, fmt.Errorf("Unsupported timestamp type: %s", kind) //nolint:staticcheck // Kafka's message
}

// fromMillis makes a value of the target type of milliseconds since the
// epoch.
func (t *timestampConverter) fromMillis(ms int64) (any, error) {
	const day = 24 * 60 * 60 * 1000
	switch t.target {
	case tsString:
		return t.format.Format(time.UnixMilli(ms).UTC()), nil
	case tsUnix:
		switch t.precision {
		case "seconds":
			return ms / 1000, nil
		case "microseconds":
			return saturatingMul(ms, 1000), nil
		case "nanoseconds":
			return saturatingMul(ms, 1000000), nil
		}
		return ms, nil
	case tsDate:
		return time.UnixMilli(ms - floorMod(ms, day)).UTC(), nil
	case tsTime:
		return time.UnixMilli(floorMod(ms, day)).UTC(), nil
	case tsTimestamp:
		return time.UnixMilli(ms).UTC(), nil
	}
	return nil, fmt.Errorf("Unsupported timestamp type: %s", t.target) //nolint:staticcheck // Kafka's message
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// saturatingMul is TimeUnit's conversion to a finer unit: n×k, clamped to
// Long's range.
func saturatingMul(n, k int64) int64 {
	switch {
	case n > math.MaxInt64/k:
		return math.MaxInt64
	case n < math.MinInt64/k:
		return math.MinInt64
	}
	return n * k
}
