package broker

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config/security"
)

var (
	fuzzOnce   sync.Once
	fuzzBroker *Broker
	fuzzDir    string
)

// startFuzzBroker starts the broker shared by every fuzz input of a
// process; TestMain stops it.
func startFuzzBroker() *Broker {
	fuzzOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tributary-fuzz-")
		if err != nil {
			panic(err)
		}
		// listeners[0] is PLAINTEXT, listeners[1] SASL_PLAINTEXT.
		cfg, err := testConfig(dir, append(saslProps("SASL_PLAINTEXT"), "message.max.bytes=100000",
			"listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
			"connection.failed.authentication.delay.ms=0")...)
		if err != nil {
			panic(err)
		}
		cfg.Logger = nil
		b, err := New(cfg)
		if err != nil {
			panic(err)
		}
		if err := b.Start(context.Background()); err != nil {
			panic(err)
		}
		fuzzBroker, fuzzDir = b, dir
	})
	return fuzzBroker
}

// FuzzRequest feeds arbitrary request frames (without the size prefix)
// through the broker's decoding, dispatch, handlers and response encoding,
// on an in-process broker. Nothing may panic; whatever is answered must
// encode. The seed corpus is in testdata/fuzz/FuzzRequest.
func FuzzRequest(f *testing.F) {
	for _, req := range fuzzSeeds() {
		f.Add(formatter.AppendRequest(nil, req, 1)[4:])
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		b := startFuzzBroker()
		if len(frame) >= 2 {
			switch binary.BigEndian.Uint16(frame) {
			case 19, 37: // would create folders by the thousand: decode only
				if req := kmsg.RequestForKey(int16(binary.BigEndian.Uint16(frame))); req != nil && len(frame) >= 4 {
					req.SetVersion(int16(binary.BigEndian.Uint16(frame[2:])))
					if req.GetVersion() >= 0 && req.GetVersion() <= req.MaxVersion() {
						req.ReadFrom(frame[min(len(frame), 10):])
					}
				}
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		c := &conn{b: b, nc: nopConn{}, ip: "127.0.0.1", lis: b.listeners[0], log: slog.New(slog.DiscardHandler), ctx: ctx, cancel: cancel}
		buf := getBuf(len(frame))
		copy(buf, frame)
		p := c.process(buf)
		if p == nil {
			return
		}
		if p.wait != nil {
			p.wait()
		}
		if !p.none {
			out := appendResponse(nil, p.corr, p.resp)
			if int(binary.BigEndian.Uint32(out)) != len(out)-4 {
				t.Fatal("bad frame size")
			}
		}
		if p.release != nil {
			p.release()
		}
	})
}

func fuzzSeeds() []kmsg.Request {
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version, av.ClientSoftwareName, av.ClientSoftwareVersion = 3, "fuzz", "1"
	md := kmsg.NewPtrMetadataRequest()
	md.Version, md.AllowAutoTopicCreation = 9, true
	name := "fuzz"
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: &name}}
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version, fetch.MaxWaitMillis, fetch.MinBytes = 12, 10, 1
	fetch.Topics = []kmsg.FetchRequestTopic{{Topic: "fuzz", Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}}}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.Version = 7
	lo.Topics = []kmsg.ListOffsetsRequestTopic{{Topic: "fuzz", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Timestamp: -3}}}}
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.Version, fc.CoordinatorKeys = 4, []string{"g"}
	dc := kmsg.NewPtrDescribeConfigsRequest()
	dc.Version = 4
	dc.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "fuzz"}}
	ip := kmsg.NewPtrInitProducerIDRequest()
	ip.Version = 4
	return []kmsg.Request{av, md, produceRequest(9, 1, "fuzz", 0, testBatch(2, -1, 0, 0, 5)), produceRequest(3, -1, "fuzz", 0, testBatch(1, 1, 0, 0, 5)), fetch, lo, fc, dc, ip}
}

// nopConn is a connection that is never read or written: process only
// needs it for the client's address.
type nopConn struct{ net.Conn }

