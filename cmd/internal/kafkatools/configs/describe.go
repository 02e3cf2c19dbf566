package configs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configSourceNames are the names of Java's ConfigEntry.ConfigSource.
var configSourceNames = map[kmsg.ConfigSource]string{
	kmsg.ConfigSourceDynamicTopicConfig:         "DYNAMIC_TOPIC_CONFIG",
	kmsg.ConfigSourceDynamicBrokerConfig:        "DYNAMIC_BROKER_CONFIG",
	kmsg.ConfigSourceDynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG",
	kmsg.ConfigSourceStaticBrokerConfig:         "STATIC_BROKER_CONFIG",
	kmsg.ConfigSourceDefaultConfig:              "DEFAULT_CONFIG",
	kmsg.ConfigSourceDynamicBrokerLoggerConfig:  "DYNAMIC_BROKER_LOGGER_CONFIG",
	7: "DYNAMIC_CLIENT_METRICS_CONFIG",
	8: "DYNAMIC_GROUP_CONFIG",
}

func sourceName(s kmsg.ConfigSource) string {
	if n, ok := configSourceNames[s]; ok {
		return n
	}
	return "UNKNOWN"
}

// resourceType is the ConfigResource type of an entity type.
func resourceType(entityType string) kmsg.ConfigResourceType {
	switch entityType {
	case Topics:
		return kmsg.ConfigResourceTypeTopic
	case BrokerLoggers:
		return kmsg.ConfigResourceTypeBrokerLogger
	}
	return kmsg.ConfigResourceTypeBroker
}

// dynamicSource is the source of the configs --describe shows of an
// entity without --all; -1 shows every config.
func dynamicSource(entityType, name string) kmsg.ConfigSource {
	switch {
	case entityType == Topics:
		return kmsg.ConfigSourceDynamicTopicConfig
	case entityType == Brokers && name == "":
		return kmsg.ConfigSourceDynamicDefaultBrokerConfig
	case entityType == Brokers:
		return kmsg.ConfigSourceDynamicBrokerConfig
	}
	return -1
}

// describeEntity names an entity in errors: "topic orders", "broker 1",
// "the default broker config".
func describeEntity(entityType, name string) string {
	if name == "" {
		return "the default " + singular(entityType) + " config"
	}
	return singular(entityType) + " " + name
}

