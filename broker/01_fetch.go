package broker

import (
	"errors"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/storage"
)

// Fetch: v4-18
//
// Behavior:
// * Returns whole stored batches, copied from the segment file into pooled
//   buffers without decoding them; the response is encoded into a write
//   buffer sized for it up front. A fetch offset inside a batch returns
//   that whole batch (the consumer skips the records before its offset).
//   Each partition's data comes from one segment per request.
// * PartitionMaxBytes and MaxBytes bound the data; the first batch of the
//   first partition with data is returned even if larger, so a consumer
//   always progresses. Later partitions get only what fits.
// * Long poll: if less than MinBytes is available, the request waits up to
//   MaxWaitMillis and is answered as soon as an append to one of its
//   partitions brings enough (or the client goes away). An error in any
//   partition answers at once.
// * HighWatermark is the log end offset: the single replica is the whole
//   ISR. LastStableOffset is the first offset of the partition's oldest
//   open transaction, or the log end when none is open.
// * IsolationLevel 1 (read_committed) reads only below the last stable
//   offset, and each partition with records lists the aborted
//   transactions (producer id, first offset) whose batches may lie in
//   them, from the segments' aborted-transaction indexes, so the consumer
//   drops them; a consumer at the last stable offset waits (long poll)
//   until a marker moves it.
// * A fetch below the log start offset or beyond the end is
//   OFFSET_OUT_OF_RANGE, with the log start and end offsets.
// * A partition whose log dir is offline is KAFKA_STORAGE_ERROR.
// * Fetch sessions (KIP-227), v7+, as Kafka (fetchsession.go): epoch -1
//   is a sessionless full fetch (response session id 0), and closes the
//   session it names; epoch 0 is a full fetch that closes the session it
//   names and creates a new one when a slot of
//   max.incremental.fetch.session.cache.slots is free or can be freed
//   (Kafka's eviction: the least recently used session idle over 2
//   minutes, else the smallest one older than 2 minutes if the new one is
//   at least as large), else is sessionless. Any other epoch is an
//   incremental fetch: FETCH_SESSION_ID_NOT_FOUND for an unknown session
//   (or none), INVALID_FETCH_SESSION_EPOCH unless it is the session's next
//   epoch, FETCH_SESSION_TOPIC_ID_ERROR when it uses names on a session
//   made with topic ids (v13+) or the reverse. Its partitions add to or
//   update the session (offsets, max bytes, leader epochs), its
//   ForgottenTopics leave it; a session left empty is closed and the
//   fetch served without one. It reads and long-polls every partition of
//   the session, and answers only the partitions with records, an error,
//   or a high watermark or log start offset the client was not told yet;
//   partitions that returned records are read last next time. Session ids
//   are random positive int32s, per broker, lost on restart.
// * Client quotas (quota.go): the records returned count against
//   consumer_byte_rate; over it, the data is returned with ThrottleMillis
//   and the connection is muted that long (v4-7: the answer waits).
// * v9+: a CurrentLeaderEpoch above this broker's (always 0) is
//   UNKNOWN_LEADER_EPOCH.
//
// Not done: preferred read replicas (always -1), diverging epochs (there
// is one epoch), down-conversion for v0-3;
// fetch sessions have no privileged (follower) sessions, no
// min.incremental.fetch.session.eviction.ms key (2 minutes, Kafka's
// default) and no metrics.
//
// Version notes:
// * v4: record batches, IsolationLevel, LastStableOffset
// * v5: LogStartOffset
// * v7: fetch sessions (SessionID, SessionEpoch, ForgottenTopics)
// * v9: CurrentLeaderEpoch
// * v11: Rack, PreferredReadReplica
// * v12: flexible versions, LastFetchedEpoch, DivergingEpoch
// * v13: topics by TopicID (KIP-516)
// * v15: ReplicaState replaces ReplicaID (broker-only)
// * v16: NodeEndpoints, only sent on NOT_LEADER: never here
// * v17, v18: ReplicaDirectoryID, HighWatermark tags (broker-only)

