package broker

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch sessions (KIP-227): a consumer fetching many partitions names
// them once, in a full fetch that creates a session; its later,
// incremental fetches name only the partitions whose fetch position
// changed (and those to forget), and their responses carry only the
// partitions with something new. The rules are Kafka's (FetchSession.scala,
// FetchSessionHandler.java):
//
//   - epoch -1 (final) or 0 (initial) makes a full fetch; a session id in
//     it is closed first. Epoch -1 never creates a session; epoch 0 does
//     when the cache has room (or can evict), else the fetch is sessionless;
//   - any other epoch is incremental: the session must exist
//     (FETCH_SESSION_ID_NOT_FOUND) and the epoch must be the one it expects
//     next (INVALID_FETCH_SESSION_EPOCH), which is 1 after creation, then
//     each incremental fetch's plus one (wrapping to 1);
//   - a session made with topic ids (Fetch v13+) is served only with topic
//     ids, and one made with names only with names
//     (FETCH_SESSION_TOPIC_ID_ERROR);
//   - a new session that finds every slot taken evicts the least recently
//     used session if it has been idle longer than
//     fetchSessionEvictionAfter, else the smallest session (fewest
//     partitions) created longer ago than that, if the new one has at least
//     as many partitions; failing both it is not created.

// fetchSessionEvictionAfter is Kafka's min.incremental.fetch.session.eviction.ms
// default: a session younger than this (since creation, and since its
// last use) is not evicted for a new one.
const fetchSessionEvictionAfter = 120 * time.Second

const (
	fetchInitialEpoch int32 = 0
	fetchFinalEpoch   int32 = -1
)

// nextFetchEpoch is the epoch expected after prev, as Kafka's
// FetchMetadata.nextEpoch.
func nextFetchEpoch(prev int32) int32 {
	switch {
	case prev < 0:
		return fetchFinalEpoch
	case prev == math.MaxInt32:
		return 1
	}
	return prev + 1
}

// fetchSessionKey names a partition of a session: by topic id when the
// session uses ids, else by name.
type fetchSessionKey struct {
	topicID   [16]byte
	topic     string
	partition int32
}

// cachedPartition is what a session knows of one partition: the fetch
// parameters the client last sent and what the last response told it.
type cachedPartition struct {
	key                fetchSessionKey
	maxBytes           int32
	fetchOffset        int64
	logStartOffset     int64
	currentLeaderEpoch int32
	lastFetchedEpoch   int32
	// highWatermark and logStart were last sent to the client; -1 when
	// never sent (or after an error), so the next response includes it.
	highWatermark int64
	logStart      int64
}

func (p *cachedPartition) setRequest(rp *kmsg.FetchRequestTopicPartition) {
	p.maxBytes, p.fetchOffset, p.logStartOffset = rp.PartitionMaxBytes, rp.FetchOffset, rp.LogStartOffset
	p.currentLeaderEpoch, p.lastFetchedEpoch = rp.CurrentLeaderEpoch, rp.LastFetchedEpoch
}

// mustRespond reports whether an incremental response includes rp, and
// records what the client is told when it does.
func (p *cachedPartition) mustRespond(rp *kmsg.FetchResponseTopicPartition) bool {
	must := len(rp.RecordBatches) > 0
	if p.highWatermark != rp.HighWatermark {
		must, p.highWatermark = true, rp.HighWatermark
	}
	if p.logStart != rp.LogStartOffset {
		must, p.logStart = true, rp.LogStartOffset
	}
	if rp.ErrorCode != 0 {
		// Sent again once the error is gone.
		must, p.highWatermark = true, -1
	}
	return must
}

type fetchSession struct {
	id      int32
	epoch   int32 // the epoch of the next incremental fetch
	usesIDs bool
	parts   []*cachedPartition // in fetch order
	index   map[fetchSessionKey]*cachedPartition
	created time.Time
	used    time.Time
}

