package filesource

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-io/tributary/connect"
)

// The task's metrics (connect.MetricsCollector), one series per file it
// reads (label file, its path), with the worker's connector and task
// labels:
//
//	tributary_filesource_file_position_bytes   where the lines handed to the worker end
//	tributary_filesource_file_size_bytes       the file's size when last looked at
//	tributary_filesource_file_lag_bytes        size less position: what is still to read
//	tributary_filesource_file_read_bytes_total bytes read from the file
//	tributary_filesource_file_rotations_total  rotations followed (renamed or truncated)
//	tributary_filesource_lines_split_total     lines over max.line.bytes sent in pieces
//	tributary_filesource_lines_truncated_total lines over max.line.bytes cut short
//	tributary_filesource_lines_skipped_total   lines over max.line.bytes left out
//
// A file's series go when the task stops reading it (a file of files
// deleted, or the task stopped); read_bytes and rotations count from the
// task's start.

var _ connect.MetricsCollector = (*Task)(nil)

// fileCounts are a file's counters that only the metrics read.
type fileCounts struct {
	read      atomic.Int64 // bytes read from the file
	rotations atomic.Int64 // rotations followed: renamed, or truncated in place
}

var fileLabels = []string{"file"}

// Metrics returns the task's per-file collector (connect.MetricsCollector).
func (t *Task) Metrics(labels prometheus.Labels) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, fileLabels, labels)
	}
	return &fileCollector{
		t:         t,
		position:  d("tributary_filesource_file_position_bytes", "Where in the file the lines handed to the worker end."),
		size:      d("tributary_filesource_file_size_bytes", "The file's size when last looked at."),
		lag:       d("tributary_filesource_file_lag_bytes", "Bytes of the file not yet read: its size less the position."),
		read:      d("tributary_filesource_file_read_bytes_total", "Bytes read from the file since the task started."),
		rotations: d("tributary_filesource_file_rotations_total", "Rotations of the file followed since the task started (renamed and recreated, or truncated in place)."),
		split:     d("tributary_filesource_lines_split_total", "Lines longer than max.line.bytes sent in pieces (line.overflow=split)."),
		truncated: d("tributary_filesource_lines_truncated_total", "Lines longer than max.line.bytes cut short (line.overflow=truncate)."),
		skipped:   d("tributary_filesource_lines_skipped_total", "Lines longer than max.line.bytes left out (line.overflow=skip)."),
	}
}

type fileCollector struct {
	t                                    *Task
	position, size, lag, read, rotations *prometheus.Desc
	split, truncated, skipped            *prometheus.Desc
}

func (c *fileCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.position, c.size, c.lag, c.read, c.rotations, c.split, c.truncated, c.skipped} {
		ch <- d
	}
}

func (c *fileCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.t.fileStreams() {
		if s.path == "" {
			continue // standard input
		}
		s.progMu.Lock()
		pos, size, over := s.sent, s.size, s.over
		s.progMu.Unlock()
		gauge := func(d *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), s.path)
		}
		counter := func(d *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), s.path)
		}
		gauge(c.position, pos)
		gauge(c.size, size)
		gauge(c.lag, max(size-pos, 0))
		counter(c.read, s.counts.read.Load())
		counter(c.rotations, s.counts.rotations.Load())
		counter(c.split, over.Split)
		counter(c.truncated, over.Truncated)
		counter(c.skipped, over.Skipped)
	}
}

// fileStreams returns the tasks of the files read: the task itself for
// file, each file's stream for files.
func (t *Task) fileStreams() []*Task {
	if t.set == nil {
		return []*Task{t}
	}
	m := t.set
	m.listMu.Lock()
	defer m.listMu.Unlock()
	return append([]*Task(nil), m.order...)
}
