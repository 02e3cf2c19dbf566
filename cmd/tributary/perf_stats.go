package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// produceStats gathers producer-perf-test's figures as Kafka's
// ProducerPerformance does: every acknowledged record's latency and size,
// a line per reporting window, and a summary with percentiles computed
// from at most 500,000 sampled latencies.
type produceStats struct {
	mu sync.Mutex
	w  io.Writer

	start     time.Time
	latencies []int // sampled, in ms
	sampling  int64
	iteration int64
	interval  time.Duration
	label     string // " steady state" for the steady-state summary

	count, bytes, totalLatency int64
	maxLatency                 int

	windowStart                            time.Time
	windowCount, windowBytes, windowTotLat int64
	windowMaxLat                           int
	quiet                                  bool
}

func newProduceStats(w io.Writer, numRecords int64, start time.Time) *produceStats {
	sampling := numRecords / min(numRecords, 500000)
	return &produceStats{
		w:           w,
		start:       start,
		windowStart: start,
		sampling:    sampling,
		latencies:   make([]int, 0, numRecords/sampling+1),
		interval:    5 * time.Second,
	}
}

// record adds one acknowledged record, printing the window's line when the
// window is over.
func (s *produceStats) record(latency time.Duration, bytes int, now time.Time) {
	ms := int(latency.Milliseconds())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(bytes)
	s.totalLatency += int64(ms)
	s.maxLatency = max(s.maxLatency, ms)
	s.windowCount++
	s.windowBytes += int64(bytes)
	s.windowTotLat += int64(ms)
	s.windowMaxLat = max(s.windowMaxLat, ms)
	if s.iteration%s.sampling == 0 {
		s.latencies = append(s.latencies, ms)
	}
	if now.Sub(s.windowStart) >= s.interval {
		if !s.quiet {
			s.printWindow(now)
		}
		s.windowStart = now
		s.windowCount, s.windowBytes, s.windowTotLat, s.windowMaxLat = 0, 0, 0, 0
	}
	s.iteration++
}

func (s *produceStats) printWindow(now time.Time) {
	elapsed := float64(now.Sub(s.windowStart).Milliseconds())
	fmt.Fprintf(s.w, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		s.windowCount,
		1000*float64(s.windowCount)/elapsed,
		1000*float64(s.windowBytes)/elapsed/(1024*1024),
		float64(s.windowTotLat)/float64(s.windowCount),
		float64(s.windowMaxLat))
}

// printTotal writes the summary line.
func (s *produceStats) printTotal(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	elapsed := float64(max(now.Sub(s.start).Milliseconds(), 1))
	p := percentiles(s.latencies, 0.5, 0.95, 0.99, 0.999)
	avg := 0.0
	if s.count > 0 {
		avg = float64(s.totalLatency) / float64(s.count)
	}
	fmt.Fprintf(s.w, "%d%s records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		s.count, s.label,
		1000*float64(s.count)/elapsed,
		1000*float64(s.bytes)/elapsed/(1024*1024),
		avg, float64(s.maxLatency),
		p[0], p[1], p[2], p[3])
}

// percentiles returns the given percentiles of the latencies (which it
// sorts), as Kafka picks them: the value at index p*len.
func percentiles(latencies []int, ps ...float64) []int {
	slices.Sort(latencies)
	out := make([]int, len(ps))
	if len(latencies) == 0 {
		return out
	}
	for i, p := range ps {
		out[i] = latencies[min(int(p*float64(len(latencies))), len(latencies)-1)]
	}
	return out
}

// throttler holds a producer to a target rate as Kafka's
// ThroughputThrottler does: once the rate so far is above the target, it
// asks for a pause of 1/target per record, taken in pauses of at least 2ms.
type throttler struct {
	target  float64 // records per second; negative: no limit
	start   time.Time
	deficit time.Duration
}

// pause returns how long to wait before sending record n (counted from 0)
// at time now; zero means send now.
func (t *throttler) pause(n int64, now time.Time) time.Duration {
	if t.target < 0 {
		return 0
	}
	elapsed := now.Sub(t.start).Seconds()
	if elapsed <= 0 || float64(n)/elapsed <= t.target {
		return 0
	}
	if t.target == 0 {
		return time.Hour
	}
	t.deficit += time.Duration(float64(time.Second) / t.target)
	if t.deficit < 2*time.Millisecond {
		return 0
	}
	d := t.deficit
	t.deficit = 0
	return d
}

// javaDateLayout converts a java.text.SimpleDateFormat pattern (as in
// consumer-perf-test's --date-format) into a Go time layout. It knows the
// letters y M d H h m s S a Z X and quoted text; other letters are refused.
func javaDateLayout(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			if strings.HasPrefix(pattern[i:], "''") { // an escaped quote
				b.WriteByte('\'')
				i += 2
				continue
			}
			// Quoted text, in which '' is a quote.
			i++
			for {
				if i >= len(pattern) {
					return "", fmt.Errorf("date format %q: unterminated quote", pattern)
				}
				if pattern[i] == '\'' {
					if strings.HasPrefix(pattern[i:], "''") {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(pattern[i])
				i++
			}
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		var layout string
		switch {
		case c == 'y' && n == 2:
			layout = "06"
		case c == 'y':
			layout = "2006"
		case c == 'M' && n >= 4:
			layout = "January"
		case c == 'M' && n == 3:
			layout = "Jan"
		case c == 'M' && n == 2:
			layout = "01"
		case c == 'M':
			layout = "1"
		case c == 'd' && n == 2:
			layout = "02"
		case c == 'd':
			layout = "2"
		case c == 'H':
			layout = "15"
		case c == 'h' && n == 2:
			layout = "03"
		case c == 'h':
			layout = "3"
		case c == 'm' && n == 2:
			layout = "04"
		case c == 'm':
			layout = "4"
		case c == 's' && n == 2:
			layout = "05"
		case c == 's':
			layout = "5"
		case c == 'S':
			layout = strings.Repeat("0", n)
			// Go writes fractions only after a dot or comma.
			s := b.String()
			if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ",") {
				return "", fmt.Errorf("date format %q: milliseconds (S) must follow '.' or ','", pattern)
			}
		case c == 'a':
			layout = "PM"
		case c == 'Z':
			layout = "-0700"
		case c == 'X':
			layout = "Z07:00"
		default:
			return "", fmt.Errorf("date format %q: letter %q is not supported", pattern, c)
		}
		b.WriteString(layout)
		i += n
	}
	return b.String(), nil
}

// formatJavaDate formats t with a pattern that javaDateLayout converted,
// allowing the ':' before milliseconds that Kafka's default pattern
// "yyyy-MM-dd HH:mm:ss:SSS" uses.
type javaDate struct {
	layout   string
	colonSSS bool // the pattern's fraction follows ':', written by hand
}

func newJavaDate(pattern string) (javaDate, error) {
	if strings.HasSuffix(pattern, ":SSS") {
		l, err := javaDateLayout(strings.TrimSuffix(pattern, ":SSS"))
		return javaDate{layout: l, colonSSS: true}, err
	}
	l, err := javaDateLayout(pattern)
	return javaDate{layout: l}, err
}

func (d javaDate) format(t time.Time) string {
	s := t.Format(d.layout)
	if d.colonSSS {
		s += fmt.Sprintf(":%03d", t.Nanosecond()/int(time.Millisecond))
	}
	return s
}
