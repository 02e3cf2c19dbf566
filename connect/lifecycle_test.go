package connect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-io/tributary/broker/brokertest"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connectors/filesink"
	"github.com/tributary-io/tributary/connectors/filesource"
)

// The lifecycle tests drive a worker's REST API concurrently against the
// bundled broker over TCP (the connect package itself never imports it;
// only these tests do) and count, through wrappers around the connector
// classes, how many connector instances and tasks run at any time.

// startBundledBroker starts the bundled broker on a free port of 127.0.0.1
// with its data in t.TempDir(), and returns its address.
func startBundledBroker(t testing.TB) string {
	t.Helper()
	return startBundledBrokerWith(t)
}

// startBundledBrokerWith is startBundledBroker with further server
// properties, key=value, which replace the defaults.
func startBundledBrokerWith(t testing.TB, extra ...string) string {
	t.Helper()
	return brokertest.Start(t, extra...).Addr()
}

// lifeCounts counts one connector class's instances and tasks.
type lifeCounts struct {
	connStarts   atomic.Int64 // connector instances started
	connStops    atomic.Int64 // connector instances stopped
	connReStops  atomic.Int64 // Stop called again on a stopped instance
	taskStarts   atomic.Int64
	taskLive     atomic.Int64 // started and not yet stopped
	taskOverlaps atomic.Int64 // a task started while another was live
}

func (lc *lifeCounts) String() string {
	return fmt.Sprintf("connectors started %d stopped %d stopped-again %d; tasks started %d live %d overlapping %d",
		lc.connStarts.Load(), lc.connStops.Load(), lc.connReStops.Load(), lc.taskStarts.Load(), lc.taskLive.Load(), lc.taskOverlaps.Load())
}

func (lc *lifeCounts) taskStarted() {
	lc.taskStarts.Add(1)
	if lc.taskLive.Add(1) > 1 {
		lc.taskOverlaps.Add(1)
	}
}

// countedPlugin wraps p so that lc counts its connectors and tasks.
func countedPlugin(p connect.Plugin, lc *lifeCounts) connect.Plugin {
	inner := p.New
	p.New = func() connect.Connector {
		c := &countedConnector{inner: inner(), lc: lc}
		if p.Type == connect.Source {
			return &countedSourceConnector{c}
		}
		return &countedSinkConnector{c}
	}
	return p
}

type countedConnector struct {
	inner   connect.Connector
	lc      *lifeCounts
	stopped atomic.Bool
}

func (c *countedConnector) Start(ctx context.Context, cfg *config.Values) error {
	if err := c.inner.Start(ctx, cfg); err != nil {
		return err
	}
	c.lc.connStarts.Add(1)
	return nil
}

func (c *countedConnector) TaskConfigs(n int) ([]map[string]string, error) {
	return c.inner.TaskConfigs(n)
}

func (c *countedConnector) Stop() error {
	if c.stopped.Swap(true) {
		c.lc.connReStops.Add(1)
	} else {
		c.lc.connStops.Add(1)
	}
	return c.inner.Stop()
}

type countedSourceConnector struct{ *countedConnector }

func (c *countedSourceConnector) NewTask() connect.SourceTask {
	return &countedSourceTask{inner: c.inner.(connect.SourceConnector).NewTask(), lc: c.lc}
}

type countedSinkConnector struct{ *countedConnector }

func (c *countedSinkConnector) NewTask() connect.SinkTask {
	return &countedSinkTask{SinkTask: c.inner.(connect.SinkConnector).NewTask(), lc: c.lc}
}

type countedSourceTask struct {
	inner connect.SourceTask
	lc    *lifeCounts
}

func (t *countedSourceTask) Start(ctx context.Context, tc *connect.SourceTaskContext) error {
	if err := t.inner.Start(ctx, tc); err != nil {
		return err
	}
	t.lc.taskStarted()
	return nil
}

func (t *countedSourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	return t.inner.Poll(ctx)
}

func (t *countedSourceTask) Stop() error {
	t.lc.taskLive.Add(-1)
	return t.inner.Stop()
}

func (t *countedSourceTask) Progress() connect.Progress {
	if pr, ok := t.inner.(connect.ProgressReporter); ok {
		return pr.Progress()
	}
	return connect.Progress{}
}

