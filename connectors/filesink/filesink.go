// Package filesink is FileStreamSink: it appends each record's value and a
// newline to a file (or standard output).
//
// The value is written as Kafka's FileStreamSink writes it, its Java
// toString() after the converter, which the worker renders (see
// connect.Converter): with StringConverter the string as it is; with
// JsonConverter a JSON string as itself, an object as {key=value, ...} in
// java.util.HashMap's order, a list as [a, b], an integer as 42, another
// number as Java's Double prints it (1.5, 1.0E10), and a struct with a
// schema as Struct{field=value,...}; a null as null.
//
// Writes go through a buffer that is written out at the end of every batch,
// so a record shows in the file as soon as its batch is handled; Flush also
// fsyncs. The file is opened in append mode and created if missing.
//
// A full disk (ENOSPC, EDQUOT) or a file system that turned read-only
// (EROFS) does not fail the task: the error is logged, naming the file, and
// the write is retried with backoff (50 ms doubling to 5 s) until it
// succeeds, so the worker stops consuming and commits nothing past what is
// written (back-pressure); once space is freed the pipeline continues where
// it stopped. The wait holds no lock and ends when the call's ctx ends or
// Stop is called (from any goroutine): the call then fails with the write
// error and Stop returns at once; nothing past what was written is
// committed. Other write errors fail the task.
//
// # Following the file
//
// The task writes to whatever file its path names. Before each write, and
// once a second while idle, it checks the path: a file renamed away or
// deleted (logrotate, a user cleaning up) or replaced by another is left
// as it is, the path is opened again (created if missing) and the log says
// so; what was written before stays where it went. A file that loses its
// name while a batch is written to it gets that batch written again to the
// path's new file, so nothing written after the change is lost. A file
// truncated under the task (copytruncate) is appended to at its new end;
// what was written between the copy and the truncation is lost, as with
// any writer.
//
// # Rotation
//
// With file.rotate.bytes or file.rotate.interval.ms the task rotates its
// own file between batches: it is renamed to file.NNNNNN (its generation,
// counting from 000001), optionally gzipped, and a new file started; the
// newest file.rotate.keep rotated files are kept. See rotate.go for how a
// restart undoes rotations whose commits were lost.
//
// # A file per topic
//
// With ${topic}, ${partition} or ${filename} in file, each record goes to
// the file its topic, partition or file header names, each written as one
// file is; see template.go for how their exactly-once state is kept.
//
// # Exactly once
//
// The state returned by Flush is the file's absolute name, its size after
// the fsync and its generation, {"file":"/var/log/out.txt","size":5120,"gen":1}. The worker commits it
// inside the snapshot of each flush, beside the next offset of every
// partition written (package connect, sinkRunner). When a run's first
// partitions are assigned, the worker hands Open the state of the newest
// flush found among the committed offsets, and the task truncates the file
// to that size, dropping whatever was written after it; the worker resumes
// each partition right after its records in what is kept. The promise:
// every record of the topics is in the file once, in partition order, after
// clean stops, kill -9 of the worker, commits that fail or are lost for some
// partitions only, and rebalances. Limits:
//
//   - a state of another file (file= was changed) is ignored: nothing is
//     cut, and the new file continues where the old one stopped;
//   - a file shorter than its state says (replaced or truncated by someone
//     else) is appended to, with a warning;
//   - standard output is never cut;
//   - the worker's own limits apply (a snapshot of many partitions that
//     does not fit in offset.metadata.max.bytes degrades to at least once
//     for commits that fail for some partitions only; see package connect).
//
// Open given several states (offsets committed by versions before
// snapshots, one per partition) cuts to the largest of them.
package filesink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// Class is the connector's Kafka class name.
const Class = "org.apache.kafka.connect.file.FileStreamSinkConnector"

