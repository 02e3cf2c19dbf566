package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func txnCommitReq(group string, pid int64, offset int64) *kmsg.TxnOffsetCommitRequest {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version = 3
	req.TransactionalID = "tx"
	req.Group = group
	req.ProducerID = pid
	req.Generation = -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition = 0
	rp.Offset = offset
	rp.LeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// fetchStable returns the error code and offset OffsetFetch v8 with
// RequireStable gives for t/0 of group.
func fetchStable(t *testing.T, c *Coordinator, group string, stable bool) (int16, int64) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	req.RequireStable = stable
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = group
	rt := kmsg.NewOffsetFetchRequestGroupTopic()
	rt.Topic = "t"
	rt.Partitions = []int32{0}
	rg.Topics = append(rg.Topics, rt)
	req.Groups = append(req.Groups, rg)
	resp := c.Handle(context.Background(), req).(*kmsg.OffsetFetchResponse)
	p := resp.Groups[0].Topics[0].Partitions[0]
	return p.ErrorCode, p.Offset
}

// TestTxnOffsets: offsets committed in a transaction are pending (unstable
// with RequireStable, invisible otherwise) until the transaction ends;
// commit makes them visible, abort drops them; both survive a restart.
func TestTxnOffsets(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	commit := func(pid, off int64) {
		t.Helper()
		resp := c.TxnOffsetCommit(ctx, txnCommitReq("g", pid, off))
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("txn commit: %v", kerr.ErrorForCode(code))
		}
	}
	expect := func(stable bool, code int16, off int64) {
		t.Helper()
		if gc, goff := fetchStable(t, c, "g", stable); gc != code || goff != off {
			t.Fatalf("fetch (stable %v): %v offset %d, want %v offset %d", stable, kerr.ErrorForCode(gc), goff, kerr.ErrorForCode(code), off)
		}
	}
	commit(7, 10)
	expect(true, kerr.UnstableOffsetCommit.Code, -1)
	expect(false, 0, -1)
	if err := c.EndTxn(ctx, 7, true, []string{"g"}); err != nil {
		t.Fatal(err)
	}
	expect(true, 0, 10)

	commit(7, 20)
	// A restart keeps the pending offset pending.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err = Open(Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	expect(true, kerr.UnstableOffsetCommit.Code, -1)
	expect(false, 0, 10)
	if err := c.EndTxn(ctx, 7, false, []string{"g"}); err != nil {
		t.Fatal(err)
	}
	expect(true, 0, 10)
	// Ending again, or a group without pending offsets, is harmless.
	if err := c.EndTxn(ctx, 7, true, []string{"g", "other"}); err != nil {
		t.Fatal(err)
	}
	expect(true, 0, 10)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err = Open(Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect(true, 0, 10)

	// v3+: a commit naming a member must come from one in the group.
	req := txnCommitReq("g", 8, 30)
	req.MemberID, req.Generation = "nobody", 1
	if code := c.TxnOffsetCommit(ctx, req).Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member: %v", kerr.ErrorForCode(code))
	}
	a := mustJoin(t, c, "m", "")
	req = txnCommitReq("m", 8, 30)
	req.MemberID, req.Generation = a.MemberID, a.Generation+1
	if code := c.TxnOffsetCommit(ctx, req).Topics[0].Partitions[0].ErrorCode; code != kerr.IllegalGeneration.Code {
		t.Fatalf("wrong generation: %v", kerr.ErrorForCode(code))
	}
	req.Generation = a.Generation
	if code := c.TxnOffsetCommit(ctx, req).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("member commit: %v", kerr.ErrorForCode(code))
	}
}

// TestTxnOffsetsInOffsetsTopic: the __consumer_offsets view shows an
// offset committed in a transaction once the transaction commits, never
// one whose transaction aborted.
func TestTxnOffsetsInOffsetsTopic(t *testing.T) {
	topic := newMemTopic(4)
	c, err := Open(Config{Dir: t.TempDir(), OffsetsTopic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if code := c.TxnOffsetCommit(ctx, txnCommitReq("v", 3, 42)).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if offs, _ := topic.state(t); len(offs) != 0 {
		t.Fatalf("pending offset in the topic: %v", offs)
	}
	if err := c.EndTxn(ctx, 3, false, []string{"v"}); err != nil {
		t.Fatal(err)
	}
	if offs, _ := topic.state(t); len(offs) != 0 {
		t.Fatalf("aborted offset in the topic: %v", offs)
	}
	if code := c.TxnOffsetCommit(ctx, txnCommitReq("v", 3, 43)).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if err := c.EndTxn(ctx, 3, true, []string{"v"}); err != nil {
		t.Fatal(err)
	}
	if offs, _ := topic.state(t); offs["v/t/0"] != 43 {
		t.Fatalf("committed offset in the topic: %v", offs)
	}
}
