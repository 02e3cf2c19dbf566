// Package filesource is FileStreamSource: it tails a file (or reads
// standard input) and hands each complete line to the worker as one record.
// With files, it reads every file that paths and glob patterns match, each
// as the one file below is read (see many.go), and with multiline.* it
// hands over events of many lines (see multiline.go).
//
// Positions are byte offsets: the stored position is the byte after the
// last line sent, so a restart resumes exactly there whatever the encoding.
// Lines are sent without their "\n" (or "\r\n"), bytes untouched; a last
// line without a newline is held until it is completed.
//
// The task follows appends through fsnotify events on the file's folder,
// with a periodic check as a fallback (and as the only means when events are
// unavailable). It survives rotation without loss:
//
//   - rename and create: the old file, still open, is read to its end; the
//     task switches to the new file once the new one has data or the old one
//     is gone, reads the old one to its end once more, and starts the new
//     one at 0;
//   - copytruncate: the file shrinks below the position; reading starts
//     again at 0, and this is logged;
//   - delete and recreate: like rename, the deleted file is read to its end;
//   - a file that does not exist yet: the task waits for it and says so once.
//
// A file's identity, carried by its records, is its device and inode and a
// fingerprint of its first line, so that a file truncated and written again
// (copytruncate) is told apart from what it held before. That is not proof
// that a file is the one a stored position was taken in: inodes are reused
// at once (delete and recreate), and headers repeat. So each stored position
// also carries checksums of the file's first 1 KiB and of the 1 KiB before
// the position; on start, a file at the path (or a renamed file with the
// stored inode) that does not match both is a new file, read from its start,
// and the log says which file was taken as new and why. Files shorter than
// the windows are checked on what they have.
//
// On start the task resumes at the stored position when the file matches
// it, then moves past the lines of the file that the topic already holds
// after the stored position's record (SourceTaskContext.Produced: a chain
// of records, each starting where the one before ended, so a line that
// failed is never jumped over). When the stored position names another file
// than the one now at the path (rotated while the worker was down) and that
// file is still in the folder under another name, the task first reads it
// to its end, then the file at the path.
//
// A line longer than max.line.bytes follows line.overflow: split (records
// of max.line.bytes, each with its exact position), truncate (its first
// max.line.bytes, with the position after the whole line), skip, or fail
// (the task fails naming the line's position; after max.line.bytes is
// raised a restart resumes at that line). Each is counted in the task's
// status and logged once per file.
package filesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/config/atomicfile"
	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connectors/internal/fileident"
)

// Class is the connector's Kafka class name.
const Class = "org.apache.kafka.connect.file.FileStreamSourceConnector"