// Def declares the connector's keys.
func Def() *config.Def {
	return connect.SinkDef("FileStreamSink",
		config.Key{Name: "file", Type: config.String,
			Doc: "File to append to (created if missing); standard output when unset. ${topic} and ${partition} make it a file per topic or partition (/var/archive/${topic}.log), and ${filename} a file per source file (the base name in each record's file header, as FileStreamSource with files sets it), each written exactly once as a single file is. Each record's value is one line, as Kafka's FileStreamSink writes it: its Java text after the converter (a string as itself; with JsonConverter an object as {key=value, ...} in Java's HashMap order, a list as [a, b], numbers as Java prints a Long or Double, a struct as Struct{field=value,...}; null as null)."},
		config.Key{Name: "file.rotate.bytes", Importance: config.Low, Type: config.Long, Default: "0", HasDefault: true, Validate: config.AtLeast(0),
			Doc: "Rotate the file once it holds this many bytes (0: never): it is renamed to file.NNNNNN (numbered from 000001 up) and a new file started. Records are never split across files; a batch goes whole into one."},
		config.Key{Name: "file.rotate.interval.ms", Importance: config.Low, Type: config.Long, Default: "0", HasDefault: true, Validate: config.AtLeast(0),
			Doc: "Rotate the file once it has been written to for this long (0: never); an empty file is not rotated."},
		config.Key{Name: "file.rotate.keep", Importance: config.Low, Type: config.Int, Default: "0", HasDefault: true, Validate: config.AtLeast(0),
			Doc: "Rotated files to keep, the newest (0: all). Keep more than the rotations of one offset.flush.interval.ms: after a crash, rotations since the last commit are undone from the files kept."},
		config.Key{Name: "file.rotate.compress", Importance: config.Low, Type: config.Bool, Default: "false", HasDefault: true,
			Doc: "Compress rotated files with gzip (file.NNNNNN.gz)."},
	)
}

// Plugin describes the connector class for a connect.Registry.
func Plugin(version string) connect.Plugin {
	return connect.Plugin{
		Class:     Class,
		Aliases:   []string{"FileStreamSink", "FileStreamSinkConnector"},
		TaskClass: "org.apache.kafka.connect.file.FileStreamSinkTask",
		Type:      connect.Sink,
		Version:   version,
		Def:       Def(),
		New:       func() connect.Connector { return &Connector{} },
	}
}

// Connector is FileStreamSink; it runs one task, since one file has one
// writer.
type Connector struct {
	cfg *config.Values
}

// Start keeps the configuration.
func (c *Connector) Start(_ context.Context, cfg *config.Values) error {
	c.cfg = cfg
	return nil
}

// TaskConfigs returns one task.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	return []map[string]string{c.cfg.Originals()}, nil
}

// Stop does nothing.
func (c *Connector) Stop() error { return nil }

// NewTask returns a task.
func (c *Connector) NewTask() connect.SinkTask { return &Task{} }

// state is what is saved with the committed offsets.
type state struct {
	File string `json:"file"`
	Size int64  `json:"size"`
	// Gen is the file's generation: the number its rotated copy will
	// have. 0 in states from before rotation, taken as the current one.
	Gen int `json:"gen,omitempty"`
}

// Task appends records to one file.
type Task struct {
	log  *slog.Logger
	path string   // absolute; "" for standard output
	out  *os.File // f, or standard output
	f    *os.File
	fi   os.FileInfo // what f was when opened: its device and inode
	buf  []byte      // records not yet written out, from off on
	off  int
	size int64 // bytes in the file, buffered ones included
	open bool
	rot  rotation

	// files: file is a template (${topic}, ${partition}); each file has
	// a task of its own.
	files *files

	// mu guards the fields above: Stop may come from another goroutine
	// than Put. It is not held while a write waits for space.
	mu        sync.Mutex
	stopped   chan struct{} // closed by Stop; ends a wait for space and the watch
	watchDone chan struct{} // closed when watch returns

	counts fileCounts // for the metrics (metrics.go)
}

var null = []byte("null")

// bufSize is how much is gathered before it is written out within a batch.
const bufSize = 1 << 20

// write is how the task writes to its file; tests replace it to simulate
// a full disk.
var write = func(f *os.File, b []byte) (int, error) { return f.Write(b) }

// Backoff between retries of a write that failed for lack of space.
const (
	retryMin = 50 * time.Millisecond
	retryMax = 5 * time.Second
)

