package broker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// logBuffer collects a broker's log lines for tests that check what was
// logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startLoggedBroker starts a broker whose log lines are kept.
func startLoggedBroker(t testing.TB, props ...string) (*Broker, *logBuffer) {
	t.Helper()
	cfg := brokerConfig(t, t.TempDir(), props...)
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(testCtx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b, logs
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *Broker) openConns() int {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	return len(b.conns)
}

// apiVersionsOK checks that a connection is served.
func (c *rawClient) apiVersionsOK() {
	c.t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = 3, "test", "1.0"
	if resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		c.t.Fatalf("ApiVersions: %s", errName(resp.ErrorCode))
	}
}

func TestSocketRequestMaxBytes(t *testing.T) {
	b, logs := startLoggedBroker(t, "socket.request.max.bytes=1000", "connections.max.idle.ms=1000")
	addr := b.Addr()

	c := dialRaw(t, addr)
	c.apiVersionsOK()
	// A frame one byte over the limit: closed before its body is read.
	c.sendRaw(binary.BigEndian.AppendUint32(nil, 1001))
	c.expectClosed()
	if !strings.Contains(logs.String(), "socket.request.max.bytes=1000") {
		t.Fatalf("no log line names the limit:\n%s", logs)
	}

	// A frame at the limit is read; a metadata request padded to exactly
	// 1000 bytes with a long client id is answered.
	c = dialRaw(t, addr)
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID(strings.Repeat("x", 1000-14))).AppendRequest(nil, md, 1)
	if len(frame) != 1004 {
		t.Fatalf("frame is %d bytes", len(frame))
	}
	c.sendRaw(frame)
	if _, err := c.readFrame(); err != nil {
		t.Fatalf("a frame at the limit: %v", err)
	}

	// Frames shorter than a request header are refused too.
	c = dialRaw(t, addr)
	c.sendRaw([]byte{0, 0, 0, 3, 1, 2, 3})
	c.expectClosed()

	// A frame announced within the limit that never completes is closed
	// after connections.max.idle.ms.
	c = dialRaw(t, addr)
	c.sendRaw(append(binary.BigEndian.AppendUint32(nil, 900), 0, 18, 0, 0))
	start := time.Now()
	c.expectClosed()
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("partial frame closed after %v, before the idle timeout", d)
	}
	waitFor(t, 5*time.Second, "the partial frame log line", func() bool {
		return strings.Contains(logs.String(), "request frame not received whole")
	})
}

func TestFrameBufferFollowsBytesReceived(t *testing.T) {
	// Frames that announce 100 MB and send a few bytes must not cost
	// 100 MB each.
	b, _ := startLoggedBroker(t)
	const conns = 50
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range conns {
		c := dialRaw(t, b.Addr())
		c.sendRaw(append(binary.BigEndian.AppendUint32(nil, 104857600), 0, 3, 0, 1, 0, 0, 0, 1))
	}
	waitFor(t, 10*time.Second, "every connection accepted", func() bool { return b.openConns() == conns })
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d connections announcing 100 MB frames: heap grew %d KiB", conns, grew>>10)
	if grew > 64<<20 {
		t.Fatalf("heap grew by %d MiB", grew>>20)
	}
}

func TestMaxConnectionsPerIP(t *testing.T) {
	b, logs := startLoggedBroker(t, "max.connections.per.ip=3")
	var open []*rawClient
	for range 3 {
		c := dialRaw(t, b.Addr())
		c.apiVersionsOK()
		open = append(open, c)
	}
	extra := dialRaw(t, b.Addr())
	extra.expectClosed()
	if !strings.Contains(logs.String(), "max.connections.per.ip") {
		t.Fatalf("no log line names the limit:\n%s", logs)
	}
	// Once one goes, a new one is served.
	open[0].nc.Close()
	waitFor(t, 5*time.Second, "the closed connection to be released", func() bool { return b.openConns() == 2 })
	c := dialRaw(t, b.Addr())
	c.apiVersionsOK()
	for _, c := range open[1:] {
		c.apiVersionsOK()
	}
}