// Def declares the connector's keys.
func Def() *config.Def {
	return connect.SourceDef("FileStreamSource", append([]config.Key{
		{Name: "file", Type: config.String,
			Doc: "File to tail; standard input when neither file nor files is set."},
		{Name: "files", Importance: config.High, Type: config.List,
			Doc: "Files to tail, instead of file: paths and glob patterns separated by commas (* ? [...] within a name, ** for any number of folders, as in /var/log/nginx/*.log,/srv/**/app.log). Each file is read as by file, with its own source partition {\"filename\": path} and stored position; files that appear later are found within a second. Compressed files (.gz, .bz2, .xz, .zst, .lz4, .zip, .Z) are left out unless a pattern's last part names them. A file renamed to another matched name (access.log to access.log-20261204) is recognised and not read again."},
		{Name: "files.exclude", Importance: config.Medium, Type: config.List,
			Doc: "Patterns of files not to read, separated by commas; a pattern without a folder separator is matched against base names (*.gz,*.old)."},
		{Name: "files.scan.interval.ms", Importance: config.Low, Type: config.Duration, Default: "1000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "How often the folders of files are looked through for new files, besides change events (which can be lost when their queue overflows, and are not available everywhere)."},
		{Name: "file.close.inactive.ms", Importance: config.Low, Type: config.Duration, Default: "300000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "With files: a file that has not grown for this long is closed (and opened again when it grows); one renamed to a name outside files is then finished. A deleted file is closed once read to its end."},
		{Name: "files.max.open", Importance: config.Medium, Type: config.Int, Default: "1024", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "With files: most files held open at once. Files that have not grown for file.close.inactive.ms are closed, and beyond this many the longest idle are; a closed file is opened again, by its device and inode (also when rotated meanwhile), once it grows."},
		{Name: "file.ignore.older.ms", Importance: config.Low, Type: config.Duration, Default: "0", HasDefault: true, Validate: config.AtLeast(0),
			Doc: "With files: a file without a stored position that was last modified longer ago than this is not read; only what is appended to it afterwards is. 0: every file is read."},
		{Name: "file.clean.removed.ms", Importance: config.Low, Type: config.Duration, Default: "86400000", HasDefault: true, Validate: config.AtLeast(0),
			Doc: "With files: the stored position of a file that was deleted (or renamed out of files) is removed from the offsets this long after, so that the offsets file does not grow with every rotated file; also of files matched by files that were deleted while the worker was stopped, counted from the task's start. 0 keeps them."},
		{Name: "file.header", Importance: config.Low, Type: config.String,
			Doc: "Name of the header carrying each record's file path, so that consumers can tell files apart; empty for none. Unset, it is file with files, and none with file (as Kafka's FileStreamSource, whose records have no headers)."},
		{Name: "topic", Type: config.String, Required: true, Validate: topicTemplate(),
			Doc: "Topic to write the lines to. ${filename} stands for the file's base name, its characters outside letters, digits, '.', '_' and '-' made '_' (topic=logs-${filename})."},
		{Name: "file.seed", Importance: config.Low, Type: config.String,
			Doc: "A file to copy to file when file does not exist as the task starts, so that a demo tails its own copy and the original stays as it is (the quick start's testdata/access_log_small.txt)."},
		{Name: "batch.size", Importance: config.Low, Type: config.Int, Default: "2000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "Most lines handed to the worker at a time."},
		{Name: "read.from", Importance: config.Low, Type: config.String, Default: "beginning", HasDefault: true, Validate: config.OneOf("beginning", "end"),
			Doc: "Where to start in a file that has no stored position as the task starts: beginning or end. Files that appear later (a rotated log's new file, a new file of files) are read from their beginning."},
		{Name: "max.line.bytes", Importance: config.Medium, Type: config.Int, Default: "1048576", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "Longest line sent whole; the worker sizes its producer and the topics it creates to fit. A longer line follows line.overflow."},
		{Name: "line.overflow", Importance: config.Medium, Type: config.String, Default: "split", HasDefault: true, Validate: config.OneOf("split", "truncate", "skip", "fail"),
			Doc: "What happens to a line longer than max.line.bytes: split (consecutive records of max.line.bytes, positions exact), truncate (its first max.line.bytes are sent), skip, or fail (the task fails naming the line's position). Each is counted in the status and logged once per file."},
		{Name: "max.line.action", Importance: config.Low, Type: config.String, Validate: config.OneOf("split", "skip"),
			Doc: "Former name of line.overflow (split or skip); line.overflow wins when both are set."},
		{Name: "poll.interval.ms", Importance: config.Low, Type: config.Duration, Default: "250", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "How often the file is checked when no change event arrives (events make appends show within milliseconds)."},
	}, multilineKeys()...)...)
}

// Plugin describes the connector class for a connect.Registry.
func Plugin(version string) connect.Plugin {
	return connect.Plugin{
		Class:     Class,
		Aliases:   []string{"FileStreamSource", "FileStreamSourceConnector"},
		TaskClass: "org.apache.kafka.connect.file.FileStreamSourceTask",
		Type:      connect.Source,
		Version:   version,
		Def:       Def(),
		New:       func() connect.Connector { return &Connector{} },
	}
}

// Connector is FileStreamSource; it runs one task.
type Connector struct {
	cfg *config.Values
}

// Start keeps the configuration.
func (c *Connector) Start(_ context.Context, cfg *config.Values) error {
	c.cfg = cfg
	return nil
}

// TaskConfigs returns one task: a file is read by one reader.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.cfg.Originals()}, nil
}

// Stop does nothing.
func (c *Connector) Stop() error { return nil }

// MaxValueBytes is max.line.bytes: no record is longer.
func (c *Connector) MaxValueBytes() int { return c.cfg.Int("max.line.bytes") }

// NewTask returns a task.
func (c *Connector) NewTask() connect.SourceTask { return &Task{} }

const (
	readChunk = 256 << 10
	minChunk  = 4 << 10
	sigSize   = 16
)

// Task tails one file.
type Task struct {
	log       *slog.Logger
	path      string
	key       map[string]any
	topic     string
	batch     int
	maxLine   int
	overflow  string // line.overflow
	pollEvery time.Duration
	tc        *connect.SourceTaskContext

	// Read state, used by Poll only.
	f         *os.File
	id        string                   // device and inode of f
	sp        *connect.SourcePartition // nil until the first line is known
	pos       int64                    // file offset of the end of buf
	buf       []byte                   // bytes read and not yet sent: buf[off:]
	off       int
	sig       [sigSize]byte // the last bytes read, ending at pos
	sigLen    int
	skipping  bool      // dropping the rest of a too-long line
	splitting bool      // sending a too-long line in pieces
	warned    bool      // a too-long line of this file was logged
	held      []byte    // line.overflow=truncate: the start of the line being skipped
	heldAt    int64     // its position
	waiting   bool      // the file cannot be opened; said so once
	problem   string    // the last problem logged about the path
	queue     []rotated // rotated files to finish, in order, before the path
	recs      []connect.SourceRecord
	// catchUp: a rotated file found on start is being finished; the file
	// at the path may have been read by the run before, and is looked up
	// in the topic (after from) when it is opened.
	catchUp bool
	from    connect.SourceOffset
	failErr error // line.overflow=fail: the task stops here

	stdin *stdinReader

	// Reading many files (files): m is the set this file belongs to (nil
	// for the file of file), headers the ones each record carries.
	m        *many
	headers  []connect.Header
	mark     *connect.SourceRecord // an offset to hand over before any line
	deferred bool                  // the file at the path is another file's rotated copy, still read as that one
	grew     time.Time             // when the file last had new bytes
	dropped  bool                  // finished for good; the set forgets it
	busy     bool                  // may have more to read: stepped in the next round
	chunk    int                   // bytes to read next (fill)
	spare    []byte                // a buffer the last read did not use

	// Multiline events (ml not nil): the lines of the event being read,
	// their length joined, when the last came, and events complete but
	// not yet returned.
	ml        *multiline
	pend      []connect.SourceRecord
	pendBytes int
	pendAt    time.Time
	ready     []connect.SourceRecord
	set       *many // the connector's task with files: the files it reads
	idle      bool  // closed for lack of growth (t.f nil); opened again by identity

	watcher *fsnotify.Watcher
	wake    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup

	progMu   sync.Mutex // guards sent, size and overflows
	sent     int64      // position after the last line handed over
	size     int64
	over     connect.Oversized
	stopOnce sync.Once

	counts fileCounts // for the metrics (metrics.go)
}

// Start opens the file and decides where to resume: the position found in
// the topic for this file, else the stored offset, else read.from.
func (t *Task) Start(ctx context.Context, tc *connect.SourceTaskContext) error {
	cfg := tc.Config
	t.log = tc.Log
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.path = cfg.String("file")
	t.topic = cfg.String("topic")
	t.batch = cfg.Int("batch.size")
	t.maxLine = cfg.Int("max.line.bytes")
	t.overflow = cfg.String("line.overflow")
	if !cfg.IsSet("line.overflow") && cfg.IsSet("max.line.action") {
		t.overflow = cfg.String("max.line.action")
	}
	t.pollEvery = cfg.Duration("poll.interval.ms")
	ml, err := parseMultiline(cfg, t.maxLine)
	if err != nil {
		return err
	}
	t.ml = ml
	t.tc = tc
	t.wake = make(chan struct{}, 1)
	t.stop = make(chan struct{})
	if cfg.IsSet("files") {
		return t.startMany(ctx, cfg)
	}
	if t.path == "" {
		t.stdin = newStdinReader(os.Stdin, t.stop)
		t.log.Info("reading standard input", "topic", t.topic)
		return nil
	}
	t.log = t.log.With("file", t.path)
	t.setPath(t.path, cfg)
	dir := filepath.Dir(t.path)
	if st, err := os.Stat(dir); err != nil {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "is in folder " + dir + ", which does not exist"}
	} else if !st.IsDir() {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "is in " + dir + ", which is not a folder"}
	}
	if seed := cfg.String("file.seed"); seed != "" {
		if err := seedFile(t.path, seed); err != nil {
			return &config.Error{Source: cfg.Source(), Key: "file.seed", Value: seed, Reason: err.Error()}
		}
	}
	if err := t.startPath(ctx); err != nil {
		return err
	}
	t.startWatcher(dir)
	return nil
}

