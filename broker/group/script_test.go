package group

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The scripts in testdata/*.txt drive Handle with kmsg requests, step by
// step, in the spirit of etcd's raft datadriven tests. A step is a command
// line, a line "----", and the expected output, ended by a blank line;
// lines starting with # are comments. Run with -update to rewrite the
// expected outputs from what the coordinator answers.
//
// The coordinator runs with a fake clock that moves only on "advance", and
// member ids are <client>-<n>. A JoinGroup or SyncGroup that parks prints
// "parked"; when a later step answers it, that step's output gets a line
// "<name>: <response>".
//
// Commands (defaults in brackets):
//
//	open [initial-delay=0s] [min-session=1s] [max-session=1h] [retention=168h]
//	     [retention-check=10m] [max-metadata=4096] (zero durations: Kafka's defaults)
//	restart                       Close and Open again on the same directory
//	topic NAME partitions=N       a partition that exists (others do not);
//	                              each partition's log end offset is 100
//	topic-deleted NAME            the broker deleted the topic
//	advance DURATION              move the clock; due timers run
//	cancel NAME                   end the context of a parked request
//	join NAME group=G [client=NAME without digits] [member=ID] [instance=ID]
//	     [v=9] [session=10s] [rebalance=20s] [type=consumer]
//	     [protocols=range:t1] (NAME:TOPIC+TOPIC,...; for type consumer the
//	     topics are encoded as consumer protocol metadata, else raw bytes)
//	sync NAME group=G member=ID gen=N [instance=ID] [v=5] [assign=ID:BYTES,...]
//	     [type=T] [protocol=P]
//	heartbeat group=G member=ID gen=N [instance=ID] [v=4]
//	leave group=G [member=ID] [members=ID,instance:ID/MEMBER,...] [v=5]
//	commit group=G [member=ID] [gen=-1] [instance=ID] [v=9]
//	       offsets=TOPIC/P@OFFSET,... [meta=TEXT] [epoch=N] [retention=D] [timestamp=MS]
//	fetch group=G [v=9] [partitions=TOPIC/P,...]   (no partitions: all)
//	fetch v=8 groups=G[:TOPIC/P+TOPIC/P],...
//	describe groups=G,... [v=6] [ops]
//	list [v=5] [states=S,...] [types=T,...]
//	delete-groups groups=G,... [v=3]
//	offset-delete group=G partitions=TOPIC/P,...
var update = flag.Bool("update", false, "rewrite testdata scripts with the actual output")

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			runScript(t, f)
		})
	}
}

type step struct {
	comments []string
	cmd      string
	want     string
	got      string
}

func parseScript(t *testing.T, data string) []step {
	var steps []step
	lines := strings.Split(data, "\n")
	var cur step
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			cur.comments = append(cur.comments, line)
		default:
			cur.cmd = line
			if i+1 >= len(lines) || lines[i+1] != "----" {
				t.Fatalf("line %d: %q: want ---- after a command", i+1, line)
			}
			i++
			var want []string
			for i+1 < len(lines) && lines[i+1] != "" {
				i++
				want = append(want, lines[i])
			}
			cur.want = strings.Join(want, "\n")
			steps = append(steps, cur)
			cur = step{}
		}
	}
	return steps
}

func formatScript(steps []step) string {
	var b strings.Builder
	for i, s := range steps {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, c := range s.comments {
			b.WriteString(c + "\n")
		}
		b.WriteString(s.cmd + "\n----\n")
		if s.got != "" {
			b.WriteString(s.got + "\n")
		}
	}
	return b.String()
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := parseScript(t, string(data))
	h := newHarness(t)
	defer h.close()
	for i := range steps {
		s := &steps[i]
		s.got = h.do(s.cmd)
		t.Logf("%s\n%s", s.cmd, s.got)
		if !*update && s.got != s.want {
			t.Errorf("%s: %s\nwant:\n%s\ngot:\n%s", path, s.cmd, s.want, s.got)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(formatScript(steps)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// advance moves the clock by d, stopping at each timer on the way so that
// timers set by timers start from the time they ran.
func (h *harness) advance(d time.Duration) {
	target := h.clk.Now().Add(d)
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	for {
		at, ok := h.c.sched.next()
		if !ok || at.After(target) {
			break
		}
		h.clk.set(at)
		h.c.sched.runDue(at)
	}
	h.clk.set(target)
}

// fakeTopics says which partitions exist.
type fakeTopics struct {
	mu    sync.Mutex
	parts map[string]int32
}

func (f *fakeTopics) PartitionEnd(topic string, partition int32) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.parts[topic]
	return 100, ok && partition >= 0 && partition < n
}

type tagKey struct{}

// running is a request being served in its own goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan kmsg.Response
	parked chan struct{}
	once   sync.Once
}

type harness struct {
	t      *testing.T
	dir    string
	cfg    Config
	clk    *fakeClock
	topics *fakeTopics
	c      *Coordinator
	ids    map[string]int

	mu      sync.Mutex
	reqs    map[string]*running
	replied []string
}

func newHarness(t *testing.T) *harness {
	h := &harness{
		t:      t,
		dir:    t.TempDir(),
		clk:    &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		topics: &fakeTopics{parts: make(map[string]int32)},
		ids:    make(map[string]int),
		reqs:   make(map[string]*running),
	}
	h.cfg = Config{Dir: h.dir, MinSessionTimeout: time.Second, MaxSessionTimeout: time.Hour, MaxMetadataSize: 4096, Topics: h.topics,
		Logger: slog.New(failOnError{t})}
	h.open()
	return h
}

// failOnError is a log handler that fails the test at every record at
// ERROR: nothing in a script may go wrong inside the coordinator (a state
// move its table does not allow, say).
type failOnError struct{ t *testing.T }

func (h failOnError) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h failOnError) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h failOnError) WithGroup(string) slog.Handler                { return h }
func (h failOnError) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	h.t.Errorf("the coordinator logged an error: %s", msg)
	return nil
}

func (h *harness) open() {
	hooks := &testHooks{
		tag: func(ctx context.Context) any { return ctx.Value(tagKey{}) },
		parked: func(tag any) {
			h.mu.Lock()
			r := h.reqs[tag.(string)]
			h.mu.Unlock()
			r.once.Do(func() { close(r.parked) })
		},
		replied: func(tag any) {
			h.mu.Lock()
			h.replied = append(h.replied, tag.(string))
			h.mu.Unlock()
		},
	}
	c, err := open(h.cfg, openOptions{
		clk:   h.clk,
		hooks: hooks,
		newID: func(prefix string) string {
			h.ids[prefix]++
			return fmt.Sprintf("%s-%d", prefix, h.ids[prefix])
		},
	})
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	h.c = c
}

func (h *harness) close() {
	if err := h.c.Close(); err != nil {
		h.t.Errorf("close: %v", err)
	}
}

// settle waits until every record written so far is applied.
func (h *harness) settle() {
	if b := h.c.olog.pendingBatch(); b != nil {
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			h.t.Fatal("offsets log write did not finish")
		}
	}
}

func (h *harness) takeReplied() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.replied
	h.replied = nil
	return r
}

// await returns the response of a running request.
func (h *harness) await(name string) kmsg.Response {
	h.mu.Lock()
	r := h.reqs[name]
	h.mu.Unlock()
	if r == nil {
		h.t.Fatalf("no running request %q", name)
	}
	select {
	case resp := <-r.done:
		h.mu.Lock()
		delete(h.reqs, name)
		h.mu.Unlock()
		return resp
	case <-time.After(10 * time.Second):
		h.t.Fatalf("request %q was answered but did not return", name)
	}
	return nil
}

// others prints the responses of parked requests answered by a step.
func (h *harness) others(own string) []string {
	var out []string
	for _, name := range h.takeReplied() {
		if name == own {
			continue
		}
		out = append(out, name+": "+format(h.await(name)))
	}
	return out
}

// serve runs req as the request called name and prints its response, or
// "parked", then what it answered among the parked requests.
func (h *harness) serve(name, client string, req kmsg.Request) string {
	if name == "" {
		name = fmt.Sprintf("%T", req)
	}
	h.mu.Lock()
	if h.reqs[name] != nil {
		h.mu.Unlock()
		h.t.Fatalf("request %q is still running", name)
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), tagKey{}, name))
	ctx = WithClient(ctx, client, "10.0.0.1")
	r := &running{cancel: cancel, done: make(chan kmsg.Response, 1), parked: make(chan struct{})}
	h.reqs[name] = r
	h.mu.Unlock()
	req = wireRequest(h.t, req)
	go func() { r.done <- wireResponse(h.t, h.c.Handle(ctx, req)) }()

	var own string
	skip := name
	select {
	case resp := <-r.done:
		h.mu.Lock()
		delete(h.reqs, name)
		h.mu.Unlock()
		cancel()
		own = format(resp)
	case <-r.parked:
		own = "parked"
		skip = ""
	case <-time.After(10 * time.Second):
		h.t.Fatalf("%s: neither answered nor parked", name)
	}
	// Timers due now run right away, as the timer goroutine would.
	h.c.mu.Lock()
	h.c.sched.runDue(h.clk.Now())
	h.c.mu.Unlock()
	h.settle()
	return strings.Join(append([]string{own}, h.others(skip)...), "\n")
}

// wireRequest encodes req at its version and decodes it again, as the
// broker would hand it over: fields the version lacks are gone.
func wireRequest(t *testing.T, req kmsg.Request) kmsg.Request {
	out := kmsg.RequestForKey(req.Key())
	out.SetVersion(req.GetVersion())
	if err := out.ReadFrom(req.AppendTo(nil)); err != nil {
		t.Fatalf("decode %T v%d: %v", req, req.GetVersion(), err)
	}
	return out
}

// wireResponse does the same for a response, as the client would see it.
func wireResponse(t *testing.T, resp kmsg.Response) kmsg.Response {
	out := kmsg.ResponseForKey(resp.Key())
	out.SetVersion(resp.GetVersion())
	if err := out.ReadFrom(resp.AppendTo(nil)); err != nil {
		t.Errorf("decode %T v%d: %v", resp, resp.GetVersion(), err)
	}
	return out
}

type args struct {
	t    *testing.T
	pos  []string
	kv   map[string]string
	used map[string]bool
}

func parseArgs(t *testing.T, fields []string) *args {
	a := &args{t: t, kv: map[string]string{}, used: map[string]bool{}}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a.kv[k] = v
		} else {
			a.pos = append(a.pos, f)
		}
	}
	return a
}

func (a *args) str(k, def string) string {
	a.used[k] = true
	if v, ok := a.kv[k]; ok {
		return v
	}
	return def
}

func (a *args) has(k string) bool {
	a.used[k] = true
	_, ok := a.kv[k]
	return ok || slices.Contains(a.pos, k)
}

func (a *args) ptr(k string) *string {
	a.used[k] = true
	if v, ok := a.kv[k]; ok {
		return &v
	}
	return nil
}

func (a *args) int(k string, def int64) int64 {
	v := a.str(k, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		a.t.Fatalf("%s=%s: %v", k, v, err)
	}
	return n
}

func (a *args) dur(k string, def time.Duration) time.Duration {
	v := a.str(k, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		a.t.Fatalf("%s=%s: %v", k, v, err)
	}
	return d
}

func (a *args) list(k string) []string {
	v := a.str(k, "")
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func (a *args) check() {
	for k := range a.kv {
		if !a.used[k] {
			a.t.Fatalf("unknown argument %s", k)
		}
	}
}

// parseTP parses TOPIC/PARTITION.
func parseTP(t *testing.T, s string) (string, int32) {
	topic, p, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(p)
	if !ok || err != nil {
		t.Fatalf("bad partition %q", s)
	}
	return topic, int32(n)
}

// tpList groups TOPIC/P items by topic, in order of first appearance.
func tpList(t *testing.T, items []string) (topics []string, parts map[string][]int32) {
	parts = map[string][]int32{}
	for _, it := range items {
		topic, p := parseTP(t, it)
		if _, ok := parts[topic]; !ok {
			topics = append(topics, topic)
		}
		parts[topic] = append(parts[topic], p)
	}
	return topics, parts
}

func consumerMeta(topics []string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

func (h *harness) do(cmd string) string {
	fields := strings.Fields(cmd)
	a := parseArgs(h.t, fields[1:])
	defer a.check()
	name := ""
	if len(a.pos) > 0 {
		name = a.pos[0]
	}
	switch fields[0] {
	case "open":
		h.c.Close()
		h.cfg.InitialRebalanceDelay = a.dur("initial-delay", 0)
		h.cfg.MinSessionTimeout = a.dur("min-session", time.Second)
		h.cfg.MaxSessionTimeout = a.dur("max-session", time.Hour)
		h.cfg.OffsetsRetention = a.dur("retention", 0)
		h.cfg.OffsetsRetentionCheckInterval = a.dur("retention-check", 0)
		h.cfg.MaxMetadataSize = int(a.int("max-metadata", 4096))
		h.open()
		return "ok"
	case "restart":
		h.c.Close()
		out := []string{"ok"}
		for _, n := range h.takeReplied() {
			out = append(out, n+": "+format(h.await(n)))
		}
		h.open()
		return strings.Join(out, "\n")
	case "topic":
		h.topics.mu.Lock()
		h.topics.parts[name] = int32(a.int("partitions", 1))
		h.topics.mu.Unlock()
		return "ok"
	case "topic-deleted":
		h.topics.mu.Lock()
		delete(h.topics.parts, name)
		h.topics.mu.Unlock()
		h.c.TopicDeleted(name)
		h.settle()
		return "ok"
	case "advance":
		d, err := time.ParseDuration(name)
		if err != nil {
			h.t.Fatal(err)
		}
		h.advance(d)
		h.settle()
		return strings.Join(append([]string{"ok"}, h.others("")...), "\n")
	case "cancel":
		h.mu.Lock()
		r := h.reqs[name]
		h.mu.Unlock()
		r.cancel()
		resp := h.await(name)
		h.takeReplied()
		return format(resp)
	case "join":
		req := kmsg.NewPtrJoinGroupRequest()
		req.Version = int16(a.int("v", 9))
		req.Group = a.str("group", "")
		req.MemberID = a.str("member", "")
		req.InstanceID = a.ptr("instance")
		req.SessionTimeoutMillis = int32(a.dur("session", 10*time.Second).Milliseconds())
		req.RebalanceTimeoutMillis = int32(a.dur("rebalance", 20*time.Second).Milliseconds())
		req.ProtocolType = a.str("type", "consumer")
		req.Reason = a.ptr("reason")
		for _, p := range strings.Split(a.str("protocols", "range:t1"), ",") {
			pname, meta, _ := strings.Cut(p, ":")
			rp := kmsg.NewJoinGroupRequestProtocol()
			rp.Name = pname
			if req.ProtocolType == "consumer" {
				rp.Metadata = consumerMeta(strings.Split(meta, "+"))
			} else {
				rp.Metadata = []byte(meta)
			}
			req.Protocols = append(req.Protocols, rp)
		}
		return h.serve(name, a.str("client", strings.TrimRight(name, "0123456789")), req)
	case "sync":
		req := kmsg.NewPtrSyncGroupRequest()
		req.Version = int16(a.int("v", 5))
		req.Group = a.str("group", "")
		req.MemberID = a.str("member", "")
		req.Generation = int32(a.int("gen", 0))
		req.InstanceID = a.ptr("instance")
		req.ProtocolType = a.ptr("type")
		req.Protocol = a.ptr("protocol")
		for _, as := range a.list("assign") {
			id, bytes, _ := strings.Cut(as, ":")
			ra := kmsg.NewSyncGroupRequestGroupAssignment()
			ra.MemberID = id
			ra.MemberAssignment = []byte(bytes)
			req.GroupAssignment = append(req.GroupAssignment, ra)
		}
		return h.serve(name, "", req)
	case "heartbeat":
		req := kmsg.NewPtrHeartbeatRequest()
		req.Version = int16(a.int("v", 4))
		req.Group = a.str("group", "")
		req.MemberID = a.str("member", "")
		req.Generation = int32(a.int("gen", 0))
		req.InstanceID = a.ptr("instance")
		return h.serve(name, "", req)
	case "leave":
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Version = int16(a.int("v", 5))
		req.Group = a.str("group", "")
		req.MemberID = a.str("member", "")
		if req.Version >= 3 && req.MemberID != "" {
			m := kmsg.NewLeaveGroupRequestMember()
			m.MemberID = req.MemberID
			req.Members = append(req.Members, m)
		}
		for _, s := range a.list("members") {
			m := kmsg.NewLeaveGroupRequestMember()
			if inst, ok := strings.CutPrefix(s, "instance:"); ok {
				inst, id, _ := strings.Cut(inst, "/")
				m.InstanceID = &inst
				m.MemberID = id
			} else {
				m.MemberID = s
			}
			req.Members = append(req.Members, m)
		}
		return h.serve(name, "", req)
	case "commit":
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version = int16(a.int("v", 9))
		req.Group = a.str("group", "")
		req.MemberID = a.str("member", "")
		req.Generation = int32(a.int("gen", -1))
		req.InstanceID = a.ptr("instance")
		if r := a.dur("retention", -1); r >= 0 {
			req.RetentionTimeMillis = r.Milliseconds()
		}
		meta := a.ptr("meta")
		epoch := int32(a.int("epoch", -1))
		ts := a.int("timestamp", -1)
		var items []string
		offsets := map[string]int64{}
		for _, o := range a.list("offsets") {
			tp, off, _ := strings.Cut(o, "@")
			n, err := strconv.ParseInt(off, 10, 64)
			if err != nil {
				h.t.Fatalf("offset %q: %v", o, err)
			}
			items = append(items, tp)
			offsets[tp] = n
		}
		topics, parts := tpList(h.t, items)
		for _, topic := range topics {
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = topic
			for _, p := range parts[topic] {
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition = p
				rp.Offset = offsets[fmt.Sprintf("%s/%d", topic, p)]
				rp.Metadata = meta
				rp.LeaderEpoch = epoch
				rp.Timestamp = ts
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		return h.serve(name, "", req)
	case "fetch":
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = int16(a.int("v", 9))
		if req.Version >= 8 {
			gs := a.list("groups")
			if len(gs) == 0 {
				gs = []string{a.str("group", "") + ":" + strings.ReplaceAll(a.str("partitions", ""), ",", "+")}
			}
			for _, gspec := range gs {
				gname, ps, _ := strings.Cut(gspec, ":")
				rg := kmsg.NewOffsetFetchRequestGroup()
				rg.Group = gname
				if ps != "" {
					topics, parts := tpList(h.t, strings.Split(ps, "+"))
					rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{}
					for _, topic := range topics {
						rt := kmsg.NewOffsetFetchRequestGroupTopic()
						rt.Topic = topic
						rt.Partitions = parts[topic]
						rg.Topics = append(rg.Topics, rt)
					}
				}
				req.Groups = append(req.Groups, rg)
			}
			return h.serve(name, "", req)
		}
		req.Group = a.str("group", "")
		if ps := a.list("partitions"); ps != nil {
			topics, parts := tpList(h.t, ps)
			req.Topics = []kmsg.OffsetFetchRequestTopic{}
			for _, topic := range topics {
				rt := kmsg.NewOffsetFetchRequestTopic()
				rt.Topic = topic
				rt.Partitions = parts[topic]
				req.Topics = append(req.Topics, rt)
			}
		}
		return h.serve(name, "", req)
	case "describe":
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Version = int16(a.int("v", 6))
		req.Groups = a.list("groups")
		req.IncludeAuthorizedOperations = a.has("ops")
		return h.serve("", "", req)
	case "list":
		req := kmsg.NewPtrListGroupsRequest()
		req.Version = int16(a.int("v", 5))
		req.StatesFilter = a.list("states")
		req.TypesFilter = a.list("types")
		return h.serve("", "", req)
	case "delete-groups":
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Version = int16(a.int("v", 3))
		req.Groups = a.list("groups")
		return h.serve("", "", req)
	case "offset-delete":
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = a.str("group", "")
		topics, parts := tpList(h.t, a.list("partitions"))
		for _, topic := range topics {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = topic
			for _, p := range parts[topic] {
				rt.Partitions = append(rt.Partitions, kmsg.OffsetDeleteRequestTopicPartition{Partition: p})
			}
			req.Topics = append(req.Topics, rt)
		}
		return h.serve("", "", req)
	}
	h.t.Fatalf("unknown command %q", cmd)
	return ""
}

func errName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return strconv.Itoa(int(code))
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// metaString prints protocol metadata: consumer protocol topics joined
// with +, or the raw bytes.
func metaString(b []byte) string {
	var m kmsg.ConsumerMemberMetadata
	if err := m.ReadFrom(b); err == nil && len(m.Topics) > 0 {
		return strings.Join(m.Topics, "+")
	}
	return string(b)
}

// format prints a response on one line (DescribeGroups: a line per group
// and member).
func format(resp kmsg.Response) string {
	var b strings.Builder
	switch r := resp.(type) {
	case *kmsg.JoinGroupResponse:
		b.WriteString(errName(r.ErrorCode))
		if r.ErrorCode != 0 {
			if r.MemberID != "" {
				fmt.Fprintf(&b, " member=%s", r.MemberID)
			}
			break
		}
		fmt.Fprintf(&b, " gen=%d member=%s leader=%s protocol=%s", r.Generation, r.MemberID, r.LeaderID, deref(r.Protocol))
		if r.SkipAssignment {
			b.WriteString(" skip-assignment")
		}
		if len(r.Members) > 0 {
			var ms []string
			for _, m := range r.Members {
				s := m.MemberID
				if m.InstanceID != nil {
					s += "(" + *m.InstanceID + ")"
				}
				ms = append(ms, s+":"+metaString(m.ProtocolMetadata))
			}
			fmt.Fprintf(&b, " members=[%s]", strings.Join(ms, " "))
		}
	case *kmsg.SyncGroupResponse:
		b.WriteString(errName(r.ErrorCode))
		if r.ErrorCode == 0 {
			fmt.Fprintf(&b, " assignment=%q", r.MemberAssignment)
		}
	case *kmsg.HeartbeatResponse:
		b.WriteString(errName(r.ErrorCode))
	case *kmsg.LeaveGroupResponse:
		b.WriteString(errName(r.ErrorCode))
		for _, m := range r.Members {
			id := m.MemberID
			if m.InstanceID != nil {
				id = "instance:" + *m.InstanceID + "/" + id
			}
			fmt.Fprintf(&b, " %s=%s", id, errName(m.ErrorCode))
		}
	case *kmsg.OffsetCommitResponse:
		var ps []string
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				ps = append(ps, fmt.Sprintf("%s/%d=%s", t.Topic, p.Partition, errName(p.ErrorCode)))
			}
		}
		b.WriteString(strings.Join(ps, " "))
	case *kmsg.OffsetFetchResponse:
		part := func(topic string, p int32, off int64, epoch int32, meta *string, code int16) string {
			s := fmt.Sprintf("%s/%d=%d", topic, p, off)
			if epoch >= 0 {
				s += fmt.Sprintf("@e%d", epoch)
			}
			if meta != nil && *meta != "" {
				s += fmt.Sprintf("(%q)", *meta)
			}
			if code != 0 {
				s += ":" + errName(code)
			}
			return s
		}
		if r.Version >= 8 {
			var gs []string
			for _, g := range r.Groups {
				s := g.Group + ": " + errName(g.ErrorCode)
				for _, t := range g.Topics {
					for _, p := range t.Partitions {
						s += " " + part(t.Topic, p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode)
					}
				}
				gs = append(gs, s)
			}
			b.WriteString(strings.Join(gs, "; "))
			break
		}
		b.WriteString(errName(r.ErrorCode))
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				b.WriteString(" " + part(t.Topic, p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode))
			}
		}
	case *kmsg.DescribeGroupsResponse:
		var lines []string
		for _, g := range r.Groups {
			s := fmt.Sprintf("%s: %s state=%s type=%q protocol=%q", g.Group, errName(g.ErrorCode), g.State, g.ProtocolType, g.Protocol)
			if g.ErrorMessage != nil {
				s += fmt.Sprintf(" message=%q", *g.ErrorMessage)
			}
			if g.AuthorizedOperations != -2147483648 {
				s += fmt.Sprintf(" ops=%d", g.AuthorizedOperations)
			}
			lines = append(lines, s)
			for _, m := range g.Members {
				s := "  " + m.MemberID
				if m.InstanceID != nil {
					s += " instance=" + *m.InstanceID
				}
				s += fmt.Sprintf(" client=%s host=%s", m.ClientID, m.ClientHost)
				if len(m.ProtocolMetadata) > 0 {
					s += " metadata=" + metaString(m.ProtocolMetadata)
				}
				if m.MemberAssignment != nil {
					s += fmt.Sprintf(" assignment=%q", m.MemberAssignment)
				}
				lines = append(lines, s)
			}
		}
		b.WriteString(strings.Join(lines, "\n"))
	case *kmsg.ListGroupsResponse:
		b.WriteString(errName(r.ErrorCode))
		for _, g := range r.Groups {
			fmt.Fprintf(&b, " %s(%s", g.Group, g.GroupState)
			if g.ProtocolType != "" {
				b.WriteString("," + g.ProtocolType)
			}
			b.WriteString(")")
		}
	case *kmsg.DeleteGroupsResponse:
		var gs []string
		for _, g := range r.Groups {
			gs = append(gs, g.Group+"="+errName(g.ErrorCode))
		}
		b.WriteString(strings.Join(gs, " "))
	case *kmsg.OffsetDeleteResponse:
		b.WriteString(errName(r.ErrorCode))
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				fmt.Fprintf(&b, " %s/%d=%s", t.Topic, p.Partition, errName(p.ErrorCode))
			}
		}
	default:
		fmt.Fprintf(&b, "%T", resp)
	}
	return b.String()
}
