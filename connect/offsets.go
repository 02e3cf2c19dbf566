package connect

import (
	"github.com/tributary-io/tributary/connect/data"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/tributary-io/tributary/config/atomicfile"
)

// OffsetStore holds the source offsets of every connector of a worker and
// keeps them in one file (offset.storage.file.filename). It is the only
// writer of that file: Run saves on a ticker and once more when it stops,
// and Save may be called at any time; each save writes a temporary file,
// fsyncs it, renames it over the old one and fsyncs the folder.
//
// The file is JSON, one entry per line, with Kafka Connect's key and value
// shapes:
//
//	[
//	{"key":["local-file-source",{"filename":"test.txt"}],"value":{"position":1234,"identity":"2049:131:…","proof":"…","record":{"topic":"log-test","partition":0,"offset":56}}}
//	]
//
// Only "position" is Kafka's; the others are Tributary's: the identity of
// the stream the position was taken in, the task's proof that a stream is
// that one (SourceRecord.Proof), and the Kafka record that ended at the
// position, from which a restart reads on (SourceTaskContext.Produced).
//
// A file written by Kafka Connect itself (a Java-serialized HashMap of the
// same JSON keys and values) is read too; it is replaced by the JSON form on
// the first save.
//
// A new offset, and one whose identity changes (a source moved on to
// another file after a rotation), is saved at once rather than at the next
// tick: a source that starts again from an offset that names a file it left
// long ago, or from none, cannot tell which files it read since.
type OffsetStore struct {
	path string
	log  *slog.Logger
	kick chan struct{} // a save is due now
	// saveMu lets one save run at a time: saves share the temporary file,
	// and a snapshot taken later is written later.
	saveMu sync.Mutex

	mu      sync.Mutex // guards the fields below
	entries map[string]*offsetEntry
	dirty   bool
	saved   time.Time
}

type offsetEntry struct {
	key      json.RawMessage // canonical JSON of [connector, partition]
	value    json.RawMessage // nil: deleted
	seq      uint64          // order of the batch that set value
	identity string          // of the stream the value refers to
}

// OpenOffsetStore reads the offsets file at path. A missing or empty file
// is an empty store; a file that cannot be read or parsed is an error that
// names it.
func OpenOffsetStore(path string, log *slog.Logger) (*OffsetStore, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &OffsetStore{path: path, log: log, entries: map[string]*offsetEntry{}, kick: make(chan struct{}, 1)}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if st, derr := os.Stat(dir); derr != nil || !st.IsDir() {
			return nil, fmt.Errorf("offsets file %s: folder %s does not exist", path, dir)
		}
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offsets file %s: cannot read: %w", path, err)
	}
	if err := s.parse(b); err != nil {
		return nil, fmt.Errorf("offsets file %s: %w", path, err)
	}
	return s, nil
}

// Path is the offsets file's name.
func (s *OffsetStore) Path() string { return s.path }

