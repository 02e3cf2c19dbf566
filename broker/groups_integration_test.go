package broker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/broker"
	"github.com/tributary-io/tributary/config"
)

// groupCluster is what the group suite needs of a cluster: where it
// listens, and a restart that keeps its data (nil if it has none).
type groupCluster struct {
	addr    func() string
	restart func(t *testing.T)
	// session is the session timeout members use when the test needs a
	// member's death noticed quickly.
	session time.Duration
}

// runGroupSuite runs every group test against one cluster, one after the
// other (the restart test would disturb others running alongside).
func runGroupSuite(t *testing.T, gc *groupCluster) {
	t.Run("SplitFranzGo", func(t *testing.T) { testGroupSplitFranz(t, gc) })
	t.Run("SplitSarama", func(t *testing.T) { testGroupSplitSarama(t, gc, sarama.DefaultVersion) })
	// sarama configured for Kafka 0.11 speaks JoinGroup v2, SyncGroup v1,
	// OffsetCommit v3 (with a retention time), OffsetFetch v3.
	t.Run("SplitSaramaKafka0.11", func(t *testing.T) { testGroupSplitSarama(t, gc, sarama.V0_11_0_0) })
	t.Run("HandOverOnLeave", func(t *testing.T) { testGroupHandOver(t, gc, false) })
	t.Run("HandOverOnSessionTimeout", func(t *testing.T) { testGroupHandOver(t, gc, true) })
	t.Run("SecondGroupReadsEverything", func(t *testing.T) { testGroupSecondGroup(t, gc) })
	t.Run("ResumeAtCommitted", func(t *testing.T) { testGroupResume(t, gc) })
	t.Run("CooperativeSticky", func(t *testing.T) { testGroupCooperative(t, gc) })
	t.Run("StaticMemberRestart", func(t *testing.T) { testGroupStatic(t, gc) })
	t.Run("RebalanceUnderLoad", func(t *testing.T) { testGroupUnderLoad(t, gc) })
	t.Run("KcatBalanced", func(t *testing.T) { testGroupKcat(t, gc) })
	t.Run("CommitChecks", func(t *testing.T) { testGroupCommitChecks(t, gc) })
	t.Run("ProtocolAnswers", func(t *testing.T) { testGroupProtocolAnswers(t, gc) })
	if gc.restart != nil {
		t.Run("CommitsSurviveBrokerRestart", func(t *testing.T) { testGroupBrokerRestart(t, gc) })
	}
}

