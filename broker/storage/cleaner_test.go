package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kv is a test record: a nil value is a tombstone, a nil key none.
type kv struct {
	key, value []byte
}

func rec(k, v string) kv { return kv{[]byte(k), []byte(v)} }
func tomb(k string) kv   { return kv{key: []byte(k)} }

// keyedBatch encodes records as a producer would, timestamps ts, ts+1,
// ..., compressed with codec.
func keyedBatch(t testing.TB, ts int64, codec int8, pid int64, seq int32, txn bool, recs ...kv) []byte {
	t.Helper()
	var body []byte
	for i, r := range recs {
		kr := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: r.key, Value: r.value}
		kr.Length = int32(len(kr.AppendTo(nil)) - 1)
		body = kr.AppendTo(body)
	}
	body, err := compress(body, codec)
	if err != nil {
		t.Fatal(err)
	}
	epoch := int16(-1)
	if pid < 0 {
		seq = -1
	} else {
		epoch = 0
	}
	attrs := int16(codec)
	if txn {
		attrs |= attrTransactional
	}
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: attrs,
		LastOffsetDelta: int32(len(recs) - 1), FirstTimestamp: ts, MaxTimestamp: ts + int64(len(recs)-1),
		ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq, NumRecords: int32(len(recs)), Records: body,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[offLength:], uint32(len(raw)-logOverhead))
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], castagnoli))
	return raw
}

// stored is one record read back from the log.
type stored struct {
	offset int64
	key    string
	value  string // "<nil>" for a tombstone
}

func (s stored) String() string { return fmt.Sprintf("%d:%s=%s", s.offset, s.key, s.value) }

// readRecords reads the log's data records from its start, checking each
// stored batch; control batches are left out.
func readRecords(t testing.TB, l *Log) []stored {
	t.Helper()
	var out []stored
	off := l.StartOffset()
	for off < l.EndOffset() {
		res, err := l.Read(nil, off, 1<<20, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(res.Records) == 0 {
			t.Fatalf("read at %d (end %d): no records", off, l.EndOffset())
		}
		for p := res.Records; len(p) > 0; {
			h, err := ParseHeader(p)
			if err != nil || int64(len(p)) < h.Size() {
				t.Fatalf("stored batch: %v", err)
			}
			if _, err := validateStored(p[:h.Size()]); err != nil {
				t.Fatalf("stored batch: %v", err)
			}
			b := p[:h.Size()]
			p = p[h.Size():]
			off = h.LastOffset() + 1
			if h.Control() {
				continue
			}
			records, err := batchRecords(b, &h, 1<<26)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := decodeRecords(records, h.NumRecords)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				o := h.BaseOffset + int64(r.offDelta)
				if o < res.LogStartOffset {
					continue
				}
				v := string(r.value)
				if r.nullValue {
					v = "<nil>"
				}
				out = append(out, stored{o, string(r.key), v})
			}
		}
	}
	return out
}

func compactOpts() Options {
	o := DefaultOptions()
	o.Compact, o.Delete = true, false
	o.SegmentBytes = 1 // one batch a segment
	return o
}

