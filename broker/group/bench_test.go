package group

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkOffsetCommit measures acknowledged commits of one partition
// each: sequentially (one fsync per commit) and from many goroutines
// (commits share fsyncs).
func BenchmarkOffsetCommit(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		b.Run(fmt.Sprintf("parallel=%v", parallel), func(b *testing.B) {
			c, err := Open(Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(appendRecord(nil, &record{kind: kindCommit, group: "g", topic: "t"}))))
			syncs := c.olog.syncs.Load()
			if !parallel {
				for i := 0; b.Loop(); i++ {
					commit(b, c, "g", "t", 0, int64(i))
				}
			} else {
				b.SetParallelism(16)
				var n atomic.Int32
				b.RunParallel(func(pb *testing.PB) {
					p := n.Add(1)
					for i := int64(0); pb.Next(); i++ {
						commit(b, c, "g", "t", p, i)
					}
				})
			}
			b.ReportMetric(float64(c.olog.syncs.Load()-syncs)/float64(b.N), "fsyncs/op")
		})
	}
}

// BenchmarkHeartbeat measures a heartbeat of a stable member.
func BenchmarkHeartbeat(b *testing.B) {
	c, err := Open(Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	join := mustJoin(b, c, "g", "")
	c.Handle(context.Background(), syncReq("g", join.MemberID, join.Generation, nil))
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation = "g", join.MemberID, join.Generation
	b.ReportAllocs()
	for b.Loop() {
		if resp := c.Handle(context.Background(), req).(*kmsg.HeartbeatResponse); resp.ErrorCode != 0 {
			b.Fatal(resp.ErrorCode)
		}
	}
}