// groupWait polls cond every 10ms until it holds, failing after timeout.
func groupWait(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func groupAdmin(t testing.TB, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func groupCreateTopic(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := groupAdmin(t, addr).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// groupProducer produces records whose values name their partition and
// sequence number: "p<partition>-<n>".
type groupProducer struct {
	t     testing.TB
	cl    *kgo.Client
	topic string
	next  map[int32]int
}

func newGroupProducer(t testing.TB, addr, topic string) *groupProducer {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &groupProducer{t: t, cl: cl, topic: topic, next: map[int32]int{}}
}

// produce writes n records to each of partitions 0..parts-1 and returns
// their values.
func (p *groupProducer) produce(parts int32, n int) []string {
	p.t.Helper()
	var recs []*kgo.Record
	var values []string
	for range n {
		for part := range parts {
			v := fmt.Sprintf("p%d-%d", part, p.next[part])
			p.next[part]++
			recs = append(recs, &kgo.Record{Topic: p.topic, Partition: part, Value: []byte(v)})
			values = append(values, v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		p.t.Fatalf("produce: %v", err)
	}
	return values
}

// groupRecord is one record as a member saw it, with the generation it
// held.
type groupRecord struct {
	member    string
	gen       int32
	partition int32
	offset    int64
	value     string
}

// groupLog collects what members consume.
type groupLog struct {
	mu   sync.Mutex
	recs []groupRecord
}

func (l *groupLog) add(c groupRecord) {
	l.mu.Lock()
	l.recs = append(l.recs, c)
	l.mu.Unlock()
}

func (l *groupLog) snapshot() []groupRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.recs)
}

func (l *groupLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

// distinct returns how many different values were consumed.
func (l *groupLog) distinct() int {
	seen := map[string]bool{}
	for _, c := range l.snapshot() {
		seen[c.value] = true
	}
	return len(seen)
}

// groupFranzMember is a franz-go group consumer that records every record it
// polls with its generation. Rebalances wait while a poll is processed, so
// the generation is the one the records were owned in.
type groupFranzMember struct {
	name   string
	cl     *kgo.Client
	log    *groupLog
	dialer *groupCutDialer
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	assigned map[int32]bool
	revoked  [][]int32
	lost     int
}

type groupFranzOpts struct {
	balancer kgo.GroupBalancer
	session  time.Duration
	die      bool   // the member can be cut off the network
	instance string // group.instance.id: a static member
}

func groupStartFranz(t testing.TB, addr, group, topic, name string, log *groupLog, o groupFranzOpts) *groupFranzMember {
	t.Helper()
	m := &groupFranzMember{name: name, log: log, done: make(chan struct{}), assigned: map[int32]bool{}}
	session := o.session
	if session == 0 {
		session = 10 * time.Second
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ClientID(name),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(session),
		kgo.HeartbeatInterval(session / 10),
		kgo.RebalanceTimeout(10 * time.Second),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			for _, p := range a[topic] {
				m.assigned[p] = true
			}
			m.mu.Unlock()
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			// Everything polled has been processed (rebalances wait
			// for AllowRebalance), so commit it all before giving
			// partitions up.
			if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "%s: commit on revoke: %v\n", name, err)
			}
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.assigned, p)
			}
			m.revoked = append(m.revoked, slices.Clone(r[topic]))
			m.mu.Unlock()
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			m.mu.Lock()
			for _, p := range l[topic] {
				delete(m.assigned, p)
			}
			m.lost++
			m.mu.Unlock()
		}),
	}
	if o.balancer != nil {
		opts = append(opts, kgo.Balancers(o.balancer))
	}
	if o.instance != "" {
		opts = append(opts, kgo.InstanceID(o.instance))
	}
	if o.die {
		m.dialer = &groupCutDialer{}
		opts = append(opts, kgo.Dialer(m.dialer.dial), kgo.RetryTimeout(time.Second), kgo.RequestRetries(1))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go m.run(ctx)
	t.Cleanup(m.stop)
	return m
}

func (m *groupFranzMember) run(ctx context.Context) {
	defer close(m.done)
	for {
		fs := m.cl.PollFetches(ctx)
		// A poll can return records even as ctx ends; they count as
		// polled (and are committed on close), so they are consumed.
		_, gen := m.cl.GroupMetadata()
		fs.EachRecord(func(r *kgo.Record) {
			m.log.add(groupRecord{member: m.name, gen: gen, partition: r.Partition, offset: r.Offset, value: string(r.Value)})
		})
		m.cl.AllowRebalance()
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
	}
}

// stop stops polling and closes the client, which commits and leaves the
// group. It is idempotent.
func (m *groupFranzMember) stop() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

func (m *groupFranzMember) owned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.assigned {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// groupCutDialer dials normally until kill, which closes every connection it
// made and fails every later dial: to the broker, the member died.
type groupCutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (d *groupCutDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("cut off")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *groupCutDialer) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		c.Close()
	}
}

// groupStable waits until the members own disjoint partitions that cover
// 0..parts-1, each member at least one, all in the same generation, and
// the group is Stable with exactly these members.
func groupStable(t testing.TB, addr, group string, parts int32, members ...*groupFranzMember) {
	t.Helper()
	adm := groupAdmin(t, addr)
	groupWait(t, 30*time.Second, "members to split the partitions", func() bool {
		owner := map[int32]string{}
		var gen int32 = -1
		for _, m := range members {
			ps := m.owned()
			if len(ps) == 0 {
				return false
			}
			_, g := m.cl.GroupMetadata()
			if gen >= 0 && g != gen {
				return false
			}
			gen = g
			for _, p := range ps {
				if _, dup := owner[p]; dup {
					return false
				}
				owner[p] = m.name
			}
		}
		if len(owner) != int(parts) {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dg, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false
		}
		d := dg[group]
		return d.Err == nil && d.State == "Stable" && len(d.Members) == len(members)
	})
}

