package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tributary-io/tributary/config"
)

// ErrWorkerClosing refuses a lifecycle request (start, restart, pause,
// resume) once the worker has begun to close; REST answers it with 409.
var ErrWorkerClosing = errors.New("connect: the worker is shutting down")

// errConnectorGone refuses a lifecycle request to a connector that was
// deleted or reconfigured (replaced) since the request found it.
var errConnectorGone = errors.New("connect: the connector was deleted or reconfigured meanwhile")

// connectorRuntime is one running connector.
//
// life serialises its lifecycle: start, restart, pause, resume, task restart
// and the worker's final stop each hold it from beginning to end, so no two
// of them interleave, no task is started while it still runs and the
// connector instance is stopped once. mu guards the fields that status
// reads; it is held only briefly and never while waiting, so status answers
// during a long restart.
type connectorRuntime struct {
	w    *Worker
	spec *connectorSpec
	log  *slog.Logger

	life    sync.Mutex
	stopped bool // guarded by life: stopped for good; nothing starts again
	halted  bool // guarded by life: STOPPED over REST (KIP-875) until resumed

	quitOnce sync.Once
	quitCtx  context.Context // cancelled when the worker begins to stop the connector
	quit     context.CancelFunc

	mu          sync.Mutex
	conn        Connector
	state       string
	trace       string
	paused      bool
	taskConfigs []map[string]string
	tasks       []*taskRuntime

	prog progressState // used by the worker's progress loop only
}

// quitContext is cancelled when the worker begins to stop the connector:
// it ends the lifecycle operation in progress, so that the stop need not
// wait for all of it.
func (c *connectorRuntime) quitContext() context.Context {
	c.quitOnce.Do(func() { c.quitCtx, c.quit = context.WithCancel(context.Background()) })
	return c.quitCtx
}

// lock takes the lifecycle lock for one operation. The operation runs with
// the returned context, which ends with parent or when the worker begins to
// stop the connector, and calls release at its end. Once the worker is
// closing, lock refuses with ErrWorkerClosing.
func (c *connectorRuntime) lock(parent context.Context) (ctx context.Context, release func(), err error) {
	if c.w.closing.Load() {
		return nil, nil, ErrWorkerClosing
	}
	c.life.Lock()
	if c.w.closing.Load() {
		c.life.Unlock()
		return nil, nil, ErrWorkerClosing
	}
	if c.stopped { // deleted or reconfigured over REST meanwhile
		c.life.Unlock()
		return nil, nil, errConnectorGone
	}
	ctx, cancel := context.WithCancel(parent)
	unhook := context.AfterFunc(c.quitContext(), cancel)
	return ctx, func() {
		unhook()
		cancel()
		c.life.Unlock()
	}, nil
}

// lockForStop cancels the operation in progress, takes the lifecycle lock
// and marks the connector stopped for good; the caller unlocks c.life.
func (c *connectorRuntime) lockForStop() {
	c.quitContext()
	c.quit()
	c.life.Lock()
	c.stopped = true
}

// start starts the connector and its tasks. An error leaves nothing of it
// running, and the connector stopped for good.
func (c *connectorRuntime) start(ctx context.Context) error {
	ctx, release, err := c.lock(ctx)
	if err != nil {
		return fmt.Errorf("connector %s (%s): %w", c.spec.name, c.spec.source, err)
	}
	defer release()
	var failed *TasksFailedError
	if err := c.startLocked(ctx); errors.As(err, &failed) {
		return err // running, with failed tasks
	} else if err != nil {
		c.stopTasksLocked(context.Background())
		c.stopConnLocked()
		c.stopped = true
		return err
	}
	return nil
}

