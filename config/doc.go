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
// file, key and variable. Other ${...} forms are left as they are.
package config