// groupCheckExactlyOnce checks that every value was consumed exactly once,
// and each partition by one member only.
func groupCheckExactlyOnce(t testing.TB, recs []groupRecord, want []string) {
	t.Helper()
	count := map[string]int{}
	owner := map[int32]string{}
	for _, c := range recs {
		count[c.value]++
		if o, ok := owner[c.partition]; ok && o != c.member {
			t.Errorf("partition %d consumed by %s and %s", c.partition, o, c.member)
		}
		owner[c.partition] = c.member
	}
	for _, v := range want {
		if count[v] != 1 {
			t.Errorf("record %s consumed %d times", v, count[v])
		}
	}
	if len(count) != len(want) {
		t.Errorf("consumed %d distinct records, produced %d", len(count), len(want))
	}
}

// Two franz-go members of one group split a 4-partition topic: each
// partition is owned by one member, each record consumed once.
func testGroupSplitFranz(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-split-franz", "grp-split-franz"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	log := &groupLog{}
	o := groupFranzOpts{balancer: kgo.RangeBalancer()}
	a := groupStartFranz(t, addr, group, topic, "a", log, o)
	b := groupStartFranz(t, addr, group, topic, "b", log, o)
	groupStable(t, addr, group, 4, a, b)
	want := newGroupProducer(t, addr, topic).produce(4, 100)
	groupWait(t, 30*time.Second, "400 records", func() bool { return log.count() >= len(want) })
	groupCheckExactlyOnce(t, log.snapshot(), want)
	if pa, pb := a.owned(), b.owned(); len(pa) != 2 || len(pb) != 2 {
		t.Errorf("range split 4 partitions as %v and %v", pa, pb)
	}
}

// groupSaramaMember is a sarama ConsumerGroup member.
type groupSaramaMember struct {
	name   string
	group  sarama.ConsumerGroup
	log    *groupLog
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	claims []int32
	gen    int32
}

func (m *groupSaramaMember) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims = nil
	for _, ps := range s.Claims() {
		m.claims = append(m.claims, ps...)
	}
	m.gen = s.GenerationID()
	return nil
}

func (m *groupSaramaMember) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *groupSaramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		m.log.add(groupRecord{member: m.name, gen: s.GenerationID(), partition: msg.Partition, offset: msg.Offset, value: string(msg.Value)})
		s.MarkMessage(msg, "")
	}
	return nil
}

func (m *groupSaramaMember) owned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(slices.Values(m.claims))
}

func groupStartSarama(t testing.TB, addr, group, topic, name string, log *groupLog, version sarama.KafkaVersion) *groupSaramaMember {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = version
	cfg.ClientID = name
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := &groupSaramaMember{name: name, group: g, log: log, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, m); err != nil && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "sarama %s: %v\n", name, err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-m.done
		g.Close()
	})
	return m
}

// Two sarama ConsumerGroup members split a 4-partition topic.
func testGroupSplitSarama(t *testing.T, gc *groupCluster, version sarama.KafkaVersion) {
	topic := "grp-split-sarama-" + version.String()
	group := topic
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	log := &groupLog{}
	a := groupStartSarama(t, addr, group, topic, "sa", log, version)
	b := groupStartSarama(t, addr, group, topic, "sb", log, version)
	adm := groupAdmin(t, addr)
	groupWait(t, 30*time.Second, "two sarama members to split the partitions", func() bool {
		pa, pb := a.owned(), b.owned()
		if len(pa) != 2 || len(pb) != 2 {
			return false
		}
		a.mu.Lock()
		ga := a.gen
		a.mu.Unlock()
		b.mu.Lock()
		gb := b.gen
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dg, err := adm.DescribeGroups(ctx, group)
		return ga == gb && err == nil && dg[group].State == "Stable" && len(dg[group].Members) == 2
	})
	want := newGroupProducer(t, addr, topic).produce(4, 100)
	groupWait(t, 30*time.Second, "400 records", func() bool { return log.count() >= len(want) })
	groupCheckExactlyOnce(t, log.snapshot(), want)
	if got := append(a.owned(), b.owned()...); len(got) != 4 {
		t.Errorf("claims %v and %v", a.owned(), b.owned())
	}
}

