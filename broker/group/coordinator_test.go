package group

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func joinReq(group, member string, version int16) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = version
	req.Group = group
	req.MemberID = member
	req.SessionTimeoutMillis = 10000
	req.RebalanceTimeoutMillis = 10000
	req.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	p.Metadata = consumerMeta([]string{"t"})
	req.Protocols = append(req.Protocols, p)
	return req
}

func syncReq(group, member string, gen int32, assign map[string]string) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group = group
	req.MemberID = member
	req.Generation = gen
	for id, a := range assign {
		ra := kmsg.NewSyncGroupRequestGroupAssignment()
		ra.MemberID = id
		ra.MemberAssignment = []byte(a)
		req.GroupAssignment = append(req.GroupAssignment, ra)
	}
	return req
}

func mustJoin(t testing.TB, c *Coordinator, group, member string) *kmsg.JoinGroupResponse {
	t.Helper()
	resp := c.Handle(context.Background(), joinReq(group, member, 3)).(*kmsg.JoinGroupResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("join %s: %v", group, kerr.ErrorForCode(resp.ErrorCode))
	}
	return resp
}

// Close answers parked requests with NOT_COORDINATOR, is idempotent, and
// afterwards requests get COORDINATOR_NOT_AVAILABLE.
func TestCloseAnswersParkedAndIsIdempotent(t *testing.T) {
	c, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a := mustJoin(t, c, "g", "")
	if r := c.Handle(context.Background(), syncReq("g", a.MemberID, a.Generation, map[string]string{a.MemberID: "x"})).(*kmsg.SyncGroupResponse); r.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(r.ErrorCode))
	}
	// b's join parks until a rejoins, which it never does.
	done := make(chan kmsg.Response, 1)
	go func() { done <- c.Handle(context.Background(), joinReq("g", "", 3)) }()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.groups["g"].state == statePreparingRebalance
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-done:
		if code := resp.(*kmsg.JoinGroupResponse).ErrorCode; code != kerr.NotCoordinator.Code {
			t.Errorf("parked join got %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("parked join not answered by Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	resp := c.Handle(context.Background(), commitReq("g", "t", 0, 1)).(*kmsg.OffsetCommitResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.CoordinatorNotAvailable.Code {
		t.Errorf("commit after Close: %v", kerr.ErrorForCode(code))
	}
	c.TopicDeleted("t") // a no-op, not a hang
}

// A parked JoinGroup returns when its context ends, and the member no
// longer counts as joined.
func TestParkedJoinReturnsOnContextDone(t *testing.T) {
	c, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := mustJoin(t, c, "g", "")
	c.Handle(context.Background(), syncReq("g", a.MemberID, a.Generation, nil))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan kmsg.Response, 1)
	go func() { done <- c.Handle(ctx, joinReq("g", "", 3)) }()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.groups["g"].members) == 2
	})
	cancel()
	select {
	case resp := <-done:
		if code := resp.(*kmsg.JoinGroupResponse).ErrorCode; code != kerr.RebalanceInProgress.Code {
			t.Errorf("cancelled join got %v", kerr.ErrorForCode(code))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled join did not return")
	}
	c.mu.Lock()
	for _, m := range c.groups["g"].members {
		if m.id != a.MemberID && m.joinWait != nil {
			t.Error("cancelled member still counts as joined")
		}
	}
	c.mu.Unlock()
}

// Members of several groups join, sync, heartbeat, commit and leave
// concurrently with the real timer goroutine; every generation's answer is
// consistent and nothing deadlocks (run with -race).
func TestConcurrentMembers(t *testing.T) {
	c, err := Open(Config{Dir: t.TempDir(), MinSessionTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 3 {
		for m := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runMember(t, ctx, c, fmt.Sprintf("g%d", g), rand.New(rand.NewPCG(uint64(g), uint64(m))))
			}()
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("members did not finish in time")
	}
}

// runMember is a small client: it joins (handling MEMBER_ID_REQUIRED),
// syncs (as leader, assigning itself everything), then heartbeats and
// commits a few times, rejoining when told to, and leaves.
func runMember(t *testing.T, ctx context.Context, c *Coordinator, group string, rng *rand.Rand) {
	member := ""
	rounds := 0
	for rounds < 5 && ctx.Err() == nil {
		jr := joinReq(group, member, 9)
		jr.SessionTimeoutMillis = 2000
		jr.RebalanceTimeoutMillis = 2000
		join := c.Handle(ctx, jr).(*kmsg.JoinGroupResponse)
		switch join.ErrorCode {
		case 0:
		case kerr.MemberIDRequired.Code:
			member = join.MemberID
			continue
		case kerr.UnknownMemberID.Code:
			member = ""
			continue
		case kerr.RebalanceInProgress.Code:
			continue
		default:
			t.Errorf("join: %v", kerr.ErrorForCode(join.ErrorCode))
			return
		}
		member = join.MemberID
		assign := map[string]string{}
		if join.LeaderID == member {
			if len(join.Members) == 0 {
				t.Error("leader got no members")
			}
			for _, m := range join.Members {
				assign[m.MemberID] = m.MemberID
			}
		}
		sync := c.Handle(ctx, syncReq(group, member, join.Generation, assign)).(*kmsg.SyncGroupResponse)
		if sync.ErrorCode != 0 {
			continue
		}
		if string(sync.MemberAssignment) != member && len(sync.MemberAssignment) > 0 {
			t.Errorf("%s got assignment %q", member, sync.MemberAssignment)
		}
		rounds++
		for range rng.IntN(4) {
			hb := kmsg.NewPtrHeartbeatRequest()
			hb.Group, hb.MemberID, hb.Generation = group, member, join.Generation
			if c.Handle(ctx, hb).(*kmsg.HeartbeatResponse).ErrorCode != 0 {
				break
			}
			cr := commitReq(group, "t", 0, int64(rounds))
			cr.MemberID, cr.Generation = member, join.Generation
			c.Handle(ctx, cr)
		}
	}
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 3
	lr.Group = group
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = member
	lr.Members = append(lr.Members, lm)
	c.Handle(ctx, lr)
}

// A kill -9 of the process loses no acknowledged commit: a child process
// commits and reports each acknowledged offset until it is killed; the
// reopened log has the last one reported (or the next, written but not
// yet reported).
func TestKillLosesNoAcknowledgedCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	last := int64(-1)
	for sc.Scan() {
		n, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("child: %s", sc.Text())
		}
		last = n
		if n == 300 {
			cmd.Process.Kill()
		}
	}
	cmd.Wait()
	if last < 300 {
		t.Fatalf("child acknowledged only up to %d", last)
	}
	c, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := fetched(t, c, "g", "t", 0); got != last && got != last+1 {
		t.Errorf("after kill -9: offset %d, last acknowledged %d", got, last)
	}
}
