package group

import (
	"crypto/sha256"
	"github.com/tributary-io/tributary/internal/javahash"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetsTopic is Kafka's internal __consumer_offsets topic as the broker
// keeps it: the coordinator publishes there, in Kafka's record formats,
// every change of its committed offsets and group metadata, so that tools
// that read the topic (Burrow, lag exporters, kafka-console-consumer with
// the offsets formatter) see the groups.
//
// # Design: the offsets log stays the source of truth; the topic is a view
//
// The offsets log (offsetlog.go) keeps being what the coordinator loads on
// start-up and what makes a commit durable: a commit is acknowledged once
// its record is fsynced there, exactly as before. The topic is a faithful,
// read-only view of that state, written only by the coordinator:
//
//   - The writer goroutine, after a batch of the offsets log is fsynced and
//     applied, appends the batch's changes to the topic, in commit order,
//     and only then releases the requests waiting on the batch. An
//     acknowledged commit is therefore in the topic's log file (the page
//     cache, like any produce with acks=1) when the client hears of it, and
//     survives kill -9 of the broker there too.
//   - What is appended is the difference between the coordinator's state
//     and what the topic already says for the keys the batch touched (see
//     viewGroup): a commit is an OffsetCommitKey (v1) and OffsetCommitValue
//     (v3) record, a group's metadata a GroupMetadataKey (v2) and
//     GroupMetadataValue (v3) record with its members, subscriptions and
//     assignments, written when a generation starts, when the leader's
//     assignment arrives, and when the group becomes Empty; a deleted
//     offset (OffsetDelete, retention, a deleted topic) or group is a
//     tombstone (a null value), as in Kafka.
//   - On start-up the coordinator reads the whole topic back (the last
//     value of each key) and appends what differs from the state loaded
//     from the offsets log: the commits and tombstones a crash kept from
//     the topic (between the fsync of the offsets log and the append), and
//     what retention of the topic removed. So after a restart the topic
//     again holds every group's current metadata and offsets.
//   - A failed append to the topic (a full disk, an offline log dir) does
//     not fail the commit, which is durable in the offsets log: it is
//     logged, its keys are marked unknown so their next change is written
//     whatever it is, and the next start-up repairs the rest.
//
// A group lives in partition abs(javahash.String(group)) % Partitions(), as
// in Kafka, so tools that compute a group's partition find it there.
// The topic is not compacted (the broker compacts no topic): it is
// trimmed by the broker's time and size retention like other topics, and
// each start-up writes back the current value of every key retention
// removed.
type OffsetsTopic interface {
	// Partitions is the topic's partition count; it does not change
	// while the coordinator runs.
	Partitions() int32
	// Append writes recs to one partition, in order, before it returns.
	// A nil Value is a tombstone.
	Append(partition int32, recs []KeyValue) error
	// Scan calls fn with every record of the topic, each partition from
	// its log start in offset order.
	Scan(fn func(partition int32, key, value []byte)) error
}

// KeyValue is one record of the offsets topic.
type KeyValue struct{ Key, Value []byte }

// OffsetsTopicPartition is the partition of the offsets topic that holds
// a group: Kafka's Utils.abs(groupId.hashCode()) % partitions.
func OffsetsTopicPartition(group string, partitions int32) int32 {
	h := int32(javahash.String(group))
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

// viewKey names one key of the offsets topic: a group's metadata (meta)
// or one of its committed offsets.
type viewKey struct {
	group string
	tp    topicPartition
	meta  bool
}

// viewSum is what the topic says for a key: the SHA-256 of the last value
// written. unknownSum marks a key whose last append failed.
type viewSum [32]byte

var unknownSum = viewSum{0xff}

// viewGroup is what the topic says for one group's keys.
type viewGroup map[viewKey]viewSum

func (k viewKey) encode() []byte {
	if k.meta {
		key := kmsg.GroupMetadataKey{Version: 2, Group: k.group}
		return key.AppendTo(nil)
	}
	key := kmsg.OffsetCommitKey{Version: 1, Group: k.group, Topic: k.tp.topic, Partition: k.tp.partition}
	return key.AppendTo(nil)
}

// decodeViewKey decodes a key of the offsets topic; ok is false for keys
// of other kinds (Kafka's transaction or share keys never appear here).
func decodeViewKey(b []byte) (k viewKey, ok bool) {
	if len(b) < 2 {
		return k, false
	}
	switch v := int16(b[0])<<8 | int16(b[1]); v {
	case 0, 1:
		var key kmsg.OffsetCommitKey
		if key.ReadFrom(b) != nil {
			return k, false
		}
		return viewKey{group: key.Group, tp: topicPartition{key.Topic, key.Partition}}, true
	case 2:
		var key kmsg.GroupMetadataKey
		if key.ReadFrom(b) != nil {
			return k, false
		}
		return viewKey{group: key.Group, meta: true}, true
	}
	return k, false
}

// viewValue is the value the topic should hold for k now: nil when the
// key should not exist (a tombstone). Called with mu held.
func (c *Coordinator) viewValue(k viewKey) []byte {
	g := c.groups[k.group]
	if g == nil {
		return nil
	}
	if !k.meta {
		o := g.offsets[k.tp]
		if o == nil {
			return nil
		}
		v := kmsg.OffsetCommitValue{
			Version: 3, Offset: o.offset, LeaderEpoch: o.leaderEpoch,
			Metadata: o.metadata, CommitTimestamp: o.commitTime,
		}
		return v.AppendTo(nil)
	}
	if g.protocolType == "" && g.generation == 0 {
		return nil
	}
	v := kmsg.NewGroupMetadataValue()
	v.Version = 3
	v.ProtocolType, v.Generation = g.protocolType, g.generation
	v.CurrentStateTimestamp = c.clk.Now().UnixMilli()
	if g.state == stateEmpty && !g.emptySince.IsZero() {
		v.CurrentStateTimestamp = g.emptySince.UnixMilli()
	}
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" && len(g.members) > 0 {
		l := g.leader
		v.Leader = &l
	}
	for _, m := range g.members {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID = m.id, cloneStringPtr(m.instanceID)
		vm.ClientID, vm.ClientHost = m.clientID, m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalance.Milliseconds())
		vm.SessionTimeoutMillis = int32(m.session.Milliseconds())
		vm.Subscription = m.metadata(g.protocol)
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		vm.Assignment = m.assignment
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return v.AppendTo(nil)
}

// viewChanges collects the records to append to the offsets topic, per
// partition, in order.
type viewChanges struct {
	parts map[int32][]KeyValue
	keys  map[int32][]viewKey
	seen  map[viewKey]bool
}

// touch queues key k: what the topic says for it is compared with the
// coordinator's state when the changes are built.
func (vc *viewChanges) touch(k viewKey, order *[]viewKey) {
	if vc.seen == nil {
		vc.seen = map[viewKey]bool{}
	}
	if !vc.seen[k] {
		vc.seen[k] = true
		*order = append(*order, k)
	}
}

// viewTouched lists the keys of the offsets topic that recs (written and
// applied) may have changed, in record order. Called with mu held.
func (c *Coordinator) viewTouched(recs []record) []viewKey {
	var (
		vc    viewChanges
		order []viewKey
	)
	groupKeys := func(name string) {
		for k := range c.view[name] {
			if !k.meta {
				vc.touch(k, &order)
			}
		}
		if g := c.groups[name]; g != nil {
			for _, tp := range g.sortedOffsets() {
				vc.touch(viewKey{group: name, tp: tp}, &order)
			}
		}
		vc.touch(viewKey{group: name, meta: true}, &order)
	}
	for i := range recs {
		r := &recs[i]
		switch r.kind {
		case kindCommit:
			vc.touch(viewKey{group: r.group, tp: topicPartition{r.topic, r.partition}}, &order)
		case kindDeleteOffset:
			vc.touch(viewKey{group: r.group, tp: topicPartition{r.topic, r.partition}}, &order)
			vc.touch(viewKey{group: r.group, meta: true}, &order)
		case kindDeleteGroup:
			groupKeys(r.group)
		case kindDeleteTopic:
			for name, vg := range c.view {
				for k := range vg {
					if !k.meta && k.tp.topic == r.topic {
						vc.touch(k, &order)
					}
				}
				vc.touch(viewKey{group: name, meta: true}, &order)
			}
		case kindGroupMeta:
			vc.touch(viewKey{group: r.group, meta: true}, &order)
		case kindTxnEnd:
			// The offsets a commit made visible; pending ones are not
			// in the view (Kafka writes them with the producer's
			// batches, which read_committed consumers skip until the
			// marker).
			for _, tp := range r.applied {
				vc.touch(viewKey{group: r.group, tp: tp}, &order)
			}
		}
	}
	return order
}

// viewDiff builds the records that bring the topic in line with the
// coordinator's state for keys, and records them as written. keepMeta
// leaves a group's metadata alone when the topic has some (on start-up:
// members are gone then, but the generation the topic shows is the
// group's). Called with mu held.
func (c *Coordinator) viewDiff(keys []viewKey, keepMeta bool) *viewChanges {
	vc := &viewChanges{parts: map[int32][]KeyValue{}, keys: map[int32][]viewKey{}}
	n := c.cfg.OffsetsTopic.Partitions()
	for _, k := range keys {
		vg := c.view[k.group]
		have, had := vg[k]
		val := c.viewValue(k)
		if val == nil {
			if !had {
				continue
			}
			delete(vg, k)
			if len(vg) == 0 {
				delete(c.view, k.group)
			}
		} else {
			if had && keepMeta && k.meta && have != unknownSum {
				continue
			}
			sum := viewSum(sha256.Sum256(val))
			if had && sum == have {
				continue
			}
			if vg == nil {
				vg = viewGroup{}
				c.view[k.group] = vg
			}
			vg[k] = sum
		}
		p := OffsetsTopicPartition(k.group, n)
		vc.parts[p] = append(vc.parts[p], KeyValue{Key: k.encode(), Value: val})
		vc.keys[p] = append(vc.keys[p], k)
	}
	return vc
}

// writeView appends vc to the offsets topic. Called without mu. Keys of a
// failed append are marked unknown, so their next change is written.
func (c *Coordinator) writeView(vc *viewChanges) {
	if vc == nil || len(vc.parts) == 0 {
		return
	}
	for p, recs := range vc.parts {
		err := c.cfg.OffsetsTopic.Append(p, recs)
		if err == nil {
			continue
		}
		c.log.Error("cannot append to the offsets topic; the commits are durable in the offsets log and the topic is repaired on the next change of their keys or the next start",
			"partition", p, "records", len(recs), "err", err)
		c.mu.Lock()
		for _, k := range vc.keys[p] {
			vg := c.view[k.group]
			if vg == nil {
				vg = viewGroup{}
				c.view[k.group] = vg
			}
			vg[k] = unknownSum
		}
		c.mu.Unlock()
	}
}

// loadView reads the offsets topic back and appends what differs from the
// state loaded from the offsets log (start-up).
func (c *Coordinator) loadView() {
	c.view = map[string]viewGroup{}
	err := c.cfg.OffsetsTopic.Scan(func(_ int32, key, value []byte) {
		k, ok := decodeViewKey(key)
		if !ok {
			return
		}
		vg := c.view[k.group]
		if value == nil {
			delete(vg, k)
			if vg != nil && len(vg) == 0 {
				delete(c.view, k.group)
			}
			return
		}
		if vg == nil {
			vg = viewGroup{}
			c.view[k.group] = vg
		}
		vg[k] = sha256.Sum256(value)
	})
	if err != nil {
		c.log.Error("cannot read the offsets topic back; rewriting every group's state to it", "err", err)
	}
	var keys []viewKey
	for _, vg := range c.view {
		for k := range vg {
			keys = append(keys, k)
		}
	}
	for name, g := range c.groups {
		keys = append(keys, viewKey{group: name, meta: true})
		for _, tp := range g.sortedOffsets() {
			keys = append(keys, viewKey{group: name, tp: tp})
		}
	}
	c.mu.Lock()
	vc := c.viewDiff(keys, true)
	c.mu.Unlock()
	n := 0
	for _, recs := range vc.parts {
		n += len(recs)
	}
	if n > 0 {
		c.log.Info("offsets topic brought up to date with the offsets log", "records", n)
	}
	c.writeView(vc)
}
