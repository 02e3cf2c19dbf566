// Package security reads the security settings that Kafka's clients and
// brokers share: JAAS login entries (sasl.jaas.config values, with their
// users and passwords) and PEM key and trust stores (ssl.keystore.* and
// ssl.truststore.*).
//
// It knows the syntax of these values, not who uses them: the broker's
// listeners and the worker's and tools' clients each read the keys they
// define and hand the values here. Errors read after the key that holds
// the value, as config's do: "sasl.jaas.config: has an unterminated
// quoted value".
package security