// A member that leaves (or dies and misses its session timeout) hands its
// partitions to the other, which continues from the committed offsets:
// nothing is skipped.
func testGroupHandOver(t *testing.T, gc *groupCluster, die bool) {
	topic := "grp-handover-leave"
	if die {
		topic = "grp-handover-die"
	}
	group := topic
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	log := &groupLog{}
	o := groupFranzOpts{balancer: kgo.RangeBalancer(), session: gc.session}
	a := groupStartFranz(t, addr, group, topic, "a", log, o)
	o.die = die
	b := groupStartFranz(t, addr, group, topic, "b", log, o)
	groupStable(t, addr, group, 4, a, b)
	p := newGroupProducer(t, addr, topic)
	want := p.produce(4, 50)
	groupWait(t, 30*time.Second, "first 200 records", func() bool { return log.distinct() >= len(want) })

	start := time.Now()
	if die {
		b.dialer.kill()
	} else {
		b.stop()
	}
	groupWait(t, 30*time.Second, "a to own all partitions", func() bool { return len(a.owned()) == 4 })
	t.Logf("hand-over took %v", time.Since(start).Round(time.Millisecond))
	want = append(want, p.produce(4, 50)...)
	groupWait(t, 30*time.Second, "all 400 records", func() bool { return log.distinct() >= len(want) })
	seen := map[string]bool{}
	for _, c := range log.snapshot() {
		seen[c.value] = true
	}
	for _, v := range want {
		if !seen[v] {
			t.Errorf("record %s never consumed", v)
		}
	}
	if die {
		// b is gone from the group although it never left.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dg, err := groupAdmin(t, addr).DescribeGroups(ctx, group)
		if err != nil || len(dg[group].Members) != 1 {
			t.Errorf("after b died the group has %d members (%v)", len(dg[group].Members), err)
		}
	}
}

// A second group reads every record, whatever the first group does.
func testGroupSecondGroup(t *testing.T, gc *groupCluster) {
	const topic = "grp-two-groups"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	want := newGroupProducer(t, addr, topic).produce(4, 50)
	log1, log2 := &groupLog{}, &groupLog{}
	o := groupFranzOpts{balancer: kgo.RoundRobinBalancer()}
	groupStartFranz(t, addr, "grp-two-1", topic, "a", log1, o)
	groupStartFranz(t, addr, "grp-two-1", topic, "b", log1, o)
	groupStartFranz(t, addr, "grp-two-2", topic, "c", log2, o)
	groupWait(t, 30*time.Second, "both groups to read everything", func() bool {
		return log1.distinct() >= len(want) && log2.distinct() >= len(want)
	})
	groupCheckExactlyOnce(t, log2.snapshot(), want)
}

// A consumer commits, stops, and a new one in the same group resumes at
// the committed offsets.
func testGroupResume(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-resume", "grp-resume"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 2)
	p := newGroupProducer(t, addr, topic)
	first := p.produce(2, 30)
	log := &groupLog{}
	a := groupStartFranz(t, addr, group, topic, "a", log, groupFranzOpts{})
	groupWait(t, 30*time.Second, "first records", func() bool { return log.distinct() >= len(first) })
	a.stop() // commits what it polled and leaves

	committed := groupCommitted(t, addr, group, topic)
	if committed[0] != 30 || committed[1] != 30 {
		t.Fatalf("committed %v, want 30 on both partitions", committed)
	}
	second := p.produce(2, 20)
	log2 := &groupLog{}
	groupStartFranz(t, addr, group, topic, "b", log2, groupFranzOpts{})
	groupWait(t, 30*time.Second, "the new records", func() bool { return log2.distinct() >= len(second) })
	groupCheckResumed(t, log2.snapshot(), second, 30)
}

