// Package filesource is FileStreamSource: it tails a file (or reads
// standard input) and hands each complete line to the worker as one record.
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
// A file's identity is its device and inode, compared with the path's on
// every change event and check.
package filesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
)

// Class is the connector's Kafka class name.
const Class = "org.apache.kafka.connect.file.FileStreamSourceConnector"

// Def declares the connector's keys.
func Def() *config.Def {
	return connect.SourceDef("FileStreamSource",
		config.Key{Name: "file", Type: config.String,
			Doc: "File to tail; standard input when unset."},
		config.Key{Name: "topic", Type: config.String, Required: true, Validate: config.NonEmpty(),
			Doc: "Topic to write the lines to."},
		config.Key{Name: "batch.size", Type: config.Int, Default: "2000", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "Most lines handed to the worker at a time."},
		config.Key{Name: "read.from", Type: config.String, Default: "beginning", HasDefault: true, Validate: config.OneOf("beginning", "end"),
			Doc: "Where to start in a file that has no stored position: beginning or end."},
		config.Key{Name: "max.line.bytes", Type: config.Int, Default: "1048576", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "Longest line; a longer one is split or skipped (max.line.action), with a warning naming its offset."},
		config.Key{Name: "max.line.action", Type: config.String, Default: "split", HasDefault: true, Validate: config.OneOf("split", "skip"),
			Doc: "What to do with a line longer than max.line.bytes: split (send it in pieces) or skip."},
		config.Key{Name: "poll.interval.ms", Type: config.Duration, Default: "250", HasDefault: true, Validate: config.AtLeast(1),
			Doc: "How often the file is checked when no change event arrives (events make appends show within milliseconds)."},
	)
}

// Plugin describes the connector class for a connect.Registry.
func Plugin(version string) connect.Plugin {
	return connect.Plugin{
		Class:   Class,
		Aliases: []string{"FileStreamSource", "FileStreamSourceConnector"},
		Type:    connect.Source,
		Version: version,
		Def:     Def(),
		New:     func() connect.Connector { return &Connector{} },
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

// NewTask returns a task.
func (c *Connector) NewTask() connect.SourceTask { return &Task{} }

const (
	readChunk = 256 << 10
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
	skipLong  bool
	pollEvery time.Duration

	// Read state, used by Poll only.
	f        *os.File
	id       string
	sp       *connect.SourcePartition
	pos      int64  // file offset of the end of buf
	buf      []byte // bytes read and not yet sent: buf[off:]
	off      int
	sig      [sigSize]byte // the last bytes read, ending at pos
	sigLen   int
	skipping bool // dropping the rest of a too-long line
	waiting  bool // the file does not exist; said so once
	recs     []connect.SourceRecord

	stdin *stdinReader

	watcher *fsnotify.Watcher
	wake    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup

	progMu   sync.Mutex // guards sent and size
	sent     int64      // position after the last line handed over
	size     int64
	stopOnce sync.Once
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
	t.skipLong = cfg.String("max.line.action") == "skip"
	t.pollEvery = cfg.Duration("poll.interval.ms")
	t.wake = make(chan struct{}, 1)
	t.stop = make(chan struct{})
	if t.path == "" {
		t.stdin = newStdinReader(os.Stdin, t.stop)
		t.log.Info("reading standard input", "topic", t.topic)
		return nil
	}
	t.log = t.log.With("file", t.path)
	t.key = map[string]any{"filename": t.path}
	dir := filepath.Dir(t.path)
	if st, err := os.Stat(dir); err != nil {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "is in folder " + dir + ", which does not exist"}
	} else if !st.IsDir() {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "is in " + dir + ", which is not a folder"}
	}
	stored, hasStored, err := tc.Offset(t.key)
	if err != nil {
		return err
	}
	f, err := os.Open(t.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.log.Info("waiting for the file to be created")
		t.waiting = true
	case err != nil:
		return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "cannot be read: " + err.Error()}
	default:
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("stat %s: %w", t.path, err)
		}
		if fi.IsDir() {
			f.Close()
			return &config.Error{Source: cfg.Source(), Key: "file", Value: t.path, Reason: "is a folder, not a file"}
		}
		t.f, t.id = f, identityOf(fi)
		t.sp = connect.NewSourcePartition(t.key, t.id)
		pos, found, err := tc.LastProduced(ctx, t.topic, t.sp)
		if err != nil {
			f.Close()
			return err
		}
		switch {
		case found:
			t.log.Info("resuming after the last line found in the topic", "position", pos)
		case hasStored && (stored.Identity == "" || stored.Identity == t.id):
			pos = stored.Position
			t.log.Info("resuming at the stored position", "position", pos)
		case hasStored:
			pos = 0
			t.log.Info("the file was replaced since the stored position was saved; reading it from the start")
		case cfg.String("read.from") == "end":
			pos = fi.Size()
			t.log.Info("no stored position; reading from the end", "position", pos)
		default:
			pos = 0
		}
		if pos > fi.Size() {
			t.log.Warn("the file is shorter than the position to resume at; it was truncated, reading it from the start", "position", pos, "size", fi.Size())
			pos = 0
		}
		t.pos = pos
		t.setProgress(pos, fi.Size())
	}
	t.startWatcher(dir)
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

// Progress reports the position reached and the file's size.
func (t *Task) Progress() connect.Progress {
	t.progMu.Lock()
	defer t.progMu.Unlock()
	return connect.Progress{ReadBytes: t.sent, SizeBytes: t.size}
}

