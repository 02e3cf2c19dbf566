package connect

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect/kafkaclient"
)

// WorkerDef returns the worker's keys of a standalone worker file, with
// Kafka's names and defaults. A command that runs a broker in-process adds
// that broker's keys.
func WorkerDef() *config.Def {
	return config.NewDef("worker",
		config.Key{Name: "bootstrap.servers", Type: config.List,
			Doc: "Kafka cluster to use, host:port,... When unset, the worker starts the bundled broker in-process and uses it."},
		config.Key{Name: "key.converter", Type: config.Class,
			Doc: "Converter of record keys: org.apache.kafka.connect.storage.StringConverter (used when unset), org.apache.kafka.connect.json.JsonConverter or org.apache.kafka.connect.converters.ByteArrayConverter."},
		config.Key{Name: "value.converter", Type: config.Class,
			Doc: "Converter of record values; the same classes as key.converter."},
		config.Key{Name: "header.converter", Type: config.Class, Default: SimpleHeaderConverterClass, HasDefault: true,
			Doc: "Converter of record headers: org.apache.kafka.connect.storage.SimpleHeaderConverter, org.apache.kafka.connect.storage.StringConverter, org.apache.kafka.connect.json.JsonConverter or org.apache.kafka.connect.converters.ByteArrayConverter. Accepted and checked; the file connectors' records carry only the source's position headers, which no sink writes out."},
		config.Key{Name: "key.converter.schemas.enable", Type: config.String, Default: "true", HasDefault: true,
			Doc: "JsonConverter: wrap keys in Kafka's {\"schema\":...,\"payload\":...} envelope (true or false, any case). As in Kafka, it is read only when a connector uses the worker's converter: a value that is not a boolean fails that connector, not the worker."},
		config.Key{Name: "value.converter.schemas.enable", Type: config.String, Default: "true", HasDefault: true,
			Doc: "JsonConverter: wrap values in Kafka's {\"schema\":...,\"payload\":...} envelope; read as key.converter.schemas.enable is."},
		config.Key{Name: "offset.storage.file.filename", Type: config.String, Required: true, Validate: config.NonEmpty(),
			Doc: "File that keeps the source connectors' positions."},
		config.Key{Name: "offset.flush.interval.ms", Type: config.Duration, Default: "60000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "How often source offsets are saved and sink offsets committed (after the sink's file is flushed)."},
		config.Key{Name: "offset.flush.timeout.ms", Type: config.Duration, Default: "5000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "Longest wait for records to be acknowledged, or for a commit, when offsets are flushed."},
		config.Key{Name: "listeners", Type: config.List, Default: "http://127.0.0.1:8083", HasDefault: true,
			Doc: "REST API listener, http://host:port (port 0 picks a free one)."},
		config.Key{Name: "rest.basic.auth.user", Type: config.String,
			Doc: "REST API: the user name that HTTP basic authentication accepts (with rest.basic.auth.password). When no user is configured, the API asks for none."},
		config.Key{Name: "rest.basic.auth.password", Type: config.Password,
			Doc: "REST API: the password of rest.basic.auth.user."},
		config.Key{Name: "rest.basic.auth.credentials.file", Type: config.String,
			Doc: "REST API: a properties file of user=password lines (the format of Kafka's PropertyFileLoginModule file); each user may authenticate. May be combined with rest.basic.auth.user."},
		config.Key{Name: "rest.extension.classes", Type: config.List,
			Doc: "Accepted for Kafka's org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension, which then requires the rest.basic.auth.* keys (the JAAS file is not read); other extensions are not supported."},
		config.Key{Name: "rest.connector.writes.enable", Type: config.Bool,
			Doc: "Whether the REST API may create, reconfigure and delete connectors (POST /connectors, PUT /connectors/{name}/config, DELETE /connectors/{name}), as Kafka Connect's does; " +
				"such changes are kept in memory only, as in Kafka's standalone mode. Unset, they are served as in Kafka when the API listens on this machine only (a loopback listener, the default) or asks for basic authentication (rest.basic.auth.*), " +
				"and refused (405) when it listens beyond this machine to anyone, who could otherwise point a sink at any file the worker may write. false refuses them always; true serves them always."},
		config.Key{Name: "plugin.path", Type: config.List,
			Doc: "Accepted for compatibility; the connectors are built in."},
		config.Key{Name: "task.shutdown.graceful.timeout.ms", Type: config.Duration, Default: "5000", HasDefault: true,
			Doc: "How long shutdown waits for tasks to stop, records to be acknowledged and offsets committed."},
		config.Key{Name: "topic.creation.enable", Type: config.Bool, Default: "true", HasDefault: true,
			Doc: "Create the topics that source connectors write to when they do not exist."},
		config.Key{Name: config.ProvidersKey, Type: config.List,
			Doc: "Config providers whose ${NAME:path:key} placeholders resolve in this file and in the connector files (KIP-297); each NAME takes config.providers.NAME.class (org.apache.kafka.common.config.provider.FileConfigProvider, DirectoryConfigProvider or EnvVarConfigProvider) and config.providers.NAME.param.allowed.paths (file, directory) or config.providers.NAME.param.allowlist.pattern (environment)."},
	).With("worker", securityKeys()...)
}

// securityKeys are the client security keys a worker file may set at its
// top level, as in Kafka Connect: they configure the worker's own admin
// client (admin.* overrides them), not the connectors' producers and
// consumers, which take producer.* and consumer.*.
func securityKeys() []config.Key {
	names, secret := kafkaclient.SecurityKeys()
	keys := make([]config.Key, len(names))
	for i, n := range names {
		typ := config.String
		if secret[i] {
			typ = config.Password
		}
		keys[i] = config.Key{Name: n, Type: typ,
			Doc: "The worker's admin client (overridden by admin." + n + "); the connectors' clients take producer." + n + " and consumer." + n + "."}
	}
	return keys
}

// adminProps are the admin client's properties: the top-level security
// keys that are set, then admin.* over them.
func adminProps(v *config.Values) map[string]string {
	m := map[string]string{}
	names, _ := kafkaclient.SecurityKeys()
	for _, n := range names {
		if v.IsSet(n) {
			m[n] = v.String(n)
		}
	}
	for k, val := range v.WithPrefix("admin.") {
		m[k] = val
	}
	return m
}

// WorkerConfig is a parsed worker file.
type WorkerConfig struct {
	// Source names the worker file in messages.
	Source string
	// BootstrapServers is the cluster; empty means the caller provides one.
	BootstrapServers []string
	KeyConverter     ConverterConfig
	ValueConverter   ConverterConfig
	OffsetsFile      string
	FlushInterval    time.Duration
	FlushTimeout     time.Duration
	// Listener is the REST API's host:port; empty disables the API.
	Listener string
	// RESTUsers holds the user names and passwords that the REST API
	// accepts with HTTP basic authentication; empty means no
	// authentication.
	RESTUsers map[string]string
	// RESTWrites lets the REST API create, reconfigure and delete
	// connectors (rest.connector.writes.enable).
	RESTWrites       bool
	ShutdownTimeout  time.Duration
	TopicCreation    bool
	PluginPathIsSet  bool
	ProducerProps    map[string]string
	ConsumerProps    map[string]string
	AdminProps       map[string]string
	ConverterDefault bool // true when a converter class was not given
	// Providers resolves the config-provider placeholders of connector
	// configurations (config.providers); nil resolves none.
	Providers *config.Providers
}

// ConverterConfig names a converter and its settings.
type ConverterConfig struct {
	Class         string
	SchemasEnable bool
	// err says why the worker file's schemas.enable could not be read; it
	// fails a connector that uses this converter (Kafka reads the setting
	// only then).
	err error
}

// parseSchemasEnable reads a schemas.enable value as Kafka does: true or
// false in any case.
func parseSchemasEnable(raw string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return true, false
}

// ParseWorkerConfig builds the worker configuration from parsed values.
// Errors name the file and key.
func ParseWorkerConfig(v *config.Values) (WorkerConfig, error) {
	cfg := WorkerConfig{
		Source:          v.Source(),
		OffsetsFile:     v.String("offset.storage.file.filename"),
		FlushInterval:   v.Duration("offset.flush.interval.ms"),
		FlushTimeout:    v.Duration("offset.flush.timeout.ms"),
		ShutdownTimeout: v.Duration("task.shutdown.graceful.timeout.ms"),
		TopicCreation:   v.Bool("topic.creation.enable"),
		PluginPathIsSet: v.IsSet("plugin.path"),
		ProducerProps:   v.WithPrefix("producer."),
		ConsumerProps:   v.WithPrefix("consumer."),
		AdminProps:      adminProps(v),
	}
	var errs []error
	keyErr := func(key, value, reason string) {
		errs = append(errs, &config.Error{Source: v.Source(), Key: key, Value: value, Reason: reason})
	}
	if v.IsSet("bootstrap.servers") {
		cfg.BootstrapServers = v.List("bootstrap.servers")
		raw, _ := v.Props().Get("bootstrap.servers")
		if len(cfg.BootstrapServers) == 0 {
			keyErr("bootstrap.servers", raw, "names no broker; remove the key to use the bundled broker")
		}
		for _, h := range cfg.BootstrapServers {
			if _, _, err := net.SplitHostPort(h); err != nil {
				keyErr("bootstrap.servers", raw, fmt.Sprintf("has %q, which is not host:port", h))
				break
			}
		}
	}
	for _, side := range []string{"key", "value"} {
		key := side + ".converter"
		cc := ConverterConfig{Class: v.String(key), SchemasEnable: true}
		raw := v.String(key + ".schemas.enable")
		var ok bool
		if cc.SchemasEnable, ok = parseSchemasEnable(raw); !ok {
			cc.err = &config.Error{Source: v.Source(), Key: key + ".schemas.enable", Value: raw, Reason: "is not a boolean (true or false)"}
		}
		if cc.Class == "" {
			cc.Class = StringConverterClass
			cfg.ConverterDefault = true
		} else if _, err := NewConverter(cc.Class, cc.SchemasEnable); err != nil {
			keyErr(key, cc.Class, err.Error())
		}
		if side == "key" {
			cfg.KeyConverter = cc
		} else {
			cfg.ValueConverter = cc
		}
	}
	if c := v.String("header.converter"); c != "" {
		if err := CheckHeaderConverter(c); err != nil {
			keyErr("header.converter", c, err.Error())
		}
	}
	ls := v.List("listeners")
	if len(ls) > 1 {
		keyErr("listeners", strings.Join(ls, ","), "names more than one listener; give one")
	} else if len(ls) == 1 {
		addr, err := parseListener(ls[0])
		if err != nil {
			keyErr("listeners", ls[0], err.Error())
		}
		cfg.Listener = addr
	}
	cfg.RESTUsers, errs = parseRESTAuth(v, errs)
	if v.IsSet("rest.connector.writes.enable") {
		cfg.RESTWrites = v.Bool("rest.connector.writes.enable")
	} else {
		host, _, _ := net.SplitHostPort(cfg.Listener)
		cfg.RESTWrites = len(cfg.RESTUsers) > 0 || isLoopback(host)
	}
	providers, err := config.NewProviders(v.Props())
	if err != nil {
		errs = append(errs, err)
	}
	cfg.Providers = providers
	for _, p := range []struct {
		prefix string
		props  map[string]string
		role   kafkaclient.Role
	}{{"producer.", cfg.ProducerProps, kafkaclient.Producer}, {"consumer.", cfg.ConsumerProps, kafkaclient.Consumer}, {"admin.", cfg.AdminProps, kafkaclient.Admin}} {
		for k, val := range p.props {
			if _, err := kafkaclient.Options(map[string]string{k: val}, p.role); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s%w", v.Source(), p.prefix, err))
			}
		}
	}
	if len(errs) > 0 {
		return WorkerConfig{}, errors.Join(errs...)
	}
	return cfg, nil
}

// BasicAuthExtensionClass is Kafka Connect's REST extension for HTTP basic
// authentication; rest.extension.classes may name it.
const BasicAuthExtensionClass = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"

// parseRESTAuth reads the REST API's basic authentication keys.
func parseRESTAuth(v *config.Values, errs []error) (map[string]string, []error) {
	keyErr := func(key, value, reason string) {
		errs = append(errs, &config.Error{Source: v.Source(), Key: key, Value: value, Reason: reason})
	}
	users := map[string]string{}
	user, pass := v.String("rest.basic.auth.user"), v.String("rest.basic.auth.password")
	switch {
	case user != "" && !v.IsSet("rest.basic.auth.password"):
		keyErr("rest.basic.auth.password", "", "is required with rest.basic.auth.user")
	case user == "" && v.IsSet("rest.basic.auth.password"):
		keyErr("rest.basic.auth.user", "", "is required with rest.basic.auth.password")
	case strings.Contains(user, ":"):
		keyErr("rest.basic.auth.user", user, "contains ':', which basic authentication cannot carry")
	case user != "":
		users[user] = pass
	}
	if file := v.String("rest.basic.auth.credentials.file"); file != "" {
		p, err := config.Load(file)
		if err != nil {
			keyErr("rest.basic.auth.credentials.file", file, "cannot be read: "+err.Error())
		} else {
			for _, k := range p.Keys() {
				pw, _ := p.Get(k)
				if k == "" || strings.Contains(k, ":") {
					keyErr("rest.basic.auth.credentials.file", file, fmt.Sprintf("has user %q, which basic authentication cannot carry", k))
					continue
				}
				users[k] = pw
			}
			if len(p.Keys()) == 0 {
				keyErr("rest.basic.auth.credentials.file", file, "names no user")
			}
		}
	}
	for _, cls := range v.List("rest.extension.classes") {
		if cls != BasicAuthExtensionClass {
			keyErr("rest.extension.classes", cls, "is not supported; the only extension understood is "+BasicAuthExtensionClass)
			continue
		}
		if len(users) == 0 && !v.IsSet("rest.basic.auth.credentials.file") {
			keyErr("rest.extension.classes", cls, "needs rest.basic.auth.user and rest.basic.auth.password, or rest.basic.auth.credentials.file (the JAAS file is not read)")
		}
	}
	if len(users) == 0 {
		users = nil
	}
	return users, errs
}

// parseListener turns http://host:port into host:port.
func parseListener(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", errors.New("is not a listener URL such as http://127.0.0.1:8083")
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return "", fmt.Errorf("uses %s; only http is served", u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", errors.New("lacks a port (http://host:port)")
	}
	return net.JoinHostPort(host, port), nil
}
