// Package consumergroups is the logic of `tributary consumer-groups`,
// Kafka's kafka-consumer-groups.sh: list, describe and delete consumer
// groups, and reset or delete their committed offsets, through the admin
// API of any Kafka-compatible broker, with Kafka's flags, checks, messages
// and tables.
//
// A reset is planned per group and partition from one scenario (earliest,
// latest, current, an offset, a shift, a time, a duration ago or a CSV
// file), clamped to the partition's log as Kafka does, shown, and
// committed only with Execute, and only for a group without active
// members. Misuse of the flags comes back as a usage error (package usage)
// before any broker is contacted.
package consumergroups

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/toolclient"
	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// Options are the flags of kafka-consumer-groups.sh, each field named
// after its flag.
type Options struct {
	Bootstrap     string // --bootstrap-server
	Zookeeper     string // --zookeeper: accepted, warned about, not used
	CommandConfig string // --command-config: admin client property file
	TimeoutMs     int64  // --timeout for the group's answers

	// The action: exactly one is set.
	List, Describe, Delete, ResetOffsets, DeleteOffsets bool

	Groups    []string // --group
	AllGroups bool     // --all-groups
	Topics    []string // --topic: "t" or "t:0,1,2"
	AllTopics bool     // --all-topics

	Members, Offsets, Verbose bool   // --members, --offsets, --verbose of --describe
	State                     string // --state: with --list, a comma-separated filter; " " when given without a value

	DryRun, Execute, Export bool // --dry-run, --execute, --export of --reset-offsets

	// The reset scenario: exactly one is given.
	ToEarliest, ToLatest, ToCurrent bool
	ToOffset, ShiftBy               int64
	ToDatetime, ByDuration          string
	FromFile                        string

	// Changed reports whether a flag (named without dashes, as "state")
	// was given on the command line, which the checks and the scenarios
	// depend on; nil means none was.
	Changed func(flag string) bool
	// Logger receives warnings about clamped offsets and the client's
	// messages; nil discards them.
	Logger *slog.Logger
}

func (o *Options) changed(flag string) bool { return o.Changed != nil && o.Changed(flag) }

var resetScenarios = []string{"to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime", "by-duration", "from-file"}

