package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/config/atomicfile"
)

// Dynamic broker configs: the keys that Kafka lets IncrementalAlterConfigs
// and AlterConfigs change on a BROKER resource while the broker runs, for
// this node (resource name = node id, DYNAMIC_BROKER_CONFIG) or as the
// cluster-wide default (resource name "", DYNAMIC_DEFAULT_BROKER_CONFIG).
// Kafka keeps them in its metadata log; this broker keeps them in
// dynamicConfigsFile in the first log dir, written atomically, and reads
// them back in ParseConfig. The layers, most specific first: this node's
// dynamic configs, the dynamic cluster default, server.properties, the
// defaults of Definitions.

// dynamicConfigsFile holds the dynamic broker configs, in the first log dir.
const dynamicConfigsFile = "dynamic-broker-configs.json"

// dynamicKeys are the keys of Definitions that Kafka can change at run time
// (its DynamicBrokerConfig) and that this broker applies live: the topic
// defaults (Kafka's main synonym of each topic config only; the .hours and
// .minutes forms are read-only in Kafka too) and the connection limits.
var dynamicKeys = map[string]bool{
	"log.retention.ms":            true,
	"log.retention.bytes":         true,
	"log.segment.bytes":           true,
	"log.roll.ms":                 true,
	"log.index.interval.bytes":    true,
	"log.message.timestamp.type":  true,
	"log.cleanup.policy":          true,
	"compression.type":            true,
	"message.max.bytes":           true,
	"log.flush.interval.messages": true,
	"log.flush.interval.ms":       true,
	"max.connections":             true,
	"max.connections.per.ip":      true,
}

// brokerSynonyms are Kafka's synonyms of a broker key, most specific first.
var brokerSynonyms = map[string][]string{
	"log.retention.ms":      {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
	"log.retention.minutes": {"log.retention.minutes", "log.retention.hours"},
	"log.roll.ms":           {"log.roll.ms", "log.roll.hours"},
	"log.flush.interval.ms": {"log.flush.interval.ms", "log.flush.scheduler.interval.ms"},
}

// dynamicConfigs is the dynamic layer of one broker's configuration. It
// lives in Config (shared by its copies), made by ParseConfig.
type dynamicConfigs struct {
	mu   sync.Mutex // serialises changes and writes of the file
	dir  string
	node int32
	cur  atomic.Pointer[brokerLayers]
}

// brokerLayers is an immutable view of the broker configuration layers.
type brokerLayers struct {
	static  *config.Values
	file    map[string]string // static.Originals()
	cluster map[string]string // dynamic default, resource ""
	node    map[string]string // dynamic, this node
	// others are the file's entries of other node ids, kept as they are.
	others map[string]map[string]string
	// merged are the values with every layer applied.
	merged *config.Values
	// topicDefaults are the broker-wide topic config values; topicSources
	// says where each comes from.
	topicDefaults map[string]string
	topicKeys     map[string]string
	topicSources  map[string]kmsg.ConfigSource
}

// source tells which layer sets a broker key, and its value there.
func (l *brokerLayers) source(key string, perBroker bool) (string, kmsg.ConfigSource, bool) {
	if perBroker {
		if v, ok := l.node[key]; ok {
			return v, kmsg.ConfigSourceDynamicBrokerConfig, true
		}
	}
	if v, ok := l.cluster[key]; ok {
		return v, kmsg.ConfigSourceDynamicDefaultBrokerConfig, true
	}
	if v, ok := l.file[key]; ok {
		return v, kmsg.ConfigSourceStaticBrokerConfig, true
	}
	return "", kmsg.ConfigSourceDefaultConfig, false
}

type dynamicFileJSON struct {
	Version int                          `json:"version"`
	Default map[string]string            `json:"default"`
	Brokers map[string]map[string]string `json:"brokers"`
}

// loadDynamic reads the dynamic configs of the first log dir and applies
// them over the static values v: c's topic defaults and connection limits
// become the effective ones.
func (c *Config) loadDynamic(v *config.Values) error {
	d := &dynamicConfigs{dir: c.LogDirs[0], node: c.NodeID}
	path := filepath.Join(d.dir, dynamicConfigsFile)
	var f dynamicFileJSON
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("dynamic broker configs: %w", err)
	default:
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("dynamic broker configs: %s: %w", path, err)
		}
	}
	id := strconv.Itoa(int(c.NodeID))
	others := maps.Clone(f.Brokers)
	delete(others, id)
	for _, m := range []map[string]string{f.Default, f.Brokers[id]} {
		if code, msg := checkDynamic(m); code != 0 {
			return fmt.Errorf("dynamic broker configs: %s: %s", path, msg)
		}
	}
	l, err := newLayers(v, f.Default, f.Brokers[id], others)
	if err != nil {
		return fmt.Errorf("dynamic broker configs: %s: %w", path, err)
	}
	d.cur.Store(l)
	c.dyn = d
	c.TopicDefaults, c.topicDefaultKeys = l.topicDefaults, l.topicKeys
	c.MaxConnections = l.merged.Int("max.connections")
	c.MaxConnectionsPerIP = l.merged.Int("max.connections.per.ip")
	return nil
}

