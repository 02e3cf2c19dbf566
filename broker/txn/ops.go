package txn

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The operations return nil or a *kerr.Error, Kafka's code for the
// client. PRODUCER_FENCED is returned for any version; the broker turns it
// into INVALID_PRODUCER_EPOCH for the request versions before KIP-588.

// lookup returns the txn of id, nil if unknown; ErrNotCoordinator once
// closed.
func (c *Coordinator) lookup(id string) (*txn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, kerr.NotCoordinator
	}
	return c.txns[id], nil
}

// InitProducerID gives transactional id its producer id and epoch
// (KIP-98): a new id gets a new producer id with epoch 0; a known one gets
// its epoch bumped, which fences the producers holding an older epoch, and
// its transaction aborted if one is open. expPID and expEpoch (-1 when not
// given, v3+ KIP-360) are the id and epoch the caller holds: a producer
// recovering from an error keeps its id; a retry of an init that bumped
// gets the same answer; anyone else is fenced. An epoch that cannot grow
// any more gets a new producer id.
func (c *Coordinator) InitProducerID(id string, timeout time.Duration, expPID int64, expEpoch int16) (int64, int16, error) {
	if id == "" {
		return -1, -1, kerr.InvalidRequest // as Kafka: the client refuses it too
	}
	if timeout <= 0 || timeout > c.cfg.MaxTimeout {
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return -1, -1, kerr.NotCoordinator
	}
	t := c.txns[id]
	if t == nil {
		t = &txn{id: id, meta: record{id: id, pid: -1, epoch: -1, lastPID: -1, lastEpoch: -1}}
		c.txns[id] = t
	}
	c.mu.Unlock()

	t.op.Lock()
	defer t.op.Unlock()
	m := c.metaOf(t)
	if m.pid < 0 {
		pid, err := c.cfg.NewProducerID()
		if err == nil {
			next := record{pid: pid, epoch: 0, lastPID: -1, lastEpoch: -1, timeout: timeout, state: StateEmpty}
			if err = c.persist(t, next); err == nil {
				return pid, 0, nil
			}
		}
		c.mu.Lock()
		if c.txns[id] == t && t.meta.pid < 0 {
			delete(c.txns, id)
		}
		c.mu.Unlock()
		c.log.Error("cannot register a transactional id", "transactional_id", id, "err", err)
		return -1, -1, kerr.CoordinatorNotAvailable
	}
	given := expPID >= 0
	if given && !(expPID == m.pid && (expEpoch == m.epoch || expEpoch == m.lastEpoch)) &&
		!(expPID == m.lastPID && epochExhausted(expEpoch)) {
		// Neither the current producer nor a retry of the last init.
		return -1, -1, kerr.ProducerFenced
	}
	switch m.state {
	case StatePrepareCommit, StatePrepareAbort:
		if err := c.complete(t, m); err != nil {
			return -1, -1, kerr.ConcurrentTransactions
		}
	case StateOngoing:
		// Abort the open transaction first, with a bumped epoch that
		// fences its producer.
		next := m
		if !epochExhausted(m.epoch) {
			next.epoch = m.epoch + 1
		}
		next.lastEpoch = -1
		if err := c.end(t, next, false); err != nil {
			c.log.Warn("cannot abort the open transaction of a re-initialised producer", "transactional_id", id, "err", err)
			return -1, -1, kerr.ConcurrentTransactions
		}
		c.log.Info("aborted the open transaction of a re-initialised producer", "transactional_id", id, "producer_id", m.pid, "epoch", m.epoch)
	}
	cur := c.metaOf(t)
	next := cur
	switch {
	case !given:
		next.lastPID, next.lastEpoch = cur.pid, -1
	case expPID == m.pid && expEpoch == m.epoch:
		next.lastPID, next.lastEpoch = m.pid, m.epoch
	case expPID == cur.pid && expEpoch == cur.lastEpoch,
		expPID == cur.lastPID && epochExhausted(expEpoch):
		// A retry of an init that bumped the epoch: the same answer.
		return cur.pid, cur.epoch, nil
	default:
		return -1, -1, kerr.ProducerFenced
	}
	if epochExhausted(cur.epoch) {
		pid, err := c.cfg.NewProducerID()
		if err != nil {
			c.log.Error("cannot allocate a producer id", "err", err)
			return -1, -1, kerr.CoordinatorNotAvailable
		}
		next.lastPID, next.lastEpoch = cur.pid, cur.epoch
		next.pid, next.epoch = pid, 0
	} else {
		next.epoch = cur.epoch + 1
	}
	next.state, next.timeout = StateEmpty, timeout
	next.start, next.partitions, next.groups = time.Time{}, nil, nil
	if err := c.persist(t, next); err != nil {
		return -1, -1, kerr.CoordinatorNotAvailable
	}
	return next.pid, next.epoch, nil
}