// Check validates the combination of flags, as kafka-consumer-groups.sh
// does.
func (o *Options) Check() error {
	actions := 0
	for _, b := range []bool{o.List, o.Describe, o.Delete, o.ResetOffsets, o.DeleteOffsets} {
		if b {
			actions++
		}
	}
	if actions != 1 {
		return usage.Errorf("command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets")
	}
	only := func(flag string, ok bool, with string) error {
		if o.changed(flag) && !ok {
			return usage.Errorf("--%s can only be used with %s", flag, with)
		}
		return nil
	}
	scenarios := 0
	for _, s := range resetScenarios {
		if o.changed(s) {
			scenarios++
		}
	}
	for _, err := range []error{
		only("group", !o.List, "--describe, --delete, --reset-offsets or --delete-offsets"),
		only("all-groups", o.Describe || o.Delete || o.ResetOffsets, "--describe, --delete or --reset-offsets"),
		only("topic", o.ResetOffsets || o.DeleteOffsets || o.Delete, "--reset-offsets or --delete-offsets"),
		only("all-topics", o.ResetOffsets, "--reset-offsets"),
		only("members", o.Describe, "--describe"),
		only("offsets", o.Describe, "--describe"),
		only("verbose", o.Describe, "--describe"),
		only("state", o.Describe || o.List, "--describe or --list"),
		only("dry-run", o.ResetOffsets, "--reset-offsets"),
		only("execute", o.ResetOffsets, "--reset-offsets"),
		only("export", o.ResetOffsets, "--reset-offsets"),
	} {
		if err != nil {
			return err
		}
	}
	if scenarios > 0 && !o.ResetOffsets {
		return usage.Errorf("--%s can only be used with --reset-offsets", resetScenarios[slices.IndexFunc(resetScenarios, o.changed)])
	}
	if len(o.Groups) > 0 && o.AllGroups {
		return usage.Errorf("--group and --all-groups cannot be used together")
	}
	needGroup := func(action string) error {
		if len(o.Groups) == 0 && !o.AllGroups {
			return usage.Errorf("--%s takes one of these options: --all-groups, --group", action)
		}
		return nil
	}
	switch {
	case o.Describe:
		if err := needGroup("describe"); err != nil {
			return err
		}
		n := 0
		for _, b := range []bool{o.Members, o.Offsets, o.changed("state")} {
			if b {
				n++
			}
		}
		if n > 1 {
			return usage.Errorf("--describe takes at most one of these options: --members, --offsets, --state")
		}
		if strings.TrimSpace(o.State) != "" {
			return usage.Errorf("--describe does not take a value for --state")
		}
	case o.List:
		if s := strings.TrimSpace(o.State); s != "" {
			if _, err := parseGroupStates(s); err != nil {
				return usage.Wrap(err)
			}
		}
	case o.Delete:
		if err := needGroup("delete"); err != nil {
			return err
		}
		if len(o.Topics) > 0 {
			return usage.Errorf("the consumer does not support topic-specific offset deletion from a consumer group")
		}
	case o.DeleteOffsets:
		if len(o.Groups) != 1 || len(o.Topics) == 0 {
			return usage.Errorf("--delete-offsets takes the following options: --group (one), --topic")
		}
	case o.ResetOffsets:
		if err := needGroup("reset-offsets"); err != nil {
			return err
		}
		if o.DryRun && o.Execute {
			return usage.Errorf("--reset-offsets only accepts one of --execute and --dry-run")
		}
		if scenarios != 1 {
			return usage.Errorf("--reset-offsets requires exactly one of: --%s", strings.Join(resetScenarios, ", --"))
		}
		if o.FromFile == "" && !o.AllTopics && len(o.Topics) == 0 {
			return usage.Errorf("one of the reset scopes should be defined: --all-topics, --topic")
		}
		if o.AllTopics && len(o.Topics) > 0 {
			return usage.Errorf("--all-topics and --topic cannot be used together")
		}
		for _, t := range o.Topics {
			if _, _, err := parseTopicPartitions(t); err != nil {
				return usage.Wrap(err)
			}
		}
		if o.ToDatetime != "" {
			if _, err := parseKafkaDateTime(o.ToDatetime); err != nil {
				return usage.Wrap(err)
			}
		}
		if o.ByDuration != "" {
			if _, err := parseISODuration(o.ByDuration); err != nil {
				return usage.Wrap(err)
			}
		}
	}
	if o.TimeoutMs <= 0 {
		return usage.Errorf("--timeout must be positive")
	}
	return nil
}

// Run checks the options, then does their action against the broker:
// what Kafka's tool prints goes to stdout, its notes about a group's state
// to stderr.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	toolclient.WarnZookeeper(stderr, o.Zookeeper, o.Bootstrap)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl, err := toolclient.Admin(ctx, log, o.CommandConfig, o.Bootstrap, "")
	if err != nil {
		return err
	}
	defer cl.Close()
	g := &groupsTool{o: &o, adm: kadm.NewClient(cl), stdout: stdout, stderr: stderr, log: log}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(o.TimeoutMs)*time.Millisecond+toolclient.AdminTimeout)
	defer cancel()
	switch {
	case o.List:
		return g.list(ctx, o.changed("state"))
	case o.Describe:
		return g.describe(ctx, o.changed("state"))
	case o.Delete:
		return g.deleteGroups(ctx)
	case o.DeleteOffsets:
		return g.deleteOffsets(ctx)
	}
	if !o.DryRun && !o.Execute {
		fmt.Fprintln(stderr, "WARN: No action will be performed as the --execute option is missing. In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.")
	}
	return g.resetOffsets(ctx)
}

// groupsTool is one run of the tool.
type groupsTool struct {
	o              *Options
	adm            *kadm.Client
	stdout, stderr io.Writer
	log            *slog.Logger
}

