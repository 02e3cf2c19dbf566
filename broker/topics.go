package broker

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/broker/storage"
	"github.com/tributary-io/tributary/config"
)

// topic is one topic's metadata. A topic value is never changed once
// published: altering its configs or partitions publishes a new value that
// shares the partitions.
type topic struct {
	name    string
	id      [16]byte
	configs map[string]string // overrides of the broker defaults
	parts   []*partition
}

// partition is one partition of a topic and its log. Fetches waiting for
// data register a channel that the next append signals.
type partition struct {
	topic  string
	index  int32
	logDir string // "" if the folder is missing and no log dir claims it
	log    *storage.Log
	// offline says why the partition cannot be served (its log dir
	// failed); log is nil then. Both are set before the partition is
	// published and never change.
	offline error

	nwait   atomic.Int32
	waitMu  sync.Mutex
	waiters map[chan struct{}]struct{}
}

// watch registers ch to be signalled (without blocking) at the next append
// or when the partition goes away.
func (p *partition) watch(ch chan struct{}) {
	p.waitMu.Lock()
	if p.waiters == nil {
		p.waiters = map[chan struct{}]struct{}{}
	}
	p.waiters[ch] = struct{}{}
	p.nwait.Store(int32(len(p.waiters)))
	p.waitMu.Unlock()
}

func (p *partition) unwatch(ch chan struct{}) {
	p.waitMu.Lock()
	delete(p.waiters, ch)
	p.nwait.Store(int32(len(p.waiters)))
	p.waitMu.Unlock()
}

// notify wakes every registered waiter.
func (p *partition) notify() {
	if p.nwait.Load() == 0 {
		return
	}
	p.waitMu.Lock()
	for ch := range p.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.waitMu.Unlock()
}

func (p *partition) dir() string {
	return filepath.Join(p.logDir, p.topic+"-"+strconv.Itoa(int(p.index)))
}

// topicMap is an immutable snapshot of every topic.
type topicMap struct {
	byName map[string]*topic
	byID   map[[16]byte]*topic
	// foldCase: a log dir's file system ignores case, so names that
	// differ only in case would share folders.
	foldCase bool
	// deleted holds the names of topics deleted less than
	// deletedTopicNoAutoCreate ago, with when; Metadata does not
	// auto-create them meanwhile.
	deleted map[string]time.Time
}

// deletedTopicNoAutoCreate is how long after a topic is deleted Metadata
// refuses to auto-create it again (UNKNOWN_TOPIC_OR_PARTITION, which
// clients retry): the clients that were using it learn of the deletion
// instead of bringing it back with their next Metadata request. Kafka 4
// has no such rule (its Metadata recreates a deleted topic at once, as the
// auto-creation of a missing topic), but its deletion and the
// asynchronous auto-creation each take a moment, while here both are
// immediate. CreateTopics is not affected.
const deletedTopicNoAutoCreate = 5 * time.Second

// recentDeletions copies m.deleted without the entries older than
// deletedTopicNoAutoCreate.
func (m *topicMap) recentDeletions(now time.Time) map[string]time.Time {
	var out map[string]time.Time
	for name, at := range m.deleted {
		if now.Sub(at) < deletedTopicNoAutoCreate {
			if out == nil {
				out = map[string]time.Time{}
			}
			out[name] = at
		}
	}
	return out
}

// deletedRecently reports whether name was deleted less than
// deletedTopicNoAutoCreate ago.
func (m *topicMap) deletedRecently(name string) bool {
	at, ok := m.deleted[name]
	return ok && time.Since(at) < deletedTopicNoAutoCreate
}

func (m *topicMap) with(t *topic) *topicMap {
	n := &topicMap{byName: maps.Clone(m.byName), byID: maps.Clone(m.byID), foldCase: m.foldCase, deleted: m.recentDeletions(time.Now())}
	if old := n.byName[t.name]; old != nil {
		delete(n.byID, old.id)
	}
	delete(n.deleted, t.name)
	n.byName[t.name] = t
	n.byID[t.id] = t
	return n
}

// without removes a deleted topic, remembering when.
func (m *topicMap) without(name string) *topicMap {
	now := time.Now()
	n := &topicMap{byName: maps.Clone(m.byName), byID: maps.Clone(m.byID), foldCase: m.foldCase, deleted: m.recentDeletions(now)}
	if t := n.byName[name]; t != nil {
		delete(n.byID, t.id)
		delete(n.byName, name)
		if n.deleted == nil {
			n.deleted = map[string]time.Time{}
		}
		n.deleted[name] = now
	}
	return n
}

