package broker

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
)

// DescribeConfigs: v0-4
//
// Behavior:
// * TOPIC resources: every Kafka topic config with its effective value
//   and source: DYNAMIC_TOPIC_CONFIG for a topic override,
//   DYNAMIC_BROKER_CONFIG or DYNAMIC_DEFAULT_BROKER_CONFIG when a dynamic
//   broker config sets the broker-wide key (dynamicconfig.go),
//   STATIC_BROKER_CONFIG when server.properties does (log.retention.hours
//   for retention.ms, ...), DEFAULT_CONFIG otherwise. Synonyms (v1+) list
//   the override, the broker keys set in each layer and the default.
// * BROKER resources (named by this node id, or empty for the cluster
//   default): every key of Definitions with its effective value and
//   source: DYNAMIC_BROKER_CONFIG (this node's dynamic config, for the
//   node id only), DYNAMIC_DEFAULT_BROKER_CONFIG (the cluster-wide dynamic
//   default), STATIC_BROKER_CONFIG (server.properties), DEFAULT_CONFIG.
//   The keys that can change at run time (dynamicconfig.go) are not
//   read-only. Synonyms (v1+) list every layer setting the key or one of
//   its synonyms (log.retention.hours for log.retention.ms), then the
//   default. Topic synonyms list the dynamic broker layers too.
// * CLIENT_METRICS resources: no subscription exists, so a name gets
//   Kafka's subscription configs (interval.ms, match, metrics) with their
//   defaults; an empty name is INVALID_REQUEST.
// * BROKER_LOGGER resources: the root logger's level (brokerlogger.go).
// * ConfigNames narrows the list; names that do not exist are left out.
// * Other resource types are INVALID_REQUEST.
//
// Not done: for the cluster default "" Kafka lists only the dynamic
// default configs; this broker lists every key as seen at that level
// (without this node's dynamic configs).
//
// Version notes:
// * v1: IncludeSynonyms, Source
// * v2: ThrottleMillis
// * v3: IncludeDocumentation, ConfigType
// * v4: flexible versions

func handleDescribeConfigs(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		var code int16
		var msg string
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			code, msg = b.describeTopicConfigs(req, rr, &sr)
		case kmsg.ConfigResourceTypeBroker:
			code, msg = b.describeBrokerConfigs(req, rr, &sr)
		case kmsg.ConfigResourceTypeClientMetrics:
			code, msg = describeClientMetrics(req, rr, &sr)
		case kmsg.ConfigResourceTypeBrokerLogger:
			code, msg = b.describeBrokerLoggers(rr, &sr)
		default:
			code, msg = kerr.InvalidRequest.Code, fmt.Sprintf("resource type %d is not supported", rr.ResourceType)
		}
		if code != 0 {
			sr.ErrorCode, sr.ErrorMessage, sr.Configs = code, &msg, nil
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return reply{resp: resp}
}

func wanted(names []string) func(string) bool {
	if names == nil {
		return func(string) bool { return true }
	}
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return func(n string) bool { return set[n] }
}

func (b *Broker) describeTopicConfigs(req *kmsg.DescribeConfigsRequest, rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) (int16, string) {
	if err := validateTopicName(rr.ResourceName); err != nil {
		return kerr.InvalidTopicException.Code, err.Error()
	}
	t := b.topics().byName[rr.ResourceName]
	if t == nil {
		return kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("topic %s does not exist", rr.ResourceName)
	}
	want := wanted(rr.ConfigNames)
	file := b.cfg.values.Originals()
	for i := range topicConfigs {
		tc := &topicConfigs[i]
		if !want(tc.name) {
			continue
		}
		v, src := b.topicValue(t.configs, tc.name)
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value, c.Source = tc.name, &v, src
		c.IsDefault = src == kmsg.ConfigSourceDefaultConfig
		if req.IncludeSynonyms && req.Version >= 1 {
			add := func(name, value string, src kmsg.ConfigSource) {
				s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				s.Name, s.Value, s.Source = name, &value, src
				c.ConfigSynonyms = append(c.ConfigSynonyms, s)
			}
			if ov, ok := t.configs[tc.name]; ok {
				add(tc.name, ov, kmsg.ConfigSourceDynamicTopicConfig)
			}
			for _, k := range tc.brokerKeys {
				if l := b.cfg.dyn.layers(); l != nil {
					if v, ok := l.node[k]; ok {
						add(k, v, kmsg.ConfigSourceDynamicBrokerConfig)
					}
					if v, ok := l.cluster[k]; ok {
						add(k, v, kmsg.ConfigSourceDynamicDefaultBrokerConfig)
					}
				}
				if fv, ok := file[k]; ok {
					add(k, fv, kmsg.ConfigSourceStaticBrokerConfig)
				}
			}
			add(topicDefaultSynonym(tc))
		}
		if req.Version >= 3 {
			c.ConfigType = tc.typ
			if req.IncludeDocumentation {
				doc := tc.doc
				c.Documentation = &doc
			}
		}
		sr.Configs = append(sr.Configs, c)
	}
	return 0, ""
}

// topicDefaultSynonym is a topic config's DEFAULT_CONFIG synonym, as Kafka
// names it: the first broker key with a default of its own
// (log.retention.hours=168 for retention.ms: log.retention.ms and
// log.retention.minutes have none), else the first broker key (or the
// config itself) with the topic default.
func topicDefaultSynonym(tc *topicConfig) (string, string, kmsg.ConfigSource) {
	for _, name := range tc.brokerKeys {
		if k, ok := Definitions().Lookup(name); ok && k.HasDefault {
			return name, k.Default, kmsg.ConfigSourceDefaultConfig
		}
	}
	name := tc.name
	if len(tc.brokerKeys) > 0 {
		name = tc.brokerKeys[0]
	}
	return name, tc.def, kmsg.ConfigSourceDefaultConfig
}

