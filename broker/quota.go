package broker

// Client quotas (KIP-13, KIP-55, KIP-219, KIP-546), as Kafka keeps and
// enforces them:
//
//   - Entities are a user, a client id, or a (user, client id) pair, each
//     part a specific name or the default (null name, <default>). The
//     quota applying to a request, for each key on its own, is the first
//     set in Kafka's order:
//
//     /config/users/<user>/clients/<client-id>
//     /config/users/<user>/clients/<default>
//     /config/users/<user>
//     /config/users/<default>/clients/<client-id>
//     /config/users/<default>/clients/<default>
//     /config/users/<default>
//     /config/clients/<client-id>
//     /config/clients/<default>
//
//     Requests share a quota window as Kafka's metric tags say: a default
//     part stands for the request's own user or client id, a missing
//     part for everybody (a client-id quota is shared by all users).
//   - Keys: producer_byte_rate and consumer_byte_rate (whole numbers,
//     enforced), request_percentage and controller_mutation_rate (stored
//     and described, not enforced). Values must be positive.
//   - The quotas are kept in quotasFile in the first log dir, written
//     atomically, and apply at once.
//   - Enforcement is Kafka's ClientQuotaManager: the bytes of each produce
//     (its record batches) and fetch (its records) are recorded in a rate
//     over quotaWindowNum samples of quotaWindowSize (Kafka's
//     quota.window.num=11 and quota.window.size.seconds=1 defaults); when
//     the rate is over the quota the response carries the time needed to
//     get back under it, (rate-quota)/quota*window, capped at one sample
//     window, as Kafka caps it. The produce is written all the same and
//     the fetch returns its data. The connection is then muted for that
//     long, as Kafka mutes a throttled channel: Produce v6+ and Fetch v8+
//     are answered at once and the next request is read afterwards
//     (KIP-219: the client throttles itself too); older versions are
//     answered only after the throttle time.
//   - The principal's name is the quota user ("User:alice" is alice,
//     ANONYMOUS without authentication); the client id is the request
//     header's.
//
// Not done: ip entities (connection_creation_rate) are refused with
// INVALID_REQUEST; request_percentage and controller_mutation_rate are
// not enforced; no quota metrics; quota.window.* cannot be configured.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/config/atomicfile"
)

const (
	// quotasFile holds the client quotas, in the first log dir.
	quotasFile = "client-quotas.json"

	quotaWindowNum  = 11
	quotaWindowSize = time.Second

	quotaUser   = "user"
	quotaClient = "client-id"
	quotaIP     = "ip"

	producerByteRate       = "producer_byte_rate"
	consumerByteRate       = "consumer_byte_rate"
	requestPercentage      = "request_percentage"
	controllerMutationRate = "controller_mutation_rate"
)

// quotaKeys are the keys a user or client-id entity takes; true for those
// Kafka types LONG (whole numbers).
var quotaKeys = map[string]bool{
	producerByteRate:       true,
	consumerByteRate:       true,
	requestPercentage:      false,
	controllerMutationRate: false,
}

// quotaPart is one part of an entity: absent, the default, or a name.
type quotaPart struct {
	Set     bool
	Default bool
	Name    string
}

func (p quotaPart) ptr() *string {
	if p.Default {
		return nil
	}
	n := p.Name
	return &n
}

func partOf(name *string) quotaPart {
	if name == nil {
		return quotaPart{Set: true, Default: true}
	}
	return quotaPart{Set: true, Name: *name}
}

// quotaEntity is a user, a client id or both.
type quotaEntity struct {
	User, Client quotaPart
}

func (e quotaEntity) String() string {
	var parts []string
	for _, p := range []struct {
		typ string
		p   quotaPart
	}{{quotaUser, e.User}, {quotaClient, e.Client}} {
		if !p.p.Set {
			continue
		}
		n := p.p.Name
		if p.p.Default {
			n = "<default>"
		}
		parts = append(parts, p.typ+"="+n)
	}
	return strings.Join(parts, ",")
}

