package broker

import (
	"crypto/tls"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeAcls: v0-3
//
// Behavior:
// * Lists the ACLs the filter selects (see acl.go), grouped by resource
//   pattern, in the order they were created.
// * Needs DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
// * Without authorizer.class.name: SECURITY_DISABLED, as Kafka answers
//   with no authorizer configured.
// * A filter that can match nothing Kafka would store (an unknown type)
//   is INVALID_REQUEST.
//
// Version notes:
// * v1: ResourcePatternType (KIP-290); v0 filters literal patterns
// * v2: flexible versions
// * v3: USER resources (KIP-554)

func handleDescribeAcls(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeACLsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	fail := func(code int16, msg string) reply {
		resp.ErrorCode, resp.ErrorMessage = code, &msg
		return reply{resp: resp}
	}
	if b.cfg.authz == nil {
		return fail(kerr.SecurityDisabled.Code, "No Authorizer is configured on the broker")
	}
	if !b.cfg.authz.authorize(c.principal(), c.ip, opDescribe, resCluster, clusterResourceName) {
		return fail(kerr.ClusterAuthorizationFailed.Code, "Cluster authorization failed.")
	}
	f := aclFilter{ResourceType: int8(req.ResourceType), ResourceName: req.ResourceName, PatternType: int8(req.ResourcePatternType),
		Principal: req.Principal, Host: req.Host, Operation: int8(req.Operation), Permission: int8(req.PermissionType)}
	if req.Version == 0 {
		f.PatternType = patLiteral
	}
	if f.ResourceType < aclAny || f.ResourceType > resUser || f.PatternType < aclAny || f.PatternType > patPrefixed ||
		f.Operation < aclAny || f.Operation > opDescribeTokens || f.Permission < aclAny || f.Permission > permAllow {
		return fail(kerr.InvalidRequest.Code, "The filter names an unknown resource type, pattern type, operation or permission")
	}
	for _, x := range b.cfg.authz.describe(f) {
		i := slices.IndexFunc(resp.Resources, func(r kmsg.DescribeACLsResponseResource) bool {
			return int8(r.ResourceType) == x.ResourceType && r.ResourceName == x.ResourceName && int8(r.ResourcePatternType) == x.PatternType
		})
		if i < 0 {
			r := kmsg.NewDescribeACLsResponseResource()
			r.ResourceType, r.ResourceName, r.ResourcePatternType = kmsg.ACLResourceType(x.ResourceType), x.ResourceName, kmsg.ACLResourcePatternType(x.PatternType)
			resp.Resources = append(resp.Resources, r)
			i = len(resp.Resources) - 1
		}
		e := kmsg.NewDescribeACLsResponseResourceACL()
		e.Principal, e.Host, e.Operation, e.PermissionType = x.Principal, x.Host, kmsg.ACLOperation(x.Operation), kmsg.ACLPermissionType(x.Permission)
		resp.Resources[i].ACLs = append(resp.Resources[i].ACLs, e)
	}
	return reply{resp: resp}
}

// principal is who the connection acts for, as Kafka names it: the SASL
// user, the subject of a TLS client certificate, else User:ANONYMOUS.
func (c *conn) principal() string {
	if c.authed && c.saslExch != nil {
		return "User:" + c.saslExch.user()
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			return "User:" + certs[0].Subject.String()
		}
	}
	return "User:ANONYMOUS"
}