type countedSinkTask struct {
	connect.SinkTask
	lc *lifeCounts
}

func (t *countedSinkTask) Start(ctx context.Context, tc *connect.SinkTaskContext) error {
	if err := t.SinkTask.Start(ctx, tc); err != nil {
		return err
	}
	t.lc.taskStarted()
	return nil
}

func (t *countedSinkTask) Stop() error {
	t.lc.taskLive.Add(-1)
	return t.SinkTask.Stop()
}

// startCountedWorker starts a worker whose registry holds the given plugins.
func startCountedWorker(t *testing.T, reg *connect.Registry, props *config.Props, connectors ...*config.Props) *connect.Worker {
	t.Helper()
	vals, err := connect.WorkerDef().Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := connect.ParseWorkerConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	w, err := connect.NewWorker(cfg, reg, testLogger(t), connect.WithProgressInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	for _, c := range connectors {
		if err := w.StartConnector(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// restClient is an HTTP client of its own, so that its idle connections can
// be closed before goroutines are counted.
type restClient struct {
	tr   *http.Transport
	cl   *http.Client
	base string
}

func newRESTClient(t *testing.T, addr string) *restClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &restClient{tr: tr, cl: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, base: "http://" + addr}
}

// do sends a request; transport errors are returned as status 0.
func (rc *restClient) do(method, path string) (int, []byte, error) {
	req, err := http.NewRequest(method, rc.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := rc.cl.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// workerGoroutines lists the stacks of goroutines of the worker, its
// connectors and its Kafka clients.
func workerGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tributary/connect.") || strings.Contains(g, "tributary/connect/") ||
			strings.Contains(g, "tributary/connectors/") || strings.Contains(g, "franz-go/pkg/kgo.") {
			out = append(out, g)
		}
	}
	return out
}

// taskGoroutines counts the goroutines that run tasks.
func taskGoroutines() int {
	n := 0
	for _, g := range workerGoroutines() {
		if strings.Contains(g, "created by github.com/tributary-io/tributary/connect.(*taskRuntime).start") {
			n++
		}
	}
	return n
}

// waitNoWorkerGoroutines polls until no goroutine of the worker is left.
func waitNoWorkerGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		left := workerGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the worker left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLifecycleConcurrentREST fires concurrent restarts (with and without
// tasks), task restarts, pauses, stops and resumes at a FileStreamSource →
// FileStreamSink pipeline against the bundled broker while lines are
// appended: afterwards each connector runs exactly one task, no two tasks of
// a connector ever ran at once, no connector instance was stopped twice,
// every line reached the sink file exactly once, and Close leaves nothing
// running.
func TestLifecycleConcurrentREST(t *testing.T) {
	addr := startBundledBroker(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	var src, snk lifeCounts
	reg := connect.NewRegistry()
	for _, p := range []connect.Plugin{countedPlugin(filesource.Plugin("test"), &src), countedPlugin(filesink.Plugin("test"), &snk)} {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	want := appendLines(t, in, 0, 500)
	w := startCountedWorker(t, reg, workerProps(addr, dir), sourceProps(dir, in, "life"), sinkProps(dir, out, "life"))
	waitForFile(t, out, want)
	rc := newRESTClient(t, w.RESTAddr())

	type call struct{ method, path string }
	ops := [][]call{
		{{"POST", "/connectors/src/restart?includeTasks=true"}},
		{{"POST", "/connectors/sink/restart?includeTasks=true"}},
		{{"PUT", "/connectors/src/pause"}, {"PUT", "/connectors/src/resume"}},
		{{"PUT", "/connectors/sink/pause"}, {"PUT", "/connectors/sink/resume"}},
		{{"POST", "/connectors/src/tasks/0/restart"}},
		{{"POST", "/connectors/sink/tasks/0/restart"}},
		{{"POST", "/connectors/src/restart"}},
		{{"POST", "/connectors/sink/restart?includeTasks=true&onlyFailed=true"}},
		{{"PUT", "/connectors/src/stop"}, {"PUT", "/connectors/src/resume"}},
		{{"PUT", "/connectors/sink/stop"}, {"PUT", "/connectors/sink/pause"}, {"PUT", "/connectors/sink/resume"}},
	}
	const workers, rounds = 8, 5
	var (
		wg        sync.WaitGroup
		errMu     sync.Mutex
		errs      []string
		lines     = 500
		stormDone = make(chan struct{})
	)
	report := func(format string, args ...any) {
		errMu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		errMu.Unlock()
	}
	for g := range workers {
		wg.Add(1)
		go func() { // owned by the test: waited for below
			defer wg.Done()
			for r := range rounds {
				for _, c := range ops[(g+r)%len(ops)] {
					code, b, err := rc.do(c.method, c.path)
					// A task restart finds no task while a stop holds the
					// connector stopped: 404, as Kafka answers.
					taskGone := code == 404 && strings.Contains(c.path, "/tasks/")
					if err != nil || (code != 202 && code != 204 && !taskGone) {
						report("%s %s: %d %v %s", c.method, c.path, code, err, b)
					}
				}
			}
		}()
	}
	// Status answers throughout.
	var statusWG sync.WaitGroup
	statusWG.Add(1)
	go func() { // owned by the test: stormDone ends it
		defer statusWG.Done()
		for {
			select {
			case <-stormDone:
				return
			default:
			}
			for _, name := range []string{"src", "sink"} {
				if code, b, err := rc.do("GET", "/connectors/"+name+"/status"); err != nil || code != 200 {
					report("status of %s: %d %v %s", name, code, err, b)
				}
			}
		}
	}()
	go func() { // owned by the test: ends with the requests
		wg.Wait()
		close(stormDone)
	}()
	// Lines keep coming while the requests run.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for storming := true; storming; {
		select {
		case <-stormDone:
			storming = false
		case <-tick.C:
			want = append(want, appendLines(t, in, lines, 50)...)
			lines += 50
		}
	}
	statusWG.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	// Leave both running, whatever order the pauses and resumes came in.
	for _, name := range []string{"src", "sink"} {
		if code, b, err := rc.do("PUT", "/connectors/"+name+"/resume"); code != 202 {
			t.Fatalf("resume %s: %d %v %s", name, code, err, b)
		}
	}
	want = append(want, appendLines(t, in, lines, 100)...)
	waitForFile(t, out, want)

	var st status
	getJSON(t, rc.base+"/connectors/src/status", &st)
	if len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Errorf("source status after the requests: %+v", st)
	}
	getJSON(t, rc.base+"/connectors/sink/status", &st)
	if len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Errorf("sink status after the requests: %+v", st)
	}
	if n := taskGoroutines(); n != 2 {
		t.Errorf("%d task goroutines after the requests, want 2 (one per task)", n)
	}
	for name, lc := range map[string]*lifeCounts{"source": &src, "sink": &snk} {
		if lc.taskLive.Load() != 1 || lc.taskOverlaps.Load() != 0 || lc.connReStops.Load() != 0 ||
			lc.connStarts.Load()-lc.connStops.Load() != 1 || lc.taskStarts.Load() < 2 {
			t.Errorf("%s after the requests: %v", name, lc)
		}
	}

	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	for name, lc := range map[string]*lifeCounts{"source": &src, "sink": &snk} {
		if lc.taskLive.Load() != 0 || lc.connReStops.Load() != 0 || lc.connStarts.Load() != lc.connStops.Load() {
			t.Errorf("%s after Close: %v", name, lc)
		}
	}
	rc.tr.CloseIdleConnections()
	waitNoWorkerGoroutines(t)
	t.Logf("source: %v; sink: %v", &src, &snk)
}

// stopHold makes the tasks of blockingPlugin wait in Stop, once armed,
// until released.
type stopHold struct {
	armed    atomic.Bool
	stopping chan struct{} // a task entered Stop while armed
	release  chan struct{}
	once     sync.Once
}

func newStopHold(t *testing.T) *stopHold {
	h := &stopHold{stopping: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(h.let)
	return h
}

func (h *stopHold) let() { h.once.Do(func() { close(h.release) }) }

// blockingPlugin is a source connector class whose tasks read nothing and
// whose task Stop waits while h is armed: it holds the worker inside Close
// for as long as a test needs.
func blockingPlugin(lc *lifeCounts, h *stopHold) connect.Plugin {
	p := connect.Plugin{
		Class: "test.Blocking",
		Type:  connect.Source,
		Def:   connect.SourceDef("test.Blocking"),
		New:   func() connect.Connector { return &blockingConnector{h: h} },
	}
	return countedPlugin(p, lc)
}

type blockingConnector struct {
	h   *stopHold
	cfg *config.Values
}

func (c *blockingConnector) Start(_ context.Context, cfg *config.Values) error {
	c.cfg = cfg
	return nil
}

func (c *blockingConnector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.cfg.Originals()}, nil
}

func (c *blockingConnector) Stop() error { return nil }

func (c *blockingConnector) NewTask() connect.SourceTask { return &blockingTask{h: c.h} }

type blockingTask struct{ h *stopHold }

func (t *blockingTask) Start(context.Context, *connect.SourceTaskContext) error { return nil }

func (t *blockingTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	<-ctx.Done()
	return nil, nil
}

func (t *blockingTask) Stop() error {
	if t.h.armed.Load() {
		t.h.stopping <- struct{}{}
		<-t.h.release
	}
	return nil
}

// TestLifecycleRestartDuringClose: while Close is stopping a task, status
// still answers, and restart, task restart, pause and resume answer 409 with
// Kafka Connect's error shape and start nothing; Close then returns and
// leaves nothing running.
func TestLifecycleRestartDuringClose(t *testing.T) {
	addr := startBundledBroker(t)
	dir := t.TempDir()
	var lc lifeCounts
	h := newStopHold(t)
	reg := connect.NewRegistry()
	if err := reg.Register(blockingPlugin(&lc, h)); err != nil {
		t.Fatal(err)
	}
	blk := config.FromMap(filepath.Join(dir, "blk.properties"), map[string]string{"name": "blk", "connector.class": "test.Blocking"})
	w := startCountedWorker(t, reg, workerProps(addr, dir), blk)
	rc := newRESTClient(t, w.RESTAddr())

	// Before Close a restart with tasks runs.
	if code, b, err := rc.do("POST", "/connectors/blk/restart?includeTasks=true"); code != 202 {
		t.Fatalf("restart before Close: %d %v %s", code, err, b)
	}
	if lc.taskStarts.Load() != 2 || lc.taskLive.Load() != 1 || lc.connStarts.Load() != 2 || lc.connStops.Load() != 1 {
		t.Fatalf("after a restart: %v", &lc)
	}

	h.armed.Store(true)
	closed := make(chan error, 1)
	go func() { closed <- w.Close(context.Background()) }() // owned by the test: closed is received below
	select {
	case <-h.stopping:
	case err := <-closed:
		t.Fatalf("Close returned before stopping the task: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not stop the task")
	}

	// Close holds the connector's lifecycle lock now: reads answer, the
	// lifecycle refuses at once.
	var st status
	getJSON(t, rc.base+"/connectors/blk/status", &st)
	if st.Name != "blk" || len(st.Tasks) != 1 {
		t.Errorf("status during Close: %+v", st)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/connectors/blk/restart?includeTasks=true"},
		{"POST", "/connectors/blk/restart"},
		{"POST", "/connectors/blk/tasks/0/restart"},
		{"PUT", "/connectors/blk/pause"},
		{"PUT", "/connectors/blk/resume"},
		{"PUT", "/connectors/blk/stop"},
	} {
		code, b, err := rc.do(c.method, c.path)
		var e struct {
			ErrorCode int    `json:"error_code"`
			Message   string `json:"message"`
		}
		if err != nil || code != 409 || json.Unmarshal(b, &e) != nil || e.ErrorCode != 409 || !strings.Contains(e.Message, "shutting down") {
			t.Errorf("%s %s during Close: %d %v %s", c.method, c.path, code, err, b)
		}
	}
	h.let()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	if lc.taskStarts.Load() != 2 || lc.taskLive.Load() != 0 || lc.connStarts.Load() != lc.connStops.Load() || lc.connReStops.Load() != 0 {
		t.Errorf("after Close: %v", &lc)
	}
	rc.tr.CloseIdleConnections()
	waitNoWorkerGoroutines(t)
}