func (m *topicMap) sortedNames() []string {
	names := slices.Collect(maps.Keys(m.byName))
	sort.Strings(names)
	return names
}

// topics returns the current snapshot; lock-free.
func (b *Broker) topics() *topicMap { return b.topicSnap.Load() }

// partition looks up a partition; lock-free.
func (b *Broker) partition(topicName string, index int32) (*topic, *partition) {
	t := b.topics().byName[topicName]
	if t == nil {
		return nil, nil
	}
	if index < 0 || int(index) >= len(t.parts) {
		return t, nil
	}
	return t, t.parts[index]
}

// PartitionEnd is the log end offset of a partition (group.Topics); 0 for
// a partition whose log dir is offline (it exists all the same).
func (b *Broker) PartitionEnd(topicName string, index int32) (int64, bool) {
	_, p := b.partition(topicName, index)
	if p == nil {
		return 0, false
	}
	if p.offline != nil {
		return 0, true
	}
	return p.log.EndOffset(), true
}

// validateTopicName applies Kafka's rules for topic names (config.TopicName),
// with Kafka's messages. Such a name can never leave the log folder when
// used as part of a path.
func validateTopicName(name string) error {
	return config.TopicName(name)
}

// collides reports an existing topic that differs from name only by '.'
// versus '_', which Kafka forbids (their metric names would clash), or,
// when a log dir's file system ignores case, only by case (their folders
// would be one).
func (m *topicMap) collides(name string) string {
	if !m.foldCase && !strings.ContainsAny(name, "._") {
		return ""
	}
	norm := m.normalize(name)
	for other := range m.byName {
		if other != name && m.normalize(other) == norm {
			return other
		}
	}
	return ""
}

func (m *topicMap) normalize(name string) string {
	name = config.TopicCollisionKey(name)
	if m.foldCase {
		name = strings.ToLower(name)
	}
	return name
}

// caseInsensitive reports whether dir's file system ignores case in
// names, by creating a file and looking it up in another case.
func caseInsensitive(dir string) (bool, error) {
	f, err := os.CreateTemp(dir, ".Case-Probe-*")
	if err != nil {
		return false, fmt.Errorf("probe the log dir's file system: %w", err)
	}
	f.Close()
	defer os.Remove(f.Name())
	_, err = os.Stat(filepath.Join(dir, strings.ToLower(filepath.Base(f.Name()))))
	return err == nil, nil
}

func newTopicID() [16]byte {
	for {
		var id [16]byte
		rand.Read(id[:])
		id[6] = id[6]&0x0f | 0x40 // version 4
		id[8] = id[8]&0x3f | 0x80
		if id != ([16]byte{}) {
			return id
		}
	}
}