func (c *connectorRuntime) startLocked(ctx context.Context) error {
	conn := c.spec.plugin.New()
	if err := conn.Start(ctx, c.spec.vals); err != nil {
		c.setState(StateFailed, err)
		return fmt.Errorf("connector %s (%s): %w", c.spec.name, c.spec.source, err)
	}
	cfgs, err := conn.TaskConfigs(c.spec.vals.Int("tasks.max"))
	if err != nil {
		c.stopConn(conn)
		c.setState(StateFailed, err)
		return fmt.Errorf("connector %s (%s): %w", c.spec.name, c.spec.source, err)
	}
	c.mu.Lock()
	c.conn = conn
	c.state = StateRunning
	c.taskConfigs = cfgs
	c.mu.Unlock()
	var failed TasksFailedError
	for i, tc := range cfgs {
		runtimeLogger := sourceTaskLoggerName
		if c.spec.plugin.Type == Sink {
			runtimeLogger = sinkTaskLoggerName
		}
		t := &taskRuntime{c: c, id: i, cfg: tc, log: c.w.namedLogger(c.log, runtimeLogger).With("task", i), gate: newGate(), state: StateUnassigned}
		c.mu.Lock()
		c.tasks = append(c.tasks, t)
		c.mu.Unlock()
		if err := t.start(ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("connector %s (%s): task %d: %w", c.spec.name, c.spec.source, i, err)
			}
			// The task is FAILED (t.start said why); the others run.
			failed.Connector, failed.Source, failed.Total = c.spec.name, c.spec.source, len(cfgs)
			failed.Tasks = append(failed.Tasks, i)
			failed.Errs = append(failed.Errs, err)
		}
	}
	c.log.Info("connector started", "class", c.spec.plugin.Class, "tasks", len(cfgs), "failed_tasks", len(failed.Tasks), "file", c.spec.source)
	if len(failed.Tasks) > 0 {
		return &failed
	}
	return nil
}

// TasksFailedError says that a connector started but some of its tasks
// failed to: those are FAILED (restartable over REST) and the connector
// and its other tasks run.
type TasksFailedError struct {
	Connector, Source string
	Total             int   // tasks of the connector
	Tasks             []int // the failed ones
	Errs              []error
}

func (e *TasksFailedError) Error() string {
	var b strings.Builder
	for i, err := range e.Errs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "connector %s (%s): task %d failed to start: %v", e.Connector, e.Source, e.Tasks[i], err)
	}
	return b.String()
}

func (e *TasksFailedError) Unwrap() []error { return e.Errs }

// AllFailed reports whether every task of the connector failed.
func (e *TasksFailedError) AllFailed() bool { return len(e.Tasks) == e.Total }

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

// stopTasks stops the tasks for good (the worker is closing): an operation
// in progress is cancelled and waited for, and none runs afterwards.
func (c *connectorRuntime) stopTasks(ctx context.Context) {
	c.lockForStop()
	defer c.life.Unlock()
	c.stopTasksLocked(ctx)
}

// stop stops the tasks and then the connector, for good. It may be called
// more than once; the connector instance is stopped once. It reports
// whether no task runs any more (false when ctx ended first).
func (c *connectorRuntime) stop(ctx context.Context) bool {
	c.lockForStop()
	defer c.life.Unlock()
	ok := c.stopTasksLocked(ctx)
	c.stopConnLocked()
	return ok
}

// stopTasksLocked stops every task and waits for them; c.life is held. It
// reports whether every task stopped before ctx ended.
func (c *connectorRuntime) stopTasksLocked(ctx context.Context) bool {
	var wg sync.WaitGroup
	var late atomic.Bool
	for _, t := range c.taskList() {
		wg.Add(1)
		go func() { // owned by stopTasksLocked: waited for below
			defer wg.Done()
			if !t.stop(ctx) {
				late.Store(true)
			}
		}()
	}
	wg.Wait()
	return !late.Load()
}

// stopConnLocked stops the connector instance, if one runs; c.life is held.
func (c *connectorRuntime) stopConnLocked() {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		c.stopConn(conn)
	}
}

func (c *connectorRuntime) stopConn(conn Connector) {
	if err := conn.Stop(); err != nil {
		c.log.Warn("stopping connector", "err", err)
	}
}

