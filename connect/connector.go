package connect

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/tributary-io/tributary/config"
)

// Connector is one configured connector: it checks nothing itself (its keys
// are declared once in its Plugin's Def and checked by the worker) and splits
// its work into task configurations.
type Connector interface {
	// Start is given the connector's parsed configuration.
	Start(ctx context.Context, cfg *config.Values) error
	// TaskConfigs returns one key/value configuration per task, at most
	// maxTasks (at least one).
	TaskConfigs(maxTasks int) ([]map[string]string, error)
	// Stop releases what Start took. It is called once.
	Stop() error
}

// SourceConnector is a connector whose tasks read from outside and write to
// Kafka.
type SourceConnector interface {
	Connector
	NewTask() SourceTask
}

// SinkConnector is a connector whose tasks read from Kafka and write
// outside.
type SinkConnector interface {
	Connector
	NewTask() SinkTask
}

// SourceTask reads records from outside.
//
// The worker calls Start, then Poll in a loop from one goroutine, then Stop
// once. Poll blocks until records are available or ctx is done; when ctx is
// done it returns at once (nil records, and ctx's error or nil) without losing
// its place: the worker cancels ctx to pause the task or to stop it.
//
// The records and the bytes they refer to belong to the worker once returned:
// the task must not change them afterwards.
type SourceTask interface {
	Start(ctx context.Context, tc *SourceTaskContext) error
	Poll(ctx context.Context) ([]SourceRecord, error)
	Stop() error
}

// SinkTask writes records outside.
//
// The worker calls Start, then, from one goroutine at a time, Open when
// partitions are assigned, Put with each batch of records, and Flush before
// it commits offsets; Stop once at the end.
type SinkTask interface {
	Start(ctx context.Context, tc *SinkTaskContext) error
	// Open is called when partitions are assigned, before any of their
	// records are put. On the first assignment of a run, states holds the
	// state the task returned from the Flush of the newest flush the group's
	// commits record (or, for commits made before flush snapshots, the
	// states saved with the assigned partitions); the task drops anything
	// written after the newest of them. Later assignments pass no states:
	// nothing is dropped while other partitions are held. The returned
	// state is the task's current one (the worker does not keep it).
	Open(ctx context.Context, states []string) (string, error)
	// Put hands the task records to write. The records' byte slices are only
	// valid during the call.
	Put(ctx context.Context, records []SinkRecord) error
	// Flush makes every record put so far durable and returns a state that
	// identifies that point (for a file, its size). The worker commits the
	// offsets with that state.
	Flush(ctx context.Context) (string, error)
	Stop() error
}

// Progress is what a task can say about how far it has come, beyond what
// the worker counts itself.
type Progress struct {
	// ReadBytes and SizeBytes: how much of its input a source has read, of
	// how much there is now (a file's position and size).
	ReadBytes, SizeBytes int64
	// Oversized counts the input units (lines) longer than the task's
	// limit, by what was done with them.
	Oversized Oversized
}

// Oversized counts input units longer than a task's limit: sent in pieces,
// cut short, or left out.
type Oversized struct {
	Split     int64 `json:"split"`
	Truncated int64 `json:"truncated"`
	Skipped   int64 `json:"skipped"`
}

// ProgressReporter is implemented by tasks that can report Progress.
type ProgressReporter interface {
	Progress() Progress
}

// SourcePartition is one stream that a source task reads, such as one file.
// Key is Kafka Connect's source partition ({"filename": path}); Identity
// names the stream's current incarnation (for a file, device and inode) and
// must differ between any two streams readable at the same time. Records of
// one Key go to one Kafka partition, in order.
type SourcePartition struct {
	key      map[string]any
	keyJSON  []byte
	identity []byte
	hash     uint32
}

// NewSourcePartition returns a source partition with Kafka's partition map
// key and the stream's identity.
func NewSourcePartition(key map[string]any, identity string) *SourcePartition {
	kj, err := json.Marshal(key)
	if err != nil {
		kj = []byte("null")
	}
	h := fnv.New32a()
	h.Write(kj)
	return &SourcePartition{key: key, keyJSON: kj, identity: []byte(identity), hash: h.Sum32()}
}

// Key returns the source partition map.
func (p *SourcePartition) Key() map[string]any { return p.key }

// Identity returns the stream's identity.
func (p *SourcePartition) Identity() string { return string(p.identity) }

