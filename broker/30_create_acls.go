package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateAcls: v0-3
//
// Behavior:
// * Adds each ACL (one already there is kept once) and saves them all in
//   acls.json before answering; each creation gets its own result.
// * Needs ALTER on the cluster, else every creation is
//   CLUSTER_AUTHORIZATION_FAILED.
// * Without authorizer.class.name: every creation is SECURITY_DISABLED.
// * A malformed ACL (an ANY or unknown code, a principal without a type, a
//   CLUSTER resource not named kafka-cluster, a prefixed wildcard) is
//   INVALID_REQUEST with Kafka's message; the others are still created.
//
// Version notes:
// * v1: ResourcePatternType (KIP-290); v0 creates literal patterns
// * v2: flexible versions
// * v3: USER resources (KIP-554)

func handleCreateAcls(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	results := make([]kmsg.CreateACLsResponseResult, len(req.Creations))
	setAll := func(code int16, msg string) reply {
		for i := range results {
			results[i] = kmsg.NewCreateACLsResponseResult()
			results[i].ErrorCode, results[i].ErrorMessage = code, &msg
		}
		resp.Results = results
		return reply{resp: resp}
	}
	if b.cfg.authz == nil {
		return setAll(kerr.SecurityDisabled.Code, "No Authorizer is configured on the broker")
	}
	if !b.cfg.authz.authorize(c.principal(), c.ip, opAlter, resCluster, clusterResourceName) {
		return setAll(kerr.ClusterAuthorizationFailed.Code, "Cluster authorization failed.")
	}
	var add []acl
	var at []int
	for i, cr := range req.Creations {
		results[i] = kmsg.NewCreateACLsResponseResult()
		x := acl{ResourceType: int8(cr.ResourceType), ResourceName: cr.ResourceName, PatternType: int8(cr.ResourcePatternType),
			Principal: cr.Principal, Host: cr.Host, Operation: int8(cr.Operation), Permission: int8(cr.PermissionType)}
		if req.Version == 0 {
			x.PatternType = patLiteral
		}
		if msg := checkACL(&x); msg != "" {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
			continue
		}
		add = append(add, x)
		at = append(at, i)
	}
	if err := b.cfg.authz.create(add); err != nil {
		msg := "saving the ACLs: " + err.Error()
		for _, i := range at {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.UnknownServerError.Code, &msg
		}
	} else if len(add) > 0 {
		b.log.Info("ACLs created", "principal", c.principal(), "count", len(add))
	}
	resp.Results = results
	return reply{resp: resp}
}
