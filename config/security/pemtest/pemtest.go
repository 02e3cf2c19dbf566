// Package pemtest makes a throwaway certificate authority, a server and a
// client certificate, in PEM, for tests of TLS listeners and clients and of
// the ssl.* keys that name PEM stores.
package pemtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a certificate authority with one server and one client
// certificate, valid for an hour either side of its making.
type PKI struct {
	CAPEM                  []byte
	CAPool                 *x509.CertPool
	ServerCert, ServerKey  []byte
	ClientCert, ClientKey  []byte
	ServerPair, ClientPair tls.Certificate
}

// New makes a PKI whose server certificate names the given addresses and
// host names.
func New(t testing.TB, ips []net.IP, dns ...string) *PKI {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tributary test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string) (certPEM, keyPEM []byte, pair tls.Certificate) {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
		if pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
			t.Fatal(err)
		}
		return certPEM, keyPEM, pair
	}
	p := &PKI{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), CAPool: x509.NewCertPool()}
	p.CAPool.AddCert(ca)
	p.ServerCert, p.ServerKey, p.ServerPair = issue(2, "broker", x509.ExtKeyUsageServerAuth, ips, dns)
	p.ClientCert, p.ClientKey, p.ClientPair = issue(3, "client", x509.ExtKeyUsageClientAuth, nil, nil)
	return p
}

// Files writes the server's key store (key and chain in one PEM file) and
// the trust store (the CA) into a temporary folder and returns their paths.
func (p *PKI) Files(t testing.TB) (keystore, truststore string) {
	t.Helper()
	dir := t.TempDir()
	keystore, truststore = filepath.Join(dir, "broker.pem"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(keystore, append(append([]byte{}, p.ServerKey...), p.ServerCert...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truststore, p.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return keystore, truststore
}

// ClientTLS is a client configuration that trusts the CA and, when asked,
// presents the client certificate.
func (p *PKI) ClientTLS(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: p.CAPool}
	if withCert {
		cfg.Certificates = []tls.Certificate{p.ClientPair}
	}
	return cfg
}
