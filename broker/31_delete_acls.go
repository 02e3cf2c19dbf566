package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteAcls: v0-3
//
// Behavior:
// * Deletes the ACLs each filter selects (see acl.go) and answers, per
//   filter, the ACLs it deleted; the rest are saved before answering.
// * Needs ALTER on the cluster, else every filter is
//   CLUSTER_AUTHORIZATION_FAILED.
// * Without authorizer.class.name: every filter is SECURITY_DISABLED.
// * A filter with an unknown code is INVALID_REQUEST.
//
// Version notes:
// * v1: ResourcePatternType (KIP-290); v0 filters literal patterns
// * v2: flexible versions
// * v3: USER resources (KIP-554)

func handleDeleteAcls(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	results := make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
	for i := range results {
		results[i] = kmsg.NewDeleteACLsResponseResult()
	}
	resp.Results = results
	setAll := func(code int16, msg string) reply {
		for i := range results {
			results[i].ErrorCode, results[i].ErrorMessage = code, &msg
		}
		return reply{resp: resp}
	}
	if b.cfg.authz == nil {
		return setAll(kerr.SecurityDisabled.Code, "No Authorizer is configured on the broker")
	}
	if !b.cfg.authz.authorize(c.principal(), c.ip, opAlter, resCluster, clusterResourceName) {
		return setAll(kerr.ClusterAuthorizationFailed.Code, "Cluster authorization failed.")
	}
	var fs []aclFilter
	var at []int
	for i, rf := range req.Filters {
		f := aclFilter{ResourceType: int8(rf.ResourceType), ResourceName: rf.ResourceName, PatternType: int8(rf.ResourcePatternType),
			Principal: rf.Principal, Host: rf.Host, Operation: int8(rf.Operation), Permission: int8(rf.PermissionType)}
		if req.Version == 0 {
			f.PatternType = patLiteral
		}
		if f.ResourceType < aclAny || f.ResourceType > resUser || f.PatternType < aclAny || f.PatternType > patPrefixed ||
			f.Operation < aclAny || f.Operation > opDescribeTokens || f.Permission < aclAny || f.Permission > permAllow {
			msg := "The filter names an unknown resource type, pattern type, operation or permission"
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
			continue
		}
		fs = append(fs, f)
		at = append(at, i)
	}
	gone, err := b.cfg.authz.remove(fs)
	if err != nil {
		msg := "saving the ACLs: " + err.Error()
		for _, i := range at {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.UnknownServerError.Code, &msg
		}
		return reply{resp: resp}
	}
	n := 0
	for j, i := range at {
		for _, x := range gone[j] {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName, m.ResourcePatternType = kmsg.ACLResourceType(x.ResourceType), x.ResourceName, kmsg.ACLResourcePatternType(x.PatternType)
			m.Principal, m.Host, m.Operation, m.PermissionType = x.Principal, x.Host, kmsg.ACLOperation(x.Operation), kmsg.ACLPermissionType(x.Permission)
			results[i].MatchingACLs = append(results[i].MatchingACLs, m)
			n++
		}
	}
	if n > 0 {
		b.log.Info("ACLs deleted", "principal", c.principal(), "count", n)
	}
	return reply{resp: resp}
}
