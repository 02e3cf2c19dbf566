package broker

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// saslProps configures listener L (SASL_PLAINTEXT or SASL_SSL) with the
// three mechanisms: alice for PLAIN and SCRAM-SHA-256, bob for
// SCRAM-SHA-512.
func saslProps(listener string) []string {
	l := strings.ToLower(listener)
	return []string{
		"sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
		"listener.name." + l + `.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`,
		"listener.name." + l + `.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_alice="alice-secret";`,
		"listener.name." + l + `.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_bob="bob \"the\" secret";`,
	}
}

func TestSASLFranzGo(t *testing.T) {
	tb := startBroker(t, append(saslProps("SASL_PLAINTEXT"), "listeners=SASL_PLAINTEXT://127.0.0.1:0")...)
	for _, tc := range []struct {
		name string
		mech sasl.Mechanism
		ok   bool
	}{
		{"PLAIN", plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism(), true},
		{"SCRAM-SHA-256", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism(), true},
		{"SCRAM-SHA-512", scram.Auth{User: "bob", Pass: `bob "the" secret`}.AsSha512Mechanism(), true},
		{"PLAIN wrong password", plain.Auth{User: "alice", Pass: "nope"}.AsMechanism(), false},
		{"PLAIN unknown user", plain.Auth{User: "mallory", Pass: "alice-secret"}.AsMechanism(), false},
		{"SCRAM-SHA-256 wrong password", scram.Auth{User: "alice", Pass: "nope"}.AsSha256Mechanism(), false},
		{"SCRAM-SHA-512 unknown user", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism(), false},
		{"SCRAM-SHA-512 wrong password", scram.Auth{User: "bob", Pass: "bob"}.AsSha512Mechanism(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ok {
				if err := roundTripFranz(t, tb.addr, "sasl", kgo.SASL(tc.mech)); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err := saslRefused(t, tb.addr, kgo.SASL(tc.mech)); !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("want SASL_AUTHENTICATION_FAILED, got %v", err)
			}
		})
	}
}

// saslRefused sends one request with a client that should fail to
// authenticate, and returns the error.
func saslRefused(t testing.TB, addr string, opts ...kgo.Opt) error {
	t.Helper()
	cl := newClient(t, addr, opts...)
	_, err := cl.Request(testCtx(t, 10*time.Second), kmsg.NewPtrMetadataRequest())
	return err
}

func TestSASLSSLFranzGo(t *testing.T) {
	pki := newTestPKI(t)
	keystore, _ := pki.Files(t)
	tb := startBroker(t, append(saslProps("SASL_SSL"), "listeners=SASL_SSL://127.0.0.1:0", "ssl.keystore.type=PEM", "ssl.keystore.location="+keystore)...)
	if err := roundTripFranz(t, tb.addr, "sasl-ssl", kgo.DialTLSConfig(pki.ClientTLS(false)), kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism())); err != nil {
		t.Fatal(err)
	}
	if err := saslRefused(t, tb.addr, kgo.DialTLSConfig(pki.ClientTLS(false)), kgo.SASL(plain.Auth{User: "alice", Pass: "x"}.AsMechanism())); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("wrong password: %v", err)
	}
}

// saramaSCRAM is a SCRAM client for sarama's SCRAMClient interface
// (RFC 5802), written independently of the broker's server side.
type saramaSCRAM struct {
	h                   func() hash.Hash
	user, pass, nonce   string
	clientFirstBare     string
	serverSignatureWant []byte
	step                int
	done                bool
}

func (s *saramaSCRAM) Begin(user, pass, _ string) error {
	s.user, s.pass = user, pass
	b := make([]byte, 18)
	rand.Read(b)
	s.nonce = base64.RawStdEncoding.EncodeToString(b)
	return nil
}