func mustClean(t testing.TB, l *Log, now time.Time, force bool) CleanResult {
	t.Helper()
	res, err := l.Clean(context.Background(), now, force)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCleanKeepsLatestPerKey(t *testing.T) {
	for _, codec := range []int8{0, 1, 2, 3, 4} {
		t.Run(fmt.Sprintf("codec%d", codec), func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, compactOpts(), true, 0)
			defer l.Close()
			ts := time.Now().UnixMilli()
			mustAppend(t, l, keyedBatch(t, ts, codec, -1, 0, false, rec("a", "a0"), rec("b", "b0"), rec("c", "c0"))) // 0-2
			mustAppend(t, l, keyedBatch(t, ts, codec, -1, 0, false, rec("a", "a1"), rec("b", "b1")))                 // 3-4
			mustAppend(t, l, keyedBatch(t, ts, codec, -1, 0, false, rec("a", "a2")))                                 // 5
			mustAppend(t, l, keyedBatch(t, ts, codec, -1, 0, false, rec("d", "d0"), rec("b", "b2")))                 // 6-7
			mustAppend(t, l, keyedBatch(t, ts, codec, -1, 0, false, rec("a", "a3")))                                 // 8: active
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			res := mustClean(t, l, time.Now(), false)
			if !res.Cleaned || res.CleanedTo != 8 || res.RecordsRemoved != 4 {
				t.Fatalf("clean: %+v", res)
			}
			want := []stored{{2, "c", "c0"}, {5, "a", "a2"}, {6, "d", "d0"}, {7, "b", "b2"}, {8, "a", "a3"}}
			if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
				t.Fatalf("after cleaning: %v, want %v", got, want)
			}
			if l.StartOffset() != 0 || l.EndOffset() != 9 {
				t.Fatalf("start %d end %d", l.StartOffset(), l.EndOffset())
			}
			// A fetch in a gap gets the next record kept.
			r, err := l.Read(nil, 3, 1<<20, true)
			if err != nil || len(r.Records) == 0 {
				t.Fatalf("read at 3: %v %d", err, len(r.Records))
			}
			if h, _ := ParseHeader(r.Records); h.BaseOffset != 5 {
				t.Fatalf("read at 3 got batch %d, want 5", h.BaseOffset)
			}
			// Nothing dirty: no second pass.
			if res := mustClean(t, l, time.Now(), false); res.Cleaned {
				t.Fatalf("second pass ran: %+v", res)
			}
			// The cleaned log is what Open finds, trusted or recovered.
			l.Close()
			for _, clean := range []bool{true, false} {
				l2 := openLog(t, dir, compactOpts(), clean, 0)
				if got := readRecords(t, l2); !reflect.DeepEqual(got, want) {
					t.Fatalf("reopened (clean %v): %v, want %v", clean, got, want)
				}
				if l2.EndOffset() != 9 || l2.CleanerCheckpoint() != 8 {
					t.Fatalf("reopened: end %d checkpoint %d", l2.EndOffset(), l2.CleanerCheckpoint())
				}
				l2.Close()
			}
		})
	}
}

func TestCleanIndexes(t *testing.T) {
	dir := t.TempDir()
	o := compactOpts()
	o.SegmentBytes = 4096
	o.IndexIntervalBytes = 1
	l := openLog(t, dir, o, true, 0)
	defer l.Close()
	base := int64(1_000_000)
	// 200 records, one a batch, keys k0..k9, then a record in a new
	// segment.
	for i := 0; i < 200; i++ {
		mustAppend(t, l, keyedBatch(t, base+int64(i), 0, -1, 0, false, rec(fmt.Sprintf("k%d", i%10), fmt.Sprintf("v%d", i))))
	}
	o.SegmentBytes = 1
	l.SetOptions(o)
	mustAppend(t, l, keyedBatch(t, base+500, 0, -1, 0, false, rec("z", "z")))
	l.Flush()
	mustClean(t, l, time.Now(), true)
	got := readRecords(t, l)
	if len(got) != 11 {
		t.Fatalf("kept %v", got)
	}
	for i, r := range got[:10] {
		if r.offset != int64(190+i) {
			t.Fatalf("kept %v", got)
		}
	}
	check := func(l *Log) {
		t.Helper()
		for _, c := range []struct{ ts, off int64 }{{base, 190}, {base + 150, 190}, {base + 195, 195}, {base + 199, 199}, {base + 300, 200}} {
			off, _, ok, err := l.OffsetForTimestamp(c.ts)
			if err != nil || !ok || off != c.off {
				t.Fatalf("offset for %d: %d %v %v, want %d", c.ts, off, ok, err, c.off)
			}
		}
		for o := int64(0); o <= 200; o += 7 {
			r, err := l.Read(nil, o, 100, true)
			if err != nil || len(r.Records) == 0 {
				t.Fatalf("read %d: %v", o, err)
			}
			h, _ := ParseHeader(r.Records)
			if h.LastOffset() < o || (o < 190 && h.BaseOffset != 190) {
				t.Fatalf("read %d got batch %d", o, h.BaseOffset)
			}
		}
	}
	check(l)
	l.Close()
	l = openLog(t, dir, o, true, 0)
	check(l)
	l.Close()
	l = openLog(t, dir, o, false, 0)
	check(l)
}

