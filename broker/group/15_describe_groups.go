package group

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups: v0-6
//
// Version notes:
//   - v3: IncludeAuthorizedOperations; there are no ACLs, so every group
//     operation (READ, DELETE, DESCRIBE) is authorized.
//   - v4: InstanceID of static members.
//   - v6: an unknown group is GROUP_ID_NOT_FOUND with an ErrorMessage
//     (KIP-1043); before v6 it is described as Dead with no error.
//
// Members are listed in every state; their protocol metadata and
// assignment, and the group's protocol, only when the group is Stable, as
// Kafka does.

// groupOperations is the bitfield of READ (3), DELETE (6) and DESCRIBE (8).
const groupOperations = 1<<3 | 1<<6 | 1<<8

func (c *Coordinator) describeGroups(req *kmsg.DescribeGroupsRequest) kmsg.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errorResponse(req, kerr.CoordinatorNotAvailable.Code)
	}
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, name := range req.Groups {
		rg := kmsg.NewDescribeGroupsResponseGroup()
		rg.Group = name
		if req.IncludeAuthorizedOperations {
			rg.AuthorizedOperations = groupOperations
		}
		g := c.groups[name]
		if g == nil {
			rg.State = stateDead.String()
			if req.Version >= 6 {
				rg.ErrorCode = kerr.GroupIDNotFound.Code
				rg.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s not found.", name))
			}
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		rg.State = g.state.String()
		rg.ProtocolType = g.protocolType
		stable := g.state == stateStable
		if stable {
			rg.Protocol = g.protocol
		}
		for _, m := range g.members {
			rm := kmsg.NewDescribeGroupsResponseGroupMember()
			rm.MemberID = m.id
			rm.InstanceID = m.instanceID
			rm.ClientID = m.clientID
			rm.ClientHost = m.clientHost
			if stable {
				rm.ProtocolMetadata = m.metadata(g.protocol)
				rm.MemberAssignment = m.assignment
			}
			rg.Members = append(rg.Members, rm)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	return resp
}
