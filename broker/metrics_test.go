package broker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	dto "github.com/prometheus/client_model/go"
	"github.com/tributary-io/tributary/internal/metricstest"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// scrape is one parsed /metrics answer.
type scrape map[string]*dto.MetricFamily

func getMetrics(t testing.TB, url string) scrape {
	t.Helper()
	code, s := metricstest.Get(t, url, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", url, code)
	}
	return s
}

// family returns the family name, failing unless it has type typ.
func (s scrape) family(t testing.TB, name string, typ dto.MetricType) *dto.MetricFamily {
	t.Helper()
	f := s[name]
	if f == nil {
		t.Fatalf("no %s in the scrape", name)
	}
	if f.GetType() != typ {
		t.Fatalf("%s has # TYPE %s, want %s", name, f.GetType(), typ)
	}
	return f
}

// value returns the value of the series of name whose labels include
// labels (name=value pairs), and whether there is one.
func (s scrape) value(name string, labels ...string) (float64, bool) {
	return metricstest.Value(s, name, labels...)
}

func (s scrape) must(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	v, ok := s.value(name, labels...)
	if !ok {
		t.Fatalf("no %s%v in the scrape", name, labels)
	}
	return v
}

// eventually scrapes until ok accepts the scrape or the deadline passes.
func eventually(t testing.TB, url string, what string, ok func(scrape) bool) scrape {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := getMetrics(t, url)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

func TestMetricsBroker(t *testing.T) {
	props := append(saslProps("SASL_PLAINTEXT"),
		"listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"metrics.listener=http://127.0.0.1:0")
	tb := startBroker(t, props...)
	url := "http://" + tb.b.MetricsAddr() + "/metrics"
	if tb.b.MetricsAddr() == "" {
		t.Fatal("metrics.listener set, but MetricsAddr is empty")
	}

	s := getMetrics(t, url)
	for _, name := range []string{"kafka_server_replicamanager_underminisrpartitioncount", "kafka_server_replicamanager_underreplicatedpartitions"} {
		s.family(t, name, dto.MetricType_GAUGE)
		if v := s.must(t, name); v != 0 {
			t.Errorf("%s = %v, want 0 on one node", name, v)
		}
	}
	if v := s.must(t, "kafka_controller_kafkacontroller_activecontrollercount"); v != 1 {
		t.Errorf("activecontrollercount = %v, want 1", v)
	}
	in0 := s.must(t, "kafka_server_brokertopicmetrics_messagesin_total", "topic", "")

	const topic = "metrics-traffic"
	createTopic(t, tb.addr, topic, 2, nil)

	// 30 records from franz-go, 20 from sarama.
	ends := map[int32]int64{}
	cl := newClient(t, tb.addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx := testCtx(t, time.Minute)
	for i := range 30 {
		r, err := cl.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("franz %d", i))).First()
		if err != nil {
			t.Fatal(err)
		}
		ends[r.Partition] = r.Offset + 1
	}
	scfg := sarama.NewConfig()
	scfg.Producer.RequiredAcks = sarama.WaitForAll
	scfg.Producer.Return.Successes = true
	sp, err := sarama.NewSyncProducer([]string{tb.addr}, scfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		part, off, err := sp.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("sarama %d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ends[part] = max(ends[part], off+1)
	}
	sp.Close()

	s = getMetrics(t, url)
	s.family(t, "kafka_server_brokertopicmetrics_messagesin_total", dto.MetricType_COUNTER)
	if v := s.must(t, "kafka_server_brokertopicmetrics_messagesin_total", "topic", topic); v != 50 {
		t.Errorf("messagesin_total{topic=%q} = %v, want 50", topic, v)
	}
	if v := s.must(t, "kafka_server_brokertopicmetrics_messagesin_total", "topic", ""); v-in0 != 50 {
		t.Errorf("messagesin_total over every topic grew by %v, want 50", v-in0)
	}
	if v := s.must(t, "kafka_server_brokertopicmetrics_bytesin_total", "topic", topic); v < float64(50*len("franz 0")) {
		t.Errorf("bytesin_total{topic=%q} = %v, too small for 50 records", topic, v)
	}
	s.family(t, "kafka_log_log_logendoffset", dto.MetricType_GAUGE)
	for p, end := range ends {
		part := strconv.Itoa(int(p))
		if v := s.must(t, "kafka_log_log_logendoffset", "topic", topic, "partition", part); v != float64(end) {
			t.Errorf("logendoffset of %s/%d = %v, want %d", topic, p, v, end)
		}
		if v := s.must(t, "kafka_log_log_logstartoffset", "topic", topic, "partition", part); v != 0 {
			t.Errorf("logstartoffset of %s/%d = %v, want 0", topic, p, v)
		}
		if v := s.must(t, "kafka_log_log_size", "topic", topic, "partition", part); v <= 0 {
			t.Errorf("log size of %s/%d = %v", topic, p, v)
		}
	}
	if len(ends) != 2 {
		t.Fatalf("records went to partitions %v, want both", ends)
	}
	s.family(t, "kafka_network_requestmetrics_requests_total", dto.MetricType_COUNTER)
	if v := s.must(t, "kafka_network_requestmetrics_requests_total", "request", "Produce"); v < 1 {
		t.Errorf("requests_total{request=Produce} = %v", v)
	}
	s.family(t, "kafka_network_requestmetrics_totaltimems", dto.MetricType_HISTOGRAM)
	if v := s.must(t, "kafka_network_requestmetrics_totaltimems", "request", "Produce"); v < 1 {
		t.Errorf("totaltimems{request=Produce} counted %v requests", v)
	}
	if v := s.must(t, "kafka_server_socket_server_metrics_connection_count", "listener", "PLAINTEXT"); v < 1 {
		t.Errorf("connection_count{listener=PLAINTEXT} = %v with a client connected", v)
	}

	// A group reads everything, commits 2 records short of each
	// partition's end, and keeps polling (a long-poll fetch waits).
	const group = "metrics-group"
	gc := newClient(t, tb.addr, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group), kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(2*time.Second), kgo.ClientID("metrics-consumer"))
	read := 0
	for read < 50 {
		fs := gc.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		read += fs.NumRecords()
	}
	commit := map[string]map[int32]kgo.EpochOffset{topic: {}}
	for p, end := range ends {
		commit[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: end - 2}
	}
	var cerr error
	gc.CommitOffsetsSync(ctx, commit, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) { cerr = err })
	if cerr != nil {
		t.Fatal(cerr)
	}
	go func() { // keeps the consumer fetching; ends with ctx
		for ctx.Err() == nil {
			gc.PollFetches(ctx)
		}
	}()
	s = eventually(t, url, "a long-poll fetch in the purgatory", func(s scrape) bool {
		v, _ := s.value("kafka_server_delayedoperationpurgatory_numdelayedoperations", "delayedOperation", "Fetch")
		return v >= 1
	})
	s.family(t, "kafka_consumergroup_group_lag", dto.MetricType_GAUGE)
	for p, end := range ends {
		part := strconv.Itoa(int(p))
		if v := s.must(t, "kafka_consumergroup_group_offset", "group", group, "topic", topic, "partition", part); v != float64(end-2) {
			t.Errorf("group_offset of %s/%d = %v, want %d", topic, p, v, end-2)
		}
		if v := s.must(t, "kafka_consumergroup_group_lag", "group", group, "topic", topic, "partition", part, "client_id", "metrics-consumer"); v != 2 {
			t.Errorf("group_lag of %s/%d = %v, want end %d less committed %d", topic, p, v, end, end-2)
		}
	}
	if v := s.must(t, "kafka_consumergroup_group_max_lag", "group", group); v != 2 {
		t.Errorf("group_max_lag = %v, want 2", v)
	}
	if v := s.must(t, "kafka_consumergroup_group_sum_lag", "group", group); v != 4 {
		t.Errorf("group_sum_lag = %v, want 4", v)
	}
	if v := s.must(t, "kafka_server_brokertopicmetrics_bytesout_total", "topic", topic); v < float64(50*len("franz 0")) {
		t.Errorf("bytesout_total{topic=%q} = %v after the group read 50 records", topic, v)
	}
	if v := s.must(t, "kafka_network_requestmetrics_requests_total", "request", "FetchConsumer"); v < 1 {
		t.Errorf("requests_total{request=FetchConsumer} = %v", v)
	}
	if v := s.must(t, "kafka_server_delayedoperationpurgatory_purgatorysize", "delayedOperation", "Produce"); v != 0 {
		t.Errorf("produce purgatory = %v with no produce waiting", v)
	}

	// SASL: one failed and one good authentication on the SASL listener.
	saslAddr := tb.b.listeners[1].bound()
	if err := saslRefused(t, saslAddr, kgo.SASL(plain.Auth{User: "alice", Pass: "wrong"}.AsMechanism())); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if _, err := newClient(t, saslAddr, kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism())).Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatal(err)
	}
	s = getMetrics(t, url)
	s.family(t, "kafka_server_socket_server_metrics_failed_authentication_total", dto.MetricType_COUNTER)
	if v := s.must(t, "kafka_server_socket_server_metrics_failed_authentication_total", "listener", "SASL_PLAINTEXT"); v != 1 {
		t.Errorf("failed_authentication_total = %v, want 1", v)
	}
	if v := s.must(t, "kafka_server_socket_server_metrics_successful_authentication_total", "listener", "SASL_PLAINTEXT"); v < 1 {
		t.Errorf("successful_authentication_total = %v, want at least 1", v)
	}
	if v := s.must(t, "kafka_server_socket_server_metrics_connection_count", "listener", "SASL_PLAINTEXT"); v < 1 {
		t.Errorf("connection_count{listener=SASL_PLAINTEXT} = %v with a client connected", v)
	}
}

