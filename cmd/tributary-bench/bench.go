package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tributary-io/tributary/cmd/internal/accesslog"
	"github.com/tributary-io/tributary/cmd/internal/latency"
)

// bench holds one run: its options, work folder, binary and results.
type bench struct {
	o      *options
	log    io.Writer
	begin  time.Time
	work   string
	bin    string
	kcat   string // path, "" when not used
	rmWork bool

	table table
	errs  []error
}

func newBench(ctx context.Context, o *options, log io.Writer) (*bench, error) {
	b := &bench{o: o, log: log, begin: time.Now()}
	if o.workDir == "" {
		d, err := os.MkdirTemp("", "tributary-bench-")
		if err != nil {
			return nil, err
		}
		b.work, b.rmWork = d, !o.keep
	} else {
		if err := os.MkdirAll(o.workDir, 0o755); err != nil {
			return nil, err
		}
		b.work = o.workDir
	}
	if !o.noKcat {
		b.kcat, _ = exec.LookPath("kcat")
	}
	b.bin = o.binary
	if b.bin == "" {
		b.bin = filepath.Join(b.work, "tributary")
		b.logf("building %s", b.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "github.com/tributary-io/tributary/cmd/tributary")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.cleanup()
			return nil, fmt.Errorf("go build: %w\n%s", err, out)
		}
	}
	return b, nil
}

