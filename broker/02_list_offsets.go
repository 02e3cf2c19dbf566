package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets: v0-10
//
// Timestamps, answered as a broker without tiered storage answers them:
// * -1: latest, the log end offset; under IsolationLevel 1
//   (read_committed, v2+) the last stable offset: the first offset of the
//   oldest open transaction
// * -2: earliest, the log start offset
// * -3 (v7+): the largest timestamp in the log and the offset of the first
//   record carrying it (KIP-734)
// * -4 (v8+): earliest local offset, the log start offset (KIP-405)
// * -5 (v9+): latest tiered offset: -1, nothing is tiered (KIP-1005)
// * a timestamp >= 0: the offset and timestamp of the first record whose
//   timestamp is at least that, found through the time index and by
//   decoding the one batch it lands in; -1 if there is none. A compressed
//   batch that would decompress past 64 MiB (or max.message.bytes, if
//   larger) is not decoded: UNKNOWN_SERVER_ERROR, and the broker logs why
// A partition whose log dir is offline is KAFKA_STORAGE_ERROR.
// Any other negative timestamp, or a special one below the version that
// introduced it, is UNSUPPORTED_VERSION for that partition. A partition
// listed twice is INVALID_REQUEST for both entries.
//
// Version notes:
// * v0: MaxNumOffsets and OldStyleOffsets: at most one offset is returned
// * v1: one offset per partition, found by record timestamp
// * v2: IsolationLevel
// * v4: CurrentLeaderEpoch (above 0 is UNKNOWN_LEADER_EPOCH), LeaderEpoch
//   in the response (0)
// * v6: flexible versions
// * v10: TimeoutMillis, for remote storage: ignored

func handleListOffsets(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	repeated := repeatedPartitions(req.Topics)
	topics := b.topics()
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t := topics.byName[rt.Topic]
		again := repeated[rt.Topic]
		for _, in := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = in.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			code := listOffset(b, req.Version, req.Version >= 2 && req.IsolationLevel == 1, t, in, &sp)
			if again[in.Partition] {
				code = kerr.InvalidRequest.Code
			}
			if code != 0 {
				sp.ErrorCode, sp.Timestamp, sp.Offset, sp.LeaderEpoch, sp.OldStyleOffsets = code, -1, -1, -1, nil
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}

// repeatedPartitions maps each topic of a request to its partitions, true
// for a partition the request names more than once, even across two
// entries of the same topic. Kafka answers every entry of such a partition
// INVALID_REQUEST (ListOffsetsRequest.duplicatePartitions).
func repeatedPartitions(topics []kmsg.ListOffsetsRequestTopic) map[string]map[int32]bool {
	named := make(map[string]map[int32]bool, len(topics))
	for _, rt := range topics {
		parts := named[rt.Topic]
		if parts == nil {
			parts = make(map[int32]bool, len(rt.Partitions))
			named[rt.Topic] = parts
		}
		for _, rp := range rt.Partitions {
			_, before := parts[rp.Partition]
			parts[rp.Partition] = before
		}
	}
	return named
}

func listOffset(b *Broker, version int16, committed bool, t *topic, in kmsg.ListOffsetsRequestTopicPartition, sp *kmsg.ListOffsetsResponseTopicPartition) int16 {
	if t == nil || in.Partition < 0 || int(in.Partition) >= len(t.parts) {
		return kerr.UnknownTopicOrPartition.Code
	}
	if version >= 4 && in.CurrentLeaderEpoch > 0 {
		return kerr.UnknownLeaderEpoch.Code
	}
	if t.parts[in.Partition].offline != nil {
		return kerr.KafkaStorageError.Code
	}
	l := t.parts[in.Partition].log
	var (
		off, ts int64 = -1, -1
		found         = true
	)
	switch tsq := in.Timestamp; {
	case tsq == -1 && committed:
		off = l.LastStableOffset()
	case tsq == -1:
		off = l.EndOffset()
	case tsq == -2, tsq == -4 && version >= 8:
		off = l.StartOffset()
	case tsq == -3 && version >= 7:
		o, t, ok, err := l.MaxTimestamp()
		if err != nil {
			return lookupFailed(b, l.Dir(), err)
		}
		off, ts, found = o, t, ok
	case tsq == -5 && version >= 9:
		found = false
	case tsq >= 0:
		o, t, ok, err := l.OffsetForTimestamp(tsq)
		if err != nil {
			return lookupFailed(b, l.Dir(), err)
		}
		off, ts, found = o, t, ok
	default:
		return kerr.UnsupportedVersion.Code
	}
	if !found {
		return 0 // offset and timestamp stay -1
	}
	sp.Offset, sp.Timestamp, sp.LeaderEpoch = off, ts, 0
	if version == 0 {
		if in.MaxNumOffsets > 0 {
			sp.OldStyleOffsets = []int64{off}
		}
	}
	return 0
}

// lookupFailed logs why a timestamp lookup failed (ListOffsets has no
// error message) and returns its error code.
func lookupFailed(b *Broker, dir string, err error) int16 {
	b.log.Warn("offset lookup by timestamp failed", "dir", dir, "err", err)
	code, _ := storageError(err)
	return code
}
