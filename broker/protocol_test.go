package broker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawClient speaks the protocol over one TCP connection, with requests
// encoded by kmsg, so tests can send what a well-behaved client never
// would.
type rawClient struct {
	t    testing.TB
	nc   net.Conn
	corr int32
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc}
}

var formatter = kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test"))

// send writes req and returns its correlation id.
func (c *rawClient) send(req kmsg.Request) int32 {
	c.t.Helper()
	c.corr++
	if _, err := c.nc.Write(formatter.AppendRequest(nil, req, c.corr)); err != nil {
		c.t.Fatal(err)
	}
	return c.corr
}

// sendRaw writes bytes as they are.
func (c *rawClient) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// readFrame reads one response frame (size excluded).
func (c *rawClient) readFrame() ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(c.nc, buf)
	return buf, err
}

// roundTrip sends req and decodes its response.
func (c *rawClient) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	corr := c.send(req)
	return c.read(req, corr)
}

func (c *rawClient) read(req kmsg.Request, corr int32) kmsg.Response {
	c.t.Helper()
	frame, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		c.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	body := frame[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if resp.IsFlexible() && req.Key() != 18 {
		body = body[1:] // empty header tags
	}
	if err := resp.ReadFrom(body); err != nil {
		c.t.Fatalf("decode %s v%d response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp
}

// expectClosed checks that the broker closes the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	if frame, err := c.readFrame(); err == nil {
		c.t.Fatalf("connection still open; got a %d-byte response", len(frame))
	} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
		c.t.Fatalf("want the connection closed, got %v", err)
	}
}