// quotaStore is one broker's quotas and quota windows.
type quotaStore struct {
	dir string

	mu     sync.RWMutex // guards quotas; writers also hold it over the file write
	quotas map[quotaEntity]map[string]float64
	// some says whether any quota is set, so that a broker without
	// quotas does no more per produce and fetch than load it.
	some atomic.Bool

	sensorMu sync.Mutex
	sensors  map[sensorKey]*rateSensor
}

// newQuotaStore returns an empty store kept in dir ("" keeps it in
// memory only).
func newQuotaStore(dir string) *quotaStore {
	return &quotaStore{dir: dir, quotas: map[quotaEntity]map[string]float64{}, sensors: map[sensorKey]*rateSensor{}}
}

// loadQuotaStore reads the client quotas kept in dir.
func loadQuotaStore(dir string) (*quotaStore, error) {
	s := newQuotaStore(dir)
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// clientQuotas is b's quota store.
func (b *Broker) clientQuotas() *quotaStore { return b.cfg.quotas }

type quotaFileJSON struct {
	Version int              `json:"version"`
	Quotas  []quotaEntryJSON `json:"quotas"`
}

type quotaEntryJSON struct {
	Entity []quotaComponentJSON `json:"entity"`
	Values map[string]float64   `json:"values"`
}

type quotaComponentJSON struct {
	Type string  `json:"type"`
	Name *string `json:"name"` // null: the default
}

func (s *quotaStore) load() error {
	path := filepath.Join(s.dir, quotasFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("client quotas: %w", err)
	}
	var f quotaFileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("client quotas: %s: %w", path, err)
	}
	for _, q := range f.Quotas {
		types := make([]string, len(q.Entity))
		names := make([]*string, len(q.Entity))
		for i, c := range q.Entity {
			types[i], names[i] = c.Type, c.Name
		}
		e, msg := parseQuotaEntity(types, names)
		if msg != "" {
			return fmt.Errorf("client quotas: %s: %s", path, msg)
		}
		for k, v := range q.Values {
			if msg := checkQuotaValue(k, v); msg != "" {
				return fmt.Errorf("client quotas: %s: %s", path, msg)
			}
		}
		if len(q.Values) > 0 {
			s.quotas[e] = q.Values
			s.some.Store(true)
		}
	}
	return nil
}

// persist writes quotas to the file; the caller holds s.mu.
func (s *quotaStore) persist(quotas map[quotaEntity]map[string]float64) error {
	f := quotaFileJSON{Version: 1, Quotas: []quotaEntryJSON{}}
	for e, vals := range quotas {
		var comps []quotaComponentJSON
		if e.User.Set {
			comps = append(comps, quotaComponentJSON{quotaUser, e.User.ptr()})
		}
		if e.Client.Set {
			comps = append(comps, quotaComponentJSON{quotaClient, e.Client.ptr()})
		}
		f.Quotas = append(f.Quotas, quotaEntryJSON{comps, vals})
	}
	sort.Slice(f.Quotas, func(i, j int) bool {
		parts := func(c quotaComponentJSON) (string, *string) { return c.Type, c.Name }
		return entitySortKey(f.Quotas[i].Entity, parts) < entitySortKey(f.Quotas[j].Entity, parts)
	})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, quotasFile), append(data, '\n'), 0o644)
}

// entitySortKey orders quota entities by their components (type, then
// name, the default before any name), for stable listings.
func entitySortKey[C any](cs []C, parts func(C) (string, *string)) string {
	var sb strings.Builder
	for _, c := range cs {
		typ, name := parts(c)
		sb.WriteString(typ)
		if name == nil {
			sb.WriteString("\x00")
		} else {
			sb.WriteString("=" + *name)
		}
		sb.WriteString("\x01")
	}
	return sb.String()
}