func (c *connectorRuntime) pause(ctx context.Context) error {
	ctx, release, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	if c.halted {
		return c.unhaltLocked(ctx, true)
	}
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
	return nil
}

func (c *connectorRuntime) resume(ctx context.Context) error {
	ctx, release, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	if c.halted {
		return c.unhaltLocked(ctx, false)
	}
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
	return nil
}

// halt stops the connector and its tasks and keeps its configuration: its
// state is STOPPED and it has no tasks until pause or resume starts it
// again (Kafka's PUT /connectors/{name}/stop, KIP-875). Tasks flush and
// commit as on shutdown. Halting a STOPPED connector does nothing.
func (c *connectorRuntime) halt(ctx context.Context) error {
	ctx, release, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	if c.halted {
		return nil
	}
	if !c.stopTasksLocked(ctx) {
		return fmt.Errorf("connector %s: its tasks did not stop in time", c.spec.name)
	}
	c.stopConnLocked()
	c.halted = true
	c.mu.Lock()
	c.paused = false
	c.state = StateStopped
	c.trace = ""
	c.tasks = nil
	c.taskConfigs = nil
	c.mu.Unlock()
	c.log.Info("connector stopped; resume starts it again")
	return nil
}

// unhaltLocked starts a STOPPED connector and its tasks again, paused when
// paused; c.life is held. When the connector fails to start it stays
// without tasks, FAILED, and a later resume tries again; tasks that fail
// to start are FAILED and the others run.
func (c *connectorRuntime) unhaltLocked(ctx context.Context, paused bool) error {
	c.mu.Lock()
	c.paused = paused
	c.mu.Unlock()
	var failed *TasksFailedError
	if err := c.startLocked(ctx); err != nil && !errors.As(err, &failed) {
		c.stopTasksLocked(context.Background())
		c.stopConnLocked()
		c.setState(StateFailed, err)
		c.mu.Lock()
		c.tasks = nil
		c.taskConfigs = nil
		c.mu.Unlock()
		return err
	}
	c.halted = false
	c.mu.Lock()
	if paused && c.state == StateRunning {
		c.state = StatePaused
	}
	c.mu.Unlock()
	c.log.Info("connector started again", "paused", paused)
	return nil
}

