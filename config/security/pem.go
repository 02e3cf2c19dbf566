package security

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"os"
)

// readPEMFile reads the PEM key or trust store that key (such as
// ssl.keystore.location) names. Kafka's JKS and PKCS12 stores are refused
// with how to convert them.
func readPEMFile(key, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if !bytes.Contains(data, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("%s: %s is not PEM; only PEM stores are read: convert a JKS or PKCS12 store (keytool -importkeystore -deststoretype PKCS12, then openssl pkcs12 -nodes) and set the store type to PEM", key, path)
	}
	return data, nil
}

// encryptedPEMKey reports whether data holds an encrypted private key,
// which Go's crypto/tls cannot load.
func encryptedPEMKey(data []byte) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return true
		}
	}
}