// parseQuotaEntity checks an entity as Kafka does; msg is set when it is
// invalid (INVALID_REQUEST).
func parseQuotaEntity(types []string, names []*string) (e quotaEntity, msg string) {
	if len(types) == 0 {
		return e, "Invalid empty client quota entity"
	}
	for i, t := range types {
		var p *quotaPart
		switch t {
		case quotaUser:
			p = &e.User
		case quotaClient:
			p = &e.Client
		case quotaIP:
			return e, "ip quota entities (connection_creation_rate) are not supported by this broker"
		default:
			return e, "Unhandled client quota entity type: " + t
		}
		if p.Set {
			return e, "Duplicate " + t + " entity in the client quota entity"
		}
		*p = partOf(names[i])
	}
	return e, ""
}

// checkQuotaValue checks a key and its value (INVALID_REQUEST).
func checkQuotaValue(key string, v float64) string {
	long, ok := quotaKeys[key]
	if !ok {
		return "Invalid configuration key " + key
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprintf("Invalid value %v for configuration %s", v, key)
	case v <= 0:
		return fmt.Sprintf("Invalid value %v for configuration %s: must be positive", v, key)
	case long && v != math.Trunc(v):
		return fmt.Sprintf("Configuration %s must be a Long value", key)
	case long && v >= math.MaxInt64:
		return fmt.Sprintf("Proposed value for %s is too large for a LONG.", key)
	}
	return ""
}

// quotaOp is one change of an entity's quotas.
type quotaOp struct {
	key    string
	value  float64
	remove bool
}