// consumerGroups lists the groups of consumers (protocol type "consumer",
// or none yet), not those of Connect workers, with their states.
func (g *groupsTool) consumerGroups(ctx context.Context) ([][2]string, error) {
	listed, err := g.adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var out [][2]string
	var unknown []string
	for _, l := range listed {
		if l.ProtocolType != "" && l.ProtocolType != "consumer" {
			continue
		}
		out = append(out, [2]string{l.Group, l.State})
		if l.State == "" {
			unknown = append(unknown, l.Group)
		}
	}
	if len(unknown) > 0 { // brokers before Kafka 2.6 list no states
		described, err := g.adm.DescribeGroups(ctx, unknown...)
		if err != nil {
			return nil, fmt.Errorf("describe groups: %w", err)
		}
		for i := range out {
			if d, ok := described[out[i][0]]; ok && out[i][1] == "" {
				out[i][1] = d.State
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out, nil
}

func (g *groupsTool) groupNames(ctx context.Context) ([]string, error) {
	if !g.o.AllGroups {
		return g.o.Groups, nil
	}
	groups, err := g.consumerGroups(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(groups))
	for i, gr := range groups {
		names[i] = gr[0]
	}
	return names, nil
}

func (g *groupsTool) list(ctx context.Context, withState bool) error {
	groups, err := g.consumerGroups(ctx)
	if err != nil {
		return err
	}
	if !withState {
		var b strings.Builder
		for _, gr := range groups {
			b.WriteString(gr[0] + "\n")
		}
		_, err := fmt.Fprint(g.stdout, b.String())
		return err
	}
	if s := strings.TrimSpace(g.o.State); s != "" {
		want, _ := parseGroupStates(s) // checked in Check
		groups = slices.DeleteFunc(groups, func(gr [2]string) bool { return !slices.Contains(want, gr[1]) })
	}
	writeGroupStates(g.stdout, groups)
	return nil
}

// describeGroup describes one group; a group the coordinator does not know
// is reported as Kafka does.
func (g *groupsTool) describeGroup(ctx context.Context, group string) (kadm.DescribedGroup, error) {
	described, err := g.adm.DescribeGroups(ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	d, ok := described[group]
	switch {
	case !ok, errors.Is(d.Err, kerr.GroupIDNotFound), d.Err == nil && d.State == "Dead":
		return d, fmt.Errorf("Consumer group '%s' does not exist.", group) //nolint:staticcheck // Kafka's message
	case d.Err != nil:
		return d, fmt.Errorf("describe group %s: %w", group, d.Err)
	}
	return d, nil
}

// announceState writes what Kafka says of a group that is not stable.
func (g *groupsTool) announceState(d kadm.DescribedGroup) {
	switch d.State {
	case "Empty":
		fmt.Fprintf(g.stderr, "\nConsumer group '%s' has no active members.\n", d.Group)
	case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		fmt.Fprintf(g.stderr, "\nWarning: Consumer group '%s' is rebalancing.\n", d.Group)
	}
}

func (g *groupsTool) describe(ctx context.Context, withState bool) error {
	groups, err := g.groupNames(ctx)
	if err != nil {
		return err
	}
	slices.Sort(groups)
	var errs []error
	for _, group := range groups {
		d, err := g.describeGroup(ctx, group)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case withState:
			g.announceState(d)
			coordinator := fmt.Sprintf("%s:%d  (%d)", d.Coordinator.Host, d.Coordinator.Port, d.Coordinator.NodeID)
			writeStateTable(g.stdout, groupState{Group: group, Coordinator: coordinator, Strategy: d.Protocol, State: d.State, Members: len(d.Members)})
		case g.o.Members:
			g.announceState(d)
			if len(d.Members) > 0 {
				writeMembersTable(g.stdout, memberRows(d), g.o.Verbose)
			}
		default:
			rows, err := g.offsetRows(ctx, d)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			g.announceState(d)
			if len(rows) > 0 {
				writeOffsetsTable(g.stdout, rows)
			}
		}
	}
	return errors.Join(errs...)
}

func memberRows(d kadm.DescribedGroup) []groupMemberRow {
	rows := make([]groupMemberRow, 0, len(d.Members))
	for _, m := range d.Members {
		r := groupMemberRow{Group: d.Group, Consumer: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID, Assignment: map[string][]int32{}}
		if m.InstanceID != nil {
			r.InstanceID = *m.InstanceID
		}
		if ca, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range ca.Topics {
				r.Assignment[t.Topic] = append(r.Assignment[t.Topic], t.Partitions...)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// offsetRows builds the describe table as Kafka does: the partitions of
// each member (members with most partitions first), then the partitions
// the group has committed offsets for and no member holds.
func (g *groupsTool) offsetRows(ctx context.Context, d kadm.DescribedGroup) ([]groupOffsetRow, error) {
	commits, err := g.adm.FetchOffsets(ctx, d.Group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", d.Group, err)
	}
	members := memberRows(d)
	sort.SliceStable(members, func(i, j int) bool { return members[i].partitions() > members[j].partitions() })

	topics := map[string]bool{}
	for _, m := range members {
		for t := range m.Assignment {
			topics[t] = true
		}
	}
	commits.Each(func(o kadm.OffsetResponse) { topics[o.Topic] = true })
	ends := kadm.ListedOffsets{}
	if len(topics) > 0 {
		names := make([]string, 0, len(topics))
		for t := range topics {
			names = append(names, t)
		}
		if ends, err = g.adm.ListEndOffsets(ctx, names...); err != nil {
			return nil, fmt.Errorf("list end offsets: %w", err)
		}
	}
	row := func(topic string, p int32, consumer, host, client string) groupOffsetRow {
		r := groupOffsetRow{Group: d.Group, Topic: topic, Partition: p, Current: -1, End: -1, Consumer: consumer, Host: host, ClientID: client}
		if c, ok := commits.Lookup(topic, p); ok && c.Err == nil {
			r.Current = c.At
		}
		if e, ok := ends.Lookup(topic, p); ok && e.Err == nil {
			r.End = e.Offset
		}
		return r
	}
	type tp struct {
		t string
		p int32
	}
	assigned := map[tp]bool{}
	var rows []groupOffsetRow
	for _, m := range members {
		if m.partitions() == 0 {
			continue
		}
		var mine []groupOffsetRow
		for t, ps := range m.Assignment {
			for _, p := range ps {
				assigned[tp{t, p}] = true
				mine = append(mine, row(t, p, m.Consumer, m.Host, m.ClientID))
			}
		}
		sortOffsetRows(mine)
		rows = append(rows, mine...)
	}
	var rest []groupOffsetRow
	commits.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && !assigned[tp{o.Topic, o.Partition}] {
			rest = append(rest, row(o.Topic, o.Partition, missing, missing, missing))
		}
	})
	sortOffsetRows(rest)
	return append(rows, rest...), nil
}

func sortOffsetRows(rows []groupOffsetRow) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Topic != rows[j].Topic {
			return rows[i].Topic < rows[j].Topic
		}
		return rows[i].Partition < rows[j].Partition
	})
}

func (g *groupsTool) deleteGroups(ctx context.Context) error {
	groups, err := g.groupNames(ctx)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		return nil
	}
	resps, err := g.adm.DeleteGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("delete groups: %w", err)
	}
	var ok, failed []string
	for _, group := range groups {
		r := resps[group]
		if r.Err == nil {
			ok = append(ok, "'"+group+"'")
			continue
		}
		failed = append(failed, fmt.Sprintf("* Group '%s' could not be deleted due to: %v", group, r.Err))
	}
	if len(failed) == 0 {
		fmt.Fprintf(g.stdout, "Deletion of requested consumer groups (%s) was successful.\n", strings.Join(ok, ", "))
		return nil
	}
	if len(ok) > 0 {
		fmt.Fprintf(g.stdout, "These consumer groups were deleted successfully: %s\n", strings.Join(ok, ", "))
	}
	return fmt.Errorf("Deletion of some consumer groups failed:\n%s", strings.Join(failed, "\n")) //nolint:staticcheck // Kafka's message
}

