package connect

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRESTLoggers: /admin/loggers shows and changes the worker's slog
// level with Kafka's shapes and messages.
func TestRESTLoggers(t *testing.T) {
	var logs bytes.Buffer
	level := new(slog.LevelVar)
	w := &Worker{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))}
	WithLogLevel(level)(w)
	h := w.restHandler()
	do := func(method, path, body string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string // the body, or a part of it
	}{
		{"GET", "/admin/loggers", "", 200, `{"root":{"level":"INFO","last_modified":null}}`},
		{"GET", "/admin/loggers/root", "", 200, `{"level":"INFO","last_modified":null}`},
		{"GET", "/admin/loggers/org.apache.kafka", "", 404, `"Logger org.apache.kafka not found."`},
		{"PUT", "/admin/loggers/root", `{}`, 400, `"Desired 'level' parameter was not specified in request."`},
		{"PUT", "/admin/loggers/root", `{"level":"LOUD"}`, 404, `"invalid log level 'LOUD'."`},
		{"PUT", "/admin/loggers/org.apache.kafka", `{"level":"DEBUG"}`, 404, `one logger, root`},
		{"PUT", "/admin/loggers/root", `{"level":"DEBUG"}`, 200, `["root"]`},
		{"GET", "/admin/loggers/root", "", 200, `{"level":"DEBUG","last_modified":`},
		{"PUT", "/admin/loggers/ROOT?scope=cluster", `{"level":"trace"}`, 204, ``},
		{"GET", "/admin/loggers", "", 200, `{"root":{"level":"TRACE","last_modified":`},
		{"PUT", "/admin/loggers/root", `{"level":"OFF"}`, 200, `["root"]`},
		{"GET", "/admin/loggers/root", "", 200, `{"level":"OFF","last_modified":`},
	} {
		code, body := do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) || c.want == "" && body != "" {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, code, body, c.code, c.want)
		}
	}
	if level.Level() <= slog.LevelError {
		t.Errorf("OFF: slog level %v", level.Level())
	}
	level.Set(slog.LevelDebug)
	w.log.Debug("seen")
	if !strings.Contains(logs.String(), "log level changed over REST") || !strings.Contains(logs.String(), "seen") {
		t.Errorf("log:\n%s", logs.String())
	}

	// Without WithLogLevel the level is shown and fixed.
	w = &Worker{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	rec := httptest.NewRecorder()
	w.restHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/admin/loggers/root", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != `{"level":"WARN","last_modified":null}` {
		t.Errorf("fixed level: %s", got)
	}
	rec = httptest.NewRecorder()
	w.restHandler().ServeHTTP(rec, httptest.NewRequest("PUT", "/admin/loggers/root", strings.NewReader(`{"level":"DEBUG"}`)))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT on a fixed level: %d %s", rec.Code, rec.Body)
	}
}
