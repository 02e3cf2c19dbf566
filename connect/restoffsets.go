package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// KIP-875's offsets endpoints, on a STOPPED connector (PUT
// /connectors/{name}/stop) only, as Kafka Connect serves them:
//
//	PATCH  /connectors/{name}/offsets  {"offsets":[{"partition":{...},"offset":{...}|null}]}
//	DELETE /connectors/{name}/offsets
//
// They are served whether or not rest.connector.writes.enable is set: they
// change where a connector resumes, never which file it reads or writes,
// so the read-only guarantee (no request makes the worker write to a path
// its files do not name) holds.
//
// A source's offsets are the entries of the offsets file, saved at once.
// An altered entry keeps the identity of the stream it was taken in (so a
// rotated-away file is still told apart) and drops the proof of the bytes
// before the old position; when the old entry named the Kafka record that
// ended at it, the new one names the last record of that Kafka partition
// now, so that on start the scan of the topic for records already sent
// (position headers) does not carry the source past the position asked
// for. Reset sets every stored position of the connector to 0 in the same
// way (Kafka removes them): a source whose entries were removed would find
// its earlier records in the topic and skip them again, which is what a
// reset asks it not to do. GET then shows position 0 for each file.
//
// A sink's offsets are its group's (connect-<name>) committed offsets,
// which carry its exactly-once snapshots (see sinkRunner). Alter commits
// the new offsets and, for every task whose newest snapshot is committed,
// a snapshot one flush newer with the same output state and the altered
// partitions at their new offsets (removed ones left out), on every
// partition that carried that task's snapshots. On resume the task keeps
// its output as it was at its last committed flush and reads the altered
// partitions from their new offsets: records below an offset moved back
// are written again, as in Kafka Connect, and exactly once from there on.
// An alter that removes the offsets of every partition carrying a task's
// snapshot while that snapshot still names other partitions is refused
// (400): the task would lose its place in its output; reset instead. Reset
// deletes the group, as Kafka does: the sink starts again from
// auto.offset.reset and appends to its output.

// offsetChange is one entry of a PATCH body.
type offsetChange struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// badOffsets is a request the connector's offsets cannot take: 400.
type badOffsets struct{ msg string }

func (e *badOffsets) Error() string { return e.msg }