func (g *groupsTool) deleteOffsets(ctx context.Context) error {
	group := g.o.Groups[0]
	set := kadm.TopicsSet{}
	var whole []string
	for _, arg := range g.o.Topics {
		t, ps, _ := parseTopicPartitions(arg) // checked in Check
		if ps == nil {
			whole = append(whole, t)
			continue
		}
		set.Add(t, ps...)
	}
	if len(whole) > 0 {
		md, err := g.adm.Metadata(ctx, whole...)
		if err != nil {
			return fmt.Errorf("describe topics: %w", err)
		}
		for _, t := range whole {
			d, ok := md.Topics[t]
			if !ok || d.Err != nil {
				return fmt.Errorf("Topic '%s' does not exist as expected", t) //nolint:staticcheck // Kafka's message
			}
			set.Add(t, d.Partitions.Numbers()...)
		}
	}
	resps, err := g.adm.DeleteOffsets(ctx, group, set)
	if err != nil {
		return fmt.Errorf("delete offsets of group %s: %w", group, err)
	}
	type row struct {
		t   string
		p   int32
		err error
	}
	var rows []row
	failed := false
	for t, ps := range set {
		for p := range ps {
			err, _ := resps.Lookup(t, p)
			failed = failed || err != nil
			rows = append(rows, row{t, p, err})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].t != rows[j].t {
			return rows[i].t < rows[j].t
		}
		return rows[i].p < rows[j].p
	})
	width := 15
	for _, r := range rows {
		width = max(width, len(r.t))
	}
	var b strings.Builder
	if !failed {
		fmt.Fprintf(&b, "Request succeeded for deleting offsets from group %s.\n", group)
	}
	format := fmt.Sprintf("\n%%-%ds %%-10s %%-15s", width)
	fmt.Fprintf(&b, format, "TOPIC", "PARTITION", "STATUS")
	for _, r := range rows {
		status := "Successful"
		if r.err != nil {
			status = "Error: " + r.err.Error()
		}
		fmt.Fprintf(&b, format, r.t, strconv.Itoa(int(r.p)), status)
	}
	b.WriteString("\n")
	fmt.Fprint(g.stdout, b.String())
	if failed {
		return fmt.Errorf("some offsets of group %s were not deleted", group)
	}
	return nil
}

