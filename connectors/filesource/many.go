package filesource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/connect"
	"github.com/tributary-io/tributary/connectors/internal/fileident"
)

// many reads every file that files matches: each path is read by a Task of
// its own (a stream), with its own source partition ({"filename": path})
// and stored position, as if it were the file of its own connector. The
// set finds the files, watches their folders, and steps the streams in
// turn from the one goroutine that polls.
//
// A file renamed within the set (access.log to access.log-20261204,
// access.log.1 to access.log.2) is one file with two paths. The stream of
// the path it was read under finishes it, as it finishes any rotated file;
// the stream of its new path waits (deferred) until then, and goes on from
// where the first one ended, storing that position for its own path first
// (an offset without a record), so that a restart does not read the file
// again under its new name. Which stream reads a file is decided by the
// file's device and inode while it is open, and by the proof of the
// position (checksums) when it is handed over.
type many struct {
	top   *Task // the connector's task: settings, context, wake and stop
	pats  []pattern
	excl  []pattern
	batch int

	scanEvery     time.Duration
	closeInactive time.Duration
	maxOpen       int
	ignoreOlder   time.Duration
	cleanRemoved  time.Duration
	removed       map[string]time.Time // paths of dropped streams, since when
	tooMany       bool                 // more than files.max.open grow at once: logged
	lastScan      time.Time

	// Used by the polling goroutine only.
	streams  map[string]*Task
	order    []*Task // stepped in turn from next
	next     int
	finished map[string]handoff // files finished, by device and inode
	starting bool               // the first look: only files whose stored position is proven start
	initial  bool               // the files found as the task starts, which a run before may have read
	failErr  error              // returned by the next poll, after the lines before it
	logged   map[string]string  // problem logged per path, once until it changes

	listMu sync.Mutex // guards changes of order, for Progress

	watcher  *fsnotify.Watcher
	watched  map[string]bool
	limitHit bool

	mu      sync.Mutex // guards the fields below, set by the event goroutine
	dirty   map[string]bool
	all     bool
	rescan  bool
	created map[string]bool // names made since the last look at them
}

// handoff is where a finished file ended: its last position under the path
// it was read as, with the proof of that position.
type handoff struct {
	path     string
	base     string // device and inode
	identity string // the identity its records carried
	pos      int64
	proof    string
}

// errLater: the file cannot be started on the first look (its position is
// not proven), but after those that can.
var errLater = errors.New("filesource: started after the proven files")

// startMany checks files and files.exclude, finds the files, and starts a
// stream for each: first those whose stored position is proven (so that
// they hold the files they read), then the others.
func (t *Task) startMany(ctx context.Context, cfg *config.Values) error {
	if cfg.IsSet("file") {
		return &config.Error{Source: cfg.Source(), Key: "files", Value: strings.Join(cfg.List("files"), ","), Reason: "cannot be set with file; list the file in files"}
	}
	if cfg.IsSet("file.seed") {
		return &config.Error{Source: cfg.Source(), Key: "file.seed", Value: cfg.String("file.seed"), Reason: "applies to file, not to files"}
	}
	m := &many{top: t, batch: t.batch, streams: map[string]*Task{}, finished: map[string]handoff{}, logged: map[string]string{},
		watched: map[string]bool{}, dirty: map[string]bool{}, created: map[string]bool{},
		scanEvery: cfg.Duration("files.scan.interval.ms"), closeInactive: cfg.Duration("file.close.inactive.ms"),
		maxOpen: cfg.Int("files.max.open"), ignoreOlder: cfg.Duration("file.ignore.older.ms"), cleanRemoved: cfg.Duration("file.clean.removed.ms"),
		removed: map[string]time.Time{}}
	for _, text := range cfg.List("files") {
		p, err := parsePattern(text, false)
		if err != nil {
			return &config.Error{Source: cfg.Source(), Key: "files", Value: text, Reason: err.Error()}
		}
		m.pats = append(m.pats, p)
	}
	if len(m.pats) == 0 {
		return &config.Error{Source: cfg.Source(), Key: "files", Value: "", Reason: "names no file; give paths or patterns, separated by commas"}
	}
	for _, text := range cfg.List("files.exclude") {
		p, err := parsePattern(text, true)
		if err != nil {
			return &config.Error{Source: cfg.Source(), Key: "files.exclude", Value: text, Reason: err.Error()}
		}
		m.excl = append(m.excl, p)
	}
	t.set = m
	if w, err := fsnotify.NewWatcher(); err != nil {
		t.log.Info("file change events unavailable; looking for changes periodically", "interval", t.pollEvery, "err", err)
	} else {
		m.watcher = w
		t.wg.Add(1)
		go m.events(w) // owned by Stop: ends when the watcher is closed
	}
	m.starting, m.initial = true, true
	later := m.scan(ctx)
	m.starting = false
	for _, path := range later {
		m.add(ctx, path)
	}
	// A file renamed into the set while the streams started (after the
	// first look) may hold lines read under its old name that no stream
	// is finishing: it is looked up in the topic as the files found first
	// are, not taken for a new one.
	m.scan(ctx)
	m.initial = false
	// Stored positions of files gone while the worker was stopped are
	// forgotten after file.clean.removed.ms, as those of files that go
	// while it runs.
	for _, part := range t.tc.StoredPartitions() {
		path, ok := part["filename"].(string)
		if !ok || m.streams[path] != nil {
			continue
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && m.matches(path) {
			m.removed[path] = time.Now()
		}
	}
	t.log.Info("reading files", "files", strings.Join(cfg.List("files"), ","), "found", len(m.order))
	return ctx.Err()
}

// events turns change events into paths to look at and new looks over the
// folders.
func (m *many) events(w *fsnotify.Watcher) {
	defer m.top.wg.Done()
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			name := filepath.Clean(ev.Name)
			m.mu.Lock()
			m.dirty[name] = true
			if ev.Has(fsnotify.Create) {
				// A new name (made, or a rename's target): looked at
				// alone, not by going through every folder again.
				m.created[name] = true
			}
			m.mu.Unlock()
			m.top.poke()
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflowed queue lost events: look at everything.
			m.mu.Lock()
			m.all, m.rescan = true, true
			m.mu.Unlock()
			m.top.poke()
		}
	}
}

