package consumergroups

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// missing is what Kafka's consumer group tables print for an unknown value.
const missing = "-"

// groupOffsetRow is one line of the consumer-groups --describe table.
type groupOffsetRow struct {
	Group     string
	Topic     string // "" when the member has no partition
	Partition int32
	Current   int64 // committed offset, -1 for none
	End       int64 // log end offset, -1 when unknown
	Consumer  string
	Host      string
	ClientID  string
}

func (r groupOffsetRow) lag() string {
	if r.Current < 0 || r.End < 0 {
		return missing
	}
	return strconv.FormatInt(r.End-r.Current, 10)
}

func orMissing(n int64) string {
	if n < 0 {
		return missing
	}
	return strconv.FormatInt(n, 10)
}

// writeOffsetsTable writes Kafka's describe table: GROUP TOPIC PARTITION
// CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID. Like
// Kafka's, it starts with an empty line and ends with a newline.
func writeOffsetsTable(w io.Writer, rows []groupOffsetRow) {
	group, topic, consumer, host := 15, 15, 15, 15
	for _, r := range rows {
		group = max(group, len(r.Group))
		topic = max(topic, len(orDash(r.Topic)))
		consumer = max(consumer, len(r.Consumer))
		host = max(host, len(r.Host))
	}
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-10s %%-15s %%-15s %%-15s %%-%ds %%-%ds %%s", group, topic, consumer, host)
	var b strings.Builder
	fmt.Fprintf(&b, format, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
	for _, r := range rows {
		partition := missing
		if r.Topic != "" {
			partition = strconv.Itoa(int(r.Partition))
		}
		fmt.Fprintf(&b, format, r.Group, orDash(r.Topic), partition, orMissing(r.Current), orMissing(r.End), r.lag(), r.Consumer, r.Host, r.ClientID)
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

func orDash(s string) string {
	if s == "" {
		return missing
	}
	return s
}

// groupMemberRow is one line of consumer-groups --describe --members.
type groupMemberRow struct {
	Group, Consumer, InstanceID, Host, ClientID string
	Assignment                                  map[string][]int32 // topic -> partitions
}

func (m groupMemberRow) partitions() int {
	n := 0
	for _, ps := range m.Assignment {
		n += len(ps)
	}
	return n
}

// assignment is Kafka's verbose form: "t1(0,1), t2(3)", or "-".
func (m groupMemberRow) assignment() string {
	if m.partitions() == 0 {
		return missing
	}
	var parts []string
	for t, ps := range m.Assignment {
		ps = slices.Clone(ps)
		slices.Sort(ps)
		part := []byte(t + "(")
		for i, p := range ps {
			if i > 0 {
				part = append(part, ',')
			}
			part = strconv.AppendInt(part, int64(p), 10)
		}
		parts = append(parts, string(part)+")")
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// writeMembersTable writes Kafka's --members table (with GROUP-INSTANCE-ID
// when a member has one, and ASSIGNMENT with --verbose).
func writeMembersTable(w io.Writer, members []groupMemberRow, verbose bool) {
	group, consumer, instance, host, client := 15, 15, 17, 15, 15
	withInstance := false
	for _, m := range members {
		group = max(group, len(m.Group))
		consumer = max(consumer, len(m.Consumer))
		instance = max(instance, len(m.InstanceID))
		host = max(host, len(m.Host))
		client = max(client, len(m.ClientID))
		withInstance = withInstance || m.InstanceID != ""
	}
	var b strings.Builder
	line := func(g, c, i, h, cl, n string) {
		if withInstance {
			fmt.Fprintf(&b, "%-*s %-*s %-*s %-*s %-*s %-15s ", group, g, consumer, c, instance, i, host, h, client, cl, n)
		} else {
			fmt.Fprintf(&b, "%-*s %-*s %-*s %-*s %-15s ", group, g, consumer, c, host, h, client, cl, n)
		}
	}
	b.WriteString("\n")
	line("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
	if verbose {
		b.WriteString("ASSIGNMENT")
	}
	b.WriteString("\n")
	for _, m := range members {
		line(m.Group, m.Consumer, m.InstanceID, m.Host, m.ClientID, strconv.Itoa(m.partitions()))
		if verbose {
			b.WriteString(m.assignment())
		}
		b.WriteString("\n")
	}
	io.WriteString(w, b.String())
}

// groupState is one group for consumer-groups --describe --state.
type groupState struct {
	Group, Coordinator, Strategy, State string
	Members                             int
}

// writeStateTable writes Kafka's --state table: GROUP COORDINATOR (ID)
// ASSIGNMENT-STRATEGY STATE #MEMBERS, the coordinator as "host:port  (id)".
func writeStateTable(w io.Writer, s groupState) {
	group := max(15, len(s.Group))
	coord := max(25, len(s.Coordinator))
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-20s %%-20s %%s", group, coord)
	strategy := s.Strategy
	if strategy == "" {
		strategy = missing
	}
	var b strings.Builder
	fmt.Fprintf(&b, format, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
	fmt.Fprintf(&b, format, s.Group, s.Coordinator, strategy, s.State, strconv.Itoa(s.Members))
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

// writeGroupStates writes consumer-groups --list --state: GROUP STATE.
func writeGroupStates(w io.Writer, groups [][2]string) {
	width := 15
	for _, g := range groups {
		width = max(width, len(g[0]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s %s\n", width, "GROUP", "STATE")
	for _, g := range groups {
		fmt.Fprintf(&b, "%-*s %s\n", width, g[0], g[1])
	}
	io.WriteString(w, b.String())
}

// groupStates are the states of a classic consumer group, as Kafka names
// them.
var groupStates = []string{"PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty"}

// parseGroupStates parses --state's comma-separated filter, in any case.
func parseGroupStates(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		i := slices.IndexFunc(groupStates, func(st string) bool { return strings.EqualFold(st, part) })
		if i < 0 {
			return nil, fmt.Errorf("invalid state list '%s'. Valid states are: %s", s, strings.Join(groupStates, ", "))
		}
		out = append(out, groupStates[i])
	}
	return out, nil
}

// resetRow is one partition of a reset plan.
type resetRow struct {
	Group     string
	Topic     string
	Partition int32
	Offset    int64
}

// sortResetRows orders a plan by group, topic and partition.
func sortResetRows(rows []resetRow) {
	slices.SortFunc(rows, func(a, b resetRow) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
}

// writeResetTable writes Kafka's reset plan: GROUP TOPIC PARTITION
// NEW-OFFSET.
func writeResetTable(w io.Writer, rows []resetRow) {
	group, topic := 15, 15
	for _, r := range rows {
		group = max(group, len(r.Group))
		topic = max(topic, len(r.Topic))
	}
	format := fmt.Sprintf("\n%%-%ds %%-%ds %%-10s %%s", group, topic)
	var b strings.Builder
	if len(rows) > 0 {
		fmt.Fprintf(&b, format, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")
	}
	for _, r := range rows {
		fmt.Fprintf(&b, format, r.Group, r.Topic, strconv.Itoa(int(r.Partition)), strconv.FormatInt(r.Offset, 10))
	}
	b.WriteString("\n")
	io.WriteString(w, b.String())
}

// writeResetCSV writes a plan as Kafka's --export does: topic,partition,offset
// for one group, group,topic,partition,offset for several.
func writeResetCSV(w io.Writer, rows []resetRow, withGroup bool) {
	var b strings.Builder
	for _, r := range rows {
		if withGroup {
			fmt.Fprintf(&b, "%s,", r.Group)
		}
		fmt.Fprintf(&b, "%s,%d,%d\n", r.Topic, r.Partition, r.Offset)
	}
	io.WriteString(w, b.String())
}

// parseResetCSV reads a --from-file plan. A line of three fields belongs to
// group (the one --group), a line of four names its group.
func parseResetCSV(text, group string) ([]resetRow, error) {
	var rows []resetRow
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		r := resetRow{Group: group}
		switch len(f) {
		case 3:
			if group == "" {
				return nil, fmt.Errorf("line %d: %q has no group, and more than one group is reset", i+1, line)
			}
		case 4:
			r.Group, f = f[0], f[1:]
		default:
			return nil, fmt.Errorf("line %d: %q is not topic,partition,offset or group,topic,partition,offset", i+1, line)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || p < 0 {
			return nil, fmt.Errorf("line %d: %q: partition and offset must be numbers", i+1, line)
		}
		r.Topic, r.Partition, r.Offset = f[0], int32(p), o
		rows = append(rows, r)
	}
	return rows, nil
}

// parseTopicPartitions parses a --topic of --reset-offsets or
// --delete-offsets: "t" (all partitions: nil) or "t:0,1,2".
func parseTopicPartitions(arg string) (topic string, partitions []int32, err error) {
	topic, list, ok := strings.Cut(arg, ":")
	if !ok {
		return arg, nil, nil
	}
	if topic == "" || list == "" || strings.Contains(list, ":") {
		return "", nil, fmt.Errorf("invalid topic arg '%s', expected topic name and partitions", arg)
	}
	for _, p := range strings.Split(list, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || n < 0 {
			return "", nil, fmt.Errorf("invalid partition '%s' specified in topic arg '%s'", p, arg)
		}
		partitions = append(partitions, int32(n))
	}
	return topic, partitions, nil
}

// parseKafkaDateTime parses --to-datetime as Kafka does:
// YYYY-MM-DDTHH:mm:SS.sss with an optional zone (Z, +01:00, +0100, +01);
// without a zone the time is UTC. The fraction may be left out.
func parseKafkaDateTime(s string) (time.Time, error) {
	if !strings.Contains(s, "T") {
		return time.Time{}, fmt.Errorf("error parsing timestamp %q: it does not contain a 'T' according to ISO8601 format", s)
	}
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999Z07",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("error parsing timestamp %q: want YYYY-MM-DDTHH:mm:SS.sss, optionally with a zone such as Z or +01:00", s)
}

var isoDuration = regexp.MustCompile(`^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+(?:[.,]\d{1,9})?)S)?)?$`)

// parseISODuration parses --by-duration as Java's Duration.parse does:
// PnDTnHnMn.nS, such as P1D, PT1H30M or PT0.5S.
func parseISODuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(strings.ToUpper(s))
	if m == nil || m[2] == "" && m[3] == "" && m[4] == "" && m[5] == "" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, fmt.Errorf("%q is not an ISO-8601 duration such as PT1H30M or P1D", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+2] != "" {
			n, err := strconv.ParseInt(m[i+2], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%q: %w", s, err)
			}
			d += time.Duration(n) * unit
		}
	}
	if m[5] != "" {
		f, err := strconv.ParseFloat(strings.ReplaceAll(m[5], ",", "."), 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		d += time.Duration(f * float64(time.Second))
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

// clampOffset keeps a wanted offset within [start, end] of its partition,
// as Kafka does, and says when it had to.
func clampOffset(want, start, end int64, tp string) (int64, string) {
	switch {
	case end >= 0 && want > end:
		return end, fmt.Sprintf("New offset (%d) is higher than latest offset for topic partition %s. Value will be set to %d.", want, tp, end)
	case start >= 0 && want < start:
		return start, fmt.Sprintf("New offset (%d) is lower than earliest offset for topic partition %s. Value will be set to %d.", want, tp, start)
	}
	return want, ""
}

var errNoCommit = errors.New("no current committed offset")
