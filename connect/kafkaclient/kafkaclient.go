// Package kafkaclient builds franz-go clients from Kafka's client
// properties, so that the worker's producer.* / consumer.* overrides and the
// command-line tools' --producer-property, --consumer-property and
// --*.config files mean what they mean to Kafka's Java client.
//
// Options translates one property map into kgo options. Keys it knows are
// translated (or rejected with an error naming the key and value); keys that
// have no meaning for franz-go, such as key.serializer, are accepted and
// returned as ignored so the caller can say so once.
//
// security.protocol, sasl.mechanism, sasl.jaas.config and the ssl.* keys
// reach TLS and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) brokers; see
// security.go. A missing credential is an error only in a full client
// configuration, one naming bootstrap.servers.
package kafkaclient

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Role says which kind of client the properties configure; keys of the other
// role are ignored, as the Java client ignores them.
type Role int

const (
	// Admin is a client that only sends metadata and admin requests.
	Admin Role = iota
	// Producer produces records.
	Producer
	// Consumer consumes records, in a group when group.id is set.
	Consumer
)

func (r Role) String() string {
	switch r {
	case Producer:
		return "producer"
	case Consumer:
		return "consumer"
	}
	return "admin"
}

// Result is the outcome of translating a property map.
type Result struct {
	Opts []kgo.Opt
	// Ignored lists keys that were accepted but have no effect here, sorted.
	Ignored []string
	// GroupID is group.id, when set (consumers).
	GroupID string
}

// Options translates Kafka client properties for a client of the given role.
// Errors name the key and the value.
func Options(props map[string]string, role Role) (Result, error) {
	var res Result
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	acksSet, idemSet, idem := false, false, true
	var acks kgo.Acks = kgo.AllISRAcks()
	for _, k := range keys {
		v := strings.TrimSpace(props[k])
		opt, known, err := translate(k, v, role)
		if err != nil {
			if secretKey(k) {
				return Result{}, fmt.Errorf("%s: %w", k, err)
			}
			return Result{}, fmt.Errorf("%s: %q %w", k, v, err)
		}
		switch k {
		case "acks":
			acksSet = true
			switch v {
			case "all", "-1":
				acks = kgo.AllISRAcks()
			case "1":
				acks = kgo.LeaderAck()
			case "0":
				acks = kgo.NoAck()
			}
		case "enable.idempotence":
			idemSet = true
			idem = v == "true"
		case "group.id":
			res.GroupID = v
		}
		if opt != nil {
			res.Opts = append(res.Opts, opt)
		}
		if !known {
			res.Ignored = append(res.Ignored, k)
		}
	}
	// The security keys work together; what is missing is an error only
	// in a full client configuration (one naming bootstrap.servers), not
	// when keys are checked one at a time.
	_, full := props["bootstrap.servers"]
	sec, err := securityOpts(props, full)
	if err != nil {
		return Result{}, err
	}
	res.Opts = append(res.Opts, sec...)
	if role == Producer {
		// As in the Java client: idempotence needs acks=all; when only acks
		// is given, idempotence is turned off rather than refused.
		if acksSet && acks != kgo.AllISRAcks() {
			if idemSet && idem {
				return Result{}, fmt.Errorf("enable.idempotence: \"true\" needs acks=all (acks is %q)", props["acks"])
			}
			idem = false
		}
		res.Opts = append(res.Opts, kgo.RequiredAcks(acks))
		if !idem {
			res.Opts = append(res.Opts, kgo.DisableIdempotentWrite())
		}
		if _, set := props["allow.auto.create.topics"]; !set {
			// The Java producer's default: producing to a topic that does
			// not exist creates it where the broker allows that.
			res.Opts = append(res.Opts, kgo.AllowAutoTopicCreation())
		}
	}
	return res, nil
}