// fetchBufferCap bounds the buffer read for one partition; a larger
// PartitionMaxBytes gets up to this much per request.
const fetchBufferCap = 8 << 20

func handleFetch(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.FetchRequest)
	var (
		inc    *incrementalFetch
		create bool
	)
	if req.Version >= 7 {
		sessions := b.fetchSessions()
		switch req.SessionEpoch {
		case fetchInitialEpoch, fetchFinalEpoch:
			// A full fetch; a session it names is closed.
			if req.SessionID != 0 {
				sessions.close(req.SessionID)
			}
			create = req.SessionEpoch == fetchInitialEpoch
		default:
			var code int16
			inc, code = sessions.incremental(req)
			if code != 0 {
				resp := req.ResponseKind().(*kmsg.FetchResponse)
				resp.ErrorCode = code
				return reply{resp: resp}
			}
			if inc != nil {
				req = inc.full
			}
		}
	}
	answer := func(f fetchResult) reply {
		b.metrics.fetched(f.resp)
		switch {
		case inc != nil:
			if code := b.fetchSessions().respond(inc, f.resp); code != 0 {
				f.release()
				resp := req.ResponseKind().(*kmsg.FetchResponse)
				resp.ErrorCode = code
				return reply{resp: resp}
			}
		case create:
			f.resp.SessionID = b.fetchSessions().create(req, f.resp)
		}
		r := reply{resp: sizedFetchResponse{f.resp, f.bytes, f.parts}, release: f.release}
		// Client quotas (quota.go): the records returned count against
		// consumer_byte_rate; the data is returned all the same.
		if d := b.recordQuota(c, consumerByteRate, f.bytes); d > 0 {
			f.resp.ThrottleMillis = int32(d.Milliseconds())
			r.throttled(d, req.Version >= 8)
		}
		return r
	}
	wait := time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond
	deadline := time.Now().Add(wait)
	var (
		notify  chan struct{}
		timer   *time.Timer
		watched []*partition
	)
	defer func() {
		for _, p := range watched {
			p.unwatch(notify)
		}
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		f := b.fetchOnce(req)
		if f.bytes >= int(req.MinBytes) || f.failed || wait <= 0 || !time.Now().Before(deadline) || c.ctx.Err() != nil {
			return answer(f)
		}
		f.release()
		if notify == nil {
			// Watch the partitions, then read once more: an append between
			// the read and the watch must not be missed.
			notify = make(chan struct{}, 1)
			watched = b.fetchPartitions(req)
			for _, p := range watched {
				p.watch(notify)
			}
			timer = time.NewTimer(time.Until(deadline))
			continue
		}
		select {
		case <-notify:
		case <-timer.C:
		case <-c.ctx.Done():
		}
	}
}

var noRecords = []byte{}

// sizedFetchResponse is a FetchResponse that makes room for itself in the
// write buffer once, taken from the buffer pool, before it is encoded:
// appending megabytes of records to a small buffer would otherwise grow
// (and copy) it several times per response. The buffer it outgrows goes
// back to the pool: its one caller, the connection's writer, keeps only
// the returned slice.
type sizedFetchResponse struct {
	*kmsg.FetchResponse
	records, partitions int
}

func (r sizedFetchResponse) AppendTo(dst []byte) []byte {
	need := r.records + 128*r.partitions + 256
	for _, t := range r.Topics {
		need += len(t.Topic) + 32
	}
	if cap(dst)-len(dst) < need {
		grown := getBuf(len(dst) + need)[:len(dst)]
		copy(grown, dst)
		putBuf(dst)
		dst = grown
	}
	return r.FetchResponse.AppendTo(dst)
}

type fetchResult struct {
	resp   *kmsg.FetchResponse
	bytes  int
	parts  int
	failed bool
	bufs   [][]byte
}

func (f *fetchResult) release() {
	for _, b := range f.bufs {
		putBuf(b)
	}
	f.bufs = nil
}

