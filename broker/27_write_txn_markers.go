package broker

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/storage"
)

// WriteTxnMarkers: v0-1
//
// Behavior:
// * Kafka's coordinator sends this to partition leaders; this broker's
//   coordinator writes its markers itself (txnmarkers.go), so what comes
//   here is an administrator's, as kafka-transactions.sh abort sends to
//   end a hanging transaction: each marker (COMMIT when Committed, else
//   ABORT) of the producer id and epoch is appended to each partition,
//   ending the producer's open transaction there (the last stable offset
//   moves on; an abort is recorded for read_committed fetches). A
//   partition where the producer has no open transaction gets no marker
//   and no error, as the marker would change nothing.
// * Per partition: UNKNOWN_TOPIC_OR_PARTITION, KAFKA_STORAGE_ERROR (log
//   dir offline or failed), INVALID_PRODUCER_EPOCH for an epoch older than
//   the producer's.
// * The transaction coordinator's state is not changed, as in Kafka.
// * ACLs: CLUSTER_ACTION on the cluster.
//
// Not done: v2 (TransactionVersion, KIP-890 part 2).
//
// Version notes:
// * v1: flexible versions

func handleWriteTxnMarkers(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.WriteTxnMarkersRequest)
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	topics := b.topics()
	now := time.Now()
	for _, m := range req.Markers {
		sm := kmsg.NewWriteTxnMarkersResponseMarker()
		sm.ProducerID = m.ProducerID
		for _, rt := range m.Topics {
			st := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			st.Topic = rt.Topic
			t := topics.byName[rt.Topic]
			for _, part := range rt.Partitions {
				sp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				sp.Partition = part
				switch {
				case t == nil || part < 0 || int(part) >= len(t.parts):
					sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				case t.parts[part].offline != nil:
					sp.ErrorCode = kerr.KafkaStorageError.Code
				default:
					p := t.parts[part]
					res, err := p.log.AppendControl(m.ProducerID, m.ProducerEpoch, m.Committed, m.CoordinatorEpoch, now)
					switch {
					case errors.Is(err, storage.ErrClosed):
						sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
					case err != nil:
						sp.ErrorCode, _ = storageError(err)
					case res.Offset >= 0:
						if res.FlushDue {
							if err := p.log.Sync(res.Offset + 1); err != nil {
								sp.ErrorCode, _ = storageError(err)
							}
						}
						p.notify()
					}
				}
				st.Partitions = append(st.Partitions, sp)
			}
			sm.Topics = append(sm.Topics, st)
		}
		resp.Markers = append(resp.Markers, sm)
	}
	return reply{resp: resp}
}
