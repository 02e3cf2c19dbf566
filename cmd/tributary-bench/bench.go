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

	table     table
	errs      []error
	workerLog string // the first drain worker's output, for its GC settings
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

// failIf is fail for a non-nil err.
func (b *bench) failIf(stage string, err error) {
	if err != nil {
		b.fail(stage, err)
	}
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
	b.logf("%s: %s", src, mib(size))

	// 1. Pipeline drain, and 4. its peak RSS. The runs of the contenders
	// take turns, so that a busy moment of the machine is shared out.
	linesName := count(o.lines)
	var catT, drainT, drainCPU, drainPeak, kcatT, kcatCPU series
	for i := range o.runs {
		b.logf("run %d of %d: cat, connect-standalone drain, kcat pipeline", i+1, o.runs)
		d, err := b.cat(ctx, src)
		if err != nil {
			b.fail("cat", err)
		}
		catT.addDuration(d, err)
		dr, err := b.drain(ctx, src, "drain")
		if b.workerLog == "" {
			b.workerLog = dr.log
		}
		if err != nil {
			b.fail("drain", err)
		} else {
			b.logf("drain: %v, peak RSS %s, CPU %v", dr.dur.Round(time.Millisecond), mib(dr.peak), dr.cpu.Round(time.Millisecond))
		}
		drainT.addDuration(dr.dur, err)
		drainCPU.addDuration(dr.cpu, err)
		drainPeak.add(float64(dr.peak), err)
		if b.kcat != "" {
			kr, err := b.kcatPipeline(ctx, src, o.lines)
			if err != nil {
				b.fail("kcat pipeline", err)
			}
			kcatT.addDuration(kr.dur, err)
			kcatCPU.addDuration(kr.cpu, err)
		}
	}
	r := row{figure: linesName + "-line drain, file → topic → file (" + mib(size) + ")", target: "≤ 6× cat"}
	r.result, r.baseline = drainT.cell(numSecs, unitSecs), "cat "+catT.cell(numSecs, unitSecs)
	if x, ok := ratioOf(&drainT, &catT); ok {
		r.ratio, r.met = ratio(x), yes(x <= 6)
	}
	b.table.add(r)
	r = row{figure: linesName + "-line drain vs the kcat pipeline", target: "faster than kcat (ratio < 1)"}
	r.result = drainT.cell(numSecs, unitSecs)
	r.baseline = b.kcatCell("kcat -P and kcat -C -c N at once ", &kcatT, numSecs, unitSecs)
	if x, ok := ratioOf(&drainT, &kcatT); ok {
		r.ratio, r.met = ratio(x), yes(x < 1)
	}
	b.table.add(r)
	r = row{figure: linesName + "-line drain, CPU time (user + system) vs the kcat pipeline's", target: "—", met: "—"}
	r.result = drainCPU.cell(numSecs, unitSecs)
	r.baseline = b.kcatCell("kcat -P, kcat -C and broker ", &kcatCPU, numSecs, unitSecs)
	if x, ok := ratioOf(&drainCPU, &kcatCPU); ok {
		r.ratio = ratio(x)
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
	r = row{figure: "peak RSS of the worker during the " + linesName + "-line drain", baseline: "—", ratio: "—", target: "≤ 100 MiB"}
	r.result = drainPeak.cell(numMiB, unitMiB)
	if drainPeak.ok() {
		r.met = yes(drainPeak.spread().median <= 100<<20)
	}
	b.table.add(r)
	r = row{figure: "idle RSS of the worker", baseline: "—", ratio: "—", target: "≤ 30 MiB", result: "error"}
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
		var bigPeak series
		bigPeak.add(float64(bd.peak), err)
		r := row{figure: "peak RSS during the " + count(o.rssLines) + "-line drain (one run)", target: "flat: ≤ 1.1× the " + linesName + "-line drain's"}
		r.result = bigPeak.cell(numMiB, unitMiB)
		r.baseline = drainPeak.cell(numMiB, unitMiB)
		if x, ok := ratioOf(&bigPeak, &drainPeak); ok {
			r.ratio, r.met = ratio(x), yes(x <= 1.1)
		}
		b.table.add(r)
	}
}

// kcatCell is a baseline cell of kcat's, or why there is none.
func (b *bench) kcatCell(label string, s *series, num func(float64) string, unit string) string {
	if b.kcat == "" {
		return "kcat not used"
	}
	return label + s.cell(num, unit)
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

// cat times one `cat src > dst`.
func (b *bench) cat(ctx context.Context, src string) (time.Duration, error) {
	dst := filepath.Join(b.work, "cat.out")
	defer os.Remove(dst)
	out, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, "cat", src)
	cmd.Stdout = out
	t0 := time.Now()
	err = cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("cat: %w", err)
	}
	if err := out.Close(); err != nil {
		return 0, err
	}
	if err := sameFile(src, dst); err != nil {
		return 0, err
	}
	b.logf("cat: %v", d.Round(time.Millisecond))
	return d, nil
}

