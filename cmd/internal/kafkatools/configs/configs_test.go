package configs

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/kafkatest"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

func TestParseAddConfig(t *testing.T) {
	got, err := ParseAddConfig("retention.ms=1000, cleanup.policy = [compact,delete],ssl.endpoint.identification.algorithm=,SCRAM-SHA-256=[iterations=8192,password=a=b]")
	want := []KeyValue{{"retention.ms", "1000"}, {"cleanup.policy", "compact,delete"}, {"ssl.endpoint.identification.algorithm", ""}, {"SCRAM-SHA-256", "iterations=8192,password=a=b"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("%v %q", err, got)
	}
	for in, msg := range map[string]string{
		"retention.ms":    `invalid entity config: all configs to be added must be in the format "key=val" ("retention.ms" is not)`,
		"a=1,b=2=3":       `invalid entity config: all configs to be added must be in the format "key=val" ("b=2=3" is not)`,
		"retention ms!=1": "invalid character found for config key: retention ms!",
		"a=1,,b=2":        `("" is not)`,
	} {
		if _, err := ParseAddConfig(in); err == nil || !usage.Is(err) || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		1048576: "1048576.0", 2e7: "2.0E7", 1.5e7: "1.5E7", 50: "50.0", 0.5: "0.5", 0.001: "0.001", 0.0001: "1.0E-4",
		0: "0.0", 9999999: "9999999.0", 1e7: "1.0E7", -2.5: "-2.5", math.Inf(1): "Infinity",
	} {
		if got := javaDouble(f); got != want {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	changed := func(flags ...string) func(string) bool { return kafkatest.Changed(flags...) }
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{EntityTypes: []string{Topics}, EntityNames: []string{"t"}}, "command must include exactly one action: --describe, --alter"},
		{Options{Describe: true}, "at least one entity type must be specified"},
		{Options{Describe: true, EntityTypes: []string{"ips"}}, "invalid entity type ips, the entity type must be one of topics, clients, users, brokers, broker-loggers"},
		{Options{Describe: true, EntityTypes: []string{Topics, Topics}}, "duplicate entity type(s) specified: topics"},
		{Options{Describe: true, EntityTypes: []string{Topics, Brokers}}, "only 'users' and 'clients' entity types may be specified together"},
		{Options{Describe: true, EntityNames: []string{"x"}, Topic: "t"}, "--entity-{type,name,default} should not be used in conjunction with specific entity flags"},
		{Options{Describe: true, EntityTypes: []string{Brokers}, EntityNames: []string{"one"}}, "the entity name for brokers must be a valid integer broker id, but it is: one"},
		{Options{Describe: true, EntityTypes: []string{Topics}, EntityNames: []string{"bad name"}}, "illegal"},
		{Options{Describe: true, EntityTypes: []string{Topics}, EntityNames: []string{""}}, "--entity-default must not be specified with --describe of topics"},
		{Options{Describe: true, EntityTypes: []string{BrokerLoggers}}, "an entity name must be specified with --describe of broker-loggers"},
		{Options{Describe: true, Topic: "t", AddConfig: "a=1", Changed: changed("add-config")}, "--add-config can only be used with --alter"},
		{Options{Alter: true, Topic: "t", All: true, AddConfig: "a=1"}, "--all can only be used with --describe"},
		{Options{Alter: true, EntityTypes: []string{Topics}, AddConfig: "a=1"}, "an entity name must be specified with --alter of topics"},
		{Options{Alter: true, EntityTypes: []string{Users}, AddConfig: "a=1"}, "an entity-name or default entity must be specified with --alter of users, clients or brokers"},
		{Options{Alter: true, EntityTypes: []string{Users, Clients}, EntityNames: []string{"u"}, AddConfig: "a=1"}, "an entity name must be specified for every entity type"},
		{Options{Alter: true, Topic: "t", AddConfig: "a=1", AddConfigFile: "f"}, "only one of --add-config or --add-config-file must be specified"},
		{Options{Alter: true, Topic: "t"}, "at least one of --add-config, --add-config-file, or --delete-config must be specified with --alter"},
		{Options{Alter: true, Topic: "t", AddConfig: "a"}, "invalid entity config"},
	} {
		err := tc.o.Check()
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want usage error %q", tc.o, err, tc.want)
		}
	}
	for _, o := range []Options{
		{Describe: true, EntityTypes: []string{Topics}},
		{Describe: true, EntityTypes: []string{Brokers}, EntityNames: []string{""}},
		{Describe: true, UserDefaults: true},
		{Alter: true, User: "u", Client: "c", AddConfig: "producer_byte_rate=1"},
		{Alter: true, EntityTypes: []string{Clients, Users}, EntityNames: []string{"", "u"}, DeleteConfig: []string{"producer_byte_rate"}},
	} {
		if err := o.Check(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestAddConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "topic.properties")
	if err := os.WriteFile(p, []byte("retention.ms=1000\ncleanup.policy=compact,delete\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{AddConfigFile: p}
	got, err := o.configsToAdd()
	if err != nil || !slices.Equal(got, []KeyValue{{"retention.ms", "1000"}, {"cleanup.policy", "compact,delete"}}) {
		t.Errorf("%v %q", err, got)
	}
	o.AddConfigFile = filepath.Join(t.TempDir(), "missing.properties")
	if _, err := o.configsToAdd(); err == nil || !strings.Contains(err.Error(), "missing.properties") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRunAgainstKfake(t *testing.T) {
	addr := kafkatest.StartKfake(t)
	kafkatest.CreateTopic(t, addr, "kf", 1)
	var out strings.Builder
	if err := Run(t.Context(), Options{Bootstrap: addr, Alter: true, Topic: "kf", AddConfig: "retention.ms=1000"}, &out); err != nil {
		t.Fatal(err)
	}
	if err := Run(t.Context(), Options{Bootstrap: addr, Describe: true, Topic: "kf"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Completed updating config for topic kf.\nDynamic configs for topic kf are:\n  retention.ms=1000 sensitive=false synonyms={") {
		t.Errorf("%s", out.String())
	}
}
