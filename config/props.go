package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
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
}

// Load reads the .properties file at path. Comments, escapes, line
// continuations, "key=value", "key: value" and "key value" are understood, as
// in java.util.Properties. ${env:NAME} references are replaced by the value
// of the environment variable NAME.
func Load(path string) (*Props, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: file does not exist", path)
		}
		return nil, fmt.Errorf("%s: cannot read: %w", path, err)
	}
	return ParseString(path, string(data))
}

// ParseString parses text in .properties syntax; source names it in errors.
func ParseString(source, text string) (*Props, error) {
	l := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := l.LoadBytes([]byte(text))
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "properties: ")
		return nil, fmt.Errorf("%s: malformed properties: %s", source, lowerFirst(msg))
	}
	out := &Props{source: source, m: make(map[string]string, p.Len())}
	var errs []error
	for _, k := range p.Keys() {
		raw, _ := p.Get(k)
		v, err := expandEnv(raw)
		if err != nil {
			errs = append(errs, &Error{Source: source, Key: k, Value: raw, Reason: err.Error(), quiet: true})
			continue
		}
		out.keys = append(out.keys, k)
		out.m[k] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// FromMap builds Props from a map, for configuration that does not come
// from a file (REST requests, tests, defaults). Keys are kept sorted.
func FromMap(source string, m map[string]string) *Props {
	out := &Props{source: source, m: make(map[string]string, len(m))}
	for k, v := range m {
		out.keys = append(out.keys, k)
		out.m[k] = v
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

// Set adds or replaces a key; it is meant for callers that layer defaults or
// overrides onto a file's content.
func (p *Props) Set(key, value string) {
	if _, ok := p.m[key]; !ok {
		p.keys = append(p.keys, key)
	}
	p.m[key] = value
}

var envRef = regexp.MustCompile(`\$\{env:([^}]*)\}`)

// expandEnv replaces each ${env:NAME} in s. Kafka's EnvVarConfigProvider
// syntax also allows a path part (${env::NAME}); both forms are accepted.
func expandEnv(s string) (string, error) {
	if !strings.Contains(s, "${env:") {
		return s, nil
	}
	var firstErr error
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)[1]
		name = strings.TrimPrefix(name, ":")
		if name == "" {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s names no environment variable", ref)
			}
			return ref
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: environment variable %s is not set", ref, name)
			}
			return ref
		}
		return v
	})
	return out, firstErr
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
