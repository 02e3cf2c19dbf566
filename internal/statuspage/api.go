package statuspage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// askTimeout bounds the cluster requests of one API call.
const askTimeout = 10 * time.Second

// browseTimeout bounds the fetching of one message browse; what arrived by
// then is answered, marked incomplete.
const browseTimeout = 5 * time.Second

// defaultMessages is n when the request does not set it.
const defaultMessages = 20

type partitionJSON struct {
	Partition   int32   `json:"partition"`
	Leader      int32   `json:"leader"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
	StartOffset int64   `json:"start_offset"`
	EndOffset   int64   `json:"end_offset"`
	SizeBytes   *int64  `json:"size_bytes"` // null: not reported
	Error       string  `json:"error,omitempty"`
}

type topicJSON struct {
	Name       string          `json:"name"`
	Internal   bool            `json:"internal"`
	Partitions []partitionJSON `json:"partitions"`
	Records    int64           `json:"records"` // end minus start offsets: what the log holds, control records included
	SizeBytes  *int64          `json:"size_bytes"`
	Error      string          `json:"error,omitempty"`
}

type topicsJSON struct {
	Topics []topicJSON `json:"topics"`
	// SizesError says why sizes are missing (DescribeLogDirs refused).
	SizesError string `json:"sizes_error,omitempty"`
}

// getTopics answers every topic, internal ones flagged, with its
// partitions' leaders, start and end offsets and sizes on disk.
func (p *Page) getTopics(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
	defer cancel()
	tds, err := p.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		p.clusterError(rw, "listing the topics", err)
		return
	}
	out := topicsJSON{Topics: []topicJSON{}}
	if len(tds) == 0 {
		writeJSON(rw, http.StatusOK, out)
		return
	}
	names := tds.Names()
	starts, err := p.adm.ListStartOffsets(ctx, names...)
	if err != nil {
		p.clusterError(rw, "listing the start offsets", err)
		return
	}
	ends, err := p.adm.ListEndOffsets(ctx, names...)
	if err != nil {
		p.clusterError(rw, "listing the end offsets", err)
		return
	}
	dirs, err := p.adm.DescribeAllLogDirs(ctx, nil)
	if err != nil {
		out.SizesError = "sizes not reported: " + err.Error()
		dirs = nil
	}
	sizes := map[string]map[int32]int64{}
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(lp kadm.DescribedLogDirPartition) {
			if lp.IsFuture {
				return
			}
			if sizes[lp.Topic] == nil {
				sizes[lp.Topic] = map[int32]int64{}
			}
			// One replica's size: on several brokers the log is the
			// same, and the page shows what one copy takes.
			if have, ok := sizes[lp.Topic][lp.Partition]; !ok || lp.Size > have {
				sizes[lp.Topic][lp.Partition] = lp.Size
			}
		})
	})
	for _, name := range names {
		td := tds[name]
		t := topicJSON{Name: name, Internal: td.IsInternal, Partitions: []partitionJSON{}}
		if td.Err != nil {
			t.Error = td.Err.Error()
		}
		ps := td.Partitions.Numbers()
		slices.Sort(ps)
		for _, n := range ps {
			pd := td.Partitions[n]
			pj := partitionJSON{Partition: n, Leader: pd.Leader, Replicas: nonNil(pd.Replicas), ISR: nonNil(pd.ISR), StartOffset: -1, EndOffset: -1}
			if s, ok := starts.Lookup(name, n); ok && s.Err == nil {
				pj.StartOffset = s.Offset
			}
			e, ok := ends.Lookup(name, n)
			if ok && e.Err == nil {
				pj.EndOffset = e.Offset
			}
			if pd.Err != nil {
				pj.Error = pd.Err.Error()
			} else if ok && e.Err != nil {
				pj.Error = e.Err.Error()
			}
			if size, ok := sizes[name][n]; ok {
				pj.SizeBytes = &size
				if t.SizeBytes == nil {
					t.SizeBytes = new(int64)
				}
				*t.SizeBytes += size
			}
			if pj.StartOffset >= 0 && pj.EndOffset >= pj.StartOffset {
				t.Records += pj.EndOffset - pj.StartOffset
			}
			t.Partitions = append(t.Partitions, pj)
		}
		out.Topics = append(out.Topics, t)
	}
	writeJSON(rw, http.StatusOK, out)
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

type memberJSON struct {
	MemberID   string `json:"member_id"`
	InstanceID string `json:"instance_id,omitempty"`
	ClientID   string `json:"client_id"`
	Host       string `json:"host"`
}

type groupPartitionJSON struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Committed int64  `json:"committed"`  // -1: nothing committed
	EndOffset int64  `json:"end_offset"` // -1: unknown
	Lag       int64  `json:"lag"`        // -1: unknown
	MemberID  string `json:"member_id,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

type groupJSON struct {
	Group        string               `json:"group"`
	State        string               `json:"state"`
	ProtocolType string               `json:"protocol_type"`
	Members      []memberJSON         `json:"members"`
	Lag          int64                `json:"lag"` // the sum of the known lags
	Partitions   []groupPartitionJSON `json:"partitions"`
	Error        string               `json:"error,omitempty"`
}

// getGroups answers every group with its members and, per partition it
// committed to or is assigned, the committed offset, the end offset and
// the lag, as kafka-consumer-groups.sh --describe shows them.
func (p *Page) getGroups(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
	defer cancel()
	lags, err := p.adm.Lag(ctx)
	if err != nil {
		p.clusterError(rw, "describing the consumer groups", err)
		return
	}
	out := struct {
		Groups []groupJSON `json:"groups"`
	}{Groups: []groupJSON{}}
	for _, l := range lags.Sorted() {
		g := groupJSON{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType, Members: []memberJSON{}, Partitions: []groupPartitionJSON{}}
		if err := l.Error(); err != nil {
			g.Error = err.Error()
		}
		for _, m := range l.Members {
			mj := memberJSON{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost}
			if m.InstanceID != nil {
				mj.InstanceID = *m.InstanceID
			}
			g.Members = append(g.Members, mj)
		}
		for _, ml := range l.Lag.Sorted() {
			gp := groupPartitionJSON{Topic: ml.Topic, Partition: ml.Partition, Committed: ml.Commit.At, EndOffset: -1, Lag: ml.Lag}
			if ml.End.Err == nil {
				gp.EndOffset = ml.End.Offset
			}
			if ml.Member != nil {
				gp.MemberID, gp.ClientID = ml.Member.MemberID, ml.Member.ClientID
			}
			if ml.Err != nil {
				gp.Error = ml.Err.Error()
			}
			if gp.Lag > 0 {
				g.Lag += gp.Lag
			}
			g.Partitions = append(g.Partitions, gp)
		}
		out.Groups = append(out.Groups, g)
	}
	writeJSON(rw, http.StatusOK, out)
}

type headerJSON struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

type recordJSON struct {
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp int64        `json:"timestamp"` // Unix milliseconds
	Key       []byte       `json:"key"`       // null: no key
	Headers   []headerJSON `json:"headers"`
	Value     []byte       `json:"value"` // null: a tombstone
}

type browsedPartition struct {
	Partition   int32 `json:"partition"`
	StartOffset int64 `json:"start_offset"`
	EndOffset   int64 `json:"end_offset"`
	From        int64 `json:"from"` // the first offset asked for
}

type messagesJSON struct {
	Topic      string             `json:"topic"`
	N          int                `json:"n"`
	Partitions []browsedPartition `json:"partitions"`
	Records    []recordJSON       `json:"records"`
	// Complete is false when the fetch ran out of time before reaching
	// the end offsets listed when the request came.
	Complete bool `json:"complete"`
}

// browseQuery is a checked /ui/api/messages request.
type browseQuery struct {
	topic     string
	partition int32 // -1: all
	n         int
}

// parseBrowse checks the query of /ui/api/messages; its error is the
// message of a 400.
func parseBrowse(q map[string][]string) (browseQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	b := browseQuery{topic: get("topic"), partition: -1, n: defaultMessages}
	if err := checkTopicName(b.topic); err != nil {
		return b, err
	}
	if s := get("partition"); s != "" && s != "all" {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 0 {
			return b, fmt.Errorf("partition %q is not a partition number (0, 1, ...) or all", s)
		}
		b.partition = int32(n)
	}
	if s := get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxMessages {
			return b, fmt.Errorf("n %q is not a number of records from 1 to %d", s, MaxMessages)
		}
		b.n = n
	}
	return b, nil
}

