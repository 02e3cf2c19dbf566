package broker

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeCluster: v0-2
//
// Behavior:
// * One broker, this one, which is also the controller, at the advertised
//   address of the listener the client connected to; never fenced.
// * Authorized operations, when asked for, are everything: there are no
//   ACLs.
// * v1+: EndpointType 2 (controllers) is UNSUPPORTED_ENDPOINT_TYPE.
//
// Version notes:
// * v1: EndpointType (KIP-919)
// * v2: IncludeFencedBrokers, IsFenced (KIP-1073)

func handleDescribeCluster(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = req.EndpointType
	if req.Version >= 1 && req.EndpointType != 1 {
		msg := "this broker describes brokers only (endpoint type 1)"
		resp.ErrorCode, resp.ErrorMessage = kerr.UnsupportedEndpointType.Code, &msg
		return reply{resp: resp}
	}
	resp.ClusterID = b.clusterID
	resp.ControllerID = b.cfg.NodeID
	br := kmsg.NewDescribeClusterResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.NodeID, c.lis.advHost, int32(c.lis.advPort)
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{br}
	resp.ClusterAuthorizedOperations = math.MinInt32
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = allOperations
	}
	return reply{resp: resp}
}
