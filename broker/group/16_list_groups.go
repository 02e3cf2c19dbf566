package group

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups: v0-5
//
// Version notes:
//   - v4: StatesFilter and GroupState (KIP-518).
//   - v5: TypesFilter and GroupType (KIP-848).
//
// Every group this coordinator holds is listed, by name, with its protocol
// type ("" for a group that only holds offsets committed with generation
// -1) and state. A filter that is given keeps the groups it names: states
// by the names DescribeGroups shows, types among which every group here is
// "classic"; both are compared without regard to case, as Kafka compares
// them, and a name that matches nothing (a type "consumer", a misspelt
// state) leaves the list empty.

// groupType is the GroupType of every group here: the classic protocol.
const groupType = "classic"

func (c *Coordinator) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	wanted := listFilter(req.StatesFilter, req.TypesFilter)
	if code := c.lockOpen(); code != 0 {
		return errorResponse(req, code)
	}
	defer c.mu.Unlock()
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	for _, name := range c.groupNames() {
		if g := c.groups[name]; wanted(g.state) {
			resp.Groups = append(resp.Groups, g.listing())
		}
	}
	return resp
}

// listFilter turns a ListGroups request's filters into a test of a
// group's state. An empty filter admits everything.
func listFilter(states, types []string) func(groupState) bool {
	named := func(filter []string, name string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, name) })
	}
	if !named(types, groupType) {
		return func(groupState) bool { return false }
	}
	return func(s groupState) bool { return named(states, s.String()) }
}

// listing is g's entry in a ListGroups response.
func (g *group) listing() kmsg.ListGroupsResponseGroup {
	entry := kmsg.NewListGroupsResponseGroup()
	entry.Group, entry.ProtocolType = g.name, g.protocolType
	entry.GroupState, entry.GroupType = g.state.String(), groupType
	return entry
}