// modifyOffsets serves PATCH (alter) and DELETE (reset) of
// /connectors/{name}/offsets.
func (w *Worker) modifyOffsets(rw http.ResponseWriter, r *http.Request, c *connectorRuntime) {
	reset := r.Method == http.MethodDelete
	var changes []offsetChange
	if !reset {
		var body struct {
			Offsets []offsetChange `json:"offsets"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxConfigBody))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			writeError(rw, http.StatusBadRequest, "the body is not a JSON object with offsets: "+err.Error())
			return
		}
		if len(body.Offsets) == 0 {
			writeError(rw, http.StatusBadRequest, "Partitions / offsets need to be provided for an alter offsets request")
			return
		}
		changes = body.Offsets
	}
	ctx, cancel := w.lifecycleContext()
	defer cancel()
	ctx, release, err := c.lock(ctx)
	if err != nil {
		writeLifecycleError(rw, "modify the offsets of connector "+c.spec.name, err)
		return
	}
	defer release()
	if !c.halted {
		writeError(rw, http.StatusBadRequest, "Connectors must be in the STOPPED state before their offsets can be modified. This can be done "+
			"for the specified connector by issuing a 'PUT' request to the '/connectors/"+c.spec.name+"/stop' endpoint")
		return
	}
	switch {
	case c.spec.plugin.Type == Source:
		err = w.modifySourceOffsets(ctx, c, changes, reset)
	case reset:
		err = w.resetSinkOffsets(ctx, c)
	default:
		err = w.alterSinkOffsets(ctx, c, changes)
	}
	var bad *badOffsets
	switch {
	case errors.As(err, &bad):
		writeError(rw, http.StatusBadRequest, bad.msg)
	case err != nil:
		writeError(rw, http.StatusInternalServerError, err.Error())
	default:
		done := "altered"
		if reset {
			done = "reset"
		}
		c.log.Info("offsets "+done+" over REST", "entries", len(changes))
		writeJSON(rw, http.StatusOK, map[string]string{"message": "The offsets for this connector have been " + done + " successfully"})
	}
}

// modifySourceOffsets alters (changes) or resets the stored offsets of a
// stopped source connector.
func (w *Worker) modifySourceOffsets(ctx context.Context, c *connectorRuntime, changes []offsetChange, reset bool) error {
	var out []sourceOffsetChange
	if reset {
		for _, e := range w.offsets.Entries(c.spec.name) {
			var p map[string]any
			if err := json.Unmarshal(e.Partition, &p); err != nil || p == nil {
				continue // not a partition a task can ask for
			}
			v, err := w.movedSourceOffset(ctx, c.spec.name, p, 0)
			if err != nil {
				return err
			}
			out = append(out, sourceOffsetChange{Partition: p, Value: v})
		}
		return w.offsets.replace(c.spec.name, out)
	}
	for _, ch := range changes {
		if ch.Partition == nil {
			return &badOffsets{"Partition objects cannot be null"}
		}
		p, err := plainJSON(ch.Partition)
		if err != nil {
			return &badOffsets{"partition: " + err.Error()}
		}
		if ch.Offset == nil {
			out = append(out, sourceOffsetChange{Partition: p})
			continue
		}
		raw, ok := ch.Offset["position"]
		if !ok {
			return &badOffsets{"Offset objects should either be null or contain the key 'position'"}
		}
		n, ok := raw.(json.Number)
		pos, err := n.Int64()
		if !ok || err != nil {
			return &badOffsets{"The value for the 'position' key in the offset is expected to be a Long value"}
		}
		if pos < 0 {
			return &badOffsets{"The value for the 'position' key in the offset should be a non-negative value"}
		}
		v, err := w.movedSourceOffset(ctx, c.spec.name, p, pos)
		if err != nil {
			return err
		}
		out = append(out, sourceOffsetChange{Partition: p, Value: v})
	}
	return w.offsets.replace(c.spec.name, out)
}

// plainJSON is m with its numbers as encoding/json decodes them into any
// (float64), so that it names the same offsets file key as a task's
// partition map.
func plainJSON(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}

// movedSourceOffset is the stored value of a source partition moved to
// pos (see the comment at the top of this file): the stored value itself
// when it is at pos already.
func (w *Worker) movedSourceOffset(ctx context.Context, connector string, partition map[string]any, pos int64) ([]byte, error) {
	stored, ok, err := w.offsets.SourceOffset(connector, partition)
	if err != nil {
		ok = false // an unreadable entry is replaced
	}
	if ok && stored.Position == pos {
		return encodeSourceOffset(stored), nil
	}
	off := SourceOffset{Position: pos, Record: RecordRef{Offset: -1}}
	if ok {
		off.Identity = stored.Identity
	}
	if ok && stored.Record.Known() {
		ref := stored.Record
		ends, err := w.admin.ListEndOffsets(ctx, ref.Topic)
		if err != nil {
			return nil, fmt.Errorf("listing the end offsets of topic %s: %w", ref.Topic, err)
		}
		end, found := ends.Lookup(ref.Topic, ref.Partition)
		if !found || end.Err != nil {
			return nil, fmt.Errorf("listing the end offset of %s/%d: %v", ref.Topic, ref.Partition, end.Err)
		}
		if end.Offset > 0 {
			off.Record = RecordRef{Topic: ref.Topic, Partition: ref.Partition, Offset: end.Offset - 1}
		}
	}
	return encodeSourceOffset(off), nil
}

// sinkOffsets parses the sink offsets of a PATCH body, with Kafka's
// checks: the new offset of each partition, or -1 to remove it.
func sinkOffsets(changes []offsetChange) (map[topicPartition]int64, error) {
	out := map[topicPartition]int64{}
	for _, ch := range changes {
		if ch.Partition == nil {
			return nil, &badOffsets{"The partition for a sink connector offset cannot be null or missing"}
		}
		topic, okT := ch.Partition["kafka_topic"]
		part, okP := ch.Partition["kafka_partition"]
		if !okT || !okP {
			return nil, &badOffsets{"The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'"}
		}
		if topic == nil {
			return nil, &badOffsets{"Kafka topic names must be valid strings and may not be null"}
		}
		if part == nil {
			return nil, &badOffsets{"Kafka partitions must be valid numbers and may not be null"}
		}
		p, err := strconv.ParseInt(fmt.Sprint(part), 10, 32)
		if err != nil {
			return nil, &badOffsets{fmt.Sprintf("Failed to parse the following Kafka partition value in the provided offsets: '%v'. Partition values for sink connectors need to be integers.", part)}
		}
		tp := topicPartition{fmt.Sprint(topic), int32(p)}
		if ch.Offset == nil {
			out[tp] = -1
			continue
		}
		o, ok := ch.Offset["kafka_offset"]
		if !ok {
			return nil, &badOffsets{"The offset for a sink connector should either be null or contain the key 'kafka_offset'"}
		}
		n, err := strconv.ParseInt(fmt.Sprint(o), 10, 64)
		if err != nil || n < 0 {
			return nil, &badOffsets{fmt.Sprintf("Failed to parse the following Kafka offset value in the provided offsets: '%v'. Offset values for sink connectors need to be integers.", o)}
		}
		out[tp] = n
	}
	return out, nil
}

// alterSinkOffsets commits the altered offsets of a stopped sink's group,
// with its tasks' snapshots moved along (see the comment at the top of
// this file), then deletes the removed ones.
func (w *Worker) alterSinkOffsets(ctx context.Context, c *connectorRuntime, changes []offsetChange) error {
	want, err := sinkOffsets(changes)
	if err != nil {
		return err
	}
	group := "connect-" + c.spec.name
	fetched, err := w.admin.FetchOffsets(ctx, group)
	if err != nil {
		return fmt.Errorf("fetching the offsets of group %s: %w", group, err)
	}
	committed := map[topicPartition]committedOffset{}
	fetched.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			committed[topicPartition{o.Topic, o.Partition}] = committedOffset{o.At, o.Metadata}
		}
	})
	commit, err := movedSnapshots(committed, want)
	if err != nil {
		return err
	}
	var os kadm.Offsets
	removed := kadm.TopicsSet{}
	for tp, n := range want {
		if n < 0 {
			removed.Add(tp.topic, tp.partition)
		}
	}
	for tp, co := range commit {
		os.Add(kadm.Offset{Topic: tp.topic, Partition: tp.partition, At: co.at, LeaderEpoch: -1, Metadata: co.metadata})
	}
	if len(commit) > 0 {
		if err := w.admin.CommitAllOffsets(ctx, group, os); err != nil {
			return groupBusy(c.spec.name, "alter", fmt.Errorf("committing offsets of group %s: %w", group, err))
		}
	}
	if len(removed) > 0 {
		resp, err := w.admin.DeleteOffsets(ctx, group, removed)
		if err == nil {
			err = resp.Error()
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return groupBusy(c.spec.name, "alter", fmt.Errorf("deleting offsets of group %s: %w", group, err))
		}
	}
	return nil
}

// movedSnapshots returns what to commit for want (new offsets; -1 removes)
// given the group's committed offsets: the altered partitions, and every
// partition carrying a task's snapshot with that snapshot made one flush
// newer, its entries moved as want says.
func movedSnapshots(committed map[topicPartition]committedOffset, want map[topicPartition]int64) (map[topicPartition]committedOffset, error) {
	commit := map[topicPartition]committedOffset{}
	for tp, n := range want {
		if n >= 0 {
			commit[tp] = committedOffset{n, committed[tp].metadata}
		}
	}
	carriers := map[int][]topicPartition{} // by task
	for tp, co := range committed {
		if s, ok := parseSnapshot(co.metadata); ok && want[tp] >= 0 {
			carriers[s.Task] = append(carriers[s.Task], tp)
		}
	}
	tasks := map[int]bool{}
	for _, co := range committed {
		if s, ok := parseSnapshot(co.metadata); ok {
			tasks[s.Task] = true
		}
	}
	for task := range tasks {
		snap, next, _ := newestSnapshot(task, committed)
		for tp, n := range want {
			if _, in := next[tp]; !in {
				continue
			}
			if n >= 0 {
				next[tp] = n
			} else {
				delete(next, tp)
			}
		}
		if len(carriers[task]) == 0 {
			if len(next) > 0 {
				return nil, &badOffsets{fmt.Sprintf("removing these offsets would remove every copy of task %d's position in its output, which still names other partitions; reset the connector's offsets instead", task)}
			}
			continue
		}
		moved := sinkSnapshot{Flush: snap.Flush + 1, Task: task, State: snap.State}
		moved.Next = entries(next, func(topicPartition, int64) bool { return true })
		whole := encodeSnapshot(moved)
		for _, tp := range carriers[task] {
			md := whole
			if len(md) > commitMetadataMax { // each carries its own entry, as the runner does
				moved.Next = entries(next, func(e topicPartition, _ int64) bool { return e == tp })
				md = encodeSnapshot(moved)
			}
			at := committed[tp].at
			if n, ok := want[tp]; ok {
				at = n
			}
			commit[tp] = committedOffset{at, md}
		}
	}
	return commit, nil
}

// resetSinkOffsets deletes a stopped sink's group, as Kafka does: its
// committed offsets and snapshots go with it.
func (w *Worker) resetSinkOffsets(ctx context.Context, c *connectorRuntime) error {
	group := "connect-" + c.spec.name
	resp, err := w.admin.DeleteGroup(ctx, group)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return groupBusy(c.spec.name, "reset", fmt.Errorf("deleting group %s: %w", group, err))
	}
	return nil
}

// groupBusy words an error of a group change as Kafka does when the group
// still has members.
func groupBusy(connector, what string, err error) error {
	if errors.Is(err, kerr.NonEmptyGroup) || errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) {
		return fmt.Errorf("Failed to %s consumer group offsets for connector %s either because its tasks haven't stopped completely yet "+
			"or the connector was resumed before the request to %s its offsets could be successfully completed. If the connector is in a "+
			"stopped state, this operation can be safely retried: %w", what, connector, what, err)
	}
	return err
}

// shownSourceOffset is a stored source offset as Kafka shows it: its
// position alone (the identity, proof and record ref stay in the file).
func shownSourceOffset(value json.RawMessage) any {
	off, err := parseSourceOffset(value)
	if err != nil {
		return json.RawMessage(bytes.TrimSpace(value))
	}
	return map[string]int64{"position": off.Position}
}