func (b *bench) cleanup() {
	if b.rmWork {
		os.RemoveAll(b.work)
	} else {
		b.logf("work folder kept: %s", b.work)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[%6.1fs] %s\n", time.Since(b.begin).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) fail(stage string, err error) {
	b.logf("%s: %v", stage, err)
	b.errs = append(b.errs, fmt.Errorf("%s: %w", stage, err))
}

// dir makes a fresh folder for one stage.
func (b *bench) dir(name string) (string, error) {
	d := filepath.Join(b.work, name)
	if err := os.RemoveAll(d); err != nil {
		return "", err
	}
	return d, os.MkdirAll(d, 0o755)
}

func (b *bench) removeDir(d string) {
	if !b.o.keep {
		os.RemoveAll(d)
	}
}

// machine describes where the run happened.
func (b *bench) machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	s := fmt.Sprintf("Machine: %s, %d cores, %s %s/%s", cpu, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if b.kcat != "" {
		out, _ := exec.Command(b.kcat, "-V").CombinedOutput()
		if m := kcatVersionRE.FindStringSubmatch(string(out)); m != nil {
			s += "; kcat " + m[1] + " (librdkafka " + m[2] + ")"
		}
	} else {
		s += "; kcat not used"
	}
	return s
}

var kcatVersionRE = regexp.MustCompile(`Version (\S+) \(.*?librdkafka (\S+)`)

// runAll measures benchmarks 1 to 4 and fills the table.
func (b *bench) runAll(ctx context.Context) {
	o := b.o
	src := filepath.Join(b.work, "access.log")
	b.logf("generating %d access log lines", o.lines)
	if err := generate(src, o.lines); err != nil {
		b.fail("generate", err)
		return
	}
	size := fileSize(src)
	b.logf("%s: %.1f MB", src, float64(size)/1e6)

	// 1. Pipeline drain, and 4. its peak RSS.
	linesName := count(o.lines)
	catTime, catErr := b.cat(ctx, src)
	if catErr != nil {
		b.fail("cat", catErr)
	}
	b.logf("draining through connect-standalone")
	dr, drErr := b.drain(ctx, src, "drain")
	if drErr != nil {
		b.fail("drain", drErr)
	} else {
		b.logf("drain: %v, peak RSS %s, CPU %v", dr.dur.Round(time.Millisecond), mib(dr.peak), dr.cpu.Round(time.Millisecond))
	}
	var kcatTime, kcatCPU time.Duration
	var kcatErr error
	if b.kcat != "" {
		b.logf("kcat pipeline")
		kcatTime, kcatCPU, kcatErr = b.kcatPipeline(ctx, src)
		if kcatErr != nil {
			b.fail("kcat pipeline", kcatErr)
		}
	}
	r := row{figure: linesName + "-line drain, file → topic → file (" + mb(size) + ")", target: "≤ 6× cat"}
	r.result, r.baseline = cell(dr.dur, drErr, secs), "cat "+cell(catTime, catErr, secs)
	if drErr == nil && catErr == nil {
		x := dr.dur.Seconds() / catTime.Seconds()
		r.ratio, r.met = ratio(x), yes(x <= 6)
	}
	b.table.add(r)
	r = row{figure: linesName + "-line drain vs the kcat pipeline", target: "faster than kcat (ratio < 1)"}
	r.result = cell(dr.dur, drErr, secs)
	switch {
	case b.kcat == "":
		r.baseline = "kcat not installed"
	default:
		r.baseline = "kcat -P, kcat -C " + cell(kcatTime, kcatErr, secs)
		if drErr == nil && kcatErr == nil {
			x := dr.dur.Seconds() / kcatTime.Seconds()
			r.ratio, r.met = ratio(x), yes(x < 1)
		}
	}
	b.table.add(r)
	r = row{figure: linesName + "-line drain, CPU time (user + system) vs the kcat pipeline's", target: "—", met: "—"}
	r.result = cell(dr.cpu, drErr, secs)
	switch {
	case b.kcat == "":
		r.baseline = "kcat not installed"
	default:
		r.baseline = "kcat -P, kcat -C and broker " + cell(kcatCPU, kcatErr, secs)
		if drErr == nil && kcatErr == nil {
			r.ratio = ratio(dr.cpu.Seconds() / kcatCPU.Seconds())
		}
	}
	b.table.add(r)

	// 2. Latency, and 4. idle RSS, on one worker.
	idle, lats, latErr := b.idleAndLatency(ctx)
	for i, rate := range o.rates {
		r := row{figure: fmt.Sprintf("append → sink latency at %s lines/s (%v)", count(rate), o.latencyDur), baseline: "—", ratio: "—", target: "—", met: "—"}
		if rate == 1000 {
			r.target = "p99 ≤ 20 ms"
		}
		switch {
		case i < len(lats):
			l := lats[i]
			r.result = fmt.Sprintf("p50 %s, p99 %s, max %s", ms(l.P50), ms(l.P99), ms(l.Max))
			if rate == 1000 {
				r.met = yes(l.P99 <= 20*time.Millisecond)
			}
		case latErr != nil:
			r.result = "error"
		}
		b.table.add(r)
	}

	// 3. Broker.
	b.brokerFigures(ctx)

	// 4. Memory.
	r = row{figure: "peak RSS of the worker during the " + linesName + "-line drain", baseline: "—", ratio: "—", target: "≤ 100 MB"}
	r.result = cell(dr.peak, drErr, mib)
	if drErr == nil {
		r.met = yes(dr.peak <= 100<<20)
	}
	b.table.add(r)
	r = row{figure: "idle RSS of the worker", baseline: "—", ratio: "—", target: "≤ 30 MB"}
	r.result = cell(idle, latErr, mib)
	if idle > 0 {
		r.result, r.met = mib(idle), yes(idle <= 30<<20)
	}
	b.table.add(r)
	if o.rssLines > 0 {
		big := filepath.Join(b.work, "access-big.log")
		b.logf("generating %d access log lines", o.rssLines)
		err := generate(big, o.rssLines)
		var bd drainResult
		if err == nil {
			b.logf("draining %s lines", count(o.rssLines))
			bd, err = b.drain(ctx, big, "drain-big")
		}
		os.Remove(big)
		if err != nil {
			b.fail("large drain", err)
		} else {
			b.logf("large drain: %v, peak RSS %s", bd.dur.Round(time.Millisecond), mib(bd.peak))
		}
		r := row{figure: "peak RSS during the " + count(o.rssLines) + "-line drain", target: "flat: ≤ 1.1× the " + linesName + "-line drain's"}
		r.result = cell(bd.peak, err, mib)
		r.baseline = cell(dr.peak, drErr, mib)
		if err == nil && drErr == nil {
			x := float64(bd.peak) / float64(dr.peak)
			r.ratio, r.met = ratio(x), yes(x <= 1.1)
		}
		b.table.add(r)
	}
}

// generate writes n access log lines to path.
func generate(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	g := accesslog.New(1, time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC))
	if err := g.WriteLines(f, n); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cat times `cat src > dst`, the median of three runs.
func (b *bench) cat(ctx context.Context, src string) (time.Duration, error) {
	dst := filepath.Join(b.work, "cat.out")
	defer os.Remove(dst)
	var times []time.Duration
	for range 3 {
		out, err := os.Create(dst)
		if err != nil {
			return 0, err
		}
		cmd := exec.CommandContext(ctx, "cat", src)
		cmd.Stdout = out
		t0 := time.Now()
		err = cmd.Run()
		d := time.Since(t0)
		out.Close()
		if err != nil {
			return 0, fmt.Errorf("cat: %w", err)
		}
		times = append(times, d)
	}
	if err := sameFile(src, dst); err != nil {
		return 0, err
	}
	slices.Sort(times)
	b.logf("cat: %v (runs %v)", times[1], times)
	return times[1], nil
}

type drainResult struct {
	dur  time.Duration
	peak int64         // VmHWM of the worker
	cpu  time.Duration // user and system time of the worker
}

// workerFiles writes a worker file for the bundled broker on a free port
// and the source and sink files of one pipeline.
func workerFiles(dir, src, out, topic string) (worker, source, sink string, err error) {
	worker = filepath.Join(dir, "worker.properties")
	source = filepath.Join(dir, "source.properties")
	sink = filepath.Join(dir, "sink.properties")
	files := map[string][]string{
		worker: {
			"key.converter=org.apache.kafka.connect.storage.StringConverter",
			"value.converter=org.apache.kafka.connect.storage.StringConverter",
			"offset.storage.file.filename=" + filepath.Join(dir, "connect.offsets"),
			"offset.flush.interval.ms=10000",
			"listeners=http://127.0.0.1:0",
			"broker.listeners=PLAINTEXT://127.0.0.1:0",
			"broker.log.dirs=" + filepath.Join(dir, "kafka-logs"),
		},
		source: {"name=local-file-source", "connector.class=FileStreamSource", "tasks.max=1", "file=" + src, "topic=" + topic},
		sink:   {"name=local-file-sink", "connector.class=FileStreamSink", "tasks.max=1", "file=" + out, "topics=" + topic},
	}
	for path, lines := range files {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return "", "", "", err
		}
	}
	return worker, source, sink, nil
}

