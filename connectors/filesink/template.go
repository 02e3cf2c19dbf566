package filesink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/config/atomicfile"
	"github.com/tributary-io/tributary/connect"
)

// files writes each record to the file its topic (and partition) names:
// file is a template, /var/archive/${topic}.log. Each file has a Task of
// its own (following, rotation and full disks as with one file), opened
// when its first record comes.
//
// Exactly once: the state of a flush lists every file with its size,
// {"files":[{"file":...,"size":...,"gen":...},...]}, and a restart cuts
// each back to it. A file made (or first written) after the last commit
// is in no committed state; before its first write its size then is noted
// in a journal beside the files (.<connector>.tributary-sink.json, written
// through a temporary file and fsynced), and a restart cuts such a file
// back to that size, so what was written to it after the commit is not
// there twice. Journal entries of files that a committed state holds are
// dropped on restart.
type files struct {
	task     *Task // the connector's task: its stopped channel and log
	tc       *connect.SinkTaskContext
	template string
	mu       sync.Mutex // guards byPath: Stop may come from another goroutine
	byPath   map[string]*Task
	journal  string           // path of the journal
	started  map[string]int64 // the journal: sizes before the first write since the last commit
	known    map[string]bool  // files the committed state holds
	warned   bool             // the state may not fit: said once
	opened   bool             // the run's first assignment was opened
	noHeader bool             // a record without a file header: said once
}

// hasTemplate reports whether file names a file per topic (or holds a
// placeholder that startFiles refuses).
func hasTemplate(file string) bool {
	return strings.Contains(file, "${")
}

