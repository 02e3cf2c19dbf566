package connect

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tributary-io/tributary/config"
)

// idleSource is a source connector class whose tasks read nothing; it
// counts its tasks, a task's Start fails while failStart is set, and its
// Stop waits on hold while that is not nil.
type idleSource struct {
	starts, live atomic.Int64
	failStart    atomic.Bool
	hold         atomic.Pointer[chan struct{}]
}

func (s *idleSource) plugin() Plugin {
	return Plugin{Class: "test.Idle", Type: Source, Def: SourceDef("test.Idle"), New: func() Connector { return &idleConnector{s: s} }}
}

type idleConnector struct {
	s   *idleSource
	cfg *config.Values
}

func (c *idleConnector) Start(_ context.Context, cfg *config.Values) error { c.cfg = cfg; return nil }
func (c *idleConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.cfg.Originals()}, nil
}
func (c *idleConnector) Stop() error         { return nil }
func (c *idleConnector) NewTask() SourceTask { return &idleTask{s: c.s} }
func (t *idleTask) Start(context.Context, *SourceTaskContext) error {
	if t.s.failStart.Load() {
		return errors.New("start failed on purpose")
	}
	t.s.starts.Add(1)
	t.s.live.Add(1)
	return nil
}

type idleTask struct{ s *idleSource }

func (t *idleTask) Poll(ctx context.Context) ([]SourceRecord, error) {
	<-ctx.Done()
	return nil, nil
}

func (t *idleTask) Stop() error {
	if h := t.s.hold.Load(); h != nil {
		<-*h
	}
	t.s.live.Add(-1)
	return nil
}