// Start opens the file for appending; with a template in file, the files
// are opened as their records come.
func (t *Task) Start(_ context.Context, tc *connect.SinkTaskContext) error {
	name := tc.Config.String("file")
	if hasTemplate(name) {
		t.stopped = make(chan struct{})
		t.log = tc.Log
		if t.log == nil {
			t.log = slog.New(slog.DiscardHandler)
		}
		return t.startFiles(tc, name)
	}
	return t.start(tc, name)
}

// start opens the file name for appending (standard output when empty).
func (t *Task) start(tc *connect.SinkTaskContext, name string) error {
	t.stopped = make(chan struct{})
	t.log = tc.Log
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	cfg := tc.Config
	if name == "" {
		t.out, t.open = os.Stdout, true
		return nil
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: err.Error()}
	}
	dir := filepath.Dir(abs)
	if st, err := os.Stat(dir); err != nil {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: "is in folder " + dir + ", which does not exist"}
	} else if !st.IsDir() {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: "is in " + dir + ", which is not a folder"}
	}
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		reason := "cannot be opened for writing: " + err.Error()
		if errors.Is(err, fs.ErrPermission) {
			reason = "cannot be opened for writing: permission denied"
		}
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: reason}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", abs, err)
	}
	if !fi.Mode().IsRegular() && fi.Mode()&os.ModeNamedPipe == 0 && fi.Mode()&os.ModeDevice == 0 {
		f.Close()
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: "is not a regular file"}
	}
	t.path, t.f, t.fi, t.out, t.size, t.open = abs, f, fi, f, fi.Size(), true
	t.log = t.log.With("file", abs)
	if err := t.rot.configure(cfg, abs); err != nil {
		f.Close()
		return err
	}
	t.watchDone = make(chan struct{})
	go t.watch()
	return nil
}

// Open truncates the file to the size saved with the newest committed
// offsets, if it has grown since.
func (t *Task) Open(ctx context.Context, states []string) (string, error) {
	if t.files != nil {
		return t.files.open(ctx, states)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return "", nil
	}
	best, bestGen := int64(-1), 0
	for _, s := range states {
		var st state
		if json.Unmarshal([]byte(s), &st) != nil || st.File != t.path {
			continue
		}
		if st.Gen == 0 {
			st.Gen = t.rot.gen
		}
		if st.Gen > bestGen || st.Gen == bestGen && st.Size > best {
			best, bestGen = st.Size, st.Gen
		}
	}
	if best >= 0 && bestGen != t.rot.gen {
		if err := t.undoRotationsLocked(bestGen); err != nil {
			return "", err
		}
	}
	if best >= 0 {
		// Whatever is still buffered was not committed either.
		t.buf, t.off = t.buf[:0], 0
		fi, err := t.f.Stat()
		if err != nil {
			return "", fmt.Errorf("stat %s: %w", t.path, err)
		}
		switch {
		case fi.Size() > best:
			if err := t.f.Truncate(best); err != nil {
				return "", fmt.Errorf("truncate %s to the size at the last commit: %w", t.path, err)
			}
			if err := t.f.Sync(); err != nil {
				return "", fmt.Errorf("fsync %s: %w", t.path, err)
			}
			t.log.Info("dropped what was written after the last commit; it will be written again", "bytes", fi.Size()-best, "size", best)
			t.size = best
		case fi.Size() < best:
			t.log.Warn("the file is shorter than at the last commit (was it replaced?); appending to it", "size", fi.Size(), "committed_size", best)
			t.size = fi.Size()
		default:
			t.size = best
		}
	}
	return t.stateLocked(), nil
}

func (t *Task) stateLocked() string {
	b, _ := json.Marshal(state{File: t.path, Size: t.size, Gen: t.rot.gen})
	return string(b)
}

