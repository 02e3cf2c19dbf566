package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/group"
)

// Metrics (metrics.listener): the broker serves /metrics in Prometheus's
// text format on an HTTP listener of its own, off unless
// metrics.listener=http://host:port is set. Other packages may mount
// handlers on the same listener with HandleHTTP.
//
// Names are Kafka's JMX metrics as the Prometheus JMX exporter's Kafka
// example rules (kafka-2_0_0.yml) name them: the MBean's domain, type and
// name joined and lower-cased, a per-second meter's Count as a _total
// counter, the MBean's other keys as labels. So dashboards built for a
// Kafka broker behind the JMX exporter mostly work:
//
//	kafka_server_brokertopicmetrics_messagesin_total{topic}     MessagesInPerSec
//	kafka_server_brokertopicmetrics_bytesin_total{topic}        BytesInPerSec
//	kafka_server_brokertopicmetrics_bytesout_total{topic}       BytesOutPerSec
//	kafka_network_requestmetrics_requests_total{request,version}  RequestsPerSec
//	kafka_network_requestmetrics_totaltimems{request}           TotalTimeMs (a histogram)
//	kafka_server_delayedoperationpurgatory_purgatorysize{delayedOperation}
//	kafka_server_delayedoperationpurgatory_numdelayedoperations{delayedOperation}
//	kafka_log_log_size, _logendoffset, _logstartoffset, _numlogsegments{topic,partition}
//	kafka_server_replicamanager_partitioncount, _leadercount,
//	  _underreplicatedpartitions, _underminisrpartitioncount, _offlinereplicacount
//	kafka_controller_kafkacontroller_activecontrollercount, _offlinepartitionscount
//	kafka_server_socket_server_metrics_connection_count{listener}
//	kafka_server_socket_server_metrics_failed_authentication_total{listener}
//	kafka_server_socket_server_metrics_successful_authentication_total{listener}
//
// The broker-wide value of a BrokerTopicMetrics meter (Kafka's MBean
// without a topic key) carries topic="": Prometheus drops empty labels, so
// it is stored as the JMX exporter's series without the label.
//
// Kafka's request time histograms are Yammer histograms that the JMX
// exporter turns into quantile gauges; here TotalTimeMs is a Prometheus
// histogram in milliseconds (its _count is the exporter's, quantiles come
// from histogram_quantile). Fetches count under request="Fetch" and
// "FetchConsumer", as Kafka counts them.
//
// Consumer groups are reported as kafka-lag-exporter reports them (what
// Burrow and its dashboards read):
//
//	kafka_consumergroup_group_offset{group,topic,partition,member_host,consumer_id,client_id}
//	kafka_consumergroup_group_lag{...}   the partition's log end offset less the committed offset
//	kafka_consumergroup_group_max_lag{group}, kafka_consumergroup_group_sum_lag{group}
//	kafka_partition_latest_offset{topic,partition}, kafka_partition_earliest_offset{topic,partition}
//
// Sizes, offsets, connections, purgatories and groups are read when
// scraped; only the traffic counters are kept as the broker runs.

// metricsKey is the server.properties key of the metrics listener.
const metricsKey = "metrics.listener"

// metricsListenerAddr parses metrics.listener: "" (off) or
// http://host:port.
func metricsListenerAddr(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", errors.New("is not http://host:port")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", errors.New("is not http://host:port (the port is required)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("has port %q; want 0 to 65535", port)
	}
	return net.JoinHostPort(host, port), nil
}

func validMetricsListener(v any) error {
	s, _ := v.(string)
	_, err := metricsListenerAddr(s)
	return err
}

// kafkaAPINames are Kafka's names (ApiKeys.name, the request label of
// RequestMetrics) where kmsg spells them otherwise.
var kafkaAPINames = map[int16]string{
	4:  "LeaderAndIsr",
	17: "SaslHandshake",
	22: "InitProducerId",
	29: "DescribeAcls",
	30: "CreateAcls",
	31: "DeleteAcls",
	36: "SaslAuthenticate",
	45: "AlterPartitionReassignments",
	50: "DescribeUserScramCredentials",
	51: "AlterUserScramCredentials",
}

func kafkaAPIName(key int16) string {
	if n, ok := kafkaAPINames[key]; ok {
		return n
	}
	return kmsg.NameForKey(key)
}

// topicTraffic counts one topic's BrokerTopicMetrics meters.
type topicTraffic struct {
	messagesIn, bytesIn, bytesOut atomic.Int64
}

