package perf

import (
	"strings"
	"testing"
	"time"
)

func TestJavaDate(t *testing.T) {
	at := time.Date(2024, 3, 5, 7, 8, 9, 45_000_000, time.UTC)
	tests := map[string]string{
		"yyyy-MM-dd HH:mm:ss:SSS":   "2024-03-05 07:08:09:045",
		"yyyy-MM-dd'T'HH:mm:ss.SSS": "2024-03-05T07:08:09.045",
		"dd/MM/yy h:mm a":           "05/03/24 7:08 AM",
		"MMM d, yyyy":               "Mar 5, 2024",
		"yyyy-MM-dd'T'HH:mm:ssXXX":  "2024-03-05T07:08:09Z",
		"'at' HH 'o''clock'":        "at 07 o'clock",
		// Adjacent numeric fields, which a Go layout cannot express.
		"HHmmssSSS": "070809045",
	}
	for pattern, want := range tests {
		d, err := parseDateFormat(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		if got := d.Format(at); got != want {
			t.Errorf("%s: %q, want %q", pattern, got, want)
		}
	}
	// Java formats HHmmssSSS of 14:05:09.123 as 140509123.
	d, err := parseDateFormat("HHmmssSSS")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Format(time.Date(2026, 3, 7, 14, 5, 9, 123e6, time.UTC)); got != "140509123" {
		t.Errorf("HHmmssSSS: %q, want 140509123", got)
	}
	// Times are formatted in their location, as Java in its default zone.
	d, err = parseDateFormat("yyyy-MM-dd HH:mm:ss:SSS Z")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Format(at.In(time.FixedZone("", 5*3600+30*60))), "2024-03-05 12:38:09:045 +0530"; got != want {
		t.Errorf("in +05:30: %q, want %q", got, want)
	}
	for bad, msg := range map[string]string{
		"yyyy-QQ": `date format "yyyy-QQ": Illegal pattern character 'Q'`,
		"'open":   `date format "'open": Unterminated quote`,
	} {
		if _, err := parseDateFormat(bad); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %s", bad, err, msg)
		}
	}
}
