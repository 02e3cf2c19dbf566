package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/broker/group"
	"github.com/tributary-io/tributary/broker/storage"
	"github.com/tributary-io/tributary/broker/txn"
	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/config/filelock"
)

// Broker is a single-node Kafka broker. Topic metadata is owned by metaMu:
// every change (create, delete, alter, add partitions) happens under it
// and publishes a new immutable topicMap that request handlers read
// without locking. Each partition's appends are serialised by its log.
type Broker struct {
	cfg      Config
	log      *slog.Logger
	versions map[int16]apiVersion
	dirLocks []*filelock.Lock // one per log dir, held from start to shutdown

	metaMu    sync.Mutex // serialises topic metadata changes and topics.json
	topicSnap atomic.Pointer[topicMap]

	clusterID string
	// foldCase: some log dir's file system ignores case in names.
	foldCase bool
	// failedDirs are the log dirs that failed on start-up (offline, as
	// Kafka says), with the cause; set before the topics are published,
	// never changed after. Nothing is written to them.
	failedDirs map[string]error
	pids       *producerIDs
	coord      *group.Coordinator
	// txns is the transaction coordinator (txnmarkers.go writes for it).
	txns *txn.Coordinator
	// sessions are the fetch sessions (KIP-227, fetchsession.go).
	sessions *fetchSessionCache

	ctx    context.Context // cancelled by Close: ends connections and loops
	cancel context.CancelFunc

	listeners []*listener
	acceptWG  sync.WaitGroup

	connMu sync.Mutex // guards conns, connCount, perIP, connFreed
	conns  map[*conn]struct{}
	// connCount counts open connections and accepts reserved for
	// max.connections; perIP counts open connections by client address.
	connCount int
	perIP     map[string]int
	// connFreed, when a listener waits for a slot, is closed (and
	// replaced) as a connection ends.
	connFreed chan struct{}
	// perIPLimit is max.connections.per.ip.overrides with host names
	// resolved.
	perIPLimit map[string]int
	connWG     sync.WaitGroup
	// stopAccept is closed when Close starts: listeners waiting for a
	// connection slot give up.
	stopAccept chan struct{}

	bgWG sync.WaitGroup // the maintenance loop and folder removals

	// metrics are the traffic counters and the metrics listener
	// (metrics.go).
	metrics *brokerMetrics

	state     atomic.Int32 // 0 new, 1 started, 2 closed
	closeOnce sync.Once
	closeErr  error
}