// brokerMetrics holds the broker's traffic counters and its metrics
// HTTP server. The counters are updated by the request handlers; the
// rest is read from the broker's state by collect when scraped.
type brokerMetrics struct {
	b   *Broker
	reg *prometheus.Registry
	mux *http.ServeMux

	all    topicTraffic
	topics sync.Map // topic name -> *topicTraffic

	requests    *prometheus.CounterVec
	requestTime *prometheus.HistogramVec
	authOK      *prometheus.CounterVec
	authFailed  *prometheus.CounterVec

	// produceWaiting counts produce requests whose answer waits for an
	// fsync (flush.messages reached): Kafka's produce purgatory.
	produceWaiting atomic.Int64

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

var (
	descMessagesIn   = prometheus.NewDesc("kafka_server_brokertopicmetrics_messagesin_total", "Records appended to the logs (Kafka's MessagesInPerSec), per topic; topic=\"\" is every topic.", []string{"topic"}, nil)
	descBytesIn      = prometheus.NewDesc("kafka_server_brokertopicmetrics_bytesin_total", "Bytes of record batches appended by producers (BytesInPerSec), per topic; topic=\"\" is every topic.", []string{"topic"}, nil)
	descBytesOut     = prometheus.NewDesc("kafka_server_brokertopicmetrics_bytesout_total", "Bytes of record batches sent to consumers (BytesOutPerSec), per topic; topic=\"\" is every topic.", []string{"topic"}, nil)
	descPurgatory    = prometheus.NewDesc("kafka_server_delayedoperationpurgatory_purgatorysize", "Requests waiting in a purgatory, counted once per partition they watch: long-poll fetches waiting for data, produces waiting for their fsync.", []string{"delayedOperation"}, nil)
	descDelayed      = prometheus.NewDesc("kafka_server_delayedoperationpurgatory_numdelayedoperations", "Requests waiting in a purgatory: long-poll fetches waiting for data, produces waiting for their fsync.", []string{"delayedOperation"}, nil)
	descLogSize      = prometheus.NewDesc("kafka_log_log_size", "Bytes in the partition's log segments.", []string{"topic", "partition"}, nil)
	descLogEnd       = prometheus.NewDesc("kafka_log_log_logendoffset", "The partition's log end offset (the offset of the next record).", []string{"topic", "partition"}, nil)
	descLogStart     = prometheus.NewDesc("kafka_log_log_logstartoffset", "The partition's log start offset (its first offset still stored).", []string{"topic", "partition"}, nil)
	descLogSegments  = prometheus.NewDesc("kafka_log_log_numlogsegments", "Segment files of the partition's log.", []string{"topic", "partition"}, nil)
	descPartitions   = prometheus.NewDesc("kafka_server_replicamanager_partitioncount", "Partitions on this broker.", nil, nil)
	descLeaders      = prometheus.NewDesc("kafka_server_replicamanager_leadercount", "Partitions this broker leads (all of them: it is one node).", nil, nil)
	descUnderRepl    = prometheus.NewDesc("kafka_server_replicamanager_underreplicatedpartitions", "Partitions with fewer in-sync replicas than replicas: 0 on one node.", nil, nil)
	descUnderMinIsr  = prometheus.NewDesc("kafka_server_replicamanager_underminisrpartitioncount", "Partitions with fewer in-sync replicas than min.insync.replicas: 0 on one node.", nil, nil)
	descOffline      = prometheus.NewDesc("kafka_server_replicamanager_offlinereplicacount", "Partitions whose log dir failed.", nil, nil)
	descController   = prometheus.NewDesc("kafka_controller_kafkacontroller_activecontrollercount", "1: this single node is its own controller.", nil, nil)
	descOfflineParts = prometheus.NewDesc("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a leader (their log dir failed).", nil, nil)
	descConnections  = prometheus.NewDesc("kafka_server_socket_server_metrics_connection_count", "Open client connections, per listener.", []string{"listener"}, nil)

	groupLabels         = []string{"group", "topic", "partition", "member_host", "consumer_id", "client_id"}
	descGroupOffset     = prometheus.NewDesc("kafka_consumergroup_group_offset", "The group's committed offset of the partition.", groupLabels, nil)
	descGroupLag        = prometheus.NewDesc("kafka_consumergroup_group_lag", "The partition's log end offset less the group's committed offset.", groupLabels, nil)
	descGroupMaxLag     = prometheus.NewDesc("kafka_consumergroup_group_max_lag", "The group's largest lag over its partitions.", []string{"group"}, nil)
	descGroupSumLag     = prometheus.NewDesc("kafka_consumergroup_group_sum_lag", "The group's lag summed over its partitions.", []string{"group"}, nil)
	descPartitionLatest = prometheus.NewDesc("kafka_partition_latest_offset", "The partition's log end offset.", []string{"topic", "partition"}, nil)
	descPartitionFirst  = prometheus.NewDesc("kafka_partition_earliest_offset", "The partition's log start offset.", []string{"topic", "partition"}, nil)
)

// requestTimeBuckets are the bounds, in milliseconds, of the request time
// histogram: from a cached metadata answer to a long-poll fetch.
var requestTimeBuckets = []float64{0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}

func newBrokerMetrics(b *Broker) *brokerMetrics {
	m := &brokerMetrics{
		b:   b,
		reg: prometheus.NewRegistry(),
		mux: http.NewServeMux(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_network_requestmetrics_requests_total",
			Help: "Requests answered, per API (Kafka's RequestsPerSec) and version.",
		}, []string{"request", "version"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kafka_network_requestmetrics_totaltimems",
			Help:    "Milliseconds from a request's arrival to its response being written (Kafka's TotalTimeMs), per API.",
			Buckets: requestTimeBuckets,
		}, []string{"request"}),
		authOK: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_server_socket_server_metrics_successful_authentication_total",
			Help: "Connections that authenticated with SASL, per listener.",
		}, []string{"listener"}),
		authFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kafka_server_socket_server_metrics_failed_authentication_total",
			Help: "Connections whose SASL authentication failed, per listener.",
		}, []string{"listener"}),
	}
	m.reg.MustRegister(m.requests, m.requestTime, m.authOK, m.authFailed, (*brokerCollector)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	return m
}