// scan looks for files, starts a stream for each new one, and returns the
// paths that must wait for the others (while starting).
func (m *many) scan(ctx context.Context) []string {
	f := expand(m.pats, m.excl)
	m.lastScan = time.Now()
	for path, err := range f.problems {
		m.problem(path, "cannot look in "+path+"; files there are not found until it can be read", err)
	}
	m.watch(f.dirs)
	var fresh []string
	bases := make(map[string]bool, len(f.files))
	for path, fi := range f.files {
		bases[fileident.Of(fi)] = true
		delete(m.removed, path)
		if _, ok := m.streams[path]; !ok {
			fresh = append(fresh, path)
		}
	}
	slices.Sort(fresh)
	var later []string
	for _, path := range fresh {
		if ctx.Err() != nil {
			break
		}
		if m.add(ctx, path) {
			later = append(later, path)
		}
	}
	for base := range m.finished {
		if !bases[base] {
			delete(m.finished, base) // gone from the set: nobody takes it over
		}
	}
	return later
}

// lookAt starts streams for the names made since the last look that the
// set reads; a new folder (which ** patterns may reach into) makes the next
// poll look through everything.
func (m *many) lookAt(ctx context.Context, names map[string]bool) {
	fresh := make([]string, 0, len(names))
	for name := range names {
		if _, ok := m.streams[name]; ok {
			continue
		}
		fi, err := os.Stat(name)
		switch {
		case err != nil:
		case fi.IsDir():
			m.mu.Lock()
			m.rescan = true
			m.mu.Unlock()
		case fi.Mode().IsRegular() && m.matches(name):
			fresh = append(fresh, name)
		}
	}
	slices.Sort(fresh)
	for _, name := range fresh {
		m.add(ctx, name)
	}
}

// lookIn starts streams for the files of dir that the set reads and has no
// stream for: a rotated file's new name, found when the file is finished.
func (m *many) lookIn(ctx context.Context, dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	names := map[string]bool{}
	for _, e := range ents {
		name := filepath.Join(dir, e.Name())
		if _, ok := m.streams[name]; !ok && !e.IsDir() && m.matches(name) {
			names[name] = true
		}
	}
	m.lookAt(ctx, names)
}

// add starts the stream of a path; it reports whether the path must wait
// for the proven ones (first look only).
func (m *many) add(ctx context.Context, path string) (later bool) {
	t := m.top
	s := &Task{log: t.log.With("file", path), batch: t.batch, maxLine: t.maxLine, overflow: t.overflow, pollEvery: t.pollEvery,
		tc: t.tc, wake: t.wake, stop: t.stop, m: m, grew: time.Now(), ml: t.ml}
	s.setPath(path, t.tc.Config)
	err := s.startPath(ctx)
	switch {
	case errors.Is(err, errLater):
		return true
	case err != nil:
		s.closeFiles()
		m.problem(path, "cannot read "+path+"; trying again at the next look", err)
		return false
	}
	delete(m.logged, path)
	m.listMu.Lock()
	m.streams[path] = s
	m.order = append(m.order, s)
	m.listMu.Unlock()
	s.busy = true
	if !m.starting {
		s.log.Info("found a new file")
	}
	return false
}