// SourceRecord is one record read by a source task. Value is a string in
// Kafka Connect's terms (for a file, one line's bytes, untouched); Key is nil
// for a null key.
type SourceRecord struct {
	// Source is where the record was read; nil for sources without
	// positions (standard input).
	Source *SourcePartition
	// Start is the source offset of the record itself (where to resume to
	// read it again) and Position the one after it (where to resume to read
	// the next one). Records of one source partition follow each other:
	// each one's Start is the Position of the one before, unless the task
	// starts the stream again (a new file read from 0).
	Start, Position int64
	// Proof, when not empty, is the task's evidence that the stream is the
	// same one up to Position (for a file, checksums of the bytes before
	// it); it is stored with the offset and handed back by Offset. Tasks set
	// it on the last record of each source partition in a poll.
	Proof string
	Topic string
	Key   []byte
	Value []byte
	// Headers go with the record, before any the transforms add; they may
	// be shared between records (the worker only reads them).
	Headers []Header
	// Mark, when set, makes the record an offset without data (Kafka's
	// SourceTask offset updates of KIP-910): nothing is sent, and Source's
	// offset becomes Position, with Proof, once every record sent before
	// it for that key is acknowledged. A task uses it to record where it
	// stands in a stream it has not sent anything from (a file it found
	// already read under another name).
	Mark bool
	// Forget, with Mark, removes Source's stored offset instead (a file
	// that is gone for good), once the records before it are acknowledged.
	Forget bool
	// Since, when known, is stored as the offset's Record in place of this
	// record's own: Produced lookups after a restart begin after it. A task
	// sets it on the records of a stream it finishes late (a rotated file
	// whose successor was read in part already), so that the successor's
	// lines, in Kafka before these records, are still found.
	Since RecordRef
}

// Header is one record header a source task sets.
type Header struct {
	Key   string
	Value []byte
}

// SourceOffset is a stored source position, Kafka's {"position":N} with the
// identity of the stream it refers to and the task's proof of it (both empty
// in offsets written by Kafka Connect itself), and where in Kafka the record
// that ended at Position was written (Record.Offset -1 when unknown).
type SourceOffset struct {
	Position int64
	Identity string
	Proof    string
	Record   RecordRef
}

// RecordRef names one record in Kafka.
type RecordRef struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Known reports whether r names a record.
func (r RecordRef) Known() bool { return r.Topic != "" && r.Offset >= 0 }

// SinkRecord is one record handed to a sink task, its key and value
// converted to the text Kafka Connect's sinks see with toString(): a
// string's bytes, a JSON object as {k=v}, a struct as Struct{f=v} (see
// Converter.ToConnect). A nil Value is a null.
type SinkRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte
	Value     []byte
	// Headers are the record's headers (after the transforms), for tasks
	// that implement HeaderReader and read them; nil otherwise.
	Headers []Header
}

// HeaderReader is implemented by sink tasks that read records' headers
// (asked once, after Start); the worker fills SinkRecord.Headers for them.
type HeaderReader interface {
	ReadsHeaders() bool
}

// SourceTaskContext is what the worker gives a source task.
type SourceTaskContext struct {
	Connector string
	Task      int
	Config    *config.Values
	Log       *slog.Logger

	offsets  func(partition map[string]any) (SourceOffset, bool, error)
	produced ProducedFunc
	stored   func() []map[string]any
}

// ProducedFunc answers SourceTaskContext.Produced.
type ProducedFunc func(ctx context.Context, topic string, p *SourcePartition, from SourceOffset) (int64, error)

// WithLookups returns a copy of c whose Offset and Produced answer with the
// given functions (either may be nil), for running a task outside a Worker.
func (c *SourceTaskContext) WithLookups(offsets func(partition map[string]any) (SourceOffset, bool, error), produced ProducedFunc) *SourceTaskContext {
	cc := *c
	cc.offsets, cc.produced = offsets, produced
	return &cc
}

// WithStored returns a copy of c whose StoredPartitions answers with f,
// for running a task outside a Worker.
func (c *SourceTaskContext) WithStored(f func() []map[string]any) *SourceTaskContext {
	cc := *c
	cc.stored = f
	return &cc
}

// StoredPartitions lists the source partitions of the connector that have
// a stored offset (a task of many files forgets those of files gone).
func (c *SourceTaskContext) StoredPartitions() []map[string]any {
	if c.stored == nil {
		return nil
	}
	return c.stored()
}

// Offset returns the stored offset of a source partition. An offset that
// does not have Kafka's shape is an error naming the offsets file and key.
func (c *SourceTaskContext) Offset(partition map[string]any) (SourceOffset, bool, error) {
	if c.offsets == nil {
		return SourceOffset{}, false, nil
	}
	return c.offsets(partition)
}

// Produced returns how far the records of p already in Kafka reach beyond
// from.Position: it reads the Kafka partition that p's records go to, after
// from.Record when that is known (else its last records), and follows the
// records carrying p's identity whose Start is the position reached so far.
// A record that does not continue that chain (one sent after a record that
// failed, or from an earlier reading of the stream) is passed over, so the
// answer never jumps a gap. It returns from.Position when nothing follows.
// It ensures the topic exists.
func (c *SourceTaskContext) Produced(ctx context.Context, topic string, p *SourcePartition, from SourceOffset) (int64, error) {
	if c.produced == nil {
		return from.Position, nil
	}
	return c.produced(ctx, topic, p, from)
}

// SinkTaskContext is what the worker gives a sink task.
type SinkTaskContext struct {
	Connector string
	Task      int
	Config    *config.Values
	Log       *slog.Logger
}
