package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connect/kafkaclient"
)

type producerPerfOptions struct {
	topic            string
	numRecords       int64
	recordSize       int
	payloadFile      string
	payloadDelimiter string
	payloadMonotonic bool
	throughput       float64
	producerProps    []string
	producerConfig   string
	bootstrap        string
}

func newProducerPerfTestCmd(a *app) *cobra.Command {
	var o producerPerfOptions
	cmd := &cobra.Command{
		Use:   "producer-perf-test",
		Short: "Measure how fast records can be produced (kafka-producer-perf-test.sh)",
		Long: `Produce --num-records records of --record-size random bytes (or lines of
--payload-file) as fast as --throughput allows (-1: no limit), printing a line
every five seconds and a summary with Kafka's figures: records/sec, MB/sec,
average and maximum latency and the 50th, 95th, 99th and 99.9th percentiles.
--producer-props takes any number of key=value producer properties.`,
		Example: `  tributary producer-perf-test --topic perf --num-records 1000000 --record-size 100 --throughput -1 --producer-props bootstrap.servers=localhost:9092 acks=1`,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			// --producer-props takes several values, as Kafka's does: the
			// key=value words after it arrive as arguments.
			if len(args) > 0 && !f.Changed("producer-props") {
				return usageErrorf("unexpected argument %q", args[0])
			}
			for _, arg := range args {
				if !strings.Contains(arg, "=") {
					return usageErrorf("unexpected argument %q: producer properties are key=value", arg)
				}
			}
			o.producerProps = append(o.producerProps, args...)
			for _, req := range []string{"topic", "num-records", "throughput"} {
				if !f.Changed(req) {
					return usageErrorf("argument --%s is required", req)
				}
			}
			payloads := 0
			for _, p := range []string{"record-size", "payload-file", "payload-monotonic"} {
				if f.Changed(p) {
					payloads++
				}
			}
			switch {
			case payloads != 1:
				return usageErrorf("exactly one of --record-size, --payload-file and --payload-monotonic is required")
			case o.numRecords <= 0:
				return usageErrorf("--num-records should be greater than zero")
			case f.Changed("record-size") && o.recordSize <= 0:
				return usageErrorf("--record-size should be greater than zero")
			case len(o.producerProps) == 0 && o.producerConfig == "" && o.bootstrap == "":
				return usageErrorf("either --producer-props or --producer.config must be specified")
			}
			props, err := loadProps(o.producerConfig)
			if err != nil {
				return err
			}
			for _, kv := range o.producerProps {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" || strings.Contains(v, "=") {
					return usageErrorf("invalid property: %s", kv)
				}
				props[k] = v
			}
			if o.bootstrap != "" {
				props["bootstrap.servers"] = o.bootstrap
			}
			if props["bootstrap.servers"] == "" {
				props["bootstrap.servers"] = defaultBootstrap
			}
			if _, set := props["client.id"]; !set {
				props["client.id"] = "perf-producer-client"
			}
			payloads2, err := o.readPayloads(a)
			if err != nil {
				return err
			}
			return runProducerPerf(cmd.Context(), a, o, props, payloads2)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.topic, "topic", "", "produce records to this topic (required)")
	f.Int64Var(&o.numRecords, "num-records", 0, "number of records to produce (required)")
	f.IntVar(&o.recordSize, "record-size", 0, "size of each record in bytes")
	f.StringVar(&o.payloadFile, "payload-file", "", "file of payloads, one picked at random for each record")
	f.StringVar(&o.payloadDelimiter, "payload-delimiter", `\n`, "what separates the payloads of --payload-file")
	f.BoolVar(&o.payloadMonotonic, "payload-monotonic", false, "payloads are the increasing numbers 0, 1, 2...")
	f.Float64Var(&o.throughput, "throughput", 0, "at most this many records per second; -1 for no limit (required)")
	f.StringArrayVar(&o.producerProps, "producer-props", nil, "producer properties key=value ..., such as bootstrap.servers=localhost:9092 acks=1")
	f.StringVar(&o.producerConfig, "producer.config", "", "producer property file; --producer-props take precedence")
	f.StringVar(&o.bootstrap, "bootstrap-server", "", "the Kafka broker(s) to connect to (instead of bootstrap.servers in --producer-props)")
	return cmd
}