// problem logs a problem with a path once, until it changes.
func (m *many) problem(path, msg string, err error) {
	text := msg + ": " + err.Error()
	if m.logged[path] == text {
		return
	}
	m.logged[path] = text
	m.top.log.Warn(msg, "err", err)
}

// watch adds the folders to the watcher, and removes those no longer
// needed. A full watch table (fs.inotify.max_user_watches) is reported
// once: those folders are then looked at every files.scan.interval.ms.
func (m *many) watch(dirs map[string]bool) {
	if m.watcher == nil {
		return
	}
	for d := range dirs {
		if m.watched[d] {
			continue
		}
		err := m.watcher.Add(d)
		switch {
		case err == nil:
			m.watched[d] = true
		case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE):
			if !m.limitHit {
				m.limitHit = true
				m.top.log.Warn("the limit of watched folders is reached (fs.inotify.max_user_watches, or max_user_instances); the folders beyond it are looked at every files.scan.interval.ms instead, and their appends are seen every poll.interval.ms",
					"folder", d, "files.scan.interval.ms", m.scanEvery.Milliseconds(), "err", err)
			}
		}
	}
	for d := range m.watched {
		if !dirs[d] {
			m.watcher.Remove(d)
			delete(m.watched, d)
		}
	}
}

// poll returns the next lines of any file, waiting for some.
func (m *many) poll(ctx context.Context) ([]connect.SourceRecord, error) {
	if err := m.failErr; err != nil {
		return nil, err
	}
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for {
		m.mu.Lock()
		rescan := m.rescan || time.Since(m.lastScan) >= m.scanEvery
		created := m.created
		m.rescan, m.created = false, map[string]bool{}
		m.mu.Unlock()
		if rescan {
			m.scan(ctx)
		} else if len(created) > 0 {
			m.lookAt(ctx, created)
		}
		recs, err := m.round(ctx)
		if err != nil {
			if len(recs) > 0 {
				m.failErr = err
				return recs, nil
			}
			return nil, err
		}
		if len(recs) > 0 {
			return recs, nil
		}
		if tick == nil {
			tick = time.NewTicker(min(m.top.pollEvery, m.scanEvery))
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-m.top.wake:
		case <-tick.C:
			m.mu.Lock()
			m.all = true
			m.mu.Unlock()
		}
	}
}

// round steps the streams that may have something, in turn, until a batch
// is full.
func (m *many) round(ctx context.Context) ([]connect.SourceRecord, error) {
	m.mu.Lock()
	all, dirty := m.all, m.dirty
	m.all, m.dirty = false, map[string]bool{}
	m.mu.Unlock()
	var out []connect.SourceRecord
	var err error
	n := len(m.order)
	start := m.next
	for i := 0; i < n && len(out) < m.batch && err == nil; i++ {
		s := m.order[(start+i)%n]
		if s.dropped || !all && !s.busy && !dirty[s.path] {
			continue
		}
		again := true
		for again && len(out) < m.batch && err == nil {
			var recs []connect.SourceRecord
			recs, again, err = s.step(ctx)
			switch {
			case out == nil:
				out = recs // most polls take one file's lines: no copy
			case cap(out)-len(out) < len(recs):
				grown := make([]connect.SourceRecord, len(out), len(out)+max(len(recs), m.batch))
				copy(grown, out)
				out = append(grown, recs...)
			default:
				out = append(out, recs...)
			}
		}
		s.busy = again && err == nil
		m.next = (start + i + 1) % n
	}
	m.forgetDropped()
	m.closeIdle()
	if f := m.forgets(); len(f) > 0 {
		out = append(f, out...)
	}
	return out, err
}

// forgets returns the marks that remove the stored positions of files gone
// for file.clean.removed.ms.
func (m *many) forgets() []connect.SourceRecord {
	if m.cleanRemoved <= 0 {
		return nil
	}
	var out []connect.SourceRecord
	for path, since := range m.removed {
		if time.Since(since) < m.cleanRemoved {
			continue
		}
		delete(m.removed, path)
		if _, ok := m.streams[path]; ok {
			continue // back under the same path
		}
		out = append(out, connect.SourceRecord{Source: connect.NewSourcePartition(map[string]any{"filename": path}, ""), Mark: true, Forget: true})
		m.top.log.Info("forgetting the stored position of a file gone for file.clean.removed.ms", "gone", path)
	}
	return out
}

