package security

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseJAAS(t *testing.T) {
	for _, tt := range []struct {
		in      string
		module  string
		options map[string]string
		err     string
	}{
		{in: `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";`,
			module: "org.apache.kafka.common.security.plain.PlainLoginModule", options: map[string]string{"username": "admin", "password": "admin-secret"}},
		{in: "ScramLoginModule optional\n\tuser_a=\"b \\\"c\\\" \\\\ d\" user_e=f ;", module: "ScramLoginModule",
			options: map[string]string{"user_a": `b "c" \ d`, "user_e": "f"}},
		{in: `M required;`, module: "M", options: map[string]string{}},
		{in: `M required a="b;`, err: "unterminated quoted value"},
		{in: `M required a="b"`, err: "is not a JAAS entry"},
		{in: `M mandatory a="b";`, err: `has control flag "mandatory"`},
		{in: `M required a b;`, err: `has option "a" without a value`},
		{in: `M required a=;`, err: `has option "a" without a value`},
		{in: ``, err: "is not a JAAS entry"},
	} {
		e, err := ParseJAAS(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || e.Module != tt.module || !maps.Equal(e.Options, tt.options) {
			t.Errorf("%q: %+v, %v; want module %q options %v", tt.in, e, err, tt.module, tt.options)
		}
	}
}

func TestReadPEMFile(t *testing.T) {
	dir := t.TempDir()
	pemPath := filepath.Join(dir, "ca.pem")
	os.WriteFile(pemPath, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
	jks := filepath.Join(dir, "store.jks")
	os.WriteFile(jks, []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2}, 0o600)
	if b, err := readPEMFile("ssl.truststore.location", pemPath); err != nil || len(b) == 0 {
		t.Errorf("PEM file: %v", err)
	}
	for path, want := range map[string]string{
		jks:                           "ssl.truststore.location: " + jks + " is not PEM",
		filepath.Join(dir, "missing"): "ssl.truststore.location: open " + filepath.Join(dir, "missing"),
	} {
		if _, err := readPEMFile("ssl.truststore.location", path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", path, err, want)
		}
	}
	if encryptedPEMKey([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")) {
		t.Error("a plain key reported encrypted")
	}
	if !encryptedPEMKey([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")) {
		t.Error("an encrypted key not reported")
	}
}