// setPath names the file the task reads: its source partition, topic and
// headers.
func (t *Task) setPath(path string, cfg *config.Values) {
	t.path = path
	t.key = map[string]any{"filename": path}
	t.topic = topicFor(cfg.String("topic"), path)
	h := cfg.String("file.header")
	if !cfg.IsSet("file.header") && t.m != nil {
		h = "file"
	}
	if h != "" {
		t.headers = []connect.Header{{Key: h, Value: []byte(path)}}
	}
}

// startPath decides where to resume in the file at the path: the position
// found in the topic for this file, else the stored offset, else read.from.
// When the file is being finished as another path's rotated copy (many
// files), it waits for that.
func (t *Task) startPath(ctx context.Context) error {
	tc, cfg := t.tc, t.tc.Config
	stored, hasStored, err := tc.Offset(t.key)
	if err != nil {
		return err
	}
	f, err := openFile(t.path)
	var fi os.FileInfo
	if err == nil {
		if fi, err = f.Stat(); err != nil {
			f.Close()
			return fmt.Errorf("stat %s: %w", t.path, err)
		}
		if fi.IsDir() {
			f.Close()
			return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "is a folder, not a file"}
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if hasStored {
			if ok, err := t.resumeRotated(ctx, stored, ""); err != nil || ok {
				return err
			}
		}
		t.waiting = true
		t.note(err)
	case err != nil:
		return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "cannot be read: " + err.Error()}
	default:
		t.f, t.id = f, fileident.Of(fi)
		if id, ok := t.fullIdentity(f, t.id); ok {
			t.sp = connect.NewSourcePartition(t.key, id)
		}
		from := connect.SourceOffset{Record: connect.RecordRef{Offset: -1}}
		lookup := true
		same, why := false, ""
		if hasStored {
			if same, why = t.proves(f, fi.Size(), t.id, stored); !same {
				ok, err := t.resumeRotated(ctx, stored, t.id)
				if err != nil || ok {
					f.Close() // opened again once the rotated file is done
					return err
				}
			}
		}
		if !same && t.m != nil {
			// Not the file this path's offset names: it may be another
			// path's, being read or read already under its earlier name.
			if t.m.starting {
				f.Close()
				t.f = nil
				return errLater
			}
			if t.claimed() {
				return nil
			}
			if t.handed(fi.Size(), &from) {
				same, lookup = true, false
			}
		}
		switch {
		case same && lookup:
			from = stored
			t.log.Info("resuming at the stored position", "position", stored.Position)
		case same:
		case hasStored:
			t.log.Info("taking the file as a new one and reading it from the start: "+why, "stored_position", stored.Position)
			from.Record = stored.Record
		case t.m != nil && t.m.ignoreOlder > 0 && time.Since(fi.ModTime()) > t.m.ignoreOlder:
			from.Position = fi.Size()
			lookup = false
			t.log.Info("the file was last modified longer ago than file.ignore.older.ms; only what is appended to it is read", "position", from.Position, "modified", fi.ModTime().Format(time.RFC3339))
		case t.m != nil && !t.m.initial:
			// A file that appeared while the task runs: read whole, and
			// nothing of it can be in the topic.
			lookup = false
		case cfg.String("read.from") == "end":
			from.Position = fi.Size()
			lookup = false
			t.log.Info("no stored position; reading from the end", "position", from.Position)
		}
		pos := from.Position
		if lookup && t.sp != nil {
			if pos, err = tc.Produced(ctx, t.topic, t.sp, from); err != nil {
				f.Close()
				return err
			}
			if pos != from.Position {
				t.log.Info("resuming after the lines found in the topic", "position", pos, "stored_position", from.Position)
			}
		}
		if pos > fi.Size() {
			t.log.Warn("the file is shorter than the position to resume at; it was truncated, reading it from the start", "position", pos, "size", fi.Size())
			pos = 0
			t.sp = nil
		}
		t.pos = pos
		if hasStored && !same {
			t.markFound(pos)
		}
		t.setProgress(pos, fi.Size())
	}
	return nil
}

// rotated is a renamed file found on start that still has lines to read.
type rotated struct {
	name string
	f    *os.File
	id   string
	sp   *connect.SourcePartition
	pos  int64

	mtime   time.Time // orders the files queued
	current bool      // the file at the path, queued behind the rotated ones
}

// proofWindow is how many bytes each of a stored position's two checksums
// covers: the file's first bytes, and those just before the position.
const proofWindow = 1024

// proofOf returns the proof of position pos: "<n>:<sum>/<n>:<sum>", FNV-1a
// checksums (in hexadecimal) of the first n and the last n bytes before
// pos, n being proofWindow or pos if less; read fills a slice from an
// offset. It is false when the bytes cannot all be read.
func proofOf(pos int64, read func(b []byte, off int64) bool) (string, bool) {
	n := min(pos, proofWindow)
	var head, tail [proofWindow]byte
	if !read(head[:n], 0) || !read(tail[:n], pos-n) {
		return "", false
	}
	sum := func(b []byte) string {
		h := fnv.New64a()
		h.Write(b)
		return strconv.FormatInt(n, 16) + ":" + strconv.FormatUint(h.Sum64(), 16)
	}
	return sum(head[:n]) + "/" + sum(tail[:n]), true
}

