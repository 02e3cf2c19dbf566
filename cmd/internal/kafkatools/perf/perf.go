// Package perf is the logic of `tributary producer-perf-test` and
// `tributary consumer-perf-test`, Kafka's kafka-producer-perf-test.sh and
// kafka-consumer-perf-test.sh: produce or consume a number of records as
// fast as allowed and print Kafka's figures, in Kafka's format.
//
// RunProducer sends random capital letters, the lines of a payload file or
// increasing numbers, held to a target rate as Kafka's ThroughputThrottler
// does; it prints a line per five-second window and a summary with
// percentiles of sampled latencies. RunConsumer reads in a consumer group
// and prints the rates over the whole run and over the fetch time alone
// (the run less the time spent joining the group), with times formatted by
// a java.text.SimpleDateFormat pattern. Misuse of the flags comes back as a
// usage error (package usage) before any broker is contacted.
package perf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
	"github.com/tributary-io/tributary/connect/data"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// ProducerOptions are the flags of kafka-producer-perf-test.sh, each field
// named after its flag.
type ProducerOptions struct {
	Topic            string   // --topic
	NumRecords       int64    // --num-records
	RecordSize       int      // --record-size
	PayloadFile      string   // --payload-file
	PayloadDelimiter string   // --payload-delimiter; `\n` means a newline
	PayloadMonotonic bool     // --payload-monotonic
	Throughput       float64  // --throughput in records a second; negative: no limit
	ProducerProps    []string // --producer-props key=value
	ProducerConfig   string   // --producer.config
	Bootstrap        string   // --bootstrap-server, instead of bootstrap.servers in the properties

	// Changed reports whether a flag (named without dashes, as
	// "num-records") was given on the command line, which Kafka's tool
	// requires of some; nil means none was.
	Changed func(flag string) bool
	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

func (o *ProducerOptions) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// producerProps checks the options and merges the producer's properties:
// --producer.config, then --producer-props, then --bootstrap-server.
func (o *ProducerOptions) producerProps() (map[string]string, error) {
	for _, req := range []string{"topic", "num-records", "throughput"} {
		if !o.changed(req) {
			return nil, usage.Errorf("argument --%s is required", req)
		}
	}
	payloads := 0
	for _, p := range []string{"record-size", "payload-file", "payload-monotonic"} {
		if o.changed(p) {
			payloads++
		}
	}
	switch {
	case payloads != 1:
		return nil, usage.Errorf("exactly one of --record-size, --payload-file and --payload-monotonic is required")
	case o.NumRecords <= 0:
		return nil, usage.Errorf("--num-records should be greater than zero")
	case o.changed("record-size") && o.RecordSize <= 0:
		return nil, usage.Errorf("--record-size should be greater than zero")
	case len(o.ProducerProps) == 0 && o.ProducerConfig == "" && o.Bootstrap == "":
		return nil, usage.Errorf("either --producer-props or --producer.config must be specified")
	}
	props, err := toolclient.Properties(o.ProducerConfig, nil)
	if err != nil {
		return nil, err
	}
	for _, kv := range o.ProducerProps {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.Contains(v, "=") {
			return nil, usage.Errorf("invalid property: %s", kv)
		}
		props[k] = v
	}
	if o.Bootstrap != "" {
		props["bootstrap.servers"] = o.Bootstrap
	}
	if props["bootstrap.servers"] == "" {
		props["bootstrap.servers"] = toolclient.DefaultBootstrap
	}
	if _, set := props["client.id"]; !set {
		props["client.id"] = "perf-producer-client"
	}
	return props, nil
}

// RunProducer checks the options, then produces NumRecords records and
// prints the figures on stdout.
func RunProducer(ctx context.Context, o ProducerOptions, stdout io.Writer) error {
	props, err := o.producerProps()
	if err != nil {
		return err
	}
	payloads, err := o.readPayloads(stdout)
	if err != nil {
		return err
	}
	return runProducer(ctx, o, props, payloads, stdout)
}

func (o *ProducerOptions) readPayloads(stdout io.Writer) ([][]byte, error) {
	if o.PayloadFile == "" {
		return nil, nil
	}
	abs, _ := filepath.Abs(o.PayloadFile)
	fmt.Fprintf(stdout, "Reading payloads from: %s\n", abs)
	data, err := os.ReadFile(o.PayloadFile)
	if err != nil {
		return nil, fmt.Errorf("--payload-file: %w", err)
	}
	if len(data) == 0 {
		return nil, errors.New("--payload-file: file does not exist or empty file provided")
	}
	delim := o.PayloadDelimiter
	if delim == `\n` {
		delim = "\n"
	}
	var payloads [][]byte
	for _, p := range bytes.Split(data, []byte(delim)) {
		if len(p) > 0 {
			payloads = append(payloads, p)
		}
	}
	fmt.Fprintf(stdout, "Number of messages read: %d\n", len(payloads))
	return payloads, nil
}

func runProducer(ctx context.Context, o ProducerOptions, props map[string]string, payloads [][]byte, stdout io.Writer) error {
	cl, err := toolclient.New(ctx, o.Logger, props, kafkaclient.Producer, kgo.DefaultProduceTopic(o.Topic))
	if err != nil {
		return err
	}
	defer cl.Close()

	rng := rand.New(rand.NewPCG(0, 0))
	var pool []byte
	if payloads == nil && !o.PayloadMonotonic {
		pool = randomLetters(rng, o.RecordSize+payloadPoolSlack)
	}
	start := time.Now()
	stats := newProduceStats(stdout, o.NumRecords, start)
	thr := throttler{target: o.Throughput, start: start}
	var (
		mu       sync.Mutex
		failed   int64
		firstErr error
	)
	for i := int64(0); i < o.NumRecords && ctx.Err() == nil; i++ {
		var payload []byte
		switch {
		case payloads != nil:
			payload = payloads[rng.IntN(len(payloads))]
		case o.PayloadMonotonic:
			payload = strconv.AppendInt(nil, i, 10)
		default:
			// A window of the random pool at a random place: records
			// differ without generating each one (the client does not
			// change values it is given).
			off := rng.IntN(payloadPoolSlack + 1)
			payload = pool[off : off+o.RecordSize : off+o.RecordSize]
		}
		sent := time.Now()
		cl.Produce(context.Background(), &kgo.Record{Value: payload}, func(r *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			now := time.Now()
			stats.record(now.Sub(sent), len(r.Value), now)
		})
		if d := thr.pause(i, sent); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
	}
	if err := cl.Flush(context.Background()); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	stats.printTotal(time.Now())
	if failed > 0 {
		return fmt.Errorf("%d records not sent, the first because: %w", failed, firstErr)
	}
	return nil
}

// payloadPoolSlack is how much longer than a record the pool of random
// letters that --record-size payloads are cut from is.
const payloadPoolSlack = 64 << 10

// randomLetters returns n random capital letters, as Kafka's
// ProducerPerformance fills its payloads.
func randomLetters(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; {
		r := rng.Uint64()
		for k := 0; k < 8 && i < n; k++ {
			b[i] = 'A' + byte((r&0xff)%26)
			r >>= 8
			i++
		}
	}
	return b
}

// ConsumerOptions are the flags of kafka-consumer-perf-test.sh, each field
// named after its flag.
type ConsumerOptions struct {
	Bootstrap         string // --bootstrap-server
	Topic             string // --topic
	Include           string // --include: a regular expression of topics, instead of Topic
	Messages          int64  // --messages
	Group             string // --group
	FetchSize         int32  // --fetch-size (max.partition.fetch.bytes)
	FromLatest        bool   // --from-latest
	ConsumerConfig    string // --consumer.config
	ShowDetailedStats bool   // --show-detailed-stats
	ReportingInterval int64  // --reporting-interval in ms
	DateFormat        string // --date-format: a java.text.SimpleDateFormat pattern
	HideHeader        bool   // --hide-header
	TimeoutMs         int64  // --timeout between two records

	// Changed reports whether a flag (named without dashes, as "group")
	// was given on the command line, which Kafka's tool requires of some;
	// nil means none was.
	Changed func(flag string) bool
	// Logger receives a failure to commit at the end and the client's
	// messages; nil discards them.
	Logger *slog.Logger
}

func (o *ConsumerOptions) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

// RunConsumer checks the options, then consumes Messages records and
// prints the figures on stdout.
func RunConsumer(ctx context.Context, o ConsumerOptions, stdout io.Writer) error {
	switch {
	case (o.Topic == "") == (o.Include == ""):
		return usage.Errorf("exactly one of --topic and --include is required")
	case !o.changed("messages"):
		return usage.Errorf("--messages is required")
	case o.Messages <= 0:
		return usage.Errorf("--messages should be greater than zero")
	case o.FetchSize <= 0:
		return usage.Errorf("--fetch-size should be greater than zero")
	case o.ReportingInterval <= 0:
		return usage.Errorf("--reporting-interval should be greater than zero")
	}
	date, err := parseDateFormat(o.DateFormat)
	if err != nil {
		return usage.Wrap(err)
	}
	props, err := toolclient.Properties(o.ConsumerConfig, nil)
	if err != nil {
		return err
	}
	props["bootstrap.servers"] = o.Bootstrap
	if o.changed("group") || props["group.id"] == "" {
		props["group.id"] = o.Group
	}
	if o.FromLatest {
		props["auto.offset.reset"] = "latest"
	} else if _, set := props["auto.offset.reset"]; !set {
		props["auto.offset.reset"] = "earliest"
	}
	props["max.partition.fetch.bytes"] = strconv.Itoa(int(o.FetchSize))
	if _, set := props["client.id"]; !set {
		props["client.id"] = "perf-consumer-client"
	}
	return runConsumer(ctx, o, props, date, stdout)
}

// joinClock measures the time a consumer spends joining its group, as
// Kafka's ConsumerPerformance does with its rebalance listener.
type joinClock struct {
	mu        sync.Mutex
	start     time.Time
	assigned  int
	total     time.Duration
	thisRound time.Duration
}

func (j *joinClock) assignedFn(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.assigned == 0 {
		d := time.Since(j.start)
		j.total += d
		j.thisRound += d
	}
	for _, ps := range m {
		j.assigned += len(ps)
	}
}

func (j *joinClock) revokedFn(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ps := range m {
		j.assigned -= len(ps)
	}
	if j.assigned <= 0 {
		j.assigned = 0
		j.start = time.Now()
	}
}

func (j *joinClock) read(resetRound bool) (total, round time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	total, round = j.total, j.thisRound
	if resetRound {
		j.thisRound = 0
	}
	return total, round
}

func runConsumer(ctx context.Context, o ConsumerOptions, props map[string]string, date *data.DateFormat, stdout io.Writer) error {
	if !o.HideHeader {
		if o.ShowDetailedStats {
			fmt.Fprintln(stdout, "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
		} else {
			fmt.Fprintln(stdout, "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
		}
	}
	start := time.Now()
	join := &joinClock{start: start}
	extra := []kgo.Opt{kgo.OnPartitionsAssigned(join.assignedFn), kgo.OnPartitionsRevoked(join.revokedFn), kgo.OnPartitionsLost(join.revokedFn)}
	if o.Include != "" {
		extra = append(extra, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+o.Include+")$"))
	} else {
		extra = append(extra, kgo.ConsumeTopics(o.Topic))
	}
	cl, err := toolclient.New(ctx, o.Logger, props, kafkaclient.Consumer, extra...)
	if err != nil {
		return err
	}
	defer cl.Close()

	const mb = 1024 * 1024
	var read, bytesRead, lastRead, lastBytes int64
	timeout := time.Duration(o.TimeoutMs) * time.Millisecond
	interval := time.Duration(o.ReportingInterval) * time.Millisecond
	lastConsumed, lastReport := time.Now(), time.Now()
	for read < o.Messages && ctx.Err() == nil {
		pctx, cancel := context.WithDeadline(ctx, lastConsumed.Add(timeout))
		fetches := cl.PollRecords(pctx, int(o.Messages-read))
		cancel()
		now := time.Now()
		n := 0
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			bytesRead += int64(len(r.Key) + len(r.Value))
		})
		read += int64(n)
		if n > 0 {
			lastConsumed = now
		} else if now.Sub(lastConsumed) > timeout || ctx.Err() != nil {
			break
		}
		if o.ShowDetailedStats && now.Sub(lastReport) >= interval {
			_, round := join.read(true)
			elapsed := float64(now.Sub(lastReport).Milliseconds())
			fetchMs := now.Sub(lastReport).Milliseconds() - round.Milliseconds()
			intervalMB := float64(bytesRead-lastBytes) / mb
			fetchMB, fetchMsgs := 0.0, 0.0
			if fetchMs > 0 {
				fetchMB = 1000 * intervalMB / float64(fetchMs)
				fetchMsgs = 1000 * float64(read-lastRead) / float64(fetchMs)
			}
			fmt.Fprintf(stdout, "%s, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n",
				date.Format(now), 0, float64(bytesRead)/mb, 1000*intervalMB/elapsed, read, 1000*float64(read-lastRead)/elapsed,
				round.Milliseconds(), fetchMs, fetchMB, fetchMsgs)
			lastReport, lastRead, lastBytes = now, read, bytesRead
		}
	}
	end := time.Now()
	if props["enable.auto.commit"] != "false" {
		// As the Java consumer does when it closes.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := cl.CommitUncommittedOffsets(cctx); err != nil && o.Logger != nil {
			o.Logger.Warn("commit offsets", "group", props["group.id"], "err", err)
		}
		cancel()
	}
	if read < o.Messages && ctx.Err() == nil {
		fmt.Fprintf(stdout, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. You can use the --timeout option to increase the timeout.\n", o.TimeoutMs)
	}
	if !o.ShowDetailedStats {
		total, _ := join.read(false)
		elapsed := end.Sub(start).Seconds()
		fetchMs := end.Sub(start).Milliseconds() - total.Milliseconds()
		totalMB := float64(bytesRead) / mb
		fmt.Fprintf(stdout, "%s, %s, %.4f, %s, %d, %s, %d, %d, %s, %s\n",
			date.Format(start), date.Format(end), totalMB, fixed4(totalMB/elapsed), read, fixed4(float64(read)/elapsed),
			total.Milliseconds(), fetchMs, fixed4(totalMB/(float64(fetchMs)/1000)), fixed4(float64(read)/(float64(fetchMs)/1000)))
	}
	return nil
}

// fixed4 is Java's String.format("%.4f", v): Infinity and NaN as Java
// prints them (a run whose fetching took under a millisecond divides by
// zero, as Kafka's tool does).
func fixed4(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