func (s *saramaSCRAM) Step(challenge string) (string, error) {
	s.step++
	switch s.step {
	case 1:
		s.clientFirstBare = "n=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s.user) + ",r=" + s.nonce
		return "n,," + s.clientFirstBare, nil
	case 2:
		var r, salt string
		var iter int
		for _, f := range strings.Split(challenge, ",") {
			switch {
			case strings.HasPrefix(f, "r="):
				r = f[2:]
			case strings.HasPrefix(f, "s="):
				salt = f[2:]
			case strings.HasPrefix(f, "i="):
				iter, _ = strconv.Atoi(f[2:])
			}
		}
		if !strings.HasPrefix(r, s.nonce) || iter < 4096 {
			return "", fmt.Errorf("bad server-first %q", challenge)
		}
		saltB, err := base64.StdEncoding.DecodeString(salt)
		if err != nil {
			return "", err
		}
		salted, _ := pbkdf2.Key(s.h, s.pass, saltB, iter, s.h().Size())
		mac := func(k []byte, m string) []byte { h := hmac.New(s.h, k); h.Write([]byte(m)); return h.Sum(nil) }
		clientKey := mac(salted, "Client Key")
		sh := s.h()
		sh.Write(clientKey)
		stored := sh.Sum(nil)
		final := "c=biws,r=" + r
		auth := s.clientFirstBare + "," + challenge + "," + final
		sig := mac(stored, auth)
		proof := make([]byte, len(sig))
		for i := range sig {
			proof[i] = clientKey[i] ^ sig[i]
		}
		s.serverSignatureWant = mac(mac(salted, "Server Key"), auth)
		return final + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
	default:
		if challenge != "v="+base64.StdEncoding.EncodeToString(s.serverSignatureWant) {
			return "", fmt.Errorf("server signature %q does not verify", challenge)
		}
		s.done = true
		return "", nil
	}
}

func (s *saramaSCRAM) Done() bool { return s.done }