func TestMaxConnectionsPerIPOverrides(t *testing.T) {
	b, _ := startLoggedBroker(t, "max.connections.per.ip=1", "max.connections.per.ip.overrides=localhost:4,192.0.2.1:0")
	for range 4 {
		dialRaw(t, b.Addr()).apiVersionsOK()
	}
	dialRaw(t, b.Addr()).expectClosed()
	if n, ok := b.perIPLimit["127.0.0.1"]; !ok || n != 4 {
		t.Fatalf("localhost override resolved to %v", b.perIPLimit)
	}
	if n, ok := b.perIPLimit["192.0.2.1"]; !ok || n != 0 {
		t.Fatalf("address override: %v", b.perIPLimit)
	}
}

func TestMaxConnections(t *testing.T) {
	b, _ := startLoggedBroker(t, "max.connections=3")
	var open []*rawClient
	for range 3 {
		c := dialRaw(t, b.Addr())
		c.apiVersionsOK()
		open = append(open, c)
	}
	// The fourth waits unaccepted: its request is not answered while the
	// broker is full...
	waiting := dialRaw(t, b.Addr())
	corr := waiting.send(kmsg.NewPtrApiVersionsRequest())
	waiting.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var one [1]byte
	if _, err := waiting.nc.Read(one[:]); !isTimeout(err) {
		t.Fatalf("a connection beyond max.connections was answered: %v", err)
	}
	if n := b.openConns(); n != 3 {
		t.Fatalf("%d connections open", n)
	}
	// ... and is served once another closes.
	open[0].nc.Close()
	resp := waiting.read(kmsg.NewPtrApiVersionsRequest(), corr).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions: %s", errName(resp.ErrorCode))
	}
}

func TestConnectionsMaxIdle(t *testing.T) {
	b, _ := startLoggedBroker(t, "connections.max.idle.ms=400")
	idle := dialRaw(t, b.Addr())
	busy := dialRaw(t, b.Addr())
	start := time.Now()
	idle.apiVersionsOK()
	closedAfter := make(chan time.Duration, 1)
	go func() {
		idle.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		var one [1]byte
		_, err := idle.nc.Read(one[:])
		if isTimeout(err) {
			closedAfter <- -1
			return
		}
		closedAfter <- time.Since(start)
	}()
	// A connection that keeps sending requests stays open well past the
	// idle timeout.
	for time.Since(start) < 1200*time.Millisecond {
		busy.apiVersionsOK()
		time.Sleep(100 * time.Millisecond) // the client's pace, not synchronisation
	}
	if d := <-closedAfter; d < 300*time.Millisecond || d > 5*time.Second {
		t.Fatalf("idle connection closed after %v, want about 400ms", d)
	}
	// A long-poll fetch longer than the idle timeout is not idleness.
	createTopic(t, b.Addr(), "idle", 1, nil)
	f := kmsg.NewPtrFetchRequest()
	f.Version, f.MaxWaitMillis, f.MinBytes, f.MaxBytes = 11, 1000, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "idle"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	f.Topics = append(f.Topics, ft)
	fr := busy.roundTrip(f).(*kmsg.FetchResponse)
	if len(fr.Topics) != 1 || fr.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("fetch: %+v", fr)
	}
	busy.apiVersionsOK()
}

