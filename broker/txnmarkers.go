package broker

import (
	"context"
	"errors"
	"time"

	"github.com/tributary-io/tributary/broker/storage"
	"github.com/tributary-io/tributary/broker/txn"
)

// txnParticipants is what the transaction coordinator writes to: on one
// node it appends the markers itself (Kafka's coordinator sends
// WriteTxnMarkers to the partitions' leaders) and completes the groups'
// pending offsets.
type txnParticipants struct{ b *Broker }

// WriteMarkers appends a COMMIT or ABORT marker of the producer to each
// partition and wakes the fetches waiting on it (a read_committed fetch
// waits for the last stable offset to move). A partition that is gone
// (its topic deleted) or whose log dir is offline is skipped: there is
// nothing to mark. The markers are made durable when flush.messages asks
// it of the partition, as acknowledged batches are.
func (tp txnParticipants) WriteMarkers(pid int64, epoch int16, commit bool, parts []txn.TopicPartition) error {
	b := tp.b
	topics := b.topics()
	now := time.Now()
	var errs []error
	for _, x := range parts {
		t := topics.byName[x.Topic]
		if t == nil || x.Partition < 0 || int(x.Partition) >= len(t.parts) {
			continue
		}
		p := t.parts[x.Partition]
		if p.offline != nil {
			b.log.Warn("transaction marker not written: the partition's log dir is offline", "topic", p.topic, "partition", p.index, "producer_id", pid)
			continue
		}
		res, err := p.log.AppendControl(pid, epoch, commit, 0, now)
		switch {
		case errors.Is(err, storage.ErrClosed):
			continue // deleted meanwhile
		case errors.Is(err, storage.ErrInvalidProducerEpoch):
			// A newer epoch of the producer has written here: its
			// transaction was ended by that one.
			b.log.Warn("transaction marker refused", "topic", p.topic, "partition", p.index, "err", err)
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		}
		if res.Offset >= 0 {
			if res.FlushDue {
				if err := p.log.Sync(res.Offset + 1); err != nil {
					errs = append(errs, err)
				}
			}
			p.notify()
		}
	}
	return errors.Join(errs...)
}

// EndGroupTxn completes the producer's pending offsets in the groups.
func (tp txnParticipants) EndGroupTxn(pid int64, commit bool, groups []string) error {
	// Not the broker's context: the coordinator finishes what it started
	// while the broker shuts down (the group coordinator closes after
	// it).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return tp.b.coord.EndTxn(ctx, pid, commit, groups)
}