func TestCleanTombstones(t *testing.T) {
	dir := t.TempDir()
	o := compactOpts()
	o.DeleteRetention = time.Hour
	l := openLog(t, dir, o, true, 0)
	defer l.Close()
	ts := time.Now().UnixMilli()
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "a0"), rec("b", "b0"))) // 0-1
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, tomb("a"), rec("c", "c0")))      // 2-3
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("x", "x")))                  // 4 active
	l.Flush()
	now := time.Now()
	mustClean(t, l, now, false)
	want := []stored{{1, "b", "b0"}, {2, "a", "<nil>"}, {3, "c", "c0"}, {4, "x", "x"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("first pass: %v, want %v", got, want)
	}
	// The tombstone's batch carries its delete horizon; record timestamps
	// are unchanged.
	r, _ := l.Read(nil, 2, 1<<20, true)
	h, _ := ParseHeader(r.Records)
	if h.Attributes&attrDeleteHorizon == 0 || h.BaseTimestamp != now.Add(time.Hour).UnixMilli() {
		t.Fatalf("tombstone batch: attributes %x base timestamp %d", h.Attributes, h.BaseTimestamp)
	}
	recs, err := decodeRecords(r.Records[BatchHeaderSize:h.Size()], h.NumRecords)
	if err != nil || len(recs) != 2 || h.BaseTimestamp+recs[0].tsDelta != ts || h.BaseTimestamp+recs[1].tsDelta != ts+1 {
		t.Fatalf("record timestamps changed: %+v %v", recs, err)
	}
	// Before the horizon it stays; after, it goes.
	mustClean(t, l, now.Add(59*time.Minute), true)
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("before the horizon: %v, want %v", got, want)
	}
	mustClean(t, l, now.Add(61*time.Minute), true)
	want = []stored{{1, "b", "b0"}, {3, "c", "c0"}, {4, "x", "x"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the horizon: %v, want %v", got, want)
	}
}

