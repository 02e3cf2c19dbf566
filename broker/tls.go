package broker

import (
	"crypto/tls"
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
	security.Stores
	keystoreType, keyPassword, truststoreType string
	clientAuth                                string
	protocols                                 []string
}

// buildTLS makes the tls.Config of a listener; errors name the key.
func buildTLS(s tlsSettings) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	cert, ok, err := s.Certificate()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("an SSL listener needs a key and certificate: set ssl.keystore.location (a PEM file with both) or ssl.keystore.certificate.chain and ssl.keystore.key")
	}
	cfg.Certificates = []tls.Certificate{cert}
	if cfg.ClientCAs, err = s.CertPool(); err != nil {
		return nil, err
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
