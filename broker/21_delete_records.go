package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords: v0-2
//
// Behavior:
// * Moves each partition's log start offset up to the requested offset
//   (-1: the high watermark, the log end here); the response's
//   LowWatermark is the log start offset afterwards. An offset at or below
//   the current start changes nothing. Fetches below the new start get
//   OFFSET_OUT_OF_RANGE and ListOffsets earliest returns it.
// * The new start is written to the partition folder before the response
//   (storage.Log.DeleteRecords), so it survives a restart; whole segments
//   below it are removed.
// * An offset beyond the high watermark, or below -1, is
//   OFFSET_OUT_OF_RANGE; an unknown topic or partition is
//   UNKNOWN_TOPIC_OR_PARTITION; a topic whose cleanup.policy lacks delete
//   is POLICY_VIOLATION; a partition whose log dir is offline is
//   KAFKA_STORAGE_ERROR; __consumer_offsets, an internal topic, is
//   INVALID_TOPIC_EXCEPTION. LowWatermark is -1 with any error.
// * TimeoutMillis is ignored: there are no followers to wait for.
//
// Not done:
// * Nothing: no replication means nothing to wait for.
//
// Version notes:
// * v1: no change
// * v2: flexible versions

func handleDeleteRecords(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	topics := b.topics()
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		t := topics.byName[rt.Topic]
		for _, in := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = in.Partition, -1
			low, code := deleteRecords(c, t, in)
			if code == 0 {
				sp.LowWatermark = low
			}
			sp.ErrorCode = code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

func deleteRecords(c *conn, t *topic, in kmsg.DeleteRecordsRequestTopicPartition) (int64, int16) {
	if t == nil || in.Partition < 0 || int(in.Partition) >= len(t.parts) {
		return -1, kerr.UnknownTopicOrPartition.Code
	}
	p := t.parts[in.Partition]
	if p.offline != nil {
		return -1, kerr.KafkaStorageError.Code
	}
	if isInternalTopic(t.name) {
		return -1, kerr.InvalidTopicException.Code // Kafka: cannot delete records of an internal topic
	}
	if !p.log.Options().Delete {
		return -1, kerr.PolicyViolation.Code
	}
	off := in.Offset
	if off == -1 {
		off = p.log.EndOffset()
	}
	if off < 0 {
		return -1, kerr.OffsetOutOfRange.Code
	}
	low, err := p.log.DeleteRecords(off)
	if err != nil {
		if low >= 0 {
			// The start moved; only the removal of old segment files
			// failed, which the next retention check tries again.
			c.log.Warn("records deleted, but old segment files remain", "topic", t.name, "partition", in.Partition, "err", err)
			return low, 0
		}
		code, msg := storageError(err)
		if code != kerr.OffsetOutOfRange.Code {
			c.log.Error("delete records failed", "topic", t.name, "partition", in.Partition, "err", msg)
		}
		return -1, code
	}
	c.log.Info("deleted records", "topic", t.name, "partition", in.Partition, "log_start_offset", low)
	return low, 0
}