// HandleHTTP mounts h on the broker's metrics listener (metrics.listener)
// for the paths pattern matches (net/http.ServeMux patterns), beside
// /metrics: how a status page is served by the broker. It may be called
// before or after Start; with metrics.listener off nothing is served.
// Registering a pattern twice panics, as ServeMux.Handle does.
func (b *Broker) HandleHTTP(pattern string, h http.Handler) {
	b.metrics.mux.Handle(pattern, h)
}

// MetricsAddr is the bound host:port of the metrics listener, or "" when
// metrics.listener is off (or before Start).
func (b *Broker) MetricsAddr() string {
	if b.metrics.ln == nil {
		return ""
	}
	return b.metrics.ln.Addr().String()
}

// Gatherer returns the broker's metrics, as /metrics serves them, for a
// program that exposes them elsewhere.
func (b *Broker) Gatherer() prometheus.Gatherer { return b.metrics.reg }

// startMetrics binds metrics.listener, when set, and serves it until
// stopMetrics.
func (b *Broker) startMetrics(ctx context.Context) error {
	addr, err := metricsListenerAddr(b.cfg.MetricsListener)
	if err != nil {
		return fmt.Errorf("%s %q %w", metricsKey, b.cfg.MetricsListener, err)
	}
	if addr == "" {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", metricsKey, err)
	}
	m := b.metrics
	m.ln = ln
	m.srv = &http.Server{Handler: m.mux, ReadHeaderTimeout: 10 * time.Second}
	m.done = make(chan struct{})
	go func() { // owned by stopMetrics, which shuts the server down and waits
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("metrics listener stopped", "err", err)
		}
	}()
	b.log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}

// stopMetrics stops the metrics listener, letting scrapes in progress
// finish until ctx ends.
func (b *Broker) stopMetrics(ctx context.Context) {
	m := b.metrics
	if m == nil || m.srv == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.srv.Shutdown(sctx); err != nil {
		m.srv.Close()
	}
	<-m.done
}

// traffic returns the counters of topic.
func (m *brokerMetrics) traffic(topic string) *topicTraffic {
	if t, ok := m.topics.Load(topic); ok {
		return t.(*topicTraffic)
	}
	t, _ := m.topics.LoadOrStore(topic, &topicTraffic{})
	return t.(*topicTraffic)
}

// appended counts a batch of records appended to topic's log by a
// producer.
func (m *brokerMetrics) appended(topic string, records, bytes int64) {
	t := m.traffic(topic)
	t.messagesIn.Add(records)
	t.bytesIn.Add(bytes)
	m.all.messagesIn.Add(records)
	m.all.bytesIn.Add(bytes)
}

