package data_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connect/data"
)

// The time most tests format: a Saturday, day 66 of 2026.
var dateAt = time.Date(2026, 3, 7, 14, 5, 9, 123e6, time.UTC)

// TestDateFormatLetters formats every pattern letter known here at several
// widths, with the text Java's SimpleDateFormat (English locale) writes.
func TestDateFormatLetters(t *testing.T) {
	midnight := time.Date(2026, 1, 1, 0, 0, 0, 5e6, time.UTC) // a Thursday
	west := time.FixedZone("", -8*3600)
	india := time.FixedZone("", 5*3600+30*60)
	for _, tc := range []struct {
		pattern string
		at      time.Time
		want    string
	}{
		{"G", dateAt, "AD"},
		{"G yyyy", time.Date(-43, 6, 15, 0, 0, 0, 0, time.UTC), "BC 0044"},
		{"y", dateAt, "2026"},
		{"yy", dateAt, "26"},
		{"yyy", dateAt, "2026"},
		{"yyyy", dateAt, "2026"},
		{"yyyyy", dateAt, "02026"},
		{"yy", time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC), "05"},
		{"M", dateAt, "3"},
		{"MM", dateAt, "03"},
		{"MMM", dateAt, "Mar"},
		{"MMMM", dateAt, "March"},
		{"MMMMM", dateAt, "March"},
		{"L", dateAt, "3"},
		{"LL", dateAt, "03"},
		{"LLL", dateAt, "Mar"},
		{"LLLL", dateAt, "March"},
		{"d", dateAt, "7"},
		{"dd", dateAt, "07"},
		{"ddd", dateAt, "007"},
		{"D", dateAt, "66"},
		{"DDD", dateAt, "066"},
		{"D", midnight, "1"},
		{"E", dateAt, "Sat"},
		{"EEE", dateAt, "Sat"},
		{"EEEE", dateAt, "Saturday"},
		{"u", dateAt, "6"},
		{"u", time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), "7"},
		{"uu", midnight, "04"},
		{"a", dateAt, "PM"},
		{"a", midnight, "AM"},
		{"H", dateAt, "14"},
		{"H", midnight, "0"},
		{"HH", midnight, "00"},
		{"HHH", dateAt, "014"},
		{"k", dateAt, "14"},
		{"k", midnight, "24"},
		{"K", dateAt, "2"},
		{"KK", midnight, "00"},
		{"h", dateAt, "2"},
		{"hh", dateAt, "02"},
		{"h", midnight, "12"},
		{"m", dateAt, "5"},
		{"mm", dateAt, "05"},
		{"s", dateAt, "9"},
		{"ss", dateAt, "09"},
		{"S", dateAt, "123"},
		{"SS", dateAt, "123"},
		{"SSS", dateAt, "123"},
		{"SSSS", dateAt, "0123"},
		{"S", midnight, "5"},
		{"SSS", midnight, "005"},
		{"z", dateAt, "UTC"},
		{"zzzz", dateAt, "Coordinated Universal Time"},
		{"z", dateAt.In(west), "GMT-08:00"},
		{"z", dateAt.In(time.FixedZone("PST", -8*3600)), "PST"},
		{"Z", dateAt, "+0000"},
		{"Z", dateAt.In(west), "-0800"},
		{"Z", dateAt.In(india), "+0530"},
		{"X", dateAt, "Z"},
		{"XXX", dateAt, "Z"},
		{"X", dateAt.In(west), "-08"},
		{"XX", dateAt.In(west), "-0800"},
		{"XXX", dateAt.In(west), "-08:00"},
		{"X", dateAt.In(india), "+05"},
		{"XXX", dateAt.In(india), "+05:30"},
		{"HH:mm", dateAt.In(india), "19:35"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", dateAt, "2026-03-07T14:05:09.123+0000"},
		{"EEE, d MMM yyyy", dateAt, "Sat, 7 Mar 2026"},
		{"hh 'o''clock' a", dateAt, "02 o'clock PM"},
		{"HHmmssSSS", dateAt, "140509123"},
		{"yyyyMMdd", dateAt, "20260307"},
		{"''", dateAt, "'"},
		{"'yyyy'-yyyy", dateAt, "yyyy-2026"},
		{"d/M – y", dateAt, "7/3 – 2026"},
		{"", dateAt, ""},
	} {
		f, err := data.ParseDateFormat(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		if got := f.Format(tc.at); got != tc.want {
			t.Errorf("%q of %v: %q, want %q", tc.pattern, tc.at, got, tc.want)
		}
		if got := string(f.Append([]byte("x"), tc.at)); got != "x"+tc.want {
			t.Errorf("%q appended: %q", tc.pattern, got)
		}
		if f.String() != tc.pattern {
			t.Errorf("String() %q, want %q", f.String(), tc.pattern)
		}
	}
}

