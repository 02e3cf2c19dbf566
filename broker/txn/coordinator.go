package txn

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"
)

// State is the state of a transactional id, with Kafka's names.
type State uint8

const (
	StateEmpty State = iota
	StateOngoing
	StatePrepareCommit
	StatePrepareAbort
	StateCompleteCommit
	StateCompleteAbort
	StateDead
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// ParseState is the State named by Kafka's name, as ListTransactions
// filters by it.
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// TopicPartition names a partition in a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func compareTP(a, b TopicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Participants are the partitions and groups a transaction writes to; the
// broker implements it. Both calls must be idempotent: after a crash the
// coordinator writes the markers of a decided transaction again.
type Participants interface {
	// WriteMarkers appends a COMMIT (commit) or ABORT marker of producer
	// pid at epoch to each partition. A partition that no longer exists
	// is skipped.
	WriteMarkers(pid int64, epoch int16, commit bool, partitions []TopicPartition) error
	// EndGroupTxn makes the offsets that producer pid committed to each
	// group in the transaction visible (commit) or drops them.
	EndGroupTxn(pid int64, commit bool, groups []string) error
}

// Config configures a Coordinator.
type Config struct {
	// Dir holds transactions.log; created if missing.
	Dir string
	// MaxTimeout is transaction.max.timeout.ms: a producer asking for a
	// longer transaction timeout gets INVALID_TRANSACTION_TIMEOUT.
	MaxTimeout time.Duration
	// AbortInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms: how
	// often transactions open longer than their timeout are aborted.
	AbortInterval time.Duration
	// IDExpiration is transactional.id.expiration.ms: a transactional id
	// with no transaction in progress that has not been used this long is
	// forgotten; RemoveInterval
	// (transaction.remove.expired.transaction.cleanup.interval.ms) is how
	// often that is checked.
	IDExpiration   time.Duration
	RemoveInterval time.Duration
	// NewProducerID hands out a producer id never used before.
	NewProducerID func() (int64, error)
	Participants  Participants
	Logger        *slog.Logger

	now func() time.Time // tests
}

func (cfg *Config) setDefaults() {
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = 15 * time.Minute
	}
	if cfg.AbortInterval <= 0 {
		cfg.AbortInterval = 10 * time.Second
	}
	if cfg.IDExpiration <= 0 {
		cfg.IDExpiration = 7 * 24 * time.Hour
	}
	if cfg.RemoveInterval <= 0 {
		cfg.RemoveInterval = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
}

// Coordinator is the transaction coordinator. mu guards txns, byPID and
// the metadata fields of every txn; each txn's op lock serialises the
// requests (and the timeout abort) of its id and is taken before mu.
type Coordinator struct {
	cfg  Config
	log  *slog.Logger
	file *stateLog

	mu     sync.Mutex
	txns   map[string]*txn
	byPID  map[int64]*txn
	closed bool

	stop     chan struct{}
	loopDone sync.WaitGroup
	once     sync.Once
	closeErr error
}

// txn is one transactional id.
type txn struct {
	id string
	// op serialises the operations on this id; it is held while markers
	// are written.
	op sync.Mutex
	// appends is held for reading by a produce or TxnOffsetCommit across
	// its check and its write, and for writing while the transaction
	// leaves Ongoing: no write of the transaction lands after its
	// markers.
	appends sync.RWMutex

	meta record // guarded by Coordinator.mu
}

// Open loads Dir/transactions.log and starts the goroutine that aborts
// timed-out transactions, finishes decided ones whose markers are not all
// written (after a crash) and forgets expired ids.
func Open(cfg Config) (*Coordinator, error) {
	cfg.setDefaults()
	if cfg.NewProducerID == nil || cfg.Participants == nil {
		return nil, errors.New("txn: Config needs NewProducerID and Participants")
	}
	file, recs, dropped, err := openStateLog(cfg.Dir)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{
		cfg:   cfg,
		log:   cfg.Logger,
		file:  file,
		txns:  map[string]*txn{},
		byPID: map[int64]*txn{},
		stop:  make(chan struct{}),
	}
	if dropped > 0 {
		c.log.Warn("dropped a torn record at the end of the transaction state log", "bytes", dropped)
	}
	for _, r := range recs {
		t := &txn{id: r.id, meta: r}
		c.txns[r.id] = t
		c.byPID[r.pid] = t
	}
	c.log.Info("transaction coordinator loaded", "transactional_ids", len(recs))
	c.loopDone.Add(1)
	go c.loop()
	return c, nil
}

// Close stops the background goroutine and closes the state log. It is
// idempotent.
func (c *Coordinator) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.stop)
		c.loopDone.Wait()
		c.closeErr = c.file.close()
	})
	return c.closeErr
}

func (c *Coordinator) loop() {
	defer c.loopDone.Done()
	tick := min(c.cfg.AbortInterval, c.cfg.RemoveInterval)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastRemove := c.cfg.now()
	c.finishDecided()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.abortTimedOut()
		c.finishDecided()
		if now := c.cfg.now(); now.Sub(lastRemove) >= c.cfg.RemoveInterval {
			lastRemove = now
			c.expireIDs()
		}
	}
}

