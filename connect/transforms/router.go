package transforms

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config"
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
	date        []dateField
}

func newTimestampRouter(v keyValues) (Transformation, error) {
	date, err := parseDateFormat(v.String("timestamp.format"))
	if err != nil {
		return nil, &config.Error{Source: v.vals.Source(), Key: v.prefix + "timestamp.format", Value: v.String("timestamp.format"), Reason: "is not a date format known here: " + err.Error()}
	}
	return &timestampRouter{topicFormat: v.String("topic.format"), date: date}, nil
}

func (t *timestampRouter) Apply(r *Record) (bool, error) {
	if r.Timestamp.IsZero() {
		return false, fmt.Errorf("Timestamp missing on record of topic %s", r.Topic) //nolint:staticcheck // Kafka's message
	}
	ts := string(appendDate(nil, t.date, r.Timestamp.UTC()))
	r.Topic = strings.ReplaceAll(strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic), "${timestamp}", ts)
	return true, nil
}

// dateField is one piece of a SimpleDateFormat pattern: a run of one
// pattern letter, or literal text (letter 0).
type dateField struct {
	letter byte
	count  int
	lit    string
}

// parseDateFormat reads a java.text.SimpleDateFormat pattern: runs of
// pattern letters, text in single quotes (two of them stand for one) and any other
// character as itself.
func parseDateFormat(p string) ([]dateField, error) {
	var out []dateField
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				out = append(out, dateField{lit: "'"})
				i += 2
				continue
			}
			end := i + 1
			var lit strings.Builder
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
			out = append(out, dateField{lit: lit.String()})
			i = end + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if !strings.ContainsRune("yMdHhmsSEa", rune(c)) {
				return nil, fmt.Errorf("Illegal pattern character '%c' (known here: y M d H h m s S E a)", c) //nolint:staticcheck // Java's message
			}
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			out = append(out, dateField{letter: c, count: n})
			i += n
		default:
			out = append(out, dateField{lit: string(c)})
			i++
		}
	}
	return out, nil
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendDate formats t as SimpleDateFormat does.
func appendDate(b []byte, fields []dateField, t time.Time) []byte {
	for _, f := range fields {
		switch f.letter {
		case 0:
			b = append(b, f.lit...)
		case 'y':
			if f.count == 2 {
				b = appendPadded(b, t.Year()%100, 2)
			} else {
				b = appendPadded(b, t.Year(), f.count)
			}
		case 'M':
			switch {
			case f.count >= 4:
				b = append(b, t.Month().String()...)
			case f.count == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = appendPadded(b, int(t.Month()), f.count)
			}
		case 'd':
			b = appendPadded(b, t.Day(), f.count)
		case 'H':
			b = appendPadded(b, t.Hour(), f.count)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = appendPadded(b, h, f.count)
		case 'm':
			b = appendPadded(b, t.Minute(), f.count)
		case 's':
			b = appendPadded(b, t.Second(), f.count)
		case 'S':
			b = appendPadded(b, t.Nanosecond()/int(time.Millisecond), f.count)
		case 'E':
			if f.count >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		}
	}
	return b
}
