package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/config/security/pemtest"
)

// A key store is read inline or from a file, never both; its key must not
// be encrypted. A trust store likewise. Each error names the key.
func TestStores(t *testing.T) {
	pki := pemtest.New(t, nil, "broker.example")
	keystore, truststore := pki.Files(t)
	encrypted := filepath.Join(t.TempDir(), "enc.pem")
	os.WriteFile(encrypted, append([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), pki.ServerCert...), 0o600)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600)

	for _, tc := range []struct {
		name   string
		s      Stores
		cert   bool   // a certificate is loaded
		trust  bool   // a pool is loaded
		errKey string // the error of Certificate, else of CertPool
	}{
		{name: "nothing named"},
		{name: "files", s: Stores{KeystoreLocation: keystore, TruststoreLocation: truststore}, cert: true, trust: true},
		{name: "inline", s: Stores{KeystoreChain: string(pki.ServerCert), KeystoreKey: string(pki.ServerKey), TruststoreCerts: string(pki.CAPEM)}, cert: true, trust: true},
		{name: "chain without key", s: Stores{KeystoreChain: string(pki.ServerCert)}, errKey: "ssl.keystore.certificate.chain and ssl.keystore.key must be set together"},
		{name: "inline and file", s: Stores{KeystoreLocation: keystore, KeystoreChain: string(pki.ServerCert), KeystoreKey: string(pki.ServerKey)}, errKey: "ssl.keystore.location cannot be set with"},
		{name: "encrypted key", s: Stores{KeystoreLocation: encrypted}, errKey: "ssl.keystore: the private key is encrypted"},
		{name: "key store without a key", s: Stores{KeystoreLocation: truststore}, errKey: "ssl.keystore: "},
		{name: "missing trust store", s: Stores{TruststoreLocation: filepath.Join(t.TempDir(), "none.pem")}, errKey: "ssl.truststore.location: open "},
		{name: "no certificate in the trust store", s: Stores{TruststoreLocation: garbage}, errKey: "ssl.truststore: no PEM certificate found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, ok, cerr := tc.s.Certificate()
			pool, perr := tc.s.CertPool()
			if tc.errKey != "" {
				err := cerr
				if err == nil {
					err = perr
				}
				if err == nil || !strings.Contains(err.Error(), tc.errKey) {
					t.Fatalf("error %v, want one saying %q", err, tc.errKey)
				}
				return
			}
			if cerr != nil || perr != nil {
				t.Fatalf("errors %v, %v", cerr, perr)
			}
			if ok != tc.cert || ok && len(cert.Certificate) == 0 {
				t.Errorf("certificate loaded %v (%d in the chain), want %v", ok, len(cert.Certificate), tc.cert)
			}
			if (pool != nil) != tc.trust {
				t.Errorf("pool %v, want one: %v", pool, tc.trust)
			}
		})
	}
}