// snapshot returns the txns, sorted by id.
func (c *Coordinator) snapshot() []*txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*txn, 0, len(c.txns))
	for _, t := range c.txns {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *txn) int { return cmp.Compare(a.id, b.id) })
	return out
}

func (c *Coordinator) metaOf(t *txn) record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return t.meta
}

// abortTimedOut aborts the transactions open longer than their timeout,
// bumping the epoch so that the producer is fenced, as Kafka does.
func (c *Coordinator) abortTimedOut() {
	now := c.cfg.now()
	for _, t := range c.snapshot() {
		m := c.metaOf(t)
		if m.state != StateOngoing || now.Sub(m.start) < m.timeout {
			continue
		}
		if !t.op.TryLock() {
			continue // a request is working on it; next time
		}
		m = c.metaOf(t)
		if m.state == StateOngoing && now.Sub(m.start) >= m.timeout {
			c.log.Info("aborting a transaction that timed out", "transactional_id", t.id, "producer_id", m.pid, "epoch", m.epoch, "timeout", m.timeout)
			next := m
			if !epochExhausted(m.epoch) {
				next.epoch = m.epoch + 1
			}
			next.lastEpoch = -1
			if err := c.end(t, next, false); err != nil {
				c.log.Warn("cannot abort a timed-out transaction; retrying", "transactional_id", t.id, "err", err)
			}
		}
		t.op.Unlock()
	}
}

// finishDecided writes the markers of transactions in PrepareCommit or
// PrepareAbort (left so by a crash or a failed marker write).
func (c *Coordinator) finishDecided() {
	for _, t := range c.snapshot() {
		m := c.metaOf(t)
		if m.state != StatePrepareCommit && m.state != StatePrepareAbort {
			continue
		}
		if !t.op.TryLock() {
			continue
		}
		m = c.metaOf(t)
		if m.state == StatePrepareCommit || m.state == StatePrepareAbort {
			if err := c.complete(t, m); err != nil {
				c.log.Warn("cannot finish a decided transaction; retrying", "transactional_id", t.id, "err", err)
			}
		}
		t.op.Unlock()
	}
}

// expireIDs forgets transactional ids idle longer than IDExpiration.
func (c *Coordinator) expireIDs() {
	now := c.cfg.now()
	for _, t := range c.snapshot() {
		if !t.op.TryLock() {
			continue
		}
		m := c.metaOf(t)
		idle := m.state == StateEmpty || m.state == StateCompleteCommit || m.state == StateCompleteAbort
		if m.pid >= 0 && idle && now.Sub(m.update) >= c.cfg.IDExpiration {
			dead := m
			dead.state, dead.update = StateDead, now
			if err := c.file.append(&dead); err == nil {
				c.mu.Lock()
				delete(c.txns, t.id)
				if c.byPID[m.pid] == t {
					delete(c.byPID, m.pid)
				}
				c.mu.Unlock()
				c.log.Info("forgot an expired transactional id", "transactional_id", t.id)
			}
		}
		t.op.Unlock()
	}
}

// epochExhausted: the epoch cannot be bumped; a new producer id is due.
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// persist writes next as t's metadata, then makes it current. t.op is
// held.
func (c *Coordinator) persist(t *txn, next record) error {
	next.id = t.id
	next.update = c.cfg.now()
	slices.SortFunc(next.partitions, compareTP)
	slices.Sort(next.groups)
	if err := c.file.append(&next); err != nil {
		c.log.Error("cannot write the transaction state log", "err", err)
		return err
	}
	c.mu.Lock()
	if old := t.meta.pid; c.byPID[old] == t && old != next.pid {
		delete(c.byPID, old)
	}
	t.meta = next
	c.byPID[next.pid] = t
	c.mu.Unlock()
	return nil
}

// end moves an Ongoing transaction to PrepareCommit or PrepareAbort
// (next carries the epoch to write the markers with) and completes it.
// t.op is held.
func (c *Coordinator) end(t *txn, next record, commit bool) error {
	next.state = StatePrepareAbort
	if commit {
		next.state = StatePrepareCommit
	}
	// No produce or offset commit of the transaction is in progress
	// once the state has changed.
	t.appends.Lock()
	err := c.persist(t, next)
	t.appends.Unlock()
	if err != nil {
		return err
	}
	return c.complete(t, next)
}

// complete writes the markers of a decided transaction and moves it to
// CompleteCommit or CompleteAbort. t.op is held.
func (c *Coordinator) complete(t *txn, m record) error {
	commit := m.state == StatePrepareCommit
	if len(m.partitions) > 0 {
		if err := c.cfg.Participants.WriteMarkers(m.pid, m.epoch, commit, m.partitions); err != nil {
			return fmt.Errorf("write markers: %w", err)
		}
	}
	if len(m.groups) > 0 {
		if err := c.cfg.Participants.EndGroupTxn(m.pid, commit, m.groups); err != nil {
			return fmt.Errorf("end group offsets: %w", err)
		}
	}
	done := m
	done.state = StateCompleteAbort
	if commit {
		done.state = StateCompleteCommit
	}
	done.partitions, done.groups = nil, nil
	return c.persist(t, done)
}
