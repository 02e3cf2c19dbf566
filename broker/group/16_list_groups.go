package group

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups: v0-5
//
// Version notes:
//   - v4: StatesFilter and GroupState (KIP-518); states match without
//     regard to case, as in Kafka.
//   - v5: TypesFilter and GroupType (KIP-848); every group here is
//     "classic".
//
// Groups are listed by name. A group that only holds offsets committed
// with generation -1 is listed with an empty protocol type.

func (c *Coordinator) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errorResponse(req, kerr.CoordinatorNotAvailable.Code)
	}
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	names := make([]string, 0, len(c.groups))
	for name := range c.groups {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		g := c.groups[name]
		state := g.state.String()
		if len(req.StatesFilter) > 0 && !containsFold(req.StatesFilter, state) {
			continue
		}
		if len(req.TypesFilter) > 0 && !containsFold(req.TypesFilter, "classic") {
			continue
		}
		rg := kmsg.NewListGroupsResponseGroup()
		rg.Group = name
		rg.ProtocolType = g.protocolType
		rg.GroupState = state
		rg.GroupType = "classic"
		resp.Groups = append(resp.Groups, rg)
	}
	return resp
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
