package security

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Stores names a key store and a trust store as Kafka's ssl.* keys do:
// each a PEM file (ssl.keystore.location, ssl.truststore.location) or PEM
// given inline (ssl.keystore.certificate.chain with ssl.keystore.key,
// ssl.truststore.certificates). Whoever reads the keys fills it in, for a
// listener or for a client.
type Stores struct {
	KeystoreLocation   string
	KeystoreChain      string
	KeystoreKey        string
	TruststoreLocation string
	TruststoreCerts    string
}

// Certificate loads the key store: the certificate chain and its private
// key, inline or from the one PEM file that holds both. ok is false when
// no key store is named. Errors name the key.
func (s Stores) Certificate() (cert tls.Certificate, ok bool, err error) {
	var certPEM, keyPEM []byte
	switch {
	case s.KeystoreChain != "" || s.KeystoreKey != "":
		if s.KeystoreChain == "" || s.KeystoreKey == "" {
			return cert, false, errors.New("ssl.keystore.certificate.chain and ssl.keystore.key must be set together")
		}
		if s.KeystoreLocation != "" {
			return cert, false, errors.New("ssl.keystore.location cannot be set with ssl.keystore.certificate.chain")
		}
		certPEM, keyPEM = []byte(s.KeystoreChain), []byte(s.KeystoreKey)
	case s.KeystoreLocation != "":
		data, err := readPEMFile("ssl.keystore.location", s.KeystoreLocation)
		if err != nil {
			return cert, false, err
		}
		certPEM, keyPEM = data, data
	default:
		return cert, false, nil
	}
	if encryptedPEMKey(keyPEM) {
		return cert, false, errors.New("ssl.keystore: the private key is encrypted; give an unencrypted PEM key (openssl pkcs8 -topk8 -nocrypt)")
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return cert, false, fmt.Errorf("ssl.keystore: %w", err)
	}
	return cert, true, nil
}

// CertPool loads the trust store: the certificates given inline, or those
// of the PEM file. It is nil when no trust store is named. Errors name the
// key.
func (s Stores) CertPool() (*x509.CertPool, error) {
	var trust []byte
	switch {
	case s.TruststoreCerts != "":
		trust = []byte(s.TruststoreCerts)
	case s.TruststoreLocation != "":
		var err error
		if trust, err = readPEMFile("ssl.truststore.location", s.TruststoreLocation); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(trust) {
		return nil, errors.New("ssl.truststore: no PEM certificate found")
	}
	return pool, nil
}