// testBatch builds a record batch as a producer would.
func testBatch(n int, pid int64, epoch int16, seq int32, valueLen int) []byte {
	var recs []byte
	for i := range n {
		val := bytes.Repeat([]byte{'v'}, valueLen)
		r := kmsg.Record{OffsetDelta: int32(i), TimestampDelta64: int64(i), Value: val}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		recs = r.AppendTo(recs)
	}
	if pid < 0 {
		epoch, seq = -1, -1
	}
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(n - 1),
		FirstTimestamp: now, MaxTimestamp: now + int64(n-1),
		ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq,
		NumRecords: int32(n), Records: recs,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func produceRequest(version int16, acks int16, topic string, partition int32, batch []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = version, acks, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func producePartition(t testing.TB, resp kmsg.Response) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	pr := resp.(*kmsg.ProduceResponse)
	if len(pr.Topics) != 1 || len(pr.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response shape: %+v", pr)
	}
	return pr.Topics[0].Partitions[0]
}

func errName(code int16) string {
	if code == 0 {
		return "none"
	}
	return kerr.ErrorForCode(code).Error()
}

func TestBadInput(t *testing.T) {
	tb := startBroker(t, "message.max.bytes=2000")
	createTopic(t, tb.addr, "t", 1, nil)
	// healthy: another connection must keep working through all of this.
	healthy := dialRaw(t, tb.addr)
	checkHealthy := func() {
		t.Helper()
		md := kmsg.NewPtrMetadataRequest()
		md.Version = 9
		resp := healthy.roundTrip(md).(*kmsg.MetadataResponse)
		if len(resp.Brokers) != 1 {
			t.Fatalf("metadata after bad input: %+v", resp)
		}
	}

	t.Run("illegal topic names", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		names := []string{"", ".", "..", strings.Repeat("x", 250), "a/b", "../../etc", "sp ace", "ü"}
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version = 5
		for _, n := range names {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = n, 1, 1
			req.Topics = append(req.Topics, rt)
		}
		resp := c.roundTrip(req).(*kmsg.CreateTopicsResponse)
		for _, st := range resp.Topics {
			if st.ErrorCode != kerr.InvalidTopicException.Code || st.ErrorMessage == nil {
				t.Errorf("create %q: %s", st.Topic, errName(st.ErrorCode))
			}
		}
		md := kmsg.NewPtrMetadataRequest()
		md.Version, md.AllowAutoTopicCreation = 9, true
		for _, n := range names[1:] {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = &n
			md.Topics = append(md.Topics, rt)
		}
		mresp := c.roundTrip(md).(*kmsg.MetadataResponse)
		for _, st := range mresp.Topics {
			if st.ErrorCode != kerr.InvalidTopicException.Code {
				t.Errorf("metadata %q: %s", *st.Topic, errName(st.ErrorCode))
			}
		}
		checkHealthy()
	})

	t.Run("oversized batch", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		p := producePartition(t, c.roundTrip(produceRequest(9, -1, "t", 0, testBatch(10, -1, 0, 0, 300))))
		if p.ErrorCode != kerr.MessageTooLarge.Code {
			t.Fatalf("got %s", errName(p.ErrorCode))
		}
		checkHealthy()
	})

	t.Run("corrupt CRC", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		b := testBatch(3, -1, 0, 0, 10)
		b[len(b)-2] ^= 0x55
		p := producePartition(t, c.roundTrip(produceRequest(9, 1, "t", 0, b)))
		if p.ErrorCode != kerr.CorruptMessage.Code || p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "CRC") {
			t.Fatalf("got %s %v", errName(p.ErrorCode), p.ErrorMessage)
		}
		// acks=0: no answer, the connection is closed.
		c.send(produceRequest(9, 0, "t", 0, b))
		c.expectClosed()
		checkHealthy()
	})

	t.Run("unknown API key", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		frame := []byte{0, 0, 0, 10, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0, 0}
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		c.sendRaw(frame)
		c.expectClosed()
		checkHealthy()
	})

	t.Run("unsupported version", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		// Produce v2 is a message-set version this broker does not serve.
		p := producePartition(t, c.roundTrip(produceRequest(2, 1, "t", 0, testBatch(1, -1, 0, 0, 1))))
		if p.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("produce v2: %s", errName(p.ErrorCode))
		}
		// The connection stays usable.
		p = producePartition(t, c.roundTrip(produceRequest(9, 1, "t", 0, testBatch(1, -1, 0, 0, 1))))
		if p.ErrorCode != 0 {
			t.Fatalf("produce v9 after v2: %s", errName(p.ErrorCode))
		}
		// Fetch v3 likewise, with a top-level mirror of the partitions.
		f := kmsg.NewPtrFetchRequest()
		f.Version = 3
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "t"
		ft.Partitions = []kmsg.FetchRequestTopicPartition{{Partition: 0}}
		f.Topics = append(f.Topics, ft)
		fr := c.roundTrip(f).(*kmsg.FetchResponse)
		if len(fr.Topics) != 1 || fr.Topics[0].Partitions[0].ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("fetch v3: %+v", fr)
		}
		checkHealthy()
	})

	t.Run("ApiVersions above the served range", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		// A version this broker does not know: header v1, garbage body.
		frame := binary.BigEndian.AppendUint32(nil, 0)
		frame = binary.BigEndian.AppendUint16(frame, 18)
		frame = binary.BigEndian.AppendUint16(frame, 99)
		frame = binary.BigEndian.AppendUint32(frame, 7)
		frame = append(frame, 0xff, 0xff, 1, 2, 3)
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
		c.sendRaw(frame)
		raw, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if corr := binary.BigEndian.Uint32(raw); corr != 7 {
			t.Fatalf("correlation %d", corr)
		}
		var resp kmsg.ApiVersionsResponse
		resp.Version = 0
		if err := resp.ReadFrom(raw[4:]); err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) == 0 {
			t.Fatalf("response %+v", resp)
		}
		var found bool
		for _, k := range resp.ApiKeys {
			found = found || (k.ApiKey == 18 && k.MaxVersion >= 3)
		}
		if !found {
			t.Fatal("ApiVersions missing from its own key list")
		}
		checkHealthy()
	})

	t.Run("garbage bytes", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		c.sendRaw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.expectClosed()
		c = dialRaw(t, tb.addr)
		// Small frame, valid size, nonsense inside.
		c.sendRaw([]byte{0, 0, 0, 12, 0, 3, 0, 9, 0, 0, 0, 1, 0x7f, 0xff, 1, 2})
		c.expectClosed()
		checkHealthy()
	})

	t.Run("frame claiming 2 GiB", func(t *testing.T) {
		for _, size := range []uint32{0x7fffffff, 0x80000000, 0xffffffff} {
			c := dialRaw(t, tb.addr)
			c.sendRaw(binary.BigEndian.AppendUint32(nil, size))
			c.sendRaw([]byte{0, 18, 0, 0})
			c.expectClosed()
		}
		checkHealthy()
	})

	t.Run("truncated body", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		full := formatter.AppendRequest(nil, produceRequest(9, 1, "t", 0, testBatch(1, -1, 0, 0, 1)), 1)
		cut := full[:len(full)-20]
		binary.BigEndian.PutUint32(cut, uint32(len(cut)-4))
		c.sendRaw(cut)
		c.expectClosed()
		checkHealthy()
	})
}

// TestProduceOldVersionsRefused: Produce v0-2 are advertised but refused
// when they come, each partition with UNSUPPORTED_VERSION, and nothing is
// written.
func TestProduceOldVersionsRefused(t *testing.T) {
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	for _, v := range []int16{0, 1, 2} {
		req := kmsg.NewPtrProduceRequest()
		req.Version, req.Acks, req.TimeoutMillis = v, -1, 1000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "old"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = []byte{0}
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp := c.roundTrip(req).(*kmsg.ProduceResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("v%d: %+v", v, resp)
		}
	}
}