func TestClientThatDoesNotReadIsCut(t *testing.T) {
	b, logs := startLoggedBroker(t, "connections.max.idle.ms=1000")
	createTopic(t, b.Addr(), "unread", 1, nil)
	c := dialRaw(t, b.Addr())
	for range 4 {
		if p := producePartition(t, c.roundTrip(produceRequest(9, 1, "unread", 0, testBatch(20, -1, 0, 0, 10000)))); p.ErrorCode != 0 {
			t.Fatalf("produce: %s", errName(p.ErrorCode))
		}
	}
	// Pipeline fetches whose answers (about 800 kB each, 400 MB in all) are never read:
	// once the socket buffers are full the broker holds a few replies,
	// stops reading, and cuts the connection after the idle timeout.
	f := kmsg.NewPtrFetchRequest()
	f.Version, f.MaxWaitMillis, f.MaxBytes = 11, 100, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "unread"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	f.Topics = append(f.Topics, ft)
	f.SessionEpoch, f.ReplicaID = -1, -1
	if fr := c.roundTrip(f).(*kmsg.FetchResponse); fr.ErrorCode != 0 || len(fr.Topics) != 1 || len(fr.Topics[0].Partitions[0].RecordBatches) < 100<<10 {
		t.Fatalf("fetch: %s", errName(fr.ErrorCode))
	}
	var batch []byte
	for i := range 512 {
		batch = append(batch, formatter.AppendRequest(nil, f, int32(100+i))...)
	}
	c.nc.SetWriteDeadline(time.Now().Add(20 * time.Second))
	c.sendRaw(batch)
	waitFor(t, 20*time.Second, "the broker to cut the client", func() bool { return b.openConns() == 0 })
	if !strings.Contains(logs.String(), "has not read its responses") {
		t.Fatalf("no log line says why:\n%s", logs)
	}
}

func TestMessageMaxBytes(t *testing.T) {
	b, _ := startLoggedBroker(t, "message.max.bytes=5000")
	createTopic(t, b.Addr(), "m", 1, nil)
	cl := newClient(t, b.Addr(), kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(50*time.Millisecond))
	ctx := testCtx(t, 30*time.Second)
	// One record over the limit.
	big := make([]byte, 6000)
	for i := range big {
		big[i] = byte(rand.Uint32()) // incompressible
	}
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: "m", Value: big}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("6000-byte record: %v", err)
	}
	// Small records whose batch is over the limit: the batch is refused.
	c := dialRaw(t, b.Addr())
	p := producePartition(t, c.roundTrip(produceRequest(9, 1, "m", 0, testBatch(100, -1, 0, 0, 60))))
	if p.ErrorCode != kerr.MessageTooLarge.Code {
		t.Fatalf("batch of 100 small records: %s", errName(p.ErrorCode))
	}
	// Under the limit: accepted.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "m", Value: []byte("fits")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// raiseFileLimit lifts the soft limit on open files to want, if the hard
