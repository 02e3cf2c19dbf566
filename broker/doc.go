// Package broker is a single-node Kafka broker: it speaks Kafka's wire
// protocol to any Kafka client (librdkafka, the Java client, franz-go,
// sarama, kafkajs) and keeps every topic partition durably on disk in
// Kafka's log format (package storage). Consumer groups are coordinated by
// package group, which the broker feeds with the group requests.
//
// Requests and responses are decoded and encoded with franz-go's kmsg.
// Each Kafka API the broker serves has its own file, named by API key
// (00_produce.go, 01_fetch.go, ...), which opens with the versions served
// and what is and is not done; ApiVersions advertises exactly those
// versions, merged with the group coordinator's (Produce is listed from
// v0, as Kafka 4.0 lists it, and v0-2 refused when they come). A request
// at another version is refused with UNSUPPORTED_VERSION in each of its
// items when the response can carry it, else its connection is closed; a
// request for an API not listed closes its connection, as Kafka does.
//
// A Broker is configured from server.properties with Kafka's key names:
//
//	props, err := config.Load("server.properties")
//	vals, err := broker.Definitions().Parse(props)
//	cfg, err := broker.ParseConfig(vals)
//	b, err := broker.New(cfg)
//	err = b.Start(ctx)       // recovers the logs, binds the listeners
//	addr := b.Addr()         // e.g. 127.0.0.1:9092
//	err = b.Close(ctx)       // stops accepting, fsyncs, marks a clean shutdown
//
// Hostile clients are bounded: a request frame larger than
// socket.request.max.bytes closes its connection before anything is
// allocated, a frame's buffer grows only as its bytes arrive, a frame
// must arrive whole and responses must be read within
// connections.max.idle.ms, and max.connections / max.connections.per.ip
// cap the connections. Topic names follow Kafka's rules (and may not
// differ only in case from an existing topic when a log dir's file system
// ignores case), so a name can never leave the log dir; group ids are
// stored inside the offsets log, never used as paths.
//
// Durability follows Kafka's flush policy: a produce with acks=1 or
// acks=all is answered once its batch is written to the partition's log
// file, so every acknowledged record survives kill -9 of the broker; it is
// fsynced when flush.messages or flush.ms asks for it (concurrent produces
// share fsyncs, and such a produce is answered only after its fsync), when
// a segment rolls and at shutdown. log.flush.interval.messages=1 makes
// every acknowledged record survive a power loss too. After a crash the log
// is validated and truncated to its last whole batch.
//
// A log dir fails on start-up, as Kafka marks a log dir offline, when a
// partition of a topic in topics.json has no folder there or a partition's
// log there cannot be opened: its partitions answer KAFKA_STORAGE_ERROR
// (naming the cause), it gets no new partitions and nothing is written to
// it (but deleting a topic removes the topic's folders), until it is
// repaired and the broker restarted. When the first log dir fails, which
// holds topics.json and the group offsets, the broker refuses to start,
// naming the folder. Data is never silently replaced by an empty
// partition: creating the missing folder is how an operator accepts the
// loss.
//
// Tributary-specific behaviour a Kafka user might not expect:
//   - replication factor 1 only; this broker leads every partition, with
//     leader epoch 0;
//   - log compaction rewrites each segment in place (see
//     broker/storage's doc for how it differs from Kafka's cleaner);
//     client quotas (quota.go) throttle
//     produce and fetch byte rates; listeners may use TLS
//     (PEM keys only) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, with
//     users from JAAS user_NAME="password" options, for SCRAM too, and
//     SCRAM users created with AlterUserScramCredentials); with
//     authorizer.class.name, ACLs decide what each principal may do
//     (acl.go, authorize.go), else an authenticated client may do
//     anything;
//   - batches are stored as produced: compression.type can only be
//     producer;
//   - fetch sessions (KIP-227) live in memory and end with the broker;
//   - emulate.kafka.version caps advertised versions to an older release;
//   - partitions are never moved between log dirs: AlterReplicaLogDirs
//     answers a move KAFKA_STORAGE_ERROR (a partition already in the dir
//     named succeeds);
//   - delegation tokens are not implemented: their four requests answer
//     DELEGATION_TOKEN_AUTH_DISABLED, as Kafka does without
//     delegation.token.secret.key, and setting that key is refused at
//     start-up;
//   - transactions (KIP-98, KIP-447) are coordinated by this broker
//     (package txn), which writes the markers itself: WriteTxnMarkers is
//     served for administrators only, and the coordinator's state is a
//     file (__transaction_state/transactions.log), not a topic; a
//     transactional batch is checked against the coordinator (KIP-890's
//     verification) at every version, and KIP-890 part 2 (an epoch bump
//     at every EndTxn) is not advertised.
package broker
