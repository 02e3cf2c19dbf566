package connect

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The worker serves its metrics at GET /metrics on the REST listener, in
// Prometheus's text format, behind the REST API's basic authentication
// (rest.basic.auth.*) and whatever rest.connector.writes.enable says.
//
// Names are Kafka Connect's metric groups as the Prometheus JMX exporter's
// Kafka Connect rules (and Strimzi's, which most Kafka Connect dashboards
// read) name them: kafka_connect_<group without -metrics>_<metric>, dashes
// turned to underscores, with the connector and task labels:
//
//	kafka_connect_worker_connector_count, _task_count
//	kafka_connect_worker_connector_{total,running,paused,failed,unassigned,destroyed,restarting}_task_count{connector}
//	kafka_connect_connector_status{connector,status} 1
//	kafka_connect_connector_connector_class{connector,connector_class} 1 (and _connector_type, _connector_version)
//	kafka_connect_connector_task_status{connector,task,status} 1
//	kafka_connect_connector_task_batch_size_avg, _batch_size_max
//	kafka_connect_connector_task_offset_commit_avg_time_ms, _max_time_ms,
//	  _offset_commit_success_percentage, _offset_commit_failure_percentage (sinks)
//	kafka_connect_source_task_source_record_poll_total, _rate
//	kafka_connect_source_task_source_record_write_total, _rate
//	kafka_connect_source_task_poll_batch_avg_time_ms, _max_time_ms
//	kafka_connect_source_task_source_record_active_count
//	kafka_connect_sink_task_sink_record_read_total, _rate
//	kafka_connect_sink_task_sink_record_send_total, _rate
//	kafka_connect_sink_task_put_batch_avg_time_ms, _max_time_ms
//	kafka_connect_sink_task_offset_commit_completion_total, _rate, _offset_commit_seq_no
//	kafka_connect_task_error_total_record_errors, _total_record_failures,
//	  _total_records_skipped, _total_errors_logged,
//	  _deadletterqueue_produce_requests, _last_error_timestamp
//
// What Kafka counts (the -total metrics) are Prometheus counters, from
// which rate() is the usual way to a rate. Kafka's -rate, -avg and -max
// metrics are gauges computed as Kafka computes them: over two samples
// of 30 seconds (metrics.sample.window.ms and metrics.num.samples at their
// defaults), so that dashboards reading them work; 0 when nothing happened
// in that window. Percentages are over the same window.
//
// Tasks that implement MetricsCollector add metrics of their own (the
// file connectors' per file), with the connector and task labels.

// MetricsCollector is implemented by tasks that have metrics of their own,
// such as a source's position in each file it reads. The worker calls
// Metrics once for each task it starts, after Start, and collects what the
// returned collector reports whenever /metrics is scraped, for as long as
// the task is the connector's. Every metric must carry labels (connector
// and task, with their values) as constant labels, and names should start
// with tributary_<connector type>_. Collect is called from the scrape's
// goroutine, concurrently with the task's own calls.
type MetricsCollector interface {
	Metrics(labels prometheus.Labels) prometheus.Collector
}

// Gatherer returns the worker's metrics, as /metrics serves them.
func (w *Worker) Gatherer() prometheus.Gatherer { return w.metrics.reg }

// Kafka's sampled statistics: samples of sampleSpan, the last numSamples
// of them (metrics.sample.window.ms and metrics.num.samples).
const (
	sampleSpan = 30 * time.Second
	numSamples = 2
)

type sample struct {
	start      time.Time
	count      int64
	sum, max   float64
	hasSamples bool
}

// window is a sampled statistic of recorded values, as Kafka's
// SampledStat: the values of the last numSamples samples count.
type window struct {
	mu      sync.Mutex
	samples [numSamples]sample
	cur     int
}

func (w *window) record(v float64, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &w.samples[w.cur]
	if !s.hasSamples || now.Sub(s.start) >= sampleSpan {
		if s.hasSamples {
			w.cur = (w.cur + 1) % numSamples
			s = &w.samples[w.cur]
		}
		*s = sample{start: now, hasSamples: true}
	}
	s.count++
	s.sum += v
	s.max = max(s.max, v)
}