// limit allows, and returns what is available.
func raiseFileLimit(want uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < want {
		lim.Cur = min(want, lim.Max)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}

// TestHostileConnections opens many connections that send garbage (random
// bytes, frames announcing up to socket.request.max.bytes and sending a
// little, partial frames, valid headers with garbage bodies, oversized
// frames, well-formed clients that then go quiet) while a franz-go client
// produces and consumes. The client must keep being served, and the heap
// must stay within a bound that does not depend on what the garbage
// announced.
func TestHostileConnections(t *testing.T) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("TRIBUTARY_HOSTILE_CONNS")); err == nil && v > 0 {
		n = v
	}
	if avail := raiseFileLimit(uint64(2*n + 512)); avail < uint64(2*n+512) {
		n = int(avail-512) / 2
		t.Logf("open file limit %d: %d connections", avail, n)
	}
	b, _ := startLoggedBroker(t)
	addr := b.Addr()
	createTopic(t, addr, "good", 1, nil)

	// The well-behaved client: produces and consumes throughout.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prod := newClient(t, addr, kgo.DefaultProduceTopic("good"))
	cons := newClient(t, addr, kgo.ConsumeTopics("good"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var produced, consumed atomic.Int64
	var worst atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			start := time.Now()
			pctx, pcancel := context.WithTimeout(ctx, 20*time.Second)
			err := prod.ProduceSync(pctx, kgo.StringRecord("r"+strconv.Itoa(i))).FirstErr()
			pcancel()
			if err != nil {
				if ctx.Err() == nil {
					errc <- fmt.Errorf("produce %d: %w", i, err)
				}
				return
			}
			worst.Store(max(worst.Load(), int64(time.Since(start))))
			produced.Add(1)
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			fs := cons.PollFetches(ctx)
			if err := fs.Err0(); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("consume: %w", err)
				return
			}
			consumed.Add(int64(fs.NumRecords()))
		}
	}()
	waitFor(t, 30*time.Second, "the good client to get going", func() bool { return consumed.Load() > 10 })

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	baseline := b.openConns()

	rng := rand.New(rand.NewPCG(1, 2))
	header := func(key, version int16) []byte {
		h := binary.BigEndian.AppendUint16(nil, uint16(key))
		h = binary.BigEndian.AppendUint16(h, uint16(version))
		h = binary.BigEndian.AppendUint32(h, rng.Uint32())
		return binary.BigEndian.AppendUint16(h, 0xffff) // null client id
	}
	garbage := func(k int) []byte {
		switch k % 6 {
		case 0: // random bytes
			g := make([]byte, 16+rng.IntN(512))
			for i := range g {
				g[i] = byte(rng.Uint32())
			}
			return g
		case 1: // announces the largest frame allowed, sends a little
			return append(binary.BigEndian.AppendUint32(nil, 104857600), header(0, 9)...)
		case 2: // a partial frame
			return append(binary.BigEndian.AppendUint32(nil, 4096), header(3, 9)...)
		case 3: // a valid header with a garbage body
			body := append(header(int16(rng.IntN(70)), int16(rng.IntN(10))), bytes.Repeat([]byte{0xff}, 64)...)
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
		case 4: // over socket.request.max.bytes
			return binary.BigEndian.AppendUint32(nil, 0x7ffffff0)
		default: // a well-formed request, then silence; the answer is never read
			return formatter.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 1)
		}
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write(garbage(i)) // the broker may already have closed it
	}
	t.Logf("%d hostile connections opened in %v", n, time.Since(start).Round(time.Millisecond))
	// Those that announced large or partial frames, and the quiet ones,
	// stay open (until connections.max.idle.ms); the others are closed.
	waitFor(t, 60*time.Second, "the broker to sort the connections", func() bool {
		open := b.openConns()
		return open >= n/2+baseline && open <= 2*n/3+baseline
	})
	openHostile := b.openConns() - baseline
	p0, c0 := produced.Load(), consumed.Load()
	waitFor(t, 60*time.Second, "the good client to keep producing", func() bool { return produced.Load() > p0+50 })
	waitFor(t, 60*time.Second, "the good client to keep consuming", func() bool { return consumed.Load() > c0+50 })

	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	grew := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d connections held open by the broker: heap in use grew %.1f MiB (%.1f KiB per open connection), stacks %.1f MiB, goroutines %d; worst produce latency %v; produced %d consumed %d",
		openHostile, float64(grew)/(1<<20), float64(grew)/1024/float64(max(openHostile, 1)), float64(during.StackInuse)/(1<<20), runtime.NumGoroutine(), time.Duration(worst.Load()).Round(time.Millisecond), produced.Load(), consumed.Load())
	// Each held connection costs its goroutines' stacks, a read buffer
	// and at most initialFrameBuffer of frame: far below 100 KiB, never
	// the 100 MB some of them announced.
	if limit := int64(openHostile) * 100 << 10; grew > limit {
		t.Fatalf("heap grew %d MiB with %d connections open; want below %d MiB", grew>>20, openHostile, limit>>20)
	}

	// Hang up: the broker lets go of everything.
	for _, c := range conns {
		c.Close()
	}
	conns = conns[:0]
	waitFor(t, 30*time.Second, "the hostile connections to be released", func() bool { return b.openConns() <= baseline })
	p1 := produced.Load()
	waitFor(t, 30*time.Second, "the good client to keep producing", func() bool { return produced.Load() > p1+20 })
	cancel()
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
}