// translate returns the option for one key, whether the key is known, or an
// error that completes the sentence `key: "value" ...`.
func translate(k, v string, role Role) (kgo.Opt, bool, error) {
	switch k {
	// Common to all clients.
	case "bootstrap.servers":
		var hosts []string
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) == 0 {
			return nil, true, fmt.Errorf("names no broker")
		}
		for _, h := range hosts {
			if !strings.Contains(h, ":") {
				return nil, true, fmt.Errorf("has %q, which lacks a port (host:port)", h)
			}
		}
		return kgo.SeedBrokers(hosts...), true, nil
	case "client.id":
		return kgo.ClientID(v), true, nil
	case "request.timeout.ms":
		d, err := millis(v)
		if err != nil {
			return nil, true, err
		}
		return kgo.RequestTimeoutOverhead(d), true, nil
	case "retry.backoff.ms":
		d, err := millis(v)
		if err != nil {
			return nil, true, err
		}
		return kgo.RetryBackoffFn(func(int) time.Duration { return d }), true, nil
	case "metadata.max.age.ms":
		d, err := millis(v)
		if err != nil {
			return nil, true, err
		}
		return kgo.MetadataMaxAge(d), true, nil
	case "connections.max.idle.ms":
		d, err := millis(v)
		if err != nil {
			return nil, true, err
		}
		return kgo.ConnIdleTimeout(d), true, nil
	case "socket.connection.setup.timeout.ms":
		d, err := millis(v)
		if err != nil {
			return nil, true, err
		}
		return kgo.DialTimeout(d), true, nil
	case "reconnect.backoff.ms", "reconnect.backoff.max.ms", "retry.backoff.max.ms":
		if _, err := millis(v); err != nil {
			return nil, true, err
		}
		return nil, false, nil
	}
	if securityKeys[k] {
		return nil, true, checkSecurityKey(k, v)
	}

	if role == Producer {
		switch k {
		case "acks":
			switch v {
			case "all", "-1", "0", "1":
				return nil, true, nil
			}
			return nil, true, fmt.Errorf("is not one of all, -1, 0, 1")
		case "enable.idempotence":
			if _, err := boolean(v); err != nil {
				return nil, true, err
			}
			return nil, true, nil
		case "linger.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.ProducerLinger(d), true, nil
		case "batch.size":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.ProducerBatchMaxBytes(int32(n)), true, nil
		case "max.request.size":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.BrokerMaxWriteBytes(int32(n)), true, nil
		case "buffer.memory":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.MaxBufferedBytes(int(n)), true, nil
		case "compression.type":
			c, err := Compression(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.ProducerBatchCompression(c), true, nil
		case "delivery.timeout.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.RecordDeliveryTimeout(d), true, nil
		case "retries":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, true, fmt.Errorf("is not a number of 0 or more")
			}
			return kgo.RecordRetries(n), true, nil
		case "max.in.flight.requests.per.connection":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.MaxProduceRequestsInflightPerBroker(int(n)), true, nil
		case "transactional.id":
			return kgo.TransactionalID(v), true, nil
		case "transaction.timeout.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.TransactionTimeout(d), true, nil
		case "max.block.ms":
			if _, err := millis(v); err != nil {
				return nil, true, err
			}
			return nil, false, nil
		case "allow.auto.create.topics":
			b, err := boolean(v)
			if err != nil {
				return nil, true, err
			}
			if b {
				return kgo.AllowAutoTopicCreation(), true, nil
			}
			return nil, true, nil
		}
	}

	if role == Consumer {
		switch k {
		case "group.id":
			if v == "" {
				return nil, true, nil
			}
			return kgo.ConsumerGroup(v), true, nil
		case "group.instance.id":
			return kgo.InstanceID(v), true, nil
		case "auto.offset.reset":
			switch strings.ToLower(v) {
			case "earliest":
				return kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), true, nil
			case "latest":
				return kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), true, nil
			case "none":
				return kgo.ConsumeResetOffset(kgo.NoResetOffset()), true, nil
			}
			return nil, true, fmt.Errorf("is not one of earliest, latest, none")
		case "enable.auto.commit":
			b, err := boolean(v)
			if err != nil {
				return nil, true, err
			}
			if !b {
				return kgo.DisableAutoCommit(), true, nil
			}
			return nil, true, nil
		case "auto.commit.interval.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.AutoCommitInterval(d), true, nil
		case "session.timeout.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.SessionTimeout(d), true, nil
		case "heartbeat.interval.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.HeartbeatInterval(d), true, nil
		case "max.poll.interval.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.RebalanceTimeout(d), true, nil
		case "fetch.min.bytes":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.FetchMinBytes(int32(n)), true, nil
		case "fetch.max.bytes":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.FetchMaxBytes(int32(n)), true, nil
		case "fetch.max.wait.ms":
			d, err := millis(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.FetchMaxWait(d), true, nil
		case "max.partition.fetch.bytes":
			n, err := positive(v)
			if err != nil {
				return nil, true, err
			}
			return kgo.FetchMaxPartitionBytes(int32(n)), true, nil
		case "isolation.level":
			switch strings.ToLower(v) {
			case "read_uncommitted":
				return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), true, nil
			case "read_committed":
				return kgo.FetchIsolationLevel(kgo.ReadCommitted()), true, nil
			}
			return nil, true, fmt.Errorf("is not one of read_committed, read_uncommitted")
		case "partition.assignment.strategy":
			var bs []kgo.GroupBalancer
			for _, name := range strings.Split(v, ",") {
				b, err := balancer(strings.TrimSpace(name))
				if err != nil {
					return nil, true, err
				}
				bs = append(bs, b)
			}
			return kgo.Balancers(bs...), true, nil
		case "client.rack":
			return kgo.Rack(v), true, nil
		case "check.crcs":
			b, err := boolean(v)
			if err != nil {
				return nil, true, err
			}
			if !b {
				return kgo.DisableFetchCRCValidation(), true, nil
			}
			return nil, true, nil
		case "allow.auto.create.topics":
			b, err := boolean(v)
			if err != nil {
				return nil, true, err
			}
			if b {
				return kgo.AllowAutoTopicCreation(), true, nil
			}
			return nil, true, nil
		case "max.poll.records":
			if _, err := positive(v); err != nil {
				return nil, true, err
			}
			return nil, false, nil
		}
	}
	return nil, false, nil
}