func (b *Broker) describeBrokerConfigs(req *kmsg.DescribeConfigsRequest, rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) (int16, string) {
	if code, msg := b.checkBrokerName(rr.ResourceName); code != 0 {
		return code, msg
	}
	perBroker := rr.ResourceName != ""
	want := wanted(rr.ConfigNames)
	l := b.cfg.dyn.layers()
	if l == nil {
		l = &brokerLayers{static: b.cfg.values, file: b.cfg.values.Originals()}
	}
	keys := Definitions().Keys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	for _, k := range keys {
		if !want(k.Name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.ReadOnly = k.Name, !dynamicKeys[k.Name]
		if v, src, ok := l.source(k.Name, perBroker); ok {
			c.Value, c.Source = &v, src
		} else if k.HasDefault {
			d := k.Default
			c.Value, c.Source = &d, kmsg.ConfigSourceDefaultConfig
		} else {
			c.Source = kmsg.ConfigSourceDefaultConfig
		}
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		if k.Type == config.Password {
			c.IsSensitive, c.Value = true, nil
		}
		if req.IncludeSynonyms && req.Version >= 1 {
			c.ConfigSynonyms = brokerConfigSynonyms(l, k.Name, perBroker, c.IsSensitive)
		}
		if req.Version >= 3 {
			c.ConfigType = configType(k.Type)
			if req.IncludeDocumentation {
				doc := k.Doc
				c.Documentation = &doc
			}
		}
		sr.Configs = append(sr.Configs, c)
	}
	return 0, ""
}

// brokerConfigSynonyms lists, as Kafka does, every layer that sets the key
// or one of its synonyms (log.retention.minutes and .hours for
// log.retention.ms, ...): dynamic for this broker, dynamic default,
// server.properties, then the default.
func brokerConfigSynonyms(l *brokerLayers, name string, perBroker, sensitive bool) []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	var out []kmsg.DescribeConfigsResponseResourceConfigConfigSynonym
	add := func(name, value string, src kmsg.ConfigSource) {
		s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
		s.Name, s.Source = name, src
		if !sensitive {
			s.Value = &value
		}
		out = append(out, s)
	}
	names := brokerSynonyms[name]
	if names == nil {
		names = []string{name}
	}
	for _, n := range names {
		if v, ok := l.node[n]; ok && perBroker {
			add(n, v, kmsg.ConfigSourceDynamicBrokerConfig)
		}
		if v, ok := l.cluster[n]; ok {
			add(n, v, kmsg.ConfigSourceDynamicDefaultBrokerConfig)
		}
		if v, ok := l.file[n]; ok {
			add(n, v, kmsg.ConfigSourceStaticBrokerConfig)
		}
	}
	for _, n := range names {
		if k, ok := Definitions().Lookup(n); ok && k.HasDefault {
			add(n, k.Default, kmsg.ConfigSourceDefaultConfig)
		}
	}
	return out
}

func configType(t config.Type) kmsg.ConfigType {
	switch t {
	case config.Int:
		return kmsg.ConfigTypeInt
	case config.Long, config.Duration:
		return kmsg.ConfigTypeLong
	case config.Bool:
		return kmsg.ConfigTypeBoolean
	case config.Double:
		return kmsg.ConfigTypeDouble
	case config.List:
		return kmsg.ConfigTypeList
	case config.Class:
		return kmsg.ConfigTypeClass
	case config.Password:
		return kmsg.ConfigTypePassword
	}
	return kmsg.ConfigTypeString
}

// clientMetricsConfigs are the configs of a client-metrics subscription
// (KIP-714), with Kafka's defaults.
var clientMetricsConfigs = []struct {
	name, def, doc string
	typ            kmsg.ConfigType
}{
	{"interval.ms", "300000", "The frequency in milliseconds at which client metrics are pushed to the broker.", kmsg.ConfigTypeInt},
	{"match", "", "The client matching patterns of the subscription (client_id, client_software_name, ...).", kmsg.ConfigTypeList},
	{"metrics", "", "The telemetry metric names (prefixes) of the subscription.", kmsg.ConfigTypeList},
}

// describeClientMetrics answers for a subscription that does not exist, as
// Kafka does for a name without one: every config with its default.
func describeClientMetrics(req *kmsg.DescribeConfigsRequest, rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) (int16, string) {
	if rr.ResourceName == "" {
		return kerr.InvalidRequest.Code, "Client metrics subscription name must not be empty"
	}
	want := wanted(rr.ConfigNames)
	for _, cm := range clientMetricsConfigs {
		if !want(cm.name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		v := cm.def
		c.Name, c.Value, c.Source, c.IsDefault = cm.name, &v, kmsg.ConfigSourceDefaultConfig, true
		if req.IncludeSynonyms && req.Version >= 1 {
			s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			s.Name, s.Value, s.Source = cm.name, &v, kmsg.ConfigSourceDefaultConfig
			c.ConfigSynonyms = append(c.ConfigSynonyms, s)
		}
		if req.Version >= 3 {
			c.ConfigType = cm.typ
			if req.IncludeDocumentation {
				doc := cm.doc
				c.Documentation = &doc
			}
		}
		sr.Configs = append(sr.Configs, c)
	}
	return 0, ""
}