// check finds the txn of id for a request of producer pid at epoch, with
// its op lock held; the caller unlocks it.
func (c *Coordinator) check(id string, pid int64, epoch int16) (*txn, record, error) {
	if id == "" {
		return nil, record{}, kerr.InvalidRequest
	}
	t, err := c.lookup(id)
	if err != nil {
		return nil, record{}, err
	}
	if t == nil {
		return nil, record{}, kerr.InvalidProducerIDMapping
	}
	t.op.Lock()
	m := c.metaOf(t)
	switch {
	case m.pid < 0 || m.pid != pid:
		t.op.Unlock()
		return nil, m, kerr.InvalidProducerIDMapping
	case epoch != m.epoch:
		t.op.Unlock()
		return nil, m, kerr.ProducerFenced
	}
	return t, m, nil
}

// begin adds to the transaction of t (m is its metadata): an Empty or
// completed one starts a new transaction. t.op is held.
func (c *Coordinator) begin(t *txn, m record, add func(*record) bool) error {
	switch m.state {
	case StatePrepareCommit, StatePrepareAbort:
		return kerr.ConcurrentTransactions
	case StateOngoing:
	case StateEmpty, StateCompleteCommit, StateCompleteAbort:
		m.state, m.start = StateOngoing, c.cfg.now()
		m.partitions, m.groups = nil, nil
	default:
		return kerr.InvalidTxnState
	}
	next := m
	next.partitions = slices.Clone(m.partitions)
	next.groups = slices.Clone(m.groups)
	if !add(&next) && m.state == c.metaOf(t).state {
		return nil // nothing new
	}
	if err := c.persist(t, next); err != nil {
		return kerr.CoordinatorNotAvailable
	}
	return nil
}

// AddPartitions adds partitions to the producer's transaction
// (AddPartitionsToTxn), starting one if none is open.
func (c *Coordinator) AddPartitions(id string, pid int64, epoch int16, parts []TopicPartition) error {
	t, m, err := c.check(id, pid, epoch)
	if err != nil {
		return err
	}
	defer t.op.Unlock()
	return c.begin(t, m, func(r *record) bool {
		added := false
		for _, tp := range parts {
			if !slices.Contains(r.partitions, tp) {
				r.partitions = append(r.partitions, tp)
				added = true
			}
		}
		return added
	})
}

// AddGroup adds a consumer group's offsets to the producer's transaction
// (AddOffsetsToTxn), starting one if none is open.
func (c *Coordinator) AddGroup(id string, pid int64, epoch int16, group string) error {
	t, m, err := c.check(id, pid, epoch)
	if err != nil {
		return err
	}
	defer t.op.Unlock()
	return c.begin(t, m, func(r *record) bool {
		if slices.Contains(r.groups, group) {
			return false
		}
		r.groups = append(r.groups, group)
		return true
	})
}