// drain runs connect-standalone on the bundled broker with src as its
// source and times it from start until the sink file has src's size; then
// it reads the worker's peak RSS, stops it and compares the files.
func (b *bench) drain(ctx context.Context, src, name string) (drainResult, error) {
	dir, err := b.dir(name)
	if err != nil {
		return drainResult{}, err
	}
	defer b.removeDir(dir)
	out := filepath.Join(dir, "sink.txt")
	wf, sf, kf, err := workerFiles(dir, src, out, "access-log")
	if err != nil {
		return drainResult{}, err
	}
	want := fileSize(src)
	t0 := time.Now()
	p, err := start("connect-standalone", dir, b.bin, "connect-standalone", wf, sf, kf)
	if err != nil {
		return drainResult{}, err
	}
	defer p.stop(time.Minute)
	timeout := time.Minute + time.Duration(want/1e6)*time.Second
	err = waitFor(ctx, p, timeout, 2*time.Millisecond, "the sink file to reach the source's size", func() bool {
		return fileSize(out) >= want
	})
	res := drainResult{dur: time.Since(t0)}
	if err != nil {
		return res, err
	}
	if res.peak, err = procStatus(p.pid(), "VmHWM"); err != nil {
		return res, err
	}
	if res.cpu, err = procCPU(p.pid()); err != nil {
		return res, err
	}
	if err := p.stop(time.Minute); err != nil {
		return res, err
	}
	if err := sameFile(src, out); err != nil {
		return res, err
	}
	return res, nil
}

// startBroker runs `tributary broker` on a free port with its data in dir.
func (b *bench) startBroker(ctx context.Context, dir string) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	props := filepath.Join(dir, "server.properties")
	lines := []string{
		"listeners=PLAINTEXT://" + addr,
		"log.dirs=" + filepath.Join(dir, "kafka-logs"),
		"group.initial.rebalance.delay.ms=0",
	}
	if err := os.WriteFile(props, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, "", err
	}
	p, err := start("tributary broker", dir, b.bin, "broker", props)
	if err != nil {
		return nil, "", err
	}
	if err := waitFor(ctx, p, 30*time.Second, 10*time.Millisecond, "the broker to listen", func() bool { return reachable(addr) }); err != nil {
		p.stop(10 * time.Second)
		return nil, "", err
	}
	return p, addr, nil
}

// runTool runs a command to completion, its standard output into out (nil:
// kept and returned).
func runTool(ctx context.Context, out io.Writer, name string, args ...string) (string, error) {
	s, _, err := runToolCPU(ctx, out, name, args...)
	return s, err
}

