package broker

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
)

// IncrementalAlterConfigs: v0-1
//
// Behavior:
// * TOPIC resources: SET, DELETE (back to the broker default), APPEND and
//   SUBTRACT (list configs only) of Kafka's topic configs, validated as in
//   CreateTopics (INVALID_CONFIG). The new configs are persisted in
//   topics.json and applied to the partition logs at once (segment size,
//   retention, flush policy, timestamp type, max message size).
// * A resource or config listed twice is INVALID_REQUEST; an unknown topic
//   UNKNOWN_TOPIC_OR_PARTITION.
// * ValidateOnly runs every check and changes nothing.
// * BROKER resources, named by this node id (DYNAMIC_BROKER_CONFIG) or
//   empty (the cluster-wide default, DYNAMIC_DEFAULT_BROKER_CONFIG): the
//   keys Kafka can change at run time that this broker uses
//   (dynamicconfig.go: log.retention.ms/bytes, log.segment.bytes,
//   log.roll.ms, log.flush.interval.*, message.max.bytes, max.connections,
//   max.connections.per.ip, ...). Others are INVALID_CONFIG "Cannot update
//   these configs dynamically: [x]"; a bad value INVALID_CONFIG "Invalid
//   value v for configuration k: ..."; another broker id INVALID_REQUEST.
//   Changes take effect at once (partition logs, connection limits) and
//   are persisted in the first log dir, read again at start-up over
//   server.properties. DELETE reverts to the next layer.
// * BROKER_LOGGER resources: SET of the root logger's level
//   (brokerlogger.go).
// * Other resource types are INVALID_REQUEST.
//
// Not done: broker keys Kafka accepts without knowing them (custom
// configs) are refused; listener, SSL, SASL, thread-pool and log-cleaner
// configs are not dynamic here.
//
// Version notes:
// * v1: flexible versions

