package broker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/storage"
)

// topicConfig is one of Kafka's topic-level configs. Those with apply set
// change how the partition logs behave; the others are accepted, stored
// and described, as a single-node broker has nothing to do with them
// (replication throttles, tiered storage).
type topicConfig struct {
	name string
	typ  kmsg.ConfigType
	def  string // Kafka's default when the broker sets none
	min  int64  // for numbers
	enum []string
	doc  string
	// brokerKeys are the server.properties synonyms, most specific first.
	brokerKeys []string
	apply      func(o *storage.Options, v string)
}

func parseLong(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }

func msDuration(v string) time.Duration {
	n := parseLong(v)
	if n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
		return -1
	}
	return time.Duration(n) * time.Millisecond
}

var topicConfigs = []topicConfig{
	{name: "cleanup.policy", typ: kmsg.ConfigTypeList, def: "delete", enum: []string{"delete", "compact"}, brokerKeys: []string{"log.cleanup.policy"},
		doc: "delete removes old segments by retention; compact keeps the latest record of each key (the log cleaner, log.cleaner.*); compact,delete does both. A compacted topic refuses records without a key (INVALID_RECORD)",
		apply: func(o *storage.Options, v string) {
			o.Delete, o.Compact = false, false
			for _, p := range strings.Split(v, ",") {
				o.Delete = o.Delete || strings.TrimSpace(p) == "delete"
				o.Compact = o.Compact || strings.TrimSpace(p) == "compact"
			}
		}},
	{name: "compression.type", typ: kmsg.ConfigTypeString, def: "producer", enum: []string{"producer"}, brokerKeys: []string{"compression.type"},
		doc: "batches are stored as producers compressed them"},
	{name: "delete.retention.ms", typ: kmsg.ConfigTypeLong, def: "86400000", min: 0, brokerKeys: []string{"log.cleaner.delete.retention.ms"},
		doc:   "compacted topics: how long a tombstone (a record with a null value) and a transaction marker stay once the cleaner has seen them",
		apply: func(o *storage.Options, v string) { o.DeleteRetention = max(msDuration(v), 0) }},
	{name: "file.delete.delay.ms", typ: kmsg.ConfigTypeLong, def: "60000", brokerKeys: []string{"log.segment.delete.delay.ms"}, doc: "stored only; segments are deleted at once"},
	{name: "flush.messages", typ: kmsg.ConfigTypeLong, def: strconv.FormatInt(math.MaxInt64, 10), min: 1, brokerKeys: []string{"log.flush.interval.messages"},
		doc:   "fsync once this many messages are unflushed",
		apply: func(o *storage.Options, v string) { o.FlushMessages = parseLong(v) }},
	{name: "flush.ms", typ: kmsg.ConfigTypeLong, def: strconv.FormatInt(math.MaxInt64, 10), brokerKeys: []string{"log.flush.interval.ms"},
		doc:   "fsync data unflushed this long",
		apply: func(o *storage.Options, v string) { o.FlushInterval = msDuration(v) }},
	{name: "follower.replication.throttled.replicas", typ: kmsg.ConfigTypeList, def: "", doc: "replication setting, stored only"},
	{name: "index.interval.bytes", typ: kmsg.ConfigTypeInt, def: "4096", brokerKeys: []string{"log.index.interval.bytes"},
		doc:   "log bytes between offset index entries",
		apply: func(o *storage.Options, v string) { o.IndexIntervalBytes = max(parseLong(v), 1) }},
	{name: "leader.replication.throttled.replicas", typ: kmsg.ConfigTypeList, def: "", doc: "replication setting, stored only"},
	{name: "local.retention.bytes", typ: kmsg.ConfigTypeLong, def: "-2", min: -2, doc: "tiered storage setting, stored only"},
	{name: "local.retention.ms", typ: kmsg.ConfigTypeLong, def: "-2", min: -2, doc: "tiered storage setting, stored only"},
	{name: "max.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: strconv.FormatInt(math.MaxInt64, 10), min: 1, brokerKeys: []string{"log.cleaner.max.compaction.lag.ms"},
		doc:   "compacted topics: a partition whose oldest uncleaned record is older than this is cleaned whatever its dirty ratio",
		apply: func(o *storage.Options, v string) { o.MaxCompactionLag = msDuration(v) }},
	{name: "max.message.bytes", typ: kmsg.ConfigTypeInt, def: "1048588", brokerKeys: []string{"message.max.bytes"},
		doc:   "the largest record batch accepted",
		apply: func(o *storage.Options, v string) { o.MaxMessageBytes = int(parseLong(v)) }},
	{name: "message.downconversion.enable", typ: kmsg.ConfigTypeBoolean, def: "true", doc: "stored only; batches are never down-converted"},
	{name: "message.timestamp.after.max.ms", typ: kmsg.ConfigTypeLong, def: strconv.FormatInt(math.MaxInt64, 10), doc: "stored only"},
	{name: "message.timestamp.before.max.ms", typ: kmsg.ConfigTypeLong, def: strconv.FormatInt(math.MaxInt64, 10), doc: "stored only"},
	{name: "message.timestamp.difference.max.ms", typ: kmsg.ConfigTypeLong, def: strconv.FormatInt(math.MaxInt64, 10), doc: "stored only"},
	{name: "message.timestamp.type", typ: kmsg.ConfigTypeString, def: "CreateTime", enum: []string{"CreateTime", "LogAppendTime"}, brokerKeys: []string{"log.message.timestamp.type"},
		doc:   "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock",
		apply: func(o *storage.Options, v string) { o.LogAppendTime = strings.EqualFold(v, "LogAppendTime") }},
	{name: "min.cleanable.dirty.ratio", typ: kmsg.ConfigTypeDouble, def: "0.5", brokerKeys: []string{"log.cleaner.min.cleanable.ratio"},
		doc: "compacted topics: the share of a partition's cleanable bytes (sealed segments) not yet cleaned at which the cleaner cleans it",
		apply: func(o *storage.Options, v string) {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			o.MinCleanableRatio = f
		}},
	{name: "min.compaction.lag.ms", typ: kmsg.ConfigTypeLong, def: "0", min: 0, brokerKeys: []string{"log.cleaner.min.compaction.lag.ms"},
		doc:   "compacted topics: records newer than this are not compacted (a segment holding one is left for a later pass)",
		apply: func(o *storage.Options, v string) { o.MinCompactionLag = max(msDuration(v), 0) }},
	{name: "min.insync.replicas", typ: kmsg.ConfigTypeInt, def: "1", min: 1, doc: "stored only; the single replica is always in sync"},
	{name: "preallocate", typ: kmsg.ConfigTypeBoolean, def: "false", doc: "stored only"},
	{name: "remote.storage.enable", typ: kmsg.ConfigTypeBoolean, def: "false", enum: []string{"false"}, doc: "tiered storage is not supported"},
	{name: "retention.bytes", typ: kmsg.ConfigTypeLong, def: "-1", min: -1, brokerKeys: []string{"log.retention.bytes"},
		doc:   "delete the oldest segments while the rest is above this size; -1 for no limit",
		apply: func(o *storage.Options, v string) { o.RetentionBytes = parseLong(v) }},
	{name: "retention.ms", typ: kmsg.ConfigTypeLong, def: "604800000", min: -1, brokerKeys: []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
		doc:   "delete segments whose newest record is older than this; -1 keeps data forever",
		apply: func(o *storage.Options, v string) { o.RetentionTime = msDuration(v) }},
	{name: "segment.bytes", typ: kmsg.ConfigTypeInt, def: "1073741824", min: 14, brokerKeys: []string{"log.segment.bytes"},
		doc:   "roll a segment before it grows past this size",
		apply: func(o *storage.Options, v string) { o.SegmentBytes = parseLong(v) }},
	{name: "segment.index.bytes", typ: kmsg.ConfigTypeInt, def: "10485760", min: 4, brokerKeys: []string{"log.index.size.max.bytes"}, doc: "stored only; indexes grow as needed"},
	{name: "segment.jitter.ms", typ: kmsg.ConfigTypeLong, def: "0", brokerKeys: []string{"log.roll.jitter.ms"}, doc: "stored only"},
	{name: "segment.ms", typ: kmsg.ConfigTypeLong, def: "604800000", min: 1, brokerKeys: []string{"log.roll.ms", "log.roll.hours"},
		doc:   "roll a segment once it is this old",
		apply: func(o *storage.Options, v string) { o.SegmentTime = msDuration(v) }},
	{name: "unclean.leader.election.enable", typ: kmsg.ConfigTypeBoolean, def: "false", brokerKeys: []string{"unclean.leader.election.enable"}, doc: "stored only"},
}

