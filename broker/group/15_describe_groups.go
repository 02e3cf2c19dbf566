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
	if code := c.lockOpen(); code != 0 {
		return errorResponse(req, code)
	}
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, name := range req.Groups {
		d := kmsg.NewDescribeGroupsResponseGroup()
		d.Group = name
		if g := c.groups[name]; g != nil {
			g.summarize(&d)
		} else {
			describeUnknown(&d, req.Version)
		}
		if req.IncludeAuthorizedOperations {
			d.AuthorizedOperations = groupOperations
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp
}

// describeUnknown answers for a group this coordinator does not hold: Dead,
// and from v6 also GROUP_ID_NOT_FOUND.
func describeUnknown(d *kmsg.DescribeGroupsResponseGroup, version int16) {
	d.State = stateDead.String()
	if version < 6 {
		return
	}
	d.ErrorCode = kerr.GroupIDNotFound.Code
	d.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s not found.", d.Group))
}

// summarize writes g into d in two passes, as Kafka's group summary does:
// first what every state shows (state, protocol type, who the members
// are), then, for a Stable group only, the chosen protocol with each
// member's metadata for it and its assignment.
func (g *group) summarize(d *kmsg.DescribeGroupsResponseGroup) {
	d.State, d.ProtocolType = g.state.String(), g.protocolType
	if len(g.members) > 0 {
		d.Members = make([]kmsg.DescribeGroupsResponseGroupMember, len(g.members))
	}
	for i, m := range g.members {
		dm := &d.Members[i]
		dm.Default()
		dm.MemberID, dm.InstanceID = m.id, m.instanceID
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
	}
	if g.state != stateStable {
		return
	}
	d.Protocol = g.protocol
	for i, m := range g.members {
		d.Members[i].ProtocolMetadata = m.metadata(g.protocol)
		d.Members[i].MemberAssignment = m.assignment
	}
}
