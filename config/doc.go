// Package config reads Java-style .properties files and turns them into
// typed values checked against a definition set, in the spirit of Kafka's
// ConfigDef.
//
// A definition set (Def) lists each key a component understands: its name,
// type, default, whether it is required, a validator and one line of
// documentation. Loading is two steps:
//
//	props, err := config.Load("worker.properties")   // read the file
//	vals, err := workerDef.Parse(props)              // check and convert
//	interval := vals.Duration("offset.flush.interval.ms")
//
// Every error names the source file, the key, the offending value and what
// is wrong with it:
//
//	worker.properties: offset.flush.interval.ms: "ten" is not a number
//
// Parse reports every problem of a file at once (joined with errors.Join).
// Keys that the definition set does not know are kept, so that components
// further down (connectors, converters, client overrides) can read their own
// keys from the same file; Values.Unknown lists them.
//
// Values may reference environment variables with Kafka's config-provider
// syntax, ${env:NAME}. A reference to an unset variable is an error naming the
// file, key and variable. Load leaves other ${...} forms as they are.
//
// Config providers (Kafka's KIP-297, KIP-887, KIP-993) go further. A worker
// file declares them:
//
//	config.providers=file,dir,env
//	config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//	config.providers.file.param.allowed.paths=/etc/tributary
//	config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
//	config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//	config.providers.env.param.allowlist.pattern=^TRIBUTARY_
//
// NewProviders builds them from the worker file, read with LoadUnresolved;
// Providers.Resolve then replaces ${file:FILE:KEY} (KEY of a properties
// file), ${dir:DIR:KEY} (the content of file KEY in directory DIR) and
// ${env:NAME} anywhere in a value. The resolved Props keep the values as
// written (Props.Unresolved), which is all that may be shown: an error
// about a resolved value shows its placeholder, never the value. Unlike
// Kafka, which leaves a placeholder it cannot resolve as written, a
// placeholder naming an undeclared provider, a missing file or a missing
// key is an error naming the file, key and placeholder.
package config