var topicConfigIndex = func() map[string]*topicConfig {
	m := make(map[string]*topicConfig, len(topicConfigs))
	for i := range topicConfigs {
		m[topicConfigs[i].name] = &topicConfigs[i]
	}
	return m
}()

// validateTopicConfig checks one topic config value; the error names the
// key and value as Kafka's INVALID_CONFIG messages do.
func validateTopicConfig(name, value string) error {
	tc := topicConfigIndex[name]
	if tc == nil {
		return fmt.Errorf("unknown topic config name: %s", name)
	}
	bad := func(reason string) error {
		return fmt.Errorf("invalid value %s for configuration %s: %s", value, name, reason)
	}
	switch tc.typ {
	case kmsg.ConfigTypeInt, kmsg.ConfigTypeLong:
		bits := 64
		if tc.typ == kmsg.ConfigTypeInt {
			bits = 32
		}
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, bits)
		if err != nil {
			return bad("not a number of the right size")
		}
		if n < tc.min {
			return bad(fmt.Sprintf("value must be at least %d", tc.min))
		}
	case kmsg.ConfigTypeBoolean:
		if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
			return bad("expected true or false")
		}
	case kmsg.ConfigTypeDouble:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return bad("not a number")
		}
		if name == "min.cleanable.dirty.ratio" && (f < 0 || f > 1) {
			return bad("value must be between 0 and 1")
		}
	}
	if len(tc.enum) > 0 {
		vals := []string{value}
		if tc.typ == kmsg.ConfigTypeList {
			vals = strings.Split(value, ",")
		}
		for _, v := range vals {
			ok := false
			for _, e := range tc.enum {
				ok = ok || strings.EqualFold(strings.TrimSpace(v), e)
			}
			if !ok {
				return bad("must be one of " + strings.Join(tc.enum, ", "))
			}
		}
	}
	return nil
}