// stats returns the count, sum and largest value of the live samples, and
// the time they span (at least (numSamples-1)*sampleSpan, as Kafka's Rate).
func (w *window) stats(now time.Time) (count int64, sum, maxV float64, span time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	oldest := now
	for i := range w.samples {
		s := &w.samples[i]
		if !s.hasSamples || now.Sub(s.start) >= numSamples*sampleSpan {
			continue
		}
		count += s.count
		sum += s.sum
		maxV = max(maxV, s.max)
		if s.start.Before(oldest) {
			oldest = s.start
		}
	}
	return count, sum, maxV, max(now.Sub(oldest), (numSamples-1)*sampleSpan)
}

func (w *window) avg(now time.Time) float64 {
	n, sum, _, _ := w.stats(now)
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func (w *window) max(now time.Time) float64 {
	_, _, m, _ := w.stats(now)
	return m
}

// rate is the sum of the values per second.
func (w *window) rate(now time.Time) float64 {
	_, sum, _, span := w.stats(now)
	return sum / span.Seconds()
}

// meter counts events (a -total) and keeps their rate (a -rate).
type meter struct {
	total atomic.Int64
	win   window
}

func (m *meter) mark(n int64) {
	m.total.Add(n)
	m.win.record(float64(n), time.Now())
}

// taskMetrics are what a task's loop counts for the metrics; the rest is
// read from the task's state when scraped.
type taskMetrics struct {
	polled, written meter  // source: records polled, and acknowledged by the cluster
	read, sent      meter  // sink: records fetched, and put
	pollTime        window // source: ms per poll that returned records
	putTime         window // sink: ms per put
	batchSize       window // records per poll or put

	commits     meter  // sink: offset commits that succeeded
	commitTime  window // sink: ms of flush and commit
	commitOK    window // 1 per commit that succeeded, 0 per one that failed
	commitSeq   atomic.Int64
	errors      atomic.Int64 // records that failed in a converter or transformation
	skipped     atomic.Int64 // of those, skipped (errors.tolerance=all)
	logged      atomic.Int64 // of those, logged (errors.log.enable)
	dlqRequests atomic.Int64 // of those, sent to the dead letter queue
	lastError   atomic.Int64 // ms since the epoch of the last, 0 if none

	mu  sync.Mutex
	own prometheus.Collector // the task's own metrics (MetricsCollector); nil: none
}

// workerMetrics holds the tasks' metrics and the registry /metrics serves.
type workerMetrics struct {
	w   *Worker
	reg *prometheus.Registry

	mu    sync.Mutex
	tasks map[*taskRuntime]*taskMetrics
}

func newWorkerMetrics(w *Worker) *workerMetrics {
	m := &workerMetrics{w: w, reg: prometheus.NewRegistry(), tasks: map[*taskRuntime]*taskMetrics{}}
	m.reg.MustRegister((*workerCollector)(m), (*tasksCollector)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *workerMetrics) handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler() // a worker built without NewWorker
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// task returns t's metrics, made on first use.
func (m *workerMetrics) task(t *taskRuntime) *taskMetrics {
	if m == nil {
		return &taskMetrics{} // a worker built without NewWorker: counted nowhere
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tm := m.tasks[t]
	if tm == nil {
		tm = &taskMetrics{}
		m.tasks[t] = tm
	}
	return tm
}

// started notes the task instance that t now runs, for its own metrics.
func (m *workerMetrics) started(t *taskRuntime, task any) {
	tm := m.task(t)
	var own prometheus.Collector
	if mc, ok := task.(MetricsCollector); ok {
		own = mc.Metrics(prometheus.Labels{"connector": t.c.spec.name, "task": strconv.Itoa(t.id)})
	}
	tm.mu.Lock()
	tm.own = own
	tm.mu.Unlock()
}

func (t *taskRuntime) metrics() *taskMetrics { return t.c.w.metrics.task(t) }

// pollReturned counts a source poll that returned n records after d.
func (tm *taskMetrics) pollReturned(n int, d time.Duration) {
	if n == 0 {
		return
	}
	tm.polled.mark(int64(n))
	now := time.Now()
	tm.pollTime.record(float64(d)/float64(time.Millisecond), now)
	tm.batchSize.record(float64(n), now)
}

// putDone counts a sink put of n records that took d.
func (tm *taskMetrics) putDone(n int, d time.Duration) {
	tm.sent.mark(int64(n))
	now := time.Now()
	tm.putTime.record(float64(d)/float64(time.Millisecond), now)
	tm.batchSize.record(float64(n), now)
}

// committed counts a sink's flush and commit that took d.
func (tm *taskMetrics) committed(err error, d time.Duration) {
	now := time.Now()
	tm.commitTime.record(float64(d)/float64(time.Millisecond), now)
	tm.commitSeq.Add(1)
	if err != nil {
		tm.commitOK.record(0, now)
		return
	}
	tm.commitOK.record(1, now)
	tm.commits.mark(1)
}

// badRecord counts a record that failed in a converter or a
// transformation, handled as b says.
func (tm *taskMetrics) badRecord(b badRecords) {
	tm.errors.Add(1)
	if b.tolerateAll {
		tm.skipped.Add(1)
	}
	if b.log {
		tm.logged.Add(1)
	}
	if b.dlq != "" {
		tm.dlqRequests.Add(1)
	}
	tm.lastError.Store(time.Now().UnixMilli())
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	ct = []string{"connector", "task"}

	descConnectorCount = desc("kafka_connect_worker_connector_count", "Connectors run by this worker.")
	descTaskCount      = desc("kafka_connect_worker_task_count", "Tasks run by this worker.")
	taskCountStates    = []string{"total", "running", "paused", "failed", "unassigned", "destroyed", "restarting"}
	descTaskCounts     = taskCountDescs()

	descConnectorStatus  = desc("kafka_connect_connector_status", "1 for the connector's state (running, paused, failed, unassigned, stopped).", "connector", "status")
	descConnectorClass   = desc("kafka_connect_connector_connector_class", "1, with the connector's class.", "connector", "connector_class")
	descConnectorType    = desc("kafka_connect_connector_connector_type", "1, with the connector's type (source or sink).", "connector", "connector_type")
	descConnectorVersion = desc("kafka_connect_connector_connector_version", "1, with the connector's version.", "connector", "connector_version")

	descTaskStatus     = desc("kafka_connect_connector_task_status", "1 for the task's state (running, paused, failed, unassigned).", "connector", "task", "status")
	descBatchAvg       = desc("kafka_connect_connector_task_batch_size_avg", "Records per batch (poll or put) over the last 30 to 60 seconds.", ct...)
	descBatchMax       = desc("kafka_connect_connector_task_batch_size_max", "Largest batch (poll or put) over the last 30 to 60 seconds.", ct...)
	descCommitAvgTime  = desc("kafka_connect_connector_task_offset_commit_avg_time_ms", "Milliseconds per flush and offset commit over the last 30 to 60 seconds.", ct...)
	descCommitMaxTime  = desc("kafka_connect_connector_task_offset_commit_max_time_ms", "Longest flush and offset commit in milliseconds over the last 30 to 60 seconds.", ct...)
	descCommitSuccess  = desc("kafka_connect_connector_task_offset_commit_success_percentage", "Share of the offset commits that succeeded over the last 30 to 60 seconds (0 to 1, as Kafka reports it).", ct...)
	descCommitFailure  = desc("kafka_connect_connector_task_offset_commit_failure_percentage", "Share of the offset commits that failed over the last 30 to 60 seconds (0 to 1, as Kafka reports it).", ct...)
	descPollTotal      = desc("kafka_connect_source_task_source_record_poll_total", "Records the task's polls returned (before transformations).", ct...)
	descPollRate       = desc("kafka_connect_source_task_source_record_poll_rate", "Records polled per second over the last 30 to 60 seconds.", ct...)
	descWriteTotal     = desc("kafka_connect_source_task_source_record_write_total", "Records written to Kafka and acknowledged (after transformations).", ct...)
	descWriteRate      = desc("kafka_connect_source_task_source_record_write_rate", "Records written per second over the last 30 to 60 seconds.", ct...)
	descPollAvgTime    = desc("kafka_connect_source_task_poll_batch_avg_time_ms", "Milliseconds per poll that returned records, over the last 30 to 60 seconds.", ct...)
	descPollMaxTime    = desc("kafka_connect_source_task_poll_batch_max_time_ms", "Longest poll that returned records, in milliseconds, over the last 30 to 60 seconds.", ct...)
	descActive         = desc("kafka_connect_source_task_source_record_active_count", "Records sent and not yet acknowledged by Kafka.", ct...)
	descReadTotal      = desc("kafka_connect_sink_task_sink_record_read_total", "Records read from Kafka (before transformations).", ct...)
	descReadRate       = desc("kafka_connect_sink_task_sink_record_read_rate", "Records read per second over the last 30 to 60 seconds.", ct...)
	descSendTotal      = desc("kafka_connect_sink_task_sink_record_send_total", "Records put to the task (after transformations).", ct...)
	descSendRate       = desc("kafka_connect_sink_task_sink_record_send_rate", "Records put per second over the last 30 to 60 seconds.", ct...)
	descPutAvgTime     = desc("kafka_connect_sink_task_put_batch_avg_time_ms", "Milliseconds per put over the last 30 to 60 seconds.", ct...)
	descPutMaxTime     = desc("kafka_connect_sink_task_put_batch_max_time_ms", "Longest put in milliseconds over the last 30 to 60 seconds.", ct...)
	descCommitTotal    = desc("kafka_connect_sink_task_offset_commit_completion_total", "Offset commits that succeeded.", ct...)
	descCommitRate     = desc("kafka_connect_sink_task_offset_commit_completion_rate", "Offset commits that succeeded per second over the last 30 to 60 seconds.", ct...)
	descCommitSeq      = desc("kafka_connect_sink_task_offset_commit_seq_no", "Offset commits attempted.", ct...)
	descRecordErrors   = desc("kafka_connect_task_error_total_record_errors", "Records that failed in a converter or transformation.", ct...)
	descRecordFailures = desc("kafka_connect_task_error_total_record_failures", "Failed attempts to convert or transform a record (no retries here: as many as the errors).", ct...)
	descSkipped        = desc("kafka_connect_task_error_total_records_skipped", "Records skipped because of an error (errors.tolerance=all).", ct...)
	descErrorsLogged   = desc("kafka_connect_task_error_total_errors_logged", "Errors logged (errors.log.enable).", ct...)
	descDLQRequests    = desc("kafka_connect_task_error_deadletterqueue_produce_requests", "Records sent to the dead letter queue.", ct...)
	descLastError      = desc("kafka_connect_task_error_last_error_timestamp", "When the last record failed, in milliseconds since the epoch; 0 if none has.", ct...)
)

// taskCountDescs are Kafka Connect's connector-<state>-task-count, by state.
func taskCountDescs() map[string]*prometheus.Desc {
	out := map[string]*prometheus.Desc{}
	for _, s := range taskCountStates {
		help := "Tasks of the connector that are " + s + " in this worker."
		if s == "total" {
			help = "Tasks of the connector in this worker."
		}
		out[s] = desc("kafka_connect_worker_connector_"+s+"_task_count", help, "connector")
	}
	return out
}

// workerCollector reports the worker, connector and task metrics.
type workerCollector workerMetrics

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnectorCount, descTaskCount, descConnectorStatus, descConnectorClass,
		descConnectorType, descConnectorVersion, descTaskStatus, descBatchAvg, descBatchMax, descCommitAvgTime,
		descCommitMaxTime, descCommitSuccess, descCommitFailure, descPollTotal, descPollRate, descWriteTotal,
		descWriteRate, descPollAvgTime, descPollMaxTime, descActive, descReadTotal, descReadRate, descSendTotal,
		descSendRate, descPutAvgTime, descPutMaxTime, descCommitTotal, descCommitRate, descCommitSeq,
		descRecordErrors, descRecordFailures, descSkipped, descErrorsLogged, descDLQRequests, descLastError} {
		ch <- d
	}
	for _, s := range taskCountStates {
		ch <- descTaskCounts[s]
	}
}

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*workerMetrics)(c)
	now := time.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	conns := m.w.connectorList()
	live := map[*taskRuntime]bool{}
	tasks := 0
	for _, cr := range conns {
		name := cr.spec.name
		cr.mu.Lock()
		state := cr.state
		cr.mu.Unlock()
		gauge(descConnectorStatus, 1, name, strings.ToLower(state))
		gauge(descConnectorClass, 1, name, cr.spec.plugin.Class)
		gauge(descConnectorType, 1, name, cr.spec.plugin.Type.String())
		gauge(descConnectorVersion, 1, name, cr.spec.plugin.Version)
		counts := map[string]int{}
		for _, t := range cr.taskList() {
			live[t] = true
			tasks++
			st := t.status()
			s := strings.ToLower(st.State)
			counts["total"]++
			counts[s]++
			id := strconv.Itoa(t.id)
			gauge(descTaskStatus, 1, name, id, s)
			tm := m.task(t)
			gauge(descBatchAvg, tm.batchSize.avg(now), name, id)
			gauge(descBatchMax, tm.batchSize.max(now), name, id)
			if cr.spec.plugin.Type == Source {
				counter(descPollTotal, tm.polled.total.Load(), name, id)
				gauge(descPollRate, tm.polled.win.rate(now), name, id)
				counter(descWriteTotal, tm.written.total.Load(), name, id)
				gauge(descWriteRate, tm.written.win.rate(now), name, id)
				gauge(descPollAvgTime, tm.pollTime.avg(now), name, id)
				gauge(descPollMaxTime, tm.pollTime.max(now), name, id)
				gauge(descActive, float64(max(t.stats.records.Load()-t.stats.acked.Load(), 0)), name, id)
			} else {
				counter(descReadTotal, tm.read.total.Load(), name, id)
				gauge(descReadRate, tm.read.win.rate(now), name, id)
				counter(descSendTotal, tm.sent.total.Load(), name, id)
				gauge(descSendRate, tm.sent.win.rate(now), name, id)
				gauge(descPutAvgTime, tm.putTime.avg(now), name, id)
				gauge(descPutMaxTime, tm.putTime.max(now), name, id)
				counter(descCommitTotal, tm.commits.total.Load(), name, id)
				gauge(descCommitRate, tm.commits.win.rate(now), name, id)
				counter(descCommitSeq, tm.commitSeq.Load(), name, id)
				gauge(descCommitAvgTime, tm.commitTime.avg(now), name, id)
				gauge(descCommitMaxTime, tm.commitTime.max(now), name, id)
				ok := tm.commitOK.avg(now)
				n, _, _, _ := tm.commitOK.stats(now)
				failed := 0.0
				if n > 0 {
					failed = 1 - ok
				}
				gauge(descCommitSuccess, ok, name, id)
				gauge(descCommitFailure, failed, name, id)
			}
			counter(descRecordErrors, tm.errors.Load(), name, id)
			counter(descRecordFailures, tm.errors.Load(), name, id)
			counter(descSkipped, tm.skipped.Load(), name, id)
			counter(descErrorsLogged, tm.logged.Load(), name, id)
			counter(descDLQRequests, tm.dlqRequests.Load(), name, id)
			gauge(descLastError, float64(tm.lastError.Load()), name, id)
		}
		for _, s := range taskCountStates {
			gauge(descTaskCounts[s], float64(counts[s]), name)
		}
	}
	gauge(descConnectorCount, float64(len(conns)))
	gauge(descTaskCount, float64(tasks))

	// Forget the tasks of connectors stopped, deleted or reconfigured.
	m.mu.Lock()
	for t := range m.tasks {
		if !live[t] {
			delete(m.tasks, t)
		}
	}
	m.mu.Unlock()
}

// tasksCollector forwards what the tasks' own collectors (MetricsCollector)
// report. Those come and go with the tasks, so it describes nothing: the
// registry takes their metrics unchecked.
type tasksCollector workerMetrics

func (c *tasksCollector) Describe(chan<- *prometheus.Desc) {}

func (c *tasksCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*workerMetrics)(c)
	for _, cr := range m.w.connectorList() {
		for _, t := range cr.taskList() {
			tm := m.task(t)
			tm.mu.Lock()
			own := tm.own
			tm.mu.Unlock()
			if own != nil {
				own.Collect(ch)
			}
		}
	}
}
