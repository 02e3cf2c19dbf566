package broker

import (
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/broker/storage"
)

// DescribeLogDirs: v0-4
//
// Behavior:
// * One entry per log dir of log.dirs, named by its absolute path, with
//   the requested partitions it holds (null topics: every partition):
//   each with its size in bytes (the sum of its segment files) and offset
//   lag 0 (there is no future replica being moved here).
// * A log dir that failed on start-up is KAFKA_STORAGE_ERROR, with no
//   partitions and unknown (-1) total and usable bytes.
// * Requested topics or partitions that do not exist are left out, as
//   Kafka does.
//
// Not done:
// * IsFuture is always false: partitions are never moved between log dirs
//   (AlterReplicaLogDirs refuses moves, 34_alter_replica_log_dirs.go).
//
// Version notes:
// * v1: no change
// * v2: flexible versions
// * v3: top-level ErrorCode (always 0)
// * v4: TotalBytes and UsableBytes of the log dir's file system (statfs;
//   -1 where unknown)

func handleDescribeLogDirs(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	topics := b.topics()
	// The requested partitions, by topic; nil: all.
	var want map[string]map[int32]bool
	if req.Topics != nil {
		want = map[string]map[int32]bool{}
		for _, rt := range req.Topics {
			if want[rt.Topic] == nil {
				want[rt.Topic] = map[int32]bool{}
			}
			for _, p := range rt.Partitions {
				want[rt.Topic][p] = true
			}
		}
	}
	for _, dir := range b.cfg.LogDirs {
		sd := kmsg.NewDescribeLogDirsResponseDir()
		sd.Dir = dir
		if abs, err := filepath.Abs(dir); err == nil {
			sd.Dir = abs
		}
		sd.TotalBytes, sd.UsableBytes = -1, -1
		if b.failedDirs[dir] != nil {
			sd.ErrorCode = kerr.KafkaStorageError.Code
			resp.Dirs = append(resp.Dirs, sd)
			continue
		}
		if total, usable, err := storage.DiskSpace(dir); err == nil {
			sd.TotalBytes, sd.UsableBytes = total, usable
		}
		for _, name := range topics.sortedNames() {
			parts, listed := want[name]
			if want != nil && !listed {
				continue
			}
			st := kmsg.NewDescribeLogDirsResponseDirTopic()
			st.Topic = name
			for _, p := range topics.byName[name].parts {
				if p.logDir != dir || p.offline != nil || (want != nil && !parts[p.index]) {
					continue
				}
				sp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
				sp.Partition, sp.Size = p.index, p.log.Size()
				st.Partitions = append(st.Partitions, sp)
			}
			if len(st.Partitions) > 0 {
				sd.Topics = append(sd.Topics, st)
			}
		}
		resp.Dirs = append(resp.Dirs, sd)
	}
	return reply{resp: resp}
}
