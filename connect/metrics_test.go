package connect_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/tributary-io/tributary/broker/brokertest"
	"github.com/tributary-io/tributary/internal/metricstest"
)

// scrape is one parsed /metrics answer.
type scrape map[string]*dto.MetricFamily

// getMetrics scrapes url, with basic authentication when user is set.
func getMetrics(t testing.TB, url, user, pass string) (int, scrape) {
	t.Helper()
	return metricstest.Get(t, url, user, pass)
}

func mustScrape(t testing.TB, url string) scrape {
	t.Helper()
	code, s := getMetrics(t, url, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
	return s
}

// value returns the value of the first series of name whose labels
// include labels (name, value pairs).
func (s scrape) value(name string, labels ...string) (float64, bool) {
	return metricstest.Value(s, name, labels...)
}

func (s scrape) typeOf(name string) dto.MetricType {
	if f := s[name]; f != nil {
		return f.GetType()
	}
	return -1
}

// waitMetric scrapes url until the series has the value want.
func waitMetric(t testing.TB, url string, want float64, name string, labels ...string) scrape {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := mustScrape(t, url)
		got, ok := s.value(name, labels...)
		if ok && got == want {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v (present %v), want %v", name, labels, got, ok, want)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

// startMetricsBroker starts the bundled broker with its metrics listener
// on a free port, returning the Kafka address and the metrics URL.
func startMetricsBroker(t testing.TB) (string, string) {
	t.Helper()
	b := brokertest.Start(t, "metrics.listener=http://127.0.0.1:0")
	return b.Addr(), "http://" + b.MetricsAddr() + "/metrics"
}

// TestMetricsWorker: a file source, a file sink and a sink whose converter
// refuses every record (errors.tolerance=all) run against the bundled
// broker; the worker's /metrics and the broker's follow the lines.
func TestMetricsWorker(t *testing.T) {
	addr, brokerURL := startMetricsBroker(t)
	dir := t.TempDir()
	in, out, bad := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt"), filepath.Join(dir, "bad.txt")
	want := appendLines(t, in, 0, 40)
	w := startWorker(t, workerProps(addr, dir),
		sourceProps(dir, in, "metrics"), sinkProps(dir, out, "metrics"),
		sinkProps(dir, bad, "metrics", "name=badsink", "value.converter=org.apache.kafka.connect.json.JsonConverter",
			"value.converter.schemas.enable=false", "errors.tolerance=all", "errors.log.enable=true"))
	waitForFile(t, out, want)
	url := "http://" + w.RESTAddr() + "/metrics"

	s := waitMetric(t, url, 40, "kafka_connect_source_task_source_record_write_total", "connector", "src", "task", "0")
	checks := []struct {
		name   string
		typ    dto.MetricType
		labels []string
		want   float64
	}{
		{"kafka_connect_worker_connector_count", dto.MetricType_GAUGE, nil, 3},
		{"kafka_connect_worker_task_count", dto.MetricType_GAUGE, nil, 3},
		{"kafka_connect_worker_connector_running_task_count", dto.MetricType_GAUGE, []string{"connector", "src"}, 1},
		{"kafka_connect_worker_connector_failed_task_count", dto.MetricType_GAUGE, []string{"connector", "src"}, 0},
		{"kafka_connect_connector_status", dto.MetricType_GAUGE, []string{"connector", "sink", "status", "running"}, 1},
		{"kafka_connect_connector_task_status", dto.MetricType_GAUGE, []string{"connector", "src", "task", "0", "status", "running"}, 1},
		{"kafka_connect_connector_connector_type", dto.MetricType_GAUGE, []string{"connector", "src", "connector_type", "source"}, 1},
		{"kafka_connect_source_task_source_record_poll_total", dto.MetricType_COUNTER, []string{"connector", "src"}, 40},
		{"kafka_connect_source_task_source_record_active_count", dto.MetricType_GAUGE, []string{"connector", "src"}, 0},
		{"tributary_filesource_file_position_bytes", dto.MetricType_GAUGE, []string{"connector", "src", "task", "0", "file", in}, float64(len(want))},
		{"tributary_filesource_file_size_bytes", dto.MetricType_GAUGE, []string{"connector", "src", "file", in}, float64(len(want))},
		{"tributary_filesource_file_lag_bytes", dto.MetricType_GAUGE, []string{"connector", "src", "file", in}, 0},
		{"tributary_filesource_file_read_bytes_total", dto.MetricType_COUNTER, []string{"connector", "src", "file", in}, float64(len(want))},
	}
	for _, c := range checks {
		if typ := s.typeOf(c.name); typ != c.typ {
			t.Errorf("%s: # TYPE %v, want %v", c.name, typ, c.typ)
		}
		if got, ok := s.value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, name := range []string{"kafka_connect_source_task_source_record_poll_rate", "kafka_connect_source_task_poll_batch_avg_time_ms"} {
		if s.typeOf(name) != dto.MetricType_GAUGE {
			t.Errorf("%s: # TYPE %v, want gauge", name, s.typeOf(name))
		}
	}
	if v, _ := s.value("kafka_connect_source_task_source_record_poll_rate", "connector", "src"); v <= 0 {
		t.Errorf("source_record_poll_rate = %v right after 40 records", v)
	}

	// The sinks: every record put to one, every record refused and
	// skipped by the other; commits come every offset.flush.interval.ms.
	waitMetric(t, url, 40, "kafka_connect_sink_task_sink_record_send_total", "connector", "sink")
	waitMetric(t, url, 40, "kafka_connect_task_error_total_records_skipped", "connector", "badsink")
	s = waitMetric(t, url, float64(len(want)), "tributary_filesink_file_written_bytes_total", "connector", "sink", "file", out)
	for _, c := range []struct {
		name   string
		typ    dto.MetricType
		labels []string
		want   float64
	}{
		{"kafka_connect_sink_task_sink_record_read_total", dto.MetricType_COUNTER, []string{"connector", "sink"}, 40},
		{"kafka_connect_sink_task_sink_record_read_total", dto.MetricType_COUNTER, []string{"connector", "badsink"}, 40},
		{"kafka_connect_sink_task_sink_record_send_total", dto.MetricType_COUNTER, []string{"connector", "badsink"}, 0},
		{"kafka_connect_task_error_total_record_errors", dto.MetricType_COUNTER, []string{"connector", "badsink"}, 40},
		{"kafka_connect_task_error_total_errors_logged", dto.MetricType_COUNTER, []string{"connector", "badsink"}, 40},
		{"kafka_connect_task_error_total_record_errors", dto.MetricType_COUNTER, []string{"connector", "sink"}, 0},
		{"tributary_filesink_file_position_bytes", dto.MetricType_GAUGE, []string{"connector", "sink", "file", out}, float64(len(want))},
	} {
		if typ := s.typeOf(c.name); typ != c.typ {
			t.Errorf("%s: # TYPE %v, want %v", c.name, typ, c.typ)
		}
		if got, ok := s.value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if s.typeOf("kafka_connect_sink_task_put_batch_avg_time_ms") != dto.MetricType_GAUGE {
		t.Errorf("put_batch_avg_time_ms: # TYPE %v", s.typeOf("kafka_connect_sink_task_put_batch_avg_time_ms"))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s = mustScrape(t, url)
		if v, _ := s.value("kafka_connect_sink_task_offset_commit_completion_total", "connector", "sink"); v >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no offset commit counted")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if v, _ := s.value("kafka_connect_connector_task_offset_commit_success_percentage", "connector", "sink"); v != 1 {
		t.Errorf("offset_commit_success_percentage = %v, want 1", v)
	}

	// More lines: the counters move by exactly as many.
	want = append(want, appendLines(t, in, 40, 25)...)
	waitForFile(t, out, want)
	s = waitMetric(t, url, 65, "kafka_connect_source_task_source_record_write_total", "connector", "src")
	if v, _ := s.value("kafka_connect_source_task_source_record_poll_total", "connector", "src"); v != 65 {
		t.Errorf("source_record_poll_total = %v, want 65", v)
	}
	waitMetric(t, url, float64(len(want)), "tributary_filesource_file_position_bytes", "connector", "src", "file", in)

	// The broker saw them; the sinks' groups catch up with the end.
	bs := waitMetric(t, brokerURL, 65, "kafka_server_brokertopicmetrics_messagesin_total", "topic", "metrics")
	if v, _ := bs.value("kafka_log_log_logendoffset", "topic", "metrics"); v != 65 {
		t.Errorf("broker: logendoffset = %v, want 65", v)
	}
	bs = waitMetric(t, brokerURL, 0, "kafka_consumergroup_group_lag", "group", "connect-sink", "topic", "metrics")
	if v, _ := bs.value("kafka_consumergroup_group_offset", "group", "connect-sink", "topic", "metrics"); v != 65 {
		t.Errorf("broker: group_offset of connect-sink = %v, want 65", v)
	}

	// A connector stopped over REST leaves no task series.
	resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPut, "http://"+w.RESTAddr()+"/connectors/badsink/stop"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s = waitMetric(t, url, 1, "kafka_connect_connector_status", "connector", "badsink", "status", "stopped")
	if _, ok := s.value("kafka_connect_task_error_total_record_errors", "connector", "badsink"); ok {
		t.Error("a stopped connector's task still has series")
	}
	if v, _ := s.value("kafka_connect_worker_task_count"); v != 2 {
		t.Errorf("task_count = %v after stopping a connector, want 2", v)
	}
}

func mustRequest(t testing.TB, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestMetricsBasicAuth: /metrics asks for the REST API's users, and is
// served when connector writes are refused.
func TestMetricsBasicAuth(t *testing.T) {
	addr := startKfake(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.txt")
	want := appendLines(t, in, 0, 5)
	w := startWorker(t, workerProps(addr, dir,
		"rest.basic.auth.user=admin", "rest.basic.auth.password=s3cret",
		"rest.connector.writes.enable=false"),
		sourceProps(dir, in, "auth-metrics"), sinkProps(dir, out, "auth-metrics"))
	waitForFile(t, out, want)
	url := "http://" + w.RESTAddr() + "/metrics"
	for _, c := range []struct{ user, pass string }{{"", ""}, {"admin", "wrong"}, {"eve", "s3cret"}} {
		if code, _ := getMetrics(t, url, c.user, c.pass); code != http.StatusUnauthorized {
			t.Errorf("GET /metrics as %q/%q: %d, want 401", c.user, c.pass, code)
		}
	}
	code, s := getMetrics(t, url, "admin", "s3cret")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics as admin: %d", code)
	}
	if v, ok := s.value("kafka_connect_worker_connector_count"); !ok || v != 2 {
		t.Errorf("connector_count = %v (present %v), want 2", v, ok)
	}
	// Writes are refused, reads served: POST /connectors is 405.
	req := mustRequest(t, http.MethodPost, "http://"+w.RESTAddr()+"/connectors")
	req.SetBasicAuth("admin", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /connectors with writes off: %d, want 405", resp.StatusCode)
	}
}
