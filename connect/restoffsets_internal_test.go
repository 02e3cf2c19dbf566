package connect

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestMovedSnapshots: altering a sink's offsets moves its tasks'
// snapshots along, one flush newer with the same output state, so that a
// task started afterwards keeps its output and reads each altered
// partition from its new offset.
func TestMovedSnapshots(t *testing.T) {
	s0 := snap(3, 0, "S0", map[topicPartition]int64{tp(0): 5, tp(1): 7, tp(2): 2})
	s1 := snap(9, 1, "S1", map[topicPartition]int64{tp(2): 4})
	committed := map[topicPartition]committedOffset{
		tp(0): {5, s0},
		tp(1): {7, s0},
		tp(2): {4, s1}, // task 0 released it; task 1 has it now
		tp(3): {8, "legacy state"},
	}
	for _, c := range []struct {
		name  string
		want  map[topicPartition]int64
		out   map[topicPartition]committedOffset
		start map[int]map[topicPartition]int64 // a task's starts, given all partitions
	}{
		{
			name: "back",
			want: map[topicPartition]int64{tp(0): 4},
			out: map[topicPartition]committedOffset{
				tp(0): {4, snap(4, 0, "S0", map[topicPartition]int64{tp(0): 4, tp(1): 7, tp(2): 2})},
				tp(1): {7, snap(4, 0, "S0", map[topicPartition]int64{tp(0): 4, tp(1): 7, tp(2): 2})},
				tp(2): {4, snap(10, 1, "S1", map[topicPartition]int64{tp(2): 4})},
			},
			start: map[int]map[topicPartition]int64{0: {tp(0): 4, tp(1): 7, tp(2): 4, tp(3): 8}},
		},
		{
			name: "a partition named by two tasks, and a legacy one",
			want: map[topicPartition]int64{tp(2): 1, tp(3): 0},
			out: map[topicPartition]committedOffset{
				tp(0): {5, snap(4, 0, "S0", map[topicPartition]int64{tp(0): 5, tp(1): 7, tp(2): 1})},
				tp(1): {7, snap(4, 0, "S0", map[topicPartition]int64{tp(0): 5, tp(1): 7, tp(2): 1})},
				tp(2): {1, snap(10, 1, "S1", map[topicPartition]int64{tp(2): 1})},
				tp(3): {0, "legacy state"},
			},
			start: map[int]map[topicPartition]int64{0: {tp(0): 5, tp(1): 7, tp(2): 1, tp(3): 0}, 1: {tp(2): 1}},
		},
		{
			name: "removed",
			want: map[topicPartition]int64{tp(1): -1},
			out: map[topicPartition]committedOffset{
				tp(0): {5, snap(4, 0, "S0", map[topicPartition]int64{tp(0): 5, tp(2): 2})},
				tp(2): {4, snap(10, 1, "S1", map[topicPartition]int64{tp(2): 4})},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := movedSnapshots(committed, c.want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, c.out) {
				t.Fatalf("commit\n%v\nwant\n%v", out, c.out)
			}
			after := map[topicPartition]committedOffset{}
			for tp, co := range committed {
				if c.want[tp] >= 0 {
					after[tp] = co
				}
			}
			for tp, co := range out {
				after[tp] = co
			}
			for task, want := range c.start {
				rec := &openRecorder{}
				r := testRunner(rec)
				r.t.id = task
				var tps []topicPartition
				for tp := range want {
					tps = append(tps, tp)
				}
				if _, err := r.assignLocked(context.Background(), tps, after); err != nil {
					t.Fatal(err)
				}
				got := map[topicPartition]int64{}
				for _, tp := range tps {
					got[tp] = r.pos[tp]
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("task %d starts at %v, want %v", task, got, want)
				}
				if state := []string{"S0", "S1"}[task]; len(rec.opened) != 1 || !reflect.DeepEqual(rec.opened[0], []string{state}) {
					t.Errorf("task %d opened with %q, want [%s]", task, rec.opened, state)
				}
			}
		})
	}
	// Removing every carrier of task 0's snapshot while it names p2 would
	// lose its place in its output.
	_, err := movedSnapshots(committed, map[topicPartition]int64{tp(0): -1, tp(1): -1})
	var bad *badOffsets
	if !errors.As(err, &bad) {
		t.Fatalf("removing every carrier: %v", err)
	}
}
