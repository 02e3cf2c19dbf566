package configs

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/config"
)

// KeyValue is one config to add.
type KeyValue struct{ Key, Value string }

var validKey = regexp.MustCompile(`^[a-zA-Z0-9._-]*$`)

// ParseAddConfig parses --add-config as Kafka does: pairs key=value
// separated by commas, where square brackets group a value that holds
// commas or '=' (k2=[v1,v2] is "v1,v2"; the brackets are dropped).
func ParseAddConfig(s string) ([]KeyValue, error) {
	var out []KeyValue
	for _, pair := range splitOutsideBrackets(s, ',') {
		kv := splitOutsideBrackets(pair, '=')
		if len(kv) != 2 {
			return nil, usage.Errorf("invalid entity config: all configs to be added must be in the format \"key=val\" (%q is not)", pair)
		}
		key := strings.TrimSpace(kv[0])
		value := strings.TrimSpace(strings.NewReplacer("[", "", "]", "").Replace(kv[1]))
		if !validKey.MatchString(key) {
			return nil, usage.Errorf("invalid character found for config key: %s", key)
		}
		out = append(out, KeyValue{key, value})
	}
	return out, nil
}

// splitOutsideBrackets splits s at each sep that is not inside [...].
func splitOutsideBrackets(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// configsToAdd gathers --add-config or --add-config-file, keeping the
// order of --add-config and sorting a file's keys.
func (o *Options) configsToAdd() ([]KeyValue, error) {
	if o.AddConfigFile != "" {
		p, err := config.Load(o.AddConfigFile)
		if err != nil {
			return nil, err
		}
		var out []KeyValue
		for _, k := range p.Keys() {
			if !validKey.MatchString(k) {
				return nil, usage.Errorf("%s: invalid character found for config key: %s", o.AddConfigFile, k)
			}
			v, _ := p.Get(k)
			out = append(out, KeyValue{k, v})
		}
		return out, nil
	}
	if o.AddConfig == "" {
		return nil, nil
	}
	return ParseAddConfig(o.AddConfig)
}

// configsToDelete is --delete-config, each key trimmed.
func (o *Options) configsToDelete() []string {
	var out []string
	for _, k := range o.DeleteConfig {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// javaDouble formats f as Java's Double.toString does, which is how Kafka
// prints quota values: 1048576.0, 1.0E7, 1.5E-4.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e+07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