// groupCheckResumed checks that recs are exactly want, starting at offset from
// in every partition.
func groupCheckResumed(t testing.TB, recs []groupRecord, want []string, from int64) {
	t.Helper()
	first := map[int32]int64{}
	got := map[string]bool{}
	for _, c := range recs {
		if f, ok := first[c.partition]; !ok || c.offset < f {
			first[c.partition] = c.offset
		}
		got[c.value] = true
	}
	for p, f := range first {
		if f != from {
			t.Errorf("partition %d resumed at %d, want %d", p, f, from)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resumed consumer read %d records, want %d", len(got), len(want))
	}
}

// groupCommitted returns the group's committed offsets of topic.
func groupCommitted(t testing.TB, addr, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := groupAdmin(t, addr).FetchOffsets(ctx, group)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range offs[topic] {
		out[p] = o.At
	}
	return out
}

// Cooperative-sticky: when a second member joins, the first gives up only
// the partitions that move, and keeps consuming the others throughout.
func testGroupCooperative(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-coop", "grp-coop"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	log := &groupLog{}
	o := groupFranzOpts{balancer: kgo.CooperativeStickyBalancer()}
	a := groupStartFranz(t, addr, group, topic, "a", log, o)
	groupStable(t, addr, group, 4, a)
	p := newGroupProducer(t, addr, topic)
	want := p.produce(4, 50)
	groupWait(t, 30*time.Second, "first records", func() bool { return log.distinct() >= len(want) })

	b := groupStartFranz(t, addr, group, topic, "b", log, o)
	groupStable(t, addr, group, 4, a, b)
	a.mu.Lock()
	revoked, lost := slices.Clone(a.revoked), a.lost
	a.mu.Unlock()
	var moved []int32
	for _, r := range revoked {
		moved = append(moved, r...)
	}
	if len(moved) != 2 || lost != 0 {
		t.Errorf("a revoked %v (lost %d times); want exactly the 2 partitions that moved", revoked, lost)
	}
	for _, p := range b.owned() {
		if !slices.Contains(moved, p) {
			t.Errorf("b owns %d, which a never revoked", p)
		}
	}
	want = append(want, p.produce(4, 50)...)
	groupWait(t, 30*time.Second, "all records", func() bool { return log.distinct() >= len(want) })
	groupCheckGenerations(t, log.snapshot())
}

// groupCheckGenerations checks that within one generation each
// partition was consumed by one member, which never read an offset twice.
func groupCheckGenerations(t testing.TB, recs []groupRecord) {
	t.Helper()
	type key struct {
		gen       int32
		partition int32
	}
	owner := map[key]string{}
	last := map[key]int64{}
	for _, c := range recs {
		k := key{c.gen, c.partition}
		if o, ok := owner[k]; ok && o != c.member {
			t.Errorf("generation %d: partition %d consumed by %s and %s", c.gen, c.partition, o, c.member)
			continue
		}
		owner[k] = c.member
		if l, ok := last[k]; ok && c.offset <= l {
			t.Errorf("generation %d: %s read partition %d offset %d after %d", c.gen, c.member, c.partition, c.offset, l)
		}
		last[k] = c.offset
	}
}

// Four members join and leave while records are produced: within each
// generation no partition is read by two members or twice by one, and no
// record is skipped.
func testGroupUnderLoad(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-load", "grp-load"
	const parts = 8
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, parts)
	log := &groupLog{}
	p := newGroupProducer(t, addr, topic)

	var mu sync.Mutex
	var want []string
	stop := make(chan struct{})
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for {
			select {
			case <-stop:
				return
			default:
			}
			v := p.produce(parts, 5)
			mu.Lock()
			want = append(want, v...)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()

	o := groupFranzOpts{}
	var members []*groupFranzMember
	// change starts or stops a member, then waits until the group has
	// settled on the members left and they have consumed some more.
	change := func(name string) {
		if i := slices.IndexFunc(members, func(m *groupFranzMember) bool { return m.name == name }); i >= 0 {
			members[i].stop()
			members = slices.Delete(members, i, i+1)
		} else {
			members = append(members, groupStartFranz(t, addr, group, topic, name, log, o))
		}
		groupStable(t, addr, group, parts, members...)
		n := log.count()
		groupWait(t, 30*time.Second, "consumption to continue", func() bool { return log.count() > n+40 })
	}
	for _, name := range []string{"m1", "m2", "m3", "m1", "m4", "m2", "m3"} {
		change(name)
	}
	close(stop)
	<-produced
	mu.Lock()
	total := len(want)
	mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for log.distinct() < total {
		if time.Now().After(deadline) {
			groupDiagnose(t, addr, group, topic, log, want, members...)
			t.Fatalf("timed out waiting for all %d records", total)
		}
		time.Sleep(10 * time.Millisecond)
	}

	recs := log.snapshot()
	groupCheckGenerations(t, recs)
	seen := map[string]int{}
	gens := map[int32]bool{}
	for _, c := range recs {
		seen[c.value]++
		gens[c.gen] = true
	}
	dups := 0
	for _, v := range want {
		if seen[v] == 0 {
			t.Errorf("record %s skipped", v)
		}
		dups += max(seen[v]-1, 0)
	}
	t.Logf("%d records in %d generations; %d read again after a hand-over", total, len(gens), dups)
}

// kcat's balanced consumer (librdkafka) with two members splits the
// partitions.
func testGroupKcat(t *testing.T, gc *groupCluster) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed")
	}
	const topic, group = "grp-kcat", "grp-kcat"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type kcatMember struct {
		lines chan string
		cmd   *exec.Cmd
	}
	var ms []*kcatMember
	for range 2 {
		cmd := exec.CommandContext(ctx, kcat, "-b", addr, "-G", group, "-o", "beginning", "-u", "-q",
			"-f", "%p %o %s\n", "-X", "session.timeout.ms=10000", topic)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 10 * time.Second
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		m := &kcatMember{lines: make(chan string, 1000), cmd: cmd}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				m.lines <- sc.Text()
			}
			close(m.lines)
		}()
		ms = append(ms, m)
	}
	defer func() {
		cancel()
		for _, m := range ms {
			m.cmd.Wait()
		}
	}()
	adm := groupAdmin(t, addr)
	groupWait(t, 60*time.Second, "two kcat members in a stable group", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dg, err := adm.DescribeGroups(ctx, group)
		if err != nil || dg[group].State != "Stable" || len(dg[group].Members) != 2 {
			return false
		}
		owned := 0
		for _, m := range dg[group].Members {
			if a, ok := m.Assigned.AsConsumer(); ok {
				for _, t := range a.Topics {
					owned += len(t.Partitions)
				}
			}
		}
		return owned == 4
	})
	want := newGroupProducer(t, addr, topic).produce(4, 50)
	got := map[string]int{}
	byMember := make([]map[int32]bool, len(ms))
	deadline := time.After(30 * time.Second)
	for n := 0; n < len(want); {
		for i, m := range ms {
			select {
			case line, ok := <-m.lines:
				if !ok {
					t.Fatalf("kcat %d exited", i)
				}
				f := strings.Fields(line)
				if len(f) != 3 {
					t.Fatalf("kcat printed %q", line)
				}
				part, _ := strconv.Atoi(f[0])
				if byMember[i] == nil {
					byMember[i] = map[int32]bool{}
				}
				byMember[i][int32(part)] = true
				got[f[2]]++
				n++
			case <-deadline:
				t.Fatalf("kcat members printed %d of %d records", n, len(want))
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	for _, v := range want {
		if got[v] != 1 {
			t.Errorf("record %s printed %d times", v, got[v])
		}
	}
	t.Logf("kcat members printed partitions %v and %v", groupKeys(byMember[0]), groupKeys(byMember[1]))
	for p := range int32(4) {
		if byMember[0][p] == byMember[1][p] {
			t.Errorf("partition %d: printed by both or neither kcat (%v, %v)", p, groupKeys(byMember[0]), groupKeys(byMember[1]))
		}
	}
}

func groupKeys(m map[int32]bool) []int32 {
	var out []int32
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Committed offsets survive a restart of the broker: a consumer commits,
// the broker restarts, the offsets are still there and a new consumer
// resumes at them.
func testGroupBrokerRestart(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-restart", "grp-restart"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 2)
	p := newGroupProducer(t, addr, topic)
	first := p.produce(2, 25)
	log := &groupLog{}
	a := groupStartFranz(t, addr, group, topic, "a", log, groupFranzOpts{})
	groupWait(t, 30*time.Second, "first records", func() bool { return log.distinct() >= len(first) })
	a.stop()
	p.cl.Close()
	before := groupCommitted(t, addr, group, topic)

	gc.restart(t)
	addr = gc.addr()
	after := groupCommitted(t, addr, group, topic)
	if fmt.Sprint(before) != fmt.Sprint(after) || after[0] != 25 || after[1] != 25 {
		t.Fatalf("committed offsets before the restart %v, after %v", before, after)
	}
	second := newGroupProducer(t, addr, topic).produce(2, 10)
	log2 := &groupLog{}
	groupStartFranz(t, addr, group, topic, "b", log2, groupFranzOpts{})
	groupWait(t, 30*time.Second, "the new records", func() bool { return log2.distinct() >= len(second) })
	groupCheckResumed(t, log2.snapshot(), second, 25)
}

// groupBroker runs the real broker on 127.0.0.1:0 with its data in dir.
type groupBroker struct {
	dir string
	b   *broker.Broker
}

func (gb *groupBroker) start(t testing.TB) {
	t.Helper()
	props := map[string]string{
		"listeners":                        "PLAINTEXT://127.0.0.1:0",
		"log.dirs":                         gb.dir,
		"group.initial.rebalance.delay.ms": "0",
		"group.min.session.timeout.ms":     "1000",
	}
	vals, err := broker.Definitions().Parse(config.FromMap("test", props))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := broker.ParseConfig(vals)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	b, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	gb.b = b
}

func (gb *groupBroker) stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := gb.b.Close(ctx); err != nil {
		t.Errorf("close broker: %v", err)
	}
}

// TestIntegrationGroups runs the consumer group suite with real clients
// (franz-go, sarama, kcat if installed) against the bundled broker.
func TestIntegrationGroups(t *testing.T) {
	gb := &groupBroker{dir: t.TempDir()}
	gb.start(t)
	t.Cleanup(func() { gb.stop(t) })
	runGroupSuite(t, &groupCluster{
		addr: func() string { return gb.b.Addr() },
		restart: func(t *testing.T) {
			gb.stop(t)
			gb.start(t)
		},
		session: 2 * time.Second,
	})
}

// TestIntegrationGroupsKfake runs the same suite against kfake, an
// independent implementation of the protocol, to show the tests ask only
// what Kafka does. It takes about 20 seconds under -race, so it runs with
// every `go test`, in CI too.
func TestIntegrationGroupsKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	runGroupSuite(t, &groupCluster{addr: func() string { return c.ListenAddrs()[0] }, session: 2 * time.Second})
}

// What a commit is checked against: a partition that does not exist is
// refused with UNKNOWN_TOPIC_OR_PARTITION; an offset beyond the log end is
// stored as given. Kafka does both, and so does kfake (which the suite also
// runs against); a consumer starting from such an offset resets by its
// auto.offset.reset.
func testGroupCommitChecks(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-commit-checks", "grp-commit-checks"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 1)
	newGroupProducer(t, addr, topic).produce(1, 10)
	adm := groupAdmin(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: 1000, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: topic, Partition: 7, At: 1, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "grp-no-such-topic", Partition: 0, At: 1, LeaderEpoch: -1})
	resp, err := adm.CommitOffsets(ctx, group, offs)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp[topic][0].Err; err != nil {
		t.Errorf("commit beyond the log end: %v; want it stored", err)
	}
	if err := resp[topic][7].Err; !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("commit to partition 7 of a 1-partition topic: %v", err)
	}
	if err := resp["grp-no-such-topic"][0].Err; !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("commit to a topic that does not exist: %v", err)
	}
	if got := groupCommitted(t, addr, group, topic); got[0] != 1000 || len(got) != 1 {
		t.Errorf("committed %v, want partition 0 at 1000", got)
	}
	// The group's consumer finds 1000 out of range and starts over from
	// the earliest offset, as its reset policy says.
	log := &groupLog{}
	groupStartFranz(t, addr, group, topic, "a", log, groupFranzOpts{})
	groupWait(t, 30*time.Second, "the 10 records", func() bool { return log.distinct() >= 10 })
}

