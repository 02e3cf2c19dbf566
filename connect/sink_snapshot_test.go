package connect

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
)

func tp(p int32) topicPartition { return topicPartition{"t", p} }

func snap(flush uint64, task int, state string, next map[topicPartition]int64) string {
	return encodeSnapshot(sinkSnapshot{Flush: flush, Task: task, State: state, Next: entries(next, func(topicPartition, int64) bool { return true })})
}

// openRecorder is a sink task that records what Open is given.
type openRecorder struct{ opened [][]string }

func (o *openRecorder) Start(context.Context, *SinkTaskContext) error { return nil }
func (o *openRecorder) Open(_ context.Context, states []string) (string, error) {
	o.opened = append(o.opened, states)
	return "", nil
}
func (o *openRecorder) Put(context.Context, []SinkRecord) error { return nil }
func (o *openRecorder) Flush(context.Context) (string, error)   { return "", nil }
func (o *openRecorder) Stop() error                             { return nil }

func testRunner(task SinkTask) *sinkRunner {
	return &sinkRunner{
		life:      context.Background(),
		t:         &taskRuntime{log: slog.New(slog.DiscardHandler)},
		task:      task,
		assigned:  map[topicPartition]bool{},
		pos:       map[topicPartition]int64{},
		confirmed: map[topicPartition]int64{},
		needStart: map[topicPartition]bool{},
		hwm:       map[topicPartition]int64{},
		metaMax:   commitMetadataMax,
	}
}

// TestAssignPositions: where assigned partitions start, and what the task
// is handed to go back to.
func TestAssignPositions(t *testing.T) {
	legacy := `{"file":"/out.txt","size":70}`
	s5 := snap(5, 0, "size 500", map[topicPartition]int64{tp(0): 200, tp(1): 200, tp(3): 70, tp(4): 80})
	for _, c := range []struct {
		name      string
		recovered bool
		pos       map[topicPartition]int64 // before
		committed map[topicPartition]committedOffset
		assign    []topicPartition
		states    []string // given to Open
		wantPos   map[topicPartition]int64
		missing   []topicPartition
		seq       uint64
	}{{
		name:    "first start",
		assign:  []topicPartition{tp(0)},
		missing: []topicPartition{tp(0)},
		wantPos: map[topicPartition]int64{},
	}, {
		name:      "offsets of older versions",
		committed: map[topicPartition]committedOffset{tp(0): {10, legacy}, tp(1): {7, "member-1"}},
		assign:    []topicPartition{tp(0), tp(1)},
		states:    []string{legacy, "member-1"},
		wantPos:   map[topicPartition]int64{tp(0): 10, tp(1): 7},
	}, {
		// p1's commit of flush 5 failed: the snapshot carries it ahead; p3
		// (held elsewhere) is known committed that far, p4 is not.
		name: "newest snapshot, one partition behind",
		committed: map[topicPartition]committedOffset{
			tp(0): {200, s5},
			tp(1): {100, snap(4, 0, "size 300", map[topicPartition]int64{tp(0): 150, tp(1): 100})},
			tp(3): {70, ""},
			tp(4): {60, ""},
		},
		assign:  []topicPartition{tp(0), tp(1)},
		states:  []string{"size 500"},
		wantPos: map[topicPartition]int64{tp(0): 200, tp(1): 200, tp(4): 80},
		seq:     5,
	}, {
		name: "a later commit than the snapshot wins; other tasks' snapshots are not ours",
		committed: map[topicPartition]committedOffset{
			tp(0): {300, ""},
			tp(1): {200, s5},
			tp(2): {9, snap(9, 1, "task 1", map[topicPartition]int64{tp(2): 9})},
		},
		assign:  []topicPartition{tp(0), tp(1), tp(2)},
		states:  []string{"size 500"},
		wantPos: map[topicPartition]int64{tp(0): 300, tp(1): 200, tp(2): 9, tp(3): 70, tp(4): 80},
		seq:     5,
	}, {
		name: "a snapshot spread over partitions",
		committed: map[topicPartition]committedOffset{
			tp(0): {20, snap(7, 0, "size 90", map[topicPartition]int64{tp(0): 20})},
			tp(1): {30, snap(7, 0, "size 90", map[topicPartition]int64{tp(1): 30})},
		},
		assign:  []topicPartition{tp(0), tp(1)},
		states:  []string{"size 90"},
		wantPos: map[topicPartition]int64{tp(0): 20, tp(1): 30},
		seq:     7,
	}, {
		// Given back while others are held: nothing is cut, the output's
		// position wins over an older commit.
		name:      "while others are held",
		recovered: true,
		pos:       map[topicPartition]int64{tp(0): 500, tp(2): 50},
		committed: map[topicPartition]committedOffset{tp(0): {400, s5}, tp(2): {40, s5}, tp(5): {5, ""}},
		assign:    []topicPartition{tp(2), tp(5), tp(6)},
		wantPos:   map[topicPartition]int64{tp(0): 500, tp(2): 50, tp(5): 5},
		missing:   []topicPartition{tp(6)},
	}} {
		t.Run(c.name, func(t *testing.T) {
			task := &openRecorder{}
			r := testRunner(task)
			r.recovered = c.recovered
			for k, v := range c.pos {
				r.pos[k] = v
				if k == tp(0) {
					r.assigned[k] = true
				}
			}
			missing, err := r.assignLocked(context.Background(), c.assign, c.committed)
			if err != nil {
				t.Fatal(err)
			}
			if len(task.opened) != 1 || !reflect.DeepEqual(task.opened[0], c.states) {
				t.Errorf("Open given %q, want %q", task.opened, c.states)
			}
			if !reflect.DeepEqual(r.pos, c.wantPos) {
				t.Errorf("positions %v, want %v", r.pos, c.wantPos)
			}
			if !reflect.DeepEqual(missing, c.missing) {
				t.Errorf("missing %v, want %v", missing, c.missing)
			}
			if r.seq != c.seq {
				t.Errorf("flush number %d, want %d", r.seq, c.seq)
			}
		})
	}
}

