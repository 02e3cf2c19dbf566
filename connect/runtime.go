package connect

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/config"
)

// connectorRuntime is one running connector; its mutex guards the state,
// the connector instance and the task list.
type connectorRuntime struct {
	w    *Worker
	spec *connectorSpec
	log  *slog.Logger

	mu          sync.Mutex
	conn        Connector
	state       string
	trace       string
	paused      bool
	taskConfigs []map[string]string
	tasks       []*taskRuntime
}

func (c *connectorRuntime) start(ctx context.Context) error {
	conn := c.spec.plugin.New()
	if err := conn.Start(ctx, c.spec.vals); err != nil {
		c.setState(StateFailed, err)
		return fmt.Errorf("connector %s (%s): %w", c.spec.name, c.spec.source, err)
	}
	cfgs, err := conn.TaskConfigs(c.spec.vals.Int("tasks.max"))
	if err != nil {
		conn.Stop()
		return fmt.Errorf("connector %s (%s): %w", c.spec.name, c.spec.source, err)
	}
	c.mu.Lock()
	c.conn = conn
	c.state = StateRunning
	c.taskConfigs = cfgs
	c.mu.Unlock()
	for i, tc := range cfgs {
		t := &taskRuntime{c: c, id: i, cfg: tc, log: c.log.With("task", i), gate: newGate()}
		c.mu.Lock()
		c.tasks = append(c.tasks, t)
		c.mu.Unlock()
		if err := t.start(ctx); err != nil {
			return fmt.Errorf("connector %s (%s): task %d: %w", c.spec.name, c.spec.source, i, err)
		}
	}
	c.log.Info("connector started", "class", c.spec.plugin.Class, "tasks", len(cfgs), "file", c.spec.source)
	return nil
}

func (c *connectorRuntime) setState(state string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = state
	c.trace = ""
	if err != nil {
		c.trace = traceOf(err)
	}
}

func traceOf(err error) string {
	return err.Error() + "\n" + string(debug.Stack())
}

func (c *connectorRuntime) taskList() []*taskRuntime {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*taskRuntime(nil), c.tasks...)
}

func (c *connectorRuntime) stopTasks(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range c.taskList() {
		wg.Add(1)
		go func() { // owned by stopTasks: waited for below
			defer wg.Done()
			t.stop(ctx)
		}()
	}
	wg.Wait()
}

// stop stops the tasks and then the connector.
func (c *connectorRuntime) stop(ctx context.Context) {
	c.stopTasks(ctx)
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		if err := conn.Stop(); err != nil {
			c.log.Warn("stopping connector", "err", err)
		}
	}
}

func (c *connectorRuntime) pause() {
	c.mu.Lock()
	c.paused = true
	if c.state == StateRunning {
		c.state = StatePaused
	}
	c.mu.Unlock()
	for _, t := range c.taskList() {
		t.gate.pause()
	}
	c.log.Info("connector paused")
}

func (c *connectorRuntime) resume() {
	c.mu.Lock()
	c.paused = false
	if c.state == StatePaused {
		c.state = StateRunning
	}
	c.mu.Unlock()
	for _, t := range c.taskList() {
		t.gate.resume()
	}
	c.log.Info("connector resumed")
}

// restart restarts the connector instance and, when includeTasks, its tasks
// (only the failed ones when onlyFailed).
func (c *connectorRuntime) restart(ctx context.Context, includeTasks, onlyFailed bool) error {
	c.mu.Lock()
	failed := c.state == StateFailed
	conn := c.conn
	c.mu.Unlock()
	if !onlyFailed || failed {
		if conn != nil {
			conn.Stop()
		}
		nc := c.spec.plugin.New()
		if err := nc.Start(ctx, c.spec.vals); err != nil {
			c.setState(StateFailed, err)
			return err
		}
		c.mu.Lock()
		c.conn = nc
		c.state = StateRunning
		if c.paused {
			c.state = StatePaused
		}
		c.trace = ""
		c.mu.Unlock()
	}
	if !includeTasks {
		return nil
	}
	for _, t := range c.taskList() {
		if onlyFailed && t.stateOf() != StateFailed {
			continue
		}
		t.stop(ctx)
		if err := t.start(ctx); err != nil {
			c.log.Error("restarting task failed", "task", t.id, "err", err)
		}
	}
	return nil
}