// idleWorker is a worker that is never started (no cluster is needed by
// idle tasks) running one idle connector named name.
func idleWorker(t *testing.T, s *idleSource, name string) *Worker {
	t.Helper()
	dir := t.TempDir()
	vals, err := WorkerDef().Parse(config.FromMap(filepath.Join(dir, "worker.properties"), map[string]string{
		"bootstrap.servers":            "127.0.0.1:1",
		"offset.storage.file.filename": filepath.Join(dir, "connect.offsets"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseWorkerConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	reg := NewRegistry()
	if err := reg.Register(s.plugin()); err != nil {
		t.Fatal(err)
	}
	w, err := NewWorker(cfg, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	if err := w.StartConnector(context.Background(), idleProps(name)); err != nil {
		t.Fatal(err)
	}
	return w
}

func idleProps(name string) *config.Props {
	return config.FromMap(name+".properties", map[string]string{"name": name, "connector.class": "test.Idle"})
}

// TestLifecycleAfterClose: once Close has returned, the lifecycle requests
// (stop, and the creations, reconfigurations and deletions included)
// answer 409 with Kafka Connect's error shape, and neither they nor
// StartConnector start anything.
func TestLifecycleAfterClose(t *testing.T) {
	var s idleSource
	w := idleWorker(t, &s, "idle")
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.cfg.RESTWrites = true
	h := w.restHandler()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/connectors/idle/restart?includeTasks=true", ""},
		{"POST", "/connectors/idle/tasks/0/restart", ""},
		{"PUT", "/connectors/idle/pause", ""},
		{"PUT", "/connectors/idle/resume", ""},
		{"PUT", "/connectors/idle/stop", ""},
		{"POST", "/connectors", `{"name":"late","config":{"connector.class":"test.Idle"}}`},
		{"PUT", "/connectors/late/config", `{"connector.class":"test.Idle"}`},
		{"PUT", "/connectors/idle/config", `{"connector.class":"test.Idle"}`},
		{"DELETE", "/connectors/idle", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
		var e restError
		if rec.Code != http.StatusConflict || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.ErrorCode != 409 || e.Message == "" {
			t.Errorf("%s %s after Close: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
	}
	if err := w.StartConnector(context.Background(), idleProps("late")); !errors.Is(err, ErrWorkerClosing) {
		t.Errorf("StartConnector after Close: %v", err)
	}
	if w.connector("late") != nil {
		t.Error("a connector refused after Close is still listed")
	}
	if s.starts.Load() != 1 || s.live.Load() != 0 {
		t.Errorf("tasks started %d, live %d; want 1 and 0", s.starts.Load(), s.live.Load())
	}
}

// TestLifecycleTaskStartTwice: starting a task whose goroutine still runs
// is refused, also when its stop gave up waiting; once the goroutine has
// ended the task starts again.
func TestLifecycleTaskStartTwice(t *testing.T) {
	var s idleSource
	w := idleWorker(t, &s, "idle")
	c := w.connector("idle")
	c.life.Lock()
	defer c.life.Unlock()
	task := c.task(0)
	if err := task.start(context.Background()); err == nil {
		t.Fatal("a running task started again")
	}
	hold := make(chan struct{})
	s.hold.Store(&hold)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	if task.stop(expired) {
		t.Fatal("stop reports the task stopped while its Stop still waits")
	}
	if err := task.start(context.Background()); err == nil {
		t.Fatal("a task still stopping started again")
	}
	close(hold)
	if !task.stop(context.Background()) {
		t.Fatal("stop did not wait for the task")
	}
	if err := task.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.starts.Load() != 2 || s.live.Load() != 1 {
		t.Errorf("tasks started %d, live %d; want 2 and 1", s.starts.Load(), s.live.Load())
	}
}

// TestLifecycleRestartFailedTask: concurrent restart?onlyFailed requests
// start a failed task once; the later ones find it running.
func TestLifecycleRestartFailedTask(t *testing.T) {
	var s idleSource
	w := idleWorker(t, &s, "idle")
	c := w.connector("idle")
	s.failStart.Store(true)
	if err := c.restart(context.Background(), true, false); err != nil {
		t.Fatal(err)
	}
	if st := c.task(0).stateOf(); st != StateFailed || s.live.Load() != 0 {
		t.Fatalf("task state %s, live %d; want FAILED and 0", st, s.live.Load())
	}
	s.failStart.Store(false)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { // owned by the test: waited for below
			defer wg.Done()
			if err := c.restart(context.Background(), true, true); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := c.task(0).stateOf(); st != StateRunning || s.starts.Load() != 2 || s.live.Load() != 1 {
		t.Errorf("after the restarts: state %s, tasks started %d, live %d; want RUNNING, 2, 1", st, s.starts.Load(), s.live.Load())
	}
}

// TestLifecycleReplacedConnector: a reconfiguration replaces the
// connector's runtime (the old one's tasks stopped first) and a deletion
// stops it for good; a request that found the old runtime is refused with
// 409, and nothing of it starts again.
func TestLifecycleReplacedConnector(t *testing.T) {
	var s idleSource
	w := idleWorker(t, &s, "idle")
	ctx := context.Background()
	old := w.connector("idle")
	c, created, err := w.putConnector(ctx, idleProps("idle"), true)
	if err != nil || created || c == nil || c == old || w.connector("idle") != c {
		t.Fatalf("reconfigure: %v created %v", err, created)
	}
	if s.starts.Load() != 2 || s.live.Load() != 1 {
		t.Fatalf("after reconfiguring: tasks started %d, live %d; want 2 and 1", s.starts.Load(), s.live.Load())
	}
	if _, _, err := w.putConnector(ctx, idleProps("idle"), false); !errors.Is(err, errConnectorExists) {
		t.Errorf("create of a taken name: %v", err)
	}
	for _, op := range []func(context.Context) error{old.pause, old.resume, old.halt, func(ctx context.Context) error { return old.restart(ctx, true, false) }} {
		err := op(ctx)
		rec := httptest.NewRecorder()
		writeLifecycleError(rec, "pause connector idle", err)
		if !errors.Is(err, errConnectorGone) || rec.Code != http.StatusConflict {
			t.Errorf("a request to the replaced runtime: %v, %d", err, rec.Code)
		}
	}
	if err := w.deleteConnector(ctx, "idle"); err != nil {
		t.Fatal(err)
	}
	if err := w.deleteConnector(ctx, "idle"); !errors.Is(err, errNoConnector) {
		t.Errorf("second delete: %v", err)
	}
	if err := c.resume(ctx); !errors.Is(err, errConnectorGone) {
		t.Errorf("resume of a deleted connector: %v", err)
	}
	if w.connector("idle") != nil || len(w.connectorList()) != 0 || s.starts.Load() != 2 || s.live.Load() != 0 {
		t.Errorf("after delete: listed %v, tasks started %d, live %d", w.connectorList(), s.starts.Load(), s.live.Load())
	}
}