// fetched counts the record bytes of a fetch response about to be sent.
func (m *brokerMetrics) fetched(resp *kmsg.FetchResponse) {
	for i := range resp.Topics {
		rt := &resp.Topics[i]
		var n int64
		for j := range rt.Partitions {
			n += int64(len(rt.Partitions[j].RecordBatches))
		}
		if n > 0 {
			m.traffic(rt.Topic).bytesOut.Add(n)
			m.all.bytesOut.Add(n)
		}
	}
}

// parkProduce counts a produce whose answer waits for wait (its fsyncs)
// until wait returns.
func (m *brokerMetrics) parkProduce(wait func()) func() {
	m.produceWaiting.Add(1)
	var once sync.Once
	return func() {
		wait()
		once.Do(func() { m.produceWaiting.Add(-1) })
	}
}

// authenticated counts a SASL exchange's end on a listener.
func (m *brokerMetrics) authenticated(listener string, ok bool) {
	if ok {
		m.authOK.WithLabelValues(listener).Inc()
	} else {
		m.authFailed.WithLabelValues(listener).Inc()
	}
}

// requestDone counts a reply once it is encoded for the client.
func (m *brokerMetrics) requestDone(p *pending) {
	if p.resp == nil || p.received.IsZero() {
		return // a bare SASL token, not a Kafka request
	}
	ms := float64(time.Since(p.received)) / float64(time.Millisecond)
	version := strconv.Itoa(int(p.resp.GetVersion()))
	name := kafkaAPIName(p.key)
	m.requests.WithLabelValues(name, version).Inc()
	m.requestTime.WithLabelValues(name).Observe(ms)
	if p.key == 1 {
		// Kafka counts a consumer's fetch as Fetch and FetchConsumer.
		m.requests.WithLabelValues("FetchConsumer", version).Inc()
		m.requestTime.WithLabelValues("FetchConsumer").Observe(ms)
	}
}

// brokerCollector reads the broker's state when scraped.
type brokerCollector brokerMetrics

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessagesIn, descBytesIn, descBytesOut, descPurgatory, descDelayed,
		descLogSize, descLogEnd, descLogStart, descLogSegments, descPartitions, descLeaders, descUnderRepl,
		descUnderMinIsr, descOffline, descController, descOfflineParts, descConnections,
		descGroupOffset, descGroupLag, descGroupMaxLag, descGroupSumLag, descPartitionLatest, descPartitionFirst} {
		ch <- d
	}
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*brokerMetrics)(c)
	b := m.b
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}

	topics := b.topics()
	counter(descMessagesIn, m.all.messagesIn.Load(), "")
	counter(descBytesIn, m.all.bytesIn.Load(), "")
	counter(descBytesOut, m.all.bytesOut.Load(), "")
	m.topics.Range(func(k, v any) bool {
		name, t := k.(string), v.(*topicTraffic)
		if topics.byName[name] == nil {
			m.topics.Delete(name) // deleted: Kafka removes its meters too
			return true
		}
		counter(descMessagesIn, t.messagesIn.Load(), name)
		counter(descBytesIn, t.bytesIn.Load(), name)
		counter(descBytesOut, t.bytesOut.Load(), name)
		return true
	})

	// Partitions, and the fetches waiting on them.
	ends := map[string]map[int32]int64{}
	var parts, offline, watches int64
	waiting := map[chan struct{}]bool{}
	for name, t := range topics.byName {
		pe := map[int32]int64{}
		ends[name] = pe
		for _, p := range t.parts {
			if p == nil {
				continue
			}
			parts++
			if p.offline != nil {
				offline++
				continue
			}
			part := strconv.Itoa(int(p.index))
			end, start := p.log.EndOffset(), p.log.StartOffset()
			pe[p.index] = end
			gauge(descLogSize, p.log.Size(), name, part)
			gauge(descLogEnd, end, name, part)
			gauge(descLogStart, start, name, part)
			gauge(descLogSegments, int64(p.log.Segments()), name, part)
			gauge(descPartitionLatest, end, name, part)
			gauge(descPartitionFirst, start, name, part)
			if p.nwait.Load() > 0 {
				p.waitMu.Lock()
				for w := range p.waiters {
					waiting[w] = true
					watches++
				}
				p.waitMu.Unlock()
			}
		}
	}
	gauge(descPartitions, parts)
	gauge(descLeaders, parts-offline)
	gauge(descUnderRepl, 0)
	gauge(descUnderMinIsr, 0)
	gauge(descOffline, offline)
	gauge(descController, 1)
	gauge(descOfflineParts, offline)
	gauge(descPurgatory, watches, "Fetch")
	gauge(descDelayed, int64(len(waiting)), "Fetch")
	pw := m.produceWaiting.Load()
	gauge(descPurgatory, pw, "Produce")
	gauge(descDelayed, pw, "Produce")

	conns := map[string]int64{}
	for _, l := range b.listeners {
		conns[l.name] = 0
	}
	b.connMu.Lock()
	for cn := range b.conns {
		conns[cn.lis.name]++
	}
	b.connMu.Unlock()
	for name, n := range conns {
		gauge(descConnections, n, name)
	}

	m.collectGroups(ch, ends)
}

