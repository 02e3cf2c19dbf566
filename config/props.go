package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/magiconair/properties"
)

// Props is the raw content of one .properties file: keys and their string
// values, in the order the file gives them, plus the name of the file they
// came from (used in every error message).
type Props struct {
	source string
	keys   []string
	m      map[string]string
	// written holds the values as the file gives them, before any
	// ${provider:...} placeholder is resolved: what may be shown (REST)
	// without showing secrets.
	written map[string]string
}

// Load reads the .properties file at path. Comments, escapes, line
// continuations, "key=value", "key: value" and "key value" are understood, as
// in java.util.Properties. ${env:NAME} references are replaced by the value
// of the environment variable NAME; other placeholders are left as written
// (see Providers for ${file:...}, ${dir:...} and friends).
func Load(path string) (*Props, error) {
	p, err := LoadUnresolved(path)
	if err != nil {
		return nil, err
	}
	return (*Providers)(nil).Resolve(p)
}

// LoadUnresolved reads the .properties file at path as Load does, but
// resolves no placeholder: a Providers resolves them afterwards.
func LoadUnresolved(path string) (*Props, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: file does not exist", path)
		}
		return nil, fmt.Errorf("%s: cannot read: %w", path, err)
	}
	return parseUnresolved(path, string(data))
}

// ParseString parses text in .properties syntax; source names it in errors.
// ${env:NAME} references are replaced as by Load.
func ParseString(source, text string) (*Props, error) {
	p, err := parseUnresolved(source, text)
	if err != nil {
		return nil, err
	}
	return (*Providers)(nil).Resolve(p)
}

func parseUnresolved(source, text string) (*Props, error) {
	l := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes([]byte(text))
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "properties: ")
		return nil, fmt.Errorf("%s: malformed properties: %s", source, lowerFirst(msg))
	}
	out := &Props{source: source, m: make(map[string]string, p.Len()), written: make(map[string]string, p.Len())}
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		out.keys = append(out.keys, k)
		out.m[k] = v
		out.written[k] = v
	}
	return out, nil
}

// FromMap builds Props from a map, for configuration that does not come
// from a file (REST requests, tests, defaults). Keys are kept sorted.
func FromMap(source string, m map[string]string) *Props {
	out := &Props{source: source, m: make(map[string]string, len(m)), written: make(map[string]string, len(m))}
	for k, v := range m {
		out.keys = append(out.keys, k)
		out.m[k] = v
		out.written[k] = v
	}
	sort.Strings(out.keys)
	return out
}

// Source is the file name (or other origin) the properties came from.
func (p *Props) Source() string { return p.source }

// Get returns the value of key and whether it is set.
func (p *Props) Get(key string) (string, bool) {
	v, ok := p.m[key]
	return v, ok
}

// Keys returns the keys in file order.
func (p *Props) Keys() []string { return append([]string(nil), p.keys...) }

// Map returns a copy of all key/value pairs.
func (p *Props) Map() map[string]string {
	out := make(map[string]string, len(p.m))
	for k, v := range p.m {
		out[k] = v
	}
	return out
}

// Unresolved returns a copy of all key/value pairs as written, with their
// ${provider:...} placeholders unresolved: what may be shown to users (the
// REST API) without showing the secrets the placeholders stand for.
func (p *Props) Unresolved() map[string]string {
	out := make(map[string]string, len(p.m))
	for k, v := range p.m {
		out[k] = p.writtenValue(k, v)
	}
	return out
}

// writtenValue is key's value as written; value is its resolved value.
func (p *Props) writtenValue(key, value string) string {
	if w, ok := p.written[key]; ok {
		return w
	}
	return value
}

// shown is what an error may show of key's value raw: raw itself, unless
// a placeholder was resolved into it (set says raw came from the file, not
// a default), in which case the placeholder as written, so that an error
// never shows what a ${provider:...} placeholder stands for.
func (p *Props) shown(key, raw string, set bool) string {
	if w, ok := p.written[key]; set && ok && w != p.m[key] {
		return w
	}
	return raw
}

// Set adds or replaces a key; it is meant for callers that layer defaults or
// overrides onto a file's content. The value counts as written: a
// placeholder in it is resolved by a later Providers.Resolve.
func (p *Props) Set(key, value string) {
	if _, ok := p.m[key]; !ok {
		p.keys = append(p.keys, key)
	}
	p.m[key] = value
	if p.written == nil {
		p.written = map[string]string{}
	}
	p.written[key] = value
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
