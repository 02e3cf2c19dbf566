package filesink

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// sinkMetrics gathers a task's metrics and returns each series' value by
// name and file, checking the types and labels.
func sinkMetrics(t *testing.T, task *Task) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(task.Metrics(prometheus.Labels{"connector": "sink", "task": "0"}))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{
		"tributary_filesink_file_written_bytes_total": dto.MetricType_COUNTER,
		"tributary_filesink_file_position_bytes":      dto.MetricType_GAUGE,
	}
	out := map[string]map[string]float64{}
	for _, f := range fams {
		if want, ok := types[f.GetName()]; !ok || f.GetType() != want {
			t.Errorf("unexpected %s of type %s", f.GetName(), f.GetType())
		}
		out[f.GetName()] = map[string]float64{}
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, lp := range m.Label {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["connector"] != "sink" || labels["task"] != "0" || labels["file"] == "" {
				t.Errorf("%s has labels %v", f.GetName(), labels)
			}
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			out[f.GetName()][labels["file"]] = v
		}
	}
	return out
}

func TestMetricsFile(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(p, []byte("before\n"), 0o644)
	task, err := start(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Open(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, recs("one", "two")); err != nil {
		t.Fatal(err)
	}
	m := sinkMetrics(t, task)
	if got := m["tributary_filesink_file_written_bytes_total"][p]; got != 8 {
		t.Errorf("written_bytes_total = %v, want 8 (one, two)", got)
	}
	if got := m["tributary_filesink_file_position_bytes"][p]; got != 15 {
		t.Errorf("position_bytes = %v, want 15 (the file's size)", got)
	}
}

func TestMetricsTemplate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	vals, err := Def().Parse(config.FromMap("sink.properties", map[string]string{
		"name": "sink", "connector.class": "FileStreamSink", "topics": "a,b", "file": filepath.Join(dir, "${topic}.log"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	task := &Task{}
	if err := task.Start(ctx, &connect.SinkTaskContext{Connector: "sink", Config: vals}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	if _, err := task.Open(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(ctx, []connect.SinkRecord{{Topic: "a", Value: []byte("x")}, {Topic: "b", Value: []byte("yy")}, {Topic: "b", Offset: 1, Value: []byte("z")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := task.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := sinkMetrics(t, task)
	for file, want := range map[string]float64{filepath.Join(dir, "a.log"): 2, filepath.Join(dir, "b.log"): 5} {
		if got := m["tributary_filesink_file_written_bytes_total"][file]; got != want {
			t.Errorf("written_bytes_total{file=%s} = %v, want %v", file, got, want)
		}
		if got := m["tributary_filesink_file_position_bytes"][file]; got != want {
			t.Errorf("position_bytes{file=%s} = %v, want %v", file, got, want)
		}
	}
}