// TestSnapshotMetadataFits: the whole snapshot when it fits; without the
// partitions known committed; each partition's own entry; nothing.
func TestSnapshotMetadataFits(t *testing.T) {
	pos := map[topicPartition]int64{}
	confirmed := map[topicPartition]int64{}
	offsets := map[topicPartition]int64{}
	for p := range int32(300) {
		pos[tp(p)] = 1_000_000 + int64(p)
		offsets[tp(p)] = pos[tp(p)]
		if p >= 2 {
			confirmed[tp(p)] = pos[tp(p)]
		}
	}
	pos[topicPartition{"released", 0}] = 77 // not assigned, not known committed
	s := sinkSnapshot{Flush: 3, State: `{"file":"/out.txt","size":123}`}
	for _, c := range []struct {
		limit int
		level int
		want  func(p topicPartition) map[topicPartition]int64 // entries of p's metadata
	}{
		{1 << 20, metadataWhole, func(topicPartition) map[topicPartition]int64 { return pos }},
		{commitMetadataMax, metadataPruned, func(topicPartition) map[topicPartition]int64 {
			return map[topicPartition]int64{tp(0): pos[tp(0)], tp(1): pos[tp(1)], {"released", 0}: 77}
		}},
		{120, metadataOwn, func(p topicPartition) map[topicPartition]int64 { return map[topicPartition]int64{p: pos[p]} }},
		{20, metadataNone, nil},
	} {
		md, level := snapshotMetadata(s, pos, confirmed, offsets, c.limit)
		if level != c.level {
			t.Fatalf("limit %d: level %d, want %d", c.limit, level, c.level)
		}
		if len(md) != len(offsets) {
			t.Fatalf("limit %d: metadata for %d partitions, want %d", c.limit, len(md), len(offsets))
		}
		for p, m := range md {
			if len(m) > c.limit {
				t.Fatalf("limit %d: %d bytes", c.limit, len(m))
			}
			if c.want == nil {
				if m != "" {
					t.Fatalf("limit %d: %q", c.limit, m)
				}
				continue
			}
			got, next, ok := newestSnapshot(0, map[topicPartition]committedOffset{p: {0, m}})
			if !ok || got.Flush != 3 || got.State != s.State || !reflect.DeepEqual(next, c.want(p)) {
				t.Fatalf("limit %d, %v: %q", c.limit, p, m)
			}
		}
	}
}

func TestParseSnapshotRejects(t *testing.T) {
	for _, md := range []string{
		"", "member-1", `{"file":"/out.txt","size":7}`, `{"sink_flush":0,"next":{}}`,
		`{"sink_flush":2}`, `{"sink_flush":2,"next":{"t":{"x":1}}}`, `{"sink_flush":-1,"next":{}}`,
	} {
		if s, ok := parseSnapshot(md); ok {
			t.Errorf("%q parsed as %+v", md, s)
		}
	}
	if _, ok := parseSnapshot(`{"sink_flush":2,"task":0,"state":"","next":{}}`); !ok {
		t.Error("an empty snapshot is one")
	}
}

// FuzzParseSnapshot: commit metadata comes from the cluster; reading it
// never panics, and what it accepts encodes back to an equal snapshot.
func FuzzParseSnapshot(f *testing.F) {
	f.Add(snap(12, 0, `{"file":"/o","size":5}`, map[topicPartition]int64{tp(0): 3, {"u", 7}: 9}))
	f.Add(`{"file":"/o","size":5}`)
	f.Add(`{"sink_flush":1,"next":{"t":{"-1":-5}}}`)
	f.Fuzz(func(t *testing.T, md string) {
		s, ok := parseSnapshot(md)
		if !ok {
			return
		}
		again, ok := parseSnapshot(encodeSnapshot(s))
		if !ok || !reflect.DeepEqual(s, again) {
			t.Fatalf("%q: %+v, then %+v", md, s, again)
		}
		newestSnapshot(s.Task, map[topicPartition]committedOffset{tp(0): {0, md}})
	})
}
