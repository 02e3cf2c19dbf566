package group

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzGroupSteps runs arbitrary sequences of group requests, clock moves
// and closed connections through the coordinator, as the scripts do, and
// after every step checks that each group's books agree with its state
// (checkBooks); the harness fails the test if the coordinator logs an
// error (a state move its table does not allow). Three bytes make a step:
// what it is, and two that choose its arguments.
func FuzzGroupSteps(f *testing.F) {
	// Two members join and sync, one restarts as a static member, the
	// leader goes silent.
	f.Add([]byte{0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 2, 0, 0, 10, 1, 1, 3, 1, 4, 2, 0, 4, 3, 0})
	f.Add([]byte{0, 4, 2, 0, 6, 2, 1, 4, 1, 0, 12, 3, 2, 5, 0, 3, 2, 1, 4, 3, 0, 0, 5, 5})
	f.Add([]byte{0, 2, 0, 0, 9, 1, 5, 0, 0, 1, 1, 0, 6, 3, 1, 7, 0, 0, 4, 1, 0, 2, 6, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t)
		defer h.close()
		h.do("topic t1 partitions=1")
		for step := 0; len(data) >= 3 && step < 60; step++ {
			cmd := fuzzStep(h, step, data[0], data[1], data[2])
			data = data[3:]
			if cmd == "" {
				continue
			}
			out := h.do(cmd)
			t.Logf("%s\n%s", cmd, out)
			checkBooks(t, h.c)
			if t.Failed() {
				return
			}
		}
	})
}

// The members the fuzzer plays: dynamic ones by client id, static ones by
// instance id; member ids are those the harness hands out.
var (
	fuzzClients   = []string{"a", "b", "c"}
	fuzzInstances = []string{"ia", "ib"}
	fuzzMemberIDs = []string{"a-1", "a-2", "b-1", "b-2", "c-1", "ia-1", "ia-2", "ib-1", "ib-2", "nobody"}
	fuzzOffers    = []string{"range:t1", "roundrobin:t1,range:t1", "range:t1+t2", "sticky:t1"}
	fuzzAdvances  = []string{"1s", "5s", "9s", "11s", "21s", "31s"}
)

// fuzzStep turns three bytes into a script command, or "" for none.
func fuzzStep(h *harness, step int, op, x, y byte) string {
	pick := func(list []string, b byte) string { return list[int(b)%len(list)] }
	name := fmt.Sprintf("r%d", step)
	member := pick(fuzzMemberIDs, x)
	gen := int(y % 5)
	instance := ""
	if y&0x10 != 0 {
		// A static member's request names its instance id.
		instance = " instance=" + strings.SplitN(member, "-", 2)[0]
	}
	switch op % 8 {
	case 0:
		cmd := fmt.Sprintf("join %s group=g v=%s session=10s rebalance=%s protocols=%s",
			name, pick([]string{"3", "4", "5", "9"}, y), pick([]string{"10s", "20s"}, y>>2), pick(fuzzOffers, y>>4))
		if x&1 == 0 {
			return cmd + " client=" + pick(fuzzClients, x>>1)
		}
		if x&2 == 0 {
			return cmd + " client=x instance=" + pick(fuzzInstances, x>>2)
		}
		return cmd + " client=x member=" + pick(fuzzMemberIDs, x>>2) + instance
	case 1:
		cmd := fmt.Sprintf("sync %s group=g member=%s gen=%d%s", name, member, gen, instance)
		if y&0x20 != 0 {
			cmd += " assign=" + member + ":x," + pick(fuzzMemberIDs, y>>3) + ":y"
		}
		if y&0x40 != 0 {
			cmd += " protocol=" + pick([]string{"range", "roundrobin"}, y>>7)
		}
		return cmd
	case 2:
		return fmt.Sprintf("heartbeat group=g member=%s gen=%d%s", member, gen, instance)
	case 3:
		if y&1 != 0 {
			return "leave group=g members=instance:" + pick(fuzzInstances, x)
		}
		return fmt.Sprintf("leave group=g member=%s v=%d", member, 1+y%5)
	case 4:
		return "advance " + pick(fuzzAdvances, x)
	case 5:
		h.mu.Lock()
		var running []string
		for n := range h.reqs {
			running = append(running, n)
		}
		h.mu.Unlock()
		if len(running) == 0 {
			return ""
		}
		slices.Sort(running)
		return "cancel " + running[int(x)%len(running)]
	case 6:
		return fmt.Sprintf("commit group=g member=%s gen=%d offsets=t1/0@%d%s", member, gen-1, y, instance)
	}
	return "describe groups=g"
}

// checkBooks checks that every group's members, static ids, leader,
// parked requests and deadlines agree with its state.
func checkBooks(t *testing.T, c *Coordinator) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	armed := func(tk *task) bool { return tk != nil && tk.index >= 0 }
	for name, g := range c.groups {
		bad := func(format string, args ...any) {
			t.Helper()
			t.Errorf("group %s, %s, generation %d: %s", name, g.state, g.generation, fmt.Sprintf(format, args...))
		}
		if len(g.members) != len(g.byID) {
			bad("%d members in join order, %d by id", len(g.members), len(g.byID))
		}
		for _, m := range g.members {
			if g.byID[m.id] != m {
				bad("member %s is not found by its id", m.id)
			}
			if m.instanceID != nil && g.static[*m.instanceID] != m.id {
				bad("member %s holds instance %s, which names %q", m.id, *m.instanceID, g.static[*m.instanceID])
			}
			if _, pending := g.pending[m.id]; pending {
				bad("member %s is also a pending member id", m.id)
			}
			if m.joinWait != nil && g.state != statePreparingRebalance {
				bad("member %s has a JoinGroup parked outside a join phase", m.id)
			}
			if m.syncWait != nil && g.state != stateCompletingRebalance {
				bad("member %s has a SyncGroup parked while nothing waits for an assignment", m.id)
			}
			if (g.state == stateCompletingRebalance || g.state == stateStable) && !m.offers(g.protocol) {
				bad("member %s does not offer the generation's protocol %q", m.id, g.protocol)
			}
			if g.state == stateStable && m.assignment == nil {
				bad("member %s has no assignment in a Stable group", m.id)
			}
		}
		for inst, id := range g.static {
			if m := g.byID[id]; m == nil || m.instanceID == nil || *m.instanceID != inst {
				bad("instance %s names %s, which is not its member", inst, id)
			}
		}
		if len(g.members) > 0 && g.byID[g.leader] == nil {
			bad("leader %q is not a member", g.leader)
		}
		if states[g.state].members != (len(g.members) > 0) && g.state != statePreparingRebalance {
			bad("%d members", len(g.members))
		}
		if armed(g.joinTask) != (g.state == statePreparingRebalance) {
			bad("join deadline armed: %v", armed(g.joinTask))
		}
		if armed(g.syncTask) && g.state != stateCompletingRebalance && g.state != stateStable {
			bad("sync deadline armed")
		}
		if (g.state == stateCompletingRebalance || g.state == stateStable) && g.protocol == "" {
			bad("no protocol")
		}
	}
}