func TestCleanMinCompactionLag(t *testing.T) {
	dir := t.TempDir()
	o := compactOpts()
	o.MinCompactionLag = time.Hour
	l := openLog(t, dir, o, true, 0)
	defer l.Close()
	now := time.Now()
	old, recent := now.Add(-2*time.Hour).UnixMilli(), now.Add(-time.Minute).UnixMilli()
	mustAppend(t, l, keyedBatch(t, old, 0, -1, 0, false, rec("a", "a0")))    // 0
	mustAppend(t, l, keyedBatch(t, old, 0, -1, 0, false, rec("a", "a1")))    // 1
	mustAppend(t, l, keyedBatch(t, recent, 0, -1, 0, false, rec("a", "a2"))) // 2: too recent
	mustAppend(t, l, keyedBatch(t, old, 0, -1, 0, false, rec("a", "a3")))    // 3: after it
	mustAppend(t, l, keyedBatch(t, old, 0, -1, 0, false, rec("z", "z")))     // 4: active
	l.Flush()
	res := mustClean(t, l, now, false)
	if res.CleanedTo != 2 {
		t.Fatalf("cleaned to %d, want 2", res.CleanedTo)
	}
	want := []stored{{1, "a", "a1"}, {2, "a", "a2"}, {3, "a", "a3"}, {4, "z", "z"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Once old enough, the rest is cleaned.
	mustClean(t, l, now.Add(2*time.Hour), false)
	want = []stored{{3, "a", "a3"}, {4, "z", "z"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("later: %v, want %v", got, want)
	}
}

func TestCleanMinCleanableRatio(t *testing.T) {
	l := openLog(t, t.TempDir(), compactOpts(), true, 0)
	defer l.Close()
	ts := time.Now().UnixMilli()
	for i := 0; i < 4; i++ {
		mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", fmt.Sprint(i))))
	}
	l.Flush()
	mustClean(t, l, time.Now(), false) // cleans 0-2: a=2 kept
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "4")))
	l.Flush()
	o := l.Options()
	o.MinCleanableRatio = 0.9 // dirty: one of two segments
	l.SetOptions(o)
	if res := mustClean(t, l, time.Now(), false); res.Cleaned {
		t.Fatalf("cleaned below the ratio: %+v", res)
	}
	o.MinCleanableRatio = 0.5
	l.SetOptions(o)
	if res := mustClean(t, l, time.Now(), false); !res.Cleaned {
		t.Fatal("not cleaned at the ratio")
	}
	want := []stored{{3, "a", "3"}, {4, "a", "4"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCleanTransactions(t *testing.T) {
	dir := t.TempDir()
	o := compactOpts()
	o.DeleteRetention = time.Hour
	l := openLog(t, dir, o, true, 0)
	defer l.Close()
	ts := time.Now().UnixMilli()
	mustAppend(t, l, keyedBatch(t, ts, 0, 7, 0, true, rec("a", "committed"), rec("b", "committed"))) // 0-1
	mustControl(t, l, 7, 0, true)                                                                    // 2
	mustAppend(t, l, keyedBatch(t, ts, 0, 8, 0, true, rec("a", "aborted"), rec("c", "aborted")))     // 3-4
	mustControl(t, l, 8, 0, false)                                                                   // 5
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("z", "z")))                              // 6 active
	l.Flush()
	now := time.Now()
	mustClean(t, l, now, false)
	want := []stored{{0, "a", "committed"}, {1, "b", "committed"}, {6, "z", "z"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	markers := func() []int64 {
		var out []int64
		for _, h := range readAll(t, l, 0) {
			if h.Control() {
				out = append(out, h.BaseOffset)
			}
		}
		return out
	}
	// The commit marker stays while its transaction has batches; the
	// abort marker stays on the first pass that removes its batches.
	if got := markers(); !reflect.DeepEqual(got, []int64{2, 5}) {
		t.Fatalf("markers %v", got)
	}
	if a := l.AbortedTransactions(0, 7); len(a) != 1 || a[0].ProducerID != 8 {
		t.Fatalf("aborted transactions %+v", a)
	}
	// Later passes: the abort marker gets a horizon, then goes.
	mustClean(t, l, now.Add(time.Minute), true)
	mustClean(t, l, now.Add(2*time.Hour), true)
	if got := markers(); !reflect.DeepEqual(got, []int64{2}) {
		t.Fatalf("markers %v", got)
	}
	if a := l.AbortedTransactions(0, 7); len(a) != 0 {
		t.Fatalf("aborted transactions %+v", a)
	}
	// Once the committed records are superseded, the commit marker goes
	// too.
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "new"), rec("b", "new"))) // 7-8
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("y", "y")))                    // 9
	l.Flush()
	mustClean(t, l, now.Add(3*time.Hour), true)
	mustClean(t, l, now.Add(4*time.Hour), true)
	mustClean(t, l, now.Add(6*time.Hour), true)
	if got := markers(); len(got) != 0 {
		t.Fatalf("markers %v", got)
	}
	want = []stored{{6, "z", "z"}, {7, "a", "new"}, {8, "b", "new"}, {9, "y", "y"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCleanSkipsOpenTransaction(t *testing.T) {
	l := openLog(t, t.TempDir(), compactOpts(), true, 0)
	defer l.Close()
	ts := time.Now().UnixMilli()
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "0")))      // 0
	mustAppend(t, l, keyedBatch(t, ts, 0, 7, 0, true, rec("a", "open")))     // 1: open
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "2")))      // 2
	mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("z", "active"))) // 3
	l.Flush()
	res := mustClean(t, l, time.Now(), false)
	if res.CleanedTo != 1 {
		t.Fatalf("cleaned to %d, want the first unstable offset 1", res.CleanedTo)
	}
	want := []stored{{0, "a", "0"}, {1, "a", "open"}, {2, "a", "2"}, {3, "z", "active"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCompactedRefusesKeylessRecords(t *testing.T) {
	l := openLog(t, t.TempDir(), compactOpts(), true, 0)
	defer l.Close()
	_, err := l.Append(keyedBatch(t, 0, 0, -1, 0, false, rec("a", "1"), kv{value: []byte("no key")}), time.Now())
	if !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "without key") {
		t.Fatalf("keyless record: %v", err)
	}
	_, err = l.Append(keyedBatch(t, 0, 4, -1, 0, false, kv{value: []byte("no key")}), time.Now())
	if !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("compressed keyless record: %v", err)
	}
	if l.EndOffset() != 0 {
		t.Fatal("a refused batch was written")
	}
	mustAppend(t, l, keyedBatch(t, 0, 0, -1, 0, false, tomb("a")))
	o := l.Options()
	o.Compact = false
	l.SetOptions(o)
	mustAppend(t, l, keyedBatch(t, 0, 0, -1, 0, false, kv{value: []byte("no key")}))
}