// alter applies ops to e's quotas, persisting them unless validateOnly.
// msg is an INVALID_REQUEST, err a failed write.
func (s *quotaStore) alter(e quotaEntity, ops []quotaOp, validateOnly bool) (msg string, err error) {
	seen := map[string]bool{}
	for _, op := range ops {
		if _, ok := quotaKeys[op.key]; !ok {
			return "Invalid configuration key " + op.key, nil
		}
		if seen[op.key] {
			return "Duplicate quota key " + op.key + " for entity " + e.String(), nil
		}
		seen[op.key] = true
		if !op.remove {
			if m := checkQuotaValue(op.key, op.value); m != "" {
				return m, nil
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if validateOnly {
		return "", nil
	}
	vals := map[string]float64{}
	for k, v := range s.quotas[e] {
		vals[k] = v
	}
	for _, op := range ops {
		if op.remove {
			delete(vals, op.key)
		} else {
			vals[op.key] = op.value
		}
	}
	next := make(map[quotaEntity]map[string]float64, len(s.quotas)+1)
	for k, v := range s.quotas {
		next[k] = v
	}
	if len(vals) == 0 {
		delete(next, e)
	} else {
		next[e] = vals
	}
	if s.dir != "" {
		if err := s.persist(next); err != nil {
			return "", err
		}
	}
	s.quotas = next
	s.some.Store(len(next) > 0)
	return "", nil
}

// quotaFor finds the quota of key that applies to user and clientID, in
// Kafka's order, and the tags of the window it is counted in.
func (s *quotaStore) quotaFor(key, user, clientID string) (bound float64, k sensorKey, ok bool) {
	u, c := quotaPart{Set: true, Name: user}, quotaPart{Set: true, Name: clientID}
	du, dc := quotaPart{Set: true, Default: true}, quotaPart{Set: true, Default: true}
	order := [...]struct {
		e          quotaEntity
		user, clnt string
	}{
		{quotaEntity{u, c}, user, clientID},
		{quotaEntity{u, dc}, user, clientID},
		{quotaEntity{User: u}, user, ""},
		{quotaEntity{du, c}, user, clientID},
		{quotaEntity{du, dc}, user, clientID},
		{quotaEntity{User: du}, user, ""},
		{quotaEntity{Client: c}, "", clientID},
		{quotaEntity{Client: dc}, "", clientID},
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.quotas) == 0 {
		return 0, k, false
	}
	for _, o := range order {
		if v, found := s.quotas[o.e][key]; found {
			return v, sensorKey{key, o.user, o.clnt}, true
		}
	}
	return 0, k, false
}

// sensorKey names a quota window: the quota key and Kafka's metric tags.
type sensorKey struct {
	key, user, client string
}

// rateSensor is Kafka's Rate over a SampledStat: samples of
// quotaWindowSize, quotaWindowNum of them.
type rateSensor struct {
	mu      sync.Mutex
	samples []rateSample
	cur     int
	used    int64
}

type rateSample struct {
	start int64 // ms
	value float64
}

// record adds value at nowMs and returns the throttle time when the rate
// is then over bound (Kafka's QuotaUtils.throttleTime, capped at one
// sample window).
func (r *rateSensor) record(value float64, nowMs int64, bound float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	win := quotaWindowSize.Milliseconds()
	r.used = nowMs
	if len(r.samples) == 0 {
		r.samples = append(r.samples, rateSample{start: nowMs})
		r.cur = 0
	}
	if nowMs-r.samples[r.cur].start >= win {
		r.cur = (r.cur + 1) % quotaWindowNum
		if r.cur >= len(r.samples) {
			r.samples = append(r.samples, rateSample{start: nowMs})
		} else {
			r.samples[r.cur] = rateSample{start: nowMs}
		}
	}
	r.samples[r.cur].value += value

	// Measure: purge samples older than the whole window, then divide the
	// total by the elapsed time, counted as at least quotaWindowNum-1
	// whole samples.
	total, oldest := 0.0, nowMs
	for i := range r.samples {
		if nowMs-r.samples[i].start >= quotaWindowNum*win {
			r.samples[i] = rateSample{start: nowMs}
		}
		total += r.samples[i].value
		oldest = min(oldest, r.samples[i].start)
	}
	elapsed := nowMs - oldest
	if full := elapsed / win; full < quotaWindowNum-1 {
		elapsed += (quotaWindowNum - 1 - full) * win
	}
	elapsed = max(elapsed, 1)
	rate := total / (float64(elapsed) / 1000)
	if rate <= bound {
		return 0
	}
	ms := math.Round((rate - bound) / bound * float64(elapsed))
	return time.Duration(min(ms, float64(win))) * time.Millisecond
}

// recordQuota counts n bytes of key (producer_byte_rate or
// consumer_byte_rate) for c's principal and client id, and returns the
// throttle time, 0 when under the quota or when none applies.
func (b *Broker) recordQuota(c *conn, key string, n int) time.Duration {
	s := b.clientQuotas()
	if !s.some.Load() {
		return 0
	}
	user := strings.TrimPrefix(c.principal(), "User:")
	bound, k, ok := s.quotaFor(key, user, c.clientID)
	if !ok {
		return 0
	}
	now := time.Now().UnixMilli()
	s.sensorMu.Lock()
	r := s.sensors[k]
	if r == nil {
		if len(s.sensors) >= 4096 {
			// Kafka expires idle quota sensors; so does this map.
			for sk, sr := range s.sensors {
				sr.mu.Lock()
				idle := now-sr.used >= quotaWindowNum*quotaWindowSize.Milliseconds()
				sr.mu.Unlock()
				if idle {
					delete(s.sensors, sk)
				}
			}
		}
		r = &rateSensor{}
		s.sensors[k] = r
	}
	s.sensorMu.Unlock()
	return r.record(float64(n), now, bound)
}

// throttled sets a reply's throttle: the connection is muted for d after
// it is sent, or, when the client does not throttle itself (before
// KIP-219's versions), the reply waits d first.
func (r *reply) throttled(d time.Duration, clientThrottles bool) {
	r.throttle = d
	r.throttleFirst = !clientThrottles
}
