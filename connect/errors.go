package connect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/config"
)

// Error handling of bad records (KIP-298), with Kafka's keys: a record a
// sink cannot convert is reported (logged with errors.log.enable, sent to
// the dead letter queue errors.deadletterqueue.topic.name as it was, with
// __connect.errors.* headers when errors.deadletterqueue.context.headers.enable)
// and then, with errors.tolerance=all, skipped; with none (the default)
// the task fails on it, after reporting it. A record is acknowledged by the
// dead letter queue before the sink goes past it, so none is lost: a
// record that cannot be written to the queue fails the task.

// errorKeys are the errors.* keys every connector takes.
func errorKeys(sink bool) []config.Key {
	keys := []config.Key{
		{Name: "errors.tolerance", Importance: config.Medium, Type: config.String, Default: "none", HasDefault: true, Validate: config.OneOf("none", "all"),
			Doc: "none: a record that cannot be converted or transformed fails the task; all: it is skipped (and reported as below), and for a source its offset moves past it."},
		{Name: "errors.retry.timeout", Importance: config.Medium, Type: config.Long, Default: "0", HasDefault: true,
			Doc: "Accepted for Kafka's files; conversion failures are not retried (they would fail again)."},
		{Name: "errors.retry.delay.max.ms", Importance: config.Medium, Type: config.Long, Default: "60000", HasDefault: true,
			Doc: "Accepted for Kafka's files; see errors.retry.timeout."},
		{Name: "errors.log.enable", Importance: config.Medium, Type: config.Bool, Default: "false", HasDefault: true,
			Doc: "Log each bad record (topic, partition, offset, cause) at ERROR."},
		{Name: "errors.log.include.messages", Importance: config.Medium, Type: config.Bool, Default: "false", HasDefault: true,
			Doc: "With errors.log.enable, include the record's key and value."},
	}
	if sink {
		keys = append(keys,
			config.Key{Name: "errors.deadletterqueue.topic.name", Importance: config.Medium, Type: config.String,
				Doc: "Topic to send bad records to, as they were (key, value, headers); empty: none."},
			config.Key{Name: "errors.deadletterqueue.topic.replication.factor", Importance: config.Medium, Type: config.Int, Default: "3", HasDefault: true,
				Doc: "Replication factor of the dead letter queue topic when the worker creates it (on a cluster with fewer brokers, the broker's default is used, with a warning)."},
			config.Key{Name: "errors.deadletterqueue.context.headers.enable", Importance: config.Medium, Type: config.Bool, Default: "false", HasDefault: true,
				Doc: "Add Kafka's __connect.errors.* headers (topic, partition, offset, connector, task, stage, exception) to records sent to the dead letter queue."},
		)
	}
	return keys
}

// badRecords is a sink task's error handling settings.
type badRecords struct {
	tolerateAll     bool
	log, logMessage bool
	dlq             string
	dlqRF           int16
	contextHeaders  bool
}

func newBadRecords(vals *config.Values) badRecords {
	b := badRecords{
		tolerateAll: vals.String("errors.tolerance") == "all",
		log:         vals.Bool("errors.log.enable"),
		logMessage:  vals.Bool("errors.log.include.messages"),
	}
	if vals.Has("errors.deadletterqueue.topic.name") {
		b.dlq = vals.String("errors.deadletterqueue.topic.name")
		b.dlqRF = int16(vals.Int("errors.deadletterqueue.topic.replication.factor"))
		b.contextHeaders = vals.Bool("errors.deadletterqueue.context.headers.enable")
	}
	return b
}

// ensureDLQ creates the dead letter queue topic when it is missing: one
// partition, the configured replication factor (or the broker's default
// when the cluster has fewer brokers).
func (r *sinkRunner) ensureDLQ(ctx context.Context) error {
	if r.bad.dlq == "" {
		return nil
	}
	if err := config.TopicName(r.bad.dlq); err != nil {
		return &config.Error{Source: r.t.c.spec.source, Key: "errors.deadletterqueue.topic.name", Value: r.bad.dlq, Reason: err.Error()}
	}
	resp, err := r.w.admin.CreateTopic(ctx, 1, r.bad.dlqRF, nil, r.bad.dlq)
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.InvalidReplicationFactor) {
		r.t.log.Warn("the cluster has fewer brokers than errors.deadletterqueue.topic.replication.factor; creating the dead letter queue with the broker's default", "topic", r.bad.dlq, "replication_factor", r.bad.dlqRF)
		resp, err = r.w.admin.CreateTopic(ctx, 1, -1, nil, r.bad.dlq)
		if err == nil {
			err = resp.Err
		}
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create the dead letter queue %s: %w", r.bad.dlq, err)
	}
	return nil
}

// badRecord reports a record that failed at stage (KEY_CONVERTER,
// VALUE_CONVERTER or TRANSFORMATION) and says whether the sink may go past
// it; an error means it may not (the task then fails).
func (r *sinkRunner) badRecord(ctx context.Context, rec *kgo.Record, stage, class string, cause error) error {
	what := map[string]string{"KEY_CONVERTER": "converting the key", "VALUE_CONVERTER": "converting the value", "TRANSFORMATION": "transforming"}[stage]
	failure := fmt.Errorf("%s of %s/%d@%d: %w", what, rec.Topic, rec.Partition, rec.Offset, cause)
	if r.bad.log {
		args := []any{"topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "stage", stage, "err", cause}
		if r.bad.logMessage {
			args = append(args, "key", string(rec.Key), "value", string(rec.Value))
		}
		r.t.log.Error("bad record", args...)
	}
	if r.bad.dlq != "" {
		out := &kgo.Record{Topic: r.bad.dlq, Key: rec.Key, Value: rec.Value, Headers: append([]kgo.RecordHeader(nil), rec.Headers...), Timestamp: rec.Timestamp}
		if r.bad.contextHeaders {
			h := func(k, v string) {
				out.Headers = append(out.Headers, kgo.RecordHeader{Key: "__connect.errors." + k, Value: []byte(v)})
			}
			h("topic", rec.Topic)
			h("partition", strconv.Itoa(int(rec.Partition)))
			h("offset", strconv.FormatInt(rec.Offset, 10))
			h("connector.name", r.t.c.spec.name)
			h("task.id", strconv.Itoa(r.t.id))
			h("stage", stage)
			h("class.name", class)
			h("exception.class.name", "org.apache.kafka.connect.errors.DataException")
			h("exception.message", cause.Error())
			h("exception.stacktrace", "org.apache.kafka.connect.errors.DataException: "+cause.Error())
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.w.producer.ProduceSync(pctx, out).FirstErr()
		cancel()
		if err != nil {
			return fmt.Errorf("%w; sending it to the dead letter queue %s failed too: %v", failure, r.bad.dlq, err)
		}
	}
	if !r.bad.tolerateAll {
		return failure
	}
	return nil
}

// converterClass is a converter's Kafka class name, for the
// __connect.errors.class.name header.
func converterClass(c Converter) string {
	switch c.(type) {
	case stringConverter:
		return StringConverterClass
	case byteArrayConverter:
		return ByteArrayConverterClass
	}
	return JSONConverterClass
}