func TestMetricsListenerOffByDefault(t *testing.T) {
	key, ok := Definitions().Lookup("metrics.listener")
	if !ok || key.Default != "" || !strings.Contains(key.Doc, "/metrics") {
		t.Fatalf("metrics.listener: defined %v, default %q, doc %q", ok, key.Default, key.Doc)
	}
	tb := startBroker(t)
	if addr := tb.b.MetricsAddr(); addr != "" {
		t.Fatalf("MetricsAddr = %q without metrics.listener", addr)
	}
	// Still counted, for a program that exposes them itself.
	fams, err := tb.b.Gatherer().Gather()
	if err != nil || len(fams) == 0 {
		t.Fatalf("Gather: %d families, %v", len(fams), err)
	}
}

func TestMetricsListenerKey(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:9404", "https://127.0.0.1:9404", "http://127.0.0.1", "http://127.0.0.1:9404/metrics"} {
		_, err := testConfig(t.TempDir(), "metrics.listener="+bad)
		if err == nil || !strings.Contains(err.Error(), "metrics.listener") {
			t.Errorf("metrics.listener=%s: got %v, want an error naming the key", bad, err)
		}
	}
}

func TestMetricsHandleHTTP(t *testing.T) {
	tb := startBroker(t, "metrics.listener=http://127.0.0.1:0")
	tb.b.HandleHTTP("GET /ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page "+r.URL.Path)
	}))
	resp, err := http.Get("http://" + tb.b.MetricsAddr() + "/ui/topics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "page /ui/topics" {
		t.Fatalf("GET /ui/topics: %s %q", resp.Status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := tb.b.MetricsAddr()
	tb.stop()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the metrics listener still answers after Close")
	}
}

// BenchmarkMetricsProduce is what the metrics add to a produce: the
// topic's meters and the request's count and time.
func BenchmarkMetricsProduce(b *testing.B) {
	m := newBrokerMetrics(&Broker{})
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 11
	p := &pending{key: 0, reply: reply{resp: resp}}
	b.ReportAllocs()
	b.SetBytes(1000)
	for b.Loop() {
		m.appended("bench", 10, 1000)
		p.received = time.Now()
		m.requestDone(p)
	}
}