// readFull is a read for proofOf from a file.
func readFull(f *os.File) func(b []byte, off int64) bool {
	return func(b []byte, off int64) bool {
		n, _ := f.ReadAt(b, off)
		return n == len(b)
	}
}

// proofAt returns the proof of position pos in the open file. Bytes still
// in the buffer are taken from it, so the proof is of what was read, even if
// the file changes meanwhile.
func (t *Task) proofAt(pos int64) string {
	proof, _ := proofOf(pos, t.bytesAt)
	return proof
}

// bytesAt fills b from the buffer or the file at offset off.
func (t *Task) bytesAt(b []byte, off int64) bool {
	base := t.pos - int64(len(t.buf))
	if off >= base && off+int64(len(b)) <= t.pos {
		copy(b, t.buf[off-base:])
		return true
	}
	return t.f != nil && readFull(t.f)(b, off)
}

// proves reports whether the file f (of size size, device and inode base)
// is the one a stored offset was taken in, and if not, why. A stored
// offset with a proof must match the file's first bytes and the bytes
// before the position; inode and first line alone prove nothing (inodes are
// reused at once, headers repeat). Offsets without a proof (Kafka Connect's,
// or older ones) are taken on the inode and first line as before.
func (t *Task) proves(f *os.File, size int64, base string, stored connect.SourceOffset) (bool, string) {
	switch {
	case stored.Position > size:
		return false, fmt.Sprintf("it is %d bytes, shorter than the stored position %d", size, stored.Position)
	case stored.Identity != "" && baseOf(stored.Identity) != base:
		return false, "the stored position was taken in another file (" + stored.Identity + ", this one is " + base + ")"
	case stored.Proof == "":
		if stored.Identity == "" || stored.Identity == base {
			return true, ""
		}
		if id, ok := t.fullIdentity(f, base); ok && id == stored.Identity {
			return true, ""
		}
		return false, "its first line differs from the one of the file the stored position was taken in"
	}
	proof, ok := proofOf(stored.Position, readFull(f))
	if !ok {
		return false, "its bytes before the stored position cannot be read"
	}
	if proof != stored.Proof {
		return false, fmt.Sprintf("its bytes before the stored position %d, or its first bytes, differ from those read there (the file was replaced or rewritten, even if it has the same inode and first line)", stored.Position)
	}
	return true, ""
}

// fpMax is how many bytes of a file's first line its fingerprint covers.
const fpMax = 256

// fullIdentity returns a file's identity: its device and inode, and a
// fingerprint of its first line (at most fpMax bytes). It is not known
// (false) until the file holds a newline or fpMax bytes; no record can have
// been read from it before, unless max.line.bytes is below fpMax (records
// then carry the device and inode alone).
func (t *Task) fullIdentity(f *os.File, base string) (string, bool) {
	var b [fpMax]byte
	n, _ := f.ReadAt(b[:], 0)
	k := bytes.IndexByte(b[:n], '\n') + 1
	if k == 0 {
		if n < fpMax {
			return "", false
		}
		k = n
	}
	h := fnv.New64a()
	h.Write(b[:k])
	return base + ":" + strconv.FormatUint(h.Sum64(), 16), true
}

// baseOf returns the device and inode part of an identity.
func baseOf(identity string) string {
	dev, rest, _ := strings.Cut(identity, ":")
	ino, _, _ := strings.Cut(rest, ":")
	return dev + ":" + ino
}