// Stop closes the file and the watcher.
func (t *Task) Stop() error {
	t.stopOnce.Do(func() {
		close(t.stop)
		if t.watcher != nil {
			t.watcher.Close()
		}
		t.wg.Wait()
		if t.f != nil {
			t.f.Close()
		}
	})
	return nil
}

// Poll returns the next complete lines, waiting for some.
func (t *Task) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if t.stdin != nil {
		return t.pollStdin(ctx)
	}
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for {
		if recs := t.emit(); len(recs) > 0 {
			return recs, nil
		}
		n, trunc, err := t.fill()
		if err != nil {
			return nil, err
		}
		if trunc {
			t.truncated(-1)
			continue
		}
		if n > 0 {
			continue
		}
		switched, recs, err := t.check()
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 {
			return recs, nil
		}
		if switched {
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

// emit cuts up to batch.size complete lines from the buffer.
func (t *Task) emit() []connect.SourceRecord {
	if t.f == nil && t.buf == nil {
		return nil
	}
	recs := t.recs[:0]
	base := t.pos - int64(len(t.buf)) // file offset of buf[0]
	for len(recs) < t.batch && t.off < len(t.buf) {
		rest := t.buf[t.off:]
		lim := min(len(rest), t.maxLine+1)
		i := bytes.IndexByte(rest[:lim], '\n')
		if i < 0 {
			if len(rest) <= t.maxLine {
				break // a partial line: wait for the rest
			}
			at := base + int64(t.off)
			piece := rest[:t.maxLine:t.maxLine]
			t.off += t.maxLine
			if t.skipping {
				continue
			}
			if t.skipLong {
				t.log.Warn("skipping a line longer than max.line.bytes", "offset", at, "max.line.bytes", t.maxLine)
				t.skipping = true
				continue
			}
			t.log.Warn("splitting a line longer than max.line.bytes", "offset", at, "max.line.bytes", t.maxLine)
			recs = append(recs, t.record(piece, base+int64(t.off)))
			continue
		}
		line := rest[:i:i]
		t.off += i + 1
		if t.skipping {
			t.skipping = false
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[: n-1 : n-1]
		}
		recs = append(recs, t.record(line, base+int64(t.off)))
	}
	if len(recs) > 0 {
		t.progMu.Lock()
		t.sent = recs[len(recs)-1].Position
		t.progMu.Unlock()
	}
	t.recs = nil // handed over: the worker owns the slice now
	return recs
}

func (t *Task) record(line []byte, pos int64) connect.SourceRecord {
	if line == nil {
		line = []byte{}
	}
	return connect.SourceRecord{Source: t.sp, Position: pos, Topic: t.topic, Value: line}
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
	}
	rest := t.buf[t.off:]
	nb := make([]byte, len(rest), len(rest)+readChunk)
	copy(nb, rest)
	n, err = t.f.ReadAt(nb[len(rest):cap(nb)], t.pos)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, false, fmt.Errorf("read %s: %w", t.path, err)
	}
	if n == 0 {
		return 0, false, nil
	}
	t.buf = nb[:len(rest)+n]
	t.off = 0
	t.pos += int64(n)
	t.sig = [sigSize]byte{}
	t.sigLen = min(sigSize, len(t.buf))
	copy(t.sig[:], t.buf[len(t.buf)-t.sigLen:])
	return n, false, nil
}

// truncated starts the file again from 0 after it shrank.
func (t *Task) truncated(size int64) {
	t.log.Warn("the file was truncated; reading it again from the start", "position", t.pos, "size", size)
	t.pos, t.buf, t.off, t.skipping, t.sigLen = 0, nil, 0, false, 0
	t.sig = [sigSize]byte{}
	t.setProgress(0, size)
}

// check looks for truncation, rotation and creation at the end of the
// current file. It returns whether reading should go on at once, and the
// last line of a finished file that had no newline.
func (t *Task) check() (bool, []connect.SourceRecord, error) {
	if t.f == nil {
		return t.open(), nil, nil
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
	pfi, err := os.Stat(t.path)
	if err != nil {
		return false, nil, nil // renamed or deleted, not yet recreated: keep the old file
	}
	if identityOf(pfi) == t.id && !deleted(fi) {
		return false, nil, nil
	}
	if pfi.Size() == 0 && !deleted(fi) {
		// A new, empty file beside the renamed one: the writer may still
		// be writing to the old one.
		return false, nil, nil
	}
	// The old file is done: one last read to its end, then switch.
	if n, trunc, err := t.fill(); err != nil || n > 0 || trunc {
		if trunc {
			t.truncated(-1)
		}
		return true, nil, err
	}
	var recs []connect.SourceRecord
	if rest := t.buf[t.off:]; len(rest) > 0 && !t.skipping {
		recs = append(recs, t.record(rest[:len(rest):len(rest)], t.pos))
	}
	t.log.Info("the file was rotated; reading the new one from the start", "old_position", t.pos)
	t.f.Close()
	t.f, t.buf, t.off, t.skipping, t.sigLen = nil, nil, 0, false, 0
	t.open()
	return true, recs, nil
}

// open opens the file at the path from its start, when it exists.
func (t *Task) open() bool {
	f, err := os.Open(t.path)
	if err != nil {
		if !t.waiting {
			t.log.Info("waiting for the file to be created")
			t.waiting = true
		}
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		return false
	}
	if t.waiting {
		t.log.Info("the file exists now; reading it")
		t.waiting = false
	}
	t.f, t.id, t.pos = f, identityOf(fi), 0
	t.sp = connect.NewSourcePartition(t.key, t.id)
	t.setProgress(0, fi.Size())
	return true
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
func (t *Task) String() string { return "FileStreamSource(" + strconv.Quote(t.path) + ")" }