func handleIncrementalAlterConfigs(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	type res struct {
		t kmsg.ConfigResourceType
		n string
	}
	count := map[res]int{}
	for _, rr := range req.Resources {
		count[res{rr.ResourceType, rr.ResourceName}]++
	}
	for _, rr := range req.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		var code int16
		var msg string
		switch {
		case count[res{rr.ResourceType, rr.ResourceName}] > 1:
			code, msg = kerr.InvalidRequest.Code, "the resource is listed more than once"
		case rr.ResourceType == kmsg.ConfigResourceTypeTopic:
			code, msg = b.editTopicConfigs(rr.ResourceName, req.ValidateOnly, func(cur map[string]string) (map[string]string, int16, string) {
				return b.incrementalTopicEdit(rr.Configs, cur)
			})
		case rr.ResourceType == kmsg.ConfigResourceTypeBroker:
			code, msg = b.alterBrokerConfigs(rr.ResourceName, req.ValidateOnly, func(cur map[string]string) (map[string]string, int16, string) {
				return incrementalBrokerEdit(rr.Configs, cur)
			})
		case rr.ResourceType == kmsg.ConfigResourceTypeBrokerLogger:
			code, msg = b.alterBrokerLoggers(rr, req.ValidateOnly)
		default:
			code, msg = kerr.InvalidRequest.Code, fmt.Sprintf("resource type %d is not supported", rr.ResourceType)
		}
		if code != 0 {
			sr.ErrorCode, sr.ErrorMessage = code, &msg
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return reply{resp: resp}
}

// editTopicConfigs changes a topic's configs as edit says (edit gets a
// copy of the current overrides and returns the new ones, or an error
// code and message) and, unless validateOnly, persists and applies them.
// IncrementalAlterConfigs and the legacy AlterConfigs differ only in edit.
func (b *Broker) editTopicConfigs(name string, validateOnly bool, edit func(cur map[string]string) (map[string]string, int16, string)) (int16, string) {
	if err := validateTopicName(name); err != nil {
		return kerr.InvalidTopicException.Code, err.Error()
	}
	b.metaMu.Lock()
	defer b.metaMu.Unlock()
	t := b.topics().byName[name]
	if t == nil {
		return kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("topic %s does not exist", name)
	}
	configs, code, msg := edit(maps.Clone(t.configs))
	if code != 0 || validateOnly {
		return code, msg
	}
	return b.replaceTopicConfigs(t, configs)
}

// incrementalTopicEdit applies IncrementalAlterConfigs' operations to a
// topic's configs.
func (b *Broker) incrementalTopicEdit(ops []kmsg.IncrementalAlterConfigsRequestResourceConfig, configs map[string]string) (map[string]string, int16, string) {
	seen := map[string]bool{}
	for _, c := range ops {
		if seen[c.Name] {
			return nil, kerr.InvalidRequest.Code, fmt.Sprintf("config %s is altered twice", c.Name)
		}
		seen[c.Name] = true
		tc := topicConfigIndex[c.Name]
		if tc == nil {
			return nil, kerr.InvalidConfig.Code, fmt.Sprintf("unknown topic config name: %s", c.Name)
		}
		if c.Op != kmsg.IncrementalAlterConfigOpDelete && c.Value == nil {
			return nil, kerr.InvalidRequest.Code, fmt.Sprintf("Null value not supported for : %s", c.Name)
		}
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			configs[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(configs, c.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if tc.typ != kmsg.ConfigTypeList {
				return nil, kerr.InvalidConfig.Code, fmt.Sprintf("config %s is not a list; it cannot be appended to or subtracted from", c.Name)
			}
			cur, _ := b.topicValue(configs, c.Name)
			var items []string
			for _, s := range strings.Split(cur, ",") {
				if s = strings.TrimSpace(s); s != "" {
					items = append(items, s)
				}
			}
			for _, s := range strings.Split(*c.Value, ",") {
				s = strings.TrimSpace(s)
				if s == "" {
					continue
				}
				i := slices.Index(items, s)
				if c.Op == kmsg.IncrementalAlterConfigOpAppend && i < 0 {
					items = append(items, s)
				} else if c.Op == kmsg.IncrementalAlterConfigOpSubtract && i >= 0 {
					items = slices.Delete(items, i, i+1)
				}
			}
			configs[c.Name] = strings.Join(items, ",")
		default:
			return nil, kerr.InvalidRequest.Code, fmt.Sprintf("unknown operation %d", c.Op)
		}
		if v, ok := configs[c.Name]; ok {
			if err := validateTopicConfig(c.Name, v); err != nil {
				return nil, kerr.InvalidConfig.Code, err.Error()
			}
			configs[c.Name] = normalizeTopicConfig(c.Name, v)
		}
	}
	return configs, 0, ""
}

// replaceTopicConfigs makes configs the overrides of t: persisted in
// topics.json, then applied to its partition logs. metaMu is held.
func (b *Broker) replaceTopicConfigs(t *topic, configs map[string]string) (int16, string) {
	nt := &topic{name: t.name, id: t.id, configs: configs, parts: t.parts}
	next := b.topics().with(nt)
	if err := b.persistTopics(next); err != nil {
		return kerr.KafkaStorageError.Code, err.Error()
	}
	b.topicSnap.Store(next)
	opts := b.logOptions(configs)
	for _, p := range t.parts {
		if p.offline == nil { // an offline partition gets them when it opens
			p.log.SetOptions(opts)
		}
	}
	b.log.Info("altered topic configs", "topic", t.name)
	return 0, ""
}

// incrementalBrokerEdit applies SET, DELETE, APPEND and SUBTRACT to the
// dynamic configs of a BROKER resource.
func incrementalBrokerEdit(ops []kmsg.IncrementalAlterConfigsRequestResourceConfig, cur map[string]string) (map[string]string, int16, string) {
	seen := map[string]bool{}
	for _, c := range ops {
		if seen[c.Name] {
			return nil, kerr.InvalidRequest.Code, fmt.Sprintf("config %s is altered twice", c.Name)
		}
		seen[c.Name] = true
		if c.Op != kmsg.IncrementalAlterConfigOpDelete && c.Value == nil {
			return nil, kerr.InvalidRequest.Code, fmt.Sprintf("Null value not supported for : %s", c.Name)
		}
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			cur[c.Name] = strings.TrimSpace(*c.Value)
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(cur, c.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			k, ok := Definitions().Lookup(c.Name)
			if !ok || k.Type != config.List {
				return nil, kerr.InvalidConfig.Code, fmt.Sprintf("Config value append is not allowed for config key: %s", c.Name)
			}
			items := strings.Split(cur[c.Name], ",")
			if _, set := cur[c.Name]; !set {
				items = strings.Split(k.Default, ",")
			}
			items = slices.DeleteFunc(items, func(s string) bool { return strings.TrimSpace(s) == "" })
			for _, s := range strings.Split(*c.Value, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				i := slices.Index(items, s)
				if c.Op == kmsg.IncrementalAlterConfigOpAppend && i < 0 {
					items = append(items, s)
				} else if c.Op == kmsg.IncrementalAlterConfigOpSubtract && i >= 0 {
					items = slices.Delete(items, i, i+1)
				}
			}
			cur[c.Name] = strings.Join(items, ",")
		default:
			return nil, kerr.InvalidRequest.Code, fmt.Sprintf("unknown operation %d", c.Op)
		}
	}
	return cur, 0, ""
}