// normalizeTopicConfig returns value in its canonical spelling.
func normalizeTopicConfig(name, value string) string {
	value = strings.TrimSpace(value)
	switch name {
	case "message.timestamp.type":
		return canonicalTimestampType(value)
	case "cleanup.policy", "compression.type":
		parts := strings.Split(strings.ToLower(value), ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return strings.Join(parts, ",")
	}
	if tc := topicConfigIndex[name]; tc != nil && tc.typ == kmsg.ConfigTypeBoolean {
		return strings.ToLower(value)
	}
	return value
}

// topicValue is the effective value of a topic config and where it comes
// from: the topic's override, else the broker-wide default with the
// dynamic broker configs applied (read live).
func (b *Broker) topicValue(overrides map[string]string, name string) (string, kmsg.ConfigSource) {
	if v, ok := overrides[name]; ok {
		return v, kmsg.ConfigSourceDynamicTopicConfig
	}
	if l := b.cfg.dyn.layers(); l != nil {
		if v, ok := l.topicDefaults[name]; ok {
			return v, l.topicSources[name]
		}
		return topicConfigIndex[name].def, kmsg.ConfigSourceDefaultConfig
	}
	if v, ok := b.cfg.TopicDefaults[name]; ok {
		if _, set := b.cfg.topicDefaultKeys[name]; set {
			return v, kmsg.ConfigSourceStaticBrokerConfig
		}
		return v, kmsg.ConfigSourceDefaultConfig
	}
	return topicConfigIndex[name].def, kmsg.ConfigSourceDefaultConfig
}

// logOptions computes a partition log's options from a topic's overrides
// and the broker defaults.
func (b *Broker) logOptions(overrides map[string]string) storage.Options {
	o := storage.DefaultOptions()
	for i := range topicConfigs {
		tc := &topicConfigs[i]
		if tc.apply != nil {
			v, _ := b.topicValue(overrides, tc.name)
			tc.apply(&o, v)
		}
	}
	return o
}