func TestApiVersionsAdvertisesServedVersions(t *testing.T) {
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	for _, v := range []int16{0, 1, 2, 3, 4} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = v, "test", "1.0"
		resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != 0 {
			t.Fatalf("v%d: %s", v, errName(resp.ErrorCode))
		}
		got := map[int16][2]int16{}
		for _, k := range resp.ApiKeys {
			got[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		for k, r := range servedVersions {
			if m, ok := advertisedBelow[k]; ok {
				r[0] = m
			}
			if got[k] != r {
				t.Errorf("v%d: key %d advertised %v, serves %v", v, k, got[k], r)
			}
		}
		if got[0] != [2]int16{0, 13} {
			t.Errorf("v%d: Produce advertised %v, want v0-13 as Kafka 4.0 (KAFKA-18659)", v, got[0])
		}
		if _, ok := got[int16(kmsg.JoinGroup)]; !ok {
			t.Errorf("v%d: group keys missing", v)
		}
	}
	// Client software names and versions (v3+) are checked against
	// KIP-511's pattern.
	for _, sw := range []struct {
		name, version string
		ok            bool
	}{
		{"test", "1.0", true},
		{"librdkafka", "2.3.0", true},
		{"apache-kafka-java", "3.9.0-SNAPSHOT", true},
		{"a", "1", true},
		{"-bad-", "1", false},
		{"bad-", "1", false},
		{"kgo", ".1", false},
		{"kgo", "1.0.", false},
		{"franz go", "1", false},
		{"kgo", "v1_2", false},
		{"", "1", false},
		{"kgo", "", false},
	} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = 3, sw.name, sw.version
		got := c.roundTrip(req).(*kmsg.ApiVersionsResponse).ErrorCode
		if want := map[bool]int16{true: 0, false: kerr.InvalidRequest.Code}[sw.ok]; got != want {
			t.Errorf("software %q %q: %s, want %s", sw.name, sw.version, errName(got), errName(want))
		}
	}
}

// TestApiVersionsAddressee: ApiVersions v5 may name the cluster and node
// the client means to reach (KIP-1242).
func TestApiVersionsAddressee(t *testing.T) {
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	ask := func(cluster *string, node int32) int16 {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = 5, "test", "1"
		req.ClusterID, req.NodeID = cluster, node
		return c.roundTrip(req).(*kmsg.ApiVersionsResponse).ErrorCode
	}
	id := tb.b.clusterID
	other := "another-cluster"
	for _, tc := range []struct {
		what    string
		cluster *string
		node    int32
		want    int16
	}{
		{"names no one", nil, -1, 0},
		{"names this broker", &id, tb.b.cfg.NodeID, 0},
		{"cluster without node", &id, -1, kerr.InvalidRequest.Code},
		{"node without cluster", nil, tb.b.cfg.NodeID, kerr.InvalidRequest.Code},
		{"another cluster", &other, tb.b.cfg.NodeID, kerr.RebootstrapRequired.Code},
		{"another node", &id, tb.b.cfg.NodeID + 1, kerr.RebootstrapRequired.Code},
	} {
		if got := ask(tc.cluster, tc.node); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.what, errName(got), errName(tc.want))
		}
	}
}

func TestEmulatedKafkaVersion(t *testing.T) {
	tb := startBroker(t, "emulate.kafka.version=2.1")
	c := dialRaw(t, tb.addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 2
	resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
	got := map[int16]int16{}
	for _, k := range resp.ApiKeys {
		got[k.ApiKey] = k.MaxVersion
	}
	if got[0] != 7 || got[1] != 10 || got[3] != 7 {
		t.Fatalf("capped to 2.1: produce %d fetch %d metadata %d", got[0], got[1], got[3])
	}
	if _, ok := got[60]; ok {
		t.Fatal("DescribeCluster (2.8+) advertised by an emulated 2.1")
	}
	// A version above the cap is refused like any unsupported version:
	// Metadata of every topic has no item to carry the error, so the
	// connection is closed, as Kafka does.
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 9
	c.send(md)
	c.expectClosed()
	c = dialRaw(t, tb.addr)
	// ApiVersions v3 is above 2.1's v2: a v0 answer with UNSUPPORTED_VERSION.
	req.Version = 3
	c.send(req)
	raw, err := c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	var v0 kmsg.ApiVersionsResponse
	if err := v0.ReadFrom(raw[4:]); err != nil || v0.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("ApiVersions v3 under 2.1: %v %s", err, errName(v0.ErrorCode))
	}
	// The capped broker still serves franz-go end to end.
	createTopic(t, tb.addr, "old", 1, nil)
	cl := newClient(t, tb.addr)
	produceSync(t, cl, "old", "a", "b")
	if recs := consumeN(t, tb.addr, "old", 2); valuesOf(recs) != "a,b" {
		t.Fatalf("consumed %s", valuesOf(recs))
	}
}

func TestServedVersionsMatchFileHeaders(t *testing.T) {
	files := map[int16]string{}
	for k := range servedVersions {
		matches, _ := filepathGlob(fmt.Sprintf("%02d_*.go", k))
		if len(matches) != 1 {
			t.Errorf("key %d: %d files", k, len(matches))
			continue
		}
		files[k] = matches[0]
	}
	for k, f := range files {
		data, err := readFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := servedVersions[k]
		want := fmt.Sprintf(": v%d-%d\n", r[0], r[1])
		if !strings.Contains(string(data), want) {
			t.Errorf("%s does not open with %q", f, want)
		}
	}
}
