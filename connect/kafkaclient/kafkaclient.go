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
	if securityKeys[k] {
		return nil, true, checkSecurityKey(k, v)
	}
	t, ok := commonKeys[k]
	if !ok {
		switch role {
		case Producer:
			t, ok = producerKeys[k]
		case Consumer:
			t, ok = consumerKeys[k]
		}
	}
	if !ok {
		return nil, false, nil
	}
	opt, err := t.opt(v)
	return opt, !t.ignored, err
}

// A key translates one property's value into a kgo option (nil when the
// value asks for franz-go's default) or an error that completes the
// sentence `key: "value" ...`. An ignored key is checked but has no effect
// on a franz-go client.
type key struct {
	opt     func(v string) (kgo.Opt, error)
	ignored bool
}

// msKey is a key whose value is milliseconds.
func msKey[O kgo.Opt](f func(time.Duration) O) key {
	return key{opt: func(v string) (kgo.Opt, error) {
		d, err := millis(v)
		if err != nil {
			return nil, err
		}
		return f(d), nil
	}}
}

// bytesKey is a key whose value is a positive 32-bit count.
func bytesKey[O kgo.Opt](f func(int32) O) key {
	return key{opt: func(v string) (kgo.Opt, error) {
		n, err := positive(v)
		if err != nil {
			return nil, err
		}
		return f(int32(n)), nil
	}}
}

// boolKey is a boolean key whose true or false value sets an option (nil
// for franz-go's default).
func boolKey(ifTrue, ifFalse kgo.Opt) key {
	return key{opt: func(v string) (kgo.Opt, error) {
		b, err := boolean(v)
		if err != nil {
			return nil, err
		}
		if b {
			return ifTrue, nil
		}
		return ifFalse, nil
	}}
}

// stringKey is a key whose value is taken as it is.
func stringKey[O kgo.Opt](f func(string) O) key {
	return key{opt: func(v string) (kgo.Opt, error) { return f(v), nil }}
}

// checkedKey is a key that has no effect here but whose value is checked.
func checkedKey[T any](check func(string) (T, error)) key {
	return key{ignored: true, opt: func(v string) (kgo.Opt, error) {
		_, err := check(v)
		return nil, err
	}}
}

// validKey is a key handled by Options itself, checked here.
func validKey[T any](check func(string) (T, error)) key {
	k := checkedKey(check)
	k.ignored = false
	return k
}

var commonKeys = map[string]key{
	"bootstrap.servers": {opt: func(v string) (kgo.Opt, error) {
		var hosts []string
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) == 0 {
			return nil, fmt.Errorf("names no broker")
		}
		for _, h := range hosts {
			if !strings.Contains(h, ":") {
				return nil, fmt.Errorf("has %q, which lacks a port (host:port)", h)
			}
		}
		return kgo.SeedBrokers(hosts...), nil
	}},
	"client.id":          stringKey(kgo.ClientID),
	"request.timeout.ms": msKey(kgo.RequestTimeoutOverhead),
	"retry.backoff.ms": msKey(func(d time.Duration) kgo.Opt {
		return kgo.RetryBackoffFn(func(int) time.Duration { return d })
	}),
	"metadata.max.age.ms":                msKey(kgo.MetadataMaxAge),
	"connections.max.idle.ms":            msKey(kgo.ConnIdleTimeout),
	"socket.connection.setup.timeout.ms": msKey(kgo.DialTimeout),
	"reconnect.backoff.ms":               checkedKey(millis),
	"reconnect.backoff.max.ms":           checkedKey(millis),
	"retry.backoff.max.ms":               checkedKey(millis),
}