// moveToEnd puts p last, so partitions that just returned data are read
// after the others next time (MaxBytes is shared in order).
func (s *fetchSession) moveToEnd(p *cachedPartition) {
	for i, q := range s.parts {
		if q == p {
			copy(s.parts[i:], s.parts[i+1:])
			s.parts[len(s.parts)-1] = p
			return
		}
	}
}

func (s *fetchSession) remove(k fetchSessionKey) {
	p := s.index[k]
	if p == nil {
		return
	}
	delete(s.index, k)
	for i, q := range s.parts {
		if q == p {
			s.parts = append(s.parts[:i], s.parts[i+1:]...)
			return
		}
	}
}

// fetchSessionStats count what the cache did, for tests and operators.
type fetchSessionStats struct {
	Created, Incremental, Evicted, Closed, NotCreated int64
}

// fetchSessionCache holds one broker's fetch sessions, at most slots.
type fetchSessionCache struct {
	mu       sync.Mutex
	slots    int
	now      func() time.Time
	sessions map[int32]*fetchSession
	stats    fetchSessionStats
}

func newFetchSessionCache(slots int) *fetchSessionCache {
	return &fetchSessionCache{slots: slots, now: time.Now, sessions: map[int32]*fetchSession{}}
}

// fetchSessions is the broker's cache of fetch sessions.
func (b *Broker) fetchSessions() *fetchSessionCache { return b.sessions }

func (c *fetchSessionCache) Stats() fetchSessionStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// close removes session id, if there is one.
func (c *fetchSessionCache) close(id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sessions[id]; ok {
		delete(c.sessions, id)
		c.stats.Closed++
	}
}

// makeRoom frees a slot for a new session of size partitions, evicting
// as Kafka does; it reports whether there is room. Called with c.mu held.
func (c *fetchSessionCache) makeRoom(size int, now time.Time) bool {
	if len(c.sessions) < c.slots {
		return true
	}
	var lru, smallest *fetchSession
	for _, s := range c.sessions {
		if lru == nil || s.used.Before(lru.used) || (s.used.Equal(lru.used) && s.id < lru.id) {
			lru = s
		}
		if now.Sub(s.created) > fetchSessionEvictionAfter {
			if smallest == nil || len(s.parts) < len(smallest.parts) || (len(s.parts) == len(smallest.parts) && s.id < smallest.id) {
				smallest = s
			}
		}
	}
	victim := smallest
	switch {
	case lru != nil && now.Sub(lru.used) > fetchSessionEvictionAfter:
		victim = lru
	case smallest == nil || size < len(smallest.parts) || (size == len(smallest.parts) && smallest.id > 0):
		// Kafka compares (size, id) with the new session's id as 0.
		return false
	}
	delete(c.sessions, victim.id)
	c.stats.Evicted++
	return true
}

// create makes a session of the partitions of a full fetch and what its
// response said of them; it returns the new id, or 0 when there is no
// room.
func (c *fetchSessionCache) create(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	s := &fetchSession{usesIDs: req.Version >= 13, index: map[fetchSessionKey]*cachedPartition{}, created: now, used: now, epoch: nextFetchEpoch(fetchInitialEpoch)}
	for ti, rt := range req.Topics {
		for pi := range rt.Partitions {
			rp := &rt.Partitions[pi]
			k := s.key(rt.Topic, rt.TopicID, rp.Partition)
			p := s.index[k]
			if p == nil {
				p = &cachedPartition{key: k}
				s.index[k] = p
				s.parts = append(s.parts, p)
			}
			p.setRequest(rp)
			out := &resp.Topics[ti].Partitions[pi]
			p.highWatermark, p.logStart = out.HighWatermark, out.LogStartOffset
			if out.ErrorCode != 0 {
				p.highWatermark = -1
			}
		}
	}
	if !c.makeRoom(len(s.parts), now) {
		c.stats.NotCreated++
		return 0
	}
	for s.id == 0 || c.sessions[s.id] != nil {
		s.id = rand.Int32N(math.MaxInt32) + 1
	}
	c.sessions[s.id] = s
	c.stats.Created++
	return s.id
}

