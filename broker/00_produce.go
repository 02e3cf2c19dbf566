package broker

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/storage"
	"github.com/tributary-io/tributary/broker/txn"
)

// Produce: v3-13
//
// Behavior:
// * Each partition's records must be exactly one record batch of magic 2;
//   it is validated (length fields, CRC-32C, record count, size against
//   max.message.bytes, producer fields) without decompressing it, given
//   its offsets and appended as it came.
// * acks=-1 and acks=1 are answered once the batch is written to the log
//   file (the page cache), as in Kafka; when flush.messages is reached the
//   answer waits for an fsync, which starts as soon as the batch is
//   appended (concurrent produces to a partition share fsyncs). acks=0 gets
//   no response; if any partition failed, the connection is closed, as
//   Kafka does, so the client notices. Other acks: INVALID_REQUIRED_ACKS.
// * Idempotent batches have their sequence checked per producer id and
//   partition: a retry of one of the producer's last five batches is
//   answered with its original offset without writing it again; a gap is
//   OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch INVALID_PRODUCER_EPOCH.
// * Transactional batches (KIP-98) are accepted only from a producer whose
//   transaction is open and holds the partition (AddPartitionsToTxn), at
//   its current epoch: else INVALID_TXN_STATE, or INVALID_PRODUCER_EPOCH
//   for another epoch. The transaction cannot end while the batch is
//   being written, so no batch lands after its marker.
// * Waiting fetches of a partition are woken by its appends.
// * A partition whose log dir is offline is KAFKA_STORAGE_ERROR, with the
//   cause as the error message.
// * __consumer_offsets, written only by the group coordinator, is
//   INVALID_TOPIC_EXCEPTION ("Cannot append to internal topic"), as Kafka
//   answers clients.
// * TimeoutMillis is ignored: nothing waits on other brokers.
// * Client quotas (quota.go): the batches count against
//   producer_byte_rate once written; over it, ThrottleMillis says for how
//   long and the connection is muted that long (v3-5: the answer waits).
//
// Not done: the message set formats of magic 0 and 1 (v0-2),
// recompression to a topic's compression.type, per-record validation of
// timestamps and keys, and ErrorRecords.
//
// Version notes:
// * v3: record batches, TransactionID
// * v5: LogStartOffset in the response
// * v8: ErrorMessage in the response (KIP-467)
// * v9: flexible versions
// * v10: CurrentLeader, NodeEndpoints (KIP-951), only sent on NOT_LEADER:
//   never here
// * v12: KIP-890 transaction verification: this broker always checks
//   transactional batches against the coordinator (above)
// * v13: topics by TopicID (KIP-516)

