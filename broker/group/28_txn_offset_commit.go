package group

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit: v0-4 (the broker checks the transaction first, then
// calls TxnOffsetCommit; key 28 is not in APIVersions, the broker lists it)
//
// The offsets are written to the offsets log as pending offsets of the
// producer (ProducerID): OffsetFetch does not return them, and with
// RequireStable (v7+) answers UNSTABLE_OFFSET_COMMIT for their partitions,
// until EndTxn completes the transaction: commit makes them the group's
// committed offsets, abort drops them (EndTxn below). A pending offset
// survives a restart, as the transaction does.
//
// Validation, as Kafka's: a partition that does not exist gets
// UNKNOWN_TOPIC_OR_PARTITION; an unknown group is created (as a simple
// group); v3+ (KIP-447): when the request names a member, an instance or a
// generation, the member must be in the group (UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID) at its generation (ILLEGAL_GENERATION); metadata
// longer than offset.metadata.max.bytes gets OFFSET_METADATA_TOO_LARGE.
// The response is sent once the records are fsynced.
//
// Version notes:
//   - v2: LeaderEpoch per partition
//   - v3: flexible versions; Generation, MemberID, InstanceID (KIP-447)
//   - v4: TRANSACTION_ABORTABLE may be returned (KIP-890): never here

// TxnOffsetCommit stores the offsets of a transactional producer's
// TxnOffsetCommit as pending until EndTxn. The broker has checked that
// the producer's transaction is open and holds the group.
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	type slot struct{ t, p int }
	var eligible []slot
	for _, t := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = t.Topic
		for _, p := range t.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = p.Partition
			if !c.partitionExists(t.Topic, p.Partition) {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				eligible = append(eligible, slot{len(resp.Topics), len(st.Partitions)})
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	setAll := func(code int16) *kmsg.TxnOffsetCommitResponse {
		for _, s := range eligible {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = code
		}
		return resp
	}
	if len(eligible) == 0 {
		return resp
	}
	if code := c.admit(req.Group); code != 0 {
		return setAll(code)
	}
	g := c.groups[req.Group]
	created := false
	if g == nil {
		g = newGroup(strings.Clone(req.Group))
		c.groups[g.name] = g
		created = true
	}
	if req.Version >= 3 && (req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil) {
		if _, code := g.standing(req.MemberID, req.InstanceID, req.Generation); code != 0 {
			if created && g.idle() {
				delete(c.groups, g.name)
			}
			c.mu.Unlock()
			return setAll(code)
		}
	}
	now := c.clk.Now().UnixMilli()
	var recs []record
	var written []slot
	for _, s := range eligible {
		t := &req.Topics[s.t]
		p := &t.Partitions[s.p]
		var md string
		if p.Metadata != nil {
			md = *p.Metadata
		}
		if len(md) > c.cfg.MaxMetadataSize {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = kerr.OffsetMetadataTooLarge.Code
			continue
		}
		r := record{
			kind: kindTxnCommit, group: g.name, topic: strings.Clone(t.Topic), partition: p.Partition,
			offset: p.Offset, leaderEpoch: p.LeaderEpoch, metadata: strings.Clone(md),
			commitTime: now, expireTime: -1, producerID: req.ProducerID,
		}
		if req.Version < 2 {
			r.leaderEpoch = -1
		}
		recs = append(recs, r)
		g.pendingCommits[topicPartition{r.topic, r.partition}]++
		written = append(written, s)
	}
	if len(recs) == 0 {
		if created && g.idle() {
			delete(c.groups, g.name)
		}
		c.mu.Unlock()
		return resp
	}
	b := c.olog.append(recs...)
	c.mu.Unlock()
	if err := c.await(ctx, b); err != nil {
		for _, s := range written {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
	}
	return resp
}

// EndTxn completes producer pid's transaction in each group: its pending
// offsets become the groups' committed offsets (commit) or are dropped.
// It returns once that is durable. Groups without pending offsets of the
// producer are left alone, so a repeated call is harmless.
func (c *Coordinator) EndTxn(ctx context.Context, pid int64, commit bool, groups []string) error {
	if code := c.lockOpen(); code != 0 {
		return kerr.ErrorForCode(code)
	}
	var recs []record
	for _, name := range groups {
		if g := c.groups[name]; g != nil && g.txnOffsets[pid] != nil {
			recs = append(recs, record{kind: kindTxnEnd, group: g.name, producerID: pid, commit: commit})
		}
	}
	if len(recs) == 0 {
		c.mu.Unlock()
		return nil
	}
	b := c.olog.append(recs...)
	c.mu.Unlock()
	return c.await(ctx, b)
}

// await waits for a batch of the offsets log to be durable.
func (c *Coordinator) await(ctx context.Context, b *batch) error {
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