// fetchPartitions returns the existing partitions a fetch names.
func (b *Broker) fetchPartitions(req *kmsg.FetchRequest) []*partition {
	topics := b.topics()
	var out []*partition
	for _, rt := range req.Topics {
		t := topics.byName[rt.Topic]
		if req.Version >= 13 {
			t = topics.byID[rt.TopicID]
		}
		if t == nil {
			continue
		}
		for _, rp := range rt.Partitions {
			if rp.Partition >= 0 && int(rp.Partition) < len(t.parts) {
				out = append(out, t.parts[rp.Partition])
			}
		}
	}
	return out
}

// fetchOnce reads what is available now for every partition of req.
func (b *Broker) fetchOnce(req *kmsg.FetchRequest) fetchResult {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	f := fetchResult{resp: resp}
	remaining := math.MaxInt32
	if req.MaxBytes > 0 {
		remaining = int(req.MaxBytes)
	}
	topics := b.topics()
	committed := req.IsolationLevel == 1
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t *topic
		unknown := kerr.UnknownTopicOrPartition.Code
		if req.Version >= 13 {
			t = topics.byID[rt.TopicID]
			unknown = kerr.UnknownTopicID.Code
			if t != nil {
				st.Topic = t.name
			}
		} else {
			t = topics.byName[rt.Topic]
		}
		st.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		f.parts += len(rt.Partitions)
		for i, in := range rt.Partitions {
			rp := &st.Partitions[i]
			rp.Default()
			rp.Partition = in.Partition
			// Empty, not null: librdkafka refuses a null record set.
			rp.RecordBatches = noRecords
			if t == nil || in.Partition < 0 || int(in.Partition) >= len(t.parts) {
				rp.ErrorCode, f.failed = unknown, true
				continue
			}
			if req.Version >= 9 && in.CurrentLeaderEpoch > 0 {
				rp.ErrorCode, f.failed = kerr.UnknownLeaderEpoch.Code, true
				continue
			}
			p := t.parts[in.Partition]
			if p.offline != nil {
				rp.ErrorCode, f.failed = kerr.KafkaStorageError.Code, true
				continue
			}
			limit := min(int(in.PartitionMaxBytes), remaining)
			minOne := f.bytes == 0
			end := p.log.EndOffset()
			lso := p.log.LastStableOffset()
			readTo := end
			if committed {
				readTo = lso
			}
			if in.FetchOffset == readTo || (limit <= 0 && !minOne) {
				// Nothing to read (the common case of a caught-up
				// consumer, or one held back by an open transaction),
				// or no room left for this partition.
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = end, min(lso, end), p.log.StartOffset()
				if in.FetchOffset <= readTo {
					continue
				}
			}
			buf := getBuf(min(max(limit, 0), fetchBufferCap) + 16<<10)
			var res storage.ReadResult
			var err error
			if committed {
				res, err = p.log.ReadCommitted(buf, in.FetchOffset, max(limit, 0), minOne)
			} else {
				res, err = p.log.Read(buf, in.FetchOffset, max(limit, 0), minOne)
			}
			if cap(res.Buf) != cap(buf) {
				putBuf(buf)
			}
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = res.HighWatermark, res.LastStableOffset, res.LogStartOffset
			if err != nil {
				putBuf(res.Buf)
				code, _ := storageError(err)
				if errors.Is(err, storage.ErrClosed) {
					code = unknown
				}
				rp.ErrorCode, f.failed = code, true
				continue
			}
			if len(res.Records) == 0 {
				putBuf(res.Buf)
				continue
			}
			rp.RecordBatches = res.Records
			if committed {
				for _, a := range p.log.AbortedTransactions(in.FetchOffset, res.NextOffset) {
					at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
					at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
					rp.AbortedTransactions = append(rp.AbortedTransactions, at)
				}
			}
			f.bufs = append(f.bufs, res.Buf)
			f.bytes += len(res.Records)
			remaining -= len(res.Records)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return f
}