func (s *fetchSession) key(topic string, id [16]byte, partition int32) fetchSessionKey {
	if s.usesIDs {
		return fetchSessionKey{topicID: id, partition: partition}
	}
	return fetchSessionKey{topic: topic, partition: partition}
}

// incrementalFetch is an incremental fetch request turned into a full
// one over its session's partitions.
type incrementalFetch struct {
	session *fetchSession
	epoch   int32 // the request's
	full    *kmsg.FetchRequest
	parts   []*cachedPartition // of full, in its order
}

// incremental applies an incremental fetch to its session. It returns
// the fetch to serve, or an error code; both nil and 0 mean the session
// emptied and was closed, so req is served without a session.
func (c *fetchSessionCache) incremental(req *kmsg.FetchRequest) (*incrementalFetch, int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[req.SessionID]
	switch {
	case s == nil:
		return nil, kerr.FetchSessionIDNotFound.Code
	case s.epoch != req.SessionEpoch:
		return nil, kerr.InvalidFetchSessionEpoch.Code
	case s.usesIDs != (req.Version >= 13):
		return nil, kerr.FetchSessionTopicIDError.Code
	}
	for _, rt := range req.Topics {
		for pi := range rt.Partitions {
			rp := &rt.Partitions[pi]
			k := s.key(rt.Topic, rt.TopicID, rp.Partition)
			p := s.index[k]
			if p == nil {
				p = &cachedPartition{key: k, highWatermark: -1, logStart: -1}
				s.index[k] = p
				s.parts = append(s.parts, p)
			}
			p.setRequest(rp)
		}
	}
	for _, ft := range req.ForgottenTopics {
		for _, part := range ft.Partitions {
			s.remove(s.key(ft.Topic, ft.TopicID, part))
		}
	}
	if len(s.parts) == 0 {
		delete(c.sessions, s.id)
		c.stats.Closed++
		return nil, 0
	}
	s.epoch = nextFetchEpoch(s.epoch)
	s.used = c.now()
	c.stats.Incremental++

	full := *req
	full.Topics, full.ForgottenTopics = nil, nil
	inc := &incrementalFetch{session: s, epoch: req.SessionEpoch, full: &full, parts: append([]*cachedPartition(nil), s.parts...)}
	for _, p := range inc.parts {
		if n := len(full.Topics); n == 0 || full.Topics[n-1].Topic != p.key.topic || full.Topics[n-1].TopicID != p.key.topicID {
			t := kmsg.NewFetchRequestTopic()
			t.Topic, t.TopicID = p.key.topic, p.key.topicID
			full.Topics = append(full.Topics, t)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.LogStartOffset, rp.PartitionMaxBytes = p.key.partition, p.fetchOffset, p.logStartOffset, p.maxBytes
		rp.CurrentLeaderEpoch, rp.LastFetchedEpoch = p.currentLeaderEpoch, p.lastFetchedEpoch
		t := &full.Topics[len(full.Topics)-1]
		t.Partitions = append(t.Partitions, rp)
	}
	return inc, 0
}

// respond keeps in resp only what the client does not know yet (every
// partition with records, an error, or a changed high watermark or log
// start offset), recording it in the session. It returns an error code
// when another fetch of the session has come in between.
func (c *fetchSessionCache) respond(inc *incrementalFetch, resp *kmsg.FetchResponse) int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := inc.session
	if s.epoch != nextFetchEpoch(inc.epoch) {
		return kerr.InvalidFetchSessionEpoch.Code
	}
	var kept []kmsg.FetchResponseTopic
	i := 0
	for _, t := range resp.Topics {
		var parts []kmsg.FetchResponseTopicPartition
		for _, rp := range t.Partitions {
			p := inc.parts[i]
			i++
			if !p.mustRespond(&rp) {
				continue
			}
			parts = append(parts, rp)
			if len(rp.RecordBatches) > 0 && s.index[p.key] == p {
				s.moveToEnd(p)
			}
		}
		if len(parts) > 0 {
			t.Partitions = parts
			kept = append(kept, t)
		}
	}
	resp.Topics = kept
	resp.SessionID = s.id
	return 0
}
