package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// providerFixture writes a secrets directory: a properties file and a
// directory of one-value files, and returns their paths.
func providerFixture(t *testing.T) (dir, propsFile, secretsDir string) {
	t.Helper()
	dir = t.TempDir()
	propsFile = filepath.Join(dir, "secrets.properties")
	if err := os.WriteFile(propsFile, []byte("topic.external=test-topic\npassword=hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretsDir = filepath.Join(dir, "secrets")
	if err := os.MkdirAll(filepath.Join(secretsDir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secretsDir, "db.password"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, propsFile, secretsDir
}

func mustProviders(t *testing.T, worker string) *Providers {
	t.Helper()
	p, err := ParseString("worker.properties", worker)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := NewProviders(p)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func resolve(ps *Providers, text string) (*Props, error) {
	p, err := parseUnresolved("c.properties", text)
	if err != nil {
		return nil, err
	}
	return ps.Resolve(p)
}

const providersWorker = `config.providers=file,dir,env
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
`

func TestProvidersResolve(t *testing.T) {
	_, file, dir := providerFixture(t)
	t.Setenv("TRIBUTARY_TEST_REGION", "eu")
	ps := mustProviders(t, providersWorker)
	p, err := resolve(ps, strings.Join([]string{
		"topic=${file:" + file + ":topic.external}",
		"prefixed=topic-${file:" + file + ":topic.external}-${env:TRIBUTARY_TEST_REGION}",
		"pw=${dir:" + dir + ":db.password}",
		"region=${env::TRIBUTARY_TEST_REGION}",
		"plain=a ${b} c",
	}, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"topic":    "test-topic",
		"prefixed": "topic-test-topic-eu",
		"pw":       "s3cret\n", // the file's content as it is, as Kafka reads it
		"region":   "eu",
		"plain":    "a ${b} c",
	} {
		if got, _ := p.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	shown := p.Unresolved()
	if got := shown["topic"]; got != "${file:"+file+":topic.external}" {
		t.Errorf("Unresolved topic = %q", got)
	}
	if got := shown["pw"]; strings.Contains(got, "s3cret") {
		t.Errorf("Unresolved shows the secret: %q", got)
	}
	// Resolving again from the resolved copy starts from what was written.
	again, err := ps.Resolve(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := again.Get("prefixed"); got != "topic-test-topic-eu" {
		t.Errorf("resolved twice: %q", got)
	}
}

func TestProvidersResolveErrors(t *testing.T) {
	base, file, dir := providerFixture(t)
	missing := filepath.Join(base, "nope.properties")
	ps := mustProviders(t, providersWorker+"config.providers.env.param.allowlist.pattern=^TRIBUTARY_OK_\n")
	t.Setenv("TRIBUTARY_OK_X", "x")
	t.Setenv("TRIBUTARY_SECRET_Y", "y")
	tests := []struct {
		name, text, want string
	}{
		{"provider not declared", "s=${vault:secret/db:pw}",
			`c.properties: s: ${vault:secret/db:pw} names config provider vault, which the worker does not declare (config.providers=vault and config.providers.vault.class)`},
		{"missing file", "s=${file:" + missing + ":k}",
			`c.properties: s: ${file:` + missing + `:k}: ` + missing + `: file does not exist`},
		{"missing key", "s=${file:" + file + ":nokey}",
			`c.properties: s: ${file:` + file + `:nokey}: ` + file + ` has no key nokey`},
		{"file without path", "s=${file:k}",
			`c.properties: s: ${file:k}: names no file (want ${provider:FILE:KEY})`},
		{"missing dir entry", "s=${dir:" + dir + ":none}",
			`c.properties: s: ${dir:` + dir + `:none}: ` + filepath.Join(dir, "none") + ` does not exist`},
		{"dir without path", "s=${dir::k}",
			`c.properties: s: ${dir::k}: names no dir (want ${provider:DIR:KEY})`},
		{"dir entry is a directory", "s=${dir:" + dir + ":sub}",
			`c.properties: s: ${dir:` + dir + `:sub}: ` + filepath.Join(dir, "sub") + ` is not a regular file`},
		{"dir key escapes", "s=${dir:" + dir + ":..}",
			`c.properties: s: ${dir:` + dir + `:..}: key .. is not a file name`},
		{"env not allowed", "s=${env:TRIBUTARY_SECRET_Y}",
			`c.properties: s: ${env:TRIBUTARY_SECRET_Y}: environment variable TRIBUTARY_SECRET_Y does not match allowlist.pattern ^TRIBUTARY_OK_`},
		{"env unset", "s=${env:TRIBUTARY_OK_UNSET}",
			`c.properties: s: ${env:TRIBUTARY_OK_UNSET}: environment variable TRIBUTARY_OK_UNSET is not set`},
		{"env with path", "s=${env:/x:TRIBUTARY_OK_X}",
			`c.properties: s: ${env:/x:TRIBUTARY_OK_X}: has path /x, which an environment variable provider does not take`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(ps, tt.text)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
	if p, err := resolve(ps, "s=${env:TRIBUTARY_OK_X}"); err != nil {
		t.Errorf("allowed variable: %v", err)
	} else if got, _ := p.Get("s"); got != "x" {
		t.Errorf("allowed variable = %q", got)
	}
}

func TestProvidersAllowedPaths(t *testing.T) {
	base, file, dir := providerFixture(t)
	other := t.TempDir()
	outside := filepath.Join(other, "o.properties")
	if err := os.WriteFile(outside, []byte("k=v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sibling := base + "2" // shares base's prefix, not its directory
	if err := os.MkdirAll(sibling, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sibling, "s.properties"), []byte("k=v\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ps := mustProviders(t, providersWorker+
		"config.providers.file.param.allowed.paths="+base+"\n"+
		"config.providers.dir.param.allowed.paths="+dir+"\n")
	if p, err := resolve(ps, "a=${file:"+file+":topic.external}\nb=${dir:"+dir+":db.password}"); err != nil {
		t.Fatalf("inside allowed.paths: %v", err)
	} else if got, _ := p.Get("a"); got != "test-topic" {
		t.Errorf("a = %q", got)
	}
	for _, path := range []string{
		outside,
		filepath.Join(sibling, "s.properties"),
		base + "/../" + filepath.Base(other) + "/o.properties",
		"relative.properties",
	} {
		_, err := resolve(ps, "s=${file:"+path+":k}")
		if err == nil || !strings.Contains(err.Error(), "is outside allowed.paths ("+base+")") {
			t.Errorf("%s: got %v, want refused as outside allowed.paths", path, err)
		}
	}
	if _, err := resolve(ps, "s=${dir:"+base+":secrets.properties}"); err == nil || !strings.Contains(err.Error(), "outside allowed.paths") {
		t.Errorf("dir outside allowed.paths: %v", err)
	}
}

func TestNewProvidersErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"no class", "config.providers=file",
			[]string{"worker.properties: config.providers.file.class: is missing; config.providers names file"}},
		{"unknown class", "config.providers=v\nconfig.providers.v.class=com.example.Vault",
			[]string{`worker.properties: config.providers.v.class: "com.example.Vault" is not a config provider class; known: ` + FileConfigProviderClass}},
		{"relative allowed path", "config.providers=file\nconfig.providers.file.class=" + FileConfigProviderClass + "\nconfig.providers.file.param.allowed.paths=etc",
			[]string{`config.providers.file.param.allowed.paths: "etc" has etc, which is not an absolute path`}},
		{"missing allowed path", "config.providers=file\nconfig.providers.file.class=" + FileConfigProviderClass + "\nconfig.providers.file.param.allowed.paths=/nonexistent/tributary",
			[]string{`has /nonexistent/tributary, which does not exist`}},
		{"bad pattern", "config.providers=env\nconfig.providers.env.class=" + EnvVarConfigProviderClass + "\nconfig.providers.env.param.allowlist.pattern=(",
			[]string{`config.providers.env.param.allowlist.pattern: "(" is not a regular expression`}},
		{"param of another class", "config.providers=env\nconfig.providers.env.class=" + EnvVarConfigProviderClass + "\nconfig.providers.env.param.allowed.paths=/tmp",
			[]string{`config.providers.env.param.allowed.paths: "/tmp" is not a parameter of ` + EnvVarConfigProviderClass + `; it takes allowlist.pattern`}},
		{"all at once", "config.providers=a,b,a\nconfig.providers.b.class=x",
			[]string{"config.providers.a.class", "config.providers.b.class", "names a twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseString("worker.properties", tt.text)
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewProviders(p)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

// TestProvidersLegacyEnv: without config.providers, ${env:NAME} works as
// it always has; Load leaves other placeholders as written.
func TestProvidersLegacyEnv(t *testing.T) {
	t.Setenv("TRIBUTARY_TEST_LEGACY", "v")
	ps := mustProviders(t, "bootstrap.servers=x:1")
	p, err := resolve(ps, "a=${env:TRIBUTARY_TEST_LEGACY}")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Get("a"); got != "v" {
		t.Errorf("a = %q", got)
	}
	if _, err := resolve(ps, "a=${file:/x:k}"); err == nil || !strings.Contains(err.Error(), "which the worker does not declare") {
		t.Errorf("undeclared provider with providers: %v", err)
	}
	lp, err := ParseString("t.properties", "a=${file:/x:k}\nb=${env:TRIBUTARY_TEST_LEGACY}")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := lp.Get("a"); got != "${file:/x:k}" {
		t.Errorf("Load changed a = %q", got)
	}
	if got, _ := lp.Get("b"); got != "v" {
		t.Errorf("Load b = %q", got)
	}
}

// TestProvidersSecretsNotInErrors: a secret resolved into a key that then
// fails validation is not shown; the error shows the placeholder.
func TestProvidersSecretsNotInErrors(t *testing.T) {
	_, file, _ := providerFixture(t)
	ps := mustProviders(t, providersWorker)
	p, err := resolve(ps, "i=${file:"+file+":password}\nreq=r")
	if err != nil {
		t.Fatal(err)
	}
	_, err = testDef.Parse(p)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error shows the secret: %v", err)
	}
	if want := `c.properties: i: "${file:` + file + `:password}" is not a number`; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}