// TestCleanCrashDuringSwap leaves the partition folder as a crash at each
// step of a segment's swap would, and checks what Open makes of it.
func TestCleanCrashDuringSwap(t *testing.T) {
	before := []stored{{0, "a", "0"}, {1, "a", "1"}, {2, "b", "2"}, {3, "a", "3"}, {4, "z", "z"}}
	after := []stored{{2, "b", "2"}, {3, "a", "3"}, {4, "z", "z"}}
	steps := []struct {
		name string
		// crash leaves the files of segment 0 (its cleaned copy in
		// <base>.log.cleaned) as the step would.
		crash func(t *testing.T, dir string)
		want  []stored
	}{
		{"cleaned written", func(t *testing.T, dir string) {}, before},
		{"renamed to swap", func(t *testing.T, dir string) {
			mustRename(t, dir, "00000000000000000000.log.cleaned", "00000000000000000000.log.swap")
		}, after},
		{"old indexes removed", func(t *testing.T, dir string) {
			mustRename(t, dir, "00000000000000000000.log.cleaned", "00000000000000000000.log.swap")
			os.Remove(filepath.Join(dir, "00000000000000000000.index"))
			os.Remove(filepath.Join(dir, "00000000000000000000.timeindex"))
		}, after},
		{"swapped, no indexes", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "00000000000000000000.index"))
			os.Remove(filepath.Join(dir, "00000000000000000000.timeindex"))
			mustRename(t, dir, "00000000000000000000.log.cleaned", "00000000000000000000.log")
		}, after},
	}
	for _, st := range steps {
		for _, clean := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/clean=%v", st.name, clean), func(t *testing.T) {
				dir := t.TempDir()
				o := compactOpts()
				o.SegmentBytes = 200 // segment 0 holds offsets 0-2
				o.IndexIntervalBytes = 1
				l := openLog(t, dir, o, true, 0)
				ts := time.Now().UnixMilli()
				mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "0")))
				mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "1")))
				mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("b", "2")))
				o.SegmentBytes = 1
				l.SetOptions(o)
				mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("a", "3")))
				mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("z", "z")))
				l.Close()
				l = openLog(t, dir, o, true, 0)
				// The pass up to the cleaned file and the checkpoint.
				opts := l.opts.Load()
				plan, ok, err := l.planClean(opts, time.Now(), true)
				if err != nil || !ok || plan.end != 4 {
					t.Fatalf("plan: %+v %v %v", plan, ok, err)
				}
				var res CleanResult
				keys, err := l.mapKeys(plan, opts, &res)
				if err != nil {
					t.Fatal(err)
				}
				c := &cleaning{l: l, opts: opts, now: time.Now(), keys: keys, ongoingAborted: map[int64]*abortState{}, ongoingCommitted: map[int64]bool{}}
				ns, err := c.cleanSegment(plan.segs[0], &res)
				if err != nil {
					t.Fatal(err)
				}
				ns.f.Close()
				if err := l.writeCleanerCheckpoint(0, plan.end); err != nil {
					t.Fatal(err)
				}
				l.Drop()
				st.crash(t, dir)
				l = openLog(t, dir, o, clean, 0)
				defer l.Close()
				if got := readRecords(t, l); !reflect.DeepEqual(got, st.want) {
					t.Fatalf("after the crash: %v, want %v", got, st.want)
				}
				for _, name := range mustReadDir(t, dir) {
					if strings.HasSuffix(name, cleanedSuffix) || strings.HasSuffix(name, swapSuffix) {
						t.Fatalf("left over: %s", name)
					}
				}
				if l.EndOffset() != 5 {
					t.Fatalf("end %d", l.EndOffset())
				}
				// Lookups work whatever the indexes went through.
				if r, err := l.Read(nil, 1, 1<<20, true); err != nil || len(r.Records) == 0 {
					t.Fatalf("read at 1: %v", err)
				}
				if off, _, ok, err := l.OffsetForTimestamp(ts); !ok || err != nil || off != st.want[0].offset {
					t.Fatalf("offset for timestamp: %d %v %v", off, ok, err)
				}
				// The log goes on: a full pass leaves it cleaned.
				mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec("y", "y")))
				l.Flush()
				mustClean(t, l, time.Now(), true)
				want := []stored{{2, "b", "2"}, {3, "a", "3"}, {4, "z", "z"}, {5, "y", "y"}}
				if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
					t.Fatalf("after a new pass: %v, want %v", got, want)
				}
			})
		}
	}
}