// New checks cfg and returns a broker that Start will open.
func New(cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.values == nil {
		v, err := Definitions().Parse(config.FromMap("defaults", nil))
		if err != nil {
			return nil, err
		}
		cfg.values = v
	}
	if cfg.quotas == nil {
		cfg.quotas = newQuotaStore("")
	}
	if cfg.topicDefaultKeys == nil {
		cfg.topicDefaultKeys = map[string]string{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Broker{
		cfg:        cfg,
		log:        log,
		versions:   buildVersions(cfg.EmulateVersion),
		conns:      map[*conn]struct{}{},
		perIP:      map[string]int{},
		stopAccept: make(chan struct{}),
		sessions:   newFetchSessionCache(cfg.values.Int("max.incremental.fetch.session.cache.slots")),
	}
	b.topicSnap.Store(&topicMap{byName: map[string]*topic{}, byID: map[[16]byte]*topic{}})
	b.metrics = newBrokerMetrics(b)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// Start recovers the partition logs, opens the group coordinator and
// binds the listeners. It returns once clients can connect.
func (b *Broker) Start(ctx context.Context) error {
	if !b.state.CompareAndSwap(0, 1) {
		return errors.New("broker: Start called twice or after Close")
	}
	if err := b.start(ctx); err != nil {
		b.shutdown(context.Background())
		return err
	}
	return nil
}

func (b *Broker) start(ctx context.Context) error {
	clean := map[string]bool{}
	points := map[string]map[string]int64{}
	for _, dir := range b.cfg.LogDirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("log dir: %w", err)
		}
		if err := b.lockDir(dir); err != nil {
			return err
		}
		_, err := os.Stat(filepath.Join(dir, cleanShutdownFile))
		clean[dir] = err == nil
		points[dir] = readCheckpoint(dir)
		fold, err := caseInsensitive(dir)
		if err != nil {
			return err
		}
		b.foldCase = b.foldCase || fold || b.cfg.assumeCaseInsensitive
		if !clean[dir] {
			if ents, _ := os.ReadDir(dir); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return e.Name() != lockFile }) {
				b.log.Info("log dir was not shut down cleanly; validating recent data", "dir", dir)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	id, err := b.loadClusterID()
	if err != nil {
		return err
	}
	b.clusterID = id
	b.log.Info("broker starting", "node_id", b.cfg.NodeID, "cluster_id", b.clusterID, "log_dirs", b.cfg.LogDirs)
	if err := b.loadTopics(clean, points); err != nil {
		return err
	}
	// From here on the logs may change: the markers must go (but a
	// failed dir is left as it is).
	for _, dir := range b.cfg.LogDirs {
		if clean[dir] && b.failedDirs[dir] == nil {
			if err := os.Remove(filepath.Join(dir, cleanShutdownFile)); err != nil {
				return err
			}
			if err := storage.SyncDir(dir); err != nil {
				return err
			}
		}
	}
	maxPID := int64(-1)
	for _, t := range b.topics().byName {
		for _, p := range t.parts {
			if p.offline == nil {
				maxPID = max(maxPID, p.log.MaxProducerID())
			}
		}
	}
	if b.pids, err = loadProducerIDs(b.cfg.LogDirs[0], maxPID+1); err != nil {
		return err
	}
	b.coord, err = group.Open(group.Config{
		Dir:                           filepath.Join(b.cfg.LogDirs[0], groupDir),
		InitialRebalanceDelay:         b.cfg.GroupInitialRebalanceDelay,
		MinSessionTimeout:             b.cfg.GroupMinSessionTimeout,
		MaxSessionTimeout:             b.cfg.GroupMaxSessionTimeout,
		OffsetsRetention:              b.cfg.OffsetsRetention,
		OffsetsRetentionCheckInterval: b.cfg.OffsetsRetentionCheck,
		MaxMetadataSize:               b.cfg.OffsetMetadataMaxBytes,
		Topics:                        b,
		OffsetsTopic:                  offsetsTopicView{b},
		Logger:                        b.log.With("module", "group"),
	})
	if err != nil {
		return fmt.Errorf("group coordinator: %w", err)
	}
	b.txns, err = txn.Open(txn.Config{
		Dir:            filepath.Join(b.cfg.LogDirs[0], txnDir),
		MaxTimeout:     b.cfg.TxnMaxTimeout,
		AbortInterval:  b.cfg.TxnAbortInterval,
		IDExpiration:   b.cfg.TxnIDExpiration,
		RemoveInterval: b.cfg.TxnRemoveInterval,
		NewProducerID:  b.pids.allocate,
		Participants:   txnParticipants{b},
		Logger:         b.log.With("module", "txn"),
	})
	if err != nil {
		return fmt.Errorf("transaction coordinator: %w", err)
	}
	if err := b.resolveIPLimits(ctx); err != nil {
		return err
	}
	if err := b.listen(ctx); err != nil {
		return err
	}
	if err := b.startMetrics(ctx); err != nil {
		return err
	}
	b.bgWG.Add(1)
	go b.maintain()
	if !b.cfg.CleanerDisabled {
		b.bgWG.Add(1)
		go b.cleanLogs()
	}
	for _, l := range b.listeners {
		b.log.Info("listening", "listener", l.name, "addr", l.bound(), "advertised", l.advertised())
	}
	return nil
}

// Addr is the bound host:port of the first listener.
func (b *Broker) Addr() string {
	if len(b.listeners) == 0 {
		return ""
	}
	return b.listeners[0].bound()
}

// Close stops the broker: it stops accepting connections, closes them
// (waiting for requests in progress until ctx ends), stops the group
// coordinator, fsyncs and closes every log and records a clean shutdown.
// It is idempotent.
func (b *Broker) Close(ctx context.Context) error {
	b.closeOnce.Do(func() {
		b.state.Store(2)
		b.closeErr = b.shutdown(ctx)
	})
	return b.closeErr
}

func (b *Broker) shutdown(ctx context.Context) error {
	select {
	case <-b.stopAccept:
	default:
		close(b.stopAccept)
	}
	for _, l := range b.listeners {
		l.close()
	}
	b.acceptWG.Wait()
	b.stopMetrics(ctx)

	// Let requests in progress finish (an acks=all produce waits for its
	// fsync), then cut the connections.
	b.connMu.Lock()
	for c := range b.conns {
		c.stopReading()
	}
	b.connMu.Unlock()
	done := make(chan struct{})
	go func() { b.connWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	b.cancel()
	<-done
	b.bgWG.Wait()

	var errs []error
	// The transaction coordinator first: it writes to the groups and the
	// logs.
	if b.txns != nil {
		if err := b.txns.Close(); err != nil {
			errs = append(errs, fmt.Errorf("transaction coordinator: %w", err))
		}
	}
	if b.coord != nil {
		if err := b.coord.Close(); err != nil {
			errs = append(errs, fmt.Errorf("group coordinator: %w", err))
		}
	}
	failed := map[string]bool{}
	for dir := range b.failedDirs {
		failed[dir] = true
	}
	for _, t := range b.topics().byName {
		for _, p := range t.parts {
			if p == nil || p.offline != nil {
				continue
			}
			if err := p.log.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s-%d: %w", p.topic, p.index, err))
				failed[p.logDir] = true
			}
		}
	}
	if b.state.Load() == 2 && b.clusterID != "" {
		if err := b.writeCheckpoints(); err != nil {
			errs = append(errs, err)
		}
		for _, dir := range b.cfg.LogDirs {
			if failed[dir] {
				continue
			}
			if err := storage.WriteFileAtomic(dir, cleanShutdownFile, nil); err != nil {
				errs = append(errs, err)
			}
		}
		b.log.Info("broker stopped")
	}
	for _, l := range b.dirLocks {
		l.Release() // last: nothing is written to the dirs after this
	}
	b.dirLocks = nil
	return errors.Join(errs...)
}

// lockFile is held in each log dir for the broker's life, as Kafka does:
// a second broker on the same folder, in another process or this one, is
// refused instead of writing the same logs.
const lockFile = ".lock"

func (b *Broker) lockDir(dir string) error {
	l, err := filelock.Acquire(filepath.Join(dir, lockFile))
	var held *filelock.HeldError
	switch {
	case errors.As(err, &held):
		return fmt.Errorf("log dir %s is in use by another broker (%w); stop that broker, or give this one other log.dirs", dir, err)
	case err != nil:
		return fmt.Errorf("log dir %s: %w", dir, err)
	}
	b.dirLocks = append(b.dirLocks, l)
	return nil
}

// maintain runs the background work: flush.ms and rolled-segment flushes
// every tick, retention every log.retention.check.interval.ms, recovery
// point checkpoints every log.flush.offset.checkpoint.interval.ms.
func (b *Broker) maintain() {
	defer b.bgWG.Done()
	tick := min(time.Second, b.cfg.RetentionCheckInterval, b.cfg.CheckpointInterval)
	t := time.NewTicker(tick)
	defer t.Stop()
	lastRetain, lastCheckpoint := time.Now(), time.Now()
	for {
		select {
		case <-b.ctx.Done():
			return
		case now := <-t.C:
			for _, tp := range b.topics().byName {
				for _, p := range tp.parts {
					if p.offline != nil {
						continue
					}
					if err := p.log.FlushIfDue(now); err != nil {
						b.log.Error("flush failed", "topic", p.topic, "partition", p.index, "err", err)
					}
				}
			}
			if now.Sub(lastRetain) >= b.cfg.RetentionCheckInterval {
				lastRetain = now
				for _, tp := range b.topics().byName {
					for _, p := range tp.parts {
						if p.offline != nil {
							continue
						}
						if _, err := p.log.Retain(now); err != nil {
							b.log.Error("retention failed", "topic", p.topic, "partition", p.index, "err", err)
						}
					}
				}
			}
			if now.Sub(lastCheckpoint) >= b.cfg.CheckpointInterval {
				lastCheckpoint = now
				if err := b.writeCheckpoints(); err != nil {
					b.log.Error("cannot write recovery checkpoint", "err", err)
				}
			}
		}
	}
}

// cleanLogs is the log cleaner (log.cleaner.enable): it compacts the
// partitions of topics whose cleanup.policy includes compact, one at a
// time, and sleeps log.cleaner.backoff.ms whenever a round over them all
// found nothing to clean. It stops when the broker closes.
func (b *Broker) cleanLogs() {
	defer b.bgWG.Done()
	backoff := b.cfg.CleanerBackoff
	if backoff <= 0 {
		backoff = 15 * time.Second
	}
	t := time.NewTimer(backoff)
	defer t.Stop()
	for {
		cleaned := false
		for _, tp := range b.topics().byName {
			for _, p := range tp.parts {
				if b.ctx.Err() != nil {
					return
				}
				if p == nil || p.offline != nil || !p.log.Options().Compact {
					continue
				}
				res, err := p.log.Clean(b.ctx, time.Now(), false)
				if err != nil {
					b.log.Error("log cleaning failed", "topic", p.topic, "partition", p.index, "err", err)
				}
				cleaned = cleaned || (res.Cleaned && res.Segments+res.Removed > 0)
			}
		}
		if cleaned {
			continue
		}
		t.Reset(backoff)
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// trackConn adds (add) or removes a connection whose slot was reserved by
// reserveSlot. Adding fails once the broker is closing or when the
// client's address is at its max.connections.per.ip; the slot is then
// released.
func (b *Broker) trackConn(c *conn, add bool) error {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	if add {
		if b.ctx.Err() != nil {
			b.releaseSlotLocked()
			return errors.New("the broker is closing")
		}
		if limit := b.ipLimit(c.ip); limit >= 0 && b.perIP[c.ip] >= limit {
			b.releaseSlotLocked()
			return fmt.Errorf("%d connections from %s is max.connections.per.ip", limit, c.ip)
		}
		b.perIP[c.ip]++
		b.conns[c] = struct{}{}
		b.connWG.Add(1)
		return nil
	}
	delete(b.conns, c)
	if b.perIP[c.ip]--; b.perIP[c.ip] <= 0 {
		delete(b.perIP, c.ip)
	}
	b.releaseSlotLocked()
	b.connWG.Done()
	return nil
}

// ipLimit is the connection limit of one address; -1 is none.
func (b *Broker) ipLimit(ip string) int {
	if n, ok := b.perIPLimit[ip]; ok {
		return n
	}
	if b.cfg.MaxConnectionsPerIP > 0 {
		return b.cfg.MaxConnectionsPerIP
	}
	return -1
}

// reserveSlot waits until the broker holds fewer than max.connections and
// takes a slot. It returns false once Close has begun.
func (b *Broker) reserveSlot() bool {
	for {
		b.connMu.Lock()
		if b.cfg.MaxConnections <= 0 || b.connCount < b.cfg.MaxConnections {
			b.connCount++
			b.connMu.Unlock()
			return true
		}
		if b.connFreed == nil {
			b.connFreed = make(chan struct{})
		}
		freed := b.connFreed
		b.connMu.Unlock()
		select {
		case <-freed:
		case <-b.stopAccept:
			return false
		}
	}
}

func (b *Broker) releaseSlotLocked() {
	b.connCount--
	if b.connFreed != nil {
		close(b.connFreed)
		b.connFreed = nil
	}
}

// resolveIPLimits turns max.connections.per.ip.overrides into limits by
// address; a host name counts for every address it resolves to.
func (b *Broker) resolveIPLimits(ctx context.Context) error {
	b.perIPLimit = map[string]int{}
	for host, n := range b.cfg.MaxConnectionsPerIPOverrides {
		if ip := net.ParseIP(host); ip != nil {
			b.perIPLimit[ip.String()] = n
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
		cancel()
		if err != nil {
			return fmt.Errorf("max.connections.per.ip.overrides: %s: %w", host, err)
		}
		for _, a := range addrs {
			b.perIPLimit[a.IP.String()] = n
		}
	}
	return nil
}

// listen binds every listener and starts accepting.
func (b *Broker) listen(ctx context.Context) error {
	adv := map[string]Listener{}
	for _, a := range b.cfg.AdvertisedListeners {
		adv[a.Name] = a
	}
	for _, lc := range b.cfg.Listeners {
		l, err := bindListener(ctx, lc, adv[lc.Name], b.log)
		if err != nil {
			return err
		}
		b.listeners = append(b.listeners, l)
	}
	for _, l := range b.listeners {
		for _, nl := range l.nls {
			b.acceptWG.Add(1)
			go b.accept(l, nl)
		}
	}
	return nil
}

func (b *Broker) accept(l *listener, nl net.Listener) {
	defer b.acceptWG.Done()
	var delay time.Duration
	for {
		if !b.reserveSlot() {
			return
		}
		nc, err := nl.Accept()
		if err != nil {
			b.connMu.Lock()
			b.releaseSlotLocked()
			b.connMu.Unlock()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off and retry.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			b.log.Warn("accept failed", "listener", l.name, "err", err)
			select {
			case <-time.After(delay):
				continue
			case <-b.ctx.Done():
				return
			}
		}
		delay = 0
		if l.tls != nil {
			nc = tls.Server(nc, l.tls)
		}
		c := newConn(b, nc, l)
		if err := b.trackConn(c, true); err != nil {
			c.log.Info("closing connection: "+err.Error(), "listener", l.name)
			nc.Close()
			continue
		}
		go c.serve()
	}
}
