package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The config provider classes a worker file may name in
// config.providers.<name>.class, as in Kafka (KIP-297, KIP-887).
const (
	FileConfigProviderClass      = "org.apache.kafka.common.config.provider.FileConfigProvider"
	DirectoryConfigProviderClass = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
	EnvVarConfigProviderClass    = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
)

// ProvidersKey lists the config providers a worker file declares.
const ProvidersKey = "config.providers"

// The parameters a provider takes, config.providers.<name>.param.<param>.
const (
	allowedPathsParam     = "allowed.paths"
	allowlistPatternParam = "allowlist.pattern"
)

// Providers resolves ${provider:path:key} and ${provider:key} placeholders
// with the config providers a worker file declares (Kafka's
// config.providers, config.providers.<name>.class and
// config.providers.<name>.param.*). A Providers is immutable and safe for
// concurrent use.
//
// ${env:NAME} keeps working when no provider is named env: it reads the
// environment variable NAME, as Load does. A placeholder naming any other
// provider that is not declared is an error (Kafka would leave it as
// written, to fail later and less clearly). The nil *Providers is what Load
// uses: it resolves ${env:NAME} only and leaves other placeholders as
// written.
type Providers struct {
	byName map[string]provider
}

// provider looks up one placeholder's value. Its errors read as the end of
// a sentence about the placeholder and never contain the value.
type provider interface {
	get(path, key string) (string, error)
}

// NewProviders builds the config providers that p (a worker file)
// declares. With no config.providers key it returns a Providers that
// knows only the built-in ${env:NAME}. Every problem is reported, each an
// *Error naming the file and key.
func NewProviders(p *Props) (*Providers, error) {
	out := &Providers{byName: map[string]provider{}}
	names, _ := p.Get(ProvidersKey)
	listed, _ := convert(List, names)
	var errs []error
	keyErr := func(key, value, reason string) {
		errs = append(errs, &Error{Source: p.source, Key: key, Value: value, Reason: reason})
	}
	seen := map[string]bool{}
	for _, name := range listed.([]string) {
		if seen[name] {
			keyErr(ProvidersKey, names, fmt.Sprintf("names %s twice", name))
			continue
		}
		seen[name] = true
		prefix := ProvidersKey + "." + name + "."
		params := map[string]string{}
		for _, k := range p.keys {
			if param, ok := strings.CutPrefix(k, prefix+"param."); ok {
				params[param] = strings.TrimSpace(p.m[k])
			}
		}
		cls, _ := p.Get(prefix + "class")
		cls = strings.TrimSpace(cls)
		var (
			pr  provider
			err error
			// the parameters the class takes
			takes []string
		)
		switch cls {
		case "":
			errs = append(errs, &Error{Source: p.source, Key: prefix + "class", quiet: true,
				Reason: fmt.Sprintf("is missing; config.providers names %s, so set it to one of %s, %s, %s", name, FileConfigProviderClass, DirectoryConfigProviderClass, EnvVarConfigProviderClass)})
			continue
		case FileConfigProviderClass, DirectoryConfigProviderClass:
			takes = []string{allowedPathsParam}
			var allowed []string
			allowed, err = parseAllowedPaths(params[allowedPathsParam])
			if err != nil {
				keyErr(prefix+"param."+allowedPathsParam, params[allowedPathsParam], err.Error())
			}
			if cls == FileConfigProviderClass {
				pr = fileProvider{allowed: allowed}
			} else {
				pr = dirProvider{allowed: allowed}
			}
		case EnvVarConfigProviderClass:
			takes = []string{allowlistPatternParam}
			env := envProvider{}
			if pat, ok := params[allowlistPatternParam]; ok {
				env.pattern = pat
				if env.allow, err = regexp.Compile(pat); err != nil {
					keyErr(prefix+"param."+allowlistPatternParam, pat, "is not a regular expression: "+err.Error())
				}
			}
			pr = env
		default:
			keyErr(prefix+"class", cls, fmt.Sprintf("is not a config provider class; known: %s, %s, %s", FileConfigProviderClass, DirectoryConfigProviderClass, EnvVarConfigProviderClass))
			continue
		}
		for param, v := range params {
			if !contains(takes, param) {
				keyErr(prefix+"param."+param, v, fmt.Sprintf("is not a parameter of %s; it takes %s", cls, strings.Join(takes, ", ")))
			}
		}
		out.byName[name] = pr
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseAllowedPaths reads allowed.paths (KIP-993): comma-separated
// directories, each absolute and existing. Empty means any path.
func parseAllowedPaths(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = filepath.Clean(strings.TrimSpace(s))
		if !filepath.IsAbs(s) {
			return nil, fmt.Errorf("has %s, which is not an absolute path", s)
		}
		if _, err := os.Stat(s); err != nil {
			return nil, fmt.Errorf("has %s, which does not exist", s)
		}
		out = append(out, s)
	}
	return out, nil
}

// checkAllowed returns path, cleaned, when allowed is empty or path lies
// within one of its directories (by whole path elements, as Java's
// Path.startsWith: /etc/secrets does not allow /etc/secrets2). what names
// the path (FILE, DIR) when it is empty.
func checkAllowed(allowed []string, path, what string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("names no %s (want ${provider:%s:KEY})", strings.ToLower(what), what)
	}
	clean := filepath.Clean(path)
	if len(allowed) == 0 {
		return clean, nil
	}
	for _, a := range allowed {
		if rel, err := filepath.Rel(a, clean); err == nil && filepath.IsAbs(clean) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return clean, nil
		}
	}
	return "", fmt.Errorf("%s is outside allowed.paths (%s)", path, strings.Join(allowed, ","))
}

