package broker

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config/security/pemtest"
)

// newTestPKI is a CA with a server certificate for 127.0.0.1, ::1 and
// localhost and a client certificate, made for one test.
func newTestPKI(t testing.TB) *pemtest.PKI {
	return pemtest.New(t, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, "localhost")
}

// roundTripFranz produces one record and consumes it back.
func roundTripFranz(t testing.TB, addr, topic string, opts ...kgo.Opt) error {
	t.Helper()
	return roundTripFranzWithin(t, 20*time.Second, addr, topic, opts...)
}

func roundTripFranzWithin(t testing.TB, d time.Duration, addr, topic string, opts ...kgo.Opt) error {
	t.Helper()
	ctx := testCtx(t, d)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RetryTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("secret")}).FirstErr(); err != nil {
		return err
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		return err
	}
	if fs.NumRecords() < 1 || string(fs.Records()[0].Value) != "secret" {
		t.Fatalf("consumed %d records", fs.NumRecords())
	}
	return nil
}

func TestTLSListener(t *testing.T) {
	pki := newTestPKI(t)
	keystore, truststore := pki.Files(t)
	// Inline PEM (KIP-651), client certificates requested.
	inline := startBroker(t, "listeners=SSL://127.0.0.1:0",
		"ssl.keystore.type=PEM",
		"ssl.keystore.certificate.chain="+string(pki.ServerCert),
		"ssl.keystore.key="+string(pki.ServerKey),
		"ssl.truststore.certificates="+string(pki.CAPEM),
		"ssl.client.auth=requested")
	// PEM files by location, client certificates required.
	required := startBroker(t, "listeners=SSL://127.0.0.1:0",
		"ssl.keystore.type=PEM", "ssl.keystore.location="+keystore,
		"ssl.truststore.type=PEM", "ssl.truststore.location="+truststore,
		"ssl.client.auth=required")

	t.Run("franz-go", func(t *testing.T) {
		if err := roundTripFranz(t, inline.addr, "tls", kgo.DialTLSConfig(pki.ClientTLS(false))); err != nil {
			t.Fatalf("without a client certificate, requested: %v", err)
		}
		if err := roundTripFranz(t, inline.addr, "tls", kgo.DialTLSConfig(pki.ClientTLS(true))); err != nil {
			t.Fatalf("with a client certificate, requested: %v", err)
		}
		if err := roundTripFranz(t, required.addr, "tls", kgo.DialTLSConfig(pki.ClientTLS(true))); err != nil {
			t.Fatalf("with a client certificate, required: %v", err)
		}
		if err := roundTripFranzWithin(t, 3*time.Second, required.addr, "tls", kgo.DialTLSConfig(pki.ClientTLS(false))); err == nil {
			t.Fatal("without a client certificate, required: served")
		}
		// The refusal is the TLS handshake's.
		nc, err := tls.Dial("tcp", required.addr, pki.ClientTLS(false))
		if err == nil {
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = nc.Read(make([]byte, 1))
			nc.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("without a client certificate, required: %v", err)
		}
		// A client that does not trust the broker's CA refuses it.
		if _, err := tls.Dial("tcp", inline.addr, &tls.Config{}); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("untrusted broker certificate: %v", err)
		}
	})

	t.Run("sarama", func(t *testing.T) {
		for _, tc := range []struct {
			addr     string
			withCert bool
			ok       bool
		}{{inline.addr, false, true}, {required.addr, true, true}, {required.addr, false, false}} {
			cfg := sarama.NewConfig()
			cfg.Version = sarama.V2_8_0_0
			cfg.Net.TLS.Enable = true
			cfg.Net.TLS.Config = pki.ClientTLS(tc.withCert)
			cfg.Producer.Return.Successes = true
			cfg.Metadata.Retry.Max = 1
			cfg.Net.DialTimeout = 5 * time.Second
			p, err := sarama.NewSyncProducer([]string{tc.addr}, cfg)
			if err == nil {
				_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "tls-sarama", Value: sarama.StringEncoder("v")})
				p.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("%s, client certificate %v: %v", tc.addr, tc.withCert, err)
			}
		}
	})

	t.Run("plaintext client on a TLS listener", func(t *testing.T) {
		c := dialRaw(t, inline.addr)
		c.send(kmsg.NewPtrApiVersionsRequest())
		c.expectClosed()
	})
}

func TestTLSConfigErrors(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	jks := filepath.Join(dir, "broker.jks")
	os.WriteFile(jks, []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2}, 0o600)
	enc := filepath.Join(dir, "enc.pem")
	os.WriteFile(enc, append([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), pki.ServerCert...), 0o600)
	for _, tc := range []struct {
		props []string
		want  string
	}{
		{[]string{"listeners=SSL://127.0.0.1:0"}, "needs a key and certificate"},
		{[]string{"listeners=SSL://127.0.0.1:0", "ssl.keystore.location=" + jks}, "is not PEM"},
		{[]string{"listeners=SSL://127.0.0.1:0", "ssl.keystore.location=" + enc}, "encrypted"},
		{[]string{"listeners=SSL://127.0.0.1:0", "ssl.keystore.location=" + filepath.Join(dir, "missing.pem")}, "no such file"},
		{[]string{"listeners=SSL://127.0.0.1:0", "ssl.keystore.certificate.chain=" + string(pki.ServerCert)}, "must be set together"},
		{[]string{"listeners=SSL://127.0.0.1:0", "ssl.keystore.certificate.chain=" + string(pki.ServerCert), "ssl.keystore.key=" + string(pki.ServerKey), "ssl.client.auth=required"}, "needs ssl.truststore"},
		{[]string{"listeners=SSL://127.0.0.1:0", "ssl.keystore.certificate.chain=" + string(pki.ServerCert), "ssl.keystore.key=" + string(pki.ClientKey)}, "ssl.keystore"},
		{[]string{"listeners=BOGUS://127.0.0.1:0"}, "security protocol BOGUS"},
	} {
		_, err := testConfig(t.TempDir(), tc.props...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.props[1:], err, tc.want)
		}
	}
	// Per-listener keys override the global ones.
	cfg, err := testConfig(t.TempDir(), "listeners=PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SSL",
		"listener.name.internal.ssl.keystore.certificate.chain="+string(pki.ServerCert),
		"listener.name.internal.ssl.keystore.key="+string(pki.ServerKey))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listeners[1].TLS == nil || cfg.Listeners[0].TLS != nil {
		t.Fatalf("listeners %+v", cfg.Listeners)
	}
}
