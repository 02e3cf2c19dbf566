package security

import (
	"errors"
	"fmt"
	"strings"
)

// JAAS is one login module entry of a JAAS configuration, the syntax of
// Kafka's sasl.jaas.config values:
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required
//	    username="admin" password="admin-secret" user_alice="alice-secret";
type JAAS struct {
	Module  string // the login module's class name
	Flag    string // required, requisite, sufficient or optional
	Options map[string]string
}

// ParseJAAS reads one login module entry: a class name, a control flag,
// key=value options (a value may be "quoted", holding spaces, \" and \\)
// and a closing semicolon. Its errors read after the key that holds s,
// e.g. `sasl.jaas.config: has an unterminated quoted value`.
func ParseJAAS(s string) (JAAS, error) {
	var e JAAS
	toks, err := jaasTokens(s)
	if err != nil {
		return e, err
	}
	if len(toks) < 3 || toks[len(toks)-1] != ";" {
		return e, errors.New(`is not a JAAS entry (LoginModule required key="value" ... ;)`)
	}
	e.Module, e.Flag = toks[0], toks[1]
	switch e.Flag {
	case "required", "requisite", "sufficient", "optional":
	default:
		return e, fmt.Errorf("has control flag %q; want required, requisite, sufficient or optional", e.Flag)
	}
	e.Options = map[string]string{}
	rest := toks[2 : len(toks)-1]
	for i := 0; i < len(rest); i += 3 {
		if i+2 >= len(rest) || rest[i+1] != "=" {
			return e, fmt.Errorf("has option %q without a value", rest[i])
		}
		e.Options[rest[i]] = rest[i+2]
	}
	return e, nil
}

// jaasTokens splits a JAAS entry into words, "=", ";" and quoted values.
func jaasTokens(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '=' || c == ';':
			toks = append(toks, string(c))
			i++
		case c == '"':
			var b strings.Builder
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("has an unterminated quoted value")
			}
			i++
			toks = append(toks, b.String())
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n=;\"", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}