// startFiles checks the template and reads the journal.
func (t *Task) startFiles(tc *connect.SinkTaskContext, name string) error {
	cfg := tc.Config
	rest := name
	for _, p := range placeholders {
		rest = strings.ReplaceAll(rest, p, "")
	}
	if strings.Contains(rest, "${") {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: "has a placeholder other than ${topic}, ${partition} and ${filename}"}
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: err.Error()}
	}
	// The journal goes in the last folder before any placeholder, which
	// must exist.
	fixed := abs[:strings.Index(abs, "${")]
	dir := fixed
	if !strings.HasSuffix(fixed, string(filepath.Separator)) {
		dir = filepath.Dir(fixed)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return &config.Error{Source: cfg.Source(), Key: "file", Value: name, Reason: "is in folder " + dir + ", which does not exist"}
	}
	m := &files{task: t, tc: tc, template: abs, byPath: map[string]*Task{}, started: map[string]int64{}, known: map[string]bool{},
		journal: filepath.Join(dir, "."+safeName(tc.Connector)+".tributary-sink.json")}
	if b, err := os.ReadFile(m.journal); err == nil {
		if err := json.Unmarshal(b, &m.started); err != nil {
			return fmt.Errorf("sink journal %s: %w; remove it if no file of the sink was written since its last commit", m.journal, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sink journal %s: %w", m.journal, err)
	}
	t.files = m
	t.open = true
	return nil
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// placeholders are what file may hold: the record's topic and partition,
// and the base name of the file it was read from (its file header, as
// FileStreamSource with files sets it).
var placeholders = []string{"${topic}", "${partition}", "${filename}"}

// pathOf returns the file of a record.
func (m *files) pathOf(r *connect.SinkRecord) string {
	p := strings.ReplaceAll(m.template, "${topic}", r.Topic)
	p = strings.ReplaceAll(p, "${partition}", strconv.Itoa(int(r.Partition)))
	if strings.Contains(p, "${filename}") {
		p = strings.ReplaceAll(p, "${filename}", m.filename(r))
	}
	return p
}

// filename is the base name of the file a record was read from, from its
// file header; a record without one goes to a file named after its topic
// (said once).
func (m *files) filename(r *connect.SinkRecord) string {
	for _, h := range r.Headers {
		if h.Key != "file" {
			continue
		}
		name := filepath.Base(string(h.Value))
		if name == "." || name == ".." || name == string(filepath.Separator) || strings.ContainsRune(name, filepath.Separator) {
			break
		}
		return name
	}
	if !m.noHeader {
		m.noHeader = true
		m.task.log.Warn("a record has no file header naming the file it was read from; records without one go to a file named after their topic", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset)
	}
	return r.Topic
}

// ReadsHeaders reports whether the file names use records' headers.
func (t *Task) ReadsHeaders() bool {
	return t.files != nil && strings.Contains(t.files.template, "${filename}")
}

// fileStates is the state of a flush with a template.
type fileStates struct {
	Files []state `json:"files"`
}

// open cuts every file back to the newest committed flush (and those
// first written after it back to their size then), on the first
// assignment of a run; later assignments (a new topic matched by
// topics.regex, a rebalance) cut nothing.
func (m *files) open(ctx context.Context, states []string) (string, error) {
	if m.opened {
		return m.state(ctx, false)
	}
	m.opened = true
	best := map[string]state{}
	for _, s := range states {
		var fs fileStates
		if json.Unmarshal([]byte(s), &fs) != nil {
			continue
		}
		for _, st := range fs.Files {
			if b, ok := best[st.File]; !ok || st.Gen > b.Gen || st.Gen == b.Gen && st.Size > b.Size {
				best[st.File] = st
			}
		}
	}
	for path, st := range best {
		m.known[path] = true
		sub, err := m.sub(path)
		if err != nil {
			return "", err
		}
		one, _ := json.Marshal(st)
		if _, err := sub.Open(ctx, []string{string(one)}); err != nil {
			return "", err
		}
	}
	changed := false
	for path, size := range m.started {
		if m.known[path] {
			delete(m.started, path) // a commit holds it now
			changed = true
			continue
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Size() <= size {
			continue
		}
		if err := os.Truncate(path, size); err != nil {
			return "", fmt.Errorf("truncate %s to its size before the records written after the last commit: %w", path, err)
		}
		m.task.log.Info("dropped what was written after the last commit to a file the commit does not hold; it will be written again", "file", path, "bytes", fi.Size()-size, "size", size)
	}
	if changed {
		if err := m.saveJournal(); err != nil {
			return "", err
		}
	}
	return m.state(ctx, false)
}

// sub returns the task of a file, starting it when new.
func (m *files) sub(path string) (*Task, error) {
	m.mu.Lock()
	s := m.byPath[path]
	m.mu.Unlock()
	if s != nil {
		return s, nil
	}
	if !m.known[path] {
		if _, ok := m.started[path]; !ok {
			// First written since the last commit: note its size before.
			var size int64
			if fi, err := os.Stat(path); err == nil {
				size = fi.Size()
			}
			m.started[path] = size
			if err := m.saveJournal(); err != nil {
				return nil, err
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sink file %s: %w", path, err)
	}
	s = &Task{}
	if err := s.start(m.tc, path); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.task.isOpen() {
		s.Stop()
		return nil, errStopped
	}
	m.byPath[path] = s
	return s, nil
}

func (m *files) saveJournal() error {
	b, err := json.Marshal(m.started)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(m.journal, b, 0o644); err != nil {
		return fmt.Errorf("sink journal %s: %w", m.journal, err)
	}
	return nil
}

// put hands each file's records to its task, in the order they came.
func (m *files) put(ctx context.Context, records []connect.SinkRecord) error {
	var order []string
	groups := map[string][]connect.SinkRecord{}
	for i := range records {
		p := m.pathOf(&records[i])
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], records[i])
	}
	for _, p := range order {
		s, err := m.sub(p)
		if err != nil {
			return err
		}
		if err := s.Put(ctx, groups[p]); err != nil {
			return err
		}
	}
	return nil
}

// state flushes every file when flush is set, and returns the state of
// all of them.
func (m *files) state(ctx context.Context, flush bool) (string, error) {
	m.mu.Lock()
	paths := make([]string, 0, len(m.byPath))
	subs := make(map[string]*Task, len(m.byPath))
	for p, s := range m.byPath {
		paths = append(paths, p)
		subs[p] = s
	}
	m.mu.Unlock()
	slices.Sort(paths)
	fs := fileStates{Files: make([]state, 0, len(paths))}
	for _, p := range paths {
		s := subs[p]
		var one string
		var err error
		if flush {
			one, err = s.Flush(ctx)
		} else {
			s.mu.Lock()
			one = s.stateLocked()
			s.mu.Unlock()
		}
		if err != nil {
			return "", err
		}
		var st state
		if json.Unmarshal([]byte(one), &st) == nil {
			fs.Files = append(fs.Files, st)
		}
	}
	b, _ := json.Marshal(fs)
	if len(b) > 3500 && !m.warned {
		m.warned = true
		m.task.log.Warn("the sink's state names many files and may not fit in the broker's offset.metadata.max.bytes (4096 by default); a commit that fails for some partitions only may then repeat their records once", "bytes", len(b), "files", len(paths))
	}
	return string(b), nil
}

// stop stops every file's task.
func (m *files) stop() error {
	m.mu.Lock()
	subs := make([]*Task, 0, len(m.byPath))
	for _, s := range m.byPath {
		subs = append(subs, s)
	}
	m.mu.Unlock()
	var first error
	for _, s := range subs {
		if err := s.Stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// isOpen reports whether the task is not stopped.
func (t *Task) isOpen() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open
}