// runToolCPU is runTool that also returns the CPU time (user and system)
// the command used.
func runToolCPU(ctx context.Context, out io.Writer, name string, args ...string) (string, time.Duration, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var buf lockedBuffer
	var errb lockedBuffer
	cmd.Stdout = &buf
	if out != nil {
		cmd.Stdout = out
	}
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return buf.String(), 0, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(errb.String(), 2000))
	}
	return buf.String(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// kcatPipeline times `kcat -P -l src` into a fresh `tributary broker` and
// then `kcat -C -e > dst` of the same topic.
func (b *bench) kcatPipeline(ctx context.Context, src string) (time.Duration, time.Duration, error) {
	dir, err := b.dir("kcat")
	if err != nil {
		return 0, 0, err
	}
	defer b.removeDir(dir)
	p, addr, err := b.startBroker(ctx, dir)
	if err != nil {
		return 0, 0, err
	}
	defer p.stop(time.Minute)
	if _, err := runTool(ctx, nil, b.bin, "topics", "--bootstrap-server", addr, "--create", "--topic", "access-log", "--partitions", "1", "--replication-factor", "1"); err != nil {
		return 0, 0, err
	}
	dst := filepath.Join(dir, "kcat.out")
	out, err := os.Create(dst)
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	brokerCPU0, err := procCPU(p.pid())
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	_, pCPU, err := runToolCPU(ctx, nil, b.kcat, "-P", "-b", addr, "-t", "access-log", "-l", src)
	if err != nil {
		return 0, 0, err
	}
	_, cCPU, err := runToolCPU(ctx, out, b.kcat, "-C", "-b", addr, "-t", "access-log", "-o", "beginning", "-e", "-q")
	if err != nil {
		return 0, 0, err
	}
	d := time.Since(t0)
	brokerCPU, err := procCPU(p.pid())
	if err != nil {
		return 0, 0, err
	}
	cpu := pCPU + cCPU + brokerCPU - brokerCPU0
	if err := out.Close(); err != nil {
		return 0, 0, err
	}
	if err := sameFile(src, dst); err != nil {
		return 0, 0, err
	}
	b.logf("kcat pipeline: %v, CPU %v (kcat -P %v, kcat -C %v, broker %v)", d.Round(time.Millisecond), cpu.Round(time.Millisecond),
		pCPU.Round(time.Millisecond), cCPU.Round(time.Millisecond), (brokerCPU - brokerCPU0).Round(time.Millisecond))
	return d, cpu, nil
}

// idleAndLatency starts a worker on an empty source file, waits for its RSS
// to settle, then measures the latency at each rate.
func (b *bench) idleAndLatency(ctx context.Context) (idle int64, lats []latency.Result, err error) {
	defer func() {
		if err != nil {
			b.fail("idle RSS and latency", err)
		}
	}()
	dir, err := b.dir("latency")
	if err != nil {
		return 0, nil, err
	}
	defer b.removeDir(dir)
	src, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "sink.txt")
	if err := os.WriteFile(src, nil, 0o644); err != nil {
		return 0, nil, err
	}
	wf, sf, kf, err := workerFiles(dir, src, out, "latency")
	if err != nil {
		return 0, nil, err
	}
	b.logf("idle worker")
	p, err := start("connect-standalone", dir, b.bin, "connect-standalone", wf, sf, kf)
	if err != nil {
		return 0, nil, err
	}
	defer p.stop(time.Minute)
	if err := waitFor(ctx, p, time.Minute, 10*time.Millisecond, "the worker to start", func() bool {
		return strings.Contains(p.out.String(), "connect-standalone running")
	}); err != nil {
		return 0, nil, err
	}
	// Settled: no change above 2% for idleSettle, within 30 s.
	var since time.Time
	var ref int64
	err = waitFor(ctx, p, 30*time.Second+b.o.idleSettle, 100*time.Millisecond, "the idle RSS to settle", func() bool {
		rss, err := procStatus(p.pid(), "VmRSS")
		if err != nil {
			return false
		}
		idle = rss
		if ref == 0 || rss > ref+ref/50 || rss < ref-ref/50 {
			ref, since = rss, time.Now()
		}
		return time.Since(since) >= b.o.idleSettle
	})
	if err != nil {
		return idle, nil, err
	}
	b.logf("idle RSS %s", mib(idle))
	for _, rate := range b.o.rates {
		b.logf("latency at %d lines/s for %v", rate, b.o.latencyDur)
		res, err := latency.Measure(ctx, latency.Config{Source: src, Sink: out, Rate: rate, Duration: b.o.latencyDur, Timeout: time.Minute})
		if err != nil {
			return idle, lats, fmt.Errorf("latency at %d lines/s: %w", rate, err)
		}
		b.logf("latency at %d lines/s: %v", rate, res)
		lats = append(lats, res)
	}
	return idle, lats, nil
}

