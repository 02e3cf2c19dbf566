package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch: v0-9
//
// Version notes:
//   - v0: served from the same store as v1+ (Kafka kept v0 offsets in
//     ZooKeeper).
//   - v2: null Topics fetches every committed partition of the group; a
//     top-level ErrorCode.
//   - v5: LeaderEpoch.
//   - v7: RequireStable (KIP-447): a partition with an offset committed in
//     a transaction still open (TxnOffsetCommit) gets
//     UNSTABLE_OFFSET_COMMIT and offset -1; without it the last committed
//     offset is returned, as in Kafka.
//   - v8: many groups per request, each with its own error (KIP-709).
//   - v9: MemberID and MemberEpoch, which only groups of the new consumer
//     protocol (KIP-848) check; classic groups ignore them, as in Kafka.
//
// Not served: v10 (topic ids).
//
// A partition without a committed offset, of a group that does not exist
// or of a topic that does not exist, is returned with offset -1, as Kafka
// does. Only durable commits are visible.

func (c *Coordinator) offsetFetch(req *kmsg.OffsetFetchRequest) kmsg.Response {
	if code := c.lockOpen(); code != 0 {
		return errorResponse(req, code)
	}
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var want []fetchTopic
			if rg.Topics != nil {
				want = make([]fetchTopic, 0, len(rg.Topics))
				for _, t := range rg.Topics {
					want = append(want, fetchTopic{t.Topic, t.Partitions})
				}
			}
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			for _, ft := range c.fetchOffsets(rg.Group, want, req.RequireStable) {
				st := kmsg.NewOffsetFetchResponseGroupTopic()
				st.Topic = ft.topic
				for _, fp := range ft.partitions {
					sp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					sp.Partition = fp.partition
					sp.Offset = fp.offset
					sp.LeaderEpoch = fp.leaderEpoch
					sp.Metadata = kmsg.StringPtr(fp.metadata)
					sp.ErrorCode = fp.errorCode
					st.Partitions = append(st.Partitions, sp)
				}
				sg.Topics = append(sg.Topics, st)
			}
			resp.Groups = append(resp.Groups, sg)
		}
		return resp
	}
	var want []fetchTopic
	if req.Topics != nil || req.Version < 2 {
		want = make([]fetchTopic, 0, len(req.Topics))
		for _, t := range req.Topics {
			want = append(want, fetchTopic{t.Topic, t.Partitions})
		}
	}
	for _, ft := range c.fetchOffsets(req.Group, want, req.Version >= 7 && req.RequireStable) {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = ft.topic
		for _, fp := range ft.partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition = fp.partition
			sp.Offset = fp.offset
			sp.LeaderEpoch = fp.leaderEpoch
			sp.Metadata = kmsg.StringPtr(fp.metadata)
			sp.ErrorCode = fp.errorCode
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

type fetchTopic struct {
	topic      string
	partitions []int32
}

type fetchedPartition struct {
	partition   int32
	offset      int64
	leaderEpoch int32
	metadata    string
	errorCode   int16
}

type fetchedTopic struct {
	topic      string
	partitions []fetchedPartition
}

// fetchOffsets returns the committed offsets of the wanted partitions of
// a group, or of all its partitions when want is nil; with stable, a
// partition with a pending transactional offset is UNSTABLE_OFFSET_COMMIT.
// Called with mu held.
func (c *Coordinator) fetchOffsets(name string, want []fetchTopic, stable bool) []fetchedTopic {
	g := c.groups[name]
	lookup := func(topic string, p int32) fetchedPartition {
		fp := fetchedPartition{partition: p, offset: -1, leaderEpoch: -1}
		if g != nil && stable && g.unstable(topicPartition{topic, p}) {
			fp.errorCode = kerr.UnstableOffsetCommit.Code
			return fp
		}
		if g != nil {
			if o := g.offsets[topicPartition{topic, p}]; o != nil {
				fp.offset, fp.leaderEpoch, fp.metadata = o.offset, o.leaderEpoch, o.metadata
			}
		}
		return fp
	}
	var out []fetchedTopic
	if want == nil {
		if g == nil {
			return nil
		}
		for _, tp := range g.sortedOffsets() {
			if len(out) == 0 || out[len(out)-1].topic != tp.topic {
				out = append(out, fetchedTopic{topic: tp.topic})
			}
			last := &out[len(out)-1]
			last.partitions = append(last.partitions, lookup(tp.topic, tp.partition))
		}
		return out
	}
	for _, t := range want {
		ft := fetchedTopic{topic: t.topic}
		for _, p := range t.partitions {
			ft.partitions = append(ft.partitions, lookup(t.topic, p))
		}
		out = append(out, ft)
	}
	return out
}