type drainResult struct {
	dur  time.Duration
	peak int64         // VmHWM of the worker
	cpu  time.Duration // user and system time of the worker
	log  string        // what the worker wrote to stdout and stderr
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
func (b *bench) drain(ctx context.Context, src, name string) (res drainResult, err error) {
	dir, err := b.dir(name)
	if err != nil {
		return res, err
	}
	defer b.removeDir(dir)
	out := filepath.Join(dir, "sink.txt")
	wf, sf, kf, err := workerFiles(dir, src, out, "access-log")
	if err != nil {
		return res, err
	}
	want := fileSize(src)
	t0 := time.Now()
	p, err := start("connect-standalone", dir, b.bin, "connect-standalone", wf, sf, kf)
	if err != nil {
		return res, err
	}
	defer func() {
		p.stop(time.Minute)
		res.log = p.out.String()
	}()
	timeout := time.Minute + time.Duration(want/1e6)*time.Second
	err = waitFor(ctx, p, timeout, 2*time.Millisecond, "the sink file to reach the source's size", func() bool {
		return fileSize(out) >= want
	})
	res.dur = time.Since(t0)
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
	cmd := exec.CommandContext(ctx, name, args...)
	var buf, errb lockedBuffer
	cmd.Stdout = &buf
	if out != nil {
		cmd.Stdout = out
	}
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return buf.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(errb.String(), 2000))
	}
	return buf.String(), nil
}

// kcatResult is one run of the kcat pipeline.
type kcatResult struct {
	dur time.Duration
	cpu time.Duration // both kcats' and the broker's user and system time
}

