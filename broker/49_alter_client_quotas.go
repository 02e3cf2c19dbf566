package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterClientQuotas: v0-1
//
// Behavior (quota.go):
// * Each entry sets and removes quotas of one entity (user, client-id or
//   both; a null name is the default) and gets its own result. The keys
//   are producer_byte_rate, consumer_byte_rate (whole numbers),
//   request_percentage and controller_mutation_rate; INVALID_REQUEST for
//   an empty entity, an unknown or repeated entity type, an ip entity
//   (not supported here), an unknown or repeated key, or a value that is
//   not positive (or not whole for the byte rates). Removing a key not
//   set is not an error.
// * Unless ValidateOnly, each entity's change is written to
//   client-quotas.json in the first log dir (atomically) and applies at
//   once; KAFKA_STORAGE_ERROR when the file cannot be written.
// * Needs ALTER_CONFIGS on the cluster (authorize.go).
//
// Version notes:
// * v1: flexible versions

func handleAlterClientQuotas(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	s := b.clientQuotas()
	for _, in := range req.Entries {
		out := kmsg.NewAlterClientQuotasResponseEntry()
		types := make([]string, len(in.Entity))
		names := make([]*string, len(in.Entity))
		for i, ent := range in.Entity {
			re := kmsg.NewAlterClientQuotasResponseEntryEntity()
			re.Type, re.Name = ent.Type, ent.Name
			out.Entity = append(out.Entity, re)
			types[i], names[i] = ent.Type, ent.Name
		}
		setErr := func(code int16, msg string) {
			out.ErrorCode, out.ErrorMessage = code, &msg
		}
		e, msg := parseQuotaEntity(types, names)
		if msg != "" {
			setErr(kerr.InvalidRequest.Code, msg)
			resp.Entries = append(resp.Entries, out)
			continue
		}
		ops := make([]quotaOp, len(in.Ops))
		for i, op := range in.Ops {
			ops[i] = quotaOp{key: op.Key, value: op.Value, remove: op.Remove}
		}
		msg, err := s.alter(e, ops, req.ValidateOnly)
		switch {
		case msg != "":
			setErr(kerr.InvalidRequest.Code, msg)
		case err != nil:
			setErr(kerr.KafkaStorageError.Code, err.Error())
			c.log.Error("client quotas not altered", "entity", e.String(), "err", err)
		case !req.ValidateOnly:
			c.log.Info("altered client quotas", "entity", e.String())
		}
		resp.Entries = append(resp.Entries, out)
	}
	return reply{resp: resp}
}
