// Package logdirs is the logic of `tributary log-dirs`, Kafka's
// kafka-log-dirs.sh (LogDirsCommand): it asks brokers for their log
// directories and prints, after Kafka's two progress lines, one line of
// JSON with each directory's partitions, their size on disk and offset
// lag:
//
//	Querying brokers for log directories information
//	Received log directory information from brokers 1
//	{"brokers":[{"broker":1,"logDirs":[{"partitions":[{"partition":"t-0","size":120,"offsetLag":0,"isFuture":false}],"error":null,"logDir":"/var/lib/kafka"}]}],"version":1}
//
// The JSON's keys come in the order Kafka's tool prints them (the
// iteration order of the Java HashMaps it serialises); brokers, log
// directories and partitions are sorted, where Kafka's order is that of
// hash maps. A directory's error is the name of the Java exception of its
// error code, as Kafka prints it.
package logdirs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// Options are the flags of kafka-log-dirs.sh, each named after its flag.
type Options struct {
	Bootstrap     string // --bootstrap-server
	CommandConfig string // --command-config: admin client property file
	Describe      bool   // --describe: the one action, required
	TopicList     string // --topic-list: comma-separated topics; "" for all
	BrokerList    string // --broker-list: comma-separated broker ids; "" for all

	// Logger receives the client's messages; nil discards them.
	Logger *slog.Logger
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// brokers parses --broker-list.
func (o *Options) brokers() ([]int32, error) {
	var ids []int32
	for _, s := range splitList(o.BrokerList) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return nil, usage.Errorf("--broker-list %q: %q is not a broker id", o.BrokerList, s)
		}
		if !slices.Contains(ids, int32(n)) {
			ids = append(ids, int32(n))
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Check validates the options.
func (o *Options) Check() error {
	if !o.Describe {
		return usage.Errorf("missing required argument \"[describe]\"")
	}
	_, err := o.brokers()
	return err
}

// Run describes the log directories of the brokers asked for.
func Run(ctx context.Context, o Options, stdout io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	asked, _ := o.brokers()
	cl, err := toolclient.Admin(ctx, o.Logger, o.CommandConfig, o.Bootstrap, "log-dirs-tool")
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, toolclient.AdminTimeout)
	defer cancel()
	adm := kadm.NewClient(cl)

	details, err := adm.ListBrokers(ctx)
	if err != nil {
		return fmt.Errorf("describe cluster: %w", err)
	}
	cluster := details.NodeIDs()
	slices.Sort(cluster)
	brokers := asked
	if len(brokers) == 0 {
		brokers = cluster
	}
	var missing []int32
	for _, id := range brokers {
		if !slices.Contains(cluster, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("ERROR: The given brokers do not exist from --broker-list: %s. Current existent brokers: %s", joinIDs(missing), joinIDs(cluster))
	}
	fmt.Fprintln(stdout, "Querying brokers for log directories information")
	topics := splitList(o.TopicList)
	out := report{Version: 1}
	for _, id := range brokers {
		dirs, err := adm.DescribeBrokerLogDirs(ctx, id, nil)
		if err != nil {
			return fmt.Errorf("describe the log directories of broker %d: %w", id, err)
		}
		out.Brokers = append(out.Brokers, brokerDirs(id, dirs, topics))
	}
	fmt.Fprintf(stdout, "Received log directory information from brokers %s\n", joinIDs(brokers))
	b, err := out.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// brokerDirs is one broker's part of the report, with the partitions of
// topics only (all when topics is empty).
func brokerDirs(id int32, dirs kadm.DescribedLogDirs, topics []string) brokerReport {
	br := brokerReport{Broker: id}
	names := make([]string, 0, len(dirs))
	for name := range dirs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := dirs[name]
		dr := dirReport{LogDir: name, Error: javaException(d.Err)}
		for _, p := range d.Topics.Sorted() {
			if len(topics) > 0 && !slices.Contains(topics, p.Topic) {
				continue
			}
			dr.Partitions = append(dr.Partitions, partitionReport{
				Partition: fmt.Sprintf("%s-%d", p.Topic, p.Partition),
				Size:      p.Size,
				OffsetLag: p.OffsetLag,
				IsFuture:  p.IsFuture,
			})
		}
		br.LogDirs = append(br.LogDirs, dr)
	}
	return br
}

// javaExceptions names the Java exception of the errors a log directory
// may have.
var javaExceptions = map[error]string{
	kerr.KafkaStorageError:          "org.apache.kafka.common.errors.KafkaStorageException",
	kerr.UnknownServerError:         "org.apache.kafka.common.errors.UnknownServerException",
	kerr.ClusterAuthorizationFailed: "org.apache.kafka.common.errors.ClusterAuthorizationException",
	kerr.LogDirNotFound:             "org.apache.kafka.common.errors.LogDirNotFoundException",
}

// javaException is the class name Kafka prints for a log directory's
// error, nil for none.
func javaException(err error) *string {
	if err == nil {
		return nil
	}
	if name, ok := javaExceptions[err]; ok {
		return &name
	}
	msg := err.Error()
	if ke, ok := err.(*kerr.Error); ok {
		msg = ke.Message
	}
	// KAFKA_STORAGE_ERROR -> KafkaStorageException, as Kafka's names go.
	var b strings.Builder
	b.WriteString("org.apache.kafka.common.errors.")
	for _, w := range strings.Split(strings.TrimSuffix(msg, "_ERROR"), "_") {
		if w != "" {
			b.WriteString(w[:1] + strings.ToLower(w[1:]))
		}
	}
	b.WriteString("Exception")
	s := b.String()
	return &s
}

// The report, with the keys in the order Kafka prints them.
type report struct {
	Version int
	Brokers []brokerReport
}

type brokerReport struct {
	Broker  int32
	LogDirs []dirReport
}

type dirReport struct {
	LogDir     string
	Error      *string
	Partitions []partitionReport
}

type partitionReport struct {
	Partition string
	Size      int64
	OffsetLag int64
	IsFuture  bool
}

// MarshalJSON writes the report as Kafka does: {"brokers":[...],"version":1}.
func (r report) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteString(`{"brokers":[`)
	for i, br := range r.Brokers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"broker":%d,"logDirs":[`, br.Broker)
		for j, d := range br.LogDirs {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"partitions":[`)
			for k, p := range d.Partitions {
				if k > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"partition":%s,"size":%d,"offsetLag":%d,"isFuture":%t}`, quote(p.Partition), p.Size, p.OffsetLag, p.IsFuture)
			}
			b.WriteString(`],"error":`)
			if d.Error == nil {
				b.WriteString("null")
			} else {
				b.WriteString(quote(*d.Error))
			}
			fmt.Fprintf(&b, `,"logDir":%s}`, quote(d.LogDir))
		}
		b.WriteString("]}")
	}
	fmt.Fprintf(&b, `],"version":%d}`, r.Version)
	return []byte(b.String()), nil
}

// quote writes s as a JSON string, as Jackson does (no escaping of <, >
// and &).
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