var producerRE = regexp.MustCompile(`(?m)^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency`)

// producerPerf runs producer-perf-test and returns records a second.
func (b *bench) producerPerf(ctx context.Context, addr, topic string) (float64, error) {
	out, err := runTool(ctx, nil, b.bin, "producer-perf-test", "--topic", topic,
		"--num-records", strconv.Itoa(b.o.records), "--record-size", strconv.Itoa(b.o.recordSize), "--throughput", "-1",
		"--producer-props", "acks=all", "bootstrap.servers="+addr)
	if err != nil {
		return 0, err
	}
	m := producerRE.FindAllStringSubmatch(out, -1)
	if m == nil {
		return 0, fmt.Errorf("producer-perf-test printed no summary:\n%s", tail(out, 2000))
	}
	last := m[len(m)-1]
	if n, _ := strconv.Atoi(last[1]); n != b.o.records {
		return 0, fmt.Errorf("producer-perf-test sent %s of %d records", last[1], b.o.records)
	}
	return strconv.ParseFloat(last[2], 64)
}

// consumerPerf runs consumer-perf-test and returns records a second.
func (b *bench) consumerPerf(ctx context.Context, addr, topic string) (float64, error) {
	out, err := runTool(ctx, nil, b.bin, "consumer-perf-test", "--bootstrap-server", addr, "--topic", topic,
		"--messages", strconv.Itoa(b.o.records), "--timeout", "30000")
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	f := strings.Split(lines[len(lines)-1], ", ")
	if len(f) < 6 {
		return 0, fmt.Errorf("consumer-perf-test printed no summary:\n%s", tail(out, 2000))
	}
	n, err := strconv.Atoi(f[4])
	if err != nil || n < b.o.records {
		return 0, fmt.Errorf("consumer-perf-test consumed %s of %d records:\n%s", f[4], b.o.records, tail(out, 2000))
	}
	return strconv.ParseFloat(f[5], 64)
}

// brokerFigures runs benchmark 3 against `tributary broker` and kfake.
func (b *bench) brokerFigures(ctx context.Context) {
	const topic = "perf"
	dir, err := b.dir("broker")
	if err != nil {
		b.fail("broker", err)
		return
	}
	defer b.removeDir(dir)
	var tribProd, tribCons, kfProd, kfCons float64
	var tribProdErr, tribConsErr, kfProdErr, kfConsErr error
	var ccTime, kcTime time.Duration
	var ccErr, kcErr error
	p, addr, err := b.startBroker(ctx, dir)
	if err != nil {
		b.fail("tributary broker", err)
		tribProdErr, tribConsErr, ccErr, kcErr = err, err, err, err
	} else {
		b.logf("producer-perf-test against tributary broker")
		if tribProd, tribProdErr = b.producerPerf(ctx, addr, topic); tribProdErr != nil {
			b.fail("producer-perf-test (tributary)", tribProdErr)
		}
		b.logf("consumer-perf-test against tributary broker")
		if tribCons, tribConsErr = b.consumerPerf(ctx, addr, topic); tribConsErr != nil {
			b.fail("consumer-perf-test (tributary)", tribConsErr)
		}
		b.logf("console-consumer and kcat -C to files")
		ccTime, kcTime, ccErr, kcErr = b.consumeToFile(ctx, dir, addr, topic)
		p.stop(time.Minute)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		b.fail("kfake", err)
		kfProdErr, kfConsErr = err, err
	} else {
		kaddr := c.ListenAddrs()[0]
		b.logf("producer-perf-test against kfake")
		if kfProd, kfProdErr = b.producerPerf(ctx, kaddr, topic); kfProdErr != nil {
			b.fail("producer-perf-test (kfake)", kfProdErr)
		}
		b.logf("consumer-perf-test against kfake")
		if kfCons, kfConsErr = b.consumerPerf(ctx, kaddr, topic); kfConsErr != nil {
			b.fail("consumer-perf-test (kfake)", kfConsErr)
		}
		c.Close()
	}
	size := strconv.Itoa(b.o.recordSize) + " B"
	r := row{figure: "broker produce, " + count(b.o.records) + " × " + size + ", acks=all (producer-perf-test)", target: "≥ 2× kfake; ≥ 1M records/s"}
	r.result, r.baseline = cell(tribProd, tribProdErr, perSec), "kfake "+cell(kfProd, kfProdErr, perSec)
	if tribProdErr == nil && kfProdErr == nil {
		x := tribProd / kfProd
		r.ratio, r.met = ratio(x), yes(x >= 2 && tribProd >= 1e6)
	}
	b.table.add(r)
	r = row{figure: "broker consume (consumer-perf-test)", target: "—", met: "—"}
	r.result, r.baseline = cell(tribCons, tribConsErr, perSec), "kfake "+cell(kfCons, kfConsErr, perSec)
	if tribConsErr == nil && kfConsErr == nil {
		r.ratio = ratio(tribCons / kfCons)
	}
	b.table.add(r)
	r = row{figure: "consume to file, " + count(b.o.records) + " records (console-consumer > file)", target: "≤ 1× kcat"}
	r.result = cell(ccTime, ccErr, secs)
	switch {
	case b.kcat == "":
		r.baseline = "kcat not installed"
	default:
		r.baseline = "kcat -C -e " + cell(kcTime, kcErr, secs)
		if ccErr == nil && kcErr == nil {
			x := ccTime.Seconds() / kcTime.Seconds()
			r.ratio, r.met = ratio(x), yes(x <= 1)
		}
	}
	b.table.add(r)
}