// kcatPipeline times kcat as a pipeline like the worker's drain: into a
// fresh `tributary broker` with the topic created, `kcat -C -c lines`
// starts first and `kcat -P -l src` at once after it; the time runs from
// the producer's start until the consumer's output has every line. (-e
// would end the consumer at the first end of partition it reaches, which
// comes before the producer is done.)
func (b *bench) kcatPipeline(ctx context.Context, src string, lines int) (kcatResult, error) {
	dir, err := b.dir("kcat")
	if err != nil {
		return kcatResult{}, err
	}
	defer b.removeDir(dir)
	p, addr, err := b.startBroker(ctx, dir)
	if err != nil {
		return kcatResult{}, err
	}
	defer p.stop(time.Minute)
	const topic = "access-log"
	if _, err := runTool(ctx, nil, b.bin, "topics", "--bootstrap-server", addr, "--create", "--topic", topic, "--partitions", "1", "--replication-factor", "1"); err != nil {
		return kcatResult{}, err
	}
	dst := filepath.Join(dir, "kcat.out")
	out, err := os.Create(dst)
	if err != nil {
		return kcatResult{}, err
	}
	defer out.Close()
	cons := exec.Command(b.kcat, "-C", "-b", addr, "-t", topic, "-o", "beginning", "-c", strconv.Itoa(lines), "-q")
	cons.Stdout = out
	prod := exec.Command(b.kcat, "-P", "-b", addr, "-t", topic, "-l", src)
	want := fileSize(src)
	brokerCPU0, err := procCPU(p.pid())
	if err != nil {
		return kcatResult{}, err
	}
	pl := &pipeline{consumer: cons, producer: prod, out: dst, want: want, poll: 2 * time.Millisecond,
		timeout: time.Minute + time.Duration(want/1e6)*time.Second}
	t, err := pl.run(ctx)
	if err != nil {
		return kcatResult{}, fmt.Errorf("kcat pipeline: %w", err)
	}
	brokerCPU, err := procCPU(p.pid())
	if err != nil {
		return kcatResult{}, err
	}
	brokerCPU -= brokerCPU0
	if err := out.Close(); err != nil {
		return kcatResult{}, err
	}
	if err := sameFile(src, dst); err != nil {
		return kcatResult{}, err
	}
	r := kcatResult{dur: t.elapsed(), cpu: t.producerCPU + t.consumerCPU + brokerCPU}
	b.logf("kcat pipeline: %v, CPU %v (kcat -P %v, kcat -C %v, broker %v)", r.dur.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
		t.producerCPU.Round(time.Millisecond), t.consumerCPU.Round(time.Millisecond), brokerCPU.Round(time.Millisecond))
	return r, nil
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

// brokerFigures runs benchmark 3 against `tributary broker` and kfake: in
// each run a fresh broker of each kind (kfake keeps every record in this
// process's memory, so a full one would slow the runs after it), a topic
// filled by producer-perf-test and read by consumer-perf-test, then read
// to files by console-consumer and kcat.
func (b *bench) brokerFigures(ctx context.Context) {
	var tribProd, tribCons, kfProd, kfCons, ccT, kcT series
	const topic = "perf"
	for i := range b.o.runs {
		b.logf("run %d of %d: producer-perf-test, consumer-perf-test (tributary broker, kfake), console-consumer and kcat -C to files", i+1, b.o.runs)
		b.brokerRun(ctx, topic, func(addr, kaddr string, brokerErr, kfErr error) {
			// perf runs one perf test against a broker that started.
			perf := func(s *series, stage string, test func(ctx context.Context, addr, topic string) (float64, error), addr string, up error) {
				if up == nil {
					v, err := test(ctx, addr, topic)
					b.failIf(stage, err)
					s.add(v, err)
				}
			}
			perf(&tribProd, "producer-perf-test (tributary)", b.producerPerf, addr, brokerErr)
			perf(&kfProd, "producer-perf-test (kfake)", b.producerPerf, kaddr, kfErr)
			perf(&tribCons, "consumer-perf-test (tributary)", b.consumerPerf, addr, brokerErr)
			perf(&kfCons, "consumer-perf-test (kfake)", b.consumerPerf, kaddr, kfErr)
			if brokerErr == nil {
				cc, kc, ccErr, kcErr := b.consumeToFile(ctx, addr, topic)
				ccT.addDuration(cc, ccErr)
				if b.kcat != "" {
					kcT.addDuration(kc, kcErr)
				}
			}
		})
	}
	const kfakeName = "kfake (in-memory, same process) "
	size := strconv.Itoa(b.o.recordSize) + " B"
	r := row{figure: "broker produce, " + count(b.o.records) + " × " + size + ", acks=all (producer-perf-test)", target: "≥ 2× kfake; ≥ 1M records/s"}
	r.result, r.baseline = tribProd.cell(numCount, unitPerSec), kfakeName+kfProd.cell(numCount, unitPerSec)
	if x, ok := ratioOf(&tribProd, &kfProd); ok {
		r.ratio, r.met = ratio(x), yes(x >= 2 && tribProd.spread().median >= 1e6)
	}
	b.table.add(r)
	r = row{figure: "broker consume (consumer-perf-test)", target: "—", met: "—"}
	r.result, r.baseline = tribCons.cell(numCount, unitPerSec), kfakeName+kfCons.cell(numCount, unitPerSec)
	if x, ok := ratioOf(&tribCons, &kfCons); ok {
		r.ratio = ratio(x)
	}
	b.table.add(r)
	r = row{figure: "consume to file, " + count(b.o.records) + " records (console-consumer > file)", target: "≤ 1× kcat"}
	r.result = ccT.cell(numSecs, unitSecs)
	r.baseline = b.kcatCell("kcat -C -e ", &kcT, numSecs, unitSecs)
	if x, ok := ratioOf(&ccT, &kcT); ok {
		r.ratio, r.met = ratio(x), yes(x <= 1)
	}
	b.table.add(r)
}

// brokerRun starts a fresh `tributary broker` and kfake, calls measure with
// their addresses (or why one did not start), and stops both.
func (b *bench) brokerRun(ctx context.Context, topic string, measure func(addr, kaddr string, brokerErr, kfErr error)) {
	dir, err := b.dir("broker")
	if err != nil {
		b.fail("broker", err)
		return
	}
	defer b.removeDir(dir)
	p, addr, brokerErr := b.startBroker(ctx, dir)
	if brokerErr != nil {
		b.fail("tributary broker", brokerErr)
	} else {
		defer p.stop(time.Minute)
	}
	var kaddr string
	c, kfErr := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if kfErr != nil {
		b.fail("kfake", kfErr)
	} else {
		defer c.Close()
		kaddr = c.ListenAddrs()[0]
	}
	measure(addr, kaddr, brokerErr, kfErr)
}

// consumeToFile times console-consumer and kcat reading the whole topic
// into files, and checks that both wrote the same number of bytes.
func (b *bench) consumeToFile(ctx context.Context, addr, topic string) (cc, kc time.Duration, ccErr, kcErr error) {
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
	ccOut, kcOut := filepath.Join(b.work, "console-consumer.out"), filepath.Join(b.work, "kcat.out")
	defer os.Remove(ccOut)
	defer os.Remove(kcOut)
	cc, ccErr = timeIt(ccOut, b.bin, "console-consumer", "--bootstrap-server", addr, "--topic", topic, "--from-beginning", "--max-messages", strconv.Itoa(b.o.records))
	b.failIf("console-consumer", ccErr)
	if b.kcat == "" {
		return cc, 0, ccErr, errNoKcat
	}
	kc, kcErr = timeIt(kcOut, b.kcat, "-C", "-b", addr, "-t", topic, "-o", "beginning", "-e", "-q")
	b.failIf("kcat -C", kcErr)
	if ccErr == nil && kcErr == nil {
		if a, k := fileSize(ccOut), fileSize(kcOut); a != k {
			ccErr = fmt.Errorf("console-consumer wrote %d bytes, kcat %d", a, k)
			b.fail("consume to file", ccErr)
		} else {
			b.logf("console-consumer %v, kcat %v (%s each)", cc.Round(time.Millisecond), kc.Round(time.Millisecond), mib(a))
		}
	}
	return cc, kc, ccErr, kcErr
}

// errNoKcat is a kcat baseline's error when kcat is not used.
var errNoKcat = errors.New("kcat not used")

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
