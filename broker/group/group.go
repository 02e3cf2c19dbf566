// Package group is the bundled broker's group coordinator: the classic
// consumer group protocol (join, sync, heartbeat, leave), generations and
// member ids, and committed offsets that are persisted under Config.Dir and
// recovered on start-up. It knows nothing of the network: the broker decodes
// each request with kmsg, hands it to Handle, and encodes the response.
package group

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topics is the coordinator's view of the broker's partitions.
type Topics interface {
	// PartitionEnd returns the log end offset of topic/partition and
	// whether that partition exists.
	PartitionEnd(topic string, partition int32) (end int64, ok bool)
}

// Config configures a Coordinator.
type Config struct {
	// Dir holds the coordinator's durable state; created if missing.
	Dir string
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound what members may ask
	// for (group.min.session.timeout.ms, group.max.session.timeout.ms).
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// OffsetsRetention is offsets.retention.minutes: committed offsets of
	// a group that has been empty this long are expired.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms.
	OffsetsRetentionCheckInterval time.Duration
	// MaxMetadataSize is offset.metadata.max.bytes.
	MaxMetadataSize int
	Topics          Topics
	Logger          *slog.Logger
}

// Coordinator coordinates every group of one broker.
type Coordinator struct {
	cfg Config
}

// APIVersions returns, for each API key the coordinator serves, the lowest
// and highest version it implements.
func APIVersions() map[int16][2]int16 {
	return map[int16][2]int16{}
}

// Open loads the persisted state from cfg.Dir and starts the coordinator.
func Open(cfg Config) (*Coordinator, error) {
	return &Coordinator{cfg: cfg}, nil
}

// Handle serves one request of an API key listed by APIVersions, at the
// request's version, and returns the response at the same version. It may
// block (JoinGroup and SyncGroup wait for the rebalance) until ctx is done;
// ctx ends when the client's connection closes or the broker stops.
func (c *Coordinator) Handle(ctx context.Context, req kmsg.Request) kmsg.Response {
	return nil
}

// TopicDeleted forgets the committed offsets of a deleted topic.
func (c *Coordinator) TopicDeleted(topic string) {}

// Close stops the coordinator and makes its state durable. It is idempotent.
func (c *Coordinator) Close() error { return nil }