// closeIdle closes the files that have not grown for file.close.inactive.ms
// and, beyond files.max.open, the longest idle others.
func (m *many) closeIdle() {
	var open []*Task
	for _, s := range m.order {
		if s.f == nil || s.dropped {
			continue
		}
		if s.restful() && time.Since(s.grew) >= m.closeInactive {
			s.sleep()
			continue
		}
		open = append(open, s)
	}
	if len(open) <= m.maxOpen {
		return
	}
	slices.SortFunc(open, func(a, b *Task) int { return a.grew.Compare(b.grew) })
	closed := 0
	for _, s := range open {
		if len(open)-closed <= m.maxOpen {
			break
		}
		if s.restful() {
			s.sleep()
			closed++
		}
	}
	if !m.tooMany {
		m.tooMany = true
		m.top.log.Warn("more files are open than files.max.open; the longest idle are closed, and opened again when they grow", "files.max.open", m.maxOpen, "open", len(open))
	}
}

// restful reports whether a stream's file may be closed and opened again
// later: it is the file at its path, with nothing queued behind it.
func (t *Task) restful() bool {
	return t.f != nil && !t.idle && len(t.queue) == 0 && !t.catchUp && !t.deferred
}

// sleep closes the file for lack of growth; what was read stays, and the
// file is opened again by identity when it grows (awake).
func (t *Task) sleep() {
	t.f.Close()
	t.f, t.idle = nil, true
}

// awake looks whether a closed idle file grew, at its path or, rotated
// meanwhile, under another name in its folder, and opens it again; it
// reports whether reading goes on. A file that is gone is finished with
// what was read of it (a last line without its newline included).
func (t *Task) awake() ([]connect.SourceRecord, bool) {
	fi, err := os.Stat(t.path)
	if err == nil && fileident.Of(fi) == t.id {
		if fi.Size() == t.pos {
			return nil, false
		}
		return nil, t.reopen(t.path)
	}
	// Rotated or gone while closed: the file may still be in the folder.
	if name := findIdentity(filepath.Dir(t.path), t.id); name != "" {
		return nil, t.reopen(name)
	}
	recs := t.flushEvent(t.ready)
	t.ready = nil
	if rest := t.buf[t.off:]; len(rest) > 0 && !t.skipping {
		recs = append(recs, t.record(rest[:len(rest):len(rest)], t.pos-int64(len(rest)), t.pos))
	}
	t.buf, t.off, t.skipping, t.splitting, t.sigLen, t.held = nil, 0, false, false, 0, nil
	t.idle = false
	if err != nil {
		t.dropped = true
		t.log.Info("the file was removed while closed for lack of growth", "position", t.pos)
	}
	return recs, err == nil
}

// reopen opens name again as the idle stream's file, if it still is.
func (t *Task) reopen(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	if fi, err := f.Stat(); err != nil || fileident.Of(fi) != t.id {
		f.Close()
		return false
	}
	t.f, t.idle, t.grew = f, false, time.Now()
	return true
}

// findIdentity returns the name in dir of the file of device and inode
// base, or "".
func findIdentity(dir, base string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(name); err == nil && fileident.Of(fi) == base {
			return name
		}
	}
	return ""
}

// forgetDropped removes the streams whose files are finished for good.
func (m *many) forgetDropped() {
	if !slices.ContainsFunc(m.order, func(s *Task) bool { return s.dropped }) {
		return
	}
	m.listMu.Lock()
	defer m.listMu.Unlock()
	for _, s := range m.order {
		if s.dropped {
			s.closeFiles()
			delete(m.streams, s.path)
			m.removed[s.path] = time.Now()
		}
	}
	m.order = slices.DeleteFunc(m.order, func(s *Task) bool { return s.dropped })
	if m.next >= len(m.order) {
		m.next = 0
	}
}

// matches reports whether the set reads path (a pattern matches it and no
// exclusion does).
func (m *many) matches(path string) bool {
	path = filepath.Clean(path)
	for i := range m.excl {
		if m.excl[i].matches(path) {
			return false
		}
	}
	for i := range m.pats {
		if p := &m.pats[i]; p.matches(path) && (p.compressed || !isCompressed(path)) {
			return true
		}
	}
	return false
}