// Put appends the records and writes them out.
func (t *Task) Put(ctx context.Context, records []connect.SinkRecord) error {
	if t.files != nil {
		return t.files.put(ctx, records)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.open {
		return errStopped
	}
	if t.rot.due(t.size) {
		if err := t.rotateLocked(ctx); err != nil {
			return err
		}
	}
	for i := range records {
		v := records[i].Value
		if v == nil {
			v = null
		}
		t.buf = append(t.buf, v...)
		t.buf = append(t.buf, '\n')
		t.size += int64(len(v)) + 1
		if len(t.buf) >= bufSize {
			if err := t.writeOut(ctx); err != nil {
				return err
			}
		}
	}
	return t.writeOut(ctx)
}

// writeOut writes the buffer to the file; t.mu is held. A full disk or a
// read-only file system is waited out (see the package comment) until ctx
// is done or the task is stopped; t.mu is released while waiting.
func (t *Task) writeOut(ctx context.Context) error {
	if len(t.buf) == 0 {
		return nil
	}
	if err := t.followLocked(); err != nil {
		return err
	}
	wait := retryMin
	var waiting error
	rewritten := false
	for t.off < len(t.buf) {
		n, err := write(t.out, t.buf[t.off:])
		t.off += n
		t.counts.written.Add(int64(n))
		if err == nil {
			if t.off == len(t.buf) && !rewritten && t.unlinkedLocked() {
				// The file lost its name while this was written to it:
				// what went in is gone with it, so it goes to the path's
				// new file too.
				rewritten = true
				if err := t.reopenLocked("was deleted while being written to"); err != nil {
					return err
				}
				t.size += int64(len(t.buf))
				t.off = 0
			}
			continue
		}
		if !retriable(err) {
			return t.writeErr(err)
		}
		if ctx.Err() != nil {
			return t.writeErr(err)
		}
		if waiting == nil || err.Error() != waiting.Error() {
			t.log.Error("cannot write the sink file; waiting and retrying, nothing is committed past what is written", "err", t.writeErr(err), "pending_bytes", len(t.buf)-t.off)
		}
		waiting = err
		if err := t.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w (%w)", t.writeErr(waiting), err)
		}
		wait = min(2*wait, retryMax)
	}
	if waiting != nil {
		t.log.Info("writing to the sink file again")
	}
	t.buf, t.off = t.buf[:0], 0
	if cap(t.buf) > 4*bufSize {
		t.buf = nil
	}
	return nil
}

// sleep waits d without holding t.mu, and returns early with an error when
// ctx is done or the task is stopped meanwhile; t.mu is held again when it
// returns.
func (t *Task) sleep(ctx context.Context, d time.Duration) error {
	t.mu.Unlock()
	timer := time.NewTimer(d)
	select {
	case <-ctx.Done():
	case <-t.stopped:
	case <-timer.C:
	}
	timer.Stop()
	t.mu.Lock()
	switch {
	case !t.open:
		return errStopped
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

var errStopped = errors.New("the task is stopped")

// retriable reports whether a write error may go away without a restart:
// a full disk or quota, or a file system remounted read-only.
func retriable(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}

func (t *Task) writeErr(err error) error {
	if t.path == "" {
		return fmt.Errorf("write to standard output: %w", err)
	}
	return fmt.Errorf("write %s: %w", t.path, err)
}

// Flush writes out and fsyncs the file, and returns its name and size.
func (t *Task) Flush(ctx context.Context) (string, error) {
	if t.files != nil {
		return t.files.state(ctx, true)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.open {
		return "", errStopped
	}
	if err := t.writeOut(ctx); err != nil {
		return "", err
	}
	if t.f == nil {
		return "", nil
	}
	if err := t.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return "", fmt.Errorf("fsync %s: %w", t.path, err)
	}
	return t.stateLocked(), nil
}

// Stop writes out what is buffered (without waiting for space) and closes
// the file.
func (t *Task) Stop() error {
	if t.files != nil {
		t.mu.Lock()
		was := t.open
		t.open = false
		t.mu.Unlock()
		if !was {
			return nil
		}
		close(t.stopped)
		return t.files.stop()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.open {
		return nil
	}
	t.open = false
	close(t.stopped)
	if t.watchDone != nil {
		t.mu.Unlock()
		<-t.watchDone
		t.mu.Lock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := t.writeOut(ctx)
	if t.f != nil {
		if cerr := t.f.Close(); err == nil {
			err = cerr
		}
		t.f = nil
	}
	return err
}
