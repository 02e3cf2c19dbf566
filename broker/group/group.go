package group

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topics is the coordinator's view of the broker's partitions.
//
// The coordinator never calls it while holding its own lock, and an
// implementation must not call back into the coordinator.
type Topics interface {
	// PartitionEnd returns the log end offset of topic/partition and
	// whether that partition exists.
	PartitionEnd(topic string, partition int32) (end int64, ok bool)
}

// Config configures a Coordinator. Zero durations take Kafka's defaults,
// except InitialRebalanceDelay, where zero means no delay.
type Config struct {
	// Dir holds the coordinator's durable state; created if missing.
	Dir string
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound what members may ask
	// for (group.min.session.timeout.ms, group.max.session.timeout.ms;
	// defaults 6s and 30m).
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// OffsetsRetention is offsets.retention.minutes: committed offsets of
	// a group that has been empty this long are expired (default 7 days).
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms
	// (default 10m).
	OffsetsRetentionCheckInterval time.Duration
	// MaxMetadataSize is offset.metadata.max.bytes; zero allows only
	// empty metadata, a negative value takes Kafka's default, 4096.
	MaxMetadataSize int
	// Topics tells which partitions exist; nil accepts every partition.
	Topics Topics
	// OffsetsTopic, if set, receives every change of the committed
	// offsets and group metadata in Kafka's __consumer_offsets formats
	// (see OffsetsTopic); the offsets log in Dir stays the source of
	// truth.
	OffsetsTopic OffsetsTopic
	// Logger receives the coordinator's logs; nil discards them.
	Logger *slog.Logger
}

const (
	defaultMinSession        = 6 * time.Second
	defaultMaxSession        = 30 * time.Minute
	defaultRetention         = 7 * 24 * time.Hour
	defaultRetentionInterval = 10 * time.Minute
	defaultMaxMetadata       = 4096
	// compactSlack is how far the offsets log may grow beyond twice its
	// live size before it is rewritten.
	compactSlack = 16 << 20
)

func (cfg *Config) setDefaults() {
	if cfg.MinSessionTimeout <= 0 {
		cfg.MinSessionTimeout = defaultMinSession
	}
	if cfg.MaxSessionTimeout <= 0 {
		cfg.MaxSessionTimeout = defaultMaxSession
	}
	if cfg.OffsetsRetention <= 0 {
		cfg.OffsetsRetention = defaultRetention
	}
	if cfg.OffsetsRetentionCheckInterval <= 0 {
		cfg.OffsetsRetentionCheckInterval = defaultRetentionInterval
	}
	if cfg.MaxMetadataSize < 0 {
		cfg.MaxMetadataSize = defaultMaxMetadata
	}
	if cfg.InitialRebalanceDelay < 0 {
		cfg.InitialRebalanceDelay = 0
	}
}

