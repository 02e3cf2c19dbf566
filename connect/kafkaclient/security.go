package kafkaclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/tributary-io/tributary/config/security"
)

// Security settings, with the Java client's names:
//
//	security.protocol                      PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
//	sasl.mechanism                         PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
//	sasl.jaas.config                       PlainLoginModule / ScramLoginModule required username="..." password="...";
//	ssl.truststore.location                PEM file of trusted certificates (default: the system's)
//	ssl.truststore.certificates            the same, inline
//	ssl.keystore.location                  PEM file with a client key and certificate chain
//	ssl.keystore.certificate.chain, ssl.keystore.key   the same, inline
//	ssl.endpoint.identification.algorithm  https (default) checks the broker's host name; empty does not
//
// Key and trust stores are read in PEM only (ssl.keystore.type=PEM,
// KIP-651); a JKS or PKCS12 file is refused with how to convert it, and
// encrypted private keys are refused. The ssl.* keys apply to SSL and
// SASL_SSL, the sasl.* keys to SASL_PLAINTEXT and SASL_SSL, as in Java.
var securityKeys = map[string]bool{
	"security.protocol": true, "sasl.mechanism": true, "sasl.jaas.config": true,
	"ssl.truststore.location": true, "ssl.truststore.certificates": true, "ssl.truststore.type": true, "ssl.truststore.password": true,
	"ssl.keystore.location": true, "ssl.keystore.certificate.chain": true, "ssl.keystore.key": true, "ssl.keystore.type": true,
	"ssl.keystore.password": true, "ssl.key.password": true,
	"ssl.endpoint.identification.algorithm": true, "ssl.protocol": true, "ssl.enabled.protocols": true,
}

// checkSecurityKey checks one security key on its own.
func checkSecurityKey(k, v string) error {
	switch k {
	case "security.protocol":
		switch strings.ToUpper(v) {
		case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
			return nil
		}
		return errors.New("is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
	case "sasl.mechanism":
		switch strings.ToUpper(v) {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
			return nil
		}
		return errors.New("is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	case "ssl.endpoint.identification.algorithm":
		if v != "" && !strings.EqualFold(v, "https") {
			return errors.New("is not https or empty")
		}
	case "ssl.enabled.protocols", "ssl.protocol":
		for _, p := range strings.Split(v, ",") {
			switch strings.TrimSpace(p) {
			case "TLSv1.2", "TLSv1.3", "TLS", "":
			default:
				return errors.New("is not TLSv1.2 or TLSv1.3")
			}
		}
	}
	return nil
}

// SecurityKeys returns the security keys a client understands, sorted,
// each with whether its value is secret (never shown).
func SecurityKeys() (names []string, secret []bool) {
	for k := range securityKeys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		secret = append(secret, secretKey(k))
	}
	return names, secret
}

// secretKey: values never shown in errors.
func secretKey(k string) bool {
	return k == "sasl.jaas.config" || strings.HasSuffix(k, ".password") || k == "ssl.keystore.key"
}

// securityOpts builds the dialer and SASL options of a full client
// configuration. full is false when props are checked one key at a time;
// what is missing is then not an error.
func securityOpts(props map[string]string, full bool) ([]kgo.Opt, error) {
	get := func(k string) string { return strings.TrimSpace(props[k]) }
	proto := strings.ToUpper(get("security.protocol"))
	if proto == "" {
		proto = "PLAINTEXT"
	}
	var opts []kgo.Opt
	if proto == "SSL" || proto == "SASL_SSL" {
		cfg, err := clientTLS(props)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if proto == "SASL_PLAINTEXT" || proto == "SASL_SSL" {
		mech, err := saslMechanism(get, full)
		if err != nil {
			return nil, err
		}
		if mech != nil {
			opts = append(opts, kgo.SASL(mech))
		}
	}
	return opts, nil
}

func clientTLS(props map[string]string) (*tls.Config, error) {
	get := func(k string) string { return strings.TrimSpace(props[k]) }
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	stores := security.Stores{
		KeystoreLocation: get("ssl.keystore.location"), KeystoreChain: get("ssl.keystore.certificate.chain"), KeystoreKey: get("ssl.keystore.key"),
		TruststoreLocation: get("ssl.truststore.location"), TruststoreCerts: get("ssl.truststore.certificates"),
	}
	var err error
	if cfg.RootCAs, err = stores.CertPool(); err != nil {
		return nil, err
	}
	cert, ok, err := stores.Certificate()
	if err != nil {
		return nil, err
	}
	if ok {
		cfg.Certificates = []tls.Certificate{cert}
	}
	if alg, set := props["ssl.endpoint.identification.algorithm"]; set && strings.TrimSpace(alg) == "" {
		// Verify the chain, not the host name, as the Java client does
		// with an empty algorithm.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the broker sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return cfg, nil
}

func saslMechanism(get func(string) string, full bool) (sasl.Mechanism, error) {
	mech := strings.ToUpper(get("sasl.mechanism"))
	if mech == "" {
		mech = "GSSAPI" // the Java client's default
	}
	switch mech {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		if !full {
			return nil, nil
		}
		return nil, fmt.Errorf("sasl.mechanism: %s is not supported; set PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", mech)
	}
	jaas := get("sasl.jaas.config")
	if jaas == "" {
		if !full {
			return nil, nil
		}
		return nil, fmt.Errorf("sasl.jaas.config is required for %s (org.apache.kafka.common.security.%s required username=\"...\" password=\"...\";)", mech, map[bool]string{true: "plain.PlainLoginModule", false: "scram.ScramLoginModule"}[mech == "PLAIN"])
	}
	e, err := security.ParseJAAS(jaas)
	if err != nil {
		return nil, fmt.Errorf("sasl.jaas.config: %w", err)
	}
	want := "ScramLoginModule"
	if mech == "PLAIN" {
		want = "PlainLoginModule"
	}
	if e.Module[strings.LastIndexByte(e.Module, '.')+1:] != want {
		return nil, fmt.Errorf("sasl.jaas.config: uses %s; sasl.mechanism %s takes %s", e.Module, mech, want)
	}
	user, pass := e.Options["username"], e.Options["password"]
	if user == "" {
		return nil, errors.New(`sasl.jaas.config: has no username="..." option`)
	}
	switch mech {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	}
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
}