// taskRuntime is one task of a connector and the goroutine that runs it.
type taskRuntime struct {
	c    *connectorRuntime
	id   int
	cfg  map[string]string
	log  *slog.Logger
	gate *gate

	mu     sync.Mutex // guards the fields below
	state  string
	trace  string
	cancel context.CancelFunc
	done   chan struct{}
	report func() Progress

	stats taskStats
}

// taskStats are counted by the task's loop and read by status and the
// progress log.
type taskStats struct {
	records  atomic.Int64 // read (source) or written (sink)
	bytes    atomic.Int64
	acked    atomic.Int64 // source: acknowledged by the cluster
	lag      atomic.Int64 // sink: records behind the partitions' ends
	lastRecs atomic.Int64 // records at the last progress tick
	rate     atomic.Uint64
}

func (t *taskRuntime) stateOf() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

func (t *taskRuntime) fail(err error) {
	t.mu.Lock()
	t.state = StateFailed
	t.trace = traceOf(err)
	t.mu.Unlock()
	t.log.Error("task failed", "err", err)
}

// start creates the task, starts it (errors are returned) and starts the
// goroutine that runs it.
func (t *taskRuntime) start(ctx context.Context) error {
	c := t.c
	vals, err := c.spec.plugin.Def.Parse(config.FromMap(c.spec.source, t.cfg))
	if err != nil {
		t.fail(err)
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var run func()
	c.mu.Lock()
	connector := c.conn
	c.mu.Unlock()
	switch conn := connector.(type) {
	case SourceConnector:
		task := conn.NewTask()
		tc := &SourceTaskContext{
			Connector: c.spec.name, Task: t.id, Config: vals, Log: t.log,
			offsets: func(p map[string]any) (SourceOffset, bool, error) {
				return c.w.offsets.SourceOffset(c.spec.name, p)
			},
			lastProduced: func(ctx context.Context, topic string, p *SourcePartition) (int64, bool, error) {
				return c.w.lastProduced(ctx, topic, p, c)
			},
		}
		if err := task.Start(ctx, tc); err != nil {
			cancel()
			t.fail(err)
			return err
		}
		r := newSourceRunner(t, task)
		run = func() { r.run(runCtx) }
		if pr, ok := task.(ProgressReporter); ok {
			t.setReport(pr.Progress)
		}
	case SinkConnector:
		task := conn.NewTask()
		tc := &SinkTaskContext{Connector: c.spec.name, Task: t.id, Config: vals, Log: t.log}
		if err := task.Start(ctx, tc); err != nil {
			cancel()
			t.fail(err)
			return err
		}
		r, err := newSinkRunner(t, task)
		if err != nil {
			task.Stop()
			cancel()
			t.fail(err)
			return err
		}
		run = func() { r.run(runCtx) }
	default:
		cancel()
		return fmt.Errorf("connector class %s makes no tasks", c.spec.plugin.Class)
	}
	t.mu.Lock()
	t.state = StateRunning
	t.trace = ""
	t.cancel = cancel
	t.done = done
	t.mu.Unlock()
	c.mu.Lock()
	if c.paused {
		t.gate.pause()
	}
	c.mu.Unlock()
	go func() { // owned by t.stop: cancel, then wait for done
		defer close(done)
		run()
	}()
	return nil
}

func (t *taskRuntime) setReport(f func() Progress) {
	t.mu.Lock()
	t.report = f
	t.mu.Unlock()
}

// stop cancels the task's loop and waits for it (the loop itself flushes,
// commits and stops the task).
func (t *taskRuntime) stop(ctx context.Context) {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.cancel, t.done = nil, nil
	t.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		t.log.Warn("task did not stop in time")
	}
	t.mu.Lock()
	if t.state != StateFailed {
		t.state = StateUnassigned
	}
	t.mu.Unlock()
}