// fileProvider is FileConfigProvider: ${name:FILE:KEY} is KEY of the
// properties file FILE.
type fileProvider struct{ allowed []string }

func (f fileProvider) get(path, key string) (string, error) {
	path, err := checkAllowed(f.allowed, path, "FILE")
	if err != nil {
		return "", err
	}
	p, err := LoadUnresolved(path)
	if err != nil {
		return "", err
	}
	v, ok := p.Get(key)
	if !ok {
		return "", fmt.Errorf("%s has no key %s", path, key)
	}
	return v, nil
}

// dirProvider is DirectoryConfigProvider: ${name:DIR:KEY} is the content
// of the regular file KEY in directory DIR, as it is (no trimming).
type dirProvider struct{ allowed []string }

func (d dirProvider) get(path, key string) (string, error) {
	dir, err := checkAllowed(d.allowed, path, "DIR")
	if err != nil {
		return "", err
	}
	if key == "." || key == ".." || strings.ContainsRune(key, '/') || strings.ContainsRune(key, filepath.Separator) {
		return "", fmt.Errorf("key %s is not a file name", key)
	}
	file := filepath.Join(dir, key)
	st, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s does not exist", file)
	case err != nil:
		return "", fmt.Errorf("cannot read %s: %w", file, err)
	case !st.Mode().IsRegular():
		return "", fmt.Errorf("%s is not a regular file", file)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", file, err)
	}
	return string(data), nil
}

// envProvider is EnvVarConfigProvider: ${name:VAR} (or ${name::VAR}) is
// the environment variable VAR, when allow (allowlist.pattern, matched
// anywhere in the name as Kafka's Pattern.asPredicate does) accepts it.
// The built-in env provider has no pattern.
type envProvider struct {
	allow   *regexp.Regexp
	pattern string
}

func (e envProvider) get(path, key string) (string, error) {
	if path != "" {
		return "", fmt.Errorf("has path %s, which an environment variable provider does not take", path)
	}
	if key == "" {
		return "", errors.New("names no environment variable")
	}
	if e.allow != nil && !e.allow.MatchString(key) {
		return "", fmt.Errorf("environment variable %s does not match allowlist.pattern %s", key, e.pattern)
	}
	v, ok := os.LookupEnv(key)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", key)
	}
	return v, nil
}

// placeholder is Kafka's ConfigTransformer pattern: ${provider:key} or
// ${provider:path:key}, the path ending at its first colon.
var placeholder = regexp.MustCompile(`\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}`)

// builtinEnv serves ${env:NAME} when no provider is named env.
var builtinEnv = envProvider{}

// Resolve returns a copy of p with every placeholder in its values
// replaced, anywhere in a value ("topic-${file:/etc/t.properties:t}").
// The copy keeps the values as written (Props.Unresolved). Every key that
// cannot be resolved is reported, each an *Error naming the file, key and
// placeholder; no error contains a resolved value.
func (ps *Providers) Resolve(p *Props) (*Props, error) {
	out := &Props{source: p.source, keys: append([]string(nil), p.keys...),
		m: make(map[string]string, len(p.m)), written: make(map[string]string, len(p.m))}
	var errs []error
	for _, k := range p.keys {
		written := p.writtenValue(k, p.m[k])
		v, err := ps.expand(written)
		if err != nil {
			errs = append(errs, &Error{Source: p.source, Key: k, Value: written, Reason: err.Error(), quiet: true})
			continue
		}
		out.m[k] = v
		out.written[k] = written
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// expand replaces the placeholders of one value; the first that fails is
// the error, prefixed by the placeholder.
func (ps *Providers) expand(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var firstErr error
	out := placeholder.ReplaceAllStringFunc(s, func(ref string) string {
		if firstErr != nil {
			return ref
		}
		m := placeholder.FindStringSubmatchIndex(ref)
		name := ref[m[2]:m[3]]
		var path string
		if m[4] >= 0 {
			path = ref[m[4]:m[5]]
		}
		key := ref[m[6]:m[7]]
		pr, err := ps.lookup(name)
		if err != nil {
			firstErr = fmt.Errorf("%s %w", ref, err)
			return ref
		}
		if pr == nil { // nil Providers: left as written
			return ref
		}
		v, err := pr.get(path, key)
		if err != nil {
			sep := ": "
			if key == "" {
				sep = " "
			}
			firstErr = fmt.Errorf("%s%s%w", ref, sep, err)
			return ref
		}
		return v
	})
	return out, firstErr
}

// lookup finds the provider called name; nil, nil means leave the
// placeholder as written.
func (ps *Providers) lookup(name string) (provider, error) {
	if ps != nil {
		if pr, ok := ps.byName[name]; ok {
			return pr, nil
		}
	}
	if name == "env" {
		return builtinEnv, nil
	}
	if ps == nil {
		return nil, nil
	}
	return nil, fmt.Errorf("names config provider %s, which the worker does not declare (%s=%s and %s.%s.class)", name, ProvidersKey, name, ProvidersKey, name)
}
