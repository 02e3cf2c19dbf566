package configs

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// quotaKeys are the quota configs of users and clients.
var quotaKeys = []string{"producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate"}

// scramMechanisms are the SCRAM credential configs of users.
var scramMechanisms = map[string]kadm.ScramMechanism{"SCRAM-SHA-256": kadm.ScramSha256, "SCRAM-SHA-512": kadm.ScramSha512}

const defaultScramIterations = 4096

func isQuota(k string) bool { return slices.Contains(quotaKeys, k) }
func isScram(k string) bool { _, ok := scramMechanisms[k]; return ok }

// ErrInvalidConfig is the error of an alteration that names configs the
// entity does not have.
var ErrInvalidConfig = errors.New("invalid config(s)")

func (t *tool) alter(ctx context.Context) error {
	types, names := t.o.types(), t.o.names()
	add, err := t.o.configsToAdd()
	if err != nil {
		return err
	}
	del := t.o.configsToDelete()
	switch types[0] {
	case Topics, Brokers:
		err = t.alterResource(ctx, types[0], names[0], add, del)
	case BrokerLoggers:
		err = t.alterLoggers(ctx, names[0], add, del)
	default:
		err = t.alterUsersAndClients(ctx, types, names, add, del)
	}
	if err != nil {
		return err
	}
	if names[0] != "" {
		fmt.Fprintf(t.out, "Completed updating config for %s %s.\n", singular(types[0]), names[0])
	} else {
		fmt.Fprintf(t.out, "Completed updating default config for %s in the cluster.\n", types[0])
	}
	return nil
}

// incrementalAlter sets add and deletes del of one resource.
func (t *tool) incrementalAlter(ctx context.Context, entityType, name string, add []KeyValue, del []string) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType = resourceType(entityType)
	r.ResourceName = name
	for _, kv := range add {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op, c.Value = kv.Key, kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(kv.Value)
		r.Configs = append(r.Configs, c)
	}
	for _, k := range del {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Op = k, kmsg.IncrementalAlterConfigOpDelete
		r.Configs = append(r.Configs, c)
	}
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(ctx, t.cl)
	if err != nil {
		return fmt.Errorf("alter the configs of %s: %w", describeEntity(entityType, name), err)
	}
	for _, res := range resp.Resources {
		if err := kerr.ErrorForCode(res.ErrorCode); err != nil {
			if res.ErrorMessage != nil && *res.ErrorMessage != "" {
				return fmt.Errorf("alter the configs of %s: %w: %s", describeEntity(entityType, name), err, *res.ErrorMessage)
			}
			return fmt.Errorf("alter the configs of %s: %w", describeEntity(entityType, name), err)
		}
	}
	return nil
}

