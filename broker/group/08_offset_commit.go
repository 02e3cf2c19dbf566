package group

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit: v0-9
//
// Version notes:
//   - v0: no Generation or MemberID: a simple commit (Kafka kept v0 commits
//     in ZooKeeper; here every version shares one store).
//   - v1: Generation, MemberID; a per-partition Timestamp that, when not
//     -1, is the commit time.
//   - v2-v4: RetentionTimeMillis; when not -1 the offset expires that long
//     after the commit, the pre-KIP-211 rule.
//   - v6: LeaderEpoch, stored and returned by OffsetFetch.
//   - v7: InstanceID (KIP-345).
//   - v9: a commit with a generation to an unknown group gets
//     GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION, as in Kafka.
//
// Not served: v10 (topic ids).
//
// Validation, in Kafka's order: a partition that does not exist gets
// UNKNOWN_TOPIC_OR_PARTITION; the rest share the group check: with
// generation -1 into an empty or unknown group anyone may commit (a
// "simple" group, as kcat and the console tools use), otherwise the member
// must be in the group (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) at its
// generation (ILLEGAL_GENERATION), and not while the group waits for its
// leader's assignment (REBALANCE_IN_PROGRESS). Metadata longer than
// offset.metadata.max.bytes gets OFFSET_METADATA_TOO_LARGE. An offset past
// the log end is stored as given, as Kafka does.
//
// The response is sent once the commit records are fsynced; commits that
// arrive while an fsync runs share the next one.

func (c *Coordinator) partitionExists(topic string, partition int32) bool {
	if partition < 0 {
		return false
	}
	if c.cfg.Topics == nil {
		return true
	}
	_, ok := c.cfg.Topics.PartitionEnd(topic, partition)
	return ok
}

func (c *Coordinator) offsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := errorResponse(req, 0).(*kmsg.OffsetCommitResponse)
	type slot struct{ t, p int }
	var eligible []slot
	for i, t := range req.Topics {
		for j, p := range t.Partitions {
			if !c.partitionExists(t.Topic, p.Partition) {
				resp.Topics[i].Partitions[j].ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			eligible = append(eligible, slot{i, j})
		}
	}
	if len(eligible) == 0 {
		return resp
	}
	setAll := func(code int16) kmsg.Response {
		for _, s := range eligible {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = code
		}
		return resp
	}

	now := c.clk.Now()
	if code := c.lockOpen(); code != 0 {
		return setAll(code)
	}
	g := c.groups[req.Group]
	created := false
	if g == nil {
		switch {
		case req.Generation < 0:
			g = newGroup(strings.Clone(req.Group))
			c.groups[g.name] = g
			created = true
		case req.Version >= 9:
			c.mu.Unlock()
			return setAll(kerr.GroupIDNotFound.Code)
		default:
			c.mu.Unlock()
			return setAll(kerr.IllegalGeneration.Code)
		}
	}
	if code := commitCheck(g, req); code != 0 {
		if created && g.idle() {
			delete(c.groups, g.name)
		}
		c.mu.Unlock()
		return setAll(code)
	}
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
		commitTime := now.UnixMilli()
		if req.Version == 1 && p.Timestamp != -1 {
			commitTime = p.Timestamp
		}
		expireTime := int64(-1)
		if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis != -1 {
			expireTime = now.UnixMilli() + req.RetentionTimeMillis
		}
		r := record{
			kind: kindCommit, group: g.name, topic: strings.Clone(t.Topic), partition: p.Partition,
			offset: p.Offset, leaderEpoch: p.LeaderEpoch, metadata: strings.Clone(md),
			commitTime: commitTime, expireTime: expireTime,
		}
		if req.Version < 6 {
			r.leaderEpoch = -1
		}
		recs = append(recs, r)
		g.pendingCommits[topicPartition{r.topic, r.partition}]++
		written = append(written, s)
	}
	if m := g.byID[req.MemberID]; m != nil && states[g.state].members {
		c.scheduleSession(g, m, m.session)
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

	var err error
	select {
	case <-b.done:
		err = b.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		for _, s := range written {
			resp.Topics[s.t].Partitions[s.p].ErrorCode = kerr.NotCoordinator.Code
		}
	}
	return resp
}

// commitCheck says whether an OffsetCommit may write to g. A commit with
// generation -1 and no member is a simple one (kcat, the console tools),
// which only an Empty group takes: a group with members takes commits from
// its members in good standing (group.standing) alone, and then the
// state's commit column has the last word (state.go): not while the group
// waits for its leader's assignment.
func commitCheck(g *group, req *kmsg.OffsetCommitRequest) int16 {
	if g.state == stateEmpty && req.Generation < 0 {
		return 0
	}
	if req.Generation < 0 && req.MemberID == "" && req.InstanceID == nil {
		return codeNoMember
	}
	if _, code := g.standing(req.MemberID, req.InstanceID, req.Generation); code != 0 {
		return code
	}
	return states[g.state].commit
}
