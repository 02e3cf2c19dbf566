package txn

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// recorder is a Participants that records what it is asked to do.
type recorder struct {
	mu      sync.Mutex
	markers []string
	groups  []string
	fail    error
}

func (r *recorder) WriteMarkers(pid int64, epoch int16, commit bool, parts []TopicPartition) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for _, tp := range parts {
		r.markers = append(r.markers, markerName(pid, epoch, commit, tp.Topic, tp.Partition))
	}
	return nil
}

func (r *recorder) EndGroupTxn(pid int64, commit bool, groups []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range groups {
		r.groups = append(r.groups, markerName(pid, 0, commit, g, 0))
	}
	return nil
}

func (r *recorder) take() (markers, groups []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	markers, groups = r.markers, r.groups
	r.markers, r.groups = nil, nil
	return
}

func markerName(pid int64, epoch int16, commit bool, name string, p int32) string {
	kind := "abort"
	if commit {
		kind = "commit"
	}
	return kind + " " + name + "/" + string(rune('0'+p)) + " pid " + string(rune('0'+pid)) + " epoch " + string(rune('0'+epoch))
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, dir string, rec *recorder, clk *clock) *Coordinator {
	t.Helper()
	next := int64(0)
	var mu sync.Mutex
	c, err := Open(Config{
		Dir:           dir,
		MaxTimeout:    time.Minute,
		AbortInterval: time.Hour, // the test drives abortTimedOut
		NewProducerID: func() (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			next++
			return next, nil
		},
		Participants: rec,
		now:          clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) && !(err == nil && want == nil) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	clk := &clock{now: time.Unix(1000, 0)}
	c := open(t, dir, rec, clk)

	_, _, err := c.InitProducerID("a", 2*time.Minute, -1, -1)
	wantErr(t, "timeout above the max", err, kerr.InvalidTransactionTimeout)
	pid, epoch, err := c.InitProducerID("a", 10*time.Second, -1, -1)
	if err != nil || pid != 1 || epoch != 0 {
		t.Fatalf("init: %d/%d, %v", pid, epoch, err)
	}
	wantErr(t, "end of an empty transaction", c.End("a", 1, 0, true), kerr.InvalidTxnState)
	tp := TopicPartition{"t", 0}
	if _, err := c.BeginAppend(1, 0, tp); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("append before AddPartitions: %v", err)
	}
	wantErr(t, "add", c.AddPartitions("a", 1, 0, []TopicPartition{tp, {"t", 1}}), nil)
	wantErr(t, "add group", c.AddGroup("a", 1, 0, "g"), nil)
	wantErr(t, "add with the wrong pid", c.AddPartitions("a", 2, 0, []TopicPartition{tp}), kerr.InvalidProducerIDMapping)
	wantErr(t, "add with another epoch", c.AddPartitions("a", 1, 1, []TopicPartition{tp}), kerr.ProducerFenced)
	release, err := c.BeginAppend(1, 0, tp)
	if err != nil {
		t.Fatal(err)
	}
	// The end waits for the append in progress.
	ended := make(chan error, 1)
	go func() { ended <- c.End("a", 1, 0, true) }()
	select {
	case err := <-ended:
		t.Fatalf("end returned during an append: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	wantErr(t, "commit", <-ended, nil)
	markers, groups := rec.take()
	if !slices.Equal(markers, []string{"commit t/0 pid 1 epoch 0", "commit t/1 pid 1 epoch 0"}) || !slices.Equal(groups, []string{"commit g/0 pid 1 epoch 0"}) {
		t.Fatalf("markers %q, groups %q", markers, groups)
	}
	wantErr(t, "commit again (a retry)", c.End("a", 1, 0, true), nil)
	wantErr(t, "abort after commit", c.End("a", 1, 0, false), kerr.InvalidTxnState)
	if d, _ := c.Describe("a"); d.State != StateCompleteCommit {
		t.Fatalf("state %v", d.State)
	}

	// A new transaction, then a second producer instance fences the
	// first and aborts its transaction.
	wantErr(t, "add", c.AddPartitions("a", 1, 0, []TopicPartition{tp}), nil)
	pid, epoch, err = c.InitProducerID("a", 10*time.Second, -1, -1)
	if err != nil || pid != 1 || epoch != 2 {
		t.Fatalf("second init: %d/%d, %v", pid, epoch, err)
	}
	if markers, _ := rec.take(); !slices.Equal(markers, []string{"abort t/0 pid 1 epoch 1"}) {
		t.Fatalf("fencing abort markers: %q", markers)
	}
	wantErr(t, "the fenced producer", c.AddPartitions("a", 1, 0, []TopicPartition{tp}), kerr.ProducerFenced)
	_, _, err = c.InitProducerID("a", 10*time.Second, 1, 0)
	wantErr(t, "KIP-360 init of the fenced producer", err, kerr.ProducerFenced)
	// KIP-360: the current producer recovers with its id and epoch.
	pid, epoch, err = c.InitProducerID("a", 10*time.Second, 1, 2)
	if err != nil || pid != 1 || epoch != 3 {
		t.Fatalf("recovery init: %d/%d, %v", pid, epoch, err)
	}
	// Its retry gets the same answer.
	pid, epoch, err = c.InitProducerID("a", 10*time.Second, 1, 2)
	if err != nil || pid != 1 || epoch != 3 {
		t.Fatalf("retried recovery init: %d/%d, %v", pid, epoch, err)
	}

	// A transaction open past its timeout is aborted with a bumped epoch.
	wantErr(t, "add", c.AddPartitions("a", 1, 3, []TopicPartition{tp}), nil)
	clk.add(9 * time.Second)
	c.abortTimedOut()
	if d, _ := c.Describe("a"); d.State != StateOngoing {
		t.Fatalf("aborted before its timeout: %v", d.State)
	}
	clk.add(2 * time.Second)
	c.abortTimedOut()
	if markers, _ := rec.take(); !slices.Equal(markers, []string{"abort t/0 pid 1 epoch 4"}) {
		t.Fatalf("timeout markers: %q", markers)
	}
	wantErr(t, "commit after the timeout", c.End("a", 1, 3, true), kerr.ProducerFenced)

	// Everything survives a restart.
	wantErr(t, "add", c.AddPartitions("a", 1, 4, []TopicPartition{{"u", 2}}), nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = open(t, dir, rec, clk)
	d, ok := c.Describe("a")
	if !ok || d.State != StateOngoing || d.ProducerID != 1 || d.ProducerEpoch != 4 || !slices.Equal(d.Partitions, []TopicPartition{{"u", 2}}) {
		t.Fatalf("after restart: %+v", d)
	}
	wantErr(t, "abort after restart", c.End("a", 1, 4, false), nil)
	if markers, _ := rec.take(); !slices.Equal(markers, []string{"abort u/2 pid 1 epoch 4"}) {
		t.Fatalf("markers after restart: %q", markers)
	}
}

func TestDecidedFinishedAfterFailure(t *testing.T) {
	rec := &recorder{}
	clk := &clock{now: time.Unix(1000, 0)}
	dir := t.TempDir()
	c := open(t, dir, rec, clk)
	pid, epoch, _ := c.InitProducerID("b", time.Minute, -1, -1)
	wantErr(t, "add", c.AddPartitions("b", pid, epoch, []TopicPartition{{"t", 0}}), nil)
	rec.fail = errors.New("disk gone")
	wantErr(t, "commit (decided)", c.End("b", pid, epoch, true), nil)
	if d, _ := c.Describe("b"); d.State != StatePrepareCommit {
		t.Fatalf("state %v", d.State)
	}
	wantErr(t, "add while decided", c.AddPartitions("b", pid, epoch, []TopicPartition{{"t", 0}}), kerr.ConcurrentTransactions)
	c.Close()
	rec.fail = nil
	// Open's goroutine writes the markers of decided transactions first.
	c = open(t, dir, rec, clk)
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, _ := c.Describe("b")
		if d.State == StateCompleteCommit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state after restart %v", d.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if markers, _ := rec.take(); len(markers) != 1 {
		t.Fatalf("markers %q", markers)
	}
}

func TestEpochExhaustion(t *testing.T) {
	rec := &recorder{}
	clk := &clock{now: time.Unix(1000, 0)}
	c := open(t, t.TempDir(), rec, clk)
	pid, _, _ := c.InitProducerID("c", time.Minute, -1, -1)
	c.mu.Lock()
	c.txns["c"].meta.epoch = math.MaxInt16 - 1
	c.mu.Unlock()
	npid, epoch, err := c.InitProducerID("c", time.Minute, pid, math.MaxInt16-1)
	if err != nil || npid == pid || epoch != 0 {
		t.Fatalf("init at the last epoch: %d/%d, %v", npid, epoch, err)
	}
	// The retry of that init gets the new id too.
	rpid, repoch, err := c.InitProducerID("c", time.Minute, pid, math.MaxInt16-1)
	if err != nil || rpid != npid || repoch != 0 {
		t.Fatalf("retry: %d/%d, %v", rpid, repoch, err)
	}
}

func TestStateLogTornTail(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	clk := &clock{now: time.Unix(1000, 0)}
	c := open(t, dir, rec, clk)
	c.InitProducerID("x", time.Minute, -1, -1)
	c.InitProducerID("y", time.Minute, -1, -1)
	c.Close()
	path := filepath.Join(dir, stateLogName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 40, 1, 2, 3}) // a torn record
	f.Close()
	c = open(t, dir, rec, clk)
	if got := len(c.List()); got != 2 {
		t.Fatalf("%d ids after a torn tail", got)
	}
	if _, ok := c.Describe("y"); !ok {
		t.Fatal("y lost")
	}
}
