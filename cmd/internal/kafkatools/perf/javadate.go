package perf

import (
	"fmt"
	"strings"
	"time"
)

// javaDateLayout converts a java.text.SimpleDateFormat pattern (as in
// consumer-perf-test's --date-format) into a Go time layout. It knows the
// letters y M d H h m s S a Z X and quoted text; other letters are refused.
func javaDateLayout(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			if strings.HasPrefix(pattern[i:], "''") { // an escaped quote
				b.WriteByte('\'')
				i += 2
				continue
			}
			// Quoted text, in which '' is a quote.
			i++
			for {
				if i >= len(pattern) {
					return "", fmt.Errorf("date format %q: unterminated quote", pattern)
				}
				if pattern[i] == '\'' {
					if strings.HasPrefix(pattern[i:], "''") {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(pattern[i])
				i++
			}
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		var layout string
		switch {
		case c == 'y' && n == 2:
			layout = "06"
		case c == 'y':
			layout = "2006"
		case c == 'M' && n >= 4:
			layout = "January"
		case c == 'M' && n == 3:
			layout = "Jan"
		case c == 'M' && n == 2:
			layout = "01"
		case c == 'M':
			layout = "1"
		case c == 'd' && n == 2:
			layout = "02"
		case c == 'd':
			layout = "2"
		case c == 'H':
			layout = "15"
		case c == 'h' && n == 2:
			layout = "03"
		case c == 'h':
			layout = "3"
		case c == 'm' && n == 2:
			layout = "04"
		case c == 'm':
			layout = "4"
		case c == 's' && n == 2:
			layout = "05"
		case c == 's':
			layout = "5"
		case c == 'S':
			layout = strings.Repeat("0", n)
			// Go writes fractions only after a dot or comma.
			s := b.String()
			if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ",") {
				return "", fmt.Errorf("date format %q: milliseconds (S) must follow '.' or ','", pattern)
			}
		case c == 'a':
			layout = "PM"
		case c == 'Z':
			layout = "-0700"
		case c == 'X':
			layout = "Z07:00"
		default:
			return "", fmt.Errorf("date format %q: letter %q is not supported", pattern, c)
		}
		b.WriteString(layout)
		i += n
	}
	return b.String(), nil
}

// formatJavaDate formats t with a pattern that javaDateLayout converted,
// allowing the ':' before milliseconds that Kafka's default pattern
// "yyyy-MM-dd HH:mm:ss:SSS" uses.
type javaDate struct {
	layout   string
	colonSSS bool // the pattern's fraction follows ':', written by hand
}

func newJavaDate(pattern string) (javaDate, error) {
	if strings.HasSuffix(pattern, ":SSS") {
		l, err := javaDateLayout(strings.TrimSuffix(pattern, ":SSS"))
		return javaDate{layout: l, colonSSS: true}, err
	}
	l, err := javaDateLayout(pattern)
	return javaDate{layout: l}, err
}

func (d javaDate) format(t time.Time) string {
	s := t.Format(d.layout)
	if d.colonSSS {
		s += fmt.Sprintf(":%03d", t.Nanosecond()/int(time.Millisecond))
	}
	return s
}