// checkTopicName applies Kafka's rules for topic names: 1 to 249
// characters of ASCII letters, digits, '.', '_' and '-', and neither "."
// nor "..".
func checkTopicName(t string) error {
	switch {
	case t == "":
		return errors.New("topic is missing: give ?topic=NAME")
	case len(t) > 249:
		return fmt.Errorf("topic name of %d characters is illegal: at most 249", len(t))
	case t == "." || t == "..":
		return fmt.Errorf("topic name %q is illegal", t)
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q is illegal: only ASCII letters, digits, '.', '_' and '-' are legal", t)
		}
	}
	return nil
}

// getMessages answers the last n records of each partition of a topic (or
// of one), read with a consumer of its own that commits nothing.
func (p *Page) getMessages(rw http.ResponseWriter, r *http.Request) {
	q, err := parseBrowse(r.URL.Query())
	if err != nil {
		writeError(rw, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
	defer cancel()
	select {
	case p.browse <- struct{}{}:
		defer func() { <-p.browse }()
	case <-ctx.Done():
		writeError(rw, http.StatusServiceUnavailable, "too many message browses at once; try again")
		return
	}
	tds, err := p.adm.ListTopicsWithInternal(ctx, q.topic)
	if err != nil {
		p.clusterError(rw, "describing topic "+q.topic, err)
		return
	}
	td, ok := tds[q.topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		writeError(rw, http.StatusNotFound, "topic "+q.topic+" does not exist")
		return
	}
	if td.Err != nil {
		p.clusterError(rw, "describing topic "+q.topic, td.Err)
		return
	}
	parts := td.Partitions.Numbers()
	slices.Sort(parts)
	if q.partition >= 0 {
		if _, ok := td.Partitions[q.partition]; !ok {
			writeError(rw, http.StatusNotFound, fmt.Sprintf("topic %s has no partition %d (it has %d)", q.topic, q.partition, len(parts)))
			return
		}
		parts = []int32{q.partition}
	}
	starts, err := p.adm.ListStartOffsets(ctx, q.topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		p.clusterError(rw, "listing the start offsets of "+q.topic, err)
		return
	}
	ends, err := p.adm.ListEndOffsets(ctx, q.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		p.clusterError(rw, "listing the end offsets of "+q.topic, err)
		return
	}
	out := messagesJSON{Topic: q.topic, N: q.n, Partitions: []browsedPartition{}, Records: []recordJSON{}, Complete: true}
	want := map[int32]kgo.Offset{}
	last := map[int32]int64{} // the offset that ends each partition's read
	for _, n := range parts {
		s, _ := starts.Lookup(q.topic, n)
		e, _ := ends.Lookup(q.topic, n)
		bp := browsedPartition{Partition: n, StartOffset: s.Offset, EndOffset: e.Offset, From: max(s.Offset, e.Offset-int64(q.n))}
		out.Partitions = append(out.Partitions, bp)
		if bp.From < bp.EndOffset {
			want[n] = kgo.NewOffset().At(bp.From)
			last[n] = bp.EndOffset - 1
		}
	}
	if len(want) > 0 {
		recs, complete, err := p.fetchRange(ctx, q.topic, want, last)
		if err != nil {
			p.clusterError(rw, "reading "+q.topic, err)
			return
		}
		out.Records, out.Complete = recs, complete
	}
	writeJSON(rw, http.StatusOK, out)
}

// fetchRange reads each partition of want from its offset through its
// offset in last, with a client of its own; it returns what arrived within
// browseTimeout, in partition and offset order, and whether that is all.
// Control records are read (so that a log ending in a transaction marker
// is seen to end) and left out of the answer.
func (p *Page) fetchRange(ctx context.Context, topic string, want map[int32]kgo.Offset, last map[int32]int64) ([]recordJSON, bool, error) {
	cl, err := kgo.NewClient(append(clientOpts(p.cfg),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: want}),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		return nil, false, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, browseTimeout)
	defer cancel()
	pending := len(last)
	recs := []recordJSON{}
	for pending > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		var fatal error
		fs.EachError(func(_ string, _ int32, err error) {
			if errors.Is(err, kgo.ErrClientClosed) || errors.Is(err, context.Canceled) {
				fatal = err
			}
		})
		if fatal != nil {
			return nil, false, fatal
		}
		fs.EachRecord(func(rec *kgo.Record) {
			end, ok := last[rec.Partition]
			if !ok || rec.Offset > end {
				return
			}
			if rec.Offset == end {
				delete(last, rec.Partition)
				pending--
			}
			if rec.Attrs.IsControl() {
				return
			}
			rj := recordJSON{Partition: rec.Partition, Offset: rec.Offset, Timestamp: rec.Timestamp.UnixMilli(), Key: rec.Key, Value: rec.Value, Headers: []headerJSON{}}
			for _, h := range rec.Headers {
				rj.Headers = append(rj.Headers, headerJSON{Key: h.Key, Value: h.Value})
			}
			recs = append(recs, rj)
		})
	}
	slices.SortFunc(recs, func(a, b recordJSON) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
	return recs, pending == 0, nil
}

// clusterError answers 502: the page could not get its answer from the
// cluster.
func (p *Page) clusterError(rw http.ResponseWriter, what string, err error) {
	p.log.Warn("status page: asking the cluster failed", "what", what, "err", err)
	writeError(rw, http.StatusBadGateway, what+" at "+strings.Join(p.cfg.Brokers, ",")+": "+err.Error())
}