// A static member (group.instance.id) that restarts gets its partitions
// back without a rebalance: same generation, nothing revoked from the
// other member, and it resumes where it committed. The member restarted is
// a follower: a restarted franz-go leader, told to skip the assignment
// (KIP-814), computes one anyway and rejoins when it differs from the one
// the group kept, which it did here against kfake as against this broker.
func testGroupStatic(t *testing.T, gc *groupCluster) {
	const topic, group = "grp-static", "grp-static"
	addr := gc.addr()
	groupCreateTopic(t, addr, topic, 4)
	log := &groupLog{}
	o := groupFranzOpts{balancer: kgo.RangeBalancer(), instance: "ia"}
	a := groupStartFranz(t, addr, group, topic, "a", log, o)
	groupStable(t, addr, group, 4, a) // a leads
	o.instance = "ib"
	b := groupStartFranz(t, addr, group, topic, "b", log, o)
	groupStable(t, addr, group, 4, a, b)
	p := newGroupProducer(t, addr, topic)
	want := p.produce(4, 25)
	groupWait(t, 30*time.Second, "first records", func() bool { return log.distinct() >= len(want) })
	owned := b.owned()
	_, gen := b.cl.GroupMetadata()
	a.mu.Lock()
	revokedBefore := len(a.revoked)
	a.mu.Unlock()

	b.stop() // a static member does not leave the group when it closes
	b2 := groupStartFranz(t, addr, group, topic, "b", log, o)
	groupWait(t, 30*time.Second, "the restarted member to get its partitions back", func() bool {
		return slices.Equal(b2.owned(), owned)
	})
	if _, g := b2.cl.GroupMetadata(); g != gen {
		t.Errorf("generation %d after the static restart, %d before: the group rebalanced", g, gen)
	}
	a.mu.Lock()
	if len(a.revoked) != revokedBefore {
		t.Errorf("a had partitions revoked during the static restart: %v", a.revoked[revokedBefore:])
	}
	a.mu.Unlock()
	want = append(want, p.produce(4, 25)...)
	groupWait(t, 30*time.Second, "all records", func() bool { return log.distinct() >= len(want) })
	groupCheckExactlyOnce(t, log.snapshot(), want)
}

