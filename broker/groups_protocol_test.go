package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupWire is one member of a group driven by hand, request by request,
// over its own client connection (a parked JoinGroup holds only its own).
type groupWire struct {
	t     *testing.T
	cl    *kgo.Client
	group string
	id    string
	gen   int32
}

func newGroupWire(t *testing.T, addr, group string) *groupWire {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &groupWire{t: t, cl: cl, group: group}
}

// join sends one JoinGroup with the member's id so far and returns the
// answer; a member id handed out with MEMBER_ID_REQUIRED is kept. It
// reports nothing: it may run in its own goroutine.
func (w *groupWire) join(ctx context.Context) (*kmsg.JoinGroupResponse, error) {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group, req.MemberID = w.group, w.id
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 30000
	req.ProtocolType = "consumer"
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{"grp-protocol-answers"}
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", meta.AppendTo(nil)
	req.Protocols = append(req.Protocols, p)
	resp, err := req.RequestWith(ctx, w.cl)
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode == kerr.MemberIDRequired.Code || resp.ErrorCode == 0 {
		w.id = resp.MemberID
	}
	if resp.ErrorCode == 0 {
		w.gen = resp.Generation
	}
	return resp, nil
}

// joined joins until the join phase answers with a generation.
func (w *groupWire) joined(ctx context.Context) {
	w.t.Helper()
	for range 2 {
		resp, err := w.join(ctx)
		if err != nil {
			w.t.Fatalf("join: %v", err)
		}
		switch resp.ErrorCode {
		case 0:
			return
		case kerr.MemberIDRequired.Code:
		default:
			w.t.Fatalf("join: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
	}
	w.t.Fatal("join: MEMBER_ID_REQUIRED twice")
}

func (w *groupWire) heartbeat(ctx context.Context, gen int32) error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.Generation = w.group, w.id, gen
	resp, err := req.RequestWith(ctx, w.cl)
	if err != nil {
		w.t.Fatalf("heartbeat: %v", err)
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

// sync sends SyncGroup as member id at generation gen; protocol, if not
// empty, is the protocol name it expects (v5).
func (w *groupWire) sync(ctx context.Context, id string, gen int32, protocol string, plan map[string]string) (*kmsg.SyncGroupResponse, error) {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.MemberID, req.Generation = w.group, id, gen
	if protocol != "" {
		req.Protocol = &protocol
	}
	for member, a := range plan {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = member, []byte(a)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	return req.RequestWith(ctx, w.cl)
}

func (w *groupWire) syncErr(ctx context.Context, id string, gen int32, protocol string) error {
	w.t.Helper()
	resp, err := w.sync(ctx, id, gen, protocol, nil)
	if err != nil {
		w.t.Fatalf("sync: %v", err)
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

// listed reports whether ListGroups with these filters lists the group,
// and in which state.
func (w *groupWire) listed(ctx context.Context, states, types []string) (string, bool) {
	w.t.Helper()
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter, req.TypesFilter = states, types
	resp, err := req.RequestWith(ctx, w.cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		w.t.Fatalf("list groups: %v", err)
	}
	i := slices.IndexFunc(resp.Groups, func(g kmsg.ListGroupsResponseGroup) bool { return g.Group == w.group })
	if i < 0 {
		return "", false
	}
	return resp.Groups[i].GroupState, true
}

// What the coordinator answers a member over the wire, in each state of a
// rebalance, asked of both clusters the suite runs against: a heartbeat
// during a join phase is REBALANCE_IN_PROGRESS (the member must rejoin),
// and so is a SyncGroup; a SyncGroup from a member not in the group is
// UNKNOWN_MEMBER_ID, at another generation ILLEGAL_GENERATION, naming
// another protocol (v5, KIP-559) INCONSISTENT_GROUP_PROTOCOL; ListGroups
// keeps what its state filter (KIP-518) and type filter (KIP-848) name.
func testGroupProtocolAnswers(t *testing.T, gc *groupCluster) {
	const group = "grp-protocol-answers"
	addr := gc.addr()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := newGroupWire(t, addr, group), newGroupWire(t, addr, group)
	isErr := func(what string, got, want error) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	inState := func(state string) {
		t.Helper()
		if got, ok := a.listed(ctx, nil, nil); !ok || got != state {
			t.Errorf("ListGroups: %q listed %v in state %q, want %q", group, ok, got, state)
		}
		if _, ok := a.listed(ctx, []string{state}, nil); !ok {
			t.Errorf("ListGroups with states [%s] leaves out %q", state, group)
		}
		if _, ok := a.listed(ctx, []string{"Dead"}, nil); ok {
			t.Errorf("ListGroups with states [Dead] lists %q, which is %s", group, state)
		}
	}

	a.joined(ctx)
	if resp, err := a.sync(ctx, a.id, a.gen, "", map[string]string{a.id: "all"}); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("leader's sync: %v %v", err, resp)
	}
	inState("Stable")
	isErr("heartbeat of the only member", a.heartbeat(ctx, a.gen), nil)
	stableGen := a.gen

	// b joins: the group prepares a rebalance, and a learns it from its
	// next heartbeat. b's JoinGroup waits for a to rejoin.
	if resp, err := b.join(ctx); err != nil || (resp.ErrorCode != 0 && resp.ErrorCode != kerr.MemberIDRequired.Code) {
		t.Fatalf("b's first join: %v %v", err, resp)
	}
	bJoined := make(chan error, 1)
	go func() {
		resp, err := b.join(ctx)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		bJoined <- err
	}()
	groupWait(t, 30*time.Second, "a heartbeat to say the group rebalances", func() bool {
		return a.heartbeat(ctx, stableGen) == kerr.RebalanceInProgress
	})
	inState("PreparingRebalance")
	isErr("sync during the join phase", a.syncErr(ctx, a.id, stableGen, ""), kerr.RebalanceInProgress)
	isErr("sync from a non-member", a.syncErr(ctx, "grp-nobody", stableGen, ""), kerr.UnknownMemberID)
	isErr("sync at a generation the group never had", a.syncErr(ctx, a.id, stableGen+7, ""), kerr.IllegalGeneration)

	a.joined(ctx)
	if err := <-bJoined; err != nil {
		t.Fatalf("b's join: %v", err)
	}
	if a.gen != stableGen+1 || b.gen != a.gen {
		t.Fatalf("generations after the rebalance: a %d, b %d; want both %d", a.gen, b.gen, stableGen+1)
	}
	inState("CompletingRebalance")
	isErr("heartbeat while the group waits for the assignment", b.heartbeat(ctx, b.gen), nil)
	isErr("heartbeat at the old generation", b.heartbeat(ctx, stableGen), kerr.IllegalGeneration)
	isErr("sync at the old generation", b.syncErr(ctx, b.id, stableGen, ""), kerr.IllegalGeneration)
	isErr("sync naming another protocol", b.syncErr(ctx, b.id, b.gen, "roundrobin"), kerr.InconsistentGroupProtocol)

	// b's SyncGroup waits for the leader's; the leader assigns to a only.
	bSynced := make(chan error, 1)
	go func() {
		resp, err := b.sync(ctx, b.id, b.gen, "range", nil)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		bSynced <- err
	}()
	resp, err := a.sync(ctx, a.id, a.gen, "range", map[string]string{a.id: "all"})
	if err != nil || resp.ErrorCode != 0 || string(resp.MemberAssignment) != "all" {
		t.Fatalf("leader's sync: %v %v", err, resp)
	}
	if err := <-bSynced; err != nil {
		t.Fatalf("b's sync: %v", err)
	}
	inState("Stable")
	if _, ok := a.listed(ctx, nil, []string{"classic"}); !ok {
		t.Errorf("ListGroups with types [classic] leaves out %q", group)
	}
	if _, ok := a.listed(ctx, []string{"Stable"}, []string{"consumer"}); ok {
		t.Errorf("ListGroups with types [consumer] lists the classic group %q", group)
	}

	for _, w := range []*groupWire{a, b} {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = group
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = w.id
		req.Members = append(req.Members, m)
		if _, err := req.RequestWith(ctx, w.cl); err != nil {
			t.Fatalf("leave: %v", err)
		}
	}
	groupWait(t, 30*time.Second, "the group to be Empty", func() bool {
		state, _ := a.listed(ctx, nil, nil)
		return state == "Empty"
	})
	inState("Empty")
}