// resumeRotated looks in the file's folder for the file that the stored
// offset was taken from (same device and inode, and the stored proof),
// renamed since (rotated while the worker was down), skipping the one at
// the path (skipID). When it is there, the task reads it to its end first,
// from the stored position moved past what the topic already holds, and
// switches to the path afterwards.
func (t *Task) resumeRotated(ctx context.Context, stored connect.SourceOffset, skipID string) (bool, error) {
	if stored.Identity == "" {
		return false, nil
	}
	dir := filepath.Dir(t.path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, nil
	}
	want := baseOf(stored.Identity)
	for i, e := range ents {
		if i >= 10000 || ctx.Err() != nil {
			break
		}
		if !e.Type().IsRegular() {
			continue
		}
		name := filepath.Join(dir, e.Name())
		fi, err := os.Stat(name)
		if err != nil {
			continue
		}
		base := fileident.Of(fi)
		if base == "" || base == skipID || base != want || t.handedOver(name, base) {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		from := stored
		if same, why := t.proves(f, fi.Size(), base, stored); !same {
			if t.m != nil {
				// Among many files an inode is soon another file's
				// (a deleted rotated file's goes to the next one
				// made): only the file the position was taken in is
				// finished here.
				t.log.Info("a file with the inode of the stored position is another file; not taken for it: "+why, "other", name)
				f.Close()
				continue
			}
			// Same inode, other content: truncated and written again
			// since, or another file; its lines from the start.
			t.log.Info("the rotated file does not match the stored position; reading it from the start: "+why, "rotated", name)
			from = connect.SourceOffset{Record: stored.Record}
		}
		id, ok := t.fullIdentity(f, base)
		if !ok {
			id = base
		}
		sp := connect.NewSourcePartition(t.key, id)
		pos := from.Position
		if ok {
			if pos, err = t.tc.Produced(ctx, t.topic, sp, from); err != nil {
				f.Close()
				return false, err
			}
		}
		pos = min(pos, fi.Size())
		t.f, t.id, t.sp, t.pos = f, base, sp, pos
		if !ok {
			t.sp = nil
		}
		t.catchUp, t.from = true, connect.SourceOffset{Record: stored.Record}
		t.setProgress(pos, fi.Size())
		if from.Position != stored.Position {
			t.markFound(pos)
		}
		t.log.Info("the file was rotated while the worker was stopped; finishing the rotated file before reading the new one", "rotated", name, "position", pos)
		if err := t.findSuccessors(ctx, ents, name, fi.ModTime(), stored.Record, base, skipID); err != nil {
			return true, err
		}
		return true, t.queuePath(ctx, skipID, stored.Record)
	}
	return false, nil
}

// markFound stores pos, found in the topic rather than stored, as the
// position of the file now read (t.f, t.sp) before any line of it is sent:
// the stored offset then names this file, and a later restart does not
// look for its lines after a record of the file before it, which a restart
// may have sent after them (finishing the rotated file late).
func (t *Task) markFound(pos int64) {
	if pos <= 0 || t.sp == nil || t.f == nil {
		return
	}
	proof, ok := proofOf(pos, readFull(t.f))
	if !ok {
		return
	}
	t.mark = &connect.SourceRecord{Source: t.sp, Start: pos, Position: pos, Proof: proof, Topic: t.topic, Mark: true}
}

// queuePath queues the file now at the path (device and inode base, ""
// when there is none) behind the rotated files, from the position its lines
// in the topic after the stored record reach. Among many files it is then
// this stream's from the start: renamed before this stream gets to it, it
// is finished here and handed over, not read again from its start by the
// stream of its new name.
func (t *Task) queuePath(ctx context.Context, base string, after connect.RecordRef) error {
	if t.m == nil || base == "" {
		return nil
	}
	f, err := os.Open(t.path)
	if err != nil {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fileident.Of(fi) != base {
		f.Close()
		return nil
	}
	r := rotated{name: t.path, f: f, id: base, mtime: fi.ModTime(), current: true}
	if id, ok := t.fullIdentity(f, base); ok {
		r.sp = connect.NewSourcePartition(t.key, id)
		if r.pos, err = t.tc.Produced(ctx, t.topic, r.sp, connect.SourceOffset{Record: after}); err != nil {
			f.Close()
			return err
		}
		r.pos = min(r.pos, fi.Size())
	}
	t.queue = append(t.queue, r)
	return nil
}

// handedOver reports whether name, one of many files, has a stored offset
// of its own in the file of device and inode base: the file was handed
// over to the stream of that path, which goes on with it from there.
func (t *Task) handedOver(name, base string) bool {
	if t.m == nil || !t.m.matches(name) {
		return false
	}
	off, ok, err := t.tc.Offset(map[string]any{"filename": name})
	return err == nil && ok && off.Identity != "" && baseOf(off.Identity) == base
}

// findSuccessors queues the files of the folder written after the rotated
// file being finished that the topic shows were being read (after the
// stored offset's record) and are not read to their end. Files never read
// at all are not found this way.
func (t *Task) findSuccessors(ctx context.Context, ents []os.DirEntry, current string, since time.Time, after connect.RecordRef, skip ...string) error {
	var found []rotated
	for i, e := range ents {
		if i >= 10000 || ctx.Err() != nil {
			break
		}
		name := filepath.Join(filepath.Dir(t.path), e.Name())
		if !e.Type().IsRegular() || name == current || name == t.path {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil || fi.ModTime().Before(since) {
			continue
		}
		base := fileident.Of(fi)
		if base == "" || slices.Contains(skip, base) {
			continue
		}
		if t.m != nil && (t.m.owner(base, t) != nil || t.m.matches(name) &&
			(t.handedOver(name, base) || topicFor(t.tc.Config.String("topic"), name) == t.topic)) {
			// Read by its own stream, which finds what was sent of it
			// under this path in their topic. With a topic per file, it
			// cannot: this stream finishes it, unless it was handed over.
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		id, ok := t.fullIdentity(f, base)
		if !ok {
			f.Close()
			continue
		}
		sp := connect.NewSourcePartition(t.key, id)
		pos, err := t.tc.Produced(ctx, t.topic, sp, connect.SourceOffset{Record: after})
		if err != nil {
			f.Close()
			return err
		}
		if pos == 0 || pos >= fi.Size() && (t.m == nil || !t.m.matches(name)) {
			// Never read here, or read to its end. A file of the set read
			// to its end is still queued: finishing it hands it over to
			// its path's stream with where it ended.
			f.Close()
			continue
		}
		found = append(found, rotated{name: name, f: f, id: base, sp: sp, pos: pos, mtime: fi.ModTime()})
	}
	slices.SortStableFunc(found, func(a, b rotated) int { return a.mtime.Compare(b.mtime) })
	for _, r := range found {
		t.queue = append(t.queue, r)
		t.log.Info("a later rotated file was not read to its end; it is read next", "rotated", r.name, "position", r.pos)
	}
	return nil
}

func (t *Task) startWatcher(dir string) {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(dir); err != nil {
			w.Close()
		}
	}
	if err != nil {
		t.log.Info("file change events unavailable; checking the file periodically", "interval", t.pollEvery, "err", err)
		return
	}
	t.watcher = w
	clean := filepath.Clean(t.path)
	t.wg.Add(1)
	go func() { // owned by Stop: ends when the watcher is closed
		defer t.wg.Done()
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) == clean {
					t.poke()
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				// An overflowed queue lost events: rescan.
				t.log.Debug("file change events", "err", err)
				t.poke()
			}
		}
	}()
}

func (t *Task) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *Task) setProgress(sent, size int64) {
	t.progMu.Lock()
	t.sent, t.size = sent, size
	t.progMu.Unlock()
}

// Progress reports the position reached, the file's size and the lines
// longer than max.line.bytes.
func (t *Task) Progress() connect.Progress {
	if t.set != nil {
		return t.set.progress()
	}
	t.progMu.Lock()
	defer t.progMu.Unlock()
	return connect.Progress{ReadBytes: t.sent, SizeBytes: t.size, Oversized: t.over}
}

// Stop closes the file and the watcher.
func (t *Task) Stop() error {
	t.stopOnce.Do(func() {
		close(t.stop)
		if t.set != nil {
			t.set.stop()
			return
		}
		if t.watcher != nil {
			t.watcher.Close()
		}
		t.wg.Wait()
		if t.f != nil {
			t.f.Close()
		}
		for _, r := range t.queue {
			r.f.Close()
		}
	})
	return nil
}