// resourceConfigs describes one resource's configs, sorted by name:
// those set dynamically for it, or all of them.
func (t *tool) resourceConfigs(ctx context.Context, entityType, name string, synonyms, all bool) ([]kmsg.DescribeConfigsResponseResourceConfig, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeSynonyms = synonyms
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType = resourceType(entityType)
	r.ResourceName = name
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(ctx, t.cl)
	if err != nil {
		return nil, fmt.Errorf("describe the configs of %s: %w", describeEntity(entityType, name), err)
	}
	if len(resp.Resources) != 1 {
		return nil, fmt.Errorf("describe the configs of %s: the broker answered for %d resources", describeEntity(entityType, name), len(resp.Resources))
	}
	res := resp.Resources[0]
	if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return nil, fmt.Errorf("the topic '%s' does not exist", name)
		}
		if res.ErrorMessage != nil && *res.ErrorMessage != "" {
			return nil, fmt.Errorf("describe the configs of %s: %w: %s", describeEntity(entityType, name), err, *res.ErrorMessage)
		}
		return nil, fmt.Errorf("describe the configs of %s: %w", describeEntity(entityType, name), err)
	}
	source := dynamicSource(entityType, name)
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, c := range res.Configs {
		if all || source < 0 || c.Source == source {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func orNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func (t *tool) describe(ctx context.Context) error {
	types, names := t.o.types(), t.o.names()
	switch types[0] {
	case Topics, Brokers, BrokerLoggers:
		return t.describeResources(ctx, types[0], names)
	}
	return t.describeQuotasAndCredentials(ctx, types, names)
}

// describeResources prints the configs of the entity named, or of every
// entity of the type.
func (t *tool) describeResources(ctx context.Context, entityType string, names []string) error {
	entities := names
	if len(entities) == 0 {
		switch entityType {
		case Topics:
			topics, err := t.adm.ListTopicsWithInternal(ctx)
			if err != nil {
				return fmt.Errorf("list topics: %w", err)
			}
			entities = topics.Names()
			slices.Sort(entities)
		default:
			brokers, err := t.adm.ListBrokers(ctx)
			if err != nil {
				return fmt.Errorf("describe cluster: %w", err)
			}
			ids := brokers.NodeIDs()
			slices.Sort(ids)
			for _, id := range ids {
				entities = append(entities, strconv.Itoa(int(id)))
			}
			entities = append(entities, "")
		}
	}
	var b strings.Builder
	for _, name := range entities {
		configs, err := t.resourceConfigs(ctx, entityType, name, true, t.o.All)
		if err != nil {
			flush(t, &b)
			return err
		}
		switch {
		case name == "":
			fmt.Fprintf(&b, "Default configs for %s in the cluster are:\n", entityType)
		case t.o.All:
			fmt.Fprintf(&b, "All configs for %s %s are:\n", singular(entityType), name)
		default:
			fmt.Fprintf(&b, "Dynamic configs for %s %s are:\n", singular(entityType), name)
		}
		for _, c := range configs {
			synonyms := make([]string, len(c.ConfigSynonyms))
			for i, s := range c.ConfigSynonyms {
				synonyms[i] = fmt.Sprintf("%s:%s=%s", sourceName(s.Source), s.Name, orNull(s.Value))
			}
			fmt.Fprintf(&b, "  %s=%s sensitive=%t synonyms={%s}\n", c.Name, orNull(c.Value), c.IsSensitive, strings.Join(synonyms, ", "))
		}
	}
	flush(t, &b)
	return nil
}

// flush writes what b holds to the tool's output and empties b.
func flush(t *tool, b *strings.Builder) {
	fmt.Fprint(t.out, b.String())
	b.Reset()
}

// quotaEntityType is the client quota entity type of an entity type.
func quotaEntityType(entityType string) string {
	if entityType == Users {
		return "user"
	}
	return "client-id"
}

// quotaComponents are the filter of DescribeClientQuotas for the types
// and names of the command line: a name is an exact match, "" the
// default, no name any entity of the type.
func quotaComponents(types, names []string) []kadm.DescribeClientQuotaComponent {
	var cs []kadm.DescribeClientQuotaComponent
	for i, typ := range types {
		c := kadm.DescribeClientQuotaComponent{Type: quotaEntityType(typ), MatchType: 2}
		if i < len(names) {
			if names[i] == "" {
				c.MatchType = 1
			} else {
				name := names[i]
				c.MatchType, c.MatchName = 0, &name
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// quotaEntityString is how Kafka names a quota entity: "user-principal
// 'alice', client-id 'app'", "the default user-principal".
func quotaEntityString(e kadm.ClientQuotaEntity) string {
	var parts []string
	for _, typ := range []string{"user", "client-id", "ip"} {
		for _, c := range e {
			if c.Type != typ {
				continue
			}
			label := typ
			if typ == "user" {
				label = "user-principal"
			}
			if c.Name == nil {
				parts = append(parts, "the default "+label)
			} else {
				parts = append(parts, fmt.Sprintf("%s '%s'", label, *c.Name))
			}
		}
	}
	return strings.Join(parts, ", ")
}

func (t *tool) quotas(ctx context.Context, types, names []string) (kadm.DescribedClientQuotas, error) {
	qs, err := t.adm.DescribeClientQuotas(ctx, true, quotaComponents(types, names))
	if err != nil {
		return nil, fmt.Errorf("describe client quotas: %w", err)
	}
	sort.Slice(qs, func(i, j int) bool { return quotaEntityString(qs[i].Entity) < quotaEntityString(qs[j].Entity) })
	return qs, nil
}

// describeQuotasAndCredentials prints the quotas of users and clients and,
// for users alone, their SCRAM credentials.
func (t *tool) describeQuotasAndCredentials(ctx context.Context, types, names []string) error {
	qs, err := t.quotas(ctx, types, names)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, q := range qs {
		values := slices.Clone(q.Values)
		sort.Slice(values, func(i, j int) bool { return values[i].Key < values[j].Key })
		entries := make([]string, len(values))
		for i, v := range values {
			entries[i] = v.Key + "=" + javaDouble(v.Value)
		}
		fmt.Fprintf(&b, "Quota configs for %s are %s\n", quotaEntityString(q.Entity), strings.Join(entries, ", "))
	}
	if slices.Contains(types, Clients) || slices.Contains(names, "") {
		flush(t, &b)
		return nil
	}
	creds, err := t.adm.DescribeUserSCRAMs(ctx, names...)
	if err != nil {
		flush(t, &b)
		return fmt.Errorf("describe user SCRAM credentials: %w", err)
	}
	for _, d := range creds.Sorted() {
		if errors.Is(d.Err, kerr.ResourceNotFound) {
			continue // a user without credentials
		}
		if d.Err != nil {
			fmt.Fprintf(&b, "Error retrieving SCRAM credential configs for user-principal '%s': %v\n", d.User, d.Err)
			continue
		}
		infos := make([]string, len(d.CredInfos))
		for i, c := range d.CredInfos {
			infos[i] = fmt.Sprintf("%s=iterations=%d", c.Mechanism, c.Iterations)
		}
		fmt.Fprintf(&b, "SCRAM credential configs for user-principal '%s' are %s\n", d.User, strings.Join(infos, ", "))
	}
	flush(t, &b)
	return nil
}
