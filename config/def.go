package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Type is the type of a configuration key's value.
type Type int

// The value types, as in Kafka's ConfigDef. Duration is a count of
// milliseconds (Kafka's *.ms keys); Class is a class name; Password is a
// string that is never printed.
const (
	String Type = iota
	Int
	Long
	Bool
	Double
	List
	Duration
	Class
	Password
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int:
		return "int"
	case Long:
		return "long"
	case Bool:
		return "boolean"
	case Double:
		return "double"
	case List:
		return "list"
	case Duration:
		return "duration (ms)"
	case Class:
		return "class"
	case Password:
		return "password"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Key defines one configuration key.
type Key struct {
	Name string
	Type Type
	// Default is the value used when the key is absent, written as it would
	// be in a file ("60000", "true", "a,b"). Empty with HasDefault false
	// means the key has no default.
	Default    string
	HasDefault bool
	Required   bool
	// Validate checks a converted value; see Range, AtLeast, OneOf, NonEmpty.
	Validate Validator
	Doc      string
	// Importance is Kafka's ConfigDef importance, shown by the REST API's
	// validate call; the zero value is High.
	Importance Importance
}

// Importance is how much a key matters to a user, as Kafka's
// ConfigDef.Importance.
type Importance uint8

// The importances, High first (the zero value).
const (
	High Importance = iota
	Medium
	Low
)

// String is Kafka's name of the importance: HIGH, MEDIUM or LOW.
func (i Importance) String() string {
	switch i {
	case Medium:
		return "MEDIUM"
	case Low:
		return "LOW"
	}
	return "HIGH"
}

// Validator checks a converted value. The value is a string, int, int64,
// bool, float64, []string or time.Duration according to the key's type.
// The returned error reads as the end of a sentence about the value, e.g.
// "must be at least 1".
type Validator func(v any) error

// Def is a definition set: the keys one component understands.
type Def struct {
	name  string
	keys  []Key
	index map[string]int
}

// NewDef builds a definition set. name says what it configures ("worker",
// "broker", "FileStreamSource") and appears in generated documentation.
// Defining a key twice or a default that does not parse is a programming
// error and panics.
func NewDef(name string, keys ...Key) *Def {
	d := &Def{name: name, index: make(map[string]int, len(keys))}
	for _, k := range keys {
		d.add(k)
	}
	return d
}

// With returns a new definition set with the keys of d followed by keys.
func (d *Def) With(name string, keys ...Key) *Def {
	out := NewDef(name, d.keys...)
	for _, k := range keys {
		out.add(k)
	}
	return out
}

func (d *Def) add(k Key) {
	if _, dup := d.index[k.Name]; dup {
		panic("config: key " + k.Name + " defined twice in " + d.name)
	}
	if k.HasDefault {
		v, err := convert(k.Type, k.Default)
		if err != nil {
			panic(fmt.Sprintf("config: default of %s in %s: %v", k.Name, d.name, err))
		}
		if k.Validate != nil && !(k.Default == "" && !k.Required) {
			if err := k.Validate(v); err != nil {
				panic(fmt.Sprintf("config: default of %s in %s: %v", k.Name, d.name, err))
			}
		}
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
}

// Name is the definition set's name.
func (d *Def) Name() string { return d.name }

// Keys returns the key definitions in declaration order.
func (d *Def) Keys() []Key { return append([]Key(nil), d.keys...) }

// Lookup returns the definition of one key.
func (d *Def) Lookup(name string) (Key, bool) {
	i, ok := d.index[name]
	if !ok {
		return Key{}, false
	}
	return d.keys[i], true
}

// Parse checks props against the definition set and converts every defined
// key. All problems are reported together; each is an *Error.
func (d *Def) Parse(p *Props) (*Values, error) {
	vals := &Values{def: d, props: p, typed: make(map[string]any, len(d.keys))}
	var errs []error
	for _, k := range d.keys {
		raw, set := p.Get(k.Name)
		if set {
			raw = strings.TrimSpace(raw)
		}
		if !set || (raw == "" && k.Type != String && k.Type != List && k.Type != Password && k.Type != Class) {
			if k.Required {
				errs = append(errs, &Error{Source: p.source, Key: k.Name, Reason: "missing required key", quiet: true})
				continue
			}
			if !k.HasDefault {
				continue // absent, no default: the getter returns the zero value
			}
			raw = k.Default
			set = false
		}
		v, err := convert(k.Type, raw)
		if err != nil {
			errs = append(errs, &Error{Source: p.source, Key: k.Name, Value: p.shown(k.Name, raw, set), Reason: err.Error(), secret: k.Type == Password})
			continue
		}
		if k.Validate != nil && (set || k.Required || raw != "") {
			if err := k.Validate(v); err != nil {
				errs = append(errs, &Error{Source: p.source, Key: k.Name, Value: p.shown(k.Name, raw, set), Reason: err.Error(), secret: k.Type == Password})
				continue
			}
		}
		vals.typed[k.Name] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return vals, nil
}

func convert(t Type, raw string) (any, error) {
	switch t {
	case String, Class, Password:
		return raw, nil
	case Int:
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil {
			return nil, numErr(err, "a 32-bit integer")
		}
		return int(n), nil
	case Long:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, numErr(err, "a 64-bit integer")
		}
		return n, nil
	case Duration:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, numErr(err, "a number of milliseconds")
		}
		if n < 0 {
			return nil, errors.New("is negative; a duration in milliseconds must be 0 or more")
		}
		if n > math.MaxInt64/int64(time.Millisecond) {
			return nil, errors.New("is too large for a number of milliseconds")
		}
		return time.Duration(n) * time.Millisecond, nil
	case Bool:
		switch strings.ToLower(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, errors.New("is not a boolean (true or false)")
	case Double:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("is not a number")
		}
		return f, nil
	case List:
		if raw == "" {
			return []string{}, nil
		}
		parts := strings.Split(raw, ",")
		out := make([]string, 0, len(parts))
		for _, s := range parts {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %v", t)
}

func numErr(err error, what string) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
		return fmt.Errorf("is out of range for %s", what)
	}
	return errors.New("is not a number")
}

// Error is one problem with one key of one file.
type Error struct {
	Source string // file name or other origin
	Key    string
	Value  string // the offending value as written
	Reason string // e.g. `is not a number`, `must be at least 1`
	secret bool   // hide Value (passwords)
	quiet  bool   // Reason stands alone, without the value
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	b.WriteString(e.Key)
	b.WriteString(": ")
	if !e.quiet {
		if e.secret {
			b.WriteString("[hidden] ")
		} else {
			b.WriteString(strconv.Quote(e.Value))
			b.WriteString(" ")
		}
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Values holds the typed values of one parsed file, plus its raw content.
// Getters panic when asked for a key that the definition set does not define
// with that type: that is a programming error, not a user's.
type Values struct {
	def   *Def
	props *Props
	typed map[string]any
}

func (v *Values) get(name string, want ...Type) any {
	k, ok := v.def.Lookup(name)
	if !ok {
		panic("config: " + name + " is not defined in " + v.def.name)
	}
	okType := false
	for _, t := range want {
		okType = okType || k.Type == t
	}
	if !okType {
		panic(fmt.Sprintf("config: %s is a %v, not a %v", name, k.Type, want[0]))
	}
	return v.typed[name]
}

// String returns a string, class or password key's value ("" when unset).
func (v *Values) String(name string) string {
	s, _ := v.get(name, String, Class, Password).(string)
	return s
}

// Int returns an int key's value.
func (v *Values) Int(name string) int {
	n, _ := v.get(name, Int).(int)
	return n
}

// Long returns a long key's value.
func (v *Values) Long(name string) int64 {
	n, _ := v.get(name, Long).(int64)
	return n
}

// Bool returns a boolean key's value.
func (v *Values) Bool(name string) bool {
	b, _ := v.get(name, Bool).(bool)
	return b
}

// Double returns a double key's value.
func (v *Values) Double(name string) float64 {
	f, _ := v.get(name, Double).(float64)
	return f
}

// List returns a list key's value (nil when unset without default).
func (v *Values) List(name string) []string {
	l, _ := v.get(name, List).([]string)
	return slices.Clone(l)
}

// Duration returns a duration key's value.
func (v *Values) Duration(name string) time.Duration {
	d, _ := v.get(name, Duration).(time.Duration)
	return d
}

// IsSet reports whether the file itself sets key (as opposed to a default).
func (v *Values) IsSet(name string) bool {
	_, ok := v.props.Get(name)
	return ok
}

// Has reports whether key has a value, from the file or a default.
func (v *Values) Has(name string) bool {
	_, ok := v.typed[name]
	return ok
}

// Source is the name of the file the values came from.
func (v *Values) Source() string { return v.props.source }

// Props returns the raw properties the values were parsed from.
func (v *Values) Props() *Props { return v.props }

// Originals returns every key/value of the file, defined or not.
func (v *Values) Originals() map[string]string { return v.props.Map() }

// WithPrefix returns the keys of the file that start with prefix, with the
// prefix removed (e.g. "producer." overrides).
func (v *Values) WithPrefix(prefix string) map[string]string {
	out := map[string]string{}
	for k, val := range v.props.m {
		if strings.HasPrefix(k, prefix) && len(k) > len(prefix) {
			out[k[len(prefix):]] = val
		}
	}
	return out
}

// Unknown returns the keys of the file that the definition set does not
// define, sorted.
func (v *Values) Unknown() []string {
	var out []string
	for _, k := range v.props.keys {
		if _, ok := v.def.index[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