func mustRename(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}

// TestCleanRecoveryKeepsGaps: after an unclean shutdown recovery
// validates cleaned segments (gaps between batches and segments) and
// keeps them whole.
func TestCleanRecoveryKeepsGaps(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, compactOpts(), true, 0)
	ts := time.Now().UnixMilli()
	for i := 0; i < 10; i++ {
		mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec(fmt.Sprintf("k%d", i%3), fmt.Sprint(i)), rec("dup", fmt.Sprint(i))))
	}
	l.Flush()
	mustClean(t, l, time.Now(), false)
	want := readRecords(t, l)
	segs := l.Segments()
	l.Drop()
	l = openLog(t, dir, compactOpts(), false, 0)
	defer l.Close()
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("recovered %v, want %v", got, want)
	}
	if l.Segments() != segs || l.EndOffset() != 20 {
		t.Fatalf("recovered %d segments, end %d; want %d, 20", l.Segments(), l.EndOffset(), segs)
	}
}

// Transcribed from Kafka's LogCleanerTest: a log of keys written many
// times, with some deleted, cleaned, then every key's latest value read
// back (testCleanSegments, testCleaningWithDeletes).
func TestCleanLargeLog(t *testing.T) {
	o := compactOpts()
	o.SegmentBytes = 1024
	l := openLog(t, t.TempDir(), o, true, 0)
	defer l.Close()
	ts := time.Now().UnixMilli()
	latest := map[string]string{}
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("key%d", i%37)
		if i%11 == 0 {
			mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, tomb(k)))
			latest[k] = "<nil>"
			continue
		}
		v := fmt.Sprint(i)
		mustAppend(t, l, keyedBatch(t, ts, 0, -1, 0, false, rec(k, v)))
		latest[k] = v
	}
	l.Flush()
	mustClean(t, l, time.Now(), false)
	got := map[string]string{}
	seen := map[string]int{}
	active := l.segs[len(l.segs)-1].base
	for _, r := range readRecords(t, l) {
		got[r.key] = r.value
		if r.offset < active {
			seen[r.key]++
		}
	}
	if !reflect.DeepEqual(got, latest) {
		t.Fatalf("latest values differ:\n got %v\nwant %v", got, latest)
	}
	for k, n := range seen {
		if n > 1 {
			t.Fatalf("key %s appears %d times in the cleaned segments", k, n)
		}
	}
}