func (o *producerPerfOptions) readPayloads(a *app) ([][]byte, error) {
	if o.payloadFile == "" {
		return nil, nil
	}
	abs, _ := filepath.Abs(o.payloadFile)
	fmt.Fprintf(a.stdout, "Reading payloads from: %s\n", abs)
	data, err := os.ReadFile(o.payloadFile)
	if err != nil {
		return nil, fmt.Errorf("--payload-file: %w", err)
	}
	if len(data) == 0 {
		return nil, errors.New("--payload-file: file does not exist or empty file provided")
	}
	delim := o.payloadDelimiter
	if delim == `\n` {
		delim = "\n"
	}
	var payloads [][]byte
	for _, p := range bytes.Split(data, []byte(delim)) {
		if len(p) > 0 {
			payloads = append(payloads, p)
		}
	}
	fmt.Fprintf(a.stdout, "Number of messages read: %d\n", len(payloads))
	return payloads, nil
}

func runProducerPerf(ctx context.Context, a *app, o producerPerfOptions, props map[string]string, payloads [][]byte) error {
	cl, err := a.toolClient(ctx, props, kafkaclient.Producer, kgo.DefaultProduceTopic(o.topic))
	if err != nil {
		return err
	}
	defer cl.Close()

	rng := rand.New(rand.NewPCG(0, 0))
	var pool []byte
	if payloads == nil && !o.payloadMonotonic {
		pool = randomLetters(rng, o.recordSize+payloadPoolSlack)
	}
	start := time.Now()
	stats := newProduceStats(a.stdout, o.numRecords, start)
	thr := throttler{target: o.throughput, start: start}
	var (
		mu       sync.Mutex
		failed   int64
		firstErr error
	)
	for i := int64(0); i < o.numRecords && ctx.Err() == nil; i++ {
		var payload []byte
		switch {
		case payloads != nil:
			payload = payloads[rng.IntN(len(payloads))]
		case o.payloadMonotonic:
			payload = strconv.AppendInt(nil, i, 10)
		default:
			// A window of the random pool at a random place: records
			// differ without generating each one (the client does not
			// change values it is given).
			off := rng.IntN(payloadPoolSlack + 1)
			payload = pool[off : off+o.recordSize : off+o.recordSize]
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

type consumerPerfOptions struct {
	bootstrap      string
	topic          string
	include        string
	messages       int64
	group          string
	fetchSize      int32
	fromLatest     bool
	consumerConfig string
	detailed       bool
	interval       int64
	dateFormat     string
	hideHeader     bool
	timeoutMs      int64
}

func newConsumerPerfTestCmd(a *app) *cobra.Command {
	var o consumerPerfOptions
	cmd := &cobra.Command{
		Use:   "consumer-perf-test",
		Short: "Measure how fast records can be consumed (kafka-consumer-perf-test.sh)",
		Long: `Consume --messages records of a topic in a consumer group and print Kafka's
summary: start and end time, MB and records consumed and per second, the
time spent joining the group, and the rates over the fetch time alone.`,
		Example: `  tributary consumer-perf-test --bootstrap-server localhost:9092 --topic perf --messages 1000000`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			switch {
			case (o.topic == "") == (o.include == ""):
				return usageErrorf("exactly one of --topic and --include is required")
			case !f.Changed("messages"):
				return usageErrorf("--messages is required")
			case o.messages <= 0:
				return usageErrorf("--messages should be greater than zero")
			case o.fetchSize <= 0:
				return usageErrorf("--fetch-size should be greater than zero")
			case o.interval <= 0:
				return usageErrorf("--reporting-interval should be greater than zero")
			}
			date, err := newJavaDate(o.dateFormat)
			if err != nil {
				return usageError{err}
			}
			props, err := loadProps(o.consumerConfig)
			if err != nil {
				return err
			}
			props["bootstrap.servers"] = o.bootstrap
			if f.Changed("group") || props["group.id"] == "" {
				props["group.id"] = o.group
			}
			if o.fromLatest {
				props["auto.offset.reset"] = "latest"
			} else if _, set := props["auto.offset.reset"]; !set {
				props["auto.offset.reset"] = "earliest"
			}
			props["max.partition.fetch.bytes"] = strconv.Itoa(int(o.fetchSize))
			if _, set := props["client.id"]; !set {
				props["client.id"] = "perf-consumer-client"
			}
			return runConsumerPerf(cmd.Context(), a, o, props, date)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.bootstrap, "bootstrap-server", defaultBootstrap, "the Kafka broker(s) to connect to, host:port[,host:port...]")
	f.StringVar(&o.topic, "topic", "", "the topic to consume")
	f.StringVar(&o.include, "include", "", "a regular expression of the topics to consume (instead of --topic)")
	f.Int64Var(&o.messages, "messages", 0, "the number of records to consume (required)")
	f.StringVar(&o.group, "group", fmt.Sprintf("perf-consumer-%d", rand.IntN(100000)), "the consumer group")
	f.Int32Var(&o.fetchSize, "fetch-size", 1024*1024, "the bytes to fetch per partition in one request (max.partition.fetch.bytes)")
	f.BoolVar(&o.fromLatest, "from-latest", false, "without a committed offset, start at the latest record rather than the earliest")
	f.StringVar(&o.consumerConfig, "consumer.config", "", "consumer property file")
	f.BoolVar(&o.detailed, "show-detailed-stats", false, "print figures every --reporting-interval")
	f.Int64Var(&o.interval, "reporting-interval", 5000, "ms between detailed figures")
	f.StringVar(&o.dateFormat, "date-format", "yyyy-MM-dd HH:mm:ss:SSS", "java.text.SimpleDateFormat pattern of the printed times")
	f.BoolVar(&o.hideHeader, "hide-header", false, "do not print the header line")
	f.Int64Var(&o.timeoutMs, "timeout", 10000, "the longest time in ms to wait between two records before giving up")
	return cmd
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

func runConsumerPerf(ctx context.Context, a *app, o consumerPerfOptions, props map[string]string, date javaDate) error {
	if !o.hideHeader {
		if o.detailed {
			fmt.Fprintln(a.stdout, "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
		} else {
			fmt.Fprintln(a.stdout, "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
		}
	}
	start := time.Now()
	join := &joinClock{start: start}
	extra := []kgo.Opt{kgo.OnPartitionsAssigned(join.assignedFn), kgo.OnPartitionsRevoked(join.revokedFn), kgo.OnPartitionsLost(join.revokedFn)}
	if o.include != "" {
		extra = append(extra, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+o.include+")$"))
	} else {
		extra = append(extra, kgo.ConsumeTopics(o.topic))
	}
	cl, err := a.toolClient(ctx, props, kafkaclient.Consumer, extra...)
	if err != nil {
		return err
	}
	defer cl.Close()

	const mb = 1024 * 1024
	var read, bytesRead, lastRead, lastBytes int64
	timeout := time.Duration(o.timeoutMs) * time.Millisecond
	interval := time.Duration(o.interval) * time.Millisecond
	lastConsumed, lastReport := time.Now(), time.Now()
	for read < o.messages && ctx.Err() == nil {
		pctx, cancel := context.WithDeadline(ctx, lastConsumed.Add(timeout))
		fetches := cl.PollRecords(pctx, int(o.messages-read))
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
		if o.detailed && now.Sub(lastReport) >= interval {
			_, round := join.read(true)
			elapsed := float64(now.Sub(lastReport).Milliseconds())
			fetchMs := now.Sub(lastReport).Milliseconds() - round.Milliseconds()
			intervalMB := float64(bytesRead-lastBytes) / mb
			fetchMB, fetchMsgs := 0.0, 0.0
			if fetchMs > 0 {
				fetchMB = 1000 * intervalMB / float64(fetchMs)
				fetchMsgs = 1000 * float64(read-lastRead) / float64(fetchMs)
			}
			fmt.Fprintf(a.stdout, "%s, %d, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n",
				date.format(now), 0, float64(bytesRead)/mb, 1000*intervalMB/elapsed, read, 1000*float64(read-lastRead)/elapsed,
				round.Milliseconds(), fetchMs, fetchMB, fetchMsgs)
			lastReport, lastRead, lastBytes = now, read, bytesRead
		}
	}
	end := time.Now()
	if props["enable.auto.commit"] != "false" {
		// As the Java consumer does when it closes.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := cl.CommitUncommittedOffsets(cctx); err != nil {
			a.log.Warn("commit offsets", "group", props["group.id"], "err", err)
		}
		cancel()
	}
	if read < o.messages && ctx.Err() == nil {
		fmt.Fprintf(a.stdout, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. You can use the --timeout option to increase the timeout.\n", o.timeoutMs)
	}
	if !o.detailed {
		total, _ := join.read(false)
		elapsed := end.Sub(start).Seconds()
		fetchMs := end.Sub(start).Milliseconds() - total.Milliseconds()
		totalMB := float64(bytesRead) / mb
		fmt.Fprintf(a.stdout, "%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f\n",
			date.format(start), date.format(end), totalMB, totalMB/elapsed, read, float64(read)/elapsed,
			total.Milliseconds(), fetchMs, totalMB/(float64(fetchMs)/1000), float64(read)/(float64(fetchMs)/1000))
	}
	return nil
}
