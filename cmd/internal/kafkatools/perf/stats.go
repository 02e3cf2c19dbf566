package perf

import (
	"fmt"
	"io"
	"slices"
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
