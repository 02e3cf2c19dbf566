package group

// Offsets retention (offsets.retention.minutes), checked every
// offsets.retention.check.interval.ms, with Kafka's rules (KIP-211):
//
//   - a group that is Empty loses the offsets committed before it became
//     empty once it has been empty for the retention period;
//   - a group with no protocol type (only simple commits) loses each
//     offset the retention period after its commit;
//   - a Stable "consumer" group loses the offsets of topics none of its
//     members subscribes to, the retention period after their commit;
//   - an offset committed with an explicit retention time (OffsetCommit
//     v2-v4) expires at that time instead, under the same conditions.
//
// A group left Empty with no offsets is deleted. Partitions with a commit
// still being written are left alone.

func (c *Coordinator) scheduleRetention() {
	c.sched.after(c.clk.Now(), c.cfg.OffsetsRetentionCheckInterval, func() {
		c.expireOffsets()
		c.scheduleRetention()
	})
}

// expireOffsets writes the deletion of every expired offset. Called with mu
// held.
func (c *Coordinator) expireOffsets() {
	now := c.clk.Now().UnixMilli()
	retention := c.cfg.OffsetsRetention.Milliseconds()
	var recs []record
	expiredTotal := 0
	for _, name := range c.groupNames() {
		g := c.groups[name]
		var base func(o *offset) int64
		var skip map[string]bool
		switch {
		case g.state == stateEmpty && g.protocolType != "":
			since := g.emptySince.UnixMilli()
			base = func(*offset) int64 { return since }
		case g.state == stateEmpty:
			base = func(o *offset) int64 { return o.commitTime }
		case g.state == stateStable && g.protocolType == "consumer" && g.subscribed != nil:
			base = func(o *offset) int64 { return o.commitTime }
			skip = g.subscribed
		default:
			continue
		}
		var expired []topicPartition
		for _, tp := range g.sortedOffsets() {
			o := g.offsets[tp]
			if skip[tp.topic] || g.pendingCommits[tp] > 0 {
				continue
			}
			if o.expireTime >= 0 && now >= o.expireTime || o.expireTime < 0 && now-base(o) >= retention {
				expired = append(expired, tp)
			}
		}
		expiredTotal += len(expired)
		if g.state == stateEmpty && len(expired) == len(g.offsets) && len(g.pendingCommits) == 0 && len(g.pending) == 0 {
			if len(expired) > 0 || g.protocolType != "" || g.generation > 0 {
				recs = append(recs, record{kind: kindDeleteGroup, group: g.name})
			}
			if len(g.offsets) == 0 {
				c.dropGroup(g)
			}
			continue
		}
		for _, tp := range expired {
			recs = append(recs, record{kind: kindDeleteOffset, group: g.name, topic: tp.topic, partition: tp.partition})
		}
	}
	if len(recs) > 0 {
		c.olog.append(recs...)
	}
	if expiredTotal > 0 {
		c.log.Info("expired committed offsets", "offsets", expiredTotal)
	}
}
