package gcsettings

import (
	"bytes"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// TestApply: without GOMEMLIMIT and GOGC the worker with the
// bundled broker gets a soft memory limit and a GC percentage, and says so;
// either variable set by the user is left alone.
func TestApply(t *testing.T) {
	oldLimit, oldPercent := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	debug.SetGCPercent(oldPercent)
	t.Cleanup(func() {
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(oldPercent)
	})
	unset := func(k string) {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)
	}
	cases := []struct {
		name          string
		env           map[string]string
		limit         int64
		percent       int
		logs, notLogs string
	}{
		{"neither set", nil, MemoryLimit, GCPercent, "soft memory limit 72 MiB, GC at 200% heap growth", ""},
		{"GOGC set", map[string]string{"GOGC": "100"}, MemoryLimit, 100, "soft memory limit 72 MiB", "GC at"},
		{"both set", map[string]string{"GOGC": "100", "GOMEMLIMIT": "off"}, -1, 100, "", "Go runtime"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			unset("GOMEMLIMIT")
			unset("GOGC")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			debug.SetMemoryLimit(1 << 62)
			debug.SetGCPercent(100)
			var buf bytes.Buffer
			Apply(slog.New(slog.NewTextHandler(&buf, nil)))
			if got := debug.SetMemoryLimit(-1); c.limit > 0 && got != c.limit || c.limit < 0 && got != 1<<62 {
				t.Errorf("memory limit %d, want %d", got, c.limit)
			}
			if got := debug.SetGCPercent(100); got != c.percent {
				t.Errorf("GC percent %d, want %d", got, c.percent)
			}
			if c.logs != "" && !strings.Contains(buf.String(), c.logs) {
				t.Errorf("log %q, want it to say %q", buf.String(), c.logs)
			}
			if c.notLogs != "" && strings.Contains(buf.String(), c.notLogs) {
				t.Errorf("log %q should not say %q", buf.String(), c.notLogs)
			}
		})
	}
}