// Poll returns the next complete lines, waiting for some.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.stdin != nil {
		return t.pollStdin(ctx)
	}
	if t.set != nil {
		return t.set.poll(ctx)
	}
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for {
		recs, again, err := t.step(ctx)
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		if again {
			continue
		}
		if tick == nil {
			tick = time.NewTicker(t.pollEvery)
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.wake:
		case <-tick.C:
		}
	}
}

// step does what can be done without waiting: it returns lines, or
// whether to look again at once (more was read, or the file was switched).
func (t *Task) step(ctx context.Context) ([]connect.SourceRecord, bool, error) {
	if t.mark != nil {
		m := *t.mark
		t.mark = nil
		return []connect.SourceRecord{m}, true, nil
	}
	if t.idle {
		if recs, again := t.awake(); !again {
			return recs, false, nil
		}
	}
	if recs := t.emit(); len(recs) > 0 || len(t.ready) > 0 {
		if t.ml != nil {
			recs = t.events(recs) // lines may be held: read on
		}
		return recs, true, nil
	}
	if t.failErr != nil {
		return nil, false, t.failErr
	}
	n, trunc, err := t.fill()
	if err != nil {
		return nil, false, err
	}
	if trunc {
		t.truncated(-1)
		return nil, true, nil
	}
	if n > 0 {
		return nil, true, nil
	}
	switched, recs, err := t.check(ctx)
	if len(recs) == 0 && !switched && err == nil && t.ml != nil {
		recs = t.timedOut()
	}
	return recs, switched && !t.dropped, err
}

// emit cuts up to batch.size complete lines from the buffer. A line longer
// than max.line.bytes follows line.overflow; the last record gets the proof
// of its position.
func (t *Task) emit() []connect.SourceRecord {
	if t.f == nil && t.buf == nil {
		return nil
	}
	recs := t.recs[:0]
	if recs == nil && t.off < len(t.buf) {
		// Sized once for the complete lines buffered (counting newlines
		// is far cheaper than growing the slice by doubling).
		n := bytes.Count(t.buf[t.off:], []byte{'\n'})
		recs = make([]connect.SourceRecord, 0, min(t.batch, n+1))
	}
	base := t.pos - int64(len(t.buf)) // file offset of buf[0]
	for len(recs) < t.batch && t.off < len(t.buf) && t.failErr == nil {
		rest := t.buf[t.off:]
		at := base + int64(t.off)
		lim := min(len(rest), t.maxLine+1)
		i := bytes.IndexByte(rest[:lim], '\n')
		if i < 0 {
			if len(rest) <= t.maxLine {
				break // a partial line: wait for the rest
			}
			// The next max.line.bytes of a line longer than that.
			piece := rest[:t.maxLine:t.maxLine]
			if !t.skipping {
				if !t.splitting {
					if t.overflowed(at); t.failErr != nil {
						break
					}
				}
				switch t.overflow {
				case "split":
					t.off += t.maxLine
					t.splitting = true
					recs = append(recs, t.record(piece, at, base+int64(t.off)))
					continue
				case "truncate":
					// Sent when the line's end is found, with the position
					// after it: a restart never resumes inside the line.
					t.held, t.heldAt = append([]byte(nil), piece...), at
				}
				t.skipping = true
			}
			t.off += t.maxLine
			continue
		}
		line := rest[:i:i]
		t.off += i + 1
		t.splitting = false
		if t.skipping {
			t.skipping = false
			if t.held != nil {
				recs = append(recs, t.record(t.held, t.heldAt, base+int64(t.off)))
				t.held = nil
			}
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[: n-1 : n-1]
		}
		recs = append(recs, t.record(line, at, base+int64(t.off)))
	}
	if len(recs) > 0 {
		last := &recs[len(recs)-1]
		if t.f != nil {
			last.Proof = t.proofAt(last.Position)
		}
		t.progMu.Lock()
		t.sent = last.Position
		t.progMu.Unlock()
	}
	t.recs = nil // handed over: the worker owns the slice now
	if t.off == len(t.buf) && t.m != nil {
		// Read whole: let the records keep the buffer alive, not an idle
		// file (one of many).
		t.buf, t.off = nil, 0
	}
	return recs
}

// overflowed counts a line longer than max.line.bytes that starts at at,
// logs the first one of the file, and with line.overflow=fail stops the
// task there.
func (t *Task) overflowed(at int64) {
	t.progMu.Lock()
	switch t.overflow {
	case "split":
		t.over.Split++
	case "truncate":
		t.over.Truncated++
	case "skip":
		t.over.Skipped++
	}
	t.progMu.Unlock()
	if t.overflow == "fail" {
		t.failErr = fmt.Errorf("the line at position %d of %s is longer than max.line.bytes (%d) and line.overflow is fail; raise max.line.bytes or choose split, truncate or skip, then restart the task to resume at that line", at, t.path, t.maxLine)
		return
	}
	if t.warned {
		return
	}
	t.warned = true
	verb := map[string]string{"split": "splitting", "truncate": "truncating", "skip": "skipping"}[t.overflow]
	t.log.Warn(verb+" a line longer than max.line.bytes (logged once per file; the status counts them)", "position", at, "max.line.bytes", t.maxLine, "line.overflow", t.overflow)
}

// record makes the record of a line from start to pos. The file's identity
// is taken at the first one: only then is its first line known complete
// (or a piece of max.line.bytes cut), not when a partial one is buffered.
func (t *Task) record(line []byte, start, pos int64) connect.SourceRecord {
	if t.sp == nil && t.f != nil {
		id, ok := t.fullIdentity(t.f, t.id)
		if !ok {
			id = t.id
		}
		t.sp = connect.NewSourcePartition(t.key, id)
	}
	if line == nil {
		line = []byte{}
	}
	rec := connect.SourceRecord{Source: t.sp, Start: start, Position: pos, Topic: t.topic, Value: line, Headers: t.headers}
	if t.catchUp {
		// Finishing a rotated file: the file at the path may have been
		// read in part before, its lines in Kafka before these.
		rec.Since = t.from.Record
	}
	return rec
}