// owner returns the stream (not self) that has the file of device and
// inode base open, or queued to finish.
func (m *many) owner(base string, self *Task) *Task {
	for _, s := range m.order {
		if s == self || s.dropped {
			continue
		}
		if (s.f != nil || s.idle) && s.id == base {
			return s
		}
		for _, r := range s.queue {
			if r.id == base {
				return s
			}
		}
	}
	return nil
}

// finish records that a stream finished a file, and hands the file over to
// the stream of the path it is now at, if in the set: it returns that
// stream's offset, to be stored before the finishing stream's position
// moves on to its next file.
func (m *many) finish(ctx context.Context, h handoff) []connect.SourceRecord {
	m.finished[h.base] = h
	m.lookIn(ctx, filepath.Dir(h.path))
	var marks []connect.SourceRecord
	for _, s := range m.order {
		if s.f == nil && s.deferred && !s.dropped {
			s.open(ctx)
		}
		if s.mark != nil && baseOf(s.mark.Source.Identity()) == h.base {
			marks = append(marks, *s.mark)
			s.mark = nil
		}
	}
	return marks
}

// claimed reports whether the file just opened at the path (t.f) is still
// being read as another path's file; the task closes it and waits for that
// stream to finish it.
func (t *Task) claimed() bool {
	if t.m == nil {
		return false
	}
	owner := t.m.owner(t.id, t)
	if owner == nil {
		return false
	}
	t.f.Close()
	t.f, t.sp = nil, nil
	if !t.deferred {
		t.deferred = true
		t.log.Info("the file at this path is still being read as " + owner.path + "; it is read from where that ends")
	}
	return true
}

// handed reports whether the file just opened (t.f, of size size) was
// finished under another path, with the proof of where; from is then that
// position, and the task's first record stores it for this path.
func (t *Task) handed(size int64, from *connect.SourceOffset) bool {
	h, ok := t.m.finished[t.id]
	if !ok || h.pos > size || h.path == t.path {
		return false
	}
	if proof, ok := proofOf(h.pos, readFull(t.f)); !ok || proof != h.proof {
		return false
	}
	t.deferred = false
	from.Position = h.pos
	t.sp = connect.NewSourcePartition(t.key, h.identity)
	t.mark = &connect.SourceRecord{Source: t.sp, Start: h.pos, Position: h.pos, Proof: h.proof, Topic: t.topic, Mark: true}
	t.log.Info("the file was read as "+h.path+"; going on from where that ended", "position", h.pos)
	return true
}

// closeFiles closes what a stream has open.
func (t *Task) closeFiles() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	for _, r := range t.queue {
		r.f.Close()
	}
	t.queue = nil
}

// progress sums the streams' progress.
func (m *many) progress() connect.Progress {
	m.listMu.Lock()
	defer m.listMu.Unlock()
	var p connect.Progress
	for _, s := range m.order {
		sp := s.Progress()
		p.ReadBytes += sp.ReadBytes
		p.SizeBytes += sp.SizeBytes
		p.Oversized.Split += sp.Oversized.Split
		p.Oversized.Truncated += sp.Oversized.Truncated
		p.Oversized.Skipped += sp.Oversized.Skipped
	}
	return p
}

// stop closes every stream's files; the poll has ended.
func (m *many) stop() {
	if m.watcher != nil {
		m.watcher.Close()
	}
	m.top.wg.Wait()
	m.listMu.Lock()
	defer m.listMu.Unlock()
	for _, s := range m.order {
		s.closeFiles()
	}
}

// topicFor returns the topic of a file: the topic setting with ${filename}
// replaced by the file's base name, its characters outside Kafka's legal
// ones (letters, digits, '.', '_', '-') replaced by '_'.
func topicFor(template, path string) string {
	if !strings.Contains(template, "${filename}") {
		return template
	}
	name := []byte(filepath.Base(path))
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			name[i] = '_'
		}
	}
	topic := strings.ReplaceAll(template, "${filename}", string(name))
	if len(topic) > maxTopicLen {
		topic = topic[:maxTopicLen]
	}
	return topic
}

// maxTopicLen is Kafka's longest topic name.
const maxTopicLen = 249

// topicTemplate validates topic: a topic name, where ${filename} may stand
// for the file's base name.
func topicTemplate() config.Validator {
	return func(v any) error {
		s, _ := v.(string)
		if err := config.TopicName(strings.ReplaceAll(s, "${filename}", "f")); err != nil {
			if strings.Contains(s, "${") {
				return fmt.Errorf("%w (the only placeholder is ${filename})", err)
			}
			return err
		}
		return nil
	}
}