// consumeToFile times console-consumer and kcat reading the whole topic
// into files, and checks that both wrote the same number of bytes.
func (b *bench) consumeToFile(ctx context.Context, dir, addr, topic string) (cc, kc time.Duration, ccErr, kcErr error) {
	timeIt := func(path, name string, args ...string) (time.Duration, error) {
		f, err := os.Create(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		t0 := time.Now()
		if _, err := runTool(ctx, f, name, args...); err != nil {
			return 0, err
		}
		d := time.Since(t0)
		return d, f.Close()
	}
	ccOut, kcOut := filepath.Join(dir, "console-consumer.out"), filepath.Join(dir, "kcat.out")
	cc, ccErr = timeIt(ccOut, b.bin, "console-consumer", "--bootstrap-server", addr, "--topic", topic, "--from-beginning", "--max-messages", strconv.Itoa(b.o.records))
	if ccErr != nil {
		b.fail("console-consumer", ccErr)
	}
	if b.kcat == "" {
		return cc, 0, ccErr, errors.New("kcat not installed")
	}
	kc, kcErr = timeIt(kcOut, b.kcat, "-C", "-b", addr, "-t", topic, "-o", "beginning", "-e", "-q")
	if kcErr != nil {
		b.fail("kcat -C", kcErr)
	}
	if ccErr == nil && kcErr == nil {
		if a, k := fileSize(ccOut), fileSize(kcOut); a != k {
			ccErr = fmt.Errorf("console-consumer wrote %d bytes, kcat %d", a, k)
			b.fail("consume to file", ccErr)
		} else {
			b.logf("console-consumer %v, kcat %v (%s each)", cc.Round(time.Millisecond), kc.Round(time.Millisecond), mb(a))
		}
	}
	return cc, kc, ccErr, kcErr
}

// table is the report.
type table struct{ rows []row }

type row struct{ figure, result, baseline, ratio, target, met string }

func (t *table) add(r row) {
	if r.ratio == "" {
		r.ratio = "—"
	}
	if r.met == "" {
		r.met = "—"
	}
	t.rows = append(t.rows, r)
}

func (t *table) print(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintln(bw, "| figure | Tributary | baseline | ratio | target | met? |")
	fmt.Fprintln(bw, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range t.rows {
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s |\n", r.figure, r.result, r.baseline, r.ratio, r.target, r.met)
	}
}

func cell[T any](v T, err error, f func(T) string) string {
	if err != nil {
		return "error"
	}
	return f(v)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func ms(d time.Duration) string   { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
func mib(n int64) string          { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
func mb(n int64) string           { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
func perSec(x float64) string     { return count(int(x)) + " records/s" }
func ratio(x float64) string      { return fmt.Sprintf("%.2f×", x) }
func yes(ok bool) string          { return map[bool]string{true: "yes", false: "no"}[ok] }

// count writes n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func parseRates(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number of lines a second", f)
		}
		out = append(out, n)
	}
	return out, nil
}