// TaskProgress is what status reports about a task's traffic.
type TaskProgress struct {
	Records       int64   `json:"records"`
	RecordsPerSec float64 `json:"records_per_second"`
	Bytes         int64   `json:"bytes"`
	ReadBytes     *int64  `json:"read_bytes,omitempty"`
	SizeBytes     *int64  `json:"size_bytes,omitempty"`
	Acknowledged  *int64  `json:"acknowledged,omitempty"`
	Lag           *int64  `json:"lag,omitempty"`
}

func (t *taskRuntime) progress() TaskProgress {
	p := TaskProgress{
		Records:       t.stats.records.Load(),
		Bytes:         t.stats.bytes.Load(),
		RecordsPerSec: math.Float64frombits(t.stats.rate.Load()),
	}
	if t.c.spec.plugin.Type == Source {
		a := t.stats.acked.Load()
		p.Acknowledged = &a
		t.mu.Lock()
		report := t.report
		t.mu.Unlock()
		if report != nil {
			pr := report()
			p.ReadBytes, p.SizeBytes = &pr.ReadBytes, &pr.SizeBytes
		}
	} else {
		l := t.stats.lag.Load()
		p.Lag = &l
	}
	return p
}

// logProgress updates the rates and logs one line when there was traffic
// since the last tick.
func (c *connectorRuntime) logProgress(every time.Duration) {
	var recs, delta int64
	var readB, sizeB, lag int64
	var haveRead bool
	for _, t := range c.taskList() {
		n := t.stats.records.Load()
		d := n - t.stats.lastRecs.Swap(n)
		t.stats.rate.Store(math.Float64bits(float64(d) / every.Seconds()))
		recs += n
		delta += d
		p := t.progress()
		if p.ReadBytes != nil {
			readB += *p.ReadBytes
			sizeB += *p.SizeBytes
			haveRead = true
		}
		if p.Lag != nil {
			lag += *p.Lag
		}
	}
	if delta == 0 && lag == 0 && (!haveRead || readB >= sizeB) {
		return
	}
	args := []any{"records", recs, "lines_per_sec", strconv.FormatFloat(float64(delta)/every.Seconds(), 'f', 1, 64)}
	if haveRead {
		args = append(args, "read_bytes", readB, "size_bytes", sizeB)
		if sizeB > 0 && readB < sizeB {
			args = append(args, "read_percent", strconv.FormatFloat(100*float64(readB)/float64(sizeB), 'f', 1, 64))
		}
	}
	if c.spec.plugin.Type == Sink {
		args = append(args, "lag_records", lag)
	}
	c.log.Info("progress", args...)
}

// gate lets a task's loop run, or holds it while the task is paused. Each
// running period has a context that pause cancels, so a blocked Poll
// returns at once.
type gate struct {
	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed on resume; replaced on pause
	cancel  context.CancelFunc
}

func newGate() *gate {
	ch := make(chan struct{})
	close(ch)
	return &gate{resumed: ch}
}

func (g *gate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused {
		return
	}
	g.paused = true
	g.resumed = make(chan struct{})
	if g.cancel != nil {
		g.cancel()
	}
}

func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused {
		return
	}
	g.paused = false
	close(g.resumed)
}

// wait blocks while paused; it returns a context for the running period
// (with its cancel function), or ok false when ctx is done.
func (g *gate) wait(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	for {
		g.mu.Lock()
		paused, ch := g.paused, g.resumed
		if !paused {
			pctx, cancel := context.WithCancel(ctx)
			g.cancel = cancel
			g.mu.Unlock()
			return pctx, cancel, true
		}
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, nil, false
		case <-ch:
		}
	}
}

func (g *gate) isPaused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}
