package group

import (
	"container/heap"
	"time"
)

// clock tells the time. Production uses the wall clock; tests use a fake
// that only moves when told to.
type clock interface {
	Now() time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// task is a function scheduled to run at a time, under the coordinator's
// mutex. index is its place in the heap, -1 once it ran or was stopped.
type task struct {
	at    time.Time
	seq   uint64
	fn    func()
	index int
}

// tasks is a min-heap of tasks by time, then by scheduling order.
type tasks []*task

func (h tasks) Len() int { return len(h) }
func (h tasks) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h tasks) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *tasks) Push(x any) {
	t := x.(*task)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *tasks) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// scheduler holds every timer of the coordinator: session expiry, the
// join deadline (rebalance timeout and initial delay), the pending-sync
// deadline, pending member expiry and the offsets retention check. It is
// guarded by Coordinator.mu; the coordinator's timer goroutine (or a test
// moving a fake clock) runs the due tasks.
type scheduler struct {
	heap tasks
	seq  uint64
	// wake is signalled when a task becomes the earliest, so that the
	// timer goroutine re-arms its timer.
	wake chan struct{}
}

func newScheduler() scheduler {
	return scheduler{wake: make(chan struct{}, 1)}
}

// after schedules fn to run d after now. Called with Coordinator.mu held.
func (s *scheduler) after(now time.Time, d time.Duration, fn func()) *task {
	s.seq++
	t := &task{at: now.Add(d), seq: s.seq, fn: fn}
	heap.Push(&s.heap, t)
	if t.index == 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return t
}

// stop removes t if it has not run yet. A nil t is fine.
func (s *scheduler) stop(t *task) {
	if t == nil || t.index < 0 {
		return
	}
	heap.Remove(&s.heap, t.index)
	t.index = -1
}

// stopAll drops every task; used by Close.
func (s *scheduler) stopAll() {
	for _, t := range s.heap {
		t.index = -1
	}
	s.heap = nil
}

// runDue runs, in order, every task due at or before now, including tasks
// that due tasks schedule for a time not after now.
func (s *scheduler) runDue(now time.Time) {
	for len(s.heap) > 0 && !s.heap[0].at.After(now) {
		t := heap.Pop(&s.heap).(*task)
		t.fn()
	}
}

// next returns when the earliest task is due.
func (s *scheduler) next() (time.Time, bool) {
	if len(s.heap) == 0 {
		return time.Time{}, false
	}
	return s.heap[0].at, true
}

// timerLoop runs due tasks until stop is closed. It is the coordinator's
// only timer goroutine; Close stops and waits for it.
func (c *Coordinator) timerLoop(stop <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		c.sched.runDue(c.clk.Now())
		at, ok := c.sched.next()
		c.mu.Unlock()

		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		if ok {
			t.Reset(max(time.Until(at), 0))
		}
		select {
		case <-stop:
			return
		case <-c.sched.wake:
		case <-t.C:
		}
	}
}
