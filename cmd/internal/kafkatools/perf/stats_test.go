package perf

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestProduceStats(t *testing.T) {
	var b strings.Builder
	start := time.Unix(1000, 0)
	s := newProduceStats(&b, 4, start)
	s.record(10*time.Millisecond, 1024*1024, start.Add(time.Second))
	s.record(30*time.Millisecond, 1024*1024, start.Add(2*time.Second))
	if b.String() != "" {
		t.Fatalf("window printed early: %q", b.String())
	}
	s.record(20*time.Millisecond, 1024*1024, start.Add(5*time.Second))
	want := "3 records sent, 0.6 records/sec (0.60 MB/sec), 20.0 ms avg latency, 30.0 ms max latency.\n"
	if b.String() != want {
		t.Fatalf("window %q, want %q", b.String(), want)
	}
	b.Reset()
	s.record(40*time.Millisecond, 1024*1024, start.Add(6*time.Second))
	s.printTotal(start.Add(8 * time.Second))
	want = "4 records sent, 0.500000 records/sec (0.50 MB/sec), 25.00 ms avg latency, 40.00 ms max latency, 30 ms 50th, 40 ms 95th, 40 ms 99th, 40 ms 99.9th.\n"
	if b.String() != want {
		t.Fatalf("total %q, want %q", b.String(), want)
	}
}

func TestProduceStatsSampling(t *testing.T) {
	s := newProduceStats(&strings.Builder{}, 1_500_000, time.Now())
	if s.sampling != 3 {
		t.Fatalf("sampling %d", s.sampling)
	}
	for i := range 9 {
		s.record(time.Duration(i)*time.Millisecond, 1, s.start)
	}
	if !slices.Equal(s.latencies, []int{0, 3, 6}) {
		t.Fatalf("sampled %v", s.latencies)
	}
}

func TestPercentiles(t *testing.T) {
	var l []int
	for i := 1000; i > 0; i-- {
		l = append(l, i)
	}
	if got := percentiles(l, 0.5, 0.95, 0.99, 0.999); !slices.Equal(got, []int{501, 951, 991, 1000}) {
		t.Fatalf("%v", got)
	}
	if got := percentiles(nil, 0.5); got[0] != 0 {
		t.Fatalf("%v", got)
	}
}

func TestThrottler(t *testing.T) {
	start := time.Unix(0, 0)
	if d := (&throttler{target: -1, start: start}).pause(1e9, start.Add(time.Second)); d != 0 {
		t.Fatalf("-1 throttled: %v", d)
	}
	th := &throttler{target: 100, start: start}
	if d := th.pause(50, start.Add(time.Second)); d != 0 {
		t.Fatalf("under the rate: %v", d)
	}
	// Above the rate: 10ms a record.
	if d := th.pause(200, start.Add(time.Second)); d != 10*time.Millisecond {
		t.Fatalf("over the rate: %v", d)
	}
	th = &throttler{target: 1000, start: start}
	if d := th.pause(2000, start.Add(time.Second)); d != 0 {
		t.Fatalf("1ms deficit is kept for later, got %v", d)
	}
	if d := th.pause(2001, start.Add(time.Second)); d != 2*time.Millisecond {
		t.Fatalf("deficit of 2ms: %v", d)
	}
}
