package filesink

import (
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-io/tributary/connect"
)

// The task's metrics (connect.MetricsCollector), one series per output
// file (label file, its path), with the worker's connector and task
// labels:
//
//	tributary_filesink_file_written_bytes_total bytes written to the file since the task started
//	tributary_filesink_file_position_bytes      the file's size, records put and not yet written out included
//
// With a template in file, each file opened so far is reported; standard
// output is not.

var _ connect.MetricsCollector = (*Task)(nil)

// fileCounts are a file's counters that only the metrics read.
type fileCounts struct {
	written atomic.Int64 // bytes written to the file
}

// Metrics returns the task's per-file collector (connect.MetricsCollector).
func (t *Task) Metrics(labels prometheus.Labels) prometheus.Collector {
	return &fileCollector{
		t:        t,
		written:  prometheus.NewDesc("tributary_filesink_file_written_bytes_total", "Bytes written to the file since the task started.", []string{"file"}, labels),
		position: prometheus.NewDesc("tributary_filesink_file_position_bytes", "The file's size, with the records put and not yet written out.", []string{"file"}, labels),
	}
}

type fileCollector struct {
	t                 *Task
	written, position *prometheus.Desc
}

func (c *fileCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.written
	ch <- c.position
}

func (c *fileCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range c.t.outputs() {
		f.mu.Lock()
		path, size := f.path, f.size
		f.mu.Unlock()
		if path == "" {
			continue // standard output
		}
		ch <- prometheus.MustNewConstMetric(c.written, prometheus.CounterValue, float64(f.counts.written.Load()), path)
		ch <- prometheus.MustNewConstMetric(c.position, prometheus.GaugeValue, float64(size), path)
	}
}

// outputs returns the tasks of the files written: the task itself, or
// with a template each file's task.
func (t *Task) outputs() []*Task {
	m := t.files
	if m == nil {
		return []*Task{t}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Task, 0, len(m.byPath))
	for _, s := range m.byPath {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}