func (g *groupsTool) resetOffsets(ctx context.Context) error {
	groups, err := g.groupNames(ctx)
	if err != nil {
		return err
	}
	slices.Sort(groups)
	var fromFile []resetRow
	if g.o.FromFile != "" {
		text, err := os.ReadFile(g.o.FromFile)
		if err != nil {
			return fmt.Errorf("--from-file: %w", err)
		}
		single := ""
		if len(groups) == 1 {
			single = groups[0]
		}
		if fromFile, err = parseResetCSV(string(text), single); err != nil {
			return usage.Errorf("--from-file %s: %v", g.o.FromFile, err)
		}
	}
	var plan []resetRow
	var errs []error
	for _, group := range groups {
		described, err := g.adm.DescribeGroups(ctx, group)
		if err != nil {
			return fmt.Errorf("describe group %s: %w", group, err)
		}
		if d, ok := described[group]; ok && d.Err == nil && d.State != "Empty" && d.State != "Dead" {
			errs = append(errs, fmt.Errorf("Assignments can only be reset if the group '%s' is inactive, but the current state is %s.", group, d.State)) //nolint:staticcheck // Kafka's message
			continue
		}
		rows, err := g.planReset(ctx, group, fromFile)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if g.o.Execute && len(rows) > 0 {
			offsets := kadm.Offsets{}
			for _, r := range rows {
				offsets.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.Offset, LeaderEpoch: -1})
			}
			if err := g.adm.CommitAllOffsets(ctx, group, offsets); err != nil {
				errs = append(errs, fmt.Errorf("commit offsets of group %s: %w", group, err))
				continue
			}
		}
		plan = append(plan, rows...)
	}
	if g.o.Export {
		writeResetCSV(g.stdout, plan, len(groups) > 1)
	} else {
		writeResetTable(g.stdout, plan)
	}
	return errors.Join(errs...)
}

