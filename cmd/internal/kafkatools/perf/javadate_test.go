package perf

import (
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
	}
	for pattern, want := range tests {
		d, err := newJavaDate(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		if got := d.format(at); got != want {
			t.Errorf("%s: %q, want %q", pattern, got, want)
		}
	}
	for _, bad := range []string{"yyyy-QQ", "HHmmssSSS", "'open"} {
		if _, err := newJavaDate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