// fill reads more of the file after the unsent bytes, into a new buffer
// (records already handed over keep pointing into the old one). Before
// reading it checks that the bytes just before the position are still the
// ones read there: a file truncated and written again past the position
// between two reads (copytruncate under a busy writer) is noticed that way.
func (t *Task) fill() (n int, truncated bool, err error) {
	if t.f == nil {
		return 0, false, nil
	}
	if t.sigLen > 0 {
		var cur [sigSize]byte
		m, _ := t.f.ReadAt(cur[:t.sigLen], t.pos-int64(t.sigLen))
		if m != t.sigLen || cur != t.sig {
			return 0, true, nil
		}
		// The last bytes may match by chance (lines alike): the first
		// line must match too.
		if t.sp != nil && t.sp.Identity() != t.id {
			if id, ok := t.fullIdentity(t.f, t.id); !ok || id != t.sp.Identity() {
				return 0, true, nil
			}
		}
	}
	rest := t.buf[t.off:]
	// Reads are sized to what came last time, doubling while they fill up
	// to readChunk: a file that grows by a line at a time is not read into
	// a quarter of a megabyte each time.
	if t.chunk == 0 {
		t.chunk = readChunk
	}
	var nb []byte
	if cap(t.spare) >= len(rest)+t.chunk {
		nb, t.spare = t.spare[:len(rest)], nil
	} else {
		nb = make([]byte, len(rest), len(rest)+t.chunk)
	}
	copy(nb, rest)
	n, err = t.f.ReadAt(nb[len(rest):cap(nb)], t.pos)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, false, fmt.Errorf("read %s: %w", t.path, err)
	}
	switch {
	case n == t.chunk:
		t.chunk = min(2*t.chunk, readChunk)
	case n < t.chunk/4:
		t.chunk = max(t.chunk/2, minChunk)
	}
	if n == 0 {
		if cap(nb) <= 4*minChunk {
			t.spare = nb[:0] // nothing points into it: kept for the next read
		}
		return 0, false, nil
	}
	t.buf = nb[:len(rest)+n]
	t.off = 0
	t.pos += int64(n)
	t.counts.read.Add(int64(n))
	if t.m != nil {
		t.grew = time.Now()
	}
	t.sig = [sigSize]byte{}
	t.sigLen = min(sigSize, len(t.buf))
	copy(t.sig[:], t.buf[len(t.buf)-t.sigLen:])
	return n, false, nil
}

// truncated starts the file again from 0 after it shrank.
func (t *Task) truncated(size int64) {
	t.ready = t.flushEvent(t.ready) // its lines were read whole before
	t.log.Warn("the file was truncated; reading it again from the start", "position", t.pos, "size", size)
	t.counts.rotations.Add(1)
	t.pos, t.buf, t.off, t.skipping, t.splitting, t.sigLen, t.held = 0, nil, 0, false, false, 0, nil
	t.warned = false
	t.sig = [sigSize]byte{}
	t.sp = nil // new content: a new first line
	t.setProgress(0, size)
}

// check looks for truncation, rotation and creation at the end of the
// current file. It returns whether reading should go on at once, and the
// last line of a finished file that had no newline.
func (t *Task) check(ctx context.Context) (bool, []connect.SourceRecord, error) {
	if t.f == nil {
		ok, err := t.open(ctx)
		return ok, nil, err
	}
	fi, err := t.f.Stat()
	if err != nil {
		return false, nil, fmt.Errorf("stat %s: %w", t.path, err)
	}
	t.progMu.Lock()
	t.size = fi.Size()
	t.progMu.Unlock()
	if fi.Size() < t.pos {
		t.truncated(fi.Size())
		return true, nil, nil
	}
	if len(t.queue) == 0 {
		pfi, err := os.Stat(t.path)
		switch {
		case err != nil && t.m != nil && errors.Is(err, fs.ErrNotExist) &&
			(fileident.Deleted(fi) || time.Since(t.grew) >= t.m.closeInactive):
			// One of many files, deleted (and read to its end) or renamed
			// and idle: finished. A file made at the path later is found
			// as a new one.
			t.dropped = true
		case err != nil:
			// Renamed or deleted, not yet recreated: keep the old file.
			if !errors.Is(err, fs.ErrNotExist) || fileident.Deleted(fi) {
				t.note(err)
			}
			return false, nil, nil
		case fileident.Of(pfi) == t.id && !fileident.Deleted(fi):
			return false, nil, nil
		case pfi.Size() == 0 && !fileident.Deleted(fi):
			// A new, empty file beside the renamed one: the writer may
			// still be writing to the old one.
			return false, nil, nil
		}
	}
	// Otherwise a later file was written already: this one is done.
	// The old file is done: one last read to its end, then switch.
	if n, trunc, err := t.fill(); err != nil || n > 0 || trunc {
		if trunc {
			t.truncated(-1)
		}
		return true, nil, err
	}
	recs := t.flushEvent(t.ready) // the file is done: so is its last event
	t.ready = nil
	if rest := t.buf[t.off:]; len(rest) > 0 && !t.skipping {
		recs = append(recs, t.record(rest[:len(rest):len(rest)], t.pos-int64(len(rest)), t.pos))
	}
	if t.held != nil {
		recs = append(recs, t.record(t.held, t.heldAt, t.pos))
	}
	t.proveLast(recs)
	var done handoff
	if t.m != nil {
		done = handoff{path: t.path, pos: t.pos, proof: t.proofAt(t.pos), base: t.id, identity: t.id}
		if t.sp != nil {
			done.identity = t.sp.Identity()
		}
	}
	t.f.Close()
	t.f, t.buf, t.off, t.skipping, t.splitting, t.sigLen, t.held = nil, nil, 0, false, false, 0, nil
	t.warned = false
	if t.m != nil {
		recs = append(recs, t.m.finish(ctx, done)...)
		if t.dropped {
			t.log.Info("finished the file, which was deleted or renamed away", "position", done.pos)
			return true, recs, nil
		}
	}
	if len(t.queue) > 0 {
		next := t.queue[0]
		t.queue = t.queue[1:]
		if next.current {
			t.log.Info("finished the rotated files; going on with the file at the path", "position", next.pos)
		} else {
			t.log.Info("finished a rotated file; reading the next one", "rotated", next.name, "position", next.pos)
		}
		t.f, t.id, t.sp, t.pos = next.f, next.id, next.sp, next.pos
		if fi, err := next.f.Stat(); err == nil {
			t.setProgress(next.pos, fi.Size())
		}
		t.markFound(next.pos)
		if next.current {
			// Caught up: the file at the path is read as usual from here.
			t.catchUp, t.grew = false, time.Now()
		}
		return true, recs, nil
	}
	t.counts.rotations.Add(1)
	t.log.Info("the file was rotated; reading the new one from the start", "old_position", t.pos)
	_, err = t.open(ctx)
	return true, recs, err
}

