// Package filesink is FileStreamSink: it appends each record's value and a
// newline to a file (or standard output).
//
// Writes go through a buffer that is written out at the end of every batch,
// so a record shows in the file as soon as its batch is handled; Flush also
// fsyncs. The file is opened in append mode and created if missing.
//
// No duplicates, even after a kill -9: the state returned by Flush, saved by
// the worker beside the committed offsets, is the file's name and size at
// that point. When partitions are assigned the task is given the saved
// states back and truncates the file to the size it had at the last commit,
// dropping whatever was written after it; those records are then consumed
// and written again.
package filesink

import (
	"bufio"
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

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// Class is the connector's Kafka class name.
const Class = "org.apache.kafka.connect.file.FileStreamSinkConnector"

// Def declares the connector's keys.
func Def() *config.Def {
	return connect.SinkDef("FileStreamSink",
		config.Key{Name: "file", Type: config.String,
			Doc: "File to append to (created if missing); standard output when unset."},
	)
}

// Plugin describes the connector class for a connect.Registry.
func Plugin(version string) connect.Plugin {
	return connect.Plugin{
		Class:   Class,
		Aliases: []string{"FileStreamSink", "FileStreamSinkConnector"},
		Type:    connect.Sink,
		Version: version,
		Def:     Def(),
		New:     func() connect.Connector { return &Connector{} },
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
}

// Task appends records to one file.
type Task struct {
	log  *slog.Logger
	path string // absolute; "" for standard output
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes in the file, buffered ones included

	mu sync.Mutex // Stop may come from another goroutine than Put
}

var newline = []byte{'\n'}
var null = []byte("null")

// Start opens the file for appending.
func (t *Task) Start(_ context.Context, tc *connect.SinkTaskContext) error {
	t.log = tc.Log
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	cfg := tc.Config
	name := cfg.String("file")
	if name == "" {
		t.w = bufio.NewWriterSize(os.Stdout, 64<<10)
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
	t.path, t.f, t.size = abs, f, fi.Size()
	t.w = bufio.NewWriterSize(f, 1<<20)
	t.log = t.log.With("file", abs)
	return nil
}

// Open truncates the file to the size saved with the newest committed
// offsets, if it has grown since.
func (t *Task) Open(_ context.Context, states []string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return "", nil
	}
	best := int64(-1)
	for _, s := range states {
		var st state
		if json.Unmarshal([]byte(s), &st) != nil || st.File != t.path {
			continue
		}
		best = max(best, st.Size)
	}
	if best >= 0 {
		// Whatever is still buffered was not committed either.
		t.w.Reset(t.f)
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
	b, _ := json.Marshal(state{File: t.path, Size: t.size})
	return string(b)
}

// Put appends the records and writes them out.
func (t *Task) Put(_ context.Context, records []connect.SinkRecord) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return errors.New("the task is stopped")
	}
	for i := range records {
		v := records[i].Value
		if v == nil {
			v = null
		}
		t.w.Write(v)
		t.w.Write(newline)
		t.size += int64(len(v)) + 1
	}
	if err := t.w.Flush(); err != nil {
		return t.writeErr(err)
	}
	return nil
}

func (t *Task) writeErr(err error) error {
	if t.path == "" {
		return fmt.Errorf("write to standard output: %w", err)
	}
	return fmt.Errorf("write %s: %w", t.path, err)
}

// Flush writes out and fsyncs the file, and returns its name and size.
func (t *Task) Flush(context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return "", errors.New("the task is stopped")
	}
	if err := t.w.Flush(); err != nil {
		return "", t.writeErr(err)
	}
	if t.f == nil {
		return "", nil
	}
	if err := t.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return "", fmt.Errorf("fsync %s: %w", t.path, err)
	}
	return t.stateLocked(), nil
}

// Stop writes out what is buffered and closes the file.
func (t *Task) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == nil {
		return nil
	}
	err := t.w.Flush()
	t.w = nil
	if t.f != nil {
		if cerr := t.f.Close(); err == nil {
			err = cerr
		}
		t.f = nil
	}
	return err
}