func topicIDString(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// Topic metadata lives in the first log dir, in topics.json:
//
//	{"version": 1, "topics": [{"name": "orders", "id": "<base64url>",
//	  "partitions": 3, "configs": {"retention.ms": "3600000"}}]}
//
// It is replaced atomically on every change. A partition folder found in a
// log dir without an entry there is adopted as a topic with default
// configs, rather than ignored or deleted.
const topicsFile = "topics.json"

type topicsFileJSON struct {
	Version int             `json:"version"`
	Topics  []topicFileJSON `json:"topics"`
}

type topicFileJSON struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Partitions int               `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

func (b *Broker) readTopicsFile() ([]topicFileJSON, error) {
	data, err := os.ReadFile(filepath.Join(b.cfg.LogDirs[0], topicsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f topicsFileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", topicsFile, err)
	}
	return f.Topics, nil
}

// persistTopics writes m to topics.json. metaMu is held.
func (b *Broker) persistTopics(m *topicMap) error {
	f := topicsFileJSON{Version: 1, Topics: []topicFileJSON{}}
	for _, name := range m.sortedNames() {
		t := m.byName[name]
		f.Topics = append(f.Topics, topicFileJSON{Name: t.name, ID: topicIDString(t.id), Partitions: len(t.parts), Configs: t.configs})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return storage.WriteFileAtomic(b.cfg.LogDirs[0], topicsFile, append(data, '\n'))
}

// partitionDirName matches a partition folder, <topic>-<partition>.
var partitionDirName = regexp.MustCompile(`^(.+)-(0|[1-9][0-9]{0,9})$`)

// deleteSuffix marks a folder of a deleted partition, renamed away before
// it is removed; such folders are removed on start-up.
const deleteSuffix = "-delete"

// scanLogDirs finds the partition folders in every log dir.
func (b *Broker) scanLogDirs() (map[string]map[int32]string, error) {
	found := map[string]map[int32]string{}
	for _, dir := range b.cfg.LogDirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read log dir: %w", err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			name := e.Name()
			if strings.HasSuffix(name, deleteSuffix) {
				b.log.Info("removing the folder of a deleted partition", "dir", filepath.Join(dir, name))
				os.RemoveAll(filepath.Join(dir, name))
				continue
			}
			m := partitionDirName.FindStringSubmatch(name)
			if m == nil || validateTopicName(m[1]) != nil {
				continue
			}
			n, err := strconv.ParseInt(m[2], 10, 32)
			if err != nil {
				continue
			}
			if found[m[1]] == nil {
				found[m[1]] = map[int32]string{}
			}
			if prev, dup := found[m[1]][int32(n)]; dup {
				return nil, fmt.Errorf("partition %s is in two log dirs, %s and %s", name, prev, dir)
			}
			found[m[1]][int32(n)] = dir
		}
	}
	return found, nil
}

// pickLogDir returns the online log dir holding the fewest partitions.
// (The first log dir is always online: the broker does not start without
// it.)
func (b *Broker) pickLogDir(extra map[string]int) string {
	if len(b.cfg.LogDirs) == 1 {
		return b.cfg.LogDirs[0]
	}
	count := map[string]int{}
	for _, t := range b.topics().byName {
		for _, p := range t.parts {
			count[p.logDir]++
		}
	}
	best := b.cfg.LogDirs[0]
	for _, d := range b.cfg.LogDirs {
		if b.failedDirs[d] == nil && count[d]+extra[d] < count[best]+extra[best] {
			best = d
		}
	}
	extra[best]++
	return best
}

// openPartition opens the log of one partition, creating it (and making
// its folder durable) when create is set; otherwise its folder must exist.
func (b *Broker) openPartition(t *topic, index int32, logDir string, create, clean bool, recoveryPoint int64) (*partition, error) {
	p := &partition{topic: t.name, index: index, logDir: logDir}
	if create {
		if err := os.Mkdir(p.dir(), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create partition folder: %w", err)
		}
		if err := storage.SyncDir(logDir); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(p.dir()); err != nil {
		return nil, fmt.Errorf("partition folder: %w", err)
	}
	l, err := storage.Open(storage.Config{
		Dir:           p.dir(),
		Options:       b.logOptions(t.configs),
		Clean:         clean,
		RecoveryPoint: recoveryPoint,
		Logger:        b.log.With("topic", t.name, "partition", index),
	})
	if err != nil {
		return nil, err
	}
	p.log = l
	return p, nil
}

// removePartitionDir renames a dropped partition's folder away and removes
// it in the background (the removal of a large folder may take a while).
func (b *Broker) removePartitionDir(p *partition) {
	var suffix [8]byte
	rand.Read(suffix[:])
	dst := filepath.Join(p.logDir, fmt.Sprintf("%x%s", suffix, deleteSuffix))
	if err := os.Rename(p.dir(), dst); err != nil {
		b.log.Warn("cannot remove the folder of a deleted partition", "dir", p.dir(), "err", err)
		return
	}
	storage.SyncDir(p.logDir)
	b.bgWG.Add(1)
	go func() { // owned by the broker: Close waits for it
		defer b.bgWG.Done()
		if err := os.RemoveAll(dst); err != nil {
			b.log.Warn("cannot remove the folder of a deleted partition", "dir", dst, "err", err)
		}
	}()
}

// createTopic creates a topic with n partitions. metaMu is held.
func (b *Broker) createTopic(name string, n int32, configs map[string]string) (*topic, error) {
	t := &topic{name: name, id: newTopicID(), configs: configs}
	extra := map[string]int{}
	for i := range n {
		p, err := b.openPartition(t, i, b.pickLogDir(extra), true, false, 0)
		if err != nil {
			b.dropPartitions(t.parts)
			return nil, err
		}
		t.parts = append(t.parts, p)
	}
	next := b.topics().with(t)
	if err := b.persistTopics(next); err != nil {
		b.dropPartitions(t.parts)
		return nil, err
	}
	b.topicSnap.Store(next)
	b.log.Info("created topic", "topic", name, "partitions", n, "id", topicIDString(t.id))
	return t, nil
}

func (b *Broker) dropPartitions(parts []*partition) {
	for _, p := range parts {
		if p.log != nil {
			p.log.Drop()
		}
		if p.logDir == "" {
			continue // its folder is in no log dir
		}
		if _, err := os.Stat(p.dir()); p.offline != nil && err != nil {
			continue // the missing folder of an offline partition
		}
		b.removePartitionDir(p)
	}
}

// offsetsTopic is Kafka's internal topic of committed offsets and group
// metadata: a real, read-only topic written by the group coordinator (see
// offsetstopic.go), created when first needed, always as that internal
// topic.
const offsetsTopic = "__consumer_offsets"

// autoCreate creates a topic for Metadata, when allowed; it returns the
// topic whether it was created now or concurrently, and nil for a topic
// deleted less than deletedTopicNoAutoCreate ago. The offsets topic is
// created as the internal topic, as Kafka does.
func (b *Broker) autoCreate(name string) (*topic, error) {
	if isInternalTopic(name) {
		return b.ensureOffsetsTopic()
	}
	b.metaMu.Lock()
	defer b.metaMu.Unlock()
	if t := b.topics().byName[name]; t != nil {
		return t, nil
	}
	if b.topics().deletedRecently(name) {
		return nil, nil
	}
	if other := b.topics().collides(name); other != "" {
		return nil, collisionError{name, other}
	}
	return b.createTopic(name, b.cfg.NumPartitions, map[string]string{})
}

// collisionError: a topic name differs from an existing one only by '.'
// versus '_'.
type collisionError struct{ name, other string }

func (e collisionError) Error() string {
	msg := config.TopicCollision(e.name, e.other).Error()
	if a, b := config.TopicCollisionKey(e.name), config.TopicCollisionKey(e.other); a != b && strings.EqualFold(a, b) {
		msg += " (the log directory's file system ignores case, so their partition folders would be the same)"
	}
	return msg
}

// loadTopics opens every partition found on disk or listed in topics.json.
//
// A log dir fails, as Kafka marks a log dir offline, when a partition of a
// listed topic has no folder in it (the dir that last recorded the
// partition in its recovery-point checkpoint; with one log dir, that dir),
// or when a partition's log on it cannot be opened: acknowledged data must
// not vanish silently, nor be replaced by an empty partition. Every
// partition on a failed dir is offline (KAFKA_STORAGE_ERROR, naming the
// cause), and the dir is neither written to nor given new partitions until
// it is repaired and the broker restarted. The first log dir holds the
// broker's metadata, so the broker refuses to start when it fails, as
// Kafka does when its metadata log dir fails. A missing folder that no
// dir claims takes only its partition offline.
func (b *Broker) loadTopics(clean map[string]bool, points map[string]map[string]int64) error {
	listed, err := b.readTopicsFile()
	if err != nil {
		return err
	}
	found, err := b.scanLogDirs()
	if err != nil {
		return err
	}
	type want struct {
		t     *topic
		index int32
		dir   string
		// missing: the folder is not there; why says so.
		missing error
	}
	var wants []*want
	m := &topicMap{byName: map[string]*topic{}, byID: map[[16]byte]*topic{}, foldCase: b.foldCase}
	failed := map[string][]error{}
	add := func(t *topic, n int32, listed bool) {
		t.parts = make([]*partition, n)
		for i := range n {
			w := &want{t: t, index: i}
			if dir, ok := found[t.name][i]; ok {
				w.dir = dir
			} else {
				w.dir, w.missing = b.missingPartition(t.name, i, listed, points)
				if w.dir != "" {
					failed[w.dir] = append(failed[w.dir], w.missing)
				}
			}
			wants = append(wants, w)
		}
		m.byName[t.name] = t
		m.byID[t.id] = t
	}
	changed := false
	for _, lt := range listed {
		if validateTopicName(lt.Name) != nil || lt.Partitions < 1 {
			return fmt.Errorf("%s: bad topic entry %q", topicsFile, lt.Name)
		}
		t := &topic{name: lt.Name, configs: lt.Configs}
		if t.configs == nil {
			t.configs = map[string]string{}
		}
		raw, err := base64.RawURLEncoding.DecodeString(lt.ID)
		if err != nil || len(raw) != 16 {
			t.id, changed = newTopicID(), true
		} else {
			copy(t.id[:], raw)
		}
		n := int32(lt.Partitions)
		for idx := range found[lt.Name] {
			if idx >= n {
				b.log.Warn("partition folder beyond the topic's partition count; adopting it", "topic", lt.Name, "partition", idx)
				n, changed = idx+1, true
			}
		}
		add(t, n, true)
	}
	for name, parts := range found {
		if m.byName[name] != nil {
			continue
		}
		n := int32(0)
		for idx := range parts {
			n = max(n, idx+1)
		}
		b.log.Warn("adopting partition folders not listed in "+topicsFile, "topic", name, "partitions", n)
		add(&topic{name: name, id: newTopicID(), configs: map[string]string{}}, n, false)
		changed = true
	}

	// Open the logs on the dirs not failed yet, a few at a time: recovery
	// reads data back.
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 4)
		mu       sync.Mutex // guards openErrs
		openErrs = map[string][]error{}
	)
	start := time.Now()
	for _, w := range wants {
		if w.missing != nil || failed[w.dir] != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := w.t.name + " " + strconv.Itoa(int(w.index))
			p, err := b.openPartition(w.t, w.index, w.dir, false, clean[w.dir], points[w.dir][key])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				openErrs[w.dir] = append(openErrs[w.dir], fmt.Errorf("partition %s-%d: %w", w.t.name, w.index, err))
				return
			}
			w.t.parts[w.index] = p
		}()
	}
	wg.Wait()
	for dir, errs := range openErrs {
		failed[dir] = append(failed[dir], errs...)
	}

	b.failedDirs = map[string]error{}
	for _, dir := range b.cfg.LogDirs {
		if errs := failed[dir]; len(errs) > 0 {
			b.failedDirs[dir] = fmt.Errorf("log dir %s is offline: %w", dir, errors.Join(errs...))
		}
	}
	if err := b.failedDirs[b.cfg.LogDirs[0]]; err != nil {
		for _, w := range wants {
			if p := w.t.parts[w.index]; p == nil {
				continue
			} else if b.failedDirs[w.dir] != nil {
				p.log.Drop()
			} else {
				p.log.Close()
			}
		}
		if len(b.cfg.LogDirs) > 1 {
			return fmt.Errorf("%w (the first log dir holds %s and the group offsets: the broker cannot start without it)", err, topicsFile)
		}
		return err
	}
	offline := 0
	for _, w := range wants {
		p := w.t.parts[w.index]
		cause := b.failedDirs[w.dir]
		if w.dir == "" {
			cause = w.missing
			b.log.Error("partition offline until its folder is restored and the broker restarted", "topic", w.t.name, "partition", w.index, "err", cause)
		}
		if cause == nil {
			continue
		}
		if p != nil {
			p.log.Drop() // opened before its dir failed: nothing more is written there
		}
		w.t.parts[w.index] = &partition{topic: w.t.name, index: w.index, logDir: w.dir, offline: cause}
		offline++
	}
	for dir, err := range b.failedDirs {
		b.log.Error("log dir failed; its partitions are offline until it is repaired and the broker restarted", "dir", dir, "err", err)
	}
	b.topicSnap.Store(m)
	if changed {
		if err := b.persistTopics(m); err != nil {
			return err
		}
	}
	if len(wants) > 0 {
		b.log.Info("loaded partition logs", "topics", len(m.byName), "partitions", len(wants), "offline", offline, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// missingPartition explains a partition that has no folder (of a topic
// listed in topics.json, or below one whose folder was found), and names
// the log dir that fails for it: the only log dir, or the one whose
// recovery-point checkpoint last recorded the partition; "" if none does.
func (b *Broker) missingPartition(topic string, index int32, listed bool, points map[string]map[string]int64) (string, error) {
	name := topic + "-" + strconv.Itoa(int(index))
	why := "listed in " + topicsFile
	if !listed {
		why = "whose later partitions have folders"
	}
	const fix = "; if its data is gone for good, create the folder (empty) and start the broker again: the partition starts empty"
	dir := ""
	if len(b.cfg.LogDirs) == 1 {
		dir = b.cfg.LogDirs[0]
	} else {
		key := topic + " " + strconv.Itoa(int(index))
		for _, d := range b.cfg.LogDirs {
			if _, ok := points[d][key]; ok {
				dir = d
				break
			}
		}
	}
	if dir == "" {
		return "", fmt.Errorf("partition %s of topic %s (%s) has no folder in any log dir (%s)%s",
			name, topic, why, strings.Join(b.cfg.LogDirs, ", "), fix)
	}
	return dir, fmt.Errorf("partition folder %s of topic %s (%s) is missing%s",
		filepath.Join(dir, name), topic, why, fix)
}