// TestCleanConcurrentReads: reads, timestamp lookups and appends go on
// while passes swap segments under them.
func TestCleanConcurrentReads(t *testing.T) {
	o := compactOpts()
	o.SegmentBytes = 512
	l := openLog(t, t.TempDir(), o, true, 0)
	defer l.Close()
	ts := time.Now().UnixMilli()
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for {
			select {
			case <-done:
				return
			default:
			}
			off := l.StartOffset()
			for off < l.EndOffset() {
				res, err := l.Read(nil, off, 1<<16, true)
				if err != nil {
					errc <- fmt.Errorf("read at %d: %w", off, err)
					return
				}
				if len(res.Records) == 0 {
					errc <- fmt.Errorf("read at %d below the end %d: nothing", off, l.EndOffset())
					return
				}
				off = res.NextOffset
			}
			if _, _, _, err := l.OffsetForTimestamp(ts); err != nil {
				errc <- fmt.Errorf("offset for timestamp: %w", err)
				return
			}
		}
	}()
	for i := 0; i < 300; i++ {
		mustAppend(t, l, keyedBatch(t, ts+int64(i), 0, -1, 0, false, rec(fmt.Sprintf("k%d", i%5), fmt.Sprint(i))))
		if i%20 == 19 {
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			mustClean(t, l, time.Now(), true)
		}
	}
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestCleanThenRetentionAndDeleteRecords: compact,delete logs lose whole
// cleaned segments to retention, and DeleteRecords may move the start
// into a gap; reads from the start get the next record kept.
func TestCleanThenRetentionAndDeleteRecords(t *testing.T) {
	o := compactOpts()
	o.Delete = true
	o.RetentionTime = time.Hour
	l := openLog(t, t.TempDir(), o, true, 0)
	defer l.Close()
	now := time.Now()
	old := now.Add(-2 * time.Hour).UnixMilli()
	mustAppend(t, l, keyedBatch(t, old, 0, -1, 0, false, rec("a", "0"), rec("b", "0"))) // 0-1
	mustAppend(t, l, keyedBatch(t, old, 0, -1, 0, false, rec("a", "1")))                // 2
	mustAppend(t, l, keyedBatch(t, now.UnixMilli(), 0, -1, 0, false, rec("c", "0")))    // 3
	mustAppend(t, l, keyedBatch(t, now.UnixMilli(), 0, -1, 0, false, rec("a", "2")))    // 4
	mustAppend(t, l, keyedBatch(t, now.UnixMilli(), 0, -1, 0, false, rec("z", "z")))    // 5
	l.Flush()
	mustClean(t, l, now, false)
	want := []stored{{1, "b", "0"}, {3, "c", "0"}, {4, "a", "2"}, {5, "z", "z"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("cleaned: %v, want %v", got, want)
	}
	// DeleteRecords into the gap at 2: the start is 2, a read there
	// gets offset 3.
	if start, err := l.DeleteRecords(2); err != nil || start != 2 {
		t.Fatalf("delete records: %d %v", start, err)
	}
	r, err := l.Read(nil, 2, 1<<20, true)
	if err != nil || len(r.Records) == 0 {
		t.Fatalf("read at the start: %v", err)
	}
	if h, _ := ParseHeader(r.Records); h.BaseOffset != 3 {
		t.Fatalf("read at 2 got batch %d", h.BaseOffset)
	}
	// Retention removes the old segment (offsets 0-1, the only old one
	// left after cleaning).
	res, err := l.Retain(now)
	if err != nil || res.Segments != 1 {
		t.Fatalf("retain: %+v %v", res, err)
	}
	want = []stored{{3, "c", "0"}, {4, "a", "2"}, {5, "z", "z"}}
	if got := readRecords(t, l); !reflect.DeepEqual(got, want) {
		t.Fatalf("after retention: %v, want %v", got, want)
	}
}
