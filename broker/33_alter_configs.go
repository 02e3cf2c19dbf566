package broker

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterConfigs: v0-2
//
// Behavior:
// * Kafka's legacy, non-incremental alter: the configs given become the
//   resource's whole set of dynamic configs; a config not given reverts to
//   its default (the broker-wide one for a topic, the next layer for a
//   broker). A null value counts as not given.
// * TOPIC resources: Kafka's topic configs, each validated as in
//   CreateTopics (INVALID_CONFIG, naming the key and value); the new set
//   is persisted in topics.json and applied to the partition logs at once.
//   An unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
// * BROKER resources, named by this node id or empty (the cluster-wide
//   default): the dynamic broker configs of dynamicconfig.go, as
//   IncrementalAlterConfigs does them (INVALID_CONFIG "Cannot update these
//   configs dynamically: [x]" for the others); applied live and persisted.
// * A resource or config listed twice is INVALID_REQUEST; other resource
//   types (BROKER_LOGGER, CLIENT_METRICS, GROUP) are INVALID_REQUEST.
// * ValidateOnly runs every check and changes nothing.
//
// Not done: Kafka's deprecated per-listener and password-encoder broker
// configs (none of them is dynamic here).
//
// Version notes:
// * v1: ThrottleMillis (the response is the same)
// * v2: flexible versions

func handleAlterConfigs(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	type res struct {
		t kmsg.ConfigResourceType
		n string
	}
	count := map[res]int{}
	for _, rr := range req.Resources {
		count[res{rr.ResourceType, rr.ResourceName}]++
	}
	for _, rr := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		var code int16
		var msg string
		set, dup := legacyConfigSet(rr.Configs)
		switch {
		case count[res{rr.ResourceType, rr.ResourceName}] > 1:
			code, msg = kerr.InvalidRequest.Code, "the resource is listed more than once"
		case dup != "":
			code, msg = kerr.InvalidRequest.Code, "Error due to duplicate config keys: "+dup
		case rr.ResourceType == kmsg.ConfigResourceTypeTopic:
			code, msg = b.editTopicConfigs(rr.ResourceName, req.ValidateOnly, func(map[string]string) (map[string]string, int16, string) {
				return legacyTopicEdit(set)
			})
		case rr.ResourceType == kmsg.ConfigResourceTypeBroker:
			code, msg = b.alterBrokerConfigs(rr.ResourceName, req.ValidateOnly, func(map[string]string) (map[string]string, int16, string) {
				return set, 0, ""
			})
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

// legacyConfigSet is the set of configs of one AlterConfigs resource (null
// values left out), or the first name given twice.
func legacyConfigSet(cs []kmsg.AlterConfigsRequestResourceConfig) (map[string]string, string) {
	set := map[string]string{}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Name] {
			return nil, c.Name
		}
		seen[c.Name] = true
		if c.Value != nil {
			set[c.Name] = strings.TrimSpace(*c.Value)
		}
	}
	return set, ""
}

// legacyTopicEdit makes set the whole set of a topic's configs, each
// validated.
func legacyTopicEdit(set map[string]string) (map[string]string, int16, string) {
	configs := make(map[string]string, len(set))
	for _, k := range slices.Sorted(maps.Keys(set)) {
		v := set[k]
		if err := validateTopicConfig(k, v); err != nil {
			return nil, kerr.InvalidConfig.Code, err.Error()
		}
		configs[k] = normalizeTopicConfig(k, v)
	}
	return configs, 0, ""
}