func (nopConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// FuzzSASLExchange feeds arbitrary tokens to the SASL mechanisms, as a
// client before authentication may send them: nothing may panic, and
// nothing but the right credentials may authenticate.
func FuzzSASLExchange(f *testing.F) {
	f.Add("PLAIN", []byte("\x00alice\x00alice-secret"), []byte(nil))
	f.Add("PLAIN", []byte("alice\x00alice\x00wrong"), []byte(nil))
	f.Add("SCRAM-SHA-256", []byte("n,,n=alice,r=abcdef"), []byte("c=biws,r=abcdef,p=AAAA"))
	f.Add("SCRAM-SHA-512", []byte("y,a=bob,n=bob,r=x,ext=1"), []byte("c=eSxhPWJvYiw=,r=x,p="))
	f.Add("SCRAM-SHA-256", []byte("p=tls-unique,,n=a,r=b"), []byte(""))
	f.Add("SCRAM-SHA-256", []byte("n,,n=a=2Cb=3D,r=b,tokenauth=true"), []byte(""))
	srv, err := newSASLServer(&SASL{
		Mechanisms: supportedMechanisms,
		Users: map[string]map[string]string{
			MechanismPlain:       {"alice": "alice-secret"},
			MechanismScramSHA256: {"alice": "alice-secret"},
			MechanismScramSHA512: {"bob": "bob-secret"},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, mech string, first, second []byte) {
		x := srv.start(mech)
		if x == nil {
			return
		}
		_, done, err := x.step(first)
		if err != nil || done {
			if done && (mech != MechanismPlain || string(first[bytes.IndexByte(first, 0)+1:]) != "alice\x00alice-secret") {
				t.Fatalf("PLAIN authenticated %q", first)
			}
			return
		}
		if _, done, err = x.step(second); done && err == nil {
			t.Fatalf("%s authenticated without the password: %q %q", mech, first, second)
		}
	})
}

// FuzzJAAS parses arbitrary sasl.jaas.config values.
func FuzzJAAS(f *testing.F) {
	f.Add(`org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_alice="alice-secret";`)
	f.Add(`ScramLoginModule required user_a="b \"c\" \\ d" user_e=f;`)
	f.Add(`X optional a=;`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := security.ParseJAAS(s)
		if err == nil && (e.Module == "" || e.Options == nil) {
			t.Fatalf("%q parsed to %+v", s, e)
		}
		jaasUsers(MechanismPlain, s)
		jaasUsers(MechanismScramSHA256, s)
	})
}

// FuzzUnauthenticated feeds two arbitrary frames to a connection of a
// SASL listener. Unless they authenticate (with alice's password), only
// ApiVersions, SaslHandshake and SaslAuthenticate may be answered: no
// other request is handled.
func FuzzUnauthenticated(f *testing.F) {
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	hs0 := kmsg.NewPtrSASLHandshakeRequest()
	hs0.Mechanism = "SCRAM-SHA-256"
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version, auth.SASLAuthBytes = 2, []byte("\x00alice\x00guess")
	md := kmsg.NewPtrMetadataRequest()
	md.Version, md.AllowAutoTopicCreation = 9, true
	name := "unauth"
	md.Topics = []kmsg.MetadataRequestTopic{{Topic: &name}}
	frame := func(r kmsg.Request) []byte { return formatter.AppendRequest(nil, r, 1)[4:] }
	f.Add(frame(hs), frame(auth))
	f.Add(frame(hs0), []byte("n,,n=alice,r=nonce"))
	f.Add(frame(md), frame(md))
	f.Add(frame(hs), frame(md))
	f.Add(frame(produceRequest(9, 1, "unauth", 0, testBatch(1, -1, 0, 0, 5))), []byte{})
	f.Fuzz(func(t *testing.T, first, second []byte) {
		b := startFuzzBroker()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		c := &conn{b: b, nc: nopConn{}, ip: "127.0.0.1", lis: b.listeners[1], log: slog.New(slog.DiscardHandler), ctx: ctx, cancel: cancel}
		for _, fr := range [][]byte{first, second} {
			wasAuthed, wasRaw := c.authed, c.saslRaw
			buf := getBuf(len(fr))
			copy(buf, fr)
			p := c.process(buf)
			if p == nil {
				return // closed
			}
			if !wasAuthed && !wasRaw && p.key != 17 && p.key != 18 && p.key != 36 {
				t.Fatalf("%s answered before authentication", kmsg.NameForKey(p.key))
			}
			if p.wait != nil {
				p.wait()
			}
			if p.closeAfter {
				return
			}
		}
	})
}