func TestSASLSarama(t *testing.T) {
	tb := startBroker(t, append(saslProps("SASL_PLAINTEXT"), "listeners=SASL_PLAINTEXT://127.0.0.1:0")...)
	for _, tc := range []struct {
		name      string
		mech      sarama.SASLMechanism
		handshake int16
		user      string
		pass      string
		ok        bool
	}{
		{"PLAIN handshake v1", sarama.SASLTypePlaintext, sarama.SASLHandshakeV1, "alice", "alice-secret", true},
		{"PLAIN handshake v0 (bare tokens)", sarama.SASLTypePlaintext, sarama.SASLHandshakeV0, "alice", "alice-secret", true},
		{"PLAIN wrong password", sarama.SASLTypePlaintext, sarama.SASLHandshakeV1, "alice", "x", false},
		{"PLAIN v0 wrong password", sarama.SASLTypePlaintext, sarama.SASLHandshakeV0, "alice", "x", false},
		{"SCRAM-SHA-256", sarama.SASLTypeSCRAMSHA256, sarama.SASLHandshakeV1, "alice", "alice-secret", true},
		{"SCRAM-SHA-512", sarama.SASLTypeSCRAMSHA512, sarama.SASLHandshakeV1, "bob", `bob "the" secret`, true},
		{"SCRAM-SHA-512 wrong password", sarama.SASLTypeSCRAMSHA512, sarama.SASLHandshakeV1, "bob", "bob", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sarama.NewConfig()
			cfg.Version = sarama.V2_8_0_0
			if tc.handshake == sarama.SASLHandshakeV0 {
				cfg.Version = sarama.V0_11_0_0
				cfg.ApiVersionsRequest = false
			}
			cfg.Net.SASL.Enable = true
			cfg.Net.SASL.Mechanism = tc.mech
			cfg.Net.SASL.Version = tc.handshake
			cfg.Net.SASL.User, cfg.Net.SASL.Password = tc.user, tc.pass
			h := sha256.New
			if tc.mech == sarama.SASLTypeSCRAMSHA512 {
				h = sha512.New
			}
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &saramaSCRAM{h: h} }
			cfg.Producer.Return.Successes = true
			cfg.Metadata.Retry.Max = 0
			p, err := sarama.NewSyncProducer([]string{tb.addr}, cfg)
			if err == nil {
				_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "sasl-sarama", Value: sarama.StringEncoder("v")})
				p.Close()
			}
			if (err == nil) != tc.ok {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestSASLProtocol(t *testing.T) {
	tb := startBroker(t, append(saslProps("SASL_PLAINTEXT"), "listeners=SASL_PLAINTEXT://127.0.0.1:0")...)

	t.Run("requests before authentication close the connection", func(t *testing.T) {
		for _, req := range []kmsg.Request{
			produceRequest(9, 1, "unauth", 0, testBatch(1, -1, 0, 0, 5)),
			kmsg.NewPtrMetadataRequest(),
			kmsg.NewPtrSASLAuthenticateRequest(), // before a handshake
		} {
			c := dialRaw(t, tb.addr)
			c.apiVersionsOK()
			c.send(req)
			c.expectClosed()
		}
		if _, err := os.Stat(filepath.Join(tb.dir, "unauth-0")); err == nil {
			t.Fatal("an unauthenticated produce created its topic")
		}
	})

	t.Run("after the handshake only SaslAuthenticate", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, "PLAIN"
		if r := c.roundTrip(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 || !slices.Equal(r.SupportedMechanisms, []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
			t.Fatalf("handshake: %s %v", errName(r.ErrorCode), r.SupportedMechanisms)
		}
		c.send(kmsg.NewPtrMetadataRequest())
		c.expectClosed()
	})

	t.Run("unknown mechanism", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, "GSSAPI"
		r := c.roundTrip(hs).(*kmsg.SASLHandshakeResponse)
		if r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || len(r.SupportedMechanisms) != 3 {
			t.Fatalf("handshake: %s %v", errName(r.ErrorCode), r.SupportedMechanisms)
		}
		c.expectClosed()
	})

	t.Run("failed authentication", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, "PLAIN"
		c.roundTrip(hs)
		auth := kmsg.NewPtrSASLAuthenticateRequest()
		auth.Version, auth.SASLAuthBytes = 2, []byte("\x00alice\x00wrong")
		start := time.Now()
		r := c.roundTrip(auth).(*kmsg.SASLAuthenticateResponse)
		if r.ErrorCode != kerr.SaslAuthenticationFailed.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "invalid credentials") {
			t.Fatalf("authenticate: %s %v", errName(r.ErrorCode), r.ErrorMessage)
		}
		if d := time.Since(start); d < 90*time.Millisecond {
			t.Errorf("answered after %v, before connection.failed.authentication.delay.ms", d)
		}
		c.expectClosed()
	})

	// The salt of a user name is the same each time, known or not, so
	// that an unknown name cannot be told from a known one by asking
	// twice; different unknown names get different salts.
	t.Run("SCRAM salts do not tell unknown users", func(t *testing.T) {
		salt := func(user string) string {
			c := dialRaw(t, tb.addr)
			hs := kmsg.NewPtrSASLHandshakeRequest()
			hs.Version, hs.Mechanism = 1, "SCRAM-SHA-256"
			c.roundTrip(hs)
			auth := kmsg.NewPtrSASLAuthenticateRequest()
			auth.Version, auth.SASLAuthBytes = 2, []byte("n,,n="+user+",r=abcdefgh")
			r := c.roundTrip(auth).(*kmsg.SASLAuthenticateResponse)
			if r.ErrorCode != 0 {
				t.Fatalf("client-first of %s: %s", user, errName(r.ErrorCode))
			}
			for _, a := range strings.Split(string(r.SASLAuthBytes), ",") {
				if v, ok := strings.CutPrefix(a, "s="); ok {
					return v
				}
			}
			t.Fatalf("server-first without a salt: %q", r.SASLAuthBytes)
			return ""
		}
		for _, user := range []string{"alice", "mallory"} {
			if a, b := salt(user), salt(user); a != b {
				t.Errorf("%s: salt %s, then %s", user, a, b)
			}
		}
		if salt("mallory") == salt("trudy") {
			t.Error("two unknown users share a salt")
		}
	})

	t.Run("authenticated raw client", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 1, "PLAIN"
		c.roundTrip(hs)
		auth := kmsg.NewPtrSASLAuthenticateRequest()
		auth.Version, auth.SASLAuthBytes = 2, []byte("alice\x00alice\x00alice-secret")
		if r := c.roundTrip(auth).(*kmsg.SASLAuthenticateResponse); r.ErrorCode != 0 {
			t.Fatalf("authenticate: %s", errName(r.ErrorCode))
		}
		md := kmsg.NewPtrMetadataRequest()
		md.Version = 9
		if r := c.roundTrip(md).(*kmsg.MetadataResponse); len(r.Brokers) != 1 {
			t.Fatalf("metadata: %+v", r)
		}
		// A second handshake is out of place.
		hs.Version = 1
		if r := c.roundTrip(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != kerr.IllegalSaslState.Code {
			t.Fatalf("second handshake: %s", errName(r.ErrorCode))
		}
	})
}

