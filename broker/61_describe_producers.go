package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeProducers: v0-0
//
// Behavior:
// * For each listed partition, the idempotent producers its log holds
//   state for (the state Produce checks sequences against, restored
//   across restarts from producer snapshots): producer id, epoch, the last
//   sequence and the largest timestamp of its last batch. Producers whose
//   last batch lies below the log start offset are forgotten, as in Kafka.
// * CurrentTxnStartOffset is the first offset of the producer's open
//   transaction in the partition, -1 when none is open (what
//   kafka-transactions.sh find-hanging looks at). CoordinatorEpoch is -1:
//   the markers of this broker's single coordinator carry epoch 0 and are
//   not tracked per producer.
// * An unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION; a
//   partition whose log dir is offline is KAFKA_STORAGE_ERROR.
//
// Version notes:
// * v0: flexible versions

func handleDescribeProducers(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeProducersRequest)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	topics := b.topics()
	for _, rt := range req.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		t := topics.byName[rt.Topic]
		for _, p := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = p
			switch {
			case t == nil || p < 0 || int(p) >= len(t.parts):
				msg := "This server does not host this topic-partition."
				sp.ErrorCode, sp.ErrorMessage = kerr.UnknownTopicOrPartition.Code, &msg
			case t.parts[p].offline != nil:
				msg := t.parts[p].offline.Error()
				sp.ErrorCode, sp.ErrorMessage = kerr.KafkaStorageError.Code, &msg
			default:
				for _, ps := range t.parts[p].log.Producers() {
					ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
					ap.ProducerID, ap.ProducerEpoch = ps.ProducerID, int32(ps.Epoch)
					ap.LastSequence, ap.LastTimestamp = ps.LastSequence, ps.LastTimestamp
					ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = -1, ps.TxnStartOffset
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply{resp: resp}
}