// restart restarts the connector instance and, when includeTasks, its tasks
// (only the failed ones when onlyFailed).
func (c *connectorRuntime) restart(ctx context.Context, includeTasks, onlyFailed bool) error {
	ctx, release, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	if c.halted {
		return nil // a STOPPED connector stays stopped until resumed
	}
	c.mu.Lock()
	failed := c.state == StateFailed
	c.mu.Unlock()
	if !onlyFailed || failed {
		c.stopConnLocked()
		nc := c.spec.plugin.New()
		if err := nc.Start(ctx, c.spec.vals); err != nil {
			c.setState(StateFailed, err)
			return fmt.Errorf("connector %s (%s): %w", c.spec.name, c.spec.source, err)
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
		if err := t.restart(ctx); err != nil {
			c.log.Error("restarting task failed", "task", t.id, "err", err)
		}
	}
	return nil
}

// task returns the task with id, or nil.
func (c *connectorRuntime) task(id int) *taskRuntime {
	for _, t := range c.taskList() {
		if t.id == id {
			return t
		}
	}
	return nil
}

// errNoTask says that a connector has no task of the id asked for (it may
// have been stopped meanwhile).
var errNoTask = errors.New("connect: no such task")

// restartTask restarts the task id.
func (c *connectorRuntime) restartTask(ctx context.Context, id int) error {
	ctx, release, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	t := c.task(id) // now, under the lock: a stop may have come first
	if t == nil {
		return errNoTask
	}
	return t.restart(ctx)
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

// restart stops the task, waits for its goroutine, and starts it again;
// c.life is held.
func (t *taskRuntime) restart(ctx context.Context) error {
	if !t.stop(ctx) {
		return fmt.Errorf("task %d did not stop in time; not started again", t.id)
	}
	return t.start(ctx)
}

// start creates the task, starts it (errors are returned) and starts the
// goroutine that runs it; c.life is held. A task whose goroutine still runs
// is not started again.
func (t *taskRuntime) start(ctx context.Context) error {
	c := t.c
	t.mu.Lock()
	if t.done != nil {
		select {
		case <-t.done: // ended on its own (failed): nothing runs
			t.cancel()
			t.cancel, t.done = nil, nil
		default:
			t.mu.Unlock()
			return fmt.Errorf("task %d is still running", t.id)
		}
	}
	t.mu.Unlock()
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
	if connector == nil {
		cancel()
		return fmt.Errorf("connector %s is not running", c.spec.name)
	}
	switch conn := connector.(type) {
	case SourceConnector:
		task := conn.NewTask()
		tc := &SourceTaskContext{
			Connector: c.spec.name, Task: t.id, Config: vals, Log: c.w.namedLogger(t.log, c.spec.plugin.TaskClass),
			offsets: func(p map[string]any) (SourceOffset, bool, error) {
				return c.w.offsets.SourceOffset(c.spec.name, p)
			},
			stored: func() []map[string]any {
				var out []map[string]any
				for _, e := range c.w.offsets.Entries(c.spec.name) {
					var p map[string]any
					if json.Unmarshal(e.Partition, &p) == nil {
						out = append(out, p)
					}
				}
				return out
			},
		}
		pc := newProducedCache()
		if positionHeaders(c.spec.vals) {
			tc.produced = func(ctx context.Context, topic string, p *SourcePartition, from SourceOffset) (int64, error) {
				return c.w.produced(ctx, topic, p, from, c, pc)
			}
		} else if t.id == 0 {
			t.log.Info("position.headers=false: records carry no position headers; after a crash, lines sent since the last offset flush are sent again")
		}
		err := task.Start(ctx, tc)
		pc.stop()
		if err != nil {
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
		tc := &SinkTaskContext{Connector: c.spec.name, Task: t.id, Config: vals, Log: c.w.namedLogger(t.log, c.spec.plugin.TaskClass)}
		if err := task.Start(ctx, tc); err != nil {
			cancel()
			t.fail(err)
			return err
		}
		r, err := newSinkRunner(ctx, t, task)
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
// commits and stops the task). It reports whether no goroutine of the task
// runs any more: when ctx ends first, the goroutine stays recorded, so that
// start refuses and a later stop waits for it again.
func (t *taskRuntime) stop(ctx context.Context) bool {
	t.mu.Lock()
	cancel, done := t.cancel, t.done
	t.mu.Unlock()
	if done == nil {
		return true
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		t.log.Warn("task did not stop in time")
		return false
	}
	t.mu.Lock()
	if t.done == done {
		t.cancel, t.done = nil, nil
	}
	if t.state != StateFailed {
		t.state = StateUnassigned
	}
	t.mu.Unlock()
	return true
}

// TaskProgress is what status reports about a task's traffic.
type TaskProgress struct {
	Records       int64   `json:"records"`
	RecordsPerSec float64 `json:"records_per_second"`
	Bytes         int64   `json:"bytes"`
	ReadBytes     *int64  `json:"read_bytes,omitempty"`
	SizeBytes     *int64  `json:"size_bytes,omitempty"`
	Acknowledged  *int64  `json:"acknowledged,omitempty"`
	// Oversized: the source's input units longer than its limit (lines
	// over max.line.bytes), by what was done with them.
	Oversized *Oversized `json:"oversized,omitempty"`
	Lag       *int64     `json:"lag,omitempty"`
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
			if pr.Oversized != (Oversized{}) {
				p.Oversized = &pr.Oversized
			}
		}
	} else {
		l := t.stats.lag.Load()
		p.Lag = &l
	}
	return p
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
