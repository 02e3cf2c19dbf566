package transforms

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/data"
)

// regexRouter is Kafka's RegexRouter: a topic that the regex matches as a
// whole becomes its first match replaced by the replacement.
type regexRouter struct {
	re, full *regexp.Regexp
	repl     []replPart
}

func newRegexRouter(v keyValues) (Transformation, error) {
	expr := v.String("regex")
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, &config.Error{Source: v.vals.Source(), Key: v.prefix + "regex", Value: expr, Reason: "is not a valid regular expression: " + err.Error()}
	}
	full, err := fullMatch(expr)
	if err != nil {
		return nil, &config.Error{Source: v.vals.Source(), Key: v.prefix + "regex", Value: expr, Reason: "is not a valid regular expression: " + err.Error()}
	}
	repl, err := parseReplacement(v.String("replacement"), re)
	if err != nil {
		return nil, &config.Error{Source: v.vals.Source(), Key: v.prefix + "replacement", Value: v.String("replacement"), Reason: "is not a valid replacement for " + v.prefix + "regex: " + err.Error()}
	}
	return &regexRouter{re: re, full: full, repl: repl}, nil
}

func (t *regexRouter) Apply(r *Record) (bool, error) {
	if !t.full.MatchString(r.Topic) {
		return true, nil
	}
	m := t.re.FindStringSubmatchIndex(r.Topic)
	if m == nil {
		return true, nil
	}
	var b strings.Builder
	b.WriteString(r.Topic[:m[0]])
	for _, p := range t.repl {
		if p.group < 0 {
			b.WriteString(p.lit)
		} else if s, e := m[2*p.group], m[2*p.group+1]; s >= 0 {
			b.WriteString(r.Topic[s:e])
		}
	}
	b.WriteString(r.Topic[m[1]:])
	r.Topic = b.String()
	return true, nil
}

// replPart is a piece of a replacement: literal text, or a group (group
// >= 0).
type replPart struct {
	lit   string
	group int
}

// parseReplacement reads a replacement in Java's syntax (Matcher's
// appendReplacement): $n and ${name} refer to groups, a backslash makes the
// next character literal. As in Java, $12 is group 12 when the regex has
// that many groups, else group 1 followed by "2".
func parseReplacement(s string, re *regexp.Regexp) ([]replPart, error) {
	var parts []replPart
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, replPart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			if i == len(s) {
				return nil, errors.New("character to be escaped is missing")
			}
			lit.WriteByte(s[i])
		case '$':
			i++
			if i == len(s) {
				return nil, errors.New("Illegal group reference: group index is missing") //nolint:staticcheck // Java's message
			}
			if s[i] == '{' {
				end := strings.IndexByte(s[i:], '}')
				if end < 0 {
					return nil, errors.New("named capturing group is missing trailing '}'")
				}
				name := s[i+1 : i+end]
				if name == "" {
					return nil, errors.New("named capturing group has 0 length name")
				}
				g := re.SubexpIndex(name)
				if g < 0 {
					return nil, fmt.Errorf("No group with name {%s}", name) //nolint:staticcheck // Java's message
				}
				flush()
				parts = append(parts, replPart{group: g})
				i += end
				continue
			}
			if s[i] < '0' || s[i] > '9' {
				return nil, errors.New("Illegal group reference") //nolint:staticcheck // Java's message
			}
			g := int(s[i] - '0')
			if g > groups {
				return nil, fmt.Errorf("No group %d", g) //nolint:staticcheck // Java's message
			}
			for i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				n := g*10 + int(s[i+1]-'0')
				if n > groups {
					break
				}
				g = n
				i++
			}
			flush()
			parts = append(parts, replPart{group: g})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return parts, nil
}

// timestampRouter is Kafka's TimestampRouter: the topic becomes
// topic.format with ${topic} and ${timestamp} (the record's timestamp in
// timestamp.format, UTC) put in.
type timestampRouter struct {
	topicFormat string
	date        *data.DateFormat
}

func newTimestampRouter(v keyValues) (Transformation, error) {
	date, err := data.ParseDateFormat(v.String("timestamp.format"))
	if err != nil {
		return nil, &config.Error{Source: v.vals.Source(), Key: v.prefix + "timestamp.format", Value: v.String("timestamp.format"), Reason: "is not a date format known here: " + err.Error()}
	}
	return &timestampRouter{topicFormat: v.String("topic.format"), date: date}, nil
}

func (t *timestampRouter) Apply(r *Record) (bool, error) {
	if r.Timestamp.IsZero() {
		return false, fmt.Errorf("Timestamp missing on record of topic %s", r.Topic) //nolint:staticcheck // Kafka's message
	}
	ts := t.date.Format(r.Timestamp.UTC())
	r.Topic = strings.ReplaceAll(strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic), "${timestamp}", ts)
	return true, nil
}