func TestSASLKeysOnPlaintextListener(t *testing.T) {
	// As in Kafka: ApiVersions lists SaslHandshake and SaslAuthenticate on
	// every listener; on a PLAINTEXT one they answer ILLEGAL_SASL_STATE.
	tb := startBroker(t)
	c := dialRaw(t, tb.addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "t", "1"
	var keys []int16
	for _, k := range c.roundTrip(req).(*kmsg.ApiVersionsResponse).ApiKeys {
		keys = append(keys, k.ApiKey)
	}
	if !slices.Contains(keys, 17) || !slices.Contains(keys, 36) {
		t.Fatalf("ApiVersions keys %v", keys)
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	if r := c.roundTrip(hs).(*kmsg.SASLHandshakeResponse); r.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("handshake: %s", errName(r.ErrorCode))
	}
	auth := kmsg.NewPtrSASLAuthenticateRequest()
	auth.Version = 1
	if r := c.roundTrip(auth).(*kmsg.SASLAuthenticateResponse); r.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("authenticate: %s", errName(r.ErrorCode))
	}
	c.apiVersionsOK()
}

func TestSASLConfigErrors(t *testing.T) {
	const l = "listeners=SASL_PLAINTEXT://127.0.0.1:0"
	for _, tc := range []struct {
		props []string
		want  string
	}{
		{[]string{l}, "enables GSSAPI on listener SASL_PLAINTEXT"},
		{[]string{l, "sasl.enabled.mechanisms=PLAIN"}, "listener.name.sasl_plaintext.plain.sasl.jaas.config"},
		{[]string{l, "sasl.enabled.mechanisms=PLAIN", `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_a="b";`}, "PLAIN takes"},
		{[]string{l, "sasl.enabled.mechanisms=PLAIN", `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b";`}, "names no user"},
		{[]string{l, "sasl.enabled.mechanisms=PLAIN", `listener.name.sasl_plaintext.plain.sasl.jaas.config=PlainLoginModule required user_a="b"`}, "not a JAAS entry"},
		{[]string{l, "sasl.enabled.mechanisms=PLAIN", `listener.name.sasl_plaintext.plain.sasl.jaas.config=PlainLoginModule required user_a="b;`}, "unterminated"},
		{[]string{l, "listener.name.sasl_plaintext.sasl.enabled.mechanisms=OAUTHBEARER"}, "OAUTHBEARER"},
	} {
		_, err := testConfig(t.TempDir(), tc.props...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.props[1:], err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), `"b"`) {
			t.Errorf("an error shows a password: %v", err)
		}
	}
	// Per-listener mechanisms override the global list.
	cfg, err := testConfig(t.TempDir(), "listeners=SASL_PLAINTEXT://127.0.0.1:0",
		"listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512",
		`listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_x="y";`)
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Listeners[0].SASL; s == nil || !slices.Equal(s.Mechanisms, []string{"SCRAM-SHA-512"}) || s.Users["SCRAM-SHA-512"]["x"] != "y" {
		t.Fatalf("SASL %+v", cfg.Listeners[0].SASL)
	}
	if unused := UnusedKeys(cfg.values, cfg); len(unused) != 0 {
		t.Fatalf("per-listener keys reported unused: %v", unused)
	}
}