func (s *OffsetStore) parse(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if len(b) >= 2 && b[0] == 0xAC && b[1] == 0xED {
		pairs, err := readJavaOffsets(b)
		if err != nil {
			return fmt.Errorf("not a readable Kafka Connect offsets file: %w", err)
		}
		for i, p := range pairs {
			if err := s.add(p[0], p[1]); err != nil {
				return fmt.Errorf("entry %d: %w", i+1, err)
			}
		}
		s.log.Info("read offsets written by Kafka Connect; they will be saved as JSON", "file", s.path, "entries", len(pairs))
		return nil
	}
	var raw []struct {
		Key   json.RawMessage `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("not valid JSON (%s); fix or remove the file to start over", jsonErrPlace(b, err))
	}
	if dec.More() {
		return errors.New("not valid JSON: data after the closing ]")
	}
	for i, e := range raw {
		if len(e.Key) == 0 {
			return fmt.Errorf("entry %d has no key", i+1)
		}
		v := []byte(e.Value)
		if string(bytes.TrimSpace(v)) == "null" {
			v = nil
		}
		if err := s.add(e.Key, v); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return nil
}

func jsonErrPlace(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
		return fmt.Sprintf("line %d: %v", line, err)
	}
	return err.Error()
}

// add stores one entry read from a file, with its key made canonical.
func (s *OffsetStore) add(key, value []byte) error {
	var k []any
	if err := json.Unmarshal(key, &k); err != nil || len(k) != 2 {
		return fmt.Errorf("key %s is not [\"<connector>\",{partition}]", key)
	}
	if _, ok := k[0].(string); !ok {
		return fmt.Errorf("key %s does not start with a connector name", key)
	}
	ck, err := json.Marshal(k)
	if err != nil {
		return err
	}
	if value != nil {
		var v any
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("value of key %s is not JSON: %v", key, err)
		}
		value = append([]byte(nil), bytes.TrimSpace(value)...)
	}
	e := &offsetEntry{key: ck, value: value}
	if off, err := parseSourceOffset(value); value != nil && err == nil {
		e.identity = off.Identity
	}
	s.entries[string(ck)] = e
	return nil
}

func offsetKey(connector string, keyJSON []byte) string {
	name, _ := json.Marshal(connector)
	b := make([]byte, 0, len(name)+len(keyJSON)+3)
	b = append(b, '[')
	b = append(b, name...)
	b = append(b, ',')
	b = append(b, keyJSON...)
	b = append(b, ']')
	return string(b)
}

// SourceOffset returns the offset stored for a source partition, checked
// against Kafka's shape: {"position": N} with N a whole number of 0 or more.
func (s *OffsetStore) SourceOffset(connector string, partition map[string]any) (SourceOffset, bool, error) {
	kj, err := json.Marshal(partition)
	if err != nil {
		return SourceOffset{}, false, err
	}
	key := offsetKey(connector, kj)
	s.mu.Lock()
	e, ok := s.entries[key]
	var value []byte
	if ok {
		value = e.value
	}
	s.mu.Unlock()
	if !ok || value == nil {
		return SourceOffset{}, false, nil
	}
	off, err := parseSourceOffset(value)
	if err != nil {
		return SourceOffset{}, false, fmt.Errorf("offsets file %s: key %s: %w", s.path, key, err)
	}
	return off, true, nil
}

func parseSourceOffset(value []byte) (SourceOffset, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(value, &m); err != nil {
		return SourceOffset{}, fmt.Errorf("value %s is not a JSON object", value)
	}
	raw, ok := m["position"]
	if !ok {
		return SourceOffset{}, fmt.Errorf("value %s has no \"position\"", value)
	}
	var off SourceOffset
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		var f float64
		if json.Unmarshal(raw, &f) != nil || f != math.Trunc(f) || f > math.MaxInt64 {
			return SourceOffset{}, fmt.Errorf("position %s is not a number", raw)
		}
		n = int64(f)
	}
	if n < 0 {
		return SourceOffset{}, fmt.Errorf("position %s is negative", raw)
	}
	off.Position = n
	off.Record.Offset = -1
	if id, ok := m["identity"]; ok {
		if err := json.Unmarshal(id, &off.Identity); err != nil {
			return SourceOffset{}, fmt.Errorf("identity %s is not a string", id)
		}
	}
	if pr, ok := m["proof"]; ok {
		if err := json.Unmarshal(pr, &off.Proof); err != nil {
			return SourceOffset{}, fmt.Errorf("proof %s is not a string", pr)
		}
	}
	if rr, ok := m["record"]; ok {
		var ref struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Offset    *int64 `json:"offset"`
		}
		if err := json.Unmarshal(rr, &ref); err != nil || ref.Offset == nil || *ref.Offset < 0 || ref.Topic == "" {
			return SourceOffset{}, fmt.Errorf("record %s is not {\"topic\":T,\"partition\":P,\"offset\":O}", rr)
		}
		off.Record = RecordRef{Topic: ref.Topic, Partition: ref.Partition, Offset: *ref.Offset}
	}
	return off, nil
}

// Entries returns the stored offsets of one connector: each partition map
// with its offset value.
func (s *OffsetStore) Entries(connector string) []OffsetEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OffsetEntry
	for _, e := range s.entries {
		if e.value == nil {
			continue
		}
		var k []json.RawMessage
		if json.Unmarshal(e.key, &k) != nil || len(k) != 2 {
			continue
		}
		var name string
		if json.Unmarshal(k[0], &name) != nil || name != connector {
			continue
		}
		out = append(out, OffsetEntry{Partition: k[1], Offset: e.value})
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Partition) < string(out[j].Partition) })
	return out
}

// OffsetEntry is one stored offset of a connector, as JSON.
type OffsetEntry struct {
	Partition json.RawMessage `json:"partition"`
	Offset    json.RawMessage `json:"offset"`
}

// set records the offset of a source partition reached by the batch seq.
// A batch older than the one that set the current value is ignored: batches
// may be acknowledged out of order across Kafka partitions.
func (s *OffsetStore) set(key string, off SourceOffset, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	first := e == nil || e.value == nil
	if e == nil {
		e = &offsetEntry{key: json.RawMessage(key)}
		s.entries[key] = e
	} else if seq <= e.seq && e.seq != 0 {
		return
	}
	if first || e.identity != off.Identity {
		e.identity = off.Identity
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	e.value = encodeSourceOffset(off)
	e.seq = seq
	s.dirty = true
}

// recordOf returns the Kafka record named by the offset stored under key;
// unknown when there is none.
func (s *OffsetStore) recordOf(key string) RecordRef {
	s.mu.Lock()
	e := s.entries[key]
	var value []byte
	if e != nil {
		value = e.value
	}
	s.mu.Unlock()
	if value == nil {
		return RecordRef{Offset: -1}
	}
	off, err := parseSourceOffset(value)
	if err != nil {
		return RecordRef{Offset: -1}
	}
	return off.Record
}

// forget removes the stored offset of a source partition, as of the batch
// seq (a later batch may store one again).
func (s *OffsetStore) forget(key string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil || e.value == nil || seq <= e.seq && e.seq != 0 {
		return
	}
	e.value, e.identity, e.seq = nil, "", seq
	s.dirty = true
}

// encodeSourceOffset is the stored JSON of off (see OffsetStore).
func encodeSourceOffset(off SourceOffset) []byte {
	v := make([]byte, 0, 96+len(off.Identity)+len(off.Proof)+len(off.Record.Topic))
	v = append(v, `{"position":`...)
	v = strconv.AppendInt(v, off.Position, 10)
	if off.Identity != "" {
		v = append(v, `,"identity":`...)
		v = data.AppendJSONString(v, []byte(off.Identity))
	}
	if off.Proof != "" {
		v = append(v, `,"proof":`...)
		v = data.AppendJSONString(v, []byte(off.Proof))
	}
	if off.Record.Known() {
		v = append(v, `,"record":{"topic":`...)
		v = data.AppendJSONString(v, []byte(off.Record.Topic))
		v = append(v, `,"partition":`...)
		v = strconv.AppendInt(v, int64(off.Record.Partition), 10)
		v = append(v, `,"offset":`...)
		v = strconv.AppendInt(v, off.Record.Offset, 10)
		v = append(v, '}')
	}
	v = append(v, '}')
	return v
}

// Save writes the offsets file if anything changed since the last save.
func (s *OffsetStore) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	keys := make([]string, 0, len(s.entries))
	for k, e := range s.entries {
		if e.value != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, k := range keys {
		e := s.entries[k]
		b.WriteString(`{"key":`)
		b.Write(e.key)
		b.WriteString(`,"value":`)
		b.Write(e.value)
		b.WriteString("}")
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	s.dirty = false
	s.mu.Unlock()

	if err := atomicfile.Write(s.path, b.Bytes(), 0o600); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("offsets file %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.saved = time.Now()
	s.mu.Unlock()
	return nil
}

// Run saves the offsets every interval, and when an offset is new or its
// identity changes, until ctx is done, then once more.
func (s *OffsetStore) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	// Saves asked for by new offsets come at most every gap: a task that
	// starts on a thousand files would otherwise write the whole file a
	// thousand times.
	gap := min(interval, 100*time.Millisecond)
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			if err := s.Save(); err != nil {
				s.log.Error("saving offsets", "err", err)
			}
			return
		case <-t.C:
		case <-s.kick:
			if wait := gap - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					continue // saved by the case above
				case <-time.After(wait):
				}
			}
		}
		if err := s.Save(); err != nil {
			s.log.Error("saving offsets", "err", err)
		}
		last = time.Now()
	}
}

// sourceOffsetChange is one change of a stored source offset asked over
// REST: Value nil removes the partition's offset.
type sourceOffsetChange struct {
	Partition map[string]any
	Value     []byte
}

// replace applies changes to the stored offsets of connector, all or none
// of them, and saves the file at once. It serves KIP-875's alter and reset,
// on a stopped connector: no task sets offsets meanwhile, and a task started
// afterwards takes the new values whatever the numbers of the batches that
// set the old ones.
func (s *OffsetStore) replace(connector string, changes []sourceOffsetChange) error {
	keys := make([]string, len(changes))
	for i, c := range changes {
		if c.Value != nil {
			if _, err := parseSourceOffset(c.Value); err != nil {
				return err
			}
		}
		kj, err := json.Marshal(c.Partition)
		if err != nil {
			return err
		}
		keys[i] = offsetKey(connector, kj)
	}
	s.mu.Lock()
	for i, c := range changes {
		e := &offsetEntry{key: json.RawMessage(keys[i]), value: c.Value}
		if c.Value != nil {
			off, _ := parseSourceOffset(c.Value)
			e.identity = off.Identity
		}
		s.entries[keys[i]] = e
	}
	s.dirty = true
	s.mu.Unlock()
	return s.Save()
}
