package kafkaclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/config/security/pemtest"
)

// ping sends one Metadata request through a client built from props.
func ping(t *testing.T, props map[string]string) error {
	t.Helper()
	res, err := Options(props, Admin)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(res.Opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cl.Request(ctx, kmsg.NewPtrMetadataRequest())
	return err
}

func TestSecurityAgainstKfake(t *testing.T) {
	certs := pemtest.New(t, []net.IP{net.IPv4(127, 0, 0, 1)}, "localhost")
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "alice", "alice-secret"),
		kfake.Superuser("SCRAM-SHA-256", "alice", "alice-secret"),
		kfake.Superuser("SCRAM-SHA-512", "bob", "bob-secret"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{certs.ServerPair}}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, certs.CAPEM, 0o644)
	base := func(kv ...string) map[string]string {
		m := map[string]string{"bootstrap.servers": addr, "security.protocol": "SASL_SSL", "ssl.truststore.location": ca}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	plainJAAS := func(u, p string) string {
		return `org.apache.kafka.common.security.plain.PlainLoginModule required username="` + u + `" password="` + p + `";`
	}
	scramJAAS := func(u, p string) string {
		return `org.apache.kafka.common.security.scram.ScramLoginModule required username="` + u + `" password="` + p + `";`
	}
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  error
	}{
		{"PLAIN", base("sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS("alice", "alice-secret")), nil},
		{"SCRAM-SHA-256", base("sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", scramJAAS("alice", "alice-secret")), nil},
		{"SCRAM-SHA-512", base("sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", scramJAAS("bob", "bob-secret")), nil},
		{"inline trust store", base("ssl.truststore.location", "", "ssl.truststore.certificates", string(certs.CAPEM), "sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS("alice", "alice-secret")), nil},
		// kfake cuts the connection rather than answering: any error.
		{"wrong password", base("sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", scramJAAS("alice", "nope")), errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ping(t, tc.props)
			if tc.want == nil && err != nil || tc.want != nil && err == nil || tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Without the CA the broker is not trusted.
	props := base("sasl.mechanism", "PLAIN", "sasl.jaas.config", plainJAAS("alice", "alice-secret"))
	delete(props, "ssl.truststore.location")
	if err := ping(t, props); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted broker: %v", err)
	}
}

var errAny = errors.New("any error")

func TestEndpointIdentification(t *testing.T) {
	// The certificate names another host than the one dialled.
	certs := pemtest.New(t, nil, "broker.example")
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{certs.ServerPair}}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	props := map[string]string{"bootstrap.servers": c.ListenAddrs()[0], "security.protocol": "SSL", "ssl.truststore.certificates": string(certs.CAPEM)}
	if err := ping(t, props); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("host name mismatch: %v", err)
	}
	props["ssl.endpoint.identification.algorithm"] = ""
	if err := ping(t, props); err != nil {
		t.Fatalf("host name check disabled: %v", err)
	}
	// The chain is still verified.
	other := pemtest.New(t, nil, "broker.example")
	props["ssl.truststore.certificates"] = string(other.CAPEM)
	if err := ping(t, props); err == nil {
		t.Fatal("an untrusted chain was accepted with the host name check disabled")
	}
}

func TestClientCertificate(t *testing.T) {
	certs := pemtest.New(t, []net.IP{net.IPv4(127, 0, 0, 1)})
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{certs.ServerPair}, ClientCAs: certs.CAPool, ClientAuth: tls.RequireAndVerifyClientCert}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	keystore := filepath.Join(dir, "client.pem")
	os.WriteFile(keystore, append(append([]byte{}, certs.ClientKey...), certs.ClientCert...), 0o600)
	props := map[string]string{"bootstrap.servers": c.ListenAddrs()[0], "security.protocol": "SSL", "ssl.truststore.certificates": string(certs.CAPEM)}
	props["ssl.keystore.location"] = keystore
	if err := ping(t, props); err != nil {
		t.Fatalf("keystore by location: %v", err)
	}
	delete(props, "ssl.keystore.location")
	props["ssl.keystore.type"], props["ssl.keystore.certificate.chain"], props["ssl.keystore.key"] = "PEM", string(certs.ClientCert), string(certs.ClientKey)
	if err := ping(t, props); err != nil {
		t.Fatalf("inline keystore: %v", err)
	}
}

func TestSecurityErrors(t *testing.T) {
	dir := t.TempDir()
	jks := filepath.Join(dir, "client.jks")
	os.WriteFile(jks, []byte{0xfe, 0xed, 0xfe, 0xed}, 0o600)
	full := func(kv ...string) map[string]string {
		m := map[string]string{"bootstrap.servers": "127.0.0.1:9092"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		props map[string]string
		want  string
	}{
		{full("security.protocol", "SASL_PLAINTEXT"), "sasl.mechanism: GSSAPI is not supported"},
		{full("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN"), "sasl.jaas.config is required"},
		{full("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="s3cr3t";`), "takes ScramLoginModule"},
		{full("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", `PlainLoginModule required password="s3cr3t";`), "no username"},
		{full("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", `PlainLoginModule required username="a" password="s3cr3t"`), "not a JAAS entry"},
		{full("sasl.mechanism", "OAUTHBEARER"), `sasl.mechanism: "OAUTHBEARER" is not supported`},
		{full("security.protocol", "SSL", "ssl.truststore.location", jks), "is not PEM"},
		{full("security.protocol", "SSL", "ssl.truststore.location", filepath.Join(dir, "missing.pem")), "no such file"},
		{full("security.protocol", "SSL", "ssl.keystore.key", "x"), "must be set together"},
		{full("security.protocol", "SSL", "ssl.endpoint.identification.algorithm", "ldap"), "is not https or empty"},
		{full("security.protocol", "TLS"), `"TLS" is not one of`},
	} {
		_, err := Options(tc.props, Admin)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.props, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("an error shows the password: %v", err)
		}
	}
	// Keys checked one at a time (as a worker file's producer.* keys are)
	// are each fine on their own.
	for k, v := range map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": `x required;`} {
		if _, err := Options(map[string]string{k: v}, Producer); err != nil {
			t.Errorf("%s alone: %v", k, err)
		}
	}
}