// groupDiagnose logs, when a test times out, which records were never
// consumed, what each member owns and what the group looks like.
func groupDiagnose(t testing.TB, addr, group, topic string, log *groupLog, want []string, members ...*groupFranzMember) {
	t.Helper()
	seen := map[string]bool{}
	last := map[int32]groupRecord{}
	for _, c := range log.snapshot() {
		seen[c.value] = true
		if l, ok := last[c.partition]; !ok || c.offset > l.offset {
			last[c.partition] = c
		}
	}
	missing := map[string][]string{}
	for _, v := range want {
		if !seen[v] {
			p, _, _ := strings.Cut(v, "-")
			missing[p] = append(missing[p], v)
		}
	}
	for p, vs := range missing {
		t.Logf("partition %s: %d records never consumed, first %s, last %s", p, len(vs), vs[0], vs[len(vs)-1])
	}
	for p, c := range last {
		t.Logf("partition %d: last consumed offset %d by %s in generation %d", p, c.offset, c.member, c.gen)
	}
	for _, m := range members {
		id, gen := m.cl.GroupMetadata()
		t.Logf("member %s (%s, generation %d) owns %v", m.name, id, gen, m.owned())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm := groupAdmin(t, addr)
	if dg, err := adm.DescribeGroups(ctx, group); err == nil {
		d := dg[group]
		t.Logf("group %s: state %s, protocol %s, %d members", group, d.State, d.Protocol, len(d.Members))
		for _, m := range d.Members {
			a, _ := m.Assigned.AsConsumer()
			t.Logf("  %s (%s): %+v", m.MemberID, m.ClientID, a)
		}
	}
	if offs, err := adm.FetchOffsets(ctx, group); err == nil {
		for p, o := range offs[topic] {
			t.Logf("committed %s/%d: %d", topic, p, o.At)
		}
	}
	if ends, err := adm.ListEndOffsets(ctx, topic); err == nil {
		ends.Each(func(o kadm.ListedOffset) { t.Logf("end %s/%d: %d", o.Topic, o.Partition, o.Offset) })
	}
}