var producerKeys = map[string]key{
	"acks": validKey(func(v string) (string, error) {
		switch v {
		case "all", "-1", "0", "1":
			return v, nil
		}
		return "", fmt.Errorf("is not one of all, -1, 0, 1")
	}),
	"enable.idempotence": validKey(boolean),
	"linger.ms":          msKey(kgo.ProducerLinger),
	// batch.size is a batching target in Kafka, never a limit on a record;
	// franz-go has no such target (batches grow to max.request.size), so it
	// is checked and has no effect. max.request.size caps a batch, and so
	// the largest record, as in Kafka.
	"batch.size":       checkedKey(positive),
	"max.request.size": bytesKey(kgo.ProducerBatchMaxBytes),
	"buffer.memory":    bytesKey(func(n int32) kgo.Opt { return kgo.MaxBufferedBytes(int(n)) }),
	"compression.type": {opt: func(v string) (kgo.Opt, error) {
		c, err := Compression(v)
		if err != nil {
			return nil, err
		}
		return kgo.ProducerBatchCompression(c), nil
	}},
	"delivery.timeout.ms": msKey(kgo.RecordDeliveryTimeout),
	"retries": {opt: func(v string) (kgo.Opt, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("is not a number of 0 or more")
		}
		return kgo.RecordRetries(n), nil
	}},
	"max.in.flight.requests.per.connection": bytesKey(func(n int32) kgo.Opt { return kgo.MaxProduceRequestsInflightPerBroker(int(n)) }),
	"transactional.id":                      stringKey(kgo.TransactionalID),
	"transaction.timeout.ms":                msKey(kgo.TransactionTimeout),
	"max.block.ms":                          checkedKey(millis),
	"allow.auto.create.topics":              boolKey(kgo.AllowAutoTopicCreation(), nil),
}

var consumerKeys = map[string]key{
	"group.id": {opt: func(v string) (kgo.Opt, error) {
		if v == "" {
			return nil, nil
		}
		return kgo.ConsumerGroup(v), nil
	}},
	"group.instance.id": stringKey(kgo.InstanceID),
	"auto.offset.reset": {opt: func(v string) (kgo.Opt, error) {
		switch strings.ToLower(v) {
		case "earliest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), nil
		case "latest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), nil
		case "none":
			return kgo.ConsumeResetOffset(kgo.NoResetOffset()), nil
		}
		return nil, fmt.Errorf("is not one of earliest, latest, none")
	}},
	"enable.auto.commit":        boolKey(nil, kgo.DisableAutoCommit()),
	"auto.commit.interval.ms":   msKey(kgo.AutoCommitInterval),
	"session.timeout.ms":        msKey(kgo.SessionTimeout),
	"heartbeat.interval.ms":     msKey(kgo.HeartbeatInterval),
	"max.poll.interval.ms":      msKey(kgo.RebalanceTimeout),
	"fetch.min.bytes":           bytesKey(kgo.FetchMinBytes),
	"fetch.max.bytes":           bytesKey(kgo.FetchMaxBytes),
	"fetch.max.wait.ms":         msKey(kgo.FetchMaxWait),
	"max.partition.fetch.bytes": bytesKey(kgo.FetchMaxPartitionBytes),
	"isolation.level": {opt: func(v string) (kgo.Opt, error) {
		switch strings.ToLower(v) {
		case "read_uncommitted":
			return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), nil
		case "read_committed":
			return kgo.FetchIsolationLevel(kgo.ReadCommitted()), nil
		}
		return nil, fmt.Errorf("is not one of read_committed, read_uncommitted")
	}},
	"partition.assignment.strategy": {opt: func(v string) (kgo.Opt, error) {
		var bs []kgo.GroupBalancer
		for _, name := range strings.Split(v, ",") {
			b, err := balancer(strings.TrimSpace(name))
			if err != nil {
				return nil, err
			}
			bs = append(bs, b)
		}
		return kgo.Balancers(bs...), nil
	}},
	"client.rack":              stringKey(kgo.Rack),
	"check.crcs":               boolKey(nil, kgo.DisableFetchCRCValidation()),
	"allow.auto.create.topics": boolKey(kgo.AllowAutoTopicCreation(), nil),
	"max.poll.records":         checkedKey(positive),
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