// End commits or aborts the producer's transaction (EndTxn): the decision
// is written, then the markers to every partition and the groups' offsets
// are completed, before it returns. A retry of a completed end gets
// success; an end of the other kind INVALID_TXN_STATE.
func (c *Coordinator) End(id string, pid int64, epoch int16, commit bool) error {
	t, m, err := c.check(id, pid, epoch)
	if err != nil {
		return err
	}
	defer t.op.Unlock()
	switch m.state {
	case StateOngoing:
		if err := c.end(t, m, commit); err != nil {
			if now := c.metaOf(t).state; now == StatePrepareCommit || now == StatePrepareAbort {
				// Decided; the markers are written again later.
				c.log.Warn("transaction decided, its markers not all written yet; retrying", "transactional_id", id, "err", err)
				return nil
			}
			return kerr.CoordinatorNotAvailable
		}
		return nil
	case StateCompleteCommit:
		if commit {
			return nil
		}
	case StateCompleteAbort:
		if !commit {
			return nil
		}
	case StatePrepareCommit, StatePrepareAbort:
		if (m.state == StatePrepareCommit) == commit {
			return kerr.ConcurrentTransactions
		}
	}
	return kerr.InvalidTxnState
}

// BeginAppend admits a transactional batch of producer pid at epoch to
// partition tp: the producer's transaction must be open and hold tp. On
// success the returned release must be called once the batch is written:
// until then the transaction cannot end, so no batch lands after its
// marker.
func (c *Coordinator) BeginAppend(pid int64, epoch int16, tp TopicPartition) (release func(), err error) {
	c.mu.Lock()
	t := c.byPID[pid]
	c.mu.Unlock()
	if t == nil {
		return nil, kerr.InvalidTxnState
	}
	t.appends.RLock()
	m := c.metaOf(t)
	switch {
	case m.pid != pid:
		err = kerr.InvalidTxnState
	case epoch != m.epoch:
		err = kerr.InvalidProducerEpoch
	case m.state != StateOngoing:
		err = kerr.InvalidTxnState
	default:
		if _, ok := slices.BinarySearchFunc(m.partitions, tp, compareTP); !ok {
			err = kerr.InvalidTxnState
		}
	}
	if err != nil {
		t.appends.RUnlock()
		return nil, err
	}
	return t.appends.RUnlock, nil
}

// BeginOffsetCommit admits a TxnOffsetCommit of transactional id to
// group: the producer's transaction must be open and hold the group
// (AddOffsetsToTxn). release must be called once the offsets are written.
func (c *Coordinator) BeginOffsetCommit(id string, pid int64, epoch int16, group string) (release func(), err error) {
	t, err := c.lookup(id)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, kerr.InvalidProducerIDMapping
	}
	t.appends.RLock()
	m := c.metaOf(t)
	switch {
	case m.pid < 0 || m.pid != pid:
		err = kerr.InvalidProducerIDMapping
	case epoch != m.epoch:
		err = kerr.ProducerFenced
	case m.state != StateOngoing || !slices.Contains(m.groups, group):
		err = kerr.InvalidTxnState
	}
	if err != nil {
		t.appends.RUnlock()
		return nil, err
	}
	return t.appends.RUnlock, nil
}

// Description is what DescribeTransactions and ListTransactions tell of a
// transactional id.
type Description struct {
	ID            string
	State         State
	ProducerID    int64
	ProducerEpoch int16
	Timeout       time.Duration
	// Start is when the open transaction began; zero when none is open.
	Start      time.Time
	Partitions []TopicPartition
	Groups     []string
}

func describe(m record) Description {
	d := Description{
		ID: m.id, State: m.state, ProducerID: m.pid, ProducerEpoch: m.epoch,
		Timeout: m.timeout, Partitions: slices.Clone(m.partitions), Groups: slices.Clone(m.groups),
	}
	if m.state == StateOngoing || m.state == StatePrepareCommit || m.state == StatePrepareAbort {
		d.Start = m.start
	}
	return d
}

// Describe returns the description of id, false if it is unknown.
func (c *Coordinator) Describe(id string) (Description, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.txns[id]
	if t == nil || t.meta.pid < 0 {
		return Description{}, false
	}
	return describe(t.meta), true
}

// List returns every known transactional id, sorted.
func (c *Coordinator) List() []Description {
	var out []Description
	for _, t := range c.snapshot() {
		if m := c.metaOf(t); m.pid >= 0 {
			out = append(out, describe(m))
		}
	}
	return out
}