// Coordinator coordinates every group of one broker.
//
// One mutex, mu, owns all group state: the groups map, every group and
// member in it, the scheduler's timers and the in-memory committed offsets.
// Request handlers, the timer goroutine (timerLoop) and the offsets log
// writer goroutine (writeLoop, when it applies records that are on disk)
// all take mu. Nothing waits while holding mu: fsyncs happen in the writer
// outside it, and a parked JoinGroup or SyncGroup waits on its own channel.
// Close stops both goroutines and waits for them.
type Coordinator struct {
	cfg   Config
	log   *slog.Logger
	clk   clock
	hooks *testHooks
	newID func(prefix string) string

	mu     sync.Mutex
	groups map[string]*group
	sched  scheduler
	closed bool

	olog *offsetLog
	// view is what the offsets topic says for each group's keys (nil
	// without Config.OffsetsTopic); guarded by mu.
	view map[string]viewGroup

	stopTimers chan struct{}
	timerDone  sync.WaitGroup
	writerDone sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// APIVersions returns, for each API key the coordinator serves, the lowest
// and highest version it implements.
func APIVersions() map[int16][2]int16 {
	return map[int16][2]int16{
		int16(kmsg.OffsetCommit):   {0, 9},
		int16(kmsg.OffsetFetch):    {0, 9},
		int16(kmsg.JoinGroup):      {0, 9},
		int16(kmsg.Heartbeat):      {0, 4},
		int16(kmsg.LeaveGroup):     {0, 5},
		int16(kmsg.SyncGroup):      {0, 5},
		int16(kmsg.DescribeGroups): {0, 6},
		int16(kmsg.ListGroups):     {0, 5},
		int16(kmsg.DeleteGroups):   {0, 3},
		int16(kmsg.OffsetDelete):   {0, 0},
	}
}

// testHooks let the package's tests see requests park and get answered.
type testHooks struct {
	// tag names the request of ctx; it is handed to parked and replied.
	tag func(ctx context.Context) any
	// parked runs, without mu, when a request starts waiting.
	parked func(tag any)
	// replied runs, with mu held, when a parked request is answered.
	replied func(tag any)
}

// openOptions are the knobs only tests turn.
type openOptions struct {
	clk   clock // nil: wall clock and a timer goroutine
	hooks *testHooks
	newID func(prefix string) string
	slack int64 // 0: compactSlack
	// beforeSync runs in the writer before each fsync of a batch.
	beforeSync func()
	// writeFault, if set, is asked before each write (sync false) and
	// fsync (sync true) of a batch; an error it returns is that call's,
	// after partial bytes of the batch were written.
	writeFault func(sync bool, size int) (partial int, err error)
}

// Open loads the persisted state from cfg.Dir and starts the coordinator.
func Open(cfg Config) (*Coordinator, error) {
	return open(cfg, openOptions{})
}

func open(cfg Config, o openOptions) (*Coordinator, error) {
	cfg.setDefaults()
	if cfg.Dir == "" {
		return nil, fmt.Errorf("group: Config.Dir is empty")
	}
	if _, err := os.Stat(cfg.Dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("group: %w", err)
		}
		// The new directory's entry must be durable before anything
		// in it is acknowledged.
		if err := syncDir(filepath.Dir(cfg.Dir)); err != nil {
			return nil, fmt.Errorf("group: %w", err)
		}
	}
	c := &Coordinator{
		cfg:    cfg,
		log:    cfg.Logger,
		clk:    o.clk,
		hooks:  o.hooks,
		newID:  o.newID,
		groups: make(map[string]*group),
		sched:  newScheduler(),
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.clk == nil {
		c.clk = wallClock{}
	}
	if c.newID == nil {
		c.newID = randomMemberID
	}
	slack := o.slack
	if slack == 0 {
		slack = compactSlack
	}

	recs, dropped, err := readLogFile(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	if dropped > 0 {
		c.log.Warn("offsets log: dropped torn or corrupt tail", "dir", cfg.Dir, "bytes", dropped)
	}
	now := c.clk.Now()
	for i := range recs {
		c.apply(&recs[i], true)
	}
	for _, g := range c.groups {
		// The members of a group that was active when the broker
		// stopped are gone; it has been empty since now.
		if g.emptySince.IsZero() {
			g.emptySince = now
		}
	}
	c.olog, err = openLog(cfg.Dir, c.snapshot(), slack)
	if err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	c.olog.beforeSync = o.beforeSync
	c.olog.fault = o.writeFault
	c.log.Info("group coordinator loaded", "dir", cfg.Dir, "groups", len(c.groups), "records", len(recs))
	if cfg.OffsetsTopic != nil {
		c.loadView()
	}

	c.writerDone.Add(1)
	go func() {
		defer c.writerDone.Done()
		c.writeLoop()
	}()
	c.mu.Lock()
	c.scheduleRetention()
	c.mu.Unlock()
	if o.clk == nil {
		c.stopTimers = make(chan struct{})
		c.timerDone.Add(1)
		go func() {
			defer c.timerDone.Done()
			c.timerLoop(c.stopTimers)
		}()
	}
	return c, nil
}

// randomMemberID is Kafka's member id: the client id (or instance id) and
// a random UUID.
func randomMemberID(prefix string) string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%s-%x-%x-%x-%x-%x", prefix, u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

type clientKey struct{}

type clientInfo struct{ id, host string }

// WithClient returns a context carrying the client id of a request's header
// and the address of the client's host (an IP). Handle records them for the
// members a JoinGroup creates, as DescribeGroups reports them; the broker
// wraps each request's context with it.
func WithClient(ctx context.Context, clientID, host string) context.Context {
	if host != "" && !strings.HasPrefix(host, "/") {
		host = "/" + host
	}
	return context.WithValue(ctx, clientKey{}, clientInfo{clientID, host})
}

func clientOf(ctx context.Context) clientInfo {
	ci, _ := ctx.Value(clientKey{}).(clientInfo)
	return ci
}

// Handle serves one request of an API key listed by APIVersions, at the
// request's version, and returns the response at the same version. It may
// block (JoinGroup and SyncGroup wait for the rebalance) until ctx is done;
// ctx ends when the client's connection closes or the broker stops. A
// request at a version outside APIVersions is answered with
// UNSUPPORTED_VERSION; a request of another API gets nil.
func (c *Coordinator) Handle(ctx context.Context, req kmsg.Request) kmsg.Response {
	if vr, ok := APIVersions()[req.Key()]; !ok {
		return nil
	} else if v := req.GetVersion(); v < vr[0] || v > vr[1] {
		return errorResponse(req, kerr.UnsupportedVersion.Code)
	}
	switch r := req.(type) {
	case *kmsg.OffsetCommitRequest:
		return c.offsetCommit(ctx, r)
	case *kmsg.OffsetFetchRequest:
		return c.offsetFetch(r)
	case *kmsg.JoinGroupRequest:
		return c.joinGroup(ctx, r)
	case *kmsg.HeartbeatRequest:
		return c.heartbeat(r)
	case *kmsg.LeaveGroupRequest:
		return c.leaveGroup(r)
	case *kmsg.SyncGroupRequest:
		return c.syncGroup(ctx, r)
	case *kmsg.DescribeGroupsRequest:
		return c.describeGroups(r)
	case *kmsg.ListGroupsRequest:
		return c.listGroups(r)
	case *kmsg.DeleteGroupsRequest:
		return c.deleteGroups(ctx, r)
	case *kmsg.OffsetDeleteRequest:
		return c.offsetDelete(ctx, r)
	}
	return nil
}

// errorResponse answers req with code everywhere the response has an error
// code (every partition, group or member of the request).
func errorResponse(req kmsg.Request, code int16) kmsg.Response {
	switch r := req.(type) {
	case *kmsg.OffsetCommitRequest:
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, t := range r.Topics {
			rt := kmsg.NewOffsetCommitResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetCommitResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	case *kmsg.OffsetFetchRequest:
		resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
		if r.Version >= 8 {
			for _, g := range r.Groups {
				rg := kmsg.NewOffsetFetchResponseGroup()
				rg.Group = g.Group
				rg.ErrorCode = code
				resp.Groups = append(resp.Groups, rg)
			}
			return resp
		}
		resp.ErrorCode = code
		if r.Version < 2 {
			for _, t := range r.Topics {
				rt := kmsg.NewOffsetFetchResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewOffsetFetchResponseTopicPartition()
					rp.Partition = p
					rp.Offset = -1
					rp.ErrorCode = code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
		}
		return resp
	case *kmsg.JoinGroupRequest:
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = code
		resp.MemberID = r.MemberID
		return resp
	case *kmsg.HeartbeatRequest:
		resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = code
		return resp
	case *kmsg.LeaveGroupRequest:
		resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
		resp.ErrorCode = code
		return resp
	case *kmsg.SyncGroupRequest:
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = code
		return resp
	case *kmsg.DescribeGroupsRequest:
		resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, g := range r.Groups {
			rg := kmsg.NewDescribeGroupsResponseGroup()
			rg.Group = g
			rg.ErrorCode = code
			resp.Groups = append(resp.Groups, rg)
		}
		return resp
	case *kmsg.ListGroupsRequest:
		resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
		resp.ErrorCode = code
		return resp
	case *kmsg.DeleteGroupsRequest:
		resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
		for _, g := range r.Groups {
			rg := kmsg.NewDeleteGroupsResponseGroup()
			rg.Group = g
			rg.ErrorCode = code
			resp.Groups = append(resp.Groups, rg)
		}
		return resp
	case *kmsg.OffsetDeleteRequest:
		resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
		resp.ErrorCode = code
		return resp
	}
	return nil
}

// TopicDeleted forgets the committed offsets of a deleted topic. It returns
// once that is on disk.
func (c *Coordinator) TopicDeleted(topic string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	b := c.olog.append(record{kind: kindDeleteTopic, topic: topic})
	c.mu.Unlock()
	<-b.done
	if b.err != nil {
		c.log.Error("forget offsets of deleted topic", "topic", topic, "err", b.err)
	}
}

// Close stops the coordinator and makes its state durable. It is idempotent.
// Parked JoinGroup and SyncGroup requests are answered with NOT_COORDINATOR.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.sched.stopAll()
		for _, g := range c.groups {
			for _, m := range g.members {
				if m.joinWait != nil {
					c.replyJoinError(m.joinWait, kerr.NotCoordinator.Code, m.id)
				}
				if m.syncWait != nil {
					c.replySyncError(m.syncWait, kerr.NotCoordinator.Code)
				}
			}
		}
		c.mu.Unlock()
		if c.stopTimers != nil {
			close(c.stopTimers)
			c.timerDone.Wait()
		}
		c.closeErr = c.closeLog()
		if c.closeErr != nil {
			c.closeErr = fmt.Errorf("group: %w", c.closeErr)
		}
	})
	return c.closeErr
}
