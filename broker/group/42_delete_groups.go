package group

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups: v0-3
//
// Version notes:
//   - v3: ErrorMessage per group.
//
// Only an Empty group can be deleted (else NON_EMPTY_GROUP); an unknown
// one is GROUP_ID_NOT_FOUND. Deleting removes the group's committed
// offsets; the response is sent once that is fsynced.

func (c *Coordinator) deleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	if code := c.lockOpen(); code != 0 {
		return errorResponse(req, code)
	}
	var recs []record
	var deleted []int
	for i, name := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = name
		g := c.groups[name]
		switch {
		case g == nil:
			rg.ErrorCode = kerr.GroupIDNotFound.Code
			rg.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s not found.", name))
		case g.state != stateEmpty:
			rg.ErrorCode = kerr.NonEmptyGroup.Code
			rg.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s is not empty (%s).", name, g.state))
		default:
			c.dropGroup(g)
			recs = append(recs, record{kind: kindDeleteGroup, group: g.name})
			deleted = append(deleted, i)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	var b *batch
	if len(recs) > 0 {
		b = c.olog.append(recs...)
	}
	c.mu.Unlock()
	if b == nil {
		return resp
	}
	var err error
	select {
	case <-b.done:
		err = b.err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		for _, i := range deleted {
			resp.Groups[i].ErrorCode = kerr.NotCoordinator.Code
			resp.Groups[i].ErrorMessage = kmsg.StringPtr(err.Error())
		}
	}
	return resp
}

// dropGroup forgets an empty group now: its timers stop and its name is
// free. The caller writes the record that removes its offsets.
func (c *Coordinator) dropGroup(g *group) {
	for _, t := range g.pending {
		c.sched.stop(t)
	}
	c.enter(g, stateDead)
	delete(c.groups, g.name)
}
