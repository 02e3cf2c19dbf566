package broker

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config"
)

// DescribeConfigs: v0-4
//
// Behavior:
// * TOPIC resources: every Kafka topic config with its effective value
//   and source: DYNAMIC_TOPIC_CONFIG for a topic override,
//   STATIC_BROKER_CONFIG when server.properties sets the broker-wide key
//   (log.retention.hours for retention.ms, ...), DEFAULT_CONFIG otherwise.
//   Synonyms (v1+) list the override, the broker keys set and the default.
// * BROKER resources (named by this node id, or empty for the cluster
//   default): every key of Definitions, read-only, STATIC_BROKER_CONFIG
//   when set in server.properties, DEFAULT_CONFIG otherwise.
// * ConfigNames narrows the list; names that do not exist are left out.
// * Other resource types are INVALID_REQUEST.
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
				if fv, ok := file[k]; ok {
					add(k, fv, kmsg.ConfigSourceStaticBrokerConfig)
				}
			}
			defName := tc.name
			if len(tc.brokerKeys) > 0 {
				defName = tc.brokerKeys[0]
			}
			add(defName, tc.def, kmsg.ConfigSourceDefaultConfig)
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

func (b *Broker) describeBrokerConfigs(req *kmsg.DescribeConfigsRequest, rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) (int16, string) {
	if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
		return kerr.InvalidRequest.Code, fmt.Sprintf("Unexpected broker id, expected %d or empty string, but received %s", b.cfg.NodeID, rr.ResourceName)
	}
	want := wanted(rr.ConfigNames)
	file := b.cfg.values.Originals()
	keys := Definitions().Keys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	for _, k := range keys {
		if !want(k.Name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.ReadOnly = k.Name, true
		c.Source = kmsg.ConfigSourceDefaultConfig
		if v, ok := file[k.Name]; ok {
			c.Value, c.Source = &v, kmsg.ConfigSourceStaticBrokerConfig
		} else if k.HasDefault {
			d := k.Default
			c.Value = &d
		}
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		if k.Type == config.Password {
			c.IsSensitive, c.Value = true, nil
		}
		if req.IncludeSynonyms && req.Version >= 1 {
			s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			s.Name, s.Value, s.Source = k.Name, c.Value, c.Source
			c.ConfigSynonyms = append(c.ConfigSynonyms, s)
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
