package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	keys := []string{"file", "topic", "batch.size", "bootstrap.servers", "offset.flush.interval.ms", "offset.flush.timeout.ms", "read.from"}
	for _, tc := range []struct{ name, want string }{
		{"fiel", "file"},    // swapped neighbours
		{"fil", "file"},     // one deleted
		{"topics", "topic"}, // one added
		{"bootstrap.server", "bootstrap.servers"},
		{"bootstrap-servers", "bootstrap.servers"},
		{"offset.flush.interval", ""},  // too far
		{"offset.flush.xxxxxx.ms", ""}, // too far
		{"batch_size", "batch.size"},
		{"read.form", "read.from"},
		{"xyz", ""},
		{"offset.flush.timeout.mss", "offset.flush.timeout.ms"},
	} {
		if got := Closest(tc.name, keys); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	// Two keys equally close: no guess.
	if got := Closest("ab", []string{"aa", "bb"}); got != "" {
		t.Errorf("a tie gave %q", got)
	}
}

func TestWarnUnknown(t *testing.T) {
	def := NewDef("FileStreamSource",
		Key{Name: "file", Type: String}, Key{Name: "topic", Type: String})
	vals, err := def.Parse(FromMap("src.properties", map[string]string{
		"fiel": "/var/log/a.log", "topic": "t", "producer.override.acks": "all", "completely.else": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	vals.WarnUnknown(slog.New(slog.NewTextHandler(&buf, nil)), "producer.override.")
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="The configuration 'fiel' was supplied but isn't a known config; did you mean 'file'?" file=src.properties`,
		`level=WARN msg="The configuration 'completely.else' was supplied but isn't a known config" file=src.properties`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "producer.override") {
		t.Errorf("a key passed on was warned about:\n%s", out)
	}
}