// alterResource alters the dynamic configs of a topic or broker, after
// checking that the configs to delete are set, as Kafka's tool does.
func (t *tool) alterResource(ctx context.Context, entityType, name string, add []KeyValue, del []string) error {
	current, err := t.resourceConfigs(ctx, entityType, name, false, false)
	if err != nil {
		return err
	}
	var invalid []string
	for _, k := range del {
		if !slices.ContainsFunc(current, func(c kmsg.DescribeConfigsResponseResourceConfig) bool { return c.Name == k }) {
			invalid = append(invalid, k)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("%w: %s (not set for %s)", ErrInvalidConfig, strings.Join(invalid, ","), describeEntity(entityType, name))
	}
	return t.incrementalAlter(ctx, entityType, name, add, del)
}

// alterLoggers sets or resets the levels of a broker's loggers, each of
// which must exist.
func (t *tool) alterLoggers(ctx context.Context, broker string, add []KeyValue, del []string) error {
	loggers, err := t.resourceConfigs(ctx, BrokerLoggers, broker, true, false)
	if err != nil {
		return err
	}
	valid := func(k string) bool {
		return slices.ContainsFunc(loggers, func(c kmsg.DescribeConfigsResponseResourceConfig) bool { return c.Name == k })
	}
	var invalid []string
	for _, k := range del {
		if !valid(k) {
			invalid = append(invalid, k)
		}
	}
	for _, kv := range add {
		if !valid(kv.Key) {
			invalid = append(invalid, kv.Key)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("invalid broker logger(s): %s", strings.Join(invalid, ","))
	}
	return t.incrementalAlter(ctx, BrokerLoggers, broker, add, del)
}

// alterUsersAndClients alters quotas of users, clients or a user's
// clients, or the SCRAM credentials of a user.
func (t *tool) alterUsersAndClients(ctx context.Context, types, names []string, add []KeyValue, del []string) error {
	var quotaAdd, scramAdd, unknownAdd []string
	for _, kv := range add {
		switch {
		case isQuota(kv.Key):
			quotaAdd = append(quotaAdd, kv.Key)
		case isScram(kv.Key):
			scramAdd = append(scramAdd, kv.Key)
		default:
			unknownAdd = append(unknownAdd, kv.Key)
		}
	}
	var quotaDel, scramDel, unknownDel []string
	for _, k := range del {
		switch {
		case isQuota(k):
			quotaDel = append(quotaDel, k)
		case isScram(k):
			scramDel = append(scramDel, k)
		default:
			unknownDel = append(unknownDel, k)
		}
	}
	if types[0] == Clients || len(types) == 2 {
		if bad := append(unknownAdd, scramAdd...); len(bad) > 0 {
			return usage.Errorf("only quota configs can be added for '%s' using --bootstrap-server. Unexpected config names: %s", Clients, strings.Join(bad, ","))
		}
		if bad := append(unknownDel, scramDel...); len(bad) > 0 {
			return usage.Errorf("only quota configs can be deleted for '%s' using --bootstrap-server. Unexpected config names: %s", Clients, strings.Join(bad, ","))
		}
	} else {
		if len(unknownAdd) > 0 {
			return usage.Errorf("only quota and SCRAM credential configs can be added for '%s' using --bootstrap-server. Unexpected config names: %s", Users, strings.Join(unknownAdd, ","))
		}
		if len(unknownDel) > 0 {
			return usage.Errorf("only quota and SCRAM credential configs can be deleted for '%s' using --bootstrap-server. Unexpected config names: %s", Users, strings.Join(unknownDel, ","))
		}
		if len(scramAdd) > 0 || len(scramDel) > 0 {
			if slices.Contains(names, "") {
				return usage.Errorf("the use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server")
			}
			if len(quotaAdd) > 0 || len(quotaDel) > 0 {
				return usage.Errorf("cannot alter both quota and SCRAM credential configs simultaneously for '%s' using --bootstrap-server", Users)
			}
			return t.alterScram(ctx, names[0], add, scramDel)
		}
	}
	return t.alterQuotas(ctx, types, names, add, quotaDel)
}

func (t *tool) alterQuotas(ctx context.Context, types, names []string, add []KeyValue, del []string) error {
	var current kadm.ClientQuotaValues
	qs, err := t.quotas(ctx, types, names)
	if err != nil {
		return err
	}
	if len(qs) > 0 {
		current = qs[0].Values
	}
	var invalid []string
	for _, k := range del {
		if !slices.ContainsFunc(current, func(v kadm.ClientQuotaValue) bool { return v.Key == k }) {
			invalid = append(invalid, k)
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("%w: %s (not set for %s)", ErrInvalidConfig, strings.Join(invalid, ","), quotaEntityName(types, names))
	}
	entry := kadm.AlterClientQuotaEntry{}
	for i, typ := range types {
		c := kadm.ClientQuotaEntityComponent{Type: quotaEntityType(typ)}
		if names[i] != "" {
			name := names[i]
			c.Name = &name
		}
		entry.Entity = append(entry.Entity, c)
	}
	for _, kv := range add {
		v, err := strconv.ParseFloat(kv.Value, 64)
		if err != nil {
			return usage.Errorf("cannot parse quota configuration value for %s: %s", kv.Key, kv.Value)
		}
		entry.Ops = append(entry.Ops, kadm.AlterClientQuotaOp{Key: kv.Key, Value: v})
	}
	for _, k := range del {
		entry.Ops = append(entry.Ops, kadm.AlterClientQuotaOp{Key: k, Remove: true})
	}
	res, err := t.adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{entry})
	if err != nil {
		return fmt.Errorf("alter the quotas of %s: %w", quotaEntityName(types, names), err)
	}
	for _, r := range res {
		if r.Err != nil {
			if r.ErrMessage != "" {
				return fmt.Errorf("alter the quotas of %s: %w: %s", quotaEntityName(types, names), r.Err, r.ErrMessage)
			}
			return fmt.Errorf("alter the quotas of %s: %w", quotaEntityName(types, names), r.Err)
		}
	}
	return nil
}

func quotaEntityName(types, names []string) string {
	var e kadm.ClientQuotaEntity
	for i, typ := range types {
		c := kadm.ClientQuotaEntityComponent{Type: quotaEntityType(typ)}
		if i < len(names) && names[i] != "" {
			c.Name = &names[i]
		}
		e = append(e, c)
	}
	return quotaEntityString(e)
}

var scramValue = regexp.MustCompile(`^(?:iterations=(-?[0-9]*),)?password=(.*)$`)

// alterScram adds or replaces the user's credentials of the SCRAM
// mechanisms in add ("[iterations=8192,]password=secret") and deletes
// those of del.
func (t *tool) alterScram(ctx context.Context, user string, add []KeyValue, del []string) error {
	var upserts []kadm.UpsertSCRAM
	for _, kv := range add {
		m := scramValue.FindStringSubmatch(kv.Value)
		if m == nil {
			return usage.Errorf("invalid credential property %s=%s: want [iterations=N,]password=P", kv.Key, redact(kv.Value))
		}
		iterations := defaultScramIterations
		if m[1] != "" && m[1] != "-1" {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				return usage.Errorf("invalid credential property %s: iterations %s", kv.Key, m[1])
			}
			iterations = n
		}
		if iterations < defaultScramIterations {
			return usage.Errorf("iterations %d is less than the minimum %d required for %s", iterations, defaultScramIterations, kv.Key)
		}
		upserts = append(upserts, kadm.UpsertSCRAM{User: user, Mechanism: scramMechanisms[kv.Key], Iterations: int32(iterations), Password: m[2]})
	}
	var dels []kadm.DeleteSCRAM
	for _, k := range del {
		dels = append(dels, kadm.DeleteSCRAM{User: user, Mechanism: scramMechanisms[k]})
	}
	res, err := t.adm.AlterUserSCRAMs(ctx, dels, upserts)
	if err != nil {
		return fmt.Errorf("alter the SCRAM credentials of user %s: %w", user, err)
	}
	for _, r := range res.Sorted() {
		if r.Err != nil {
			if r.ErrMessage != "" {
				return fmt.Errorf("alter the SCRAM credentials of user %s: %w: %s", r.User, r.Err, r.ErrMessage)
			}
			return fmt.Errorf("alter the SCRAM credentials of user %s: %w", r.User, r.Err)
		}
	}
	return nil
}

// redact hides the password of a credential property in an error.
func redact(v string) string {
	if i := strings.Index(v, "password="); i >= 0 {
		return v[:i] + "password=[hidden]"
	}
	return v
}