// Compression parses Kafka's compression names (compression.type and the
// console producer's --compression-codec).
func Compression(v string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(v) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("is not one of none, gzip, snappy, lz4, zstd")
}

func balancer(name string) (kgo.GroupBalancer, error) {
	short := name[strings.LastIndex(name, ".")+1:]
	switch strings.ToLower(short) {
	case "range", "rangeassignor":
		return kgo.RangeBalancer(), nil
	case "roundrobin", "roundrobinassignor":
		return kgo.RoundRobinBalancer(), nil
	case "sticky", "stickyassignor":
		return kgo.StickyBalancer(), nil
	case "cooperative-sticky", "cooperativestickyassignor":
		return kgo.CooperativeStickyBalancer(), nil
	}
	return nil, fmt.Errorf("has %q, which is not one of range, roundrobin, sticky, cooperative-sticky", name)
}

func millis(v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("is not a number of milliseconds")
	}
	return time.Duration(n) * time.Millisecond, nil
}

func positive(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("is not a positive number")
	}
	return n, nil
}

func boolean(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("is not a boolean (true or false)")
}

// Logger adapts a slog.Logger to franz-go's logger, so that client logs
// join the process's. franz-go's info messages (group joins, partition
// assignments, connections) are logged at debug level: they describe the
// client's normal working, which a person running a tool need not see.
func Logger(l *slog.Logger) kgo.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return kgoLogger{l.With("client", "kgo")}
}

type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case k.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelDebug
	case k.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case k.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	}
	return kgo.LogLevelNone
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lvl := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		lvl = slog.LevelError
	case kgo.LogLevelWarn:
		lvl = slog.LevelWarn
	}
	k.l.Log(context.Background(), lvl, msg, keyvals...)
}
