package transforms

import (
	"errors"
	"fmt"
	"math"
	"strconv"
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
	format      []dateField // nil: no format
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
		f, err := parseJavaDateFormat(t.pattern)
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
		ms, ok := parseJavaDate(t.format, s)
		if !ok {
			return 0, data.Errorf("Could not parse timestamp: value (%s) does not match pattern (%s)", s, t.pattern)
		}
		return ms, nil
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
		return string(appendJavaDate(nil, t.format, time.UnixMilli(ms).UTC())), nil
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

// The SimpleDateFormat letters TimestampConverter knows: TimestampRouter's
// (y M d H h m s S E a, formatted by appendDate) and G L D u k K z Z X.
// Java's Y w W F are refused.
const (
	javaDateLetters     = "GyMdkHmsSEDFwWahKzZYuXL"
	converterDateLetter = "GyMLdDEuaHkKhmsSzZX"
)

// parseJavaDateFormat reads a SimpleDateFormat pattern as parseDateFormat
// does, with the letters TimestampConverter knows.
func parseJavaDateFormat(p string) ([]dateField, error) {
	var out []dateField
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, dateField{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			end := i + 1
			for {
				if end >= len(p) {
					return nil, errors.New("Unterminated quote") //nolint:staticcheck // Java's message
				}
				if p[end] == '\'' {
					if end+1 < len(p) && p[end+1] == '\'' {
						lit.WriteByte('\'')
						end += 2
						continue
					}
					break
				}
				lit.WriteByte(p[end])
				end++
			}
			i = end + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if !strings.ContainsRune(javaDateLetters, rune(c)) {
				return nil, fmt.Errorf("Illegal pattern character '%c'", c) //nolint:staticcheck // Java's message
			}
			if !strings.ContainsRune(converterDateLetter, rune(c)) {
				return nil, fmt.Errorf("pattern character '%c' is not supported here (known: G y M L d D E u a H k K h m s S z Z X)", c)
			}
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			flush()
			out = append(out, dateField{letter: c, count: n})
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}

// appendJavaDate formats t (UTC) as SimpleDateFormat does.
func appendJavaDate(b []byte, fields []dateField, t time.Time) []byte {
	for _, f := range fields {
		switch f.letter {
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'L':
			b = appendDate(b, []dateField{{letter: 'M', count: f.count}}, t)
		case 'D':
			b = appendPadded(b, t.YearDay(), f.count)
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = appendPadded(b, wd, f.count)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = appendPadded(b, h, f.count)
		case 'K':
			b = appendPadded(b, t.Hour()%12, f.count)
		case 'z':
			if f.count >= 4 {
				b = append(b, "Coordinated Universal Time"...)
			} else {
				b = append(b, "UTC"...)
			}
		case 'Z':
			b = append(b, "+0000"...)
		case 'X':
			b = append(b, 'Z')
		default:
			b = appendDate(b, []dateField{f}, t)
		}
	}
	return b
}

var (
	javaMonths   = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	javaWeekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// isNumericField says whether a field is read as a number.
func isNumericField(f dateField) bool {
	switch f.letter {
	case 'y', 'd', 'D', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S':
		return true
	case 'M', 'L':
		return f.count <= 2
	}
	return false
}

// parseJavaDate reads s as a lenient SimpleDateFormat in UTC does, into
// milliseconds since the epoch: fields default to 1970-01-01 00:00:00.000,
// out-of-range values carry over, whitespace before a field is skipped, a
// number directly followed by another numeric field takes as many digits as
// its letter is repeated, text after the pattern is ignored.
func parseJavaDate(fields []dateField, s string) (int64, bool) {
	year, month, dayOfMonth, yearDay := 1970, 1, 1, 0
	hour, hour12, minute, second, milli := 0, -1, 0, 0, 0
	pm, bc, monthSet, daySet := false, false, false, false
	var offset int64 // milliseconds east of UTC
	pos := 0
	for i, f := range fields {
		if f.letter == 0 {
			if !strings.HasPrefix(s[pos:], f.lit) {
				return 0, false
			}
			pos += len(f.lit)
			continue
		}
		for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
			pos++
		}
		if isNumericField(f) {
			abut := i+1 < len(fields) && fields[i+1].letter != 0 && isNumericField(fields[i+1])
			start := pos
			neg := false
			if pos < len(s) && s[pos] == '-' && !abut {
				neg = true
				pos++
			}
			digits := pos
			for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' && (!abut || pos-digits < f.count) {
				pos++
			}
			if pos == digits {
				return 0, false
			}
			n, err := strconv.Atoi(s[digits:pos])
			if err != nil {
				return 0, false
			}
			if neg {
				n = -n
			}
			switch f.letter {
			case 'y':
				if f.count <= 2 && pos-start == 2 {
					n = twoDigitYear(n)
				}
				year = n
			case 'M', 'L':
				month, monthSet = n, true
			case 'd':
				dayOfMonth, daySet = n, true
			case 'D':
				yearDay = n
			case 'u':
			case 'H':
				hour, hour12 = n, -1
			case 'k':
				if n == 24 {
					n = 0
				}
				hour, hour12 = n, -1
			case 'K', 'h':
				if f.letter == 'h' && n == 12 {
					n = 0
				}
				hour12 = n
			case 'm':
				minute = n
			case 's':
				second = n
			case 'S':
				milli = n
			}
			continue
		}
		rest := s[pos:]
		switch f.letter {
		case 'M', 'L':
			n, l := matchName(rest, javaMonths)
			if l == 0 {
				return 0, false
			}
			month, monthSet = n+1, true
			pos += l
		case 'E':
			_, l := matchName(rest, javaWeekdays)
			if l == 0 {
				return 0, false
			}
			pos += l
		case 'a':
			n, l := matchName(rest, []string{"AM", "PM"})
			if l == 0 {
				return 0, false
			}
			pm = n == 1
			pos += l
		case 'G':
			n, l := matchName(rest, []string{"BC", "AD"})
			if l == 0 {
				return 0, false
			}
			bc = n == 0
			pos += l
		case 'z', 'Z', 'X':
			off, l := parseZone(rest)
			if l == 0 {
				return 0, false
			}
			offset = off
			pos += l
		}
	}
	if hour12 >= 0 {
		hour = hour12
		if pm {
			hour += 12
		}
	}
	if bc {
		year = 1 - year
	}
	var t time.Time
	if yearDay != 0 && !monthSet && !daySet {
		t = time.Date(year, time.January, yearDay, hour, minute, second, 0, time.UTC)
	} else {
		t = time.Date(year, time.Month(month), dayOfMonth, hour, minute, second, 0, time.UTC)
	}
	return t.UnixMilli() + int64(milli) - offset, true
}

// twoDigitYear puts a two-digit year within 80 years before and 20 after
// now, as SimpleDateFormat does.
func twoDigitYear(n int) int {
	start := time.Now().UTC().Year() - 80
	y := start/100*100 + n
	if n < start%100 {
		y += 100
	}
	return y
}

// matchName matches the start of s against names, in full or by their
// first three letters, ignoring case: the name's index and the length
// matched (0: none).
func matchName(s string, names []string) (int, int) {
	best, bestLen := -1, 0
	for i, n := range names {
		for _, cand := range []string{n, n[:min(3, len(n))]} {
			if len(cand) > bestLen && len(s) >= len(cand) && strings.EqualFold(s[:len(cand)], cand) {
				best, bestLen = i, len(cand)
			}
		}
	}
	return best, bestLen
}

// parseZone reads a time zone: UTC, UT, GMT or Z, GMT±H[H][:MM], or
// ±HH[[:]MM]. It returns the offset in milliseconds east of UTC and the
// length read (0: none).
func parseZone(s string) (int64, int) {
	n := 0
	switch {
	case len(s) >= 26 && strings.EqualFold(s[:26], "Coordinated Universal Time"):
		return 0, 26
	case len(s) >= 3 && (strings.EqualFold(s[:3], "UTC") || strings.EqualFold(s[:3], "GMT")):
		n = 3
	case len(s) >= 2 && strings.EqualFold(s[:2], "UT"):
		n = 2
	case len(s) >= 1 && s[0] == 'Z':
		return 0, 1
	}
	if n > 0 && (len(s) == n || (s[n] != '+' && s[n] != '-')) {
		return 0, n
	}
	rest := s[n:]
	if len(rest) < 2 || (rest[0] != '+' && rest[0] != '-') {
		return 0, n
	}
	sign := int64(1)
	if rest[0] == '-' {
		sign = -1
	}
	i := 1
	for i < len(rest) && i < 3 && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 1 {
		return 0, n
	}
	hours, _ := strconv.Atoi(rest[1:i])
	minutes := 0
	j := i
	if j < len(rest) && rest[j] == ':' {
		j++
	}
	if j+2 <= len(rest) && rest[j] >= '0' && rest[j] <= '9' && rest[j+1] >= '0' && rest[j+1] <= '9' {
		minutes, _ = strconv.Atoi(rest[j : j+2])
		i = j + 2
	}
	return sign * int64(hours*60+minutes) * 60000, n + i
}