// TestDateFormatRoundTrip parses what a pattern formats back to the time.
func TestDateFormatRoundTrip(t *testing.T) {
	for _, p := range []string{
		"yyyy-MM-dd'T'HH:mm:ss.SSSZ",
		"yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
		"yyyyMMddHHmmssSSS",
		"EEEE, MMMM d, yyyy h:mm:ss.SSS a zzzz",
		"G yyyy DDD u kk:mm:ss.SSS z",
		"yy-LL-dd KK:mm:ss.SSS a ''z''",
		"EEE, d MMM yyyy HH:mm:ss.SSS X",
	} {
		f, err := data.ParseDateFormat(p)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		for _, at := range []time.Time{dateAt, time.Date(2001, 12, 31, 0, 59, 0, 7e6, time.UTC)} {
			text := f.Format(at)
			got, err := f.Parse(text)
			if err != nil {
				t.Errorf("%q: %v", p, err)
			} else if !got.Equal(at) || got.Location() != time.UTC {
				t.Errorf("%q: %q parsed as %v, want %v", p, text, got, at)
			}
		}
	}
}

// TestDateFormatParse checks lenient parsing as Java's in UTC.
func TestDateFormatParse(t *testing.T) {
	for _, tc := range []struct {
		pattern, text string
		want          time.Time
	}{
		{"yyyyMMdd", "20260307", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)},
		{"HHmmssSSS", "140509123", time.Date(1970, 1, 1, 14, 5, 9, 123e6, time.UTC)},
		{"yyyy-MM-dd HH:mm Z", "2026-03-07 06:05 -0800", time.Date(2026, 3, 7, 14, 5, 0, 0, time.UTC)},
		{"yyyy-MM-dd HH:mm XXX", "2026-03-07 19:35 +05:30", time.Date(2026, 3, 7, 14, 5, 0, 0, time.UTC)},
		{"yyyy-MM-dd HH:mm z", "2026-03-07 16:05 GMT+2", time.Date(2026, 3, 7, 14, 5, 0, 0, time.UTC)},
		{"yyyy-MM-dd", "2026-02-30", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd", "2026-03-07 and more", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)},
		{"yyyy-MM-dd", "2026-3-7", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)},
		{"d MMM yyyy", "7   MARCH 2026", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)},
		{"yyyy D", "2026 66", time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)},
		{"h a", "12 AM", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"h a", "12 pm", time.Date(1970, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"k", "24", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"G yyyy", "BC 0044", time.Date(-43, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		f, err := data.ParseDateFormat(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		got, err := f.Parse(tc.text)
		if err != nil {
			t.Errorf("%q of %q: %v", tc.pattern, tc.text, err)
		} else if !got.Equal(tc.want) {
			t.Errorf("%q of %q: %v, want %v", tc.pattern, tc.text, got, tc.want)
		}
	}
	for _, tc := range []struct{ pattern, text string }{
		{"yyyy-MM-dd", "2026/03/07"},
		{"yyyy-MM-dd", "2026-03"},
		{"EEE", "Sa"},
		{"yyyy Z", "2026 +"},
		{"HH", ""},
	} {
		f, err := data.ParseDateFormat(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		want := `Unparseable date: "` + tc.text + `"`
		if _, err := f.Parse(tc.text); err == nil || err.Error() != want {
			t.Errorf("%q of %q: error %v, want %s", tc.pattern, tc.text, err, want)
		}
	}
}

// TestDateFormatErrors checks the patterns refused, with Java's messages.
func TestDateFormatErrors(t *testing.T) {
	for pattern, want := range map[string]string{
		"yyyyQ":         "Illegal pattern character 'Q'",
		"yyyy-MM-ddTHH": "Illegal pattern character 'T'",
		"'open":         "Unterminated quote",
		"hh 'o''clock":  "Unterminated quote",
		"XXXX":          "invalid ISO 8601 format: length=4",
		"yyyy-ww":       "pattern character 'w' is not supported here (known: " + data.DateFormatLetters + ")",
		"YYYY":          "pattern character 'Y' is not supported here",
		"W":             "pattern character 'W' is not supported here",
		"F":             "pattern character 'F' is not supported here",
	} {
		_, err := data.ParseDateFormat(pattern)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want %s", pattern, err, want)
		}
	}
}
