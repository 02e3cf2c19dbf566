// Command tributary-bench measures Tributary side by side with the tools a
// user would otherwise pick, in one run on one machine, and prints one
// Markdown table: each figure, its baseline from the same run, their ratio,
// the target and whether it is met.
//
//	go run ./cmd/tributary-bench            # 1M lines, 5 runs, 10 s of latency, 1M perf records
//	go run ./cmd/tributary-bench --quick    # a short run that only shows it all works
//
// It builds the tributary binary and drives it as a user would:
//
//  1. Pipeline drain: an N-line access log through connect-standalone on the
//     bundled broker (file → topic → file), timed from the worker's start
//     until the sink file has the source's size (then compared byte for
//     byte). Baselines: `cat src > dst`, and, with kcat on PATH, kcat as the
//     same kind of pipeline into a fresh `tributary broker`: `kcat -C -c N >
//     dst` started first and `kcat -P -l src` at once after it, timed from
//     the producer's start until dst has every line. The CPU time of both
//     pipelines is compared too: on a shared machine it drifts less than
//     elapsed time.
//  2. Append → sink latency: lines appended at fixed rates to a running
//     worker's source file; p50/p99/max of the time until each is in the
//     sink file.
//  3. Broker: producer-perf-test and consumer-perf-test against `tributary
//     broker` and against kfake, an in-memory fake Kafka started in this
//     process (same client); console-consumer > file against kcat -C -e >
//     file of the same full topic.
//  4. Memory: the worker's peak RSS (VmHWM) during the drain, and its RSS
//     once idle after start-up.
//
// Figures 1, 3 and the peak RSS are measured --runs times, the contenders
// taking turns, and shown as the median with the runs' range; ratios are of
// medians. Sizes are in MiB (2^20 bytes). The report names the GOGC and
// GOMEMLIMIT in force for each process: the worker's own defaults, which
// it logs, or the environment's, or Go's.
//
// Read the figures as ratios: machines are shared and absolute times drift.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tributary-bench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	lines       int
	runs        int
	rssLines    int
	rates       []int
	latencyDur  time.Duration
	records     int
	recordSize  int
	idleSettle  time.Duration
	binary      string
	workDir     string
	keep        bool
	noKcat      bool
	quick       bool
	commandLine string
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("tributary-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.lines, "lines", 1_000_000, "lines of the generated access log drained by benchmark 1")
	fs.IntVar(&o.runs, "runs", 5, "runs of each figure but latency and idle RSS, whose median and range are shown")
	fs.IntVar(&o.rssLines, "rss-lines", 0, "also drain a log of this many lines and compare its peak RSS with the first (e.g. 10000000); off when 0")
	rates := fs.String("rates", "1000,50000", "append rates of benchmark 2, lines a second, comma-separated")
	fs.DurationVar(&o.latencyDur, "latency-duration", 10*time.Second, "how long each rate of benchmark 2 writes")
	fs.IntVar(&o.records, "records", 1_000_000, "records of producer-perf-test, consumer-perf-test and the consume-to-file comparison")
	fs.IntVar(&o.recordSize, "record-size", 200, "bytes a record for producer-perf-test")
	fs.DurationVar(&o.idleSettle, "idle-settle", 3*time.Second, "how long the idle worker's RSS must stay put to count as settled")
	fs.StringVar(&o.binary, "binary", "", "tributary binary to measure (default: go build ./cmd/tributary into the work folder)")
	fs.StringVar(&o.workDir, "work", "", "folder for the logs, topics and outputs (default: a new temporary folder)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder")
	fs.BoolVar(&o.noKcat, "no-kcat", false, "skip the kcat baselines even when kcat is on PATH")
	fs.BoolVar(&o.quick, "quick", false, "a short run: 50000 lines and records, 2 runs, 2 s per latency rate, 1 s idle settle (unless set)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		if !set["lines"] {
			o.lines = 50_000
		}
		if !set["records"] {
			o.records = 50_000
		}
		if !set["runs"] {
			o.runs = 2
		}
		if !set["latency-duration"] {
			o.latencyDur = 2 * time.Second
		}
		if !set["idle-settle"] {
			o.idleSettle = time.Second
		}
	}
	var err error
	if o.rates, err = parseRates(*rates); err != nil {
		return nil, fmt.Errorf("--rates: %w", err)
	}
	if o.lines <= 0 || o.runs <= 0 || o.records <= 0 || o.recordSize <= 0 || o.latencyDur <= 0 {
		return nil, errors.New("--lines, --runs, --records, --record-size and --latency-duration must be positive")
	}
	o.commandLine = "go run ./cmd/tributary-bench"
	for _, a := range args {
		o.commandLine += " " + a
	}
	return o, nil
}

// runsNote says how to read the table's cells.
func runsNote(runs int) string {
	if runs == 1 {
		return "One run of each figure. Sizes in MiB (2^20 bytes)."
	}
	return fmt.Sprintf("Each figure but latency and idle RSS is the median of %d runs, "+
		"the runs' range (min–max) in brackets; the contenders' runs take turns. "+
		"Ratios and \"met?\" are of the medians. Sizes in MiB (2^20 bytes).", runs)
}

// run measures everything and prints the table to stdout; progress goes to
// stderr. A failed measurement shows in its row and makes run return an
// error once the table is printed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer b.cleanup()
	b.runAll(ctx)
	fmt.Fprintln(stdout, b.machine())
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "Command: `"+o.commandLine+"`")
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, runsNote(o.runs))
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, gcReport(b.workerLog, os.LookupEnv))
	fmt.Fprintln(stdout)
	b.table.print(stdout)
	return errors.Join(b.errs...)
}
