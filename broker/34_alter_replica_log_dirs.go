package broker

import (
	"fmt"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterReplicaLogDirs: v0-2
//
// Behavior:
// * Each listed partition is checked against the log dir it is asked to
//   live in, in Kafka's order: a topic name too long for the folder name
//   of a moving replica (name-partition.<32 hex>-future over 255 bytes)
//   is INVALID_TOPIC_EXCEPTION; a dir that is not the absolute path of one
//   of log.dirs (as DescribeLogDirs names them) is LOG_DIR_NOT_FOUND; a
//   log dir that failed on start-up, or a partition on one, is
//   KAFKA_STORAGE_ERROR; a partition this broker does not host is
//   REPLICA_NOT_AVAILABLE (Kafka's answer for it here).
// * A partition already in the named log dir succeeds: there is nothing
//   to move.
// * A partition listed twice is answered once, for the last dir named
//   (Kafka reads the request into a map).
// * Needs ALTER on the cluster (authorize.go); without it every partition
//   is CLUSTER_AUTHORIZATION_FAILED.
//
// Not done:
// * Moving a partition to another log dir: such a partition gets
//   KAFKA_STORAGE_ERROR, with a message saying that it stays where it is,
//   never a success. Kafka copies the log into a future replica while the
//   partition is served and swaps them; here the move would have to close
//   the partition's log, copy it through a temporary folder, and change
//   how start-up finds partitions so that a crash mid-move leaves exactly
//   one copy. DescribeLogDirs therefore never shows a future replica.
//
// Version notes:
// * v1: no change
// * v2: flexible versions

// futureDirSuffixLen is the length of what Kafka appends to a partition's
// folder name for a replica being moved: ".<32 hex digits>-future".
const futureDirSuffixLen = 1 + 32 + len("-future")

func handleAlterReplicaLogDirs(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterReplicaLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.AlterReplicaLogDirsResponse)

	// The configured dirs by the absolute path a client is told.
	dirs := map[string]string{}
	for _, d := range b.cfg.LogDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			abs = d
		}
		dirs[abs] = d
	}

	type tp struct {
		topic string
		part  int32
	}
	var order []tp
	dest := map[tp]string{}
	for _, rd := range req.Dirs {
		for _, rt := range rd.Topics {
			for _, p := range rt.Partitions {
				k := tp{rt.Topic, p}
				if _, seen := dest[k]; !seen {
					order = append(order, k)
				}
				dest[k] = rd.Dir
			}
		}
	}

	topics := b.topics()
	byTopic := map[string]int{}
	for _, k := range order {
		code, msg := alterLogDir(b, topics, k.topic, k.part, dest[k], dirs)
		addAlterLogDirsResult(resp, byTopic, k.topic, k.part, code)
		if code != 0 {
			b.log.Info("AlterReplicaLogDirs refused", "topic", k.topic, "partition", k.part, "dir", dest[k], "err", kerr.ErrorForCode(code), "reason", msg)
		}
	}
	return reply{resp: resp}
}

// addAlterLogDirsResult adds one partition's answer under its topic;
// byTopic indexes resp.Topics by name.
func addAlterLogDirsResult(resp *kmsg.AlterReplicaLogDirsResponse, byTopic map[string]int, topic string, part int32, code int16) {
	i, ok := byTopic[topic]
	if !ok {
		i = len(resp.Topics)
		byTopic[topic] = i
		st := kmsg.NewAlterReplicaLogDirsResponseTopic()
		st.Topic = topic
		resp.Topics = append(resp.Topics, st)
	}
	sp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
	sp.Partition, sp.ErrorCode = part, code
	resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, sp)
}

// alterLogDirsRefused answers every partition of req with code, as
// Kafka's getErrorResponse does.
func alterLogDirsRefused(req *kmsg.AlterReplicaLogDirsRequest, code int16) *kmsg.AlterReplicaLogDirsResponse {
	resp := req.ResponseKind().(*kmsg.AlterReplicaLogDirsResponse)
	byTopic := map[string]int{}
	for _, rd := range req.Dirs {
		for _, rt := range rd.Topics {
			for _, p := range rt.Partitions {
				addAlterLogDirsResult(resp, byTopic, rt.Topic, p, code)
			}
		}
	}
	return resp
}

// alterLogDir answers one partition: its error code, and why (logged;
// the response has no message field).
func alterLogDir(b *Broker, topics *topicMap, topic string, part int32, dir string, dirs map[string]string) (int16, string) {
	if len(topic)+1+len(fmt.Sprint(part))+futureDirSuffixLen > 255 {
		return kerr.InvalidTopicException.Code, "The topic name is too long."
	}
	configured, ok := dirs[dir]
	if !ok {
		return kerr.LogDirNotFound.Code, fmt.Sprintf("Log dir %s is not found in the config.", dir)
	}
	if b.failedDirs[configured] != nil {
		return kerr.KafkaStorageError.Code, fmt.Sprintf("Log directory %s is offline", dir)
	}
	t := topics.byName[topic]
	if t == nil || part < 0 || int(part) >= len(t.parts) {
		return kerr.ReplicaNotAvailable.Code, fmt.Sprintf("This broker does not host %s-%d", topic, part)
	}
	p := t.parts[part]
	if p.offline != nil {
		return kerr.KafkaStorageError.Code, p.offline.Error()
	}
	if p.logDir == configured {
		return 0, ""
	}
	return kerr.KafkaStorageError.Code, fmt.Sprintf("moving %s-%d from %s to %s: this broker does not move partitions between log dirs; it stays in %s", topic, part, p.logDir, dir, p.logDir)
}
