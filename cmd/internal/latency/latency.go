// Package latency measures how long a line appended to a connector's source
// file takes to show up in its sink file.
//
// A writer appends lines at a fixed rate; each line starts with the time it
// was written (Unix nanoseconds, 19 digits) and its sequence number. A reader
// polls the sink file and, for each new line, takes the time it saw it
// minus the time in the line. Lines due in the same millisecond are written
// together, so rates far above 1000 lines a second cost few writes.
package latency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"
)

// Config says what to measure.
type Config struct {
	// Source is the file the connector tails (appended to); Sink is the
	// file it writes.
	Source, Sink string
	// Rate is lines a second; Duration how long to write.
	Rate     int
	Duration time.Duration
	// Timeout bounds the wait for the first line and for the last lines
	// after writing ends (30 s when zero).
	Timeout time.Duration
}

// Result holds the latencies of every line.
type Result struct {
	Lines              int
	P50, P90, P99, Max time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%d lines: p50 %v, p90 %v, p99 %v, max %v", r.Lines, r.P50, r.P90, r.P99, r.Max)
}

// padding brings a line to the size of a typical access log line.
const padding = " 192.0.2.39 - - [12/Mar/2026:14:02:12 +0000] \"GET /index.html HTTP/1.1\" 200 2326 \"-\" \"curl/8.5.0\""

// stampLen is the length of the time stamp that starts every line.
const stampLen = 19

// Measure writes Rate lines a second to Source for Duration and returns how
// long each took to reach Sink. It first writes one warm-up line and waits
// for it, so that the connectors are running when the clock starts. Lines
// already in Sink, or that do not start with a time stamp, are skipped.
func Measure(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Rate <= 0 || cfg.Duration <= 0 {
		return Result{}, errors.New("latency: rate and duration must be positive")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	f, err := os.OpenFile(cfg.Source, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	r := &reader{path: cfg.Sink, buf: make([]byte, 1<<20)}
	defer r.close()

	warm := fmt.Sprintf("warmup %d\n", time.Now().UnixNano())
	if _, err := f.WriteString(warm); err != nil {
		return Result{}, err
	}
	deadline := time.Now().Add(cfg.Timeout)
	for !r.seen([]byte(warm)) {
		if err := wait(ctx, deadline, "the warm-up line"); err != nil {
			return Result{}, err
		}
	}

	n := int(int64(cfg.Rate) * int64(cfg.Duration) / int64(time.Second))
	werr := make(chan error, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // owned by Measure: ends after n lines or on cancel
		werr <- write(wctx, f, cfg.Rate, n)
	}()
	writerDone := false
	defer func() { // on an early return: stop the writer before f is closed
		if !writerDone {
			cancel()
			<-werr
		}
	}()
	lat := make([]time.Duration, 0, n)
	deadline = time.Now().Add(cfg.Duration + cfg.Timeout)
	for len(lat) < n {
		got, err := r.lines(&lat)
		if err != nil {
			return Result{}, err
		}
		if got == 0 {
			if err := wait(ctx, deadline, fmt.Sprintf("line %d of %d", len(lat)+1, n)); err != nil {
				return Result{}, err
			}
		}
	}
	writerDone = true
	if err := <-werr; err != nil {
		return Result{}, err
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	return Result{Lines: len(lat), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: lat[len(lat)-1]}, nil
}

// wait pauses the reader between polls of the sink file.
func wait(ctx context.Context, deadline time.Time, what string) error {
	if time.Now().After(deadline) {
		return fmt.Errorf("latency: timed out waiting for %s in the sink file", what)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(200 * time.Microsecond):
		return nil
	}
}

// write appends n lines at rate lines a second, each stamped with the time
// of its write.
func write(ctx context.Context, f *os.File, rate, n int) error {
	start := time.Now()
	var buf []byte
	for i := 0; i < n; {
		due := min(n, int(int64(time.Since(start))*int64(rate)/int64(time.Second))+1)
		if due > i {
			buf = buf[:0]
			now := time.Now().UnixNano()
			for ; i < due; i++ {
				buf = strconv.AppendInt(buf, now, 10)
				buf = append(buf, ' ')
				buf = strconv.AppendInt(buf, int64(i), 10)
				buf = append(buf, padding...)
				buf = append(buf, '\n')
			}
			if _, err := f.Write(buf); err != nil {
				return err
			}
			continue
		}
		next := start.Add(time.Duration(int64(i) * int64(time.Second) / int64(rate)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
	return nil
}

// reader follows the sink file from where the warm-up line ended.
type reader struct {
	path    string
	f       *os.File
	pos     int64
	pending []byte
	buf     []byte
}

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
	}
}

func (r *reader) read() (int, error) {
	if r.f == nil {
		f, err := os.Open(r.path)
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		r.f = f
	}
	m, err := r.f.ReadAt(r.buf, r.pos)
	r.pos += int64(m)
	r.pending = append(r.pending, r.buf[:m]...)
	if err != nil && !errors.Is(err, io.EOF) {
		return m, fmt.Errorf("read %s: %w", r.path, err)
	}
	return m, nil
}

// seen reads on and reports whether line has arrived; what came before it
// is dropped.
func (r *reader) seen(line []byte) bool {
	if _, err := r.read(); err != nil {
		return false
	}
	if i := bytes.Index(r.pending, line); i >= 0 {
		r.pending = append(r.pending[:0], r.pending[i+len(line):]...)
		return true
	}
	if k := bytes.LastIndexByte(r.pending, '\n'); k >= 0 {
		r.pending = append(r.pending[:0], r.pending[k+1:]...)
	}
	return false
}

// lines reads on and appends the latency of each complete new line.
func (r *reader) lines(lat *[]time.Duration) (int, error) {
	m, err := r.read()
	if err != nil || m == 0 {
		return 0, err
	}
	now := time.Now()
	got := 0
	p := r.pending
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		line := p[:i]
		p = p[i+1:]
		if len(line) < stampLen {
			continue
		}
		ns, err := strconv.ParseInt(string(line[:stampLen]), 10, 64)
		if err != nil {
			continue
		}
		*lat = append(*lat, now.Sub(time.Unix(0, ns)))
		got++
	}
	r.pending = append(r.pending[:0], p...)
	return got, nil
}