// planReset computes the new offsets of one group.
func (g *groupsTool) planReset(ctx context.Context, group string, fromFile []resetRow) ([]resetRow, error) {
	commits, err := g.adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	// The partitions to reset.
	set := kadm.TopicsSet{}
	wanted := map[string]map[int32]int64{} // --from-file offsets
	switch {
	case g.o.FromFile != "":
		for _, r := range fromFile {
			if r.Group == group {
				set.Add(r.Topic, r.Partition)
				if wanted[r.Topic] == nil {
					wanted[r.Topic] = map[int32]int64{}
				}
				wanted[r.Topic][r.Partition] = r.Offset
			}
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("No reset plan for group %s found.", group) //nolint:staticcheck // Kafka's message
		}
	case g.o.AllTopics:
		commits.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				set.Add(o.Topic, o.Partition)
			}
		})
	default:
		for _, arg := range g.o.Topics {
			t, ps, _ := parseTopicPartitions(arg) // checked in Check
			set.Add(t, ps...)
			if ps == nil {
				set[t] = map[int32]struct{}{} // all partitions, filled in below
			}
		}
	}
	topics := set.Topics()
	if len(topics) == 0 {
		return nil, nil
	}
	md, err := g.adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("describe topics: %w", err)
	}
	var absent []string
	for _, t := range topics {
		d, ok := md.Topics[t]
		if !ok || d.Err != nil {
			for p := range set[t] {
				absent = append(absent, fmt.Sprintf("%s-%d", t, p))
			}
			if len(set[t]) == 0 {
				absent = append(absent, t)
			}
			continue
		}
		if len(set[t]) == 0 {
			set.Add(t, d.Partitions.Numbers()...)
		}
		for p := range set[t] {
			if _, ok := d.Partitions[p]; !ok {
				absent = append(absent, fmt.Sprintf("%s-%d", t, p))
			}
		}
	}
	if len(absent) > 0 {
		slices.Sort(absent)
		return nil, fmt.Errorf("The partitions \"%s\" do not exist", strings.Join(absent, ",")) //nolint:staticcheck // Kafka's message
	}

	starts, err := g.adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := g.adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	var after kadm.ListedOffsets
	if g.o.ToDatetime != "" || g.o.ByDuration != "" {
		var at time.Time
		if g.o.ToDatetime != "" {
			at, _ = parseKafkaDateTime(g.o.ToDatetime) // checked in Check
		} else {
			d, _ := parseISODuration(g.o.ByDuration)
			at = time.Now().Add(-d)
		}
		if after, err = g.adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...); err != nil {
			return nil, fmt.Errorf("list offsets by time: %w", err)
		}
	}
	offsetOf := func(os kadm.ListedOffsets, t string, p int32) int64 {
		if o, ok := os.Lookup(t, p); ok && o.Err == nil {
			return o.Offset
		}
		return -1
	}

	var rows []resetRow
	for _, tps := range set.Sorted() {
		t := tps.Topic
		for _, p := range tps.Partitions {
			start, end := offsetOf(starts, t, p), offsetOf(ends, t, p)
			tpName := fmt.Sprintf("%s-%d", t, p)
			current := int64(-1)
			if c, ok := commits.Lookup(t, p); ok && c.Err == nil {
				current = c.At
			}
			var want int64
			clamp := true
			switch {
			case g.o.ToEarliest:
				want, clamp = start, false
			case g.o.ToLatest:
				want, clamp = end, false
			case g.o.ToCurrent:
				want, clamp = current, false
				if current < 0 {
					want = end
				}
			case g.o.changed("to-offset"):
				want = g.o.ToOffset
			case g.o.changed("shift-by"):
				if current < 0 {
					return nil, fmt.Errorf("cannot shift offset for partition %s since there is %w", tpName, errNoCommit)
				}
				want = current + g.o.ShiftBy
			case after != nil:
				o, ok := after.Lookup(t, p)
				clamp = false
				if !ok || o.Err != nil || o.Timestamp < 0 || o.Offset < 0 {
					fmt.Fprintf(g.stdout, "\nWarn: Partition %d from topic %s is empty. Falling back to latest known offset.\n", p, t)
					want = end
				} else {
					want = o.Offset
				}
			default: // --from-file
				want = wanted[t][p]
			}
			if want < 0 {
				return nil, fmt.Errorf("no offset for topic partition %s", tpName)
			}
			if clamp {
				var warning string
				if want, warning = clampOffset(want, start, end, tpName); warning != "" {
					g.log.Warn(warning)
				}
			}
			rows = append(rows, resetRow{Group: group, Topic: t, Partition: p, Offset: want})
		}
	}
	return rows, nil
}