// collectGroups reports every group's committed offsets and lag, asking
// the coordinator as a client would (ListGroups, DescribeGroups,
// OffsetFetch).
func (m *brokerMetrics) collectGroups(ch chan<- prometheus.Metric, ends map[string]map[int32]int64) {
	coord := m.b.coord
	if coord == nil {
		return
	}
	ctx, cancel := context.WithTimeout(m.b.ctx, 5*time.Second)
	defer cancel()
	ctx = group.WithClient(ctx, "metrics", "")
	lreq := kmsg.NewPtrListGroupsRequest()
	lreq.Version = 4
	lresp, ok := coord.Handle(ctx, lreq).(*kmsg.ListGroupsResponse)
	if !ok || lresp.ErrorCode != 0 || len(lresp.Groups) == 0 {
		return
	}
	names := make([]string, 0, len(lresp.Groups))
	for _, g := range lresp.Groups {
		names = append(names, g.Group)
	}
	sort.Strings(names)

	// Who holds each partition, from the consumer protocol's assignments.
	type holder struct{ host, member, client string }
	holders := map[string]map[string]map[int32]holder{}
	dreq := kmsg.NewPtrDescribeGroupsRequest()
	dreq.Version = 5
	dreq.Groups = names
	if dresp, ok := coord.Handle(ctx, dreq).(*kmsg.DescribeGroupsResponse); ok {
		for _, g := range dresp.Groups {
			if g.ErrorCode != 0 || g.ProtocolType != "consumer" {
				continue
			}
			byTopic := map[string]map[int32]holder{}
			holders[g.Group] = byTopic
			for _, mem := range g.Members {
				var a kmsg.ConsumerMemberAssignment
				if a.ReadFrom(mem.MemberAssignment) != nil {
					continue
				}
				for _, t := range a.Topics {
					if byTopic[t.Topic] == nil {
						byTopic[t.Topic] = map[int32]holder{}
					}
					for _, p := range t.Partitions {
						byTopic[t.Topic][p] = holder{mem.ClientHost, mem.MemberID, mem.ClientID}
					}
				}
			}
		}
	}

	freq := kmsg.NewPtrOffsetFetchRequest()
	freq.Version = 8
	for _, g := range names {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = g
		freq.Groups = append(freq.Groups, rg)
	}
	fresp, ok := coord.Handle(ctx, freq).(*kmsg.OffsetFetchResponse)
	if !ok {
		return
	}
	for _, g := range fresp.Groups {
		if g.ErrorCode != 0 {
			continue
		}
		var maxLag, sumLag int64
		seen := false
		for _, t := range g.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 || p.Offset < 0 {
					continue
				}
				h := holders[g.Group][t.Topic][p.Partition]
				labels := []string{g.Group, t.Topic, strconv.Itoa(int(p.Partition)), h.host, h.member, h.client}
				ch <- prometheus.MustNewConstMetric(descGroupOffset, prometheus.GaugeValue, float64(p.Offset), labels...)
				end, ok := ends[t.Topic][p.Partition]
				if !ok {
					continue // the topic or partition is gone
				}
				lag := max(end-p.Offset, 0)
				ch <- prometheus.MustNewConstMetric(descGroupLag, prometheus.GaugeValue, float64(lag), labels...)
				maxLag = max(maxLag, lag)
				sumLag += lag
				seen = true
			}
		}
		if seen {
			ch <- prometheus.MustNewConstMetric(descGroupMaxLag, prometheus.GaugeValue, float64(maxLag), g.Group)
			ch <- prometheus.MustNewConstMetric(descGroupSumLag, prometheus.GaugeValue, float64(sumLag), g.Group)
		}
	}
}