func newLayers(static *config.Values, cluster, node map[string]string, others map[string]map[string]string) (*brokerLayers, error) {
	l := &brokerLayers{static: static, file: static.Originals(), cluster: orEmpty(cluster), node: orEmpty(node), others: others}
	m := maps.Clone(l.file)
	maps.Copy(m, l.cluster)
	maps.Copy(m, l.node)
	merged, err := Definitions().Parse(config.FromMap(static.Source(), m))
	if err != nil {
		return nil, err
	}
	l.merged = merged
	l.topicDefaults, l.topicKeys = topicDefaults(merged)
	l.topicSources = map[string]kmsg.ConfigSource{}
	for name := range l.topicDefaults {
		src := kmsg.ConfigSourceDefaultConfig
		if k, ok := l.topicKeys[name]; ok {
			_, src, _ = l.source(k, true)
		}
		l.topicSources[name] = src
		if err := validateTopicConfig(name, l.topicDefaults[name]); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// layers is the current view, nil when the Config was not made by
// ParseConfig (then server.properties is all there is).
func (d *dynamicConfigs) layers() *brokerLayers {
	if d == nil {
		return nil
	}
	return d.cur.Load()
}

// checkDynamic checks a set of dynamic broker configs, as Kafka's
// DynamicBrokerConfig.validateConfigs: keys that cannot change at run time
// first, then each value against its definition. Codes are INVALID_CONFIG.
func checkDynamic(m map[string]string) (int16, string) {
	var bad []string
	for k := range m {
		if !dynamicKeys[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return kerr.InvalidConfig.Code, "Cannot update these configs dynamically: [" + strings.Join(bad, ", ") + "]"
	}
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if def, _ := Definitions().Lookup(k); strings.TrimSpace(m[k]) == "" && def.Type != config.String && def.Type != config.List {
			return kerr.InvalidConfig.Code, fmt.Sprintf("Invalid value %s for configuration %s: is not a number", m[k], k)
		}
		if _, err := Definitions().Parse(config.FromMap("", map[string]string{k: m[k]})); err != nil {
			reason := err.Error()
			var ce *config.Error
			if errors.As(err, &ce) {
				reason = ce.Reason
			}
			return kerr.InvalidConfig.Code, fmt.Sprintf("Invalid value %s for configuration %s: %s", m[k], k, reason)
		}
	}
	return 0, ""
}

// checkBrokerName checks the name of a BROKER resource: "" for the cluster
// default or this node's id.
func (b *Broker) checkBrokerName(name string) (int16, string) {
	if name != "" && name != strconv.Itoa(int(b.cfg.NodeID)) {
		return kerr.InvalidRequest.Code, fmt.Sprintf("Unexpected broker id, expected %d or empty string, but received %s", b.cfg.NodeID, name)
	}
	return 0, ""
}

// alterBrokerConfigs changes the dynamic configs of a BROKER resource:
// edit gets a copy of the resource's current dynamic configs and returns
// the new set. Unless validateOnly, the new set is persisted and applied
// at once: topic defaults of every partition log, connection limits.
func (b *Broker) alterBrokerConfigs(name string, validateOnly bool, edit func(map[string]string) (map[string]string, int16, string)) (int16, string) {
	if code, msg := b.checkBrokerName(name); code != 0 {
		return code, msg
	}
	d := b.cfg.dyn
	if d == nil {
		return kerr.InvalidRequest.Code, "this broker's Config was not made by ParseConfig: it has no dynamic broker configs"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.cur.Load()
	mine := cur.node
	if name == "" {
		mine = cur.cluster
	}
	next, code, msg := edit(maps.Clone(mine))
	if code != 0 {
		return code, msg
	}
	if code, msg := checkDynamic(next); code != 0 {
		return code, msg
	}
	cluster, node := cur.cluster, next
	if name == "" {
		cluster, node = next, cur.node
	}
	l, err := newLayers(cur.static, cluster, node, cur.others)
	if err != nil {
		return kerr.InvalidConfig.Code, err.Error()
	}
	if validateOnly {
		return 0, ""
	}
	if err := d.persist(l); err != nil {
		return kerr.KafkaStorageError.Code, err.Error()
	}
	d.cur.Store(l)
	b.applyDynamic(l)
	b.log.Info("altered dynamic broker configs", "resource", name, "configs", next)
	return 0, ""
}

func (d *dynamicConfigs) persist(l *brokerLayers) error {
	f := dynamicFileJSON{Version: 1, Default: l.cluster, Brokers: maps.Clone(l.others)}
	if f.Brokers == nil {
		f.Brokers = map[string]map[string]string{}
	}
	f.Brokers[strconv.Itoa(int(d.node))] = l.node
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(d.dir, dynamicConfigsFile), append(data, '\n'), 0o644)
}

// applyDynamic makes new layers take effect: every online partition log
// gets its options again (topic defaults), and the connection limits
// change (a raised max.connections wakes the listeners waiting for a slot;
// a lowered one closes nobody, as in Kafka).
func (b *Broker) applyDynamic(l *brokerLayers) {
	b.metaMu.Lock()
	for _, t := range b.topics().byName {
		opts := b.logOptions(t.configs)
		for _, p := range t.parts {
			if p.offline == nil {
				p.log.SetOptions(opts)
			}
		}
	}
	b.metaMu.Unlock()

	b.connMu.Lock()
	b.cfg.MaxConnections = l.merged.Int("max.connections")
	b.cfg.MaxConnectionsPerIP = l.merged.Int("max.connections.per.ip")
	if b.connFreed != nil {
		close(b.connFreed)
		b.connFreed = nil
	}
	b.connMu.Unlock()
}
