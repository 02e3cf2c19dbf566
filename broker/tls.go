package broker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-io/tributary/config/security"
)

// TLS on SSL and SASL_SSL listeners.
//
// Keys and certificates are read in PEM, as Kafka reads them with
// ssl.keystore.type=PEM (KIP-651): either inline, with
// ssl.keystore.certificate.chain and ssl.keystore.key, or from a file named
// by ssl.keystore.location holding the private key and the certificate
// chain. Trusted certificates (for client certificates, ssl.client.auth)
// come from ssl.truststore.certificates or a PEM file at
// ssl.truststore.location. JKS and PKCS12 stores are not read: convert them
// to PEM (keytool -importkeystore -deststoretype PKCS12, then openssl
// pkcs12 -nodes). Private keys must not be encrypted: Go's standard
// library does not decrypt PKCS#8 keys, so ssl.key.password cannot be used.
// Every ssl.* key may be set for one listener as
// listener.name.<listener>.ssl.*.

// tlsSettings are the ssl.* values for one listener.
type tlsSettings struct {
	keystoreType, keystoreLocation, keystoreChain, keystoreKey, keyPassword string
	truststoreType, truststoreLocation, truststoreCerts                     string
	clientAuth                                                              string
	protocols                                                               []string
}

// buildTLS makes the tls.Config of a listener; errors name the key.
func buildTLS(s tlsSettings) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	var certPEM, keyPEM []byte
	switch {
	case s.keystoreChain != "" || s.keystoreKey != "":
		if s.keystoreChain == "" || s.keystoreKey == "" {
			return nil, errors.New("ssl.keystore.certificate.chain and ssl.keystore.key must be set together")
		}
		if s.keystoreLocation != "" {
			return nil, errors.New("ssl.keystore.location cannot be set with ssl.keystore.certificate.chain")
		}
		certPEM, keyPEM = []byte(s.keystoreChain), []byte(s.keystoreKey)
	case s.keystoreLocation != "":
		data, err := security.ReadPEMFile("ssl.keystore.location", s.keystoreLocation)
		if err != nil {
			return nil, err
		}
		certPEM, keyPEM = data, data
	default:
		return nil, errors.New("an SSL listener needs a key and certificate: set ssl.keystore.location (a PEM file with both) or ssl.keystore.certificate.chain and ssl.keystore.key")
	}
	if security.EncryptedPEMKey(keyPEM) {
		return nil, errors.New("ssl.keystore.key: the private key is encrypted; give an unencrypted PEM key (openssl pkcs8 -topk8 -nocrypt)")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ssl.keystore: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}

	var trust []byte
	switch {
	case s.truststoreCerts != "":
		trust = []byte(s.truststoreCerts)
	case s.truststoreLocation != "":
		if trust, err = security.ReadPEMFile("ssl.truststore.location", s.truststoreLocation); err != nil {
			return nil, err
		}
	}
	if trust != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(trust) {
			return nil, errors.New("ssl.truststore: no PEM certificate found")
		}
		cfg.ClientCAs = pool
	}
	switch strings.ToLower(s.clientAuth) {
	case "", "none":
		cfg.ClientAuth = tls.NoClientCert
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("ssl.client.auth: %q is not none, requested or required", s.clientAuth)
	}
	if cfg.ClientAuth != tls.NoClientCert && cfg.ClientCAs == nil {
		return nil, fmt.Errorf("ssl.client.auth=%s needs ssl.truststore.location or ssl.truststore.certificates to verify client certificates", s.clientAuth)
	}
	if len(s.protocols) > 0 {
		cfg.MinVersion, cfg.MaxVersion = 0, 0
		for _, p := range s.protocols {
			var v uint16
			switch strings.TrimSpace(p) {
			case "TLSv1.2":
				v = tls.VersionTLS12
			case "TLSv1.3":
				v = tls.VersionTLS13
			default:
				return nil, fmt.Errorf("ssl.enabled.protocols: %q is not TLSv1.2 or TLSv1.3", p)
			}
			if cfg.MinVersion == 0 || v < cfg.MinVersion {
				cfg.MinVersion = v
			}
			cfg.MaxVersion = max(cfg.MaxVersion, v)
		}
	}
	return cfg, nil
}