// openFile opens the file; tests replace it to simulate permissions that
// do not bite as root.
var openFile = os.Open

// open opens the file at the path from its start, when it exists. While
// the rotated files found on start are being caught up with, the run before
// may have read the file at the path already: it resumes after the lines of
// it found in the topic.
func (t *Task) open(ctx context.Context) (bool, error) {
	f, err := openFile(t.path)
	var fi os.FileInfo
	if err == nil {
		fi, err = f.Stat()
		if err == nil && fi.IsDir() {
			err = errIsFolder
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		t.waiting = true
		t.note(err)
		return false, nil
	}
	t.grew = time.Now()
	if t.m != nil {
		t.f, t.id, t.sp = f, fileident.Of(fi), nil
		if t.claimed() {
			return false, nil
		}
		var from connect.SourceOffset
		if t.handed(fi.Size(), &from) {
			t.pos, t.waiting, t.problem, t.catchUp = from.Position, false, "", false
			t.warned, t.held = false, nil
			t.setProgress(t.pos, fi.Size())
			return true, nil
		}
	}
	if t.waiting {
		t.log.Info("the file exists now; reading it")
		t.waiting = false
		if t.watcher != nil {
			// The folder may have been removed and made again.
			t.watcher.Add(filepath.Dir(t.path))
		}
	}
	t.problem = ""
	t.f, t.id, t.pos = f, fileident.Of(fi), 0
	t.sp = nil
	t.warned, t.held = false, nil
	if t.catchUp {
		t.catchUp = false
		if id, ok := t.fullIdentity(f, t.id); ok {
			sp := connect.NewSourcePartition(t.key, id)
			pos, err := t.tc.Produced(ctx, t.topic, sp, t.from)
			if err != nil {
				// Not read from the start yet: looked up again next time.
				f.Close()
				t.f, t.catchUp = nil, true
				if ctx.Err() != nil {
					return false, nil
				}
				return false, err
			}
			if pos > 0 && pos <= fi.Size() {
				t.sp, t.pos = sp, pos
				t.markFound(pos)
				t.log.Info("resuming the file after the lines of it found in the topic", "position", pos)
			} else {
				t.log.Info("none of the file's lines were found in the topic after the stored position; reading it from the start", "identity", id)
			}
		}
	}
	t.setProgress(t.pos, fi.Size())
	return true, nil
}

var errIsFolder = errors.New("is a folder, not a file")

// note logs, once until it changes, why the file cannot be opened or
// looked at; the task keeps trying.
func (t *Task) note(err error) {
	var msg string
	var args []any
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(t.path)
		if _, derr := os.Stat(dir); derr != nil {
			msg = "the file's folder " + dir + " does not exist; waiting for it and the file to be created"
		} else {
			msg = "waiting for the file to be created"
		}
	case errors.Is(err, errIsFolder):
		msg = t.path + " is a folder, not a file; waiting for a file there"
	case errors.Is(err, fs.ErrPermission):
		msg = "cannot open " + t.path + ": permission denied; retrying until it can be read"
	default:
		msg = "cannot open the file; retrying"
		args = append(args, "err", err)
	}
	if msg == t.problem {
		return
	}
	t.problem = msg
	if msg == "waiting for the file to be created" {
		t.log.Info(msg)
		return
	}
	t.log.Warn(msg, args...)
}

// stdinReader reads standard input in a goroutine, since a read from it
// cannot be interrupted; the goroutine ends at end of input or on stop.
type stdinReader struct {
	ch  chan []byte
	err error
}

func newStdinReader(r io.Reader, stop <-chan struct{}) *stdinReader {
	s := &stdinReader{ch: make(chan []byte, 4)}
	go func() { // ends at end of input, a read error, or stop
		defer close(s.ch)
		for {
			b := make([]byte, 64<<10)
			n, err := r.Read(b)
			if n > 0 {
				select {
				case s.ch <- b[:n]:
				case <-stop:
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.err = err
				}
				return
			}
		}
	}()
	return s
}

func (t *Task) pollStdin(ctx context.Context) ([]connect.SourceRecord, error) {
	for {
		if t.off < len(t.buf) {
			t.pos = int64(len(t.buf)) // keeps emit's arithmetic valid
			if recs := t.emit(); len(recs) > 0 {
				for i := range recs {
					recs[i].Source = nil
				}
				return recs, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case b, ok := <-t.stdin.ch:
			if !ok {
				if t.stdin.err != nil {
					return nil, fmt.Errorf("read standard input: %w", t.stdin.err)
				}
				<-ctx.Done() // end of input: nothing more will come
				return nil, nil
			}
			rest := t.buf[t.off:]
			nb := make([]byte, 0, len(rest)+len(b))
			t.buf = append(append(nb, rest...), b...)
			t.off = 0
		}
	}
}

// String is for logs.
func (t *Task) String() string {
	if t.set != nil {
		return "FileStreamSource(files=" + strconv.Quote(strings.Join(t.tc.Config.List("files"), ",")) + ")"
	}
	return "FileStreamSource(" + strconv.Quote(t.path) + ")"
}

// seedFile creates path as a copy of seed when path does not exist; the
// copy appears whole (written beside it, then renamed into place).
func seedFile(path, seed string) error {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	data, err := os.ReadFile(seed)
	if err != nil {
		return fmt.Errorf("cannot be read to create %s: %w", path, err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("cannot be copied to %s: %w", path, err)
	}
	return nil
}
