package filesource

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fileMetrics gathers a task's metrics as the worker registers them and
// returns each series' value by name and file, checking the types and the
// connector and task labels.
func fileMetrics(t *testing.T, task *Task) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(task.Metrics(prometheus.Labels{"connector": "src", "task": "0"}))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, f := range fams {
		wantType := dto.MetricType_GAUGE
		if strings.HasSuffix(f.GetName(), "_total") {
			wantType = dto.MetricType_COUNTER
		}
		if f.GetType() != wantType {
			t.Errorf("%s is a %s, want a %s", f.GetName(), f.GetType(), wantType)
		}
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, lp := range m.Label {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["connector"] != "src" || labels["task"] != "0" || labels["file"] == "" {
				t.Errorf("%s has labels %v", f.GetName(), labels)
			}
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			if out[f.GetName()] == nil {
				out[f.GetName()] = map[string]float64{}
			}
			out[f.GetName()][labels["file"]] = v
		}
	}
	return out
}

func TestMetricsFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	write(t, p, "l1\nl2\n"+strings.Repeat("x", 25)+"\n")
	task := startTask(t, "file="+p, "batch.size=1", "max.line.bytes=10")

	// One line handed over of a file of 32 bytes.
	collect(t, task, 1)
	m := fileMetrics(t, task)
	for name, want := range map[string]float64{
		"tributary_filesource_file_position_bytes":  3,
		"tributary_filesource_file_size_bytes":      32,
		"tributary_filesource_file_lag_bytes":       29,
		"tributary_filesource_file_rotations_total": 0,
	} {
		if got, ok := m[name][p]; !ok || got != want {
			t.Errorf("%s{file=%q} = %v (present %v), want %v", name, p, got, ok, want)
		}
	}
	if got := m["tributary_filesource_file_read_bytes_total"][p]; got < 3 || got > 32 {
		t.Errorf("read_bytes_total = %v after reading some of 32 bytes", got)
	}

	// The rest: the long line in three pieces.
	collect(t, task, 4)
	m = fileMetrics(t, task)
	for name, want := range map[string]float64{
		"tributary_filesource_file_position_bytes":   32,
		"tributary_filesource_file_lag_bytes":        0,
		"tributary_filesource_file_read_bytes_total": 32,
		"tributary_filesource_lines_split_total":     1,
		"tributary_filesource_lines_skipped_total":   0,
	} {
		if got := m[name][p]; got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	// Rotated: renamed, and a new file at the path.
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	write(t, p, "b1\n")
	collect(t, task, 1)
	m = fileMetrics(t, task)
	for name, want := range map[string]float64{
		"tributary_filesource_file_rotations_total":  1,
		"tributary_filesource_file_position_bytes":   3,
		"tributary_filesource_file_size_bytes":       3,
		"tributary_filesource_file_read_bytes_total": 35,
	} {
		if got := m[name][p]; got != want {
			t.Errorf("after rotation: %s = %v, want %v", name, got, want)
		}
	}
}

func TestMetricsFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	write(t, a, "a1\na2\n")
	write(t, b, "b1\n")
	w := newWorker()
	task := startMany(t, w, "files="+filepath.Join(dir, "*.log"))
	drain(t, task, w, 3)
	m := fileMetrics(t, task)
	for file, want := range map[string]float64{a: 6, b: 3} {
		if got := m["tributary_filesource_file_position_bytes"][file]; got != want {
			t.Errorf("position of %s = %v, want %v", file, got, want)
		}
		if got := m["tributary_filesource_file_size_bytes"][file]; got != want {
			t.Errorf("size of %s = %v, want %v", file, got, want)
		}
		if got := m["tributary_filesource_file_lag_bytes"][file]; got != 0 {
			t.Errorf("lag of %s = %v, want 0", file, got)
		}
	}
	if n := len(m["tributary_filesource_file_position_bytes"]); n != 2 {
		t.Errorf("%d files reported, want 2: %v", n, m["tributary_filesource_file_position_bytes"])
	}
}