func handleProduce(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	type syncItem struct {
		p    *partition
		upTo int64
		rp   *kmsg.ProduceResponseTopicPartition
	}
	var (
		syncs  []syncItem
		failed bool
		now    = time.Now()
		acksOK = req.Acks == -1 || req.Acks == 0 || req.Acks == 1
		topics = b.topics()
	)
	setErr := func(rp *kmsg.ProduceResponseTopicPartition, code int16, msg string) {
		rp.ErrorCode = code
		rp.BaseOffset, rp.LogStartOffset = -1, -1
		if req.Version >= 8 && msg != "" {
			rp.ErrorMessage = &msg
		}
		failed = true
	}
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t *topic
		unknown := kerr.UnknownTopicOrPartition.Code
		if req.Version >= 13 {
			t = topics.byID[rt.TopicID]
			unknown = kerr.UnknownTopicID.Code
		} else {
			t = topics.byName[rt.Topic]
		}
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for i, in := range rt.Partitions {
			rp := &st.Partitions[i]
			rp.Default()
			rp.Partition = in.Partition
			if !acksOK {
				setErr(rp, kerr.InvalidRequiredAcks.Code, "acks must be -1, 0 or 1")
				continue
			}
			if t == nil || in.Partition < 0 || int(in.Partition) >= len(t.parts) {
				setErr(rp, unknown, "")
				continue
			}
			if isInternalTopic(t.name) {
				setErr(rp, kerr.InvalidTopicException.Code, "Cannot append to internal topic "+t.name)
				continue
			}
			p := t.parts[in.Partition]
			if p.offline != nil {
				setErr(rp, kerr.KafkaStorageError.Code, p.offline.Error())
				continue
			}
			var release func()
			if h, err := storage.ParseHeader(in.Records); err == nil && h.Transactional() && h.ProducerID >= 0 {
				// The transaction must hold the partition; it cannot
				// end before the batch is written (release).
				release, err = b.txns.BeginAppend(h.ProducerID, h.ProducerEpoch, txn.TopicPartition{Topic: t.name, Partition: in.Partition})
				if err != nil {
					setErr(rp, txnErrorCode(err), "the producer's transaction does not hold this partition (AddPartitionsToTxn) or is not open")
					continue
				}
			}
			res, err := p.log.Append(in.Records, now)
			if release != nil {
				release()
			}
			if err != nil {
				code, msg := storageError(err)
				setErr(rp, code, msg)
				c.log.Debug("produce refused", "topic", p.topic, "partition", p.index, "err", err)
				continue
			}
			rp.BaseOffset, rp.LogAppendTime, rp.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
			if !res.Duplicate {
				p.notify()
				b.metrics.appended(t.name, res.LastOffset-res.BaseOffset+1, int64(len(in.Records)))
			}
			if res.FlushDue {
				syncs = append(syncs, syncItem{p, res.LastOffset + 1, rp})
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	r := reply{resp: resp}
	// Client quotas (quota.go): the batches count against
	// producer_byte_rate after they are written, as in Kafka.
	if d := b.recordQuota(c, producerByteRate, produceBytes(req)); d > 0 {
		resp.ThrottleMillis = int32(d.Milliseconds())
		r.throttled(d, req.Version >= 6)
	}
	if req.Acks == 0 {
		r.none = true
		r.closeAfter = failed
	}
	if len(syncs) > 0 {
		// The fsyncs start now, while the connection's writer may still
		// wait for those of earlier requests: each partition's log flushes
		// as soon as it can, and the flushes that follow cover whatever
		// was appended meanwhile.
		var wg sync.WaitGroup
		for _, s := range syncs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.p.log.Sync(s.upTo); err != nil {
					code, msg := storageError(err)
					s.rp.ErrorCode, s.rp.BaseOffset = code, -1
					if req.Version >= 8 {
						s.rp.ErrorMessage = &msg
					}
				}
			}()
		}
		r.wait = wg.Wait
		r.wait = b.metrics.parkProduce(r.wait)
	}
	return r
}

// produceBytes is the size of a produce's record batches.
func produceBytes(req *kmsg.ProduceRequest) int {
	n := 0
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			n += len(p.Records)
		}
	}
	return n
}

// storageError maps a storage error to Kafka's error code and a message
// for the client.
func storageError(err error) (int16, string) {
	msg := strings.TrimPrefix(err.Error(), "storage: ")
	switch {
	case errors.Is(err, storage.ErrCorruptBatch):
		return kerr.CorruptMessage.Code, msg
	case errors.Is(err, storage.ErrInvalidRecord):
		return kerr.InvalidRecord.Code, msg
	case errors.Is(err, storage.ErrBatchTooLarge):
		return kerr.MessageTooLarge.Code, msg
	case errors.Is(err, storage.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber.Code, msg
	case errors.Is(err, storage.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch.Code, msg
	case errors.Is(err, storage.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code, msg
	case errors.Is(err, storage.ErrClosed):
		return kerr.UnknownTopicOrPartition.Code, "the partition was deleted"
	case errors.Is(err, storage.ErrStorage), errors.Is(err, storage.ErrNoSpace):
		return kerr.KafkaStorageError.Code, msg
	}
	return kerr.UnknownServerError.Code, msg
}
