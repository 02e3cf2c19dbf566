package broker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-io/tributary/config"
)

// Definitions returns the server.properties keys the broker reads, with
// Kafka's names and defaults. Other keys of Kafka's broker configuration
// are accepted and reported once as unused.
func Definitions() *config.Def { return definitions }

var definitions = config.NewDef("broker (server.properties)",
	config.Key{Name: "node.id", Type: config.Int, Validate: config.AtLeast(0), Doc: "id of this broker in Metadata responses; broker.id is read when node.id is absent, and 1 is used when neither is set"},
	config.Key{Name: "broker.id", Type: config.Int, Doc: "Kafka's older name for node.id"},
	config.Key{Name: "listeners", Type: config.List, Default: "PLAINTEXT://127.0.0.1:9092", HasDefault: true, Validate: config.NonEmpty(), Doc: "NAME://host:port entries to accept clients on; an empty host or 0.0.0.0 binds every interface, localhost binds both 127.0.0.1 and ::1, port 0 picks a free port; listeners named in controller.listener.names are ignored"},
	config.Key{Name: "advertised.listeners", Type: config.List, Doc: "NAME://host:port that Metadata returns for the listener of that name; by default the listener's own address, with an empty or 0.0.0.0 host replaced by the host name (or 127.0.0.1 if it does not resolve)"},
	config.Key{Name: "listener.security.protocol.map", Type: config.List, Default: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", HasDefault: true, Doc: "listener name to security protocol: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT (SASL authentication) or SASL_SSL (both); a listener named after a protocol needs no entry"},
	config.Key{Name: "ssl.keystore.type", Type: config.String, Default: "JKS", HasDefault: true, Doc: "format of the key store; only PEM is read (a JKS or PKCS12 file is refused with how to convert it), whatever this says, when the file or the inline values are PEM; listener.name.<listener>.ssl.* overrides every ssl.* key for one listener"},
	config.Key{Name: "ssl.keystore.location", Type: config.String, Doc: "PEM file holding the private key (unencrypted) and the certificate chain of SSL and SASL_SSL listeners"},
	config.Key{Name: "ssl.keystore.password", Type: config.Password, Doc: "password of a JKS or PKCS12 key store; not used for PEM"},
	config.Key{Name: "ssl.key.password", Type: config.Password, Doc: "password of an encrypted private key; encrypted keys are refused, so it has no use here"},
	config.Key{Name: "ssl.keystore.certificate.chain", Type: config.Password, Doc: "the certificate chain in PEM, inline (ssl.keystore.type=PEM), instead of ssl.keystore.location"},
	config.Key{Name: "ssl.keystore.key", Type: config.Password, Doc: "the private key in PEM (unencrypted), inline, with ssl.keystore.certificate.chain"},
	config.Key{Name: "ssl.truststore.type", Type: config.String, Default: "JKS", HasDefault: true, Doc: "format of the trust store; only PEM is read"},
	config.Key{Name: "ssl.truststore.location", Type: config.String, Doc: "PEM file of the certificate authorities that client certificates must chain to (ssl.client.auth)"},
	config.Key{Name: "ssl.truststore.password", Type: config.Password, Doc: "password of a JKS or PKCS12 trust store; not used for PEM"},
	config.Key{Name: "ssl.truststore.certificates", Type: config.Password, Doc: "trusted certificates in PEM, inline, instead of ssl.truststore.location"},
	config.Key{Name: "ssl.client.auth", Type: config.String, Default: "none", HasDefault: true, Validate: config.OneOf("none", "requested", "required"), Doc: "client certificates on SSL listeners: none, requested (verified when given) or required"},
	config.Key{Name: "ssl.enabled.protocols", Type: config.List, Default: "TLSv1.2,TLSv1.3", HasDefault: true, Validate: config.OneOf("TLSv1.2", "TLSv1.3"), Doc: "TLS versions accepted"},
	config.Key{Name: "sasl.enabled.mechanisms", Type: config.List, Default: "GSSAPI", HasDefault: true, Doc: "SASL mechanisms of SASL_PLAINTEXT and SASL_SSL listeners (listener.name.<listener>.sasl.enabled.mechanisms for one listener): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER (unsecured tokens only, for tests: OAuthBearerLoginModule with the unsecuredValidator* options) are served; Kafka's default, GSSAPI (Kerberos), is not, so a SASL listener must set this. The users of each come from listener.name.<listener>.<mechanism>.sasl.jaas.config, with Kafka's PlainLoginModule options user_NAME=\"password\"; SCRAM takes the same user_NAME options with ScramLoginModule, and also the users created at run time with AlterUserScramCredentials (kafka-configs.sh --alter --add-config SCRAM-SHA-256=[...], kadm), kept salted and hashed in scram-credentials.json of the first log dir as Kafka keeps them in its metadata"},
	config.Key{Name: "connection.failed.authentication.delay.ms", Type: config.Int, Default: "100", HasDefault: true, Validate: config.AtLeast(0), Doc: "how long a connection that failed SASL authentication waits before it is told and closed"},
	config.Key{Name: "controller.listener.names", Type: config.List, Doc: "listener names used by a KRaft controller; such listeners are not opened"},
	config.Key{Name: "log.dirs", Type: config.List, Doc: "folders holding the partition logs (a partition lives in one of them); overrides log.dir"},
	config.Key{Name: "log.dir", Type: config.String, Default: "/tmp/kafka-logs", HasDefault: true, Doc: "the log folder when log.dirs is not set"},
	config.Key{Name: "num.partitions", Type: config.Int, Default: "1", HasDefault: true, Validate: config.AtLeast(1), Doc: "partitions of an automatically created topic, and of CreateTopics asking for the default"},
	config.Key{Name: "auto.create.topics.enable", Type: config.Bool, Default: "true", HasDefault: true, Doc: "create a topic when a client asks Metadata for it and allows creation"},
	config.Key{Name: "delete.topic.enable", Type: config.Bool, Default: "true", HasDefault: true, Doc: "allow DeleteTopics"},
	config.Key{Name: "default.replication.factor", Type: config.Int, Default: "1", HasDefault: true, Validate: singleReplica, Doc: "replication factor of created topics; this broker is one node, so it must be 1"},
	config.Key{Name: "log.retention.hours", Type: config.Int, Default: "168", HasDefault: true, Doc: "retention.ms of topics, in hours, when neither log.retention.minutes nor log.retention.ms is set; -1 keeps data forever"},
	config.Key{Name: "log.retention.minutes", Type: config.Int, Doc: "retention.ms of topics, in minutes, when log.retention.ms is not set"},
	config.Key{Name: "log.retention.ms", Type: config.Long, Validate: config.AtLeast(-1), Doc: "retention.ms of topics: whole segments whose newest record is older are deleted; -1 keeps data forever"},
	config.Key{Name: "log.retention.bytes", Type: config.Long, Default: "-1", HasDefault: true, Validate: config.AtLeast(-1), Doc: "retention.bytes of topics: the oldest segments of a partition are deleted while the rest stays above this size; -1 for no limit"},
	config.Key{Name: "log.segment.bytes", Type: config.Int, Default: "1073741824", HasDefault: true, Validate: config.AtLeast(14), Doc: "segment.bytes of topics: size at which a partition's segment file is rolled"},
	config.Key{Name: "log.roll.hours", Type: config.Int, Default: "168", HasDefault: true, Validate: config.AtLeast(1), Doc: "segment.ms of topics, in hours, when log.roll.ms is not set"},
	config.Key{Name: "log.roll.ms", Type: config.Long, Validate: config.AtLeast(1), Doc: "segment.ms of topics: a segment is rolled once it is this old"},
	config.Key{Name: "log.retention.check.interval.ms", Type: config.Duration, Default: "300000", HasDefault: true, Validate: config.AtLeast(1), Doc: "how often retention is applied"},
	config.Key{Name: "log.index.interval.bytes", Type: config.Int, Default: "4096", HasDefault: true, Validate: config.AtLeast(0), Doc: "index.interval.bytes of topics: log bytes between offset index entries"},
	config.Key{Name: "log.message.timestamp.type", Type: config.String, Default: "CreateTime", HasDefault: true, Validate: config.OneOf("CreateTime", "LogAppendTime"), Doc: "message.timestamp.type of topics"},
	config.Key{Name: "log.cleanup.policy", Type: config.List, Default: "delete", HasDefault: true, Validate: config.OneOf("delete", "compact"), Doc: "cleanup.policy of topics: delete (retention by time and size), compact (the log cleaner keeps the latest record of each key), or compact,delete"},
	config.Key{Name: "log.cleaner.enable", Type: config.Bool, Default: "true", HasDefault: true, Doc: "run the log cleaner, which compacts the partitions of topics whose cleanup.policy includes compact; false leaves them uncompacted"},
	config.Key{Name: "log.cleaner.threads", Type: config.Int, Default: "1", HasDefault: true, Validate: config.AtLeast(0), Doc: "accepted; one cleaner goroutine cleans one partition at a time, whatever the number"},
	config.Key{Name: "log.cleaner.backoff.ms", Type: config.Duration, Default: "15000", HasDefault: true, Validate: config.AtLeast(0), Doc: "how long the cleaner sleeps when no partition needs cleaning"},
	config.Key{Name: "log.cleaner.min.cleanable.ratio", Type: config.Double, Default: "0.5", HasDefault: true, Doc: "min.cleanable.dirty.ratio of topics: the share of a partition's sealed bytes not yet cleaned at which it is cleaned"},
	config.Key{Name: "log.cleaner.delete.retention.ms", Type: config.Long, Default: "86400000", HasDefault: true, Validate: config.AtLeast(0), Doc: "delete.retention.ms of topics: how long a tombstone stays in a compacted topic once cleaned"},
	config.Key{Name: "log.cleaner.min.compaction.lag.ms", Type: config.Long, Default: "0", HasDefault: true, Validate: config.AtLeast(0), Doc: "min.compaction.lag.ms of topics: records newer than this are not compacted"},
	config.Key{Name: "log.cleaner.max.compaction.lag.ms", Type: config.Long, Default: "9223372036854775807", HasDefault: true, Validate: config.AtLeast(1), Doc: "max.compaction.lag.ms of topics: a partition whose oldest uncleaned record is older is cleaned whatever its dirty ratio"},
	config.Key{Name: "log.cleaner.dedupe.buffer.size", Type: config.Long, Default: "134217728", HasDefault: true, Doc: "accepted and not used: the cleaner maps all the keys of a pass in memory"},
	config.Key{Name: "log.cleaner.io.buffer.size", Type: config.Int, Default: "524288", HasDefault: true, Doc: "accepted and not used: the cleaner reads and writes through 1 MiB buffers"},
	config.Key{Name: "log.cleaner.io.buffer.load.factor", Type: config.Double, Default: "0.9", HasDefault: true, Doc: "accepted and not used"},
	config.Key{Name: "log.cleaner.io.max.bytes.per.second", Type: config.Double, Default: "1.7976931348623157E308", HasDefault: true, Doc: "accepted and not used: cleaning is not throttled"},
	config.Key{Name: "compression.type", Type: config.String, Default: "producer", HasDefault: true, Validate: config.OneOf("producer"), Doc: "compression.type of topics; batches are stored as producers compressed them, so only producer is accepted"},
	config.Key{Name: "message.max.bytes", Type: config.Int, Default: "1048588", HasDefault: true, Validate: config.AtLeast(0), Doc: "max.message.bytes of topics: the largest record batch accepted"},
	config.Key{Name: "socket.request.max.bytes", Type: config.Int, Default: "104857600", HasDefault: true, Validate: config.AtLeast(minFrameSize), Doc: "the largest request frame; a connection announcing a larger one is closed before anything is allocated for it, and a frame's buffer grows only as its bytes arrive"},
	config.Key{Name: "max.connections", Type: config.Int, Default: "2147483647", HasDefault: true, Validate: config.AtLeast(1), Doc: "connections open at once, over every listener; while the broker is at the limit, new connections wait (unaccepted) until one closes"},
	config.Key{Name: "max.connections.per.ip", Type: config.Int, Default: "2147483647", HasDefault: true, Validate: config.AtLeast(1), Doc: "connections open at once from one IP address; a connection beyond it is closed as soon as it is accepted"},
	config.Key{Name: "max.connections.per.ip.overrides", Type: config.List, Doc: "host:count or ip:count entries that replace max.connections.per.ip for those addresses (host names are resolved when the broker starts)"},
	config.Key{Name: "connections.max.idle.ms", Type: config.Long, Default: "600000", HasDefault: true, Doc: "a connection with no request started and no response written for this long is closed; a request frame must also arrive whole within this time, and a client that does not read its responses is cut after this long; -1 never closes idle connections"},
	config.Key{Name: "log.flush.interval.messages", Type: config.Long, Default: strconv.FormatInt(math.MaxInt64, 10), HasDefault: true, Validate: config.AtLeast(1), Doc: "flush.messages of topics: fsync a partition once this many messages are unflushed, before the produce that reaches it is answered; 1 fsyncs every acknowledged record (power-loss safe). Otherwise acknowledged records are in the log file, which survives a crash of the broker, and are fsynced by flush.ms, when a segment rolls and at shutdown, as in Kafka"},
	config.Key{Name: "log.flush.interval.ms", Type: config.Long, Validate: config.AtLeast(0), Doc: "flush.ms of topics: fsync a partition whose data has been unflushed this long; unset uses log.flush.scheduler.interval.ms"},
	config.Key{Name: "log.flush.scheduler.interval.ms", Type: config.Long, Default: strconv.FormatInt(math.MaxInt64, 10), HasDefault: true, Validate: config.AtLeast(0), Doc: "flush.ms of topics when log.flush.interval.ms is not set"},
	config.Key{Name: "log.flush.offset.checkpoint.interval.ms", Type: config.Duration, Default: "60000", HasDefault: true, Validate: config.AtLeast(1), Doc: "how often the recovery point of every partition is recorded (the offset below which a restart after a crash need not re-validate data)"},
	config.Key{Name: "group.initial.rebalance.delay.ms", Type: config.Duration, Default: "3000", HasDefault: true, Doc: "how long the first member of a new consumer group waits for others before the first rebalance"},
	config.Key{Name: "group.min.session.timeout.ms", Type: config.Duration, Default: "6000", HasDefault: true, Doc: "the smallest session timeout a group member may ask for"},
	config.Key{Name: "group.max.session.timeout.ms", Type: config.Duration, Default: "1800000", HasDefault: true, Doc: "the largest session timeout a group member may ask for"},
	config.Key{Name: "offsets.retention.minutes", Type: config.Int, Default: "10080", HasDefault: true, Validate: config.AtLeast(1), Doc: "committed offsets of a group that has been empty this long are deleted"},
	config.Key{Name: "offsets.retention.check.interval.ms", Type: config.Duration, Default: "600000", HasDefault: true, Validate: config.AtLeast(1), Doc: "how often expired committed offsets are looked for"},
	config.Key{Name: "offsets.topic.num.partitions", Type: config.Int, Default: "50", HasDefault: true, Validate: config.AtLeast(1), Doc: "partitions of the internal __consumer_offsets topic when the broker creates it (an existing topic keeps its count); a group's commits and metadata go to partition abs(groupId.hashCode()) % partitions, as in Kafka"},
	config.Key{Name: "offset.metadata.max.bytes", Type: config.Int, Default: "4096", HasDefault: true, Validate: config.AtLeast(0), Doc: "the largest metadata string a committed offset may carry"},
	config.Key{Name: "transaction.max.timeout.ms", Type: config.Duration, Default: "900000", HasDefault: true, Validate: config.AtLeast(1), Doc: "the longest transaction.timeout.ms a transactional producer may ask for; a longer one gets INVALID_TRANSACTION_TIMEOUT from InitProducerId"},
	config.Key{Name: "transaction.abort.timed.out.transaction.cleanup.interval.ms", Type: config.Duration, Default: "10000", HasDefault: true, Validate: config.AtLeast(1), Doc: "how often transactions open longer than their producer's transaction.timeout.ms are aborted (the producer's epoch is bumped, fencing it, as in Kafka)"},
	config.Key{Name: "transactional.id.expiration.ms", Type: config.Duration, Default: "604800000", HasDefault: true, Validate: config.AtLeast(1), Doc: "a transactional.id without a transaction in progress that has not been used this long is forgotten"},
	config.Key{Name: "transaction.remove.expired.transaction.cleanup.interval.ms", Type: config.Duration, Default: "3600000", HasDefault: true, Validate: config.AtLeast(1), Doc: "how often expired transactional ids are looked for"},
	config.Key{Name: "transaction.state.log.replication.factor", Type: config.Int, Default: "3", HasDefault: true, Doc: "accepted and not used: the transaction coordinator's state is a file (__transaction_state/transactions.log in the first log dir), not a topic"},
	config.Key{Name: "transaction.state.log.min.isr", Type: config.Int, Default: "2", HasDefault: true, Doc: "accepted and not used, as transaction.state.log.replication.factor"},
	config.Key{Name: "transaction.state.log.num.partitions", Type: config.Int, Default: "50", HasDefault: true, Doc: "accepted and not used, as transaction.state.log.replication.factor"},
	config.Key{Name: "transaction.state.log.segment.bytes", Type: config.Int, Default: "104857600", HasDefault: true, Doc: "accepted and not used, as transaction.state.log.replication.factor"},
	config.Key{Name: "transaction.state.log.load.buffer.size", Type: config.Int, Default: "5242880", HasDefault: true, Doc: "accepted and not used, as transaction.state.log.replication.factor"},
	config.Key{Name: "max.incremental.fetch.session.cache.slots", Type: config.Int, Default: "1000", HasDefault: true, Validate: config.AtLeast(0), Doc: "fetch sessions (KIP-227) kept at once; a new session finding every slot taken evicts, as Kafka does, the least recently used one if it has been idle over 2 minutes, else the smallest one older than 2 minutes if the new one is at least as large; otherwise the fetch is served without a session. 0 creates none"},
	config.Key{Name: "authorizer.class.name", Type: config.String, Validate: authorizerClass, Doc: "the authorizer that enforces ACLs: Kafka's org.apache.kafka.metadata.authorizer.StandardAuthorizer (or the older kafka.security.authorizer.AclAuthorizer) turns on ACLs with StandardAuthorizer's rules, kept in acls.json in the first log dir and changed with CreateAcls/DeleteAcls; empty: no authorization, any connected client may do anything"},
	config.Key{Name: "super.users", Type: config.String, Doc: "principals allowed everything whatever the ACLs, separated by ';' as in Kafka (User:admin;User:ops)"},
	config.Key{Name: "allow.everyone.if.no.acl.found", Type: config.Bool, Default: "false", HasDefault: true, Doc: "with an authorizer, whether a resource no ACL names is open to everyone (true) or to super users only (false, Kafka's default)"},
	config.Key{Name: "delegation.token.secret.key", Type: config.Password, Validate: noDelegationTokens, Doc: "not used: delegation tokens are not served (CreateDelegationToken and the others answer DELEGATION_TOKEN_AUTH_DISABLED, as Kafka does without this key); setting it is refused at start-up, since token authentication is not implemented"},
	config.Key{Name: "delegation.token.master.key", Type: config.Password, Validate: noDelegationTokens, Doc: "Kafka's older name for delegation.token.secret.key; refused the same way when set"},
	config.Key{Name: "delegation.token.max.lifetime.ms", Type: config.Duration, Default: "604800000", HasDefault: true, Validate: config.AtLeast(1), Doc: "not used: delegation tokens are not served"},
	config.Key{Name: "delegation.token.expiry.time.ms", Type: config.Duration, Default: "86400000", HasDefault: true, Validate: config.AtLeast(1), Doc: "not used: delegation tokens are not served"},
	config.Key{Name: "delegation.token.expiry.check.interval.ms", Type: config.Duration, Default: "3600000", HasDefault: true, Validate: config.AtLeast(1), Doc: "not used: delegation tokens are not served"},
	config.Key{Name: "metrics.listener", Type: config.String, Validate: validMetricsListener, Doc: "http://host:port of an HTTP listener serving the broker's metrics at /metrics in the Prometheus text format (Kafka's JMX metrics named as the Prometheus JMX exporter names them, and consumer group offsets and lag as kafka-lag-exporter names them); port 0 picks a free port; empty (the default) serves none. It has no authentication: bind it to 127.0.0.1 or a private network"},
	config.Key{Name: "emulate.kafka.version", Type: config.String, Validate: kafkaRelease, Doc: "advertise no API version newer than this Apache Kafka release (for example 2.8 or 3.7), to test clients against an older broker; empty advertises every version implemented"},
)

// EmbeddedPrefix starts the keys with which the file of another command
// configures a broker that it runs in-process (connect-standalone's
// bundled broker): broker.<server.properties key>.
const EmbeddedPrefix = "broker."

// EmbeddedKeys returns the keys that a command running the broker
// in-process declares in its own file: broker.listeners and
// broker.log.dirs, with the defaults of the bundled broker. Any other
// broker.<key> is the server.properties key of Definitions.
func EmbeddedKeys() []config.Key {
	listeners, _ := definitions.Lookup("listeners")
	return []config.Key{
		{Name: EmbeddedPrefix + "listeners", Type: config.String, Default: listeners.Default, HasDefault: true,
			Doc: "Bundled broker only (no bootstrap.servers): its listeners. Any other broker.<key> is a server.properties key for it."},
		{Name: EmbeddedPrefix + "log.dirs", Type: config.String,
			Doc: "Bundled broker only: its data folder; by default tributary-logs beside the offsets file."},
		{Name: EmbeddedPrefix + "metrics.listener", Type: config.String, Validate: validMetricsListener,
			Doc: "Bundled broker only: http://host:port on which it serves its metrics at /metrics (the broker's metrics.listener); empty serves none. The worker's own metrics are at /metrics of its REST listener."},
	}
}

func singleReplica(v any) error {
	if n, _ := v.(int); n != 1 {
		return errors.New("must be 1: this broker is a single node")
	}
	return nil
}

// noDelegationTokens refuses a delegation token secret: with one, Kafka
// would issue tokens and accept them for SASL/SCRAM, which this broker
// does not do.
func noDelegationTokens(v any) error {
	if s, _ := v.(string); s != "" {
		return errors.New("delegation tokens are not implemented by this broker; remove this key (without it, as in Kafka, the delegation token requests answer DELEGATION_TOKEN_AUTH_DISABLED)")
	}
	return nil
}

func kafkaRelease(v any) error {
	s, _ := v.(string)
	if s == "" || kversion.FromString(s) != nil {
		return nil
	}
	return fmt.Errorf("is not a Kafka release this broker knows (e.g. %s)", strings.Join(kversion.VersionStrings()[:3], ", "))
}

// Listener is one NAME://host:port entry of listeners or
// advertised.listeners.
type Listener struct {
	Name string
	Host string
	Port int
	// SecurityProtocol is PLAINTEXT (also when empty), SSL,
	// SASL_PLAINTEXT or SASL_SSL.
	SecurityProtocol string
	// TLS serves SSL and SASL_SSL listeners.
	TLS *tls.Config
	// SASL authenticates clients of SASL_PLAINTEXT and SASL_SSL listeners.
	SASL *SASL
}

func (l Listener) String() string {
	return l.Name + "://" + net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
}

// ParseListener parses NAME://host:port (the host may be empty or a
// bracketed IPv6 address).
func ParseListener(s string) (Listener, error) {
	name, addr, ok := strings.Cut(strings.TrimSpace(s), "://")
	if !ok || name == "" {
		return Listener{}, fmt.Errorf("%q is not NAME://host:port", s)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return Listener{}, fmt.Errorf("%q is not NAME://host:port: %v", s, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return Listener{}, fmt.Errorf("%q has port %q; want 0 to 65535", s, port)
	}
	return Listener{Name: strings.ToUpper(name), Host: host, Port: n}, nil
}

// Config configures a Broker. Build it with ParseConfig from
// Definitions().Parse(props): every field then holds Kafka's default
// unless the file says otherwise.
type Config struct {
	NodeID int32
	// Listeners are the PLAINTEXT listeners to open (controller listeners
	// already removed).
	Listeners []Listener
	// AdvertisedListeners override, by name, what Metadata returns.
	AdvertisedListeners []Listener
	LogDirs             []string
	NumPartitions       int32
	AutoCreateTopics    bool
	DeleteTopicEnable   bool
	// TopicDefaults are the broker-wide values of topic configs (Kafka's
	// topic config names: retention.ms, segment.bytes, ...), derived from
	// the log.* keys. Topics override them one by one.
	TopicDefaults         map[string]string
	SocketRequestMaxBytes int
	// FailedAuthenticationDelay is connection.failed.authentication.delay.ms.
	FailedAuthenticationDelay time.Duration
	// MaxConnections bounds the connections open at once (0: no limit).
	MaxConnections int
	// MaxConnectionsPerIP bounds the connections open at once from one
	// address (0: no limit); MaxConnectionsPerIPOverrides replace it for
	// the hosts or addresses named.
	MaxConnectionsPerIP          int
	MaxConnectionsPerIPOverrides map[string]int
	// ConnectionsMaxIdle closes a connection idle this long; it also
	// bounds how long a request frame may take to arrive and a response
	// to be taken by the client. 0 or less: never.
	ConnectionsMaxIdle     time.Duration
	RetentionCheckInterval time.Duration
	CheckpointInterval     time.Duration
	// CleanerDisabled is log.cleaner.enable=false; CleanerBackoff is
	// log.cleaner.backoff.ms (0: Kafka's 15 s).
	CleanerDisabled bool
	CleanerBackoff  time.Duration
	// EmulateVersion caps advertised API versions to a Kafka release.
	EmulateVersion string
	// MetricsListener is metrics.listener: http://host:port serving
	// /metrics, or "" for none.
	MetricsListener string

	GroupInitialRebalanceDelay time.Duration
	GroupMinSessionTimeout     time.Duration
	GroupMaxSessionTimeout     time.Duration
	OffsetsRetention           time.Duration
	OffsetsRetentionCheck      time.Duration
	OffsetMetadataMaxBytes     int
	// Transactions: transaction.max.timeout.ms,
	// transaction.abort.timed.out.transaction.cleanup.interval.ms,
	// transactional.id.expiration.ms and
	// transaction.remove.expired.transaction.cleanup.interval.ms.
	TxnMaxTimeout     time.Duration
	TxnAbortInterval  time.Duration
	TxnIDExpiration   time.Duration
	TxnRemoveInterval time.Duration

	Logger *slog.Logger
	// LogLevel, when set, is the level Logger logs at, which the
	// BROKER_LOGGER configs of DescribeConfigs and IncrementalAlterConfigs
	// (kafka-configs.sh --broker-logger) read and change as the root
	// logger's. Nil: they read Logger's level and cannot change it (the
	// process that runs the broker owns it).
	LogLevel *slog.LevelVar

	// assumeCaseInsensitive treats the log dirs as ignoring case (tests
	// on case-sensitive file systems).
	assumeCaseInsensitive bool

	// values are the parsed server.properties, for DescribeConfigs.
	values *config.Values
	// topicDefaultKeys names, per topic config, the broker key that set
	// its default in the file (for DescribeConfigs sources).
	topicDefaultKeys map[string]string
	// dyn is the dynamic layer (dynamicconfig.go), read from the first
	// log dir by ParseConfig.
	dyn *dynamicConfigs
	// authz enforces the ACLs (authorizer.class.name), read from the
	// first log dir by ParseConfig; nil: no authorization.
	authz *authorizer
	// scram holds the SCRAM credentials of AlterUserScramCredentials,
	// read from the first log dir by ParseConfig (scramstore.go).
	scram *scramStore
	// quotas are the client quotas (quota.go), read from the first log
	// dir by ParseConfig; New gives a Config built otherwise an empty
	// store kept in memory.
	quotas *quotaStore
}

// ParseConfig builds a Config from parsed server.properties values.
func ParseConfig(v *config.Values) (Config, error) {
	c := Config{
		NodeID:                     1,
		NumPartitions:              int32(v.Int("num.partitions")),
		AutoCreateTopics:           v.Bool("auto.create.topics.enable"),
		DeleteTopicEnable:          v.Bool("delete.topic.enable"),
		SocketRequestMaxBytes:      v.Int("socket.request.max.bytes"),
		MaxConnections:             v.Int("max.connections"),
		FailedAuthenticationDelay:  time.Duration(v.Int("connection.failed.authentication.delay.ms")) * time.Millisecond,
		MaxConnectionsPerIP:        v.Int("max.connections.per.ip"),
		ConnectionsMaxIdle:         time.Duration(v.Long("connections.max.idle.ms")) * time.Millisecond,
		RetentionCheckInterval:     v.Duration("log.retention.check.interval.ms"),
		CheckpointInterval:         v.Duration("log.flush.offset.checkpoint.interval.ms"),
		CleanerDisabled:            !v.Bool("log.cleaner.enable"),
		CleanerBackoff:             v.Duration("log.cleaner.backoff.ms"),
		EmulateVersion:             v.String("emulate.kafka.version"),
		MetricsListener:            v.String("metrics.listener"),
		GroupInitialRebalanceDelay: v.Duration("group.initial.rebalance.delay.ms"),
		GroupMinSessionTimeout:     v.Duration("group.min.session.timeout.ms"),
		GroupMaxSessionTimeout:     v.Duration("group.max.session.timeout.ms"),
		OffsetsRetention:           time.Duration(v.Int("offsets.retention.minutes")) * time.Minute,
		OffsetsRetentionCheck:      v.Duration("offsets.retention.check.interval.ms"),
		OffsetMetadataMaxBytes:     v.Int("offset.metadata.max.bytes"),
		TxnMaxTimeout:              v.Duration("transaction.max.timeout.ms"),
		TxnAbortInterval:           v.Duration("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
		TxnIDExpiration:            v.Duration("transactional.id.expiration.ms"),
		TxnRemoveInterval:          v.Duration("transaction.remove.expired.transaction.cleanup.interval.ms"),
		values:                     v,
	}
	src := v.Source()
	var errs []error
	keyErr := func(key, value, reason string) {
		errs = append(errs, &config.Error{Source: src, Key: key, Value: value, Reason: reason})
	}
	switch {
	case v.Has("node.id"):
		c.NodeID = int32(v.Int("node.id"))
	case v.Has("broker.id") && v.Int("broker.id") >= 0:
		c.NodeID = int32(v.Int("broker.id"))
	}

	protocols := map[string]string{}
	for _, e := range v.List("listener.security.protocol.map") {
		name, proto, ok := strings.Cut(e, ":")
		if !ok {
			keyErr("listener.security.protocol.map", e, "is not NAME:PROTOCOL")
			continue
		}
		protocols[strings.ToUpper(strings.TrimSpace(name))] = strings.ToUpper(strings.TrimSpace(proto))
	}
	controllers := map[string]bool{}
	for _, n := range v.List("controller.listener.names") {
		controllers[strings.ToUpper(n)] = true
	}
	parseList := func(key string) []Listener {
		var out []Listener
		for _, e := range v.List(key) {
			l, err := ParseListener(e)
			if err != nil {
				keyErr(key, e, "is not NAME://host:port")
				continue
			}
			if controllers[l.Name] {
				continue
			}
			proto := protocols[l.Name]
			if proto == "" {
				proto = l.Name
			}
			switch proto {
			case "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
			default:
				keyErr(key, e, fmt.Sprintf("uses security protocol %s; PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL are served (listener.security.protocol.map names the protocol of each listener)", proto))
				continue
			}
			l.SecurityProtocol = proto
			out = append(out, l)
		}
		return out
	}
	c.Listeners = parseList("listeners")
	c.AdvertisedListeners = parseList("advertised.listeners")
	for i, l := range c.Listeners {
		c.Listeners[i] = listenerSecurity(v, l, keyErr)
	}
	if len(c.Listeners) == 0 && len(errs) == 0 {
		keyErr("listeners", strings.Join(v.List("listeners"), ","), "leaves no listener to open")
	}
	for _, a := range c.AdvertisedListeners {
		if ip := net.ParseIP(a.Host); ip != nil && ip.IsUnspecified() {
			keyErr("advertised.listeners", a.String(), "advertises the unspecified address; clients cannot connect to it")
		}
	}

	for _, e := range v.List("max.connections.per.ip.overrides") {
		i := strings.LastIndexByte(e, ':')
		host := strings.Trim(strings.TrimSpace(e[:max(i, 0)]), "[]")
		n, err := strconv.Atoi(strings.TrimSpace(e[i+1:]))
		if i < 0 || host == "" || err != nil || n < 0 {
			keyErr("max.connections.per.ip.overrides", e, "is not host:count with a count of 0 or more")
			continue
		}
		if c.MaxConnectionsPerIPOverrides == nil {
			c.MaxConnectionsPerIPOverrides = map[string]int{}
		}
		c.MaxConnectionsPerIPOverrides[host] = n
	}

	c.LogDirs = v.List("log.dirs")
	if len(c.LogDirs) == 0 {
		c.LogDirs = []string{v.String("log.dir")}
	}

	c.TopicDefaults, c.topicDefaultKeys = topicDefaults(v)
	if len(errs) == 0 {
		if err := c.loadDynamic(v); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && v.String("authorizer.class.name") != "" {
		a, err := newAuthorizer(c.LogDirs[0], strings.Split(v.String("super.users"), ";"), v.Bool("allow.everyone.if.no.acl.found"))
		if err != nil {
			errs = append(errs, fmt.Errorf("broker: ACLs: %w", err))
		}
		c.authz = a
	}
	if len(errs) == 0 {
		q, err := loadQuotaStore(c.LogDirs[0])
		if err != nil {
			errs = append(errs, fmt.Errorf("broker: %w", err))
		}
		c.quotas = q
	}
	if len(errs) == 0 {
		st, err := loadScramStore(c.LogDirs[0])
		if err != nil {
			errs = append(errs, fmt.Errorf("broker: SCRAM credentials: %w", err))
		}
		c.scram = st
		for _, l := range c.Listeners {
			if l.SASL != nil {
				l.SASL.store = st
			}
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// authorizerClass accepts Kafka's authorizer class names.
func authorizerClass(v any) error {
	switch v.(string) {
	case "", "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer":
		return nil
	}
	return errors.New("is not an authorizer known here; use org.apache.kafka.metadata.authorizer.StandardAuthorizer")
}

// topicDefaults derives the broker-wide topic config values from the log.*
// keys, with Kafka's precedence (log.retention.ms over .minutes over
// .hours, log.roll.ms over log.roll.hours, log.flush.interval.ms over
// log.flush.scheduler.interval.ms).
func topicDefaults(v *config.Values) (map[string]string, map[string]string) {
	d := map[string]string{}
	keys := map[string]string{}
	set := func(topicKey, brokerKey, value string) {
		d[topicKey] = value
		if v.IsSet(brokerKey) {
			keys[topicKey] = brokerKey
		}
	}
	ms := func(n int64, unit time.Duration) string {
		if n < 0 {
			return "-1"
		}
		return strconv.FormatInt(n*int64(unit/time.Millisecond), 10)
	}
	switch {
	case v.Has("log.retention.ms"):
		set("retention.ms", "log.retention.ms", strconv.FormatInt(v.Long("log.retention.ms"), 10))
	case v.Has("log.retention.minutes"):
		set("retention.ms", "log.retention.minutes", ms(int64(v.Int("log.retention.minutes")), time.Minute))
	default:
		set("retention.ms", "log.retention.hours", ms(int64(v.Int("log.retention.hours")), time.Hour))
	}
	if v.Has("log.roll.ms") {
		set("segment.ms", "log.roll.ms", strconv.FormatInt(v.Long("log.roll.ms"), 10))
	} else {
		set("segment.ms", "log.roll.hours", ms(int64(v.Int("log.roll.hours")), time.Hour))
	}
	if v.Has("log.flush.interval.ms") {
		set("flush.ms", "log.flush.interval.ms", strconv.FormatInt(v.Long("log.flush.interval.ms"), 10))
	} else {
		set("flush.ms", "log.flush.scheduler.interval.ms", strconv.FormatInt(v.Long("log.flush.scheduler.interval.ms"), 10))
	}
	set("retention.bytes", "log.retention.bytes", strconv.FormatInt(v.Long("log.retention.bytes"), 10))
	set("segment.bytes", "log.segment.bytes", strconv.Itoa(v.Int("log.segment.bytes")))
	set("index.interval.bytes", "log.index.interval.bytes", strconv.Itoa(v.Int("log.index.interval.bytes")))
	set("flush.messages", "log.flush.interval.messages", strconv.FormatInt(v.Long("log.flush.interval.messages"), 10))
	set("max.message.bytes", "message.max.bytes", strconv.Itoa(v.Int("message.max.bytes")))
	set("message.timestamp.type", "log.message.timestamp.type", canonicalTimestampType(v.String("log.message.timestamp.type")))
	set("cleanup.policy", "log.cleanup.policy", strings.ToLower(strings.Join(v.List("log.cleanup.policy"), ",")))
	set("compression.type", "compression.type", strings.ToLower(v.String("compression.type")))
	set("delete.retention.ms", "log.cleaner.delete.retention.ms", strconv.FormatInt(v.Long("log.cleaner.delete.retention.ms"), 10))
	set("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", strconv.FormatInt(v.Long("log.cleaner.min.compaction.lag.ms"), 10))
	set("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", strconv.FormatInt(v.Long("log.cleaner.max.compaction.lag.ms"), 10))
	set("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", strconv.FormatFloat(v.Double("log.cleaner.min.cleanable.ratio"), 'g', -1, 64))
	return d, keys
}

func canonicalTimestampType(s string) string {
	if strings.EqualFold(s, "LogAppendTime") {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// Validate checks a Config built or changed in code.
func (c Config) Validate() error {
	var errs []error
	if len(c.Listeners) == 0 {
		errs = append(errs, errors.New("broker: no listeners"))
	}
	for _, l := range c.Listeners {
		if l.Port < 0 || l.Port > 65535 {
			errs = append(errs, fmt.Errorf("broker: listener %s: bad port", l))
		}
		switch l.SecurityProtocol {
		case "", "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL":
		default:
			errs = append(errs, fmt.Errorf("broker: listener %s: unknown security protocol %s", l, l.SecurityProtocol))
		}
		if strings.HasSuffix(l.SecurityProtocol, "SSL") && l.TLS == nil {
			errs = append(errs, fmt.Errorf("broker: listener %s: %s without a TLS configuration", l, l.SecurityProtocol))
		}
		if strings.HasPrefix(l.SecurityProtocol, "SASL") {
			if l.SASL == nil {
				errs = append(errs, fmt.Errorf("broker: listener %s: %s without a SASL configuration", l, l.SecurityProtocol))
			} else if err := l.SASL.validate(l.Name); err != nil {
				errs = append(errs, fmt.Errorf("broker: %w", err))
			}
		}
	}
	if len(c.LogDirs) == 0 {
		errs = append(errs, errors.New("broker: no log dirs"))
	}
	for _, d := range c.LogDirs {
		if strings.TrimSpace(d) == "" {
			errs = append(errs, errors.New("broker: empty log dir"))
		}
	}
	if c.NodeID < 0 {
		errs = append(errs, fmt.Errorf("broker: node id %d is negative", c.NodeID))
	}
	if c.NumPartitions < 1 {
		errs = append(errs, fmt.Errorf("broker: num.partitions %d is below 1", c.NumPartitions))
	}
	if c.SocketRequestMaxBytes < minFrameSize {
		errs = append(errs, fmt.Errorf("broker: socket.request.max.bytes is below %d", minFrameSize))
	}
	if c.MaxConnections < 0 || c.MaxConnectionsPerIP < 0 {
		errs = append(errs, errors.New("broker: max.connections and max.connections.per.ip cannot be negative"))
	}
	if c.RetentionCheckInterval <= 0 || c.CheckpointInterval <= 0 {
		errs = append(errs, errors.New("broker: check intervals must be positive"))
	}
	if c.EmulateVersion != "" && kversion.FromString(c.EmulateVersion) == nil {
		errs = append(errs, fmt.Errorf("broker: emulate.kafka.version %q is not a known Kafka release", c.EmulateVersion))
	}
	for k, val := range c.TopicDefaults {
		if err := validateTopicConfig(k, val); err != nil {
			errs = append(errs, fmt.Errorf("broker: topic default %w", err))
		}
	}
	return errors.Join(errs...)
}

// listenerKey is the per-listener form of a key:
// listener.name.<listener, lower case>.<key>.
func listenerKey(l Listener, key string) string {
	return "listener.name." + strings.ToLower(l.Name) + "." + key
}

// listenerSecurity fills in the TLS and SASL configuration of an SSL,
// SASL_PLAINTEXT or SASL_SSL listener from the ssl.* and sasl.* keys, each
// overridable for the listener as listener.name.<listener>.<key>.
func listenerSecurity(v *config.Values, l Listener, keyErr func(key, value, reason string)) Listener {
	str := func(key string) (string, string) {
		if s, ok := v.Props().Get(listenerKey(l, key)); ok {
			return strings.TrimSpace(s), listenerKey(l, key)
		}
		return v.String(key), key
	}
	list := func(key string) ([]string, string) {
		s, ok := v.Props().Get(listenerKey(l, key))
		if !ok {
			return v.List(key), key
		}
		var out []string
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
		return out, listenerKey(l, key)
	}
	if strings.HasSuffix(l.SecurityProtocol, "SSL") {
		var s tlsSettings
		s.keystoreType, _ = str("ssl.keystore.type")
		s.KeystoreLocation, _ = str("ssl.keystore.location")
		s.KeystoreChain, _ = str("ssl.keystore.certificate.chain")
		s.KeystoreKey, _ = str("ssl.keystore.key")
		s.truststoreType, _ = str("ssl.truststore.type")
		s.TruststoreLocation, _ = str("ssl.truststore.location")
		s.TruststoreCerts, _ = str("ssl.truststore.certificates")
		s.clientAuth, _ = str("ssl.client.auth")
		s.protocols, _ = list("ssl.enabled.protocols")
		cfg, err := buildTLS(s)
		if err != nil {
			keyErr("listeners", l.String(), err.Error())
		}
		l.TLS = cfg
	}
	if strings.HasPrefix(l.SecurityProtocol, "SASL") {
		mechs, key := list("sasl.enabled.mechanisms")
		sasl := &SASL{Users: map[string]map[string]string{}}
		for _, m := range mechs {
			m = strings.ToUpper(m)
			if !slices.Contains(supportedMechanisms, m) {
				keyErr(key, strings.Join(mechs, ","), fmt.Sprintf("enables %s on listener %s, which this broker does not serve; enable %s", m, l.Name, strings.Join(supportedMechanisms, ", ")))
				continue
			}
			jaasKey := listenerKey(l, strings.ToLower(m)+".sasl.jaas.config")
			jaas, ok := v.Props().Get(jaasKey)
			if !ok && m == MechanismOAuthBearer {
				keyErr(jaasKey, "", fmt.Sprintf("is required for %s on listener %s (org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;)", m, l.Name))
				continue
			}
			if !ok {
				keyErr(jaasKey, "", fmt.Sprintf("is required for %s on listener %s (its users, as user_NAME=\"password\" options)", m, l.Name))
				continue
			}
			if m == MechanismOAuthBearer {
				o, err := jaasOAuthBearer(jaas)
				if err != nil {
					keyErr(jaasKey, "(secret)", err.Error())
					continue
				}
				sasl.Mechanisms = append(sasl.Mechanisms, m)
				sasl.OAuthBearer = o
				continue
			}
			users, err := jaasUsers(m, jaas)
			if err != nil {
				keyErr(jaasKey, "(secret)", err.Error())
				continue
			}
			sasl.Mechanisms = append(sasl.Mechanisms, m)
			sasl.Users[m] = users
		}
		if len(mechs) == 0 {
			keyErr(key, "", fmt.Sprintf("enables no mechanism for SASL listener %s", l.Name))
		}
		l.SASL = sasl
	}
	return l
}

// UnusedKeys lists the keys of a server.properties that the broker does
// not read: those Definitions does not define, less the per-listener
// forms (listener.name.<listener>.ssl.*, .sasl.enabled.mechanisms,
// .<mechanism>.sasl.jaas.config) of listeners that are opened.
func UnusedKeys(v *config.Values, c Config) []string {
	var out []string
	for _, k := range v.Unknown() {
		used := false
		for _, l := range c.Listeners {
			rest, ok := strings.CutPrefix(k, listenerKey(l, ""))
			if !ok {
				continue
			}
			_, defined := Definitions().Lookup(rest)
			mech, _, _ := strings.Cut(rest, ".sasl.jaas.config")
			used = defined && (strings.HasPrefix(rest, "ssl.") || strings.HasPrefix(rest, "sasl.")) ||
				strings.HasSuffix(rest, ".sasl.jaas.config") && slices.Contains(supportedMechanisms, strings.ToUpper(mech))
		}
		if !used {
			out = append(out, k)
		}
	}
	return out
}
