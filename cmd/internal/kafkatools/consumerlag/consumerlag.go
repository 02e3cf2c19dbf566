// Package consumerlag is the logic of `tributary verify-consumer-lag`: a
// check, for scripts, cron jobs and monitoring probes, that consumer
// groups keep up with their topics. Kafka has no such tool: operators
// read the LAG column of kafka-consumer-groups.sh --describe, and
// Burrow or kafka-lag-exporter alert on it. This tool prints the same
// columns for each group and exits non-zero when a partition lags more
// than --max-lag records, or a group has no committed offsets at all.
//
// The partitions checked are those of --topic (every partition of each
// topic named), or else every partition of the topics the group has
// committed offsets for. A partition the group has not committed an
// offset for shows "-" as its current offset, and its lag is the whole of
// its log (log end offset minus log start offset): a consumer that never
// commits there has read none of it. Lag is measured against the log end
// offset (the high watermark), as kafka-consumer-groups.sh measures it.
package consumerlag

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// Options are the flags of the tool.
type Options struct {
	Bootstrap     string   // --bootstrap-server
	CommandConfig string   // --command-config: admin client property file
	Groups        []string // --group: the groups to check (at least one)
	Topics        []string // --topic: the topics to check; those with committed offsets when none
	MaxLag        int64    // --max-lag: the largest lag of a partition that passes

	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

// Check validates the options.
func (o *Options) Check() error {
	if len(o.Groups) == 0 {
		return usage.Errorf("missing required argument \"[group]\"")
	}
	for _, g := range o.Groups {
		if g == "" {
			return usage.Errorf("--group needs a group id")
		}
	}
	if o.MaxLag < 0 {
		return usage.Errorf("--max-lag %d: must be 0 or more", o.MaxLag)
	}
	return nil
}

// Row is one partition of a group, as checked.
type Row struct {
	Group, Topic string
	Partition    int32
	Current      int64 // -1: no committed offset
	End          int64
	Lag          int64
}

// ErrLagging is the error of a check that failed: a group lags or has
// committed nothing.
var ErrLagging = errors.New("consumer lag check failed")

// Run checks each group, printing its partitions; the error names every
// group and partition that fails.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	cl, err := toolclient.Admin(ctx, o.Logger, o.CommandConfig, o.Bootstrap, "")
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, toolclient.AdminTimeout)
	defer cancel()
	adm := kadm.NewClient(cl)

	if len(o.Topics) > 0 {
		topics, err := adm.ListTopics(ctx, o.Topics...)
		if err != nil {
			return fmt.Errorf("describe topics: %w", err)
		}
		for _, t := range o.Topics {
			if td, ok := topics[t]; !ok || td.Err != nil {
				return fmt.Errorf("topic '%s' does not exist", t)
			}
		}
	}
	var failures []string
	for _, group := range o.Groups {
		rows, err := groupRows(ctx, adm, group, o.Topics)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			what := ""
			if len(o.Topics) > 0 {
				what = " for " + strings.Join(o.Topics, ", ")
			}
			failures = append(failures, fmt.Sprintf("consumer group '%s' has no committed offsets%s", group, what))
			continue
		}
		writeTable(stdout, rows)
		var over []string
		worst := rows[0]
		for _, r := range rows {
			if r.Lag > worst.Lag {
				worst = r
			}
			if r.Lag > o.MaxLag {
				over = append(over, fmt.Sprintf("%s-%d (lag %d)", r.Topic, r.Partition, r.Lag))
			}
		}
		if len(over) > 0 {
			failures = append(failures, fmt.Sprintf("consumer group '%s' lags more than --max-lag %d on %s", group, o.MaxLag, strings.Join(over, ", ")))
			continue
		}
		fmt.Fprintf(stdout, "\nConsumer group '%s' is within --max-lag %d: its largest lag is %d (%s-%d).\n", group, o.MaxLag, worst.Lag, worst.Topic, worst.Partition)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%w: %s", ErrLagging, strings.Join(failures, "; "))
	}
	return nil
}

// groupRows measures the lag of each partition of the group's topics.
func groupRows(ctx context.Context, adm *kadm.Client, group string, only []string) ([]Row, error) {
	committed, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) { // a group that never committed, to some brokers
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the committed offsets of group %s: %w", group, err)
	}
	topics := only
	if len(topics) == 0 {
		committed.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 && !slices.Contains(topics, o.Topic) {
				topics = append(topics, o.Topic)
			}
		})
		if len(topics) == 0 {
			return nil, nil
		}
	} else {
		found := false
		committed.Each(func(o kadm.OffsetResponse) {
			found = found || o.Err == nil && o.At >= 0 && slices.Contains(only, o.Topic)
		})
		if !found {
			return nil, nil
		}
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list the end offsets of %s: %w", strings.Join(topics, ", "), err)
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list the start offsets of %s: %w", strings.Join(topics, ", "), err)
	}
	var rows []Row
	ends.Each(func(e kadm.ListedOffset) {
		r := Row{Group: group, Topic: e.Topic, Partition: e.Partition, Current: -1, End: e.Offset}
		if c, ok := committed.Lookup(e.Topic, e.Partition); ok && c.Err == nil && c.At >= 0 {
			r.Current = c.At
			r.Lag = max(e.Offset-c.At, 0)
		} else if s, ok := starts.Lookup(e.Topic, e.Partition); ok {
			r.Lag = max(e.Offset-s.Offset, 0)
		}
		rows = append(rows, r)
	})
	slices.SortFunc(rows, func(a, b Row) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return rows, nil
}

// writeTable prints the rows with the columns and layout of
// kafka-consumer-groups.sh --describe.
func writeTable(w io.Writer, rows []Row) {
	group, topic := 15, 15
	for _, r := range rows {
		group = max(group, len(r.Group))
		topic = max(topic, len(r.Topic))
	}
	format := fmt.Sprintf("%%-%ds %%-%ds %%-10s %%-15s %%-15s %%s\n", group, topic)
	var b strings.Builder
	b.WriteString("\n")
	fmt.Fprintf(&b, format, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG")
	for _, r := range rows {
		current := "-"
		if r.Current >= 0 {
			current = fmt.Sprint(r.Current)
		}
		fmt.Fprintf(&b, format, r.Group, r.Topic, fmt.Sprint(r.Partition), current, fmt.Sprint(r.End), fmt.Sprint(r.Lag))
	}
	io.WriteString(w, b.String())
}
