package data

// Java's java.text.SimpleDateFormat, in the English (US) locale: the one
// implementation of its patterns for Kafka's TimestampRouter and
// TimestampConverter and for the tools' --date-format.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The pattern letters: all of Java's, and those known here. Java's Y
// (week year), w (week in year), W (week in month) and F (day of week in
// month) depend on the locale's week rules and are refused.
const (
	javaDateLetters  = "GyMdkHmsSEDFwWahKzZYuXL"
	knownDateLetters = "GyMLdDEuaHkKhmsSzZX"
)

// DateFormatLetters lists the pattern letters DateFormat knows, for
// messages and documentation.
const DateFormatLetters = "G y M L d D E u a H k K h m s S z Z X"

// DateFormat is a compiled java.text.SimpleDateFormat pattern: runs of
// pattern letters, text in single quotes (two quotes stand for one) and
// any other character as itself.
type DateFormat struct {
	pattern string
	fields  []dateField
}

// dateField is one piece of a pattern: a run of one pattern letter, or
// literal text (letter 0).
type dateField struct {
	letter byte
	count  int
	lit    string
}

// ParseDateFormat compiles a SimpleDateFormat pattern. Its errors are
// Java's ("Illegal pattern character 'x'", "Unterminated quote", "invalid
// ISO 8601 format: length=4"), or say that a letter Java knows is not
// known here.
func ParseDateFormat(pattern string) (*DateFormat, error) {
	var out []dateField
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, dateField{lit: lit.String()})
			lit.Reset()
		}
	}
	p := pattern
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
			if !strings.ContainsRune(knownDateLetters, rune(c)) {
				return nil, fmt.Errorf("pattern character '%c' is not supported here (known: %s)", c, DateFormatLetters)
			}
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			if c == 'X' && n > 3 {
				return nil, fmt.Errorf("invalid ISO 8601 format: length=%d", n)
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
	return &DateFormat{pattern: pattern, fields: out}, nil
}

// String is the pattern.
func (f *DateFormat) String() string { return f.pattern }

// Format is t formatted, in t's location.
func (f *DateFormat) Format(t time.Time) string { return string(f.Append(nil, t)) }

// Append appends t formatted as SimpleDateFormat does, in t's location
// (Java's formatter's time zone).
func (f *DateFormat) Append(b []byte, t time.Time) []byte {
	for _, fd := range f.fields {
		n := fd.count
		switch fd.letter {
		case 0:
			b = append(b, fd.lit...)
		case 'G':
			if t.Year() > 0 {
				b = append(b, "AD"...)
			} else {
				b = append(b, "BC"...)
			}
		case 'y':
			y := t.Year()
			if y <= 0 {
				y = 1 - y // the year of the era
			}
			if n == 2 {
				b = appendPadded(b, y%100, 2)
			} else {
				b = appendPadded(b, y, n)
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				b = append(b, t.Month().String()...)
			case n == 3:
				b = append(b, t.Month().String()[:3]...)
			default:
				b = appendPadded(b, int(t.Month()), n)
			}
		case 'd':
			b = appendPadded(b, t.Day(), n)
		case 'D':
			b = appendPadded(b, t.YearDay(), n)
		case 'E':
			if n >= 4 {
				b = append(b, t.Weekday().String()...)
			} else {
				b = append(b, t.Weekday().String()[:3]...)
			}
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = appendPadded(b, wd, n)
		case 'a':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'H':
			b = appendPadded(b, t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b = appendPadded(b, h, n)
		case 'K':
			b = appendPadded(b, t.Hour()%12, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b = appendPadded(b, h, n)
		case 'm':
			b = appendPadded(b, t.Minute(), n)
		case 's':
			b = appendPadded(b, t.Second(), n)
		case 'S':
			b = appendPadded(b, t.Nanosecond()/int(time.Millisecond), n)
		case 'z':
			b = appendZoneName(b, t, n >= 4)
		case 'Z':
			_, off := t.Zone()
			b = appendOffset(b, off, true, false)
		case 'X':
			_, off := t.Zone()
			if off == 0 {
				b = append(b, 'Z')
			} else {
				b = appendOffset(b, off, n >= 2, n == 3)
			}
		}
	}
	return b
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendOffset appends an offset (seconds east of UTC) as ±HH, with the
// minutes if withMinutes, separated by a colon if colon.
func appendOffset(b []byte, off int, withMinutes, colon bool) []byte {
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendPadded(b, off/3600, 2)
	if withMinutes {
		if colon {
			b = append(b, ':')
		}
		b = appendPadded(b, off/60%60, 2)
	}
	return b
}

// appendZoneName appends t's time zone name: UTC (long: Coordinated
// Universal Time), else the location's abbreviation (Go knows no long
// names), or GMT±HH:MM when it has none.
func appendZoneName(b []byte, t time.Time, long bool) []byte {
	name, off := t.Zone()
	switch {
	case name == "UTC" || name == "" && off == 0:
		if long {
			return append(b, "Coordinated Universal Time"...)
		}
		return append(b, "UTC"...)
	case name == "" || name[0] == '+' || name[0] == '-':
		return appendOffset(append(b, "GMT"...), off, true, true)
	}
	return append(b, name...)
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

// Parse reads s as a lenient SimpleDateFormat whose time zone is UTC does:
// fields default to 1970-01-01 00:00:00.000, out-of-range values carry
// over, whitespace before a field is skipped, a number directly followed
// by another numeric field takes as many digits as its letter is repeated,
// a zone in s (z, Z or X) applies, text after the pattern is ignored. The
// time is in UTC, to the millisecond; the error is Java's ParseException
// message.
func (f *DateFormat) Parse(s string) (time.Time, error) {
	ms, ok := f.parseMillis(s)
	if !ok {
		return time.Time{}, fmt.Errorf("Unparseable date: %q", s) //nolint:staticcheck // Java's message
	}
	return time.UnixMilli(ms).UTC(), nil
}

func (f *DateFormat) parseMillis(s string) (int64, bool) {
	fields := f.fields
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
