package broker

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeClientQuotas: v0-1
//
// Behavior (quota.go):
// * Each component filters on an entity type ("user", "client-id"):
//   match type 0 (exact) an entity whose part of that type has the name
//   Match, 1 (default) one whose part is the default, 2 (any specified)
//   one that has a part of that type at all. An entity must pass every
//   component; with Strict it may have no other part. No components
//   match every entity (none with Strict).
// * Entries are the matching entities with quotas, with all their values.
// * INVALID_REQUEST for an unknown entity type, a type given twice, an
//   exact match without a name, an unknown match type, or ip combined
//   with user or client-id; ip entities are not kept, so "ip" matches
//   nothing.
// * Needs DESCRIBE_CONFIGS on the cluster (authorize.go).
//
// Version notes:
// * v1: flexible versions

func handleDescribeClientQuotas(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClientQuotasResponse)
	fail := func(code int16, msg string) reply {
		resp.ErrorCode, resp.ErrorMessage = code, &msg
		return reply{resp: resp}
	}
	seen := map[string]bool{}
	ip := false
	for _, comp := range req.Components {
		switch comp.EntityType {
		case quotaUser, quotaClient:
		case quotaIP:
			ip = true
		default:
			return fail(kerr.InvalidRequest.Code, "Custom entity type '"+comp.EntityType+"' not supported")
		}
		if seen[comp.EntityType] {
			return fail(kerr.InvalidRequest.Code, "Entity type "+comp.EntityType+" cannot appear more than once in the filter")
		}
		seen[comp.EntityType] = true
		switch comp.MatchType {
		case 0:
			if comp.Match == nil {
				return fail(kerr.InvalidRequest.Code, "Exact match of entity type "+comp.EntityType+" needs a name to match")
			}
		case 1, 2:
		default:
			return fail(kerr.InvalidRequest.Code, "Unknown match type "+comp.MatchType.String())
		}
	}
	if ip && (seen[quotaUser] || seen[quotaClient]) {
		return fail(kerr.InvalidRequest.Code, "Invalid entity filter component combination, IP filter component should not be used with user or clientId filter component.")
	}
	s := b.clientQuotas()
	if ip {
		return reply{resp: resp}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for e, vals := range s.quotas {
		if !quotaEntityMatches(e, req.Components, req.Strict) {
			continue
		}
		entry := kmsg.NewDescribeClientQuotasResponseEntry()
		for _, p := range []struct {
			typ  string
			part quotaPart
		}{{quotaUser, e.User}, {quotaClient, e.Client}} {
			if p.part.Set {
				ent := kmsg.NewDescribeClientQuotasResponseEntryEntity()
				ent.Type, ent.Name = p.typ, p.part.ptr()
				entry.Entity = append(entry.Entity, ent)
			}
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := kmsg.NewDescribeClientQuotasResponseEntryValue()
			v.Key, v.Value = k, vals[k]
			entry.Values = append(entry.Values, v)
		}
		resp.Entries = append(resp.Entries, entry)
	}
	sort.Slice(resp.Entries, func(i, j int) bool {
		return entitySortKey(resp.Entries[i].Entity, func(e kmsg.DescribeClientQuotasResponseEntryEntity) (string, *string) { return e.Type, e.Name }) <
			entitySortKey(resp.Entries[j].Entity, func(e kmsg.DescribeClientQuotasResponseEntryEntity) (string, *string) { return e.Type, e.Name })
	})
	return reply{resp: resp}
}

// quotaEntityMatches applies a DescribeClientQuotas filter to e.
func quotaEntityMatches(e quotaEntity, comps []kmsg.DescribeClientQuotasRequestComponent, strict bool) bool {
	if strict && len(comps) == 0 {
		return false
	}
	var types []string
	for _, comp := range comps {
		types = append(types, comp.EntityType)
		p := e.User
		if comp.EntityType == quotaClient {
			p = e.Client
		}
		if !p.Set {
			return false
		}
		switch comp.MatchType {
		case 0:
			if p.Default || p.Name != *comp.Match {
				return false
			}
		case 1:
			if !p.Default {
				return false
			}
		}
	}
	if strict {
		if e.User.Set && !slices.Contains(types, quotaUser) || e.Client.Set && !slices.Contains(types, quotaClient) {
			return false
		}
	}
	return true
}
